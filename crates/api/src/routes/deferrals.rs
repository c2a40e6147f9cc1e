//! Deferrals (DEF-1, DEF-2): the HTTP side. The use cases, and the rules they
//! follow, are in [`guild_app::deferrals`]; the no-show record (DEF-4) is an
//! enrolment action.

use actix_web::{HttpResponse, get, post, web};
use guild_app::deferrals::{self as app, ListDeferrals};
use guild_domain::deferral::{DEFERRAL_DECIDERS, DEFERRAL_FILERS, DeferralAction, DeferralStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::deferrals::{CreateDeferral, DeferralView, TransferDeferral, TransferOutcome};

use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the deferral list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeferralQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<DeferralStatus>,
    /// Only deferrals of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}

/// List deferrals, oldest first: organisations see their own (ACC-2),
/// trainees their own enrolments', association staff and the authority all.
#[utoipa::path(
    operation_id = "list_deferrals",
    tag = "deferrals",
    params(DeferralQuery),
    responses((status = 200, description = "OK", body = Paged<DeferralView>), ListErrors)
)]
#[get("/deferrals")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<DeferralQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListDeferrals {
        status: q.status,
        class_id: q.class_id,
        enrolment_id: q.enrolment_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// File a deferral for a paid enrolment (DEF-1), with the stamped request
/// letter's document reference, no later than the day before the class
/// starts in the association's time zone (`deferral_too_late`). Filed by the
/// enrolment's organisation, the individual trainee, or training staff on
/// their behalf. An unpaid enrolment is not deferred but simply cancelled
/// (`deferral_requires_payment`). One open deferral per enrolment (409).
#[utoipa::path(
    operation_id = "create_deferral",
    tag = "deferrals",
    request_body = CreateDeferral,
    responses((status = 201, description = "Filed; waits for a training head", body = DeferralView), CreateErrors)
)]
#[post("/deferrals")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateDeferral>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.letter_reference.trim().is_empty() {
        return Err(ApiError::field(
            "letter_reference",
            "required",
            "the stamped request letter's document reference is required",
        ));
    }
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .tx(user, req, move |ctx, c| app::file(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/deferrals/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one deferral (visible to whoever may see its enrolment).
#[utoipa::path(
    operation_id = "get_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    responses((status = 200, description = "OK", body = DeferralView), ReadErrors)
)]
#[get("/deferrals/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Decides a deferral after the role check (403 first).
async fn decide(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: DeferralAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_DECIDERS)?;
    let view = state
        .tx(user, req, move |ctx, c| {
            app::decide(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

action_endpoint! {
    /// Approve a deferral (DEF-1: a training head; or the administrator). The
    /// enrolment becomes `deferred` and its seat goes to the first waiting
    /// enrolment in the same transaction (CLS-3). Approval may come after the
    /// class started: the filing time is what counts.
    approve: "/deferrals/{id}/approve", "approve_deferral", tag "deferrals", id "Deferral id",
    decide(DeferralAction::Approve) -> DeferralView, "Approved; the enrolment is deferred"
}

/// Reject a deferral with a reason (DEF-1: a training head; or the
/// administrator). The enrolment stays as it was.
#[utoipa::path(
    operation_id = "reject_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = DeferralView), ActionErrors)
)]
#[post("/deferrals/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_DECIDERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    decide(
        state,
        req,
        user,
        id.into_inner(),
        DeferralAction::Reject,
        Some(reason),
    )
    .await
}

/// Transfer a deferred trainee to a later class (DEF-2): same program,
/// starting later than the original class in the same calendar year, planned
/// or open, with a free seat (CLS-3); bans (ENR-4) and double enrolment
/// (ENR-5) are checked. Creates a `paid` enrolment in the later class with
/// the fee carried over in the ledger (nothing is paid again, nothing is due)
/// and marks the old enrolment `transferred`. A `no_show` is never
/// transferred (DEF-4). By training staff, or the filing organisation's
/// accounts, or the individual trainee.
#[utoipa::path(
    operation_id = "transfer_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    request_body = TransferDeferral,
    responses((status = 200, description = "Transferred: the deferral and the new enrolment", body = TransferOutcome), ActionErrors)
)]
#[post("/deferrals/{id}/transfer")]
pub async fn transfer(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<TransferDeferral>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_FILERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let class_id = body.into_inner().class_id;
    let outcome = state
        .tx(user, req, move |ctx, c| app::transfer(ctx, c, id, class_id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Location",
            format!("/api/v1/enrolments/{}", outcome.enrolment.id),
        ))
        .insert_header(etag(outcome.deferral.version))
        .json(outcome))
}

/// Registers the deferral endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(approve)
        .service(reject)
        .service(transfer);
}
