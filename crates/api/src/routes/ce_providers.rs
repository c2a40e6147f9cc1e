//! Continuing-education providers (继续教育基地, CED-4, seed 004 ch. 3): the
//! HTTP side. The use cases are in [`guild_app::ce::providers`].
//!
//! - `POST /ce/providers`: an organisation applies, through one of its
//!   `provider` accounts or its `org_reviewer` (seed 004 art. 9: colleges,
//!   training bodies, companies and associations may all apply), with
//!   evidence of each of the five conditions of art. 9; an application
//!   lacking any is refused naming the missing ones (422
//!   `provider_condition_missing`, CED-4). The organisation must be approved
//!   (PPL-4) and may hold one live (applied, accredited or suspended)
//!   provider at a time (409 `provider_exists`).
//! - The authority alone decides: `accredit`, `reject`, `suspend`,
//!   `reinstate`, `withdraw` (a reason for reject, suspend and withdraw). The
//!   association's administrator does not: accreditation is the HR
//!   authority's power (seed 004 art. 6).
//! - `PATCH /ce/providers/{id}`: the provider keeps its published scope,
//!   content, fee items and standards current (seed 004 art. 10), with
//!   `If-Match`.
//! - `GET /public/providers`: accredited providers only, with what art. 10
//!   makes public. The evidence of the conditions is not published.
//!
//! Every change is audited against the provider's organisation (API-6).

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::ce::providers::{self as app, ListProviders};
use guild_domain::ce::{ProviderAction, ProviderStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::ce::providers::{
    ConditionEvidence, CreateProvider, ProviderFeeItem, ProviderView, PublicProviderView,
    UpdateProvider,
};
pub use guild_app::ce::{PROVIDER_APPLICANTS, PROVIDER_DECIDERS, PROVIDER_READERS};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{
    ActionErrors, CreateErrors, ListErrors, PublicErrors, ReadErrors, UpdateErrors,
};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the provider list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProviderQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ProviderStatus>,
    /// Only this region.
    pub region: Option<String>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Filters for the public provider list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicProviderQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Name contains this text.
    pub name: Option<String>,
}

fn provider_response(status: actix_web::http::StatusCode, view: &ProviderView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(view.version))
        .json(view)
}

/// Apply to become a provider (CED-4). The caller's organisation applies,
/// with evidence of each of the five conditions of seed 004 art. 9; it waits
/// as `applied` for the authority.
#[utoipa::path(
    operation_id = "create_ce_provider",
    tag = "ce",
    request_body = CreateProvider,
    responses((status = 201, description = "Applied, awaiting the authority", body = ProviderView), CreateErrors)
)]
#[post("/ce/providers")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateProvider>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_APPLICANTS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::create(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/ce/providers/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List providers: association staff and the authority see all, organisation
/// and provider accounts their own organisation's (ACC-2).
#[utoipa::path(
    operation_id = "list_ce_providers",
    tag = "ce",
    params(ProviderQuery),
    responses((status = 200, description = "OK (in application order)", body = Paged<ProviderView>), ListErrors)
)]
#[get("/ce/providers")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ProviderQuery>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListProviders {
        status: q.status,
        region: q.region,
        name: q.name,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Read one provider.
#[utoipa::path(
    operation_id = "get_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    responses((status = 200, description = "OK", body = ProviderView), ReadErrors)
)]
#[get("/ce/providers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(provider_response(actix_web::http::StatusCode::OK, &view))
}

/// Update a provider's published information (seed 004 art. 10): its own
/// provider accounts or reviewer, while the application or accreditation is
/// live. Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateProvider,
    responses((status = 200, description = "OK", body = ProviderView), UpdateErrors)
)]
#[patch("/ce/providers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateProvider>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::update(ctx, c, id, if_match.0, body)
        })
        .await?;
    Ok(provider_response(actix_web::http::StatusCode::OK, &view))
}

/// Applies the authority's decision (CED-4): the one helper of the action
/// endpoints.
async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ProviderAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_DECIDERS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::decide(ctx, c, id, action, reason)
        })
        .await?;
    Ok(provider_response(actix_web::http::StatusCode::OK, &view))
}

/// Accredit an application (authority, CED-4): the provider is published and may record credits.
#[utoipa::path(
    operation_id = "accredit_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    responses((status = 200, description = "Accredited", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/accredit")]
pub async fn accredit(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Accredit,
        None,
    )
    .await
}

/// Reject an application with a reason (authority, CED-4).
#[utoipa::path(
    operation_id = "reject_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Reject,
        reason,
    )
    .await
}

/// Suspend an accredited provider with a reason (authority, CED-4): it leaves
/// the public list and cannot record credits until reinstated.
#[utoipa::path(
    operation_id = "suspend_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    request_body = Reason,
    responses((status = 200, description = "Suspended", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/suspend")]
pub async fn suspend(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Suspend,
        reason,
    )
    .await
}

/// Lift a suspension (authority, CED-4).
#[utoipa::path(
    operation_id = "reinstate_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    responses((status = 200, description = "Accredited again", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Reinstate,
        None,
    )
    .await
}

/// Withdraw an accreditation for good, with a reason (authority, CED-4, seed
/// 004 art. 12 and 34). The organisation may apply again later.
#[utoipa::path(
    operation_id = "withdraw_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Withdraw,
        reason,
    )
    .await
}

/// The accredited providers with their published scope, content, fee items
/// and standards (CED-4, seed 004 art. 10). No login needed.
#[utoipa::path(
    operation_id = "list_public_providers",
    tag = "public",
    security(()),
    params(PublicProviderQuery),
    responses((status = 200, description = "OK (in application order)", body = Paged<PublicProviderView>), PublicErrors)
)]
#[get("/public/providers")]
pub async fn list_public(
    state: web::Data<AppState>,
    q: web::Query<PublicProviderQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListProviders {
        status: None,
        region: q.region,
        name: q.name,
    };
    let rows = state
        .public(move |c| app::list_public(c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(accredit)
        .service(reject)
        .service(suspend)
        .service(reinstate)
        .service(withdraw)
        .service(list_public);
}
