//! People (PPL-1 to PPL-3): validated ID numbers, one record per ID, masked in responses.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::person::{
    mask_id_number, normalize_id_number, validate_person_name, validate_phone,
};
use guild_domain::{Gender, IdType, Role, SkillLevel, TraineeCategory};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::people::{PersonFilter, PersonRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Owner, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Roles that enter and edit people.
const PEOPLE_WRITERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::OrgFiller,
    Role::OrgReviewer,
];

/// A person. `id_number` is masked (`440301********1234`) except for association
/// staff, the authority and the person themself (PPL-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    /// The person id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Kind of ID document.
    pub id_type: IdType,
    /// The ID number, masked unless the caller may see it in full.
    #[schema(example = "440301********1234")]
    pub id_number: String,
    /// Whether `id_number` is masked in this response.
    pub id_number_masked: bool,
    /// Phone number.
    pub phone: Option<String>,
    /// The employer, if any.
    pub organisation_id: Option<Uuid>,
    /// Trainee category (PPL-2).
    pub category: Option<TraineeCategory>,
    /// Occupation (工种), for skilled talent.
    pub occupation: Option<String>,
    /// Skill level, for skilled talent.
    pub skill_level: Option<SkillLevel>,
    /// Vocational certificate number.
    pub skill_certificate_number: Option<String>,
    /// Vocational certificate issue date (CE obligations start here, CED-1).
    pub skill_certificate_issued_on: Option<NaiveDate>,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl PersonView {
    /// The view of `row` for `caller`, masking the ID number unless allowed (PPL-3).
    pub fn for_caller(row: PersonRow, caller: Option<&AuthUser>) -> ApiResult<Self> {
        let full = caller.is_some_and(|c| {
            c.role.sees_full_id_numbers() || c.person_id.as_deref() == Some(&row.id)
        });
        Ok(PersonView {
            id: stored_uuid("people", &row.id)?,
            name: row.name,
            gender: parse_stored("people", &row.gender)?,
            id_type: parse_stored("people", &row.id_type)?,
            id_number: if full {
                row.id_number
            } else {
                mask_id_number(&row.id_number)
            },
            id_number_masked: !full,
            phone: row.phone,
            organisation_id: row
                .organisation_id
                .as_deref()
                .map(|o| stored_uuid("people", o))
                .transpose()?,
            category: row
                .category
                .as_deref()
                .map(|v| parse_stored("people", v))
                .transpose()?,
            occupation: row.occupation,
            skill_level: row
                .skill_level
                .as_deref()
                .map(|v| parse_stored("people", v))
                .transpose()?,
            skill_certificate_number: row.skill_certificate_number,
            skill_certificate_issued_on: row.skill_certificate_issued_on,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new person.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "张三", "gender": "male", "id_type": "resident_id", "id_number": "440308199901101512", "phone": "13800138000", "category": "operations_staff"}))]
pub struct CreatePerson {
    /// Full name, 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Kind of ID document.
    pub id_type: IdType,
    /// The ID number; a resident ID is checked against GB 11643 (check digit, birth date).
    #[schema(min_length = 5, max_length = 32)]
    pub id_number: String,
    /// Phone number.
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    /// The employer. Organisation users may only give their own (it is the default for them).
    pub organisation_id: Option<Uuid>,
    /// Trainee category (PPL-2).
    pub category: Option<TraineeCategory>,
    /// Occupation (工种).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub occupation: Option<String>,
    /// Skill level.
    pub skill_level: Option<SkillLevel>,
    /// Vocational certificate number.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub skill_certificate_number: Option<String>,
    /// Vocational certificate issue date.
    pub skill_certificate_issued_on: Option<NaiveDate>,
}

/// Changes to a person; omitted fields stay as they are. The ID document can
/// only be corrected by association staff.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePerson {
    /// Full name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Move the person to this organisation, e.g. after a change of employer
    /// (association staff only). This is how a person registered with one
    /// organisation becomes visible to another (PPL-3, ACC-2).
    pub organisation_id: Option<Uuid>,
    /// Kind of ID document (association staff only).
    pub id_type: Option<IdType>,
    /// ID number (association staff only).
    #[schema(min_length = 5, max_length = 32)]
    pub id_number: Option<String>,
    /// Phone number.
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    /// Trainee category.
    pub category: Option<TraineeCategory>,
    /// Occupation.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub occupation: Option<String>,
    /// Skill level.
    pub skill_level: Option<SkillLevel>,
    /// Vocational certificate number.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub skill_certificate_number: Option<String>,
    /// Vocational certificate issue date.
    pub skill_certificate_issued_on: Option<NaiveDate>,
}

/// Filters for the people list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PersonQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only people of this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only this category.
    pub category: Option<TraineeCategory>,
    /// Exact ID number (with `id_type`, default `resident_id`).
    pub id_number: Option<String>,
    /// The document type `id_number` refers to.
    pub id_type: Option<IdType>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Loads a person the caller may see, or 404 (ACC-2): organisation users see
/// their own organisation's people, trainees themselves.
fn visible_person(conn: &mut DbConn, caller: &AuthUser, id: &Uuid) -> ApiResult<PersonRow> {
    let row = guild_store::people::find(conn, &id.to_string())?
        .ok_or_else(|| ApiError::not_found("person"))?;
    if can_see(caller, &row) {
        Ok(row)
    } else {
        Err(ApiError::not_found("person"))
    }
}

/// ACC-2: whether `caller` may see person `row` ([`guild_domain::access`]).
fn can_see(caller: &AuthUser, row: &PersonRow) -> bool {
    caller.sees(&Owner::of_person(
        access::id(&row.id),
        access::opt_id(row.organisation_id.as_deref()),
    ))
}

fn field<T>(name: &str, r: Result<T, guild_domain::FieldError>) -> ApiResult<T> {
    r.map_err(|mut e| {
        e.field = name.to_owned();
        ApiError::from(e)
    })
}

/// List people. Organisation users see their own organisation's (ACC-2); trainees themselves.
#[utoipa::path(
    operation_id = "list_people",
    tag = "people", params(PersonQuery), responses((status = 200,
            description = "OK", body = Paged<PersonView>), ListErrors))]
#[get("/people")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<PersonQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let id_type = q.id_type.unwrap_or(IdType::ResidentId);
    let id_number = q
        .id_number
        .as_deref()
        .map(|n| {
            normalize_id_number(id_type, n).map_err(|e| {
                ApiError::http(ErrorCode::InvalidQuery, format!("id_number: {}", e.message))
            })
        })
        .transpose()?;
    let mut filter = PersonFilter {
        organisation_id: q.organisation_id.map(|o| o.to_string()),
        category: q.category.map(|c| c.as_str().to_owned()),
        id_type: q
            .id_type
            .map(|t| t.as_str().to_owned())
            .or(id_number.as_ref().map(|_| id_type.as_str().to_owned())),
        id_number,
        name_contains: q.name,
    };
    let empty = || {
        Ok(HttpResponse::Ok().json(Paged::<PersonView> {
            items: vec![],
            next_cursor: None,
        }))
    };
    let only_person = match user.scope() {
        Scope::All => None,
        Scope::Organisation(own) => {
            let own = own.to_string();
            if filter.organisation_id.as_ref().is_some_and(|o| *o != own) {
                return empty();
            }
            filter.organisation_id = Some(own);
            None
        }
        Scope::Person(p) => Some(p.to_string()),
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => return empty(),
    };
    let caller = user.clone();
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                if let Some(person) = only_person {
                    let rows: Vec<PersonRow> = guild_store::people::find(c, &person)?
                        .into_iter()
                        .filter(|r| page.after.as_deref().is_none_or(|a| r.id.as_str() > a))
                        .collect();
                    return Ok(guild_store::Page {
                        items: rows,
                        next_after: None,
                    });
                }
                Ok(guild_store::people::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        PersonView::for_caller(r, Some(&caller))
    })?))
}

/// Enter a person (PPL-1). An ID number that is already registered links to the
/// existing record instead of creating a duplicate (PPL-3): the answer is `200`
/// with that record when the caller may see it. When it belongs to another
/// organisation the answer is `409 person_exists_elsewhere` and reveals nothing
/// of the record — protecting the person's data takes precedence; association
/// staff can move the person.
#[utoipa::path(
    operation_id = "create_person",
    tag = "people",
    request_body = CreatePerson,
    responses(
        (status = 201, description = "Created", body = PersonView),
        (status = 200, description = "The ID number was already registered: the existing person", body = PersonView),
        CreateErrors
    )
)]
#[post("/people")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreatePerson>,
) -> ApiResult<HttpResponse> {
    user.require(PEOPLE_WRITERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let mut problems = Vec::new();
    let name = validate_person_name(&body.name)
        .map_err(|e| problems.push(e.into()))
        .ok();
    let id_number = normalize_id_number(body.id_type, &body.id_number)
        .map_err(|e| problems.push(e.into()))
        .ok();
    let phone = match body.phone.as_deref().map(validate_phone).transpose() {
        Ok(p) => p,
        Err(e) => {
            problems.push(e.into());
            None
        }
    };
    // ACC-2: an organisation account enters people of its own organisation
    // only; association staff (who see all) of any or none.
    let organisation_id = match (user.scope(), body.organisation_id) {
        (Scope::All, o) => o.map(|o| o.to_string()),
        (Scope::Organisation(own), Some(o)) if o != own => {
            problems.push(crate::error::FieldProblem {
                field: "organisation_id".to_owned(),
                code: "not_own_organisation".to_owned(),
                message: "organisation users can only enter people of their own organisation"
                    .to_owned(),
            });
            None
        }
        (Scope::Organisation(own), _) => Some(own.to_string()),
        _ => return Err(ApiError::forbidden()),
    };
    let (Some(name), Some(id_number), true) = (name, id_number, problems.is_empty()) else {
        return Err(ApiError::Validation(problems));
    };
    let (view, created) = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                if let Some(existing) =
                    guild_store::people::find_by_id_number(c, body.id_type.as_str(), &id_number)?
                {
                    if !can_see(&user, &existing) {
                        return Err(ApiError::Refused(guild_domain::Refusal::rule(
                            "PPL-3",
                            "person_exists_elsewhere",
                            "a person with this ID number is registered with another organisation; \
                             ask the association to move them to yours",
                        )));
                    }
                    return Ok((PersonView::for_caller(existing, Some(&user))?, false));
                }
                if let Some(org) = &organisation_id {
                    guild_store::organisations::find(c, org)?.ok_or_else(|| {
                        ApiError::field("organisation_id", "unknown", "no such organisation")
                    })?;
                }
                let row = PersonRow {
                    id: Uuid::now_v7().to_string(),
                    name,
                    gender: body.gender.as_str().to_owned(),
                    id_type: body.id_type.as_str().to_owned(),
                    id_number,
                    phone,
                    organisation_id,
                    category: body.category.map(|v| v.as_str().to_owned()),
                    occupation: body.occupation.map(|v| v.trim().to_owned()),
                    skill_level: body.skill_level.map(|v| v.as_str().to_owned()),
                    skill_certificate_number: body
                        .skill_certificate_number
                        .map(|v| v.trim().to_owned()),
                    skill_certificate_issued_on: body.skill_certificate_issued_on,
                    version: 1,
                    created_by: Some(user.id.clone()),
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                guild_store::people::insert(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        ApiError::exists("a person with this ID number already exists")
                    } else {
                        e.into()
                    }
                })?;
                audit_person(c, &user, &ctx, now, "person.create", None, &row)?;
                Ok((PersonView::for_caller(row, Some(&user))?, true))
            })
        })
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header(("Location", format!("/api/v1/people/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Audits a change to a person; snapshots are masked (PPL-3) because organisations read them.
fn audit_person(
    c: &mut DbConn,
    user: &AuthUser,
    ctx: &RequestContext,
    now: DateTime<Utc>,
    action: &str,
    before: Option<&PersonRow>,
    after: &PersonRow,
) -> ApiResult<()> {
    let before = before
        .map(|b| PersonView::for_caller(b.clone(), None))
        .transpose()?;
    let after_view = PersonView::for_caller(after.clone(), None)?;
    audit::record(
        c,
        &Actor::new(user, ctx, now),
        Change {
            action,
            entity_type: "person",
            entity_id: &after.id,
            organisation_id: after.organisation_id.as_deref(),
            before: before.as_ref(),
            after: Some(&after_view),
        },
    )
}

/// Read one person.
#[utoipa::path(
    operation_id = "get_person",
    tag = "people", params(("id" = Uuid, Path, description = "Person id")), responses((status = 200,
            description = "OK", body = PersonView), ReadErrors))]
#[get("/people/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let caller = user.clone();
    let row = state
        .run(move |s| s.store.read(|c| visible_person(c, &caller, &id)))
        .await?;
    let view = PersonView::for_caller(row, Some(&user))?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change a person's data. Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_person",
    tag = "people",
    params(("id" = Uuid, Path, description = "Person id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdatePerson,
    responses((status = 200,
            description = "OK", body = PersonView), UpdateErrors)
)]
#[patch("/people/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdatePerson>,
) -> ApiResult<HttpResponse> {
    user.require(PEOPLE_WRITERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    if body.organisation_id.is_some() && !user.role.is_training_staff() {
        return Err(ApiError::field(
            "organisation_id",
            "not_allowed",
            "only association staff can move a person to another organisation",
        ));
    }
    if (body.id_type.is_some() || body.id_number.is_some()) && !user.role.is_training_staff() {
        return Err(ApiError::field(
            "id_number",
            "not_allowed",
            "only association staff can correct an ID document",
        ));
    }
    let name = body
        .name
        .as_deref()
        .map(|n| field("name", validate_person_name(n)))
        .transpose()?;
    let phone = body
        .phone
        .as_deref()
        .map(|p| field("phone", validate_phone(p)))
        .transpose()?;
    let caller = user.clone();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::People, &id.to_string())?;
                let mut row = visible_person(c, &caller, &id)?;
                if_match.check(row.version)?;
                let before = row.clone();
                if body.id_type.is_some() || body.id_number.is_some() {
                    let id_type = body
                        .id_type
                        .unwrap_or(parse_stored("people", &row.id_type)?);
                    let raw = body
                        .id_number
                        .clone()
                        .unwrap_or_else(|| row.id_number.clone());
                    let number = field("id_number", normalize_id_number(id_type, &raw))?;
                    if let Some(other) =
                        guild_store::people::find_by_id_number(c, id_type.as_str(), &number)?
                        && other.id != row.id
                    {
                        return Err(ApiError::exists("another person holds this ID number"));
                    }
                    row.id_type = id_type.as_str().to_owned();
                    row.id_number = number;
                }
                if let Some(v) = name {
                    row.name = v;
                }
                if let Some(v) = body.gender {
                    row.gender = v.as_str().to_owned();
                }
                if let Some(v) = phone {
                    row.phone = Some(v);
                }
                if let Some(v) = body.category {
                    row.category = Some(v.as_str().to_owned());
                }
                if let Some(v) = body.occupation {
                    row.occupation = Some(v.trim().to_owned());
                }
                if let Some(v) = body.skill_level {
                    row.skill_level = Some(v.as_str().to_owned());
                }
                if let Some(v) = body.skill_certificate_number {
                    row.skill_certificate_number = Some(v.trim().to_owned());
                }
                if let Some(v) = body.skill_certificate_issued_on {
                    row.skill_certificate_issued_on = Some(v);
                }
                if let Some(org) = body.organisation_id {
                    let org = guild_store::organisations::find(c, &org.to_string())?.ok_or_else(
                        || ApiError::field("organisation_id", "unknown", "no such organisation"),
                    )?;
                    row.organisation_id = Some(org.id);
                }
                guild_store::people::update(c, &mut row, now.naive_utc())?;
                audit_person(c, &caller, &ctx, now, "person.update", Some(&before), &row)?;
                Ok(row)
            })
        })
        .await?;
    let view = PersonView::for_caller(view, Some(&user))?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}
