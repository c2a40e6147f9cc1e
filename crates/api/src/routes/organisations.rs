//! Member organisations and their registration approval (PPL-4): the HTTP
//! side. The use cases are in [`guild_app::organisations`].

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::organisations as app;
use guild_domain::organisation::{OrgAction, OrgKind, OrgStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub use guild_app::inputs::Reason;
pub use guild_app::organisations::{
    CreateOrganisation, ORG_MANAGERS, OrganisationView, UpdateOrganisation,
};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// Filters for the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganisationQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this kind.
    pub kind: Option<OrgKind>,
    /// Only this status.
    pub status: Option<OrgStatus>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// List organisations. Organisation users see only their own (ACC-2).
#[utoipa::path(
    operation_id = "list_organisations",
    tag = "organisations", params(OrganisationQuery), responses((status = 200,
            description = "OK", body = Paged<OrganisationView>), ListErrors))]
#[get("/organisations")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<OrganisationQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListOrganisations {
        kind: q.kind,
        status: q.status,
        name: q.name,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Register an organisation; it stays `pending` until approved (PPL-4).
#[utoipa::path(
    operation_id = "create_organisation",
    tag = "organisations",
    request_body = CreateOrganisation,
    responses((status = 201, description = "Registered, pending approval", body = OrganisationView), CreateErrors)
)]
#[post("/organisations")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateOrganisation>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::create(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organisations/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one organisation.
#[utoipa::path(
    operation_id = "get_organisation",
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 200,
            description = "OK", body = OrganisationView), ReadErrors)
)]
#[get("/organisations/{id}")]
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

/// Change an organisation's details (association staff). Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_organisation",
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateOrganisation,
    responses((status = 200,
            description = "OK", body = OrganisationView), UpdateErrors)
)]
#[patch("/organisations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateOrganisation>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::update(ctx, c, id, if_match.0, body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// The one handler of the registration actions (PPL-4).
async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: OrgAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::transition(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a pending registration (PPL-4); its accounts can then be created.
#[utoipa::path(
    operation_id = "approve_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), OrgAction::Approve, None).await
}

/// Reject a pending registration with a reason (PPL-4).
#[utoipa::path(
    operation_id = "reject_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), request_body = Reason, responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        OrgAction::Reject,
        Some(body.into_inner().reason),
    )
    .await
}

/// Suspend an approved organisation with a reason: no new accounts can be attached.
#[utoipa::path(
    operation_id = "suspend_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), request_body = Reason, responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/suspend")]
pub async fn suspend(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        OrgAction::Suspend,
        Some(body.into_inner().reason),
    )
    .await
}

/// Lift a suspension.
#[utoipa::path(
    operation_id = "reinstate_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        OrgAction::Reinstate,
        None,
    )
    .await
}
