//! Substitutions of the enrolled person (DEF-3, seed 000 §6(3)3(1): 变更参培人员).
//!
//! The organisation files, no later than the day before the class starts in
//! the association's time zone, to put another person of its own on an
//! enrolment; training staff approve or reject. On approval the enrolment's
//! person changes and the substitution keeps the old person, the new person,
//! who filed, who decided and when; the change of the enrolment is emitted
//! with before and after. The payment stays with the enrolment (ENR-3).
//!
//! Decisions where the SPEC is silent: only the organisation files (not an
//! individual, not staff on its behalf), and the filer may be its filler or its
//! reviewer without a reviewer step (the reviewer's ENR-2 attestation on the
//! enrolment is kept as given); the new person is checked again on approval
//! (ENR-4, ENR-5), which may come after the class started (the filing time is
//! what counts); one pending substitution per enrolment, and none while a
//! deferral of it is open; a `notified` enrolment's class notice is sent
//! again so the new person gets the time and place.

mod records;

pub use records::{CreateSubstitution, ListSubstitutions, SubstitutionView};

use guild_domain::access::Owner;
use guild_domain::class::ClassStatus;
use guild_domain::deferral::{
    DeferralStatus, SubstitutionAction, SubstitutionStatus, check_class_not_closed,
    check_new_person, check_substitutable, check_substitution_in_time, other_request_pending,
    substitution_decision_notice, substitution_exists, substitution_transition,
};
use guild_domain::enrolment::{EnrolmentStatus, already_enrolled};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use guild_store::people::PersonRow;
use guild_store::substitutions::{SubstitutionFilter, SubstitutionRow};
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::enrolments;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, Notice, Recipients, kinds as ev};
use crate::ids::fact;
use crate::{Page, PageRequest};

/// Notification kinds written by substitutions.
pub mod kinds {
    /// The association approved a substitution (DEF-3).
    pub const SUBSTITUTION_APPROVED: &str = "substitution_approved";
    /// The association rejected a substitution (DEF-3).
    pub const SUBSTITUTION_REJECTED: &str = "substitution_rejected";
}

/// Whether `caller` may see a substitution (ACC-2): it is data about both
/// people, entered for the organisation.
fn can_see(caller: &Caller, row: &SubstitutionRow) -> bool {
    let owner = Owner::of_person(
        fact(Some(&row.old_person_id)),
        fact(row.organisation_id.as_deref()),
    )
    .with_person(fact(Some(&row.new_person_id)));
    guild_domain::access::can_see(&caller.policy(), &owner)
}

/// Loads a substitution the caller may see, with its enrolment, or 404 like an unknown id.
fn visible(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
) -> AppResult<(SubstitutionRow, EnrolmentRow)> {
    let row = guild_store::substitutions::find(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or(AppError::NotFound("substitution"))?;
    let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
        .ok_or(AppError::NotFound("substitution"))?;
    Ok((row, enrolment))
}

fn view_of(conn: &mut DbConn, row: SubstitutionRow, class_id: &str) -> AppResult<SubstitutionView> {
    let names = guild_store::enrolments::person_names(
        conn,
        &[row.old_person_id.clone(), row.new_person_id.clone()],
    )?;
    SubstitutionView::from_parts(row, class_id, &names)
}

impl crate::events::Record for SubstitutionView {
    const ENTITY: &'static str = "substitution";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        self.organisation_id
    }
}

fn class_status(class: &ClassRow) -> AppResult<ClassStatus> {
    stored("classes", &class.status)
}

/// Lists substitutions, oldest first, within the caller's scope (ACC-2):
/// organisations their own, trainees those naming them, association staff
/// and the authority all.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListSubstitutions,
    page: PageRequest,
) -> AppResult<Page<SubstitutionView>> {
    let Some(scope) = crate::scope::person_data(ctx.caller()?) else {
        return Ok(Page::empty());
    };
    let filter = SubstitutionFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        only_organisation: scope.only_organisation,
        only_person: scope.only_person,
    };
    let rows = guild_store::substitutions::list(conn, &filter, page.after.as_deref(), page.limit)?;
    let people: Vec<String> = rows
        .items
        .iter()
        .flat_map(|(r, _)| [r.old_person_id.clone(), r.new_person_id.clone()])
        .collect();
    let names = guild_store::enrolments::person_names(conn, &people)?;
    rows.try_map(|(r, class_id)| SubstitutionView::from_parts(r, &class_id, &names))
}

/// One substitution the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<SubstitutionView> {
    let (row, enrolment) = visible(conn, ctx.caller()?, &id.to_string())?;
    view_of(conn, row, &enrolment.class_id)
}

/// The new person, who must belong to the enrolment's organisation (404
/// otherwise, like an unknown id: ACC-2).
fn new_person(
    conn: &mut DbConn,
    enrolment: &EnrolmentRow,
    person_id: &str,
) -> AppResult<PersonRow> {
    guild_store::people::find(conn, person_id)?
        .filter(|p| {
            enrolment.organisation_id.is_some() && p.organisation_id == enrolment.organisation_id
        })
        .ok_or(AppError::NotFound("person"))
}

/// ENR-4 and ENR-5 for the person taking the place: not banned from the
/// program, not already holding a live enrolment in the class.
fn check_new_person_may_join(
    ctx: &Ctx,
    conn: &mut DbConn,
    class: &ClassRow,
    person_id: &str,
) -> AppResult<()> {
    enrolments::check_not_banned_now(conn, person_id, &class.program_id, ctx.today())?;
    if let Some(existing) = guild_store::enrolments::find_live(conn, &class.id, person_id)? {
        return Err(already_enrolled(&existing.id).into());
    }
    Ok(())
}

/// Files a substitution (DEF-3). Checks, in order: the enrolment is the
/// organisation's own (404) and the new person too (404); the new person
/// differs (422 `same_person`); the class is not over or cancelled; the
/// enrolment is live and not deferred or `no_show`; the association's local
/// date is before the class start (`substitution_too_late`); the new person is
/// not banned (ENR-4) nor enrolled in the class (409 ENR-5); no substitution
/// is pending (409 `substitution_exists`, also a partial unique index) and no
/// deferral is open (409 `request_pending`).
pub fn file(ctx: &Ctx, conn: &mut DbConn, body: CreateSubstitution) -> AppResult<SubstitutionView> {
    let caller = ctx.caller()?;
    let enrolment = enrolments::visible(conn, caller, &body.enrolment_id.to_string())?;
    let person = new_person(conn, &enrolment, &body.new_person_id.to_string())?;
    check_new_person(&enrolment.person_id, &person.id)?;
    let (status, _) = enrolments::status_of(&enrolment)?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    check_class_not_closed(class_status(&class)?, "DEF-3")?;
    check_substitutable(status)?;
    check_substitution_in_time(ctx.today(), class.start_date)?;
    check_new_person_may_join(ctx, conn, &class, &person.id)?;
    if let Some(pending) = guild_store::substitutions::for_enrolment_with_status(
        conn,
        &enrolment.id,
        SubstitutionStatus::Submitted.as_str(),
    )? {
        return Err(substitution_exists(&pending.id).into());
    }
    if let Some(open) =
        guild_store::deferrals::for_enrolment_in(conn, &enrolment.id, &DeferralStatus::open())?
    {
        return Err(other_request_pending("DEF-3", "deferral", &open.id).into());
    }
    let now = ctx.now.naive_utc();
    let row = SubstitutionRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        old_person_id: enrolment.person_id.clone(),
        new_person_id: person.id,
        reason: body.reason.trim().to_owned(),
        status: SubstitutionStatus::Submitted.as_str().to_owned(),
        filed_by: caller.id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::substitutions::insert(conn, &row)
        .or_taken(|| AppError::from(substitution_exists("filed concurrently")))?;
    let view = view_of(conn, row, &enrolment.class_id)?;
    ctx.emit(conn, Event::change(ev::SUBSTITUTION_FILED, None, &view)?)?;
    Ok(view)
}

/// Moves the enrolment to the new person (DEF-3), emitted as
/// `enrolment.substituted` with before and after. The partial unique index of
/// ENR-5 is the last line of defence against the new person being enrolled
/// in the class concurrently: answered as 409 `already_enrolled`.
fn move_enrolment(
    ctx: &Ctx,
    conn: &mut DbConn,
    mut enrolment: EnrolmentRow,
    new_person_id: &str,
) -> AppResult<EnrolmentRow> {
    let before = enrolments::view_of(conn, enrolment.clone(), false)?;
    enrolment.person_id = new_person_id.to_owned();
    guild_store::enrolments::update(conn, &mut enrolment, ctx.now.naive_utc())
        .or_taken(|| AppError::from(already_enrolled("entered concurrently")))?;
    let after = enrolments::view_of(conn, enrolment.clone(), true)?;
    ctx.emit(
        conn,
        Event::change(ev::ENROLMENT_SUBSTITUTED, Some(&before), &after)?,
    )?;
    Ok(enrolment)
}

/// Approves or rejects a substitution (DEF-3); `reason` is a rejection's.
/// Approval checks again that the class is not over or cancelled, the
/// enrolment is still substitutable and the new person may join (ENR-4,
/// ENR-5), then moves the enrolment to the new person; a `notified`
/// enrolment's class notice is sent again (to the organisation and the new
/// person). The organisation and both people are notified of the decision.
pub fn decide(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: SubstitutionAction,
    reason: Option<String>,
) -> AppResult<SubstitutionView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    guild_store::locks::lock_row(conn, Locked::Substitutions, &id)?;
    let (mut row, enrolment) = visible(conn, caller, &id)?;
    let before = view_of(conn, row.clone(), &enrolment.class_id)?;
    let next = substitution_transition(before.status, action)?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    let approved = action == SubstitutionAction::Approve;
    if approved {
        check_class_not_closed(class_status(&class)?, "DEF-3")?;
        let (status, _) = enrolments::status_of(&enrolment)?;
        check_substitutable(status)?;
        check_new_person_may_join(ctx, conn, &class, &row.new_person_id)?;
        let moved = move_enrolment(ctx, conn, enrolment.clone(), &row.new_person_id)?;
        if status == EnrolmentStatus::Notified {
            let notice = enrolments::seats::send_class_notice(conn, &moved, &class)?;
            ctx.deliver(conn, "enrolment", &moved.id, &notice)?;
        }
    }
    row.status = next.as_str().to_owned();
    row.decided_by = Some(caller.id.clone());
    row.decided_at = Some(ctx.now.naive_utc());
    row.decision_reason = reason.clone();
    guild_store::substitutions::update(conn, &mut row, ctx.now.naive_utc())?;
    let text = substitution_decision_notice(
        &class.title,
        &before.old_person_name,
        &before.new_person_name,
        approved,
        reason.as_deref(),
    );
    let notice = if approved {
        kinds::SUBSTITUTION_APPROVED
    } else {
        kinds::SUBSTITUTION_REJECTED
    };
    notify_decision(ctx, conn, &row, &enrolment.id, notice, text)?;
    let after = view_of(conn, row, &enrolment.class_id)?;
    let kind = if approved {
        ev::SUBSTITUTION_APPROVED
    } else {
        ev::SUBSTITUTION_REJECTED
    };
    ctx.emit(conn, Event::change(kind, Some(&before), &after)?)?;
    Ok(after)
}

/// Tells the organisation and both people's accounts of the decision (the
/// notification names the enrolment).
fn notify_decision(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &SubstitutionRow,
    enrolment_id: &str,
    kind: &'static str,
    text: (String, String),
) -> AppResult<()> {
    let mut to = Vec::new();
    for person in [&row.old_person_id, &row.new_person_id] {
        to.extend(guild_store::notifications::enrolment_recipients(
            conn,
            row.organisation_id.as_deref(),
            person,
        )?);
    }
    to.sort();
    to.dedup();
    ctx.deliver(
        conn,
        "enrolment",
        enrolment_id,
        &Notice::new(Recipients::Users(to), kind, text),
    )
}
