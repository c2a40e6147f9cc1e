//! Continuing-education activities (CED-3, seed 004 art. 15, 16 and 19).
//!
//! - `POST /ce/activities`: an accredited provider records an activity it ran
//!   (any source; a provider that is only applied, suspended or withdrawn is
//!   refused with `provider_not_active`, CED-4), or an employer — its
//!   `org_filler` or `org_reviewer` — records training it organised for its
//!   staff (`employer_training`, `work_as_training`, `skills_volunteering`,
//!   `other_approved` only: `source_not_for_employers`). Online learning and a
//!   provider's classes and workshops count at once (`registered`); every
//!   other source waits as `pending_registration` until the authority
//!   registers it (`POST /ce/activities/{id}/register` or `/reject`):
//!   seed 004 art. 16(2) to (5).
//! - The activity's year is the calendar year of `held_on`; its region is the
//!   one given, else the provider's region, else the employer's region.
//! - `GET /ce/activities`: providers and employers see their own activities
//!   (ACC-2, CED-5), association staff and the authority all.
//!
//! Credits for an activity are recorded through
//! `POST /ce/activities/{id}/credits` (see `routes::ce_credits`).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::ce::{
    ActivityAction, ActivityStatus, CeSource, EVIDENCE_REF_MAX, EVIDENCE_REFS_MAX, Recorder,
    SubjectCategory, activity_allowed_actions, activity_transition, check_source_for,
    initial_activity_status,
};
use guild_domain::organisation::{OrgStatus, org_accepts_accounts};
use guild_domain::{Fen, Role};
use guild_store::DbConn;
use guild_store::ce_activities::{ActivityFilter, CeActivityRow};
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::ce_providers::{PROVIDER_DECIDERS, PROVIDER_READERS, recording_provider};
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;

pub use guild_app::ce::ACTIVITY_RECORDERS;

/// A CE activity (CED-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityView {
    /// The activity id.
    pub id: Uuid,
    /// The provider that ran it; `null` for an employer's own activity.
    pub provider_id: Option<Uuid>,
    /// The organisation that recorded it: the provider's, or the employer.
    pub organisation_id: Uuid,
    /// Where the credits come from.
    pub source: CeSource,
    /// What it was.
    pub title: String,
    /// Public or professional subjects.
    pub subject_category: SubjectCategory,
    /// Credits each participant earns.
    pub credits: i32,
    /// Hours each participant spent.
    pub hours: i32,
    /// The fee each participant paid, in fen (for statistics, CED-6).
    pub fee_fen: Fen,
    /// When it took place (or started).
    pub held_on: NaiveDate,
    /// The calendar year of `held_on`.
    pub year: i32,
    /// Whether it ended with an exam: participants then earn credits only by passing.
    pub has_exam: bool,
    /// The region where it took place.
    pub region: String,
    /// References to its evidence: photos, videos, sign-in sheets (seed 004 art. 19).
    pub evidence: Vec<String>,
    /// Whether credits may be recorded yet.
    pub status: ActivityStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The authority's reason when it refused the activity.
    pub review_reason: Option<String>,
    /// Who at the authority registered or refused it.
    pub reviewed_by: Option<Uuid>,
    /// When.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub created_by: Uuid,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Reads a stored JSON list of evidence references.
pub fn evidence_of(table: &'static str, json: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("corrupt evidence in {table}: {e}")))
}

impl TryFrom<CeActivityRow> for ActivityView {
    type Error = ApiError;
    fn try_from(r: CeActivityRow) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("ce_activities", v);
        let status: ActivityStatus = parse_stored("ce_activities", &r.status)?;
        Ok(ActivityView {
            id: id(&r.id)?,
            provider_id: r.provider_id.as_deref().map(id).transpose()?,
            organisation_id: id(&r.organisation_id)?,
            source: parse_stored("ce_activities", &r.source)?,
            title: r.title,
            subject_category: parse_stored("ce_activities", &r.subject_category)?,
            credits: r.credits,
            hours: r.hours,
            fee_fen: Fen::from_stored(r.fee_fen),
            held_on: r.held_on,
            year: r.year,
            has_exam: r.has_exam,
            region: r.region,
            evidence: evidence_of("ce_activities", &r.evidence_json)?,
            status,
            allowed_actions: activity_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            review_reason: r.review_reason,
            reviewed_by: r.reviewed_by.as_deref().map(id).transpose()?,
            reviewed_at: r.reviewed_at.map(|t| t.and_utc()),
            created_by: id(&r.created_by)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new activity (CED-3).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "source": "offline_class", "title": "New PE pipe welding techniques", "subject_category": "professional",
    "credits": 12, "hours": 16, "fee_fen": 60000, "held_on": "2026-03-10", "has_exam": true,
    "evidence": ["photos/2026-03-10-class.jpg", "video/2026-03-10.mp4"]
}))]
pub struct CreateActivity {
    /// Where the credits come from; employers record only `employer_training`,
    /// `work_as_training`, `skills_volunteering` and `other_approved`.
    pub source: CeSource,
    /// What it was, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Public or professional subjects (seed 004 art. 13).
    pub subject_category: SubjectCategory,
    /// Credits each participant earns, 1 to 200.
    #[validate(range(min = 1, max = 200))]
    #[schema(minimum = 1, maximum = 200)]
    pub credits: i32,
    /// Hours each participant spends, 0 to 2000 (default 0).
    #[validate(range(min = 0, max = 2000))]
    #[schema(minimum = 0, maximum = 2000)]
    #[serde(default)]
    pub hours: i32,
    /// The fee each participant pays, in fen (default 0).
    #[serde(default)]
    pub fee_fen: Fen,
    /// When it takes place (or starts); its year is the activity's year.
    pub held_on: NaiveDate,
    /// Whether it ends with an exam (default `false`).
    #[serde(default)]
    pub has_exam: bool,
    /// Where it takes place; defaults to the provider's region, else the employer's.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub region: Option<String>,
    /// References to its evidence (photos, videos, sign-in sheets), at most 20 of 1 to 500 characters.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub evidence: Vec<String>,
}

/// Filters for the activity list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ActivityStatus>,
    /// Only this source.
    pub source: Option<CeSource>,
    /// Only this subject category.
    pub subject_category: Option<SubjectCategory>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only this provider's.
    pub provider_id: Option<Uuid>,
    /// Only this recording organisation's.
    pub organisation_id: Option<Uuid>,
    /// Only this region.
    pub region: Option<String>,
}

/// Checks a list of evidence references (CED-3): at most
/// [`EVIDENCE_REFS_MAX`], each 1 to [`EVIDENCE_REF_MAX`] characters; returns
/// them trimmed. Problems name `field[i]`.
pub fn check_evidence(field: &str, refs: &[String]) -> Result<Vec<String>, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    if refs.len() > EVIDENCE_REFS_MAX {
        problems.push(FieldProblem {
            field: field.to_owned(),
            code: "too_many_evidence_refs".to_owned(),
            message: format!("at most {EVIDENCE_REFS_MAX} evidence references"),
        });
    }
    let mut out = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let r = r.trim();
        if r.is_empty() || r.chars().count() > EVIDENCE_REF_MAX || r.chars().any(char::is_control) {
            problems.push(FieldProblem {
                field: format!("{field}[{i}]"),
                code: "evidence_ref_format".to_owned(),
                message: format!(
                    "an evidence reference has 1 to {EVIDENCE_REF_MAX} characters, no control characters"
                ),
            });
        }
        out.push(r.to_owned());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Loads an activity the caller may see, or 404 exactly like an unknown id
/// (ACC-2): its recording organisation, association staff and the authority.
pub fn visible_activity(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<CeActivityRow> {
    guild_store::ce_activities::find(conn, id)?
        .filter(|a| caller.can_see_organisation(Some(&a.organisation_id)))
        .ok_or_else(|| ApiError::not_found("activity"))
}

fn audit_activity(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&ActivityView>,
    after: &ActivityView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.to_string();
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "ce_activity",
            entity_id: &id,
            organisation_id: Some(&org),
            before,
            after: Some(after),
        },
    )
}

/// Record an activity (CED-3): an accredited provider for an activity it ran,
/// or an employer for training it organised (then `pending_registration`
/// until the authority registers it).
#[utoipa::path(
    operation_id = "create_ce_activity",
    tag = "ce",
    request_body = CreateActivity,
    responses((status = 201, description = "Recorded; `registered` or `pending_registration`", body = ActivityView), CreateErrors)
)]
#[post("/ce/activities")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateActivity>,
) -> ApiResult<HttpResponse> {
    user.require(ACTIVITY_RECORDERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let title = body.title.trim().to_owned();
    if title.is_empty() {
        return Err(ApiError::field(
            "title",
            "length",
            "must be 1 to 200 characters long",
        ));
    }
    let evidence = check_evidence("evidence", &body.evidence).map_err(ApiError::Validation)?;
    let evidence_json =
        serde_json::to_string(&evidence).map_err(|e| ApiError::Internal(e.to_string()))?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let (recorder, provider_id, organisation_id, default_region) = if user.role
                    == Role::Provider
                {
                    let p = recording_provider(c, &user)?;
                    (
                        Recorder::Provider,
                        Some(p.id),
                        p.organisation_id,
                        Some(p.region),
                    )
                } else {
                    let org_id = user.organisation_id.clone().unwrap_or_default();
                    let org = guild_store::organisations::find(c, &org_id)?
                        .ok_or_else(|| ApiError::not_found("organisation"))?;
                    org_accepts_accounts(parse_stored::<OrgStatus>("organisations", &org.status)?)?;
                    (Recorder::Employer, None, org.id, org.region)
                };
                check_source_for(recorder, body.source)?;
                let region = body
                    .region
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty())
                    .or(default_region)
                    .ok_or_else(|| {
                        ApiError::field(
                            "region",
                            "region_required",
                            "your organisation has no region on record: give the activity's region",
                        )
                    })?;
                let at = now.naive_utc();
                let row = CeActivityRow {
                    id: Uuid::now_v7().to_string(),
                    provider_id,
                    organisation_id,
                    source: body.source.as_str().to_owned(),
                    title,
                    subject_category: body.subject_category.as_str().to_owned(),
                    credits: body.credits,
                    hours: body.hours,
                    fee_fen: body.fee_fen.get(),
                    held_on: body.held_on,
                    year: body.held_on.year(),
                    has_exam: body.has_exam,
                    region,
                    evidence_json,
                    status: initial_activity_status(body.source).as_str().to_owned(),
                    review_reason: None,
                    reviewed_by: None,
                    reviewed_at: None,
                    created_by: user.id.clone(),
                    version: 1,
                    created_at: at,
                    updated_at: at,
                };
                guild_store::ce_activities::insert(c, &row)?;
                let view = ActivityView::try_from(row)?;
                audit_activity(
                    c,
                    &Actor::new(&user, &ctx, now),
                    "ce_activity.create",
                    None,
                    &view,
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/ce/activities/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List activities: providers and employers their own (CED-5), association
/// staff and the authority all.
#[utoipa::path(
    operation_id = "list_ce_activities",
    tag = "ce",
    params(ActivityQuery),
    responses((status = 200, description = "OK (in recording order)", body = Paged<ActivityView>), ListErrors)
)]
#[get("/ce/activities")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ActivityQuery>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ActivityFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        source: q.source.map(|v| v.as_str().to_owned()),
        subject_category: q.subject_category.map(|v| v.as_str().to_owned()),
        year: q.year,
        provider_id: q.provider_id.map(|v| v.to_string()),
        organisation_id: q.organisation_id.map(|v| v.to_string()),
        region: q.region,
        only_organisation: user.organisation_scope(),
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::ce_activities::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, ActivityView::try_from)?))
}

/// Read one activity.
#[utoipa::path(
    operation_id = "get_ce_activity",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id")),
    responses((status = 200, description = "OK", body = ActivityView), ReadErrors)
)]
#[get("/ce/activities/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let id = id.into_inner().to_string();
    let row = state
        .run(move |s| s.store.read(|c| visible_activity(c, &user, &id)))
        .await?;
    let view = ActivityView::try_from(row)?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Applies the authority's decision on an activity (CED-3).
async fn review(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ActivityAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_DECIDERS)?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::CeActivities, &id)?;
                let mut row = visible_activity(c, &user, &id)?;
                let before = ActivityView::try_from(row.clone())?;
                let next = activity_transition(before.status, action)?;
                row.status = next.as_str().to_owned();
                row.review_reason = reason.map(|r| r.trim().to_owned());
                row.reviewed_by = Some(user.id.clone());
                row.reviewed_at = Some(now.naive_utc());
                guild_store::ce_activities::update(c, &mut row, now.naive_utc())?;
                let after = ActivityView::try_from(row)?;
                audit_activity(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &format!("ce_activity.{action}"),
                    Some(&before),
                    &after,
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Register an activity with the authority (CED-3, seed 004 art. 16): its
/// credits may then be recorded.
#[utoipa::path(
    operation_id = "register_ce_activity",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id")),
    responses((status = 200, description = "Registered", body = ActivityView), ActionErrors)
)]
#[post("/ce/activities/{id}/register")]
pub async fn register(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    review(
        state,
        ctx,
        user,
        id.into_inner(),
        ActivityAction::Register,
        None,
    )
    .await
}

/// Refuse to register an activity, with a reason (CED-3): it earns no credits.
#[utoipa::path(
    operation_id = "reject_ce_activity",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = ActivityView), ActionErrors)
)]
#[post("/ce/activities/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    review(
        state,
        ctx,
        user,
        id.into_inner(),
        ActivityAction::Reject,
        reason,
    )
    .await
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(register)
        .service(reject);
}
