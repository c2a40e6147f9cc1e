//! Exam discipline (DSC-1 to DSC-5) and the public misconduct register
//! (不良行为专栏, DSC-3; later also certificate forgery, CRT-7): the HTTP side.
//! The use cases, and the rules they follow, are in [`guild_app::sanctions`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::sanctions::{self as app, ListMisconduct, ListSanctions};
use guild_domain::discipline::{Offence, RegisterEntryStatus, RegisterOffence, SanctionStatus};
use guild_domain::roles::{INVIGILATORS, SANCTION_WITHDRAWERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::sanctions::{
    MisconductEntryView, RecordIncident, RegisterSubject, SanctionBan, SanctionView, kinds,
};

use crate::auth::{AuthUser, CLASS_RECORD_READERS};
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, PublicErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the sanction list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SanctionQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only sanctions of this sitting.
    pub sitting_id: Option<Uuid>,
    /// Only this person's sanctions.
    pub person_id: Option<Uuid>,
    /// Only sanctions with this status.
    pub status: Option<SanctionStatus>,
    /// Only sanctions for this offence.
    pub offence: Option<Offence>,
}

/// Record an exam incident (training staff, or the class head or a teacher of
/// the sitting's class as invigilator; DSC-1 to DSC-5). The rules decide the
/// sanction: a first cheating offence in the sitting is a warning, the second
/// disqualifies with score zero (DSC-1); impersonation disqualifies with score
/// zero and bans from the program for one year (DSC-2); serious misconduct
/// disqualifies, notifies the employer's accounts, lists the case publicly and
/// bans from everything for three years (DSC-3). Bans start the day the
/// incident is recorded and end the day before the anniversary.
#[utoipa::path(
    operation_id = "record_sitting_incident",
    tag = "sanctions",
    params(("id" = Uuid, Path, description = "Sitting id")),
    request_body = RecordIncident,
    responses((status = 201, description = "The sanction decided", body = SanctionView), CreateErrors)
)]
#[post("/sittings/{id}/incidents")]
pub async fn record_incident(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RecordIncident>,
) -> ApiResult<HttpResponse> {
    user.require(INVIGILATORS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let sitting = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| {
            app::record_incident(ctx, c, sitting, body)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/sanctions/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List sanctions, oldest first: association staff and the authority see all;
/// organisation accounts those of the people their organisation sent; trainees
/// their own; teachers those they recorded.
#[utoipa::path(
    operation_id = "list_sanctions",
    tag = "sanctions",
    params(SanctionQuery),
    responses((status = 200, description = "OK", body = Paged<SanctionView>), ListErrors)
)]
#[get("/sanctions")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SanctionQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListSanctions {
        sitting_id: q.sitting_id,
        person_id: q.person_id,
        status: q.status,
        offence: q.offence,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Read one sanction (as for the list; another organisation's answers 404).
#[utoipa::path(
    operation_id = "get_sanction",
    tag = "sanctions",
    params(("id" = Uuid, Path, description = "Sanction id")),
    responses((status = 200, description = "OK", body = SanctionView), ReadErrors)
)]
#[get("/sanctions/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Withdraw a sanction with a reason (training head only, DSC-5). Its ban is
/// withdrawn; the disqualification is lifted back to `registered`, with the
/// scores cleared to be entered again, unless another active sanction still
/// disqualifies; a listed case stays on the public register marked withdrawn
/// with the reason, and a public notice announces it. A warning counted by a
/// later active disqualification cannot be withdrawn before it (409, DSC-1).
#[utoipa::path(
    operation_id = "withdraw_sanction",
    tag = "sanctions",
    params(("id" = Uuid, Path, description = "Sanction id")),
    request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = SanctionView), ActionErrors)
)]
#[post("/sanctions/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(SANCTION_WITHDRAWERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::withdraw(ctx, c, id, reason))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Filters for the public misconduct register.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MisconductQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only entries with this status.
    pub status: Option<RegisterEntryStatus>,
    /// Only entries for this offence.
    pub offence: Option<RegisterOffence>,
}

/// The public misconduct register (不良行为专栏, DSC-3, DSC-5), newest first,
/// no token needed: the person's name partly masked, the organisation, the
/// offence, the sanction and its dates, and a withdrawal with its reason.
#[utoipa::path(
    operation_id = "list_public_misconduct",
    tag = "public",
    security(()),
    params(MisconductQuery),
    responses((status = 200, description = "OK (newest first)", body = Paged<MisconductEntryView>), PublicErrors)
)]
#[get("/public/misconduct")]
pub async fn list_public(
    state: web::Data<AppState>,
    q: web::Query<MisconductQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListMisconduct {
        status: q.status,
        offence: q.offence,
    };
    let rows = state
        .public(move |c| app::list_public(c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_incident)
        .service(list)
        .service(get)
        .service(withdraw)
        .service(list_public);
}
