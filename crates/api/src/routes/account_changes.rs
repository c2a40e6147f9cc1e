//! Organisation account change requests (ACC-3, ACC-4): the HTTP side. The
//! use cases are in [`guild_app::account_changes`]; the new account's
//! password is checked and hashed here before the use case runs (ACC-5).

use actix_web::{HttpResponse, get, post, web};
use guild_app::account_changes as app;
use guild_domain::account::{validate_password, validate_username};
use guild_domain::organisation::{
    AccountChangeAction, AccountChangeStatus, check_org_account_role,
};
use guild_domain::roles::CHANGE_FILERS;
use guild_domain::roles::CHANGE_READERS;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub use guild_app::account_changes::{AccountChangeView, CreateAccountChange};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;
use guild_app::organisations::ORG_MANAGERS;

/// Filters for the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountChangeQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this organisation's requests.
    pub organisation_id: Option<Uuid>,
    /// Only requests in this status.
    pub status: Option<AccountChangeStatus>,
}

/// File a request to add or replace a filler or reviewer account (ACC-4).
#[utoipa::path(
    operation_id = "create_account_change",
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id")),
    request_body = CreateAccountChange,
    responses((status = 201, description = "Submitted", body = AccountChangeView), CreateErrors)
)]
#[post("/organisations/{id}/account-changes")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CreateAccountChange>,
) -> ApiResult<HttpResponse> {
    user.require(CHANGE_FILERS)?;
    let org_id = id.into_inner();
    let caller = user.clone();
    // Resolve visibility first so another organisation's id answers 404, not 422 (ACC-2).
    state
        .read(caller, move |ctx, c| {
            app::check_organisation(ctx, c, org_id)
        })
        .await?;
    validate(&*body)?;
    let body = body.into_inner();
    check_org_account_role(body.role)?;
    let username = validate_username(&body.username)?;
    validate_password(&body.password, &username)?;
    let password = body.password.clone();
    let hash = state.run(move |s| s.passwords.hash(&password)).await?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::create(ctx, c, org_id, body, username, hash)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/account-changes/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List account change requests: all for association staff, the own organisation's for its users.
#[utoipa::path(
    operation_id = "list_account_changes",
    tag = "organisations", params(AccountChangeQuery), responses((status = 200,
            description = "OK", body = Paged<AccountChangeView>), ListErrors))]
#[get("/account-changes")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AccountChangeQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CHANGE_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListAccountChanges {
        organisation_id: q.organisation_id,
        status: q.status,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Read one account change request.
#[utoipa::path(
    operation_id = "get_account_change",
    tag = "organisations", params(("id" = Uuid, Path, description = "Request id")), responses((status = 200,
            description = "OK", body = AccountChangeView), ReadErrors))]
#[get("/account-changes/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CHANGE_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// The one handler of the decisions on a request (approve, reject).
async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: AccountChangeAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::decide(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a request (ACC-4): the new account becomes active and the replaced one is disabled.
#[utoipa::path(
    operation_id = "approve_account_change",
    tag = "organisations", params(("id" = Uuid, Path, description = "Request id")), responses((status = 200,
            description = "OK", body = AccountChangeView), ActionErrors))]
#[post("/account-changes/{id}/approve")]
pub async fn approve(
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
        AccountChangeAction::Approve,
        None,
    )
    .await
}

/// Reject a request with a reason (ACC-4).
#[utoipa::path(
    operation_id = "reject_account_change",
    tag = "organisations", params(("id" = Uuid, Path, description = "Request id")), request_body = Reason, responses((status = 200,
            description = "OK", body = AccountChangeView), ActionErrors))]
#[post("/account-changes/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        AccountChangeAction::Reject,
        Some(body.into_inner().reason),
    )
    .await
}
