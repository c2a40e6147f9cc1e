//! Continuing-education activities (CED-3, seed 004 art. 15, 16 and 19): the
//! HTTP side. The use cases are in [`guild_app::ce::activities`].
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
use guild_app::ce::activities::{self as app, ListActivities};
use guild_app::ce::{PROVIDER_DECIDERS, PROVIDER_READERS};
use guild_domain::ce::{ActivityAction, ActivityStatus, CeSource, SubjectCategory};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::ce::ACTIVITY_RECORDERS;
pub use guild_app::ce::activities::{ActivityView, CreateActivity};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

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

fn activity_response(status: actix_web::http::StatusCode, view: &ActivityView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(view.version))
        .json(view)
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
    let view = state
        .tx(user, ctx, move |ctx, c| app::create(ctx, c, body))
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
    let filter = ListActivities {
        status: q.status,
        source: q.source,
        subject_category: q.subject_category,
        year: q.year,
        provider_id: q.provider_id,
        organisation_id: q.organisation_id,
        region: q.region,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
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
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(activity_response(actix_web::http::StatusCode::OK, &view))
}

/// Applies the authority's decision on an activity (CED-3): the one helper
/// of the action endpoints.
async fn review(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ActivityAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_DECIDERS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::review(ctx, c, id, action, reason)
        })
        .await?;
    Ok(activity_response(actix_web::http::StatusCode::OK, &view))
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
    let id = id.into_inner();
    review(state, ctx, user, id, ActivityAction::Register, None).await
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
    let id = id.into_inner();
    review(state, ctx, user, id, ActivityAction::Reject, reason).await
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(register)
        .service(reject);
}
