//! Login, refresh, logout, password change and the current account (ACC-1,
//! ACC-5). The use cases are in [`guild_app::auth`]; this module keeps what
//! is transport or crypto configuration: the bounded Argon2 hasher (checked
//! holding no database connection), the refresh-token secrets and the access
//! tokens.

use actix_web::{HttpResponse, get, post, web};
use guild_app::Ctx;
use guild_app::auth::{self as app, Attempt, LoginOutcome, Session, Throttled, WrongPassword};
use guild_domain::account::validate_password;

pub use guild_app::auth::{ChangePasswordRequest, LoginRequest, RefreshRequest, TokenResponse};
use guild_app::users::UserView;

use crate::auth::{AuthUser, issue_access_token, new_refresh_secret, sha256_hex};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{RequestContext, validate};
use crate::openapi::{LoginErrors, PasswordChangeErrors, ReadErrors};
use crate::state::AppState;

/// The token pair of `session`: a signed access token naming the session and
/// the refresh token's `secret` (stored only as its hash).
fn tokens(s: &AppState, session: &Session, secret: String, ctx: &Ctx) -> ApiResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: issue_access_token(
            &s.jwt,
            &session.user_id,
            session.role,
            session.token_version,
            &session.family_id,
            ctx.now,
        )?,
        refresh_token: secret,
        token_type: "Bearer",
        expires_in: guild_domain::account::ACCESS_TOKEN_TTL_SECONDS,
    })
}

/// The 429 of a reached limit (ACC-5), with `Retry-After`.
fn throttled(t: Throttled) -> ApiError {
    ApiError::Throttled {
        retry_after: t.retry_after,
        detail: t.refusal.detail,
        rule: t.refusal.rule,
    }
}

/// Reserves one attempt before its password is checked (ACC-5), in its own
/// transaction; 429 (nothing recorded) when a limit is reached.
fn reserve(s: &AppState, ctx: &Ctx, attempt: &Attempt) -> ApiResult<String> {
    s.store
        .write(|c| app::reserve_attempt(ctx, c, attempt))?
        .map_err(throttled)
}

/// Runs `f` on the bounded hasher, holding no database connection. When the
/// hasher is too busy the guess never reached the check, so its reservation
/// is given back before the 503 is answered.
fn on_hasher<T>(s: &AppState, reservation: &str, f: impl FnOnce() -> ApiResult<T>) -> ApiResult<T> {
    match f() {
        Ok(value) => Ok(value),
        Err(busy) => {
            s.store.write(|c| app::give_back_attempt(c, reservation))?;
            Err(busy)
        }
    }
}

/// The steps of a login: reserve an attempt, read the account, check the
/// password (a dummy check for an unknown account), settle.
fn login_steps(s: &AppState, req: &RequestContext, body: LoginRequest) -> ApiResult<TokenResponse> {
    let ctx = s.ctx(None, Some(req));
    let attempt = Attempt::login(&body.username, &req.address);
    let reservation = reserve(s, &ctx, &attempt)?;
    let account = s.store.read(|c| app::login_account(c, &attempt))?;
    // Unknown accounts cost one (dummy) verification too.
    let hash = account.as_ref().map(app::LoginAccount::password_hash);
    let password_ok = on_hasher(s, &reservation, || s.passwords.verify(&body.password, hash))?;
    let (secret, refresh_hash) = new_refresh_secret();
    let outcome = s.store.write(|c| {
        app::settle_login(
            &ctx,
            c,
            &attempt,
            &reservation,
            account,
            password_ok,
            refresh_hash,
        )
    })?;
    match outcome {
        LoginOutcome::LoggedIn(session) => tokens(s, &session, secret, &ctx),
        LoginOutcome::Failed { disabled } => Err(ApiError::http(
            ErrorCode::InvalidCredentials,
            if disabled {
                "the account is disabled"
            } else {
                "the user name or password is wrong"
            },
        )),
    }
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
    let tokens = state.run(move |s| login_steps(s, &ctx, body)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
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
    let token_hash = sha256_hex(&body.into_inner().refresh_token);
    let tokens = state
        .run(move |s| {
            let ctx = s.ctx(None, None);
            let (secret, refresh_hash) = new_refresh_secret();
            // A refusal still commits the session it ends.
            match s
                .store
                .write(|c| app::refresh(&ctx, c, &token_hash, refresh_hash))?
            {
                Ok(session) => tokens(s, &session, secret, &ctx),
                Err(dead) => Err(ApiError::Reasoned {
                    code: ErrorCode::InvalidRefreshToken,
                    reason: dead.reason,
                    detail: dead.detail.to_owned(),
                }),
            }
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
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
    state.tx(user, ctx, app::logout).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The current account.
#[utoipa::path(
    operation_id = "get_me",
    tag = "auth", responses((status = 200,
            description = "OK", body = UserView), ReadErrors))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let view = state.read(user, app::me).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The answer to a wrong current password (ACC-5).
fn wrong_password(wrong: WrongPassword) -> ApiError {
    match wrong {
        WrongPassword::Mismatch => ApiError::field(
            "current_password",
            "password_mismatch",
            "the current password is wrong",
        ),
        WrongPassword::Throttled(t) => throttled(t),
    }
}

/// The steps of a password change: reserve an attempt, check the current
/// password, settle a wrong one, or hash the new one and change it.
fn change_password_steps(
    s: &AppState,
    user: &AuthUser,
    req: &RequestContext,
    body: ChangePasswordRequest,
) -> ApiResult<TokenResponse> {
    let ctx = s.ctx(Some(user), Some(req));
    let attempt = Attempt::password_change(&user.username, &req.address);
    let reservation = reserve(s, &ctx, &attempt)?;
    let hash = s.store.read(|c| app::current_password_hash(&ctx, c))?;
    let right = on_hasher(s, &reservation, || {
        s.passwords.verify(&body.current_password, Some(&hash))
    })?;
    if !right {
        let wrong = s
            .store
            .write(|c| app::password_change_failed(&ctx, c, &attempt))?;
        return Err(wrong_password(wrong));
    }
    let new_hash = on_hasher(s, &reservation, || s.passwords.hash(&body.new_password))?;
    let (secret, refresh_hash) = new_refresh_secret();
    let session = s
        .store
        .write(|c| app::change_password(&ctx, c, &attempt, &reservation, new_hash, refresh_hash))?;
    tokens(s, &session, secret, &ctx)
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
        .run(move |s| change_password_steps(s, &user, &ctx, body))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(tokens))
}
