//! Login, refresh, logout, password change and the current account (ACC-1,
//! ACC-5), without the transport: the API checks passwords on its bounded
//! hasher holding no connection, issues the access tokens and keeps the
//! refresh-token secrets; these use cases get the hashes and the verdicts.
//!
//! A login or password change runs in steps, each in its own transaction:
//! [`reserve_attempt`], the password check (in the API), then
//! [`settle_login`] / [`password_change_failed`] / [`change_password`], or
//! [`give_back_attempt`] when the hasher was too busy to check.

mod attempts;
mod login;
mod password;
mod records;
mod refresh;

pub use attempts::{Attempt, AttemptKind, Throttled, give_back_attempt, reserve_attempt};
pub use login::{LoginAccount, LoginOutcome, login_account, settle_login};
pub use password::{WrongPassword, change_password, current_password_hash, password_change_failed};
pub use records::{ChangePasswordRequest, LoginRequest, RefreshRequest, TokenResponse};
pub use refresh::{DeadToken, refresh};

use chrono::{DateTime, Duration, Utc};
use guild_domain::Role;
use guild_domain::account::{REFRESH_TOKEN_TTL_DAYS, UserStatus};
use guild_store::DbConn;
use guild_store::sessions::{self, RefreshTokenRow};
use guild_store::users::UserRow;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, kinds as ev};
use crate::users::{UserView, end_all_sessions};

/// A session just opened: what the access token names. The refresh token's
/// secret stays with the caller, which passed only its hash.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account.
    pub user_id: String,
    /// The account's role.
    pub role: Role,
    /// The account's token version.
    pub token_version: i32,
    /// The session: the refresh-token family.
    pub family_id: String,
}

/// Starts a session: a refresh token stored as `refresh_hash` in `family` (a
/// new family, i.e. a new session, when `None`).
fn open_session(
    conn: &mut DbConn,
    user: &UserRow,
    family: Option<String>,
    refresh_hash: String,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    let role: Role = stored("users", &user.role)?;
    let family_id = family.unwrap_or_else(|| Uuid::now_v7().to_string());
    sessions::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            id: Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            family_id: family_id.clone(),
            token_hash: refresh_hash,
            expires_at: (now + Duration::days(REFRESH_TOKEN_TTL_DAYS)).naive_utc(),
            revoked_at: None,
            created_at: now.naive_utc(),
            used_at: None,
        },
    )?;
    Ok(Session {
        user_id: user.id.clone(),
        role,
        token_version: user.token_version,
        family_id,
    })
}

/// Whether a stored account is active.
fn is_active(user: &UserRow) -> AppResult<bool> {
    Ok(stored::<UserStatus>("users", &user.status)? == UserStatus::Active)
}

/// The account an access token stands for.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The account id.
    pub id: String,
    /// The account's user name.
    pub username: String,
    /// The account's role.
    pub role: Role,
    /// The organisation of an organisation or provider account.
    pub organisation_id: Option<String>,
    /// The person record of a trainee or teacher account.
    pub person_id: Option<String>,
}

/// Why a well-signed access token is refused (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The account was deleted.
    NoAccount,
    /// The account is disabled.
    Disabled,
    /// The account's token version moved on (ACC-1).
    Revoked,
    /// The token's session ended (ACC-1).
    SessionEnded,
}

impl Rejected {
    /// What the client is told.
    pub fn detail(self) -> &'static str {
        match self {
            Rejected::NoAccount => "the account no longer exists",
            Rejected::Disabled => "the account is disabled",
            Rejected::Revoked => "the access token was revoked; log in again",
            Rejected::SessionEnded => "the session was ended; log in again",
        }
    }
}

/// The account of an access token for `user_id` with `token_version` in
/// `session`, loaded on every request so that a disabled account or an ended
/// session is refused at once (ACC-1).
pub fn authenticate(
    conn: &mut DbConn,
    user_id: &str,
    token_version: i32,
    session: Option<&str>,
) -> AppResult<Result<Authenticated, Rejected>> {
    let row = guild_store::users::find(conn, user_id)?;
    // ACC-1: an access token dies with its session.
    let session_live = match session {
        Some(sid) => sessions::family_is_live(conn, sid)?,
        None => true,
    };
    let Some(row) = row else {
        return Ok(Err(Rejected::NoAccount));
    };
    if !is_active(&row)? {
        return Ok(Err(Rejected::Disabled));
    }
    if row.token_version != token_version {
        return Ok(Err(Rejected::Revoked));
    }
    if !session_live {
        return Ok(Err(Rejected::SessionEnded));
    }
    Ok(Ok(Authenticated {
        role: stored("users", &row.role)?,
        id: row.id,
        username: row.username,
        organisation_id: row.organisation_id,
        person_id: row.person_id,
    }))
}

/// The caller's own account.
pub fn me(ctx: &Ctx, conn: &mut DbConn) -> AppResult<UserView> {
    let row =
        guild_store::users::find(conn, &ctx.caller()?.id)?.ok_or(AppError::NotFound("user"))?;
    UserView::try_from(row)
}

/// Logs the caller out: every session of the account ends (ACC-1). One
/// `auth.logged_out` event (audited only).
pub fn logout(ctx: &Ctx, conn: &mut DbConn) -> AppResult<()> {
    let caller = ctx.caller()?;
    end_all_sessions(conn, &caller.id, ctx.now)?;
    ctx.emit(
        conn,
        Event::new::<(), ()>(ev::AUTH_LOGGED_OUT, "user", &caller.id, None, None)?
            .in_organisation(caller.organisation_id.as_deref()),
    )
}
