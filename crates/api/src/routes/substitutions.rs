//! Substitutions of the enrolled person (DEF-3): the HTTP side. The use
//! cases, and the choices made where the SPEC is silent, are in
//! [`guild_app::substitutions`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::substitutions::{self as app, ListSubstitutions};
use guild_domain::deferral::{
    SUBSTITUTION_DECIDERS, SUBSTITUTION_FILERS, SubstitutionAction, SubstitutionStatus,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::substitutions::{CreateSubstitution, SubstitutionView};

use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the substitution list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubstitutionQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<SubstitutionStatus>,
    /// Only substitutions of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}

/// List substitutions, oldest first: organisations see their own (ACC-2),
/// trainees those naming them, association staff and the authority all.
#[utoipa::path(
    operation_id = "list_substitutions",
    tag = "substitutions",
    params(SubstitutionQuery),
    responses((status = 200, description = "OK", body = Paged<SubstitutionView>), ListErrors)
)]
#[get("/substitutions")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SubstitutionQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListSubstitutions {
        status: q.status,
        class_id: q.class_id,
        enrolment_id: q.enrolment_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// File a substitution (DEF-3): the organisation puts another of its people
/// on an enrolment, no later than the day before the class starts in the
/// association's time zone (`substitution_too_late`). By the enrolment's
/// organisation (filler or reviewer). The new person must belong to the same
/// organisation (404 otherwise), not be banned (ENR-4) and not be enrolled in
/// the class already (409, ENR-5).
#[utoipa::path(
    operation_id = "create_substitution",
    tag = "substitutions",
    request_body = CreateSubstitution,
    responses((status = 201, description = "Filed; waits for the association", body = SubstitutionView), CreateErrors)
)]
#[post("/substitutions")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateSubstitution>,
) -> ApiResult<HttpResponse> {
    user.require(SUBSTITUTION_FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .tx(user, req, move |ctx, c| app::file(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/substitutions/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one substitution.
#[utoipa::path(
    operation_id = "get_substitution",
    tag = "substitutions",
    params(("id" = Uuid, Path, description = "Substitution id")),
    responses((status = 200, description = "OK", body = SubstitutionView), ReadErrors)
)]
#[get("/substitutions/{id}")]
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

/// Decides a substitution after the role check (403 first).
async fn decide(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: SubstitutionAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(SUBSTITUTION_DECIDERS)?;
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
    /// Approve a substitution (DEF-3; training staff): the enrolment moves to
    /// the new person, who is checked again (ENR-4, ENR-5); the payment stays with
    /// the enrolment.
    approve: "/substitutions/{id}/approve", "approve_substitution", tag "substitutions", id "Substitution id",
    decide(SubstitutionAction::Approve) -> SubstitutionView, "Approved; the enrolment names the new person"
}

/// Reject a substitution with a reason (DEF-3; training staff).
#[utoipa::path(
    operation_id = "reject_substitution",
    tag = "substitutions",
    params(("id" = Uuid, Path, description = "Substitution id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = SubstitutionView), ActionErrors)
)]
#[post("/substitutions/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(SUBSTITUTION_DECIDERS)?;
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
        SubstitutionAction::Reject,
        Some(reason),
    )
    .await
}

/// Registers the substitution endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(approve)
        .service(reject);
}
