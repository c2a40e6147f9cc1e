//! The fee ledger of an enrolment (ENR-3): the HTTP side. The use cases are
//! in [`guild_app::enrolments::ledger`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::enrolments::ledger as app;
use guild_domain::roles::PAYMENT_RECORDERS;
use uuid::Uuid;

pub use guild_app::enrolments::ledger::{LedgerEntryView, LedgerView, RecordPayment};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{RequestContext, validate};
use crate::openapi::{ActionErrors, ReadErrors};
use crate::state::AppState;

/// The fee ledger of an enrolment: every entry and the balance derived from
/// them (ENR-3). Visible to whoever may see the enrolment.
#[utoipa::path(
    operation_id = "get_enrolment_ledger",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "OK", body = LedgerView), ReadErrors)
)]
#[get("/enrolments/{id}/ledger")]
pub async fn get_ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record a payment received for a confirmed enrolment, or for a later charge
/// (retake exam fee, card fee) of a paid one (finance, ENR-3). The receipt or
/// voucher number is required; overpayment is refused. When the fee of a
/// confirmed enrolment is fully paid it becomes `paid` and the trainee may take part.
#[utoipa::path(
    operation_id = "record_enrolment_payment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    request_body = RecordPayment,
    responses((status = 201, description = "Recorded; the ledger after the payment", body = LedgerView), ActionErrors)
)]
#[post("/enrolments/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RecordPayment>,
) -> ApiResult<HttpResponse> {
    user.require(PAYMENT_RECORDERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reference.trim().is_empty() {
        return Err(ApiError::field(
            "reference",
            "required",
            "the receipt or voucher number is required",
        ));
    }
    let id = id.into_inner();
    let ledger = state
        .tx(user, req, move |ctx, c| app::pay(ctx, c, id, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/enrolments/{}/ledger", ledger.enrolment_id),
        ))
        .json(ledger))
}
