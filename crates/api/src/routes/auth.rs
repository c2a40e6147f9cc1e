//! Login, refresh, logout, password change and the current account (ACC-1, ACC-5).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use guild_domain::Role;
use guild_domain::account::{
    AttemptScope, LoginThrottle, REFRESH_TOKEN_TTL_DAYS, RefreshTokenDeath, UserStatus,
    attempt_kind, refresh_token_state, validate_password,
};
use guild_store::DbConn;
use guild_store::sessions::{self, AttemptKey, RefreshTokenRow};
use guild_store::users::UserRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, issue_access_token, new_refresh_secret, sha256_hex};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{RequestContext, parse_stored, validate};
use crate::openapi::{LoginErrors, PasswordChangeErrors, ReadErrors};
use crate::state::AppState;
use guild_app::users::UserView;
use guild_app::users::end_all_sessions;

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

/// Starts a session: a refresh token in `family` (a new family, i.e. a new
/// session, when `None`) and an access token naming that session in `sid`.
fn open_session(
    conn: &mut DbConn,
    state: &AppState,
    user: &UserRow,
    family: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<TokenResponse> {
    let role: Role = parse_stored("users", &user.role)?;
    let (secret, hash) = new_refresh_secret();
    let family_id = family.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    sessions::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            family_id: family_id.clone(),
            token_hash: hash,
            expires_at: (now + Duration::days(REFRESH_TOKEN_TTL_DAYS)).naive_utc(),
            revoked_at: None,
            created_at: now.naive_utc(),
            used_at: None,
        },
    )?;
    Ok(TokenResponse {
        access_token: issue_access_token(
            &state.jwt,
            &user.id,
            role,
            user.token_version,
            &family_id,
            now,
        )?,
        refresh_token: secret,
        token_type: "Bearer",
        expires_in: guild_domain::account::ACCESS_TOKEN_TTL_SECONDS,
    })
}

/// Reserves one attempt under `key` before its password is checked (ACC-5):
/// counting the attempts in the window and recording this one is one atomic
/// step (see [`sessions::lock_attempt_keys`]), so however many arrive at once,
/// at most the limit reach the check. Answers the reservation's id, or 429
/// with `Retry-After` (and nothing recorded) when a limit is reached.
fn reserve_attempt(
    state: &AppState,
    throttle: &LoginThrottle,
    key: &AttemptKey<'_>,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    state.store.write(|c| {
        sessions::lock_attempt_keys(c, key)?;
        let since = throttle.window_start(now).naive_utc();
        let counts = sessions::count_attempts(c, key, since)?;
        if let Err(throttled) = throttle.check(counts) {
            return Err(throttled_error(
                c,
                throttle,
                key,
                &throttled.scopes,
                throttled.refusal,
                now,
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sessions::insert_attempt(c, &id, key, now.naive_utc())?;
        Ok(id)
    })
}

/// The 429 for a reached limit: `Retry-After` is when the oldest attempt
/// counted under every reached limit has left the window (ACC-5).
fn throttled_error(
    conn: &mut DbConn,
    throttle: &LoginThrottle,
    key: &AttemptKey<'_>,
    scopes: &[AttemptScope],
    refusal: guild_domain::Refusal,
    now: DateTime<Utc>,
) -> ApiError {
    let since = throttle.window_start(now).naive_utc();
    let mut retry_after = 1;
    for scope in scopes {
        let wait = match sessions::oldest_attempt(conn, key, *scope, since) {
            Ok(Some(oldest)) => throttle.retry_after(oldest.and_utc(), now),
            Ok(None) | Err(_) => throttle.window.num_seconds(),
        };
        retry_after = retry_after.max(wait);
    }
    ApiError::Throttled {
        retry_after,
        detail: refusal.detail,
        rule: refusal.rule,
    }
}

/// Checks a password on the bounded hasher, holding no database connection.
/// When the hasher is too busy the guess never reached the check, so its
/// reservation is given back before the 503 is answered.
fn check_password(
    state: &AppState,
    attempt: &str,
    password: &str,
    hash: Option<&str>,
) -> ApiResult<bool> {
    match state.passwords.verify(password, hash) {
        Ok(matches) => Ok(matches),
        Err(busy) => {
            state
                .store
                .write(|c| sessions::delete_attempt(c, attempt).map_err(ApiError::from))?;
            Err(busy)
        }
    }
}

/// What a login attempt found, decided outside the write transaction.
enum LoginOutcome {
    Ok(TokenResponse),
    Failed(ApiError),
}

/// Log in with user name and password (ACC-1). Attempts are throttled (ACC-5)
/// within 15 minutes: 5 per account from one address, 50 per account from all
/// addresses, 20 from one address; past a limit logins answer 429 with
/// `Retry-After`. An attempt is counted before its password is checked, so
/// concurrent guesses cannot pass the limit; a successful login forgets the
/// account's failures from its address. Failed logins are audited with the
/// address (`auth.login_failed`). When too many passwords are being checked at
/// once the answer is 503 `server_busy` with `Retry-After`.
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
            let key = AttemptKey {
                kind: attempt_kind::LOGIN,
                username: &username,
                address: &ctx.address,
            };
            let attempt = reserve_attempt(s, &throttle, &key, now)?;
            let user = s
                .store
                .read(|c| guild_store::users::find_by_username(c, &username))?;
            // Unknown accounts cost one (dummy) verification too.
            let password_ok = check_password(
                s,
                &attempt,
                &body.password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            )?;
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
                        // Settle: the reservation and this address's failures go.
                        sessions::delete_attempt(c, &attempt)?;
                        sessions::clear_attempts(c, &key, true)?;
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
                        // Settle: the reservation stays, counted as a failure.
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
                                after: Some(&serde_json::json!({
                                    "username": username,
                                    "address": ctx.address,
                                })),
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

/// A 401 `invalid_refresh_token` saying why the token is dead in `reason`.
fn dead_refresh_token(reason: &'static str, detail: &str) -> ApiError {
    ApiError::Reasoned {
        code: ErrorCode::InvalidRefreshToken,
        reason,
        detail: detail.to_owned(),
    }
}

/// Exchange a refresh token for a new pair (ACC-1). Each refresh token works once;
/// presenting a spent one ends its session: every refresh token descended from
/// the same login and every access token issued with them. A refused token
/// answers 401 `invalid_refresh_token` whose `reason` says why:
/// `used`, `revoked`, `expired` or `unknown`.
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
            // The outer Result carries a refusal that must still commit the family revocation.
            s.store.write(|c| -> ApiResult<ApiResult<TokenResponse>> {
                let Some(row) = sessions::find_refresh_token(c, &sha256_hex(&token))? else {
                    return Ok(Err(dead_refresh_token(
                        "unknown",
                        "the refresh token is not known",
                    )));
                };
                let state = refresh_token_state(
                    row.used_at.is_some(),
                    row.revoked_at.is_some(),
                    row.expires_at.and_utc(),
                    now,
                );
                let used = || {
                    dead_refresh_token(
                        RefreshTokenDeath::Used.as_str(),
                        "the refresh token was already used, so its session has ended; log in again",
                    )
                };
                match state {
                    Err(RefreshTokenDeath::Used) => {
                        sessions::revoke_family(c, &row.family_id, now.naive_utc())?;
                        return Ok(Err(used()));
                    }
                    Err(RefreshTokenDeath::Revoked) => {
                        // A no-op for sessions ended as a whole; it also ends the
                        // session of a token used before uses were recorded.
                        sessions::revoke_family(c, &row.family_id, now.naive_utc())?;
                        return Ok(Err(dead_refresh_token(
                            RefreshTokenDeath::Revoked.as_str(),
                            "the refresh token was revoked (logout, password change or a disabled account); log in again",
                        )));
                    }
                    Err(RefreshTokenDeath::Expired) => {
                        return Ok(Err(dead_refresh_token(
                            RefreshTokenDeath::Expired.as_str(),
                            "the refresh token has expired; log in again",
                        )));
                    }
                    Ok(()) => {}
                }
                if !sessions::use_refresh_token(c, &row.id, now.naive_utc())? {
                    // A concurrent refresh used it first: this is a reuse.
                    sessions::revoke_family(c, &row.family_id, now.naive_utc())?;
                    return Ok(Err(used()));
                }
                let user = guild_store::users::find(c, &row.user_id)?;
                match user {
                    Some(u)
                        if parse_stored::<UserStatus>("users", &u.status)?
                            == UserStatus::Active =>
                    {
                        Ok(Ok(open_session(c, s, &u, Some(row.family_id), now)?))
                    }
                    _ => Ok(Err(dead_refresh_token(
                        RefreshTokenDeath::Revoked.as_str(),
                        "the account is disabled",
                    ))),
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
///
/// Wrong current passwords are throttled like logins (ACC-5): each check is
/// counted before it runs, a wrong one is audited as
/// `auth.password_change_failed` with the address, and the fifth within
/// 15 minutes ends every session of the account and answers 429; until the
/// window passes further attempts answer 429 without a check.
#[utoipa::path(
    operation_id = "change_password",
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Password changed; new tokens", body = TokenResponse), PasswordChangeErrors)
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let body = body.into_inner();
    // The new password is checked first: refusing it costs no attempt.
    validate_password(&body.new_password, &user.username).map_err(|mut e| {
        e.field = "new_password".to_owned();
        ApiError::from(e)
    })?;
    let tokens = state
        .run(move |s| {
            let now = s.clock.now();
            let throttle = LoginThrottle::password_change();
            let key = AttemptKey {
                kind: attempt_kind::PASSWORD_CHANGE,
                username: &user.username,
                address: &ctx.address,
            };
            let attempt = reserve_attempt(s, &throttle, &key, now)?;
            let row = s
                .store
                .read(|c| guild_store::users::find(c, &user.id))?
                .ok_or_else(|| ApiError::not_found("user"))?;
            if !check_password(
                s,
                &attempt,
                &body.current_password,
                Some(&row.password_hash),
            )? {
                let refusal = s.store.write(|c| -> ApiResult<ApiError> {
                    // Concurrent settlements of this account run one at a time,
                    // so ending the sessions never races on the account row.
                    sessions::lock_attempt_keys(c, &key)?;
                    let since = throttle.window_start(now).naive_utc();
                    let failures = sessions::count_attempts(c, &key, since)?.account;
                    let exhausted = throttle.exhausted(failures);
                    if exhausted {
                        end_all_sessions(c, &user.id, now)?;
                    }
                    audit::record::<(), serde_json::Value>(
                        c,
                        &Actor::new(&user, &ctx, now),
                        Change {
                            action: "auth.password_change_failed",
                            entity_type: "user",
                            entity_id: &user.id,
                            organisation_id: user.organisation_id.as_deref(),
                            before: None,
                            after: Some(&serde_json::json!({
                                "address": ctx.address,
                                "failures": failures,
                                "sessions_ended": exhausted,
                            })),
                        },
                    )?;
                    if exhausted {
                        Ok(throttled_error(
                            c,
                            &throttle,
                            &key,
                            &[AttemptScope::Account],
                            guild_domain::Refusal::rule(
                                "ACC-5",
                                "password_change_throttled",
                                "too many wrong current passwords: every session of this account \
                                 has ended; log in again and retry in 15 minutes",
                            ),
                            now,
                        ))
                    } else {
                        Ok(ApiError::field(
                            "current_password",
                            "password_mismatch",
                            "the current password is wrong",
                        ))
                    }
                })?;
                return Err(refusal);
            }
            let hash = match s.passwords.hash(&body.new_password) {
                Ok(hash) => hash,
                Err(busy) => {
                    s.store
                        .write(|c| sessions::delete_attempt(c, &attempt).map_err(ApiError::from))?;
                    return Err(busy);
                }
            };
            s.store.write(|c| {
                sessions::lock_attempt_keys(c, &key)?;
                sessions::delete_attempt(c, &attempt)?;
                sessions::clear_attempts(c, &key, false)?;
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
