//! Training programs (PRG-1): fees in integer fen, exam components, the
//! certificate they lead to and its validity; `active` ⇄ `retired`: the HTTP
//! side. The use cases are in [`guild_app::programs`].
//!
//! Programs are association data: every authenticated role may read them
//! (organisation users pick programs when they enrol people); training staff
//! define and change them.

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::programs as app;
use guild_domain::program::{ProgramAction, ProgramStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::programs::{
    CreateProgram, ExamInput, PROGRAM_MANAGERS, PracticalInput, ProgramView, TheoryInput,
    UpdateProgram,
};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// Filters for the program list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProgramQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ProgramStatus>,
    /// Only skill-level (`true`) or other (`false`) programs.
    pub skill_level: Option<bool>,
    /// Name contains this text (case-insensitive).
    pub name: Option<String>,
}

/// List programs (every authenticated role), oldest first.
#[utoipa::path(
    operation_id = "list_programs",
    tag = "programs",
    params(ProgramQuery),
    responses((status = 200, description = "OK", body = Paged<ProgramView>), ListErrors)
)]
#[get("/programs")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ProgramQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListPrograms {
        status: q.status,
        skill_level: q.skill_level,
        name: q.name,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Define a program (PRG-1).
///
/// Every invalid field is reported at once; the certificate validity defaults
/// to 3 years.
#[utoipa::path(
    operation_id = "create_program",
    tag = "programs",
    request_body = CreateProgram,
    responses((status = 201, description = "Created", body = ProgramView), CreateErrors)
)]
#[post("/programs")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateProgram>,
) -> ApiResult<HttpResponse> {
    user.require(PROGRAM_MANAGERS)?;
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::create(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/programs/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one program (every authenticated role).
#[utoipa::path(
    operation_id = "get_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "OK", body = ProgramView), ReadErrors)
)]
#[get("/programs/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change a program (training staff).
///
/// Honours `If-Match` (API-5). The whole result is validated again and every invalid field reported at once (PRG-1).
/// Fee changes apply to enrolments confirmed afterwards: an enrolment's charges
/// are taken from the program when it is confirmed and are not recalculated.
#[utoipa::path(
    operation_id = "update_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateProgram,
    responses((status = 200, description = "OK", body = ProgramView), UpdateErrors)
)]
#[patch("/programs/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateProgram>,
) -> ApiResult<HttpResponse> {
    user.require(PROGRAM_MANAGERS)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::update(ctx, c, id, if_match.0, body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Runs a program action (training staff; PRG-1).
async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ProgramAction,
) -> ApiResult<HttpResponse> {
    user.require(PROGRAM_MANAGERS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| app::transition(ctx, c, id, action))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Retire an active program (PRG-1).
///
/// It stays readable, but new classes and plan items cannot use it. Existing classes and certificates are unaffected.
#[utoipa::path(
    operation_id = "retire_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "Retired", body = ProgramView), ActionErrors)
)]
#[post("/programs/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ProgramAction::Retire).await
}

/// Offer a retired program again (PRG-1).
#[utoipa::path(
    operation_id = "reinstate_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "Active again", body = ProgramView), ActionErrors)
)]
#[post("/programs/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ProgramAction::Reinstate).await
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(retire)
        .service(reinstate);
}
