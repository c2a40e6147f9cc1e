//! Reissue, change and cancellation of certificates (CRT-5, CRT-6).
//!
//! - `POST /certificate-requests`: the reviewer of the certificate's
//!   organisation or the holder (a trainee account of its person) files a
//!   `reissue` (补办), `change` (变更: holder name and/or employer) or
//!   `cancellation` (注销), optionally with a physical card (card fee). The
//!   certificate must be active: not superseded or revoked, and not lapsed
//!   unless it is being cancelled. One open request per certificate (409
//!   `request_open`, also a partial unique index).
//! - `POST /certificate-requests/{id}/approve` (training officer or head), in
//!   one transaction under the certificate's row lock: a reissue or change
//!   issues a new certificate (new number and verification code, the old
//!   validity period and renewals, the new name or employer) and the old one
//!   becomes `superseded` with a link to it; a cancellation makes the old one
//!   `revoked`. Both take effect at once: verification of the old code answers
//!   `superseded` / `revoked` from that moment. A physical card charges the
//!   card fee to the certificate's enrolment ledger. A change or cancellation
//!   is published as a public notice (CRT-6); a reissue is not (the seed
//!   publishes changes and cancellations, and the old code already answers
//!   `superseded` to anyone who checks it).
//! - `reject` (training department, with a reason) and `withdraw` (the filer,
//!   or a reviewer of the request's organisation) close a request with
//!   nothing charged. A wrong state answers 409 with the allowed actions.
//!
//! The filer, the organisation's fillers and reviewers and the holder's
//! accounts are notified of a decision. Every change is audited.

use actix_web::{HttpResponse, get, post, web};
use guild_app::certificate_requests as app;
use guild_domain::Fen;
use guild_domain::certificate::{CertificateRequestKind, CertificateRequestStatus};
use guild_domain::certificate_request::{CertificateRequestAction, DECIDERS, FILERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::certificate_requests::{
    CertificateRequestView, CreateCertificateRequest, RequestSettings, kinds,
};

use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// The request settings of the configuration.
fn settings(state: &AppState) -> RequestSettings {
    RequestSettings {
        grace_days: state.config.ce_grace_days,
        card_fee: Fen::from_stored(state.config.card_fee_fen),
    }
}

/// Filters for the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequestQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<CertificateRequestStatus>,
    /// Only this kind.
    pub kind: Option<CertificateRequestKind>,
    /// Only requests about this certificate.
    pub certificate_id: Option<Uuid>,
}

/// List certificate requests, oldest first: organisation accounts see their
/// organisation's (ACC-2), trainees their own certificates', association
/// staff and the authority all.
#[utoipa::path(
    operation_id = "list_certificate_requests",
    tag = "certificate-requests",
    params(CertificateRequestQuery),
    responses((status = 200, description = "OK", body = Paged<CertificateRequestView>), ListErrors)
)]
#[get("/certificate-requests")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CertificateRequestQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::RequestListFilter {
        status: q.status,
        kind: q.kind,
        certificate_id: q.certificate_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// File a request to reissue (补办), change (变更) or cancel (注销) a
/// certificate (CRT-5): by the reviewer of the certificate's organisation or
/// by the holder (404 for another organisation's certificate, ACC-2; the
/// organisation's filler may not file, 403). The certificate must be active:
/// not superseded or revoked (`certificate_not_active`), and not lapsed
/// unless it is cancelled (`certificate_lapsed`). A change names a new
/// holder name and/or a new employer (an approved organisation) that differ
/// from the certificate's; a reissue or cancellation names neither. A
/// physical card (reissue or change) costs the card fee, charged to the
/// certificate's enrolment ledger only when the request is approved. One
/// open request per certificate (409 `request_open`).
#[utoipa::path(
    operation_id = "create_certificate_request",
    tag = "certificate-requests",
    request_body = CreateCertificateRequest,
    responses((status = 201, description = "Filed; waits for the training department", body = CertificateRequestView), CreateErrors)
)]
#[post("/certificate-requests")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateCertificateRequest>,
) -> ApiResult<HttpResponse> {
    user.require(FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let settings = settings(&state);
    let view = state
        .tx(user, req, move |ctx, c| app::file(ctx, c, body, settings))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/certificate-requests/{}", view.id),
        ))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one certificate request (its organisation's accounts, the holder,
/// association staff and the authority; 404 for others, ACC-2).
#[utoipa::path(
    operation_id = "get_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    responses((status = 200, description = "OK", body = CertificateRequestView), ReadErrors)
)]
#[get("/certificate-requests/{id}")]
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

/// Approve a submitted request (CRT-5, CRT-6: training officer or head). In
/// one transaction under the certificate's row lock: a reissue or change
/// issues a new certificate (new number and verification code, today's issue
/// date, the old validity period, expiry and renewals, the new holder name or
/// employer) and the old one becomes `superseded` at once, pointing to it; a
/// cancellation makes the old one `revoked` at once. The certificate must
/// still allow it (`certificate_lapsed` when it lapsed meanwhile) and a new
/// employer must still be approved. A physical card charges the card fee to
/// the enrolment ledger (`card_fee` charge). Changes and cancellations are
/// published on `GET /public/notices` with the certificate number and the
/// holder's name partly masked. The filer and holder are notified.
#[utoipa::path(
    operation_id = "approve_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    responses((status = 200, description = "Approved; `new_certificate_id` names the new certificate of a reissue or change", body = CertificateRequestView), ActionErrors)
)]
#[post("/certificate-requests/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(DECIDERS)?;
    let id = id.into_inner();
    let settings = settings(&state);
    let view = state
        .tx(user, req, move |ctx, c| app::approve(ctx, c, id, settings))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Reject a submitted request with a reason (CRT-5: training officer or
/// head). Nothing is charged; the filer and holder are notified.
#[utoipa::path(
    operation_id = "reject_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = CertificateRequestView), ActionErrors)
)]
#[post("/certificate-requests/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(DECIDERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    close(
        state,
        req,
        user,
        id.into_inner(),
        CertificateRequestAction::Reject,
        Some(reason),
    )
    .await
}

/// Withdraw a submitted request (CRT-5): by whoever filed it, or by a
/// reviewer of the request's organisation (the organisation answers for its
/// requests); 403 for other accounts that can see it. Nothing is charged.
#[utoipa::path(
    operation_id = "withdraw_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    responses((status = 200, description = "Withdrawn", body = CertificateRequestView), ActionErrors)
)]
#[post("/certificate-requests/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(FILERS)?;
    close(
        state,
        req,
        user,
        id.into_inner(),
        CertificateRequestAction::Withdraw,
        None,
    )
    .await
}

async fn close(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: CertificateRequestAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let view = state
        .tx(user, req, move |ctx, c| {
            app::close(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(approve)
        .service(reject)
        .service(withdraw);
}
