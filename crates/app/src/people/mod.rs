//! People (PPL-1 to PPL-3): validated ID numbers, one record per ID, masked in
//! responses and in the audit log.

mod records;

pub use records::{CreatePerson, PersonView, UpdatePerson};

use guild_domain::access::{self, Owner, Scope};
use guild_domain::person::{normalize_id_number, validate_person_name, validate_phone};
pub use guild_domain::roles::PEOPLE_WRITERS;
use guild_domain::{FieldError, IdType, Refusal, TraineeCategory};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::people::{PersonFilter, PersonRow};
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::fact;
use crate::inputs::{check_version, field};
use crate::{Page, PageRequest};

/// The filters of the people list, parsed by the caller (an `id_number` is
/// already normalised for its `id_type`).
#[derive(Debug, Clone, Default)]
pub struct ListPeople {
    /// Only people of this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only this category.
    pub category: Option<TraineeCategory>,
    /// Exact ID number, normalised.
    pub id_number: Option<String>,
    /// The document type `id_number` refers to (`resident_id` when only a
    /// number is given).
    pub id_type: Option<IdType>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// ACC-2: the person's owner facts for [`guild_domain::access`].
fn owner(row: &PersonRow) -> Owner {
    Owner::of_person(
        fact(Some(&row.id)).unwrap_or_default(),
        fact(row.organisation_id.as_deref()),
    )
}

/// Whether the caller may see person `row` (ACC-2).
fn can_see(caller: &Caller, row: &PersonRow) -> bool {
    access::can_see(&caller.policy(), &owner(row))
}

/// Loads a person the caller may see, or 404 (ACC-2): organisation users see
/// their own organisation's people, trainees themselves.
fn visible(conn: &mut DbConn, caller: &Caller, id: Uuid) -> AppResult<PersonRow> {
    guild_store::people::find(conn, &id.to_string())?
        .filter(|row| can_see(caller, row))
        .ok_or(AppError::NotFound("person"))
}

/// The event of a change to a person; snapshots are masked (PPL-3) because
/// organisations read them.
pub fn event(kind: EventKind, before: Option<&PersonRow>, after: &PersonRow) -> AppResult<Event> {
    let before = before
        .map(|b| PersonView::for_caller(b.clone(), None))
        .transpose()?;
    let view = PersonView::for_caller(after.clone(), None)?;
    Ok(
        Event::new(kind, "person", &after.id, before.as_ref(), Some(&view))?
            .in_organisation(after.organisation_id.as_deref()),
    )
}

/// Lists the people the caller may see (ACC-2): organisation users their own
/// organisation's, trainees themselves, everyone else nobody.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListPeople,
    page: PageRequest,
) -> AppResult<Page<PersonView>> {
    let caller = ctx.caller()?;
    let mut filter = PersonFilter {
        organisation_id: q.organisation_id.map(|o| o.to_string()),
        category: q.category.map(|c| c.as_str().to_owned()),
        id_type: q.id_type.map(|t| t.as_str().to_owned()),
        id_number: q.id_number,
        name_contains: q.name,
    };
    let rows = match access::scope(&caller.policy()) {
        Scope::All => guild_store::people::list(conn, &filter, page.after.as_deref(), page.limit)?,
        Scope::Organisation(own) => {
            let own = own.to_string();
            if filter.organisation_id.as_ref().is_some_and(|o| *o != own) {
                return Ok(Page::empty());
            }
            filter.organisation_id = Some(own);
            guild_store::people::list(conn, &filter, page.after.as_deref(), page.limit)?
        }
        Scope::Person(p) => Page {
            items: guild_store::people::find(conn, &p.to_string())?
                .into_iter()
                .filter(|r| page.after.as_deref().is_none_or(|a| r.id.as_str() > a))
                .collect(),
            next_after: None,
        },
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => return Ok(Page::empty()),
    };
    rows.try_map(|r| PersonView::for_caller(r, Some(caller)))
}

/// Reads one person the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<PersonView> {
    let caller = ctx.caller()?;
    PersonView::for_caller(visible(conn, caller, id)?, Some(caller))
}

/// What a new person's fields check out as, or every problem at once.
struct CheckedPerson {
    name: String,
    id_number: String,
    phone: Option<String>,
    organisation_id: Option<String>,
}

/// Checks a new person's fields and the organisation the caller may enter
/// them for (ACC-2: an organisation account enters people of its own
/// organisation only; association staff, who see all, of any or none).
fn check_new(caller: &Caller, input: &CreatePerson) -> AppResult<CheckedPerson> {
    let mut problems: Vec<FieldError> = Vec::new();
    let name = validate_person_name(&input.name)
        .map_err(|e| problems.push(e))
        .ok();
    let id_number = normalize_id_number(input.id_type, &input.id_number)
        .map_err(|e| problems.push(e))
        .ok();
    let phone = match input.phone.as_deref().map(validate_phone).transpose() {
        Ok(p) => p,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let organisation_id = match (access::scope(&caller.policy()), input.organisation_id) {
        (Scope::All, o) => o.map(|o| o.to_string()),
        (Scope::Organisation(own), Some(o)) if o != own => {
            problems.push(FieldError::new(
                "organisation_id",
                "not_own_organisation",
                "organisation users can only enter people of their own organisation",
            ));
            None
        }
        (Scope::Organisation(own), _) => Some(own.to_string()),
        _ => return Err(AppError::Forbidden),
    };
    match (name, id_number, problems.is_empty()) {
        (Some(name), Some(id_number), true) => Ok(CheckedPerson {
            name,
            id_number,
            phone,
            organisation_id,
        }),
        _ => Err(AppError::Invalid(problems)),
    }
}

/// 422 unless the organisation exists.
fn known_organisation(conn: &mut DbConn, id: &str) -> AppResult<String> {
    guild_store::organisations::find(conn, id)?
        .map(|o| o.id)
        .ok_or_else(|| AppError::field("organisation_id", "unknown", "no such organisation"))
}

/// Enters a person (PPL-1). An ID number that is already registered links to
/// the existing record instead of creating a duplicate (PPL-3): the answer is
/// that record (and `false`) when the caller may see it. When it belongs to
/// another organisation the answer is `person_exists_elsewhere` and reveals
/// nothing of the record: protecting the person's data takes precedence.
pub fn create(ctx: &Ctx, conn: &mut DbConn, input: CreatePerson) -> AppResult<(PersonView, bool)> {
    let caller = ctx.caller()?;
    let checked = check_new(caller, &input)?;
    if let Some(existing) =
        guild_store::people::find_by_id_number(conn, input.id_type.as_str(), &checked.id_number)?
    {
        if !can_see(caller, &existing) {
            return Err(AppError::Refused(Refusal::rule(
                "PPL-3",
                "person_exists_elsewhere",
                "a person with this ID number is registered with another organisation; \
                 ask the association to move them to yours",
            )));
        }
        return Ok((PersonView::for_caller(existing, Some(caller))?, false));
    }
    if let Some(org) = &checked.organisation_id {
        known_organisation(conn, org)?;
    }
    let now = ctx.now.naive_utc();
    let row = PersonRow {
        id: Uuid::now_v7().to_string(),
        name: checked.name,
        gender: input.gender.as_str().to_owned(),
        id_type: input.id_type.as_str().to_owned(),
        id_number: checked.id_number,
        phone: checked.phone,
        organisation_id: checked.organisation_id,
        category: input.category.map(|v| v.as_str().to_owned()),
        occupation: input.occupation.map(|v| v.trim().to_owned()),
        skill_level: input.skill_level.map(|v| v.as_str().to_owned()),
        skill_certificate_number: input.skill_certificate_number.map(|v| v.trim().to_owned()),
        skill_certificate_issued_on: input.skill_certificate_issued_on,
        version: 1,
        created_by: Some(caller.id.clone()),
        created_at: now,
        updated_at: now,
    };
    insert(
        conn,
        std::slice::from_ref(&row),
        "a person with this ID number already exists",
    )?;
    ctx.emit(conn, event(ev::PERSON_CREATED, None, &row)?)?;
    Ok((PersonView::for_caller(row, Some(caller))?, true))
}

/// Inserts new people in one multi-row statement. A unique violation means an
/// ID number was entered meanwhile: 409 `already_exists` saying `taken`.
pub fn insert(conn: &mut DbConn, rows: &[PersonRow], taken: &str) -> AppResult<()> {
    guild_store::enrolments::insert_people(conn, rows)
        .or_taken(|| AppError::Exists(taken.to_owned()))
}

/// The staff-only parts of a change: moving a person to another organisation
/// and correcting the ID document (422 `not_allowed` for anyone else).
fn check_update_rights(caller: &Caller, input: &UpdatePerson) -> AppResult<()> {
    if input.organisation_id.is_some() && !caller.role.is_training_staff() {
        return Err(AppError::field(
            "organisation_id",
            "not_allowed",
            "only association staff can move a person to another organisation",
        ));
    }
    if (input.id_type.is_some() || input.id_number.is_some()) && !caller.role.is_training_staff() {
        return Err(AppError::field(
            "id_number",
            "not_allowed",
            "only association staff can correct an ID document",
        ));
    }
    Ok(())
}

/// Changes a person's data (API-5: `expected` is the `If-Match` version).
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected: Option<i32>,
    input: UpdatePerson,
) -> AppResult<PersonView> {
    let caller = ctx.caller()?;
    check_update_rights(caller, &input)?;
    let name = input
        .name
        .as_deref()
        .map(|n| field("name", validate_person_name(n)))
        .transpose()?;
    let phone = input
        .phone
        .as_deref()
        .map(|p| field("phone", validate_phone(p)))
        .transpose()?;
    guild_store::locks::lock_row(conn, Locked::People, &id.to_string())?;
    let mut row = visible(conn, caller, id)?;
    check_version(expected, row.version)?;
    let before = row.clone();
    if input.id_type.is_some() || input.id_number.is_some() {
        correct_id_document(conn, &mut row, &input)?;
    }
    let move_to = input.organisation_id;
    apply(&mut row, name, phone, input);
    if let Some(org) = move_to {
        row.organisation_id = Some(known_organisation(conn, &org.to_string())?);
    }
    guild_store::people::update(conn, &mut row, ctx.now.naive_utc())?;
    ctx.emit(conn, event(ev::PERSON_UPDATED, Some(&before), &row)?)?;
    PersonView::for_caller(row, Some(caller))
}

/// Corrects the ID document (association staff): the number is checked for
/// its type, and a number another person holds is 409 `already_exists`.
fn correct_id_document(
    conn: &mut DbConn,
    row: &mut PersonRow,
    input: &UpdatePerson,
) -> AppResult<()> {
    let id_type = match input.id_type {
        Some(t) => t,
        None => stored("people", &row.id_type)?,
    };
    let raw = input
        .id_number
        .clone()
        .unwrap_or_else(|| row.id_number.clone());
    let number = field("id_number", normalize_id_number(id_type, &raw))?;
    if let Some(other) = guild_store::people::find_by_id_number(conn, id_type.as_str(), &number)?
        && other.id != row.id
    {
        return Err(AppError::Exists(
            "another person holds this ID number".to_owned(),
        ));
    }
    row.id_type = id_type.as_str().to_owned();
    row.id_number = number;
    Ok(())
}

/// Applies the plain fields of a change (omitted fields stay as they are).
fn apply(row: &mut PersonRow, name: Option<String>, phone: Option<String>, input: UpdatePerson) {
    if let Some(v) = name {
        row.name = v;
    }
    if let Some(v) = input.gender {
        row.gender = v.as_str().to_owned();
    }
    if let Some(v) = phone {
        row.phone = Some(v);
    }
    if let Some(v) = input.category {
        row.category = Some(v.as_str().to_owned());
    }
    if let Some(v) = input.occupation {
        row.occupation = Some(v.trim().to_owned());
    }
    if let Some(v) = input.skill_level {
        row.skill_level = Some(v.as_str().to_owned());
    }
    if let Some(v) = input.skill_certificate_number {
        row.skill_certificate_number = Some(v.trim().to_owned());
    }
    if let Some(v) = input.skill_certificate_issued_on {
        row.skill_certificate_issued_on = Some(v);
    }
}
