//! Login, refresh, logout, password change and the current account (ACC-1, ACC-5).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use guild_domain::Role;
use guild_domain::account::{LoginThrottle, REFRESH_TOKEN_TTL_DAYS, UserStatus, validate_password};
use guild_store::DbConn;
use guild_store::sessions::{self, RefreshTokenRow};
use guild_store::users::UserRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::{
    AuthUser, dummy_hash, hash_password, issue_access_token, new_refresh_secret, sha256_hex,
    verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{RequestContext, parse_stored, validate};
use crate::openapi::{ActionErrors, LoginErrors, ReadErrors};
use crate::routes::users::UserView;
use crate::state::AppState;

/// Credentials.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "admin", "password": "correct horse 42"}))]
pub struct LoginRequest {
    /// The account's user name.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// The password.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

/// A fresh pair of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token for `Authorization`, valid 15 minutes.
    pub access_token: String,
    /// Opaque single-use token for `POST /auth/refresh`, valid 30 days.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// A password change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub current_password: String,
    /// The new password: 10 to 128 characters with a letter and a digit, not containing the user name.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Starts a session: a refresh token in `family` (a new family when `None`) and an access token.
fn open_session(
    conn: &mut DbConn,
    state: &AppState,
    user: &UserRow,
    family: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<TokenResponse> {
    let role: Role = parse_stored("users", &user.role)?;
    let (secret, hash) = new_refresh_secret();
    sessions::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            family_id: family.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            token_hash: hash,
            expires_at: (now + Duration::days(REFRESH_TOKEN_TTL_DAYS)).naive_utc(),
            revoked_at: None,
            created_at: now.naive_utc(),
        },
    )?;
    Ok(TokenResponse {
        access_token: issue_access_token(&state.jwt, &user.id, role, user.token_version, now)?,
        refresh_token: secret,
        token_type: "Bearer",
        expires_in: guild_domain::account::ACCESS_TOKEN_TTL_SECONDS,
    })
}

/// What a login attempt found, decided outside the write transaction.
enum LoginOutcome {
    Ok(TokenResponse),
    Failed(ApiError),
}

/// Log in with user name and password (ACC-1). Failed attempts are audited and
/// throttled per account and per address (ACC-5): after 5 failures for an account
/// or 20 from an address within 15 minutes, logins answer 429 until the window passes.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses((status = 200, description = "Logged in", body = TokenResponse), LoginErrors)
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    ctx: RequestContext,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let body = body.into_inner();
    let outcome = state
        .run(move |s| {
            let now = s.clock.now();
            let throttle = LoginThrottle::default();
            let username = body.username.trim().to_lowercase();
            let (by_account, by_address) = s.store.read(|c| {
                sessions::count_login_failures(
                    c,
                    &username,
                    &ctx.address,
                    throttle.window_start(now).naive_utc(),
                )
            })?;
            let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
            if let Err(refusal) = throttle.check(count(by_account), count(by_address)) {
                let since = throttle.window_start(now).naive_utc();
                let oldest = s
                    .store
                    .read(|c| sessions::oldest_login_failure(c, &username, &ctx.address, since))?;
                return Ok(LoginOutcome::Failed(ApiError::Throttled {
                    retry_after: oldest.map_or(throttle.window.num_seconds(), |t| {
                        throttle.retry_after(t.and_utc(), now)
                    }),
                    detail: refusal.detail,
                    rule: refusal.rule,
                }));
            }
            let user = s
                .store
                .read(|c| guild_store::users::find_by_username(c, &username))?;
            let password_ok = verify_password(
                &body.password,
                user.as_ref().map_or(dummy_hash(), |u| &u.password_hash),
            );
            let active = match &user {
                Some(u) => parse_stored::<UserStatus>("users", &u.status)? == UserStatus::Active,
                None => false,
            };
            s.store.write(|c| {
                let actor = Actor {
                    user: None,
                    ctx: &ctx,
                    at: now,
                };
                match user {
                    Some(user) if password_ok && active => {
                        sessions::clear_login_failures(c, &username)?;
                        let tokens = open_session(c, s, &user, None, now)?;
                        let who = AuthUser {
                            id: user.id.clone(),
                            username: user.username.clone(),
                            role: parse_stored("users", &user.role)?,
                            organisation_id: user.organisation_id.clone(),
                            person_id: user.person_id.clone(),
                        };
                        let actor = Actor {
                            user: Some(&who),
                            ..actor
                        };
                        audit::record::<(), ()>(
                            c,
                            &actor,
                            Change {
                                action: "auth.login",
                                entity_type: "user",
                                entity_id: &user.id,
                                organisation_id: user.organisation_id.as_deref(),
                                before: None,
                                after: None,
                            },
                        )?;
                        Ok(LoginOutcome::Ok(tokens))
                    }
                    user => {
                        sessions::record_login_failure(
                            c,
                            &uuid::Uuid::now_v7().to_string(),
                            &username,
                            &ctx.address,
                            now.naive_utc(),
                        )?;
                        let entity_id = user.as_ref().map_or(username.clone(), |u| u.id.clone());
                        audit::record::<(), serde_json::Value>(
                            c,
                            &actor,
                            Change {
                                action: "auth.login_failed",
                                entity_type: "user",
                                entity_id: &entity_id,
                                organisation_id: user
                                    .as_ref()
                                    .and_then(|u| u.organisation_id.as_deref()),
                                before: None,
                                after: Some(&serde_json::json!({"username": username})),
                            },
                        )?;
                        let detail = if password_ok && !active {
                            "the account is disabled"
                        } else {
                            "the user name or password is wrong"
                        };
                        Ok(LoginOutcome::Failed(ApiError::http(
                            ErrorCode::InvalidCredentials,
                            detail,
                        )))
                    }
                }
            })
        })
        .await?;
    match outcome {
        LoginOutcome::Ok(tokens) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(tokens)),
        LoginOutcome::Failed(e) => Err(e),
    }
}

/// Exchange a refresh token for a new pair (ACC-1). Each refresh token works once;
/// presenting a spent one revokes every token descended from the same login.
#[utoipa::path(
    operation_id = "refresh_tokens",
    tag = "auth",
    security(()),
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenResponse), LoginErrors)
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let token = body.into_inner().refresh_token;
    let result = state
        .run(move |s| {
            let now = s.clock.now();
            let invalid = |detail: &str| ApiError::http(ErrorCode::InvalidRefreshToken, detail);
            // The outer Result carries a refusal that must still commit the family revocation.
            s.store.write(|c| -> ApiResult<ApiResult<TokenResponse>> {
                let Some(row) = sessions::find_refresh_token(c, &sha256_hex(&token))? else {
                    return Ok(Err(invalid("the refresh token is not known")));
                };
                if row.revoked_at.is_some()
                    || !sessions::revoke_refresh_token(c, &row.id, now.naive_utc())?
                {
                    sessions::revoke_family(c, &row.family_id, now.naive_utc())?;
                    return Ok(Err(invalid(
                        "the refresh token was already used; log in again",
                    )));
                }
                if row.expires_at <= now.naive_utc() {
                    return Ok(Err(invalid("the refresh token has expired; log in again")));
                }
                let user = guild_store::users::find(c, &row.user_id)?;
                match user {
                    Some(u)
                        if parse_stored::<UserStatus>("users", &u.status)?
                            == UserStatus::Active =>
                    {
                        Ok(Ok(open_session(c, s, &u, Some(row.family_id), now)?))
                    }
                    _ => Ok(Err(invalid("the account is disabled"))),
                }
            })
        })
        .await??;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(result))
}

/// Log out: revokes every refresh token and access token of the account (ACC-1),
/// so all its sessions end.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth", responses((status = 204, description = "Logged out"), ReadErrors))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                end_all_sessions(c, &user.id, now)?;
                audit::record::<(), ()>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "auth.logout",
                        entity_type: "user",
                        entity_id: &user.id,
                        organisation_id: user.organisation_id.as_deref(),
                        before: None,
                        after: None,
                    },
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes all refresh tokens of a user and invalidates its access tokens.
pub fn end_all_sessions(conn: &mut DbConn, user_id: &str, now: DateTime<Utc>) -> ApiResult<()> {
    sessions::revoke_all_for_user(conn, user_id, now.naive_utc())?;
    let Some(mut row) = guild_store::users::find(conn, user_id)? else {
        return Err(ApiError::not_found("user"));
    };
    row.token_version += 1;
    guild_store::users::update(conn, &mut row, now.naive_utc())?;
    Ok(())
}

/// The current account.
#[utoipa::path(
    operation_id = "get_me",
    tag = "auth", responses((status = 200,
            description = "OK", body = UserView), ReadErrors))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let row = state
        .run(move |s| s.store.read(|c| Ok(guild_store::users::find(c, &user.id)?)))
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(HttpResponse::Ok().json(UserView::try_from(row)?))
}

/// Change the caller's password. Every session of the account ends (ACC-1);
/// the answer carries a fresh pair of tokens for this client.
#[utoipa::path(
    operation_id = "change_password",
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Password changed; new tokens", body = TokenResponse), ActionErrors)
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let tokens = state
        .run(move |s| {
            let now = s.clock.now();
            let row = s
                .store
                .read(|c| guild_store::users::find(c, &user.id))?
                .ok_or_else(|| ApiError::not_found("user"))?;
            if !verify_password(&body.current_password, &row.password_hash) {
                return Err(ApiError::field(
                    "current_password",
                    "password_mismatch",
                    "the current password is wrong",
                ));
            }
            validate_password(&body.new_password, &row.username).map_err(|mut e| {
                e.field = "new_password".to_owned();
                ApiError::from(e)
            })?;
            let hash = hash_password(&body.new_password)?;
            s.store.write(|c| {
                end_all_sessions(c, &user.id, now)?;
                let mut row = guild_store::users::find(c, &user.id)?
                    .ok_or_else(|| ApiError::not_found("user"))?;
                row.password_hash = hash;
                guild_store::users::update(c, &mut row, now.naive_utc())?;
                audit::record::<(), ()>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "user.change_password",
                        entity_type: "user",
                        entity_id: &user.id,
                        organisation_id: user.organisation_id.as_deref(),
                        before: None,
                        after: None,
                    },
                )?;
                open_session(c, s, &row, None, now)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
}
