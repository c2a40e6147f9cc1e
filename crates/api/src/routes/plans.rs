//! Annual training plans (PLN-1): drafted, published as version 1, amended with
//! a version history; the public endpoints show the latest published version of
//! each year's plan together with that year's classes.
//!
//! Who does what: the association's training staff (admin, training officer,
//! training head) draft and edit plans; publishing and amending are decisions,
//! taken by a training head or the administrator. Association staff and the
//! authority read plans; everybody else reads the public endpoints.
//!
//! Timing: a plan for year Y is normally drafted in December of Y-1, but the API
//! accepts drafting at any date; it only refuses a plan for a year that has
//! already ended in the association's time zone (`plan_year_past`, PLN-1), and
//! the same for publishing, editing or amending such a plan.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::plan::{
    PlanAction, PlanItem, PlanItemSpec, PlanStatus, check_item_programs, plan_is_editable,
    plan_is_publishable, plan_transition, plan_year_is_open, validate_items, validate_year,
};
use guild_domain::program::ProgramStatus;
use guild_domain::{Role, local_date};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::plans::{PlanFilter, PlanRow, PlanVersionRow, PublicClassRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{
    ActionErrors, CreateErrors, ListErrors, PublicErrors, ReadErrors, UpdateErrors,
};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Roles that read plans: association staff and the authority.
pub const PLAN_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
];
/// Roles that draft plans and edit drafts: the training staff.
pub const PLAN_EDITORS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];
/// Roles that publish and amend plans: a decision of the training head (or admin).
pub const PLAN_PUBLISHERS: &[Role] = &[Role::Admin, Role::TrainingHead];

/// An annual training plan (PLN-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    /// The plan id.
    pub id: Uuid,
    /// The year the plan is for (one plan per year).
    pub year: i32,
    /// Title.
    pub title: String,
    /// Notes for readers of the plan.
    pub notes: Option<String>,
    /// The planned programs: current content (of the draft, or of the latest version).
    pub items: Vec<PlanItem>,
    /// `draft` (never public) or `published`.
    pub status: PlanStatus,
    /// Number of the latest published version; 0 while a draft.
    pub latest_version: i32,
    /// When version 1 was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version of the record (send as `If-Match`); not the plan version.
    pub version: i32,
    /// The account that created the draft.
    pub created_by: Uuid,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

fn stored_items(table: &'static str, json: &str) -> ApiResult<Vec<PlanItem>> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("corrupt items_json in {table}: {e}")))
}

fn items_json(items: &[PlanItem]) -> ApiResult<String> {
    serde_json::to_string(items)
        .map_err(|e| ApiError::Internal(format!("cannot encode plan items: {e}")))
}

impl TryFrom<PlanRow> for PlanView {
    type Error = ApiError;
    fn try_from(r: PlanRow) -> ApiResult<Self> {
        Ok(PlanView {
            id: stored_uuid("plans", &r.id)?,
            year: r.year,
            title: r.title,
            notes: r.notes,
            items: stored_items("plans", &r.items_json)?,
            status: parse_stored("plans", &r.status)?,
            latest_version: r.latest_version,
            published_at: r.published_at.map(|t| t.and_utc()),
            version: r.version,
            created_by: stored_uuid("plans", &r.created_by)?,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// One published version of a plan: a snapshot of its content (PLN-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanVersionView {
    /// The version id.
    pub id: Uuid,
    /// The plan.
    pub plan_id: Uuid,
    /// 1 for the first publication, then one more per amendment.
    pub number: i32,
    /// Title of this version.
    pub title: String,
    /// Notes of this version.
    pub notes: Option<String>,
    /// Items of this version.
    pub items: Vec<PlanItem>,
    /// What the amendment changed and why; `null` for version 1.
    pub change_note: Option<String>,
    /// The account that published this version.
    pub published_by: Uuid,
    /// When this version was published.
    pub published_at: DateTime<Utc>,
}

impl TryFrom<PlanVersionRow> for PlanVersionView {
    type Error = ApiError;
    fn try_from(r: PlanVersionRow) -> ApiResult<Self> {
        Ok(PlanVersionView {
            id: stored_uuid("plan_versions", &r.id)?,
            plan_id: stored_uuid("plan_versions", &r.plan_id)?,
            number: r.number,
            title: r.title,
            notes: r.notes,
            items: stored_items("plan_versions", &r.items_json)?,
            change_note: r.change_note,
            published_by: stored_uuid("plan_versions", &r.published_by)?,
            published_at: r.published_at.and_utc(),
        })
    }
}

/// One line of a plan: a program and how many classes of it are planned.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"program_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "planned_classes": 4, "months": [3, 6, 9, 11], "note": "one class per quarter"}))]
pub struct PlanItemInput {
    /// An existing program; a retired program cannot be added (PRG-1).
    pub program_id: Uuid,
    /// Classes planned for the year, 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub planned_classes: i64,
    /// Months (1 to 12) the classes are planned in; order and repeats do not matter.
    pub months: Option<Vec<i64>>,
    /// A note, up to 1000 characters.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

impl PlanItemInput {
    fn spec(&self) -> PlanItemSpec {
        PlanItemSpec {
            program_id: self.program_id,
            planned_classes: self.planned_classes,
            months: self.months.clone(),
            note: self.note.clone(),
        }
    }
}

/// A new draft plan.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2027, "title": "2027 annual training plan", "items": []}))]
pub struct CreatePlan {
    /// The year, 2000 to 2100; not one that has already ended.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    /// Title, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Notes, up to 4000 characters.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// The planned programs (may be empty while drafting; at most 200).
    #[schema(max_items = 200)]
    pub items: Option<Vec<PlanItemInput>>,
}

/// Changes to a draft plan; omitted fields stay as they are, `items` replaces
/// the whole list, an empty `notes` clears them.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    /// Title, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Notes, up to 4000 characters; `""` clears them.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// The planned programs (replaces the list).
    #[schema(max_items = 200)]
    pub items: Option<Vec<PlanItemInput>>,
}

/// An amendment of a published plan: the new items (and optionally title and
/// notes) with a note saying what changed.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"program_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "planned_classes": 6}], "change_note": "two more classes: demand from member companies"}))]
pub struct AmendPlan {
    /// New title; omitted keeps the current one.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// New notes; omitted keeps the current ones, `""` clears them.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// The complete new list of items (at least one).
    #[schema(min_items = 1, max_items = 200)]
    pub items: Vec<PlanItemInput>,
    /// What changed and why, 1 to 1000 characters (e.g. "class frequency adjusted to demand").
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub change_note: String,
}

/// Filters for the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only the plan of this year.
    pub year: Option<i32>,
    /// Only this status.
    pub status: Option<PlanStatus>,
}

/// Collects the problems of a body: `validator` rules plus extra field checks,
/// so every invalid field is reported at once.
fn problems_of<T: Validate>(body: &T) -> Vec<FieldProblem> {
    match validate(body) {
        Err(ApiError::Validation(p)) => p,
        _ => Vec::new(),
    }
}

/// A title of spaces only (an empty one is already refused by the length rule).
fn blank_title(title: &str) -> Option<FieldProblem> {
    (!title.is_empty() && title.trim().is_empty()).then(|| FieldProblem {
        field: "title".to_owned(),
        code: "length".to_owned(),
        message: "must not be blank".to_owned(),
    })
}

/// Trimmed notes; an empty text means none.
fn clean_notes(notes: Option<String>) -> Option<String> {
    notes.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
}

/// Validates `items` into `problems`, returning the items when they are fine.
fn items_of(inputs: &[PlanItemInput], problems: &mut Vec<FieldProblem>) -> Vec<PlanItem> {
    let specs: Vec<PlanItemSpec> = inputs.iter().map(PlanItemInput::spec).collect();
    match validate_items(&specs) {
        Ok(items) => items,
        Err(errors) => {
            problems.extend(errors.into_iter().map(Into::into));
            Vec::new()
        }
    }
}

fn finish(problems: Vec<FieldProblem>) -> ApiResult<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        let mut problems = problems;
        problems.sort_by(|a, b| a.field.cmp(&b.field));
        Err(ApiError::Validation(problems))
    }
}

/// PLN-1 with PRG-1: every item names an existing program; a retired program
/// may stay in a plan that already listed it but cannot be added.
fn check_programs(
    c: &mut DbConn,
    items: &[PlanItem],
    already_listed: &[PlanItem],
) -> ApiResult<()> {
    let ids: Vec<String> = items.iter().map(|i| i.program_id.to_string()).collect();
    let mut known = HashMap::new();
    for row in guild_store::programs::find_many(c, &ids)? {
        let status: ProgramStatus = parse_stored("programs", &row.status)?;
        known.insert(stored_uuid("programs", &row.id)?, status);
    }
    finish(
        check_item_programs(items, &known, already_listed)
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}

/// The association's local date today (PLN-1 compares years in its time zone).
fn today(s: &AppState) -> NaiveDate {
    local_date(s.clock.now(), s.config.time_zone)
}

/// Loads a plan or 404.
fn find_plan(c: &mut DbConn, id: &Uuid) -> ApiResult<PlanRow> {
    guild_store::plans::find(c, &id.to_string())?.ok_or_else(|| ApiError::not_found("plan"))
}

fn year_taken(year: i32) -> ApiError {
    ApiError::exists(format!("there is already a plan for {year}"))
}

/// List plans (association staff and the authority), oldest first.
#[utoipa::path(
    operation_id = "list_plans",
    tag = "plans",
    params(PlanQuery),
    responses((status = 200, description = "OK", body = Paged<PlanView>), ListErrors)
)]
#[get("/plans")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<PlanQuery>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = PlanFilter {
        year: q.year,
        status: q.status.map(|s| s.as_str().to_owned()),
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::plans::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, PlanView::try_from)?))
}

/// Draft the annual plan for a year (PLN-1).
///
/// Normally done in December of the year before, but accepted at any date; a year that has already ended in the
/// association's time zone is refused (`plan_year_past`). One plan per year.
#[utoipa::path(
    operation_id = "create_plan",
    tag = "plans",
    request_body = CreatePlan,
    responses((status = 201, description = "Draft created", body = PlanView), CreateErrors)
)]
#[post("/plans")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreatePlan>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_EDITORS)?;
    let body = body.into_inner();
    let mut problems = problems_of(&body);
    problems.extend(blank_title(&body.title));
    // An invalid year is reported below; the placeholder is never used.
    let year = validate_year(body.year).unwrap_or_else(|e| {
        problems.push(e.into());
        0
    });
    let items = items_of(body.items.as_deref().unwrap_or_default(), &mut problems);
    finish(problems)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            plan_year_is_open(year, today(s))?;
            s.store.write(|c| {
                if guild_store::plans::find_by_year(c, year)?.is_some() {
                    return Err(year_taken(year));
                }
                check_programs(c, &items, &[])?;
                let row = PlanRow {
                    id: Uuid::now_v7().to_string(),
                    year,
                    title: body.title.trim().to_owned(),
                    items_json: items_json(&items)?,
                    notes: clean_notes(body.notes),
                    status: PlanStatus::Draft.as_str().to_owned(),
                    latest_version: 0,
                    published_at: None,
                    version: 1,
                    created_by: user.id.clone(),
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                guild_store::plans::insert(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        year_taken(year)
                    } else {
                        e.into()
                    }
                })?;
                let view = PlanView::try_from(row)?;
                let id = view.id.to_string();
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "plan.create",
                        entity_type: "plan",
                        entity_id: &id,
                        organisation_id: None,
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/plans/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one plan, draft or published (association staff and the authority).
#[utoipa::path(
    operation_id = "get_plan",
    tag = "plans",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "OK", body = PlanView), ReadErrors)
)]
#[get("/plans/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_READERS)?;
    let id = id.into_inner();
    let row = state
        .run(move |s| s.store.read(|c| find_plan(c, &id)))
        .await?;
    let view = PlanView::try_from(row)?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Edit a draft plan (training staff).
///
/// Honours `If-Match` (API-5). A published plan answers 409 `plan_published` (PLN-1): amend it instead
/// (`POST /plans/{id}/amendments`), so every change is versioned.
#[utoipa::path(
    operation_id = "update_plan",
    tag = "plans",
    params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdatePlan,
    responses((status = 200, description = "OK", body = PlanView), UpdateErrors)
)]
#[patch("/plans/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdatePlan>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_EDITORS)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut problems = problems_of(&body);
    problems.extend(body.title.as_deref().and_then(blank_title));
    let items = body
        .items
        .as_deref()
        .map(|inputs| items_of(inputs, &mut problems));
    finish(problems)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = today(s);
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::Plans, &id.to_string())?;
                let mut row = find_plan(c, &id)?;
                if_match.check(row.version)?;
                let before = PlanView::try_from(row.clone())?;
                plan_is_editable(before.status).map_err(ApiError::Refused)?;
                plan_year_is_open(row.year, today)?;
                if let Some(items) = &items {
                    check_programs(c, items, &before.items)?;
                    row.items_json = items_json(items)?;
                }
                if let Some(title) = body.title {
                    row.title = title.trim().to_owned();
                }
                if body.notes.is_some() {
                    row.notes = clean_notes(body.notes);
                }
                save(c, &user, &ctx, now, "plan.update", row, before)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Bumps the record version, writes the row and audits the change.
fn save(
    c: &mut DbConn,
    user: &AuthUser,
    ctx: &RequestContext,
    now: DateTime<Utc>,
    action: &str,
    mut row: PlanRow,
    before: PlanView,
) -> ApiResult<PlanView> {
    guild_store::plans::update(c, &mut row, now.naive_utc())?;
    let after = PlanView::try_from(row)?;
    let id = after.id.to_string();
    audit::record(
        c,
        &Actor::new(user, ctx, now),
        Change {
            action,
            entity_type: "plan",
            entity_id: &id,
            organisation_id: None,
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

/// Writes version `row.latest_version` of the plan as published by `user` at `now`.
fn snapshot(
    c: &mut DbConn,
    user: &AuthUser,
    now: DateTime<Utc>,
    row: &PlanRow,
    change_note: Option<String>,
) -> ApiResult<()> {
    guild_store::plans::insert_plan_version(
        c,
        &PlanVersionRow {
            id: Uuid::now_v7().to_string(),
            plan_id: row.id.clone(),
            number: row.latest_version,
            title: row.title.clone(),
            items_json: row.items_json.clone(),
            notes: row.notes.clone(),
            change_note,
            published_by: user.id.clone(),
            published_at: now.naive_utc(),
        },
    )
    .map_err(|e| {
        if e.is_unique_violation() {
            ApiError::version_mismatch()
        } else {
            e.into()
        }
    })
}

/// Publish a draft plan as version 1 (PLN-1).
///
/// The plan becomes visible on the public endpoint. Training head or administrator; the plan needs at least one item
/// (`plan_empty`) and a year that has not ended (`plan_year_past`).
#[utoipa::path(
    operation_id = "publish_plan",
    tag = "plans",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "Published", body = PlanView), ActionErrors)
)]
#[post("/plans/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_PUBLISHERS)?;
    let id = id.into_inner();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = today(s);
            s.store.write(|c| {
                let mut row = find_plan(c, &id)?;
                let before = PlanView::try_from(row.clone())?;
                let next = plan_transition(before.status, PlanAction::Publish)?;
                plan_year_is_open(row.year, today)?;
                plan_is_publishable(&before.items)?;
                check_programs(c, &before.items, &before.items)?;
                row.status = next.as_str().to_owned();
                row.latest_version = 1;
                row.published_at = Some(now.naive_utc());
                let view = save(c, &user, &ctx, now, "plan.publish", row.clone(), before)?;
                snapshot(c, &user, now, &row, None)?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Amend a published plan, publishing a new version at once (PLN-1).
///
/// E.g. "class frequency adjusted to demand": publishes version n+1 at once with the new items (title and notes optional)
/// and the required `change_note`, and makes it the plan's current content; the
/// public endpoint shows it immediately. Training head or administrator.
/// Honours `If-Match` on the plan record (API-5).
#[utoipa::path(
    operation_id = "amend_plan",
    tag = "plans",
    params(("id" = Uuid, Path, description = "Plan id"), ("If-Match" = Option<String>, Header, description = "The plan record version you read, e.g. \"3\"")),
    request_body = AmendPlan,
    responses((status = 201, description = "Amended: the new version", body = PlanVersionView), UpdateErrors)
)]
#[post("/plans/{id}/amendments")]
pub async fn amend(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<AmendPlan>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_PUBLISHERS)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut problems = problems_of(&body);
    problems.extend(body.title.as_deref().and_then(blank_title));
    if body.change_note.trim().is_empty() {
        problems.push(FieldProblem {
            field: "change_note".to_owned(),
            code: "length".to_owned(),
            message: "say what the amendment changes".to_owned(),
        });
    }
    let items = items_of(&body.items, &mut problems);
    finish(problems)?;
    let version = state
        .run(move |s| {
            let now = s.clock.now();
            let today = today(s);
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::Plans, &id.to_string())?;
                let mut row = find_plan(c, &id)?;
                if_match.check(row.version)?;
                let before = PlanView::try_from(row.clone())?;
                plan_transition(before.status, PlanAction::Amend)?;
                plan_year_is_open(row.year, today)?;
                plan_is_publishable(&items)?;
                check_programs(c, &items, &before.items)?;
                row.items_json = items_json(&items)?;
                if let Some(title) = body.title {
                    row.title = title.trim().to_owned();
                }
                if body.notes.is_some() {
                    row.notes = clean_notes(body.notes);
                }
                row.latest_version += 1;
                save(c, &user, &ctx, now, "plan.amend", row.clone(), before)?;
                snapshot(
                    c,
                    &user,
                    now,
                    &row,
                    Some(body.change_note.trim().to_owned()),
                )?;
                let version = guild_store::plans::find_version(c, &row.id, row.latest_version)?
                    .ok_or_else(|| {
                        ApiError::Internal("the new plan version vanished".to_owned())
                    })?;
                PlanVersionView::try_from(version)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/plans/{}/versions", version.plan_id),
        ))
        .json(version))
}

/// The published versions of a plan, oldest first (newest last); empty for a draft.
#[utoipa::path(
    operation_id = "list_plan_versions",
    tag = "plans",
    params(("id" = Uuid, Path, description = "Plan id"), PageParams),
    responses((status = 200, description = "OK", body = Paged<PlanVersionView>), ReadErrors)
)]
#[get("/plans/{id}/versions")]
pub async fn versions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_READERS)?;
    let id = id.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                let plan = find_plan(c, &id)?;
                Ok(guild_store::plans::list_versions(
                    c,
                    &plan.id,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, PlanVersionView::try_from)?))
}

/// A published plan in the public list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPlanSummary {
    /// The year.
    pub year: i32,
    /// Title of the latest version.
    pub title: String,
    /// Number of the latest published version.
    pub version: i32,
    /// When the plan was first published.
    pub published_at: DateTime<Utc>,
    /// When the latest amendment was published; `null` while version 1 is current.
    pub amended_at: Option<DateTime<Utc>>,
}

/// One line of a published plan, with its program's code and name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPlanItem {
    /// The program.
    pub program_id: Uuid,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// Classes planned for the year.
    pub planned_classes: u8,
    /// Months the classes are planned in (empty when not yet scheduled).
    pub months: Vec<u8>,
    /// A note.
    pub note: Option<String>,
}

/// A class of the plan's year as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicClass {
    /// The class id.
    pub id: Uuid,
    /// The class code.
    pub code: String,
    /// The class title.
    pub title: String,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where the class is held.
    pub place: String,
    /// Seats.
    pub capacity: i32,
    /// The class status (CLS-1), e.g. `planned`, `open`, `cancelled`.
    #[schema(example = "open")]
    pub status: String,
}

impl TryFrom<PublicClassRow> for PublicClass {
    type Error = ApiError;
    fn try_from(r: PublicClassRow) -> ApiResult<Self> {
        Ok(PublicClass {
            id: stored_uuid("classes", &r.id)?,
            code: r.code,
            title: r.title,
            program_code: r.program_code,
            program_name: r.program_name,
            start_date: r.start_date,
            end_date: r.end_date,
            place: r.place,
            capacity: r.capacity,
            status: r.status,
        })
    }
}

/// The latest published version of a year's plan with that year's classes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPlan {
    /// The year.
    pub year: i32,
    /// Title.
    pub title: String,
    /// Notes.
    pub notes: Option<String>,
    /// Number of this (the latest) version.
    pub version: i32,
    /// What the latest amendment changed; `null` for version 1.
    pub change_note: Option<String>,
    /// When the plan was first published.
    pub published_at: DateTime<Utc>,
    /// When this version was published by an amendment; `null` for version 1.
    pub amended_at: Option<DateTime<Utc>>,
    /// The planned programs.
    pub items: Vec<PublicPlanItem>,
    /// Every class of the year, by start date, in all statuses: cancelled classes
    /// stay listed with status `cancelled` so the public sees the change.
    pub classes: Vec<PublicClass>,
}

fn amended_at(version: &PlanVersionRow) -> Option<DateTime<Utc>> {
    (version.number > 1).then(|| version.published_at.and_utc())
}

fn first_published(plan: &PlanRow, version: &PlanVersionRow) -> DateTime<Utc> {
    plan.published_at.unwrap_or(version.published_at).and_utc()
}

/// Published annual plans, newest year first (public). Drafts never appear.
#[utoipa::path(
    operation_id = "list_public_plans",
    tag = "public",
    security(()),
    params(PageParams),
    responses((status = 200, description = "OK", body = Paged<PublicPlanSummary>), PublicErrors)
)]
#[get("/public/plans")]
pub async fn public_list(
    state: web::Data<AppState>,
    q: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::plans::list_published(
                    c,
                    PlanStatus::Published.as_str(),
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(
        HttpResponse::Ok().json(Paged::from_page(rows, |(plan, version)| {
            PublicPlanSummary {
                year: plan.year,
                published_at: first_published(&plan, &version),
                amended_at: amended_at(&version),
                title: version.title,
                version: version.number,
            }
        })),
    )
}

/// The latest published version of a year's plan, with that year's classes (PLN-1).
///
/// Items name their programs (code and name); every class of the year is listed
/// by start date. Cancelled classes are listed with
/// status `cancelled`, so the public sees the change. An unknown year or a plan
/// that is still a draft answers 404.
#[utoipa::path(
    operation_id = "get_public_plan",
    tag = "public",
    security(()),
    params(("year" = i32, Path, description = "The plan's year, e.g. 2027")),
    responses((status = 200, description = "OK", body = PublicPlan), PublicErrors)
)]
#[get("/public/plans/{year}")]
pub async fn public_get(
    state: web::Data<AppState>,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let year = year.into_inner();
    let plan = state
        .run(move |s| {
            s.store.read(|c| {
                let not_found = || ApiError::not_found("published plan");
                let plan = guild_store::plans::find_by_year(c, year)?.ok_or_else(not_found)?;
                let status: PlanStatus = parse_stored("plans", &plan.status)?;
                if status != PlanStatus::Published {
                    return Err(not_found());
                }
                let version = guild_store::plans::find_version(c, &plan.id, plan.latest_version)?
                    .ok_or_else(not_found)?;
                let items = stored_items("plan_versions", &version.items_json)?;
                let ids: Vec<String> = items.iter().map(|i| i.program_id.to_string()).collect();
                let programs: HashMap<String, (String, String)> =
                    guild_store::programs::find_many(c, &ids)?
                        .into_iter()
                        .map(|p| (p.id, (p.code, p.name)))
                        .collect();
                let items = items
                    .into_iter()
                    .map(|i| {
                        let (code, name) = programs
                            .get(&i.program_id.to_string())
                            .cloned()
                            .ok_or_else(|| {
                                ApiError::Internal(format!(
                                    "plan {} names a missing program {}",
                                    plan.id, i.program_id
                                ))
                            })?;
                        Ok(PublicPlanItem {
                            program_id: i.program_id,
                            program_code: code,
                            program_name: name,
                            planned_classes: i.planned_classes,
                            months: i.months,
                            note: i.note,
                        })
                    })
                    .collect::<ApiResult<Vec<_>>>()?;
                let classes = guild_store::plans::classes_of_year(c, year)?
                    .into_iter()
                    .map(PublicClass::try_from)
                    .collect::<ApiResult<Vec<_>>>()?;
                Ok(PublicPlan {
                    year: plan.year,
                    published_at: first_published(&plan, &version),
                    amended_at: amended_at(&version),
                    title: version.title,
                    notes: version.notes,
                    version: version.number,
                    change_note: version.change_note,
                    items,
                    classes,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(publish)
        .service(amend)
        .service(versions)
        .service(public_list)
        .service(public_get);
}
