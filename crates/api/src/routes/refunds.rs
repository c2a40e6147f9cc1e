//! Refunds (REF-1 to REF-4): the HTTP side. The use cases, and the rules
//! they follow, are in [`guild_app::refunds`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::refunds::{self as app, ListRefunds};
use guild_domain::refund::{
    CLASS_REFUND_FILERS, REQUESTERS, RefundAction, RefundKind, RefundStatus, action_roles,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::refunds::{ClassRefunds, CreateRefund, PayRefund, RefundView, SkippedEnrolment};

use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the refund list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RefundQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<RefundStatus>,
    /// Only this kind.
    pub kind: Option<RefundKind>,
    /// Only refunds of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}

/// List refunds, oldest first: organisations see their own (ACC-2), trainees
/// their own enrolments', association staff and the authority all.
#[utoipa::path(
    operation_id = "list_refunds",
    tag = "refunds",
    params(RefundQuery),
    responses((status = 200, description = "OK", body = Paged<RefundView>), ListErrors)
)]
#[get("/refunds")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<RefundQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListRefunds {
        status: q.status,
        kind: q.kind,
        class_id: q.class_id,
        enrolment_id: q.enrolment_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Request a personal refund of the training fee (REF-2): by the paying
/// organisation's filler or reviewer, or the individual trainee; only after an
/// approved deferral filed before the class started (`refund_requires_deferral`)
/// and no later than the same calendar date one year after that deferral was
/// filed, in the association's time zone (`refund_too_late`). The amount is
/// the training fee held for the enrolment, never the exam fee
/// (`nothing_to_refund` when none is held, e.g. after a transfer to a later
/// class). A `no_show` gets nothing (`no_show_no_refund`, DEF-4). One open
/// refund per enrolment (409 `refund_in_progress`, REF-4); a paid one no
/// longer counts.
#[utoipa::path(
    operation_id = "create_refund",
    tag = "refunds",
    request_body = CreateRefund,
    responses((status = 201, description = "Filed; waits for the training department", body = RefundView), CreateErrors)
)]
#[post("/refunds")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateRefund>,
) -> ApiResult<HttpResponse> {
    user.require(REQUESTERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .tx(user, req, move |ctx, c| app::request(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/refunds/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// File the refunds of a cancelled class (REF-1): the training department
/// (training officer or head), once the class is `cancelled`
/// (`class_not_cancelled`) and when no planned or open class of the same
/// program starts later in the same calendar year (`later_class_available`,
/// naming it). In one transaction, every enrolment holding money gets a
/// `class_cancelled` refund of everything it holds (training and exam fee),
/// starting at `submitted`; enrolments with an open refund, `no_show`s and
/// those holding nothing are listed as skipped. A refund already paid does not
/// stop it: after a personal refund of the training fee (REF-2), the exam fee
/// still held is refunded here.
#[utoipa::path(
    operation_id = "file_class_refunds",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 201, description = "Filed: the new refunds' ids and the enrolments skipped", body = ClassRefunds), ActionErrors)
)]
#[post("/classes/{id}/refunds")]
pub async fn file_class_refunds(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_REFUND_FILERS)?;
    let class_id = id.into_inner();
    let outcome = state
        .tx(user, req, move |ctx, c| {
            app::file_for_class(ctx, c, class_id)
        })
        .await?;
    Ok(HttpResponse::Created().json(outcome))
}

/// Read one refund (visible to whoever may see its enrolment).
#[utoipa::path(
    operation_id = "get_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    responses((status = 200, description = "OK", body = RefundView), ReadErrors)
)]
#[get("/refunds/{id}")]
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

/// Takes one step of the approval after the role check (403 first).
async fn step(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: RefundAction,
    text: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(action))?;
    let view = state
        .tx(user, req, move |ctx, c| app::step(ctx, c, id, action, text))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

action_endpoint! {
    /// Confirm a submitted refund for the training department (REF-3 step 1:
    /// training officer or training head, also for the refunds it filed itself).
    confirm_training: "/refunds/{id}/confirm-training", "confirm_training_refund", tag "refunds", id "Refund id",
    step(RefundAction::ConfirmTraining) -> RefundView, "Confirmed by the training department"
}

action_endpoint! {
    /// Confirm a refund for finance (REF-3 step 2: finance).
    confirm_finance: "/refunds/{id}/confirm-finance", "confirm_finance_refund", tag "refunds", id "Refund id",
    step(RefundAction::ConfirmFinance) -> RefundView, "Confirmed by finance"
}

action_endpoint! {
    /// Approve a refund (REF-3 step 3: the association's leadership).
    approve: "/refunds/{id}/approve", "approve_refund", tag "refunds", id "Refund id",
    step(RefundAction::Approve) -> RefundView, "Approved by the leadership"
}
/// Pay an approved refund (REF-3 step 4: finance, with the payment
/// reference). In one transaction under the enrolment's row lock: the money
/// held is checked again (409 `refund_exceeds_paid`, REF-4), `refund` ledger
/// entries per fee item (with `charge_reversal`s of what they pay back) are
/// written, the enrolment becomes `cancelled`, and the payer is notified.
#[utoipa::path(
    operation_id = "pay_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    request_body = PayRefund,
    responses((status = 200, description = "Paid; the ledger has the refund", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/pay")]
pub async fn pay(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<PayRefund>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(RefundAction::Pay))?;
    validate(&*body)?;
    let reference = body.into_inner().payment_reference.trim().to_owned();
    if reference.is_empty() {
        return Err(ApiError::field(
            "payment_reference",
            "required",
            "give the payment's bank or voucher reference",
        ));
    }
    step(
        state,
        req,
        user,
        id.into_inner(),
        RefundAction::Pay,
        Some(reference),
    )
    .await
}

/// Reject a refund with a reason (REF-3): by the role whose step is due —
/// the training department while `submitted`, finance while
/// `training_confirmed` or `leader_approved`, the leadership while
/// `finance_confirmed` (403 for anyone else). The payer is notified.
#[utoipa::path(
    operation_id = "reject_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(RefundAction::Reject))?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    step(
        state,
        req,
        user,
        id.into_inner(),
        RefundAction::Reject,
        Some(reason),
    )
    .await
}

/// Registers the refund endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(confirm_training)
        .service(confirm_finance)
        .service(approve)
        .service(pay)
        .service(reject)
        .service(file_class_refunds);
}
