//! Reports of forged or fake certificates (CRT-7): the HTTP side. The use
//! cases, and what a report lists publicly, are in [`guild_app::forgery_reports`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::forgery_reports as app;
use guild_domain::Role;
use guild_domain::certificate_request::{FORGERY_READERS, FORGERY_REPORTERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::forgery_reports::{CreateForgeryReport, ForgeryReportView};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, validate};
use crate::openapi::{CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;

/// Who reads forgery reports: [`FORGERY_READERS`] and the authority (read-only everything, SPEC §1).
fn readers() -> Vec<Role> {
    let mut roles = FORGERY_READERS.to_vec();
    roles.push(Role::Authority);
    roles
}

/// Filters for the report list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ForgeryReportQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only reports about this person.
    pub person_id: Option<Uuid>,
    /// Only reports about this organisation.
    pub organisation_id: Option<Uuid>,
}

/// Report a forged or fake certificate (CRT-7: training officer, training
/// head or admin). Name the person and/or the organisation
/// (`forgery_subject_required`); the case is listed at once in the public
/// misconduct register (`GET /public/misconduct`, offence
/// `certificate_forgery`) with the person's name partly masked and the
/// organisation's name.
#[utoipa::path(
    operation_id = "create_forgery_report",
    tag = "certificate-requests",
    request_body = CreateForgeryReport,
    responses((status = 201, description = "Recorded and listed in the misconduct register", body = ForgeryReportView), CreateErrors)
)]
#[post("/forgery-reports")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateForgeryReport>,
) -> ApiResult<HttpResponse> {
    user.require(FORGERY_REPORTERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    app::check(&body)?;
    let view = state
        .tx(user, req, move |ctx, c| app::report(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/forgery-reports/{}", view.id)))
        .json(view))
}

/// List forgery reports, oldest first (association staff and the authority).
#[utoipa::path(
    operation_id = "list_forgery_reports",
    tag = "certificate-requests",
    params(ForgeryReportQuery),
    responses((status = 200, description = "OK", body = Paged<ForgeryReportView>), ListErrors)
)]
#[get("/forgery-reports")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ForgeryReportQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&readers())?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let (person, organisation) = (q.person_id, q.organisation_id);
    let rows = state
        .read(user, move |_, c| app::list(c, person, organisation, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Read one forgery report (association staff and the authority).
#[utoipa::path(
    operation_id = "get_forgery_report",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Forgery report id")),
    responses((status = 200, description = "OK", body = ForgeryReportView), ReadErrors)
)]
#[get("/forgery-reports/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(&readers())?;
    let id = id.into_inner();
    let view = state.read(user, move |_, c| app::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(get);
}
