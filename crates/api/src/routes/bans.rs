//! Bans from training and exams (DSC-4, DSC-5): the HTTP side. The use cases
//! are in [`guild_app::bans`]. Organisation accounts, teachers, trainees and
//! providers get 403: an enrolment refused by a ban already names the ban and
//! its end date (ENR-4).

use actix_web::{HttpResponse, get, post, web};
use guild_app::bans as app;
use guild_domain::roles::BAN_WITHDRAWERS;
use guild_domain::roles::{BAN_READERS, BAN_WRITERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::bans::{BanView, CreateBan};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the ban list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BanQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this person's bans.
    pub person_id: Option<Uuid>,
    /// `true`: only bans in force today; `false`: only those that are not.
    pub active: Option<bool>,
}

/// List bans (association staff), oldest first.
#[utoipa::path(
    operation_id = "list_bans",
    tag = "bans",
    params(BanQuery),
    responses((status = 200, description = "OK", body = Paged<BanView>), ListErrors)
)]
#[get("/bans")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<BanQuery>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .read(user, move |ctx, c| {
            app::list(ctx, c, q.person_id, q.active, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Impose a ban (admin, training head; DSC-4): scope, start and end. While it
/// is in force the person cannot be enrolled in its scope (ENR-4).
#[utoipa::path(
    operation_id = "create_ban",
    tag = "bans",
    request_body = CreateBan,
    responses((status = 201, description = "Created", body = BanView), CreateErrors)
)]
#[post("/bans")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateBan>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_WRITERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::create(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/bans/{}", view.id)))
        .json(view))
}

/// Read one ban (association staff).
#[utoipa::path(
    operation_id = "get_ban",
    tag = "bans",
    params(("id" = Uuid, Path, description = "Ban id")),
    responses((status = 200, description = "OK", body = BanView), ReadErrors)
)]
#[get("/bans/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Withdraw a ban with a reason (training head only, DSC-5); the person can be
/// enrolled again at once.
#[utoipa::path(
    operation_id = "withdraw_ban",
    tag = "bans",
    params(("id" = Uuid, Path, description = "Ban id")),
    request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = BanView), ActionErrors)
)]
#[post("/bans/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_WITHDRAWERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::withdraw(ctx, c, id, reason))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(withdraw);
}
