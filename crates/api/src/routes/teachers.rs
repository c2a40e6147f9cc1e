//! The association board's terms and part-time teacher appointments
//! (TCH-1, TCH-2).
//!
//! Terms are data (`/teachers/terms`). A teacher account is appointed for one
//! term at most once; the appointment ends with the term (its `status` is
//! computed on every read from today's date in the association's time zone)
//! or by dismissal, which is published as a public notice in the same
//! transaction. Appointments are association data: association staff and the
//! authority read them; the administrator and the training head appoint and
//! dismiss.

use actix_web::{HttpResponse, get, post, web};
use guild_app::teachers as app;
pub use guild_domain::roles::APPOINTERS;
use guild_domain::roles::{TEACHER_READERS, TERM_KEEPERS};
use guild_domain::teacher::AppointmentStatus;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::teachers::{
    AppointmentView, CreateAppointment, CreateTerm, DismissAppointment, TermView,
};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;

/// Registers this module's endpoints under `/api/v1`. The `/teachers/terms`
/// routes come before `/teachers/{id}`, so `terms` is never parsed as an id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_terms)
        .service(create_term)
        .service(list)
        .service(create)
        .service(get)
        .service(dismiss);
}

/// Pagination of the term list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TermQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters for the appointment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppointmentQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only appointments for this term.
    pub term_id: Option<Uuid>,
    /// Only appointments with this status (as of today).
    pub status: Option<AppointmentStatus>,
    /// Only this teacher's appointments.
    pub user_id: Option<Uuid>,
}

/// List the association board's terms.
#[utoipa::path(
    operation_id = "list_terms",
    tag = "teachers",
    params(TermQuery),
    responses((status = 200, description = "OK", body = Paged<TermView>), ListErrors)
)]
#[get("/teachers/terms")]
pub async fn list_terms(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<TermQuery>,
) -> ApiResult<HttpResponse> {
    user.require(TEACHER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .read(user, move |_, c| app::list_terms(c, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Enter a board term (administrator). A term lasts 1 to 5 years, normally 4
/// (TCH-1); names are unique.
#[utoipa::path(
    operation_id = "create_term",
    tag = "teachers",
    request_body = CreateTerm,
    responses((status = 201, description = "Created", body = TermView), CreateErrors)
)]
#[post("/teachers/terms")]
pub async fn create_term(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateTerm>,
) -> ApiResult<HttpResponse> {
    user.require(TERM_KEEPERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::create_term(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// List teacher appointments, filterable by term, status (as of today) and teacher.
#[utoipa::path(
    operation_id = "list_teacher_appointments",
    tag = "teachers",
    params(AppointmentQuery),
    responses((status = 200, description = "OK", body = Paged<AppointmentView>), ListErrors)
)]
#[get("/teachers")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AppointmentQuery>,
) -> ApiResult<HttpResponse> {
    user.require(TEACHER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListAppointments {
        term_id: q.term_id,
        status: q.status,
        user_id: q.user_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Appoint a teacher for a board term (administrator, training head). The
/// account must be an active `teacher`; one appointment per teacher per term
/// (TCH-1, 409 `already_appointed`); the term must not have ended.
#[utoipa::path(
    operation_id = "appoint_teacher",
    tag = "teachers",
    request_body = CreateAppointment,
    responses((status = 201, description = "Appointed", body = AppointmentView), CreateErrors)
)]
#[post("/teachers")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateAppointment>,
) -> ApiResult<HttpResponse> {
    user.require(APPOINTERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::appoint(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/teachers/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one teacher appointment.
#[utoipa::path(
    operation_id = "get_teacher_appointment",
    tag = "teachers",
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "OK", body = AppointmentView), ReadErrors)
)]
#[get("/teachers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(TEACHER_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Dismiss a teacher (administrator, training head; TCH-2). Only a running
/// appointment can be dismissed. The dismissal is published on
/// `GET /public/notices` (kind `teacher_dismissal`) in the same transaction,
/// with the teacher's display name, the term and the reason.
#[utoipa::path(
    operation_id = "dismiss_teacher",
    tag = "teachers",
    params(("id" = Uuid, Path, description = "Appointment id")),
    request_body = DismissAppointment,
    responses((status = 200, description = "Dismissed", body = AppointmentView), ActionErrors)
)]
#[post("/teachers/{id}/dismiss")]
pub async fn dismiss(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DismissAppointment>,
) -> ApiResult<HttpResponse> {
    user.require(APPOINTERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "length", "give a reason"));
    }
    let view = state
        .tx(user, ctx, move |ctx, c| app::dismiss(ctx, c, id, reason))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}
