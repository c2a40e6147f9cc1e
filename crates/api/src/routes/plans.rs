//! Annual training plans (PLN-1): the HTTP side. Drafted, published as version
//! 1, amended with a version history; the public endpoints show the latest
//! published version of each year's plan together with that year's classes.
//! The use cases, and the rules they follow, are in [`guild_app::plans`].
//!
//! Who does what: the association's training staff (admin, training officer,
//! training head) draft and edit plans; publishing and amending are decisions,
//! taken by a training head or the administrator. Association staff and the
//! authority read plans; everybody else reads the public endpoints.

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::plans::{self as app, ListPlans};
use guild_domain::error::FieldError;
use guild_domain::plan::PlanStatus;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

pub use guild_app::plans::{
    AmendPlan, CreatePlan, PLAN_EDITORS, PLAN_PUBLISHERS, PLAN_READERS, PlanItemInput,
    PlanVersionView, PlanView, PublicClass, PublicPlan, PublicPlanItem, PublicPlanSummary,
    UpdatePlan,
};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{
    ActionErrors, CreateErrors, ListErrors, PublicErrors, ReadErrors, UpdateErrors,
};
use crate::state::AppState;

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

/// Every problem of a body at once, by field: the `validator` limits and the
/// use case's own field checks (`check`, PLN-1). The checked input when there
/// is none.
fn checked<B: Validate, T>(
    body: B,
    check: impl FnOnce(B) -> Result<T, Vec<FieldError>>,
) -> ApiResult<T> {
    let mut problems = match validate(&body) {
        Err(ApiError::Validation(p)) => p,
        _ => Vec::new(),
    };
    match check(body) {
        Ok(input) if problems.is_empty() => return Ok(input),
        Ok(_) => {}
        Err(errors) => problems.extend(errors.into_iter().map(FieldProblem::from)),
    }
    problems.sort_by(|a, b| a.field.cmp(&b.field));
    Err(ApiError::Validation(problems))
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
    let filter = ListPlans {
        year: q.year,
        status: q.status,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
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
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreatePlan>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_EDITORS)?;
    let input = checked(body.into_inner(), CreatePlan::check)?;
    let view = state
        .tx(user, req, move |ctx, c| app::create(ctx, c, input))
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
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
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
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdatePlan>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_EDITORS)?;
    let id = id.into_inner();
    let input = checked(body.into_inner(), UpdatePlan::check)?;
    let view = state
        .tx(user, req, move |ctx, c| {
            app::update(ctx, c, id, if_match.0, input)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
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
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_PUBLISHERS)?;
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::publish(ctx, c, id))
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
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<AmendPlan>,
) -> ApiResult<HttpResponse> {
    user.require(PLAN_PUBLISHERS)?;
    let id = id.into_inner();
    let input = checked(body.into_inner(), AmendPlan::check)?;
    let version = state
        .tx(user, req, move |ctx, c| {
            app::amend(ctx, c, id, if_match.0, input)
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
        .read(user, move |ctx, c| app::versions(ctx, c, id, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
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
    let rows = state.public(move |c| app::public::list(c, page)).await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
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
    let plan = state.public(move |c| app::public::get(c, year)).await?;
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
