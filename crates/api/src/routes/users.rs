//! Accounts, managed by the administrator (SPEC §1): the HTTP side. The use
//! cases are in [`guild_app::users`]; passwords are checked and hashed here,
//! on the bounded hashing capacity (ACC-5), before the use case runs.

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::users as app;
use guild_domain::Role;
use guild_domain::account::{UserAction, UserStatus, validate_password, validate_username};
use guild_domain::roles::USER_ADMINS;
use guild_domain::roles::USER_READERS;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub use guild_app::users::{CreateUser, ResetPassword, UpdateUser, UserView};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// Filters for the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts of this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Only accounts in this status.
    pub status: Option<UserStatus>,
}

/// List accounts: all for the administrator, the own organisation's for organisation users.
#[utoipa::path(
    operation_id = "list_users",
    tag = "users", params(UserQuery), responses((status = 200,
            description = "OK", body = Paged<UserView>), ListErrors))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<UserQuery>,
) -> ApiResult<HttpResponse> {
    user.require(USER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListUsers {
        organisation_id: q.organisation_id,
        role: q.role,
        status: q.status,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Create an account (administrator).
#[utoipa::path(
    operation_id = "create_user",
    tag = "users",
    request_body = CreateUser,
    responses((status = 201, description = "Created", body = UserView), CreateErrors)
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    user.require(USER_ADMINS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let username = validate_username(&body.username)?;
    validate_password(&body.password, &username)?;
    let password = body.password.clone();
    let hash = state.run(move |s| s.passwords.hash(&password)).await?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::create(ctx, c, body, username, hash)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one account.
#[utoipa::path(
    operation_id = "get_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "OK", body = UserView), ReadErrors)
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(USER_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change an account's display name (administrator). Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateUser,
    responses((status = 200,
            description = "OK", body = UserView), UpdateErrors)
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateUser>,
) -> ApiResult<HttpResponse> {
    user.require(USER_ADMINS)?;
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

/// The one handler of the account actions (disable, enable).
async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: UserAction,
) -> ApiResult<HttpResponse> {
    user.require(USER_ADMINS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| app::transition(ctx, c, id, action))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Disable an account: it can no longer log in and its sessions end at once.
#[utoipa::path(
    operation_id = "disable_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "OK", body = UserView), ActionErrors)
)]
#[post("/users/{id}/disable")]
pub async fn disable(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), UserAction::Disable).await
}

/// Unlock an account's logins (ACC-5): forgets every counted login and
/// password-change attempt of the account, from every address, so the login
/// throttle no longer holds it back (for example after strangers guessed its
/// password from many addresses). The account's status and sessions are
/// unchanged; limits on the guessing addresses themselves still apply.
#[utoipa::path(
    operation_id = "unlock_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "Unlocked", body = UserView), ActionErrors)
)]
#[post("/users/{id}/unlock")]
pub async fn unlock(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(USER_ADMINS)?;
    let id = id.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::unlock(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Enable a disabled account.
#[utoipa::path(
    operation_id = "enable_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "OK", body = UserView), ActionErrors)
)]
#[post("/users/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), UserAction::Enable).await
}

/// Set a new password for an account (administrator); its sessions end.
#[utoipa::path(
    operation_id = "reset_user_password",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = ResetPassword,
    responses((status = 204, description = "Password set"), ActionErrors)
)]
#[post("/users/{id}/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ResetPassword>,
) -> ApiResult<HttpResponse> {
    user.require(USER_ADMINS)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let reader = user.clone();
    let target = state
        .read(reader, move |ctx, c| app::get(ctx, c, id))
        .await?;
    validate_password(&body.new_password, &target.username).map_err(|mut e| {
        e.field = "new_password".to_owned();
        ApiError::from(e)
    })?;
    let hash = state
        .run(move |s| s.passwords.hash(&body.new_password))
        .await?;
    state
        .tx(user, ctx, move |ctx, c| {
            app::reset_password(ctx, c, id, hash)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
