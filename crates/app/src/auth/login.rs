//! Settling a login (ACC-1, ACC-5) once its password was checked.

use guild_store::DbConn;
use guild_store::sessions;
use guild_store::users::UserRow;

use super::{Attempt, Session, is_active, open_session};
use crate::ctx::{Caller, Ctx};
use crate::error::{AppResult, stored};
use crate::events::{Event, kinds as ev};

/// The account a login names, as far as the password check needs it.
#[derive(Debug, Clone)]
pub struct LoginAccount(UserRow);

impl LoginAccount {
    /// The stored password hash to check the password against.
    pub fn password_hash(&self) -> &str {
        &self.0.password_hash
    }
}

/// The account named by the login `attempt`, if there is one. An unknown
/// account still costs one (dummy) verification: the caller checks the
/// password against `None`.
pub fn login_account(conn: &mut DbConn, attempt: &Attempt) -> AppResult<Option<LoginAccount>> {
    Ok(guild_store::users::find_by_username(conn, &attempt.username)?.map(LoginAccount))
}

/// How a login ended.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// A new session.
    LoggedIn(Session),
    /// Refused (401 `invalid_credentials`): `disabled` when the password was
    /// right but the account is disabled.
    Failed {
        /// The password was right; the account is disabled.
        disabled: bool,
    },
}

/// Settles the login `attempt` (reservation `reservation`) of `account` whose
/// password check said `password_ok`. A success drops the reservation and
/// this address's failures of the account, opens a session stored as
/// `refresh_hash` and emits `auth.logged_in` under the account; a failure
/// keeps the reservation, counted as a failure, and emits `auth.login_failed`
/// with the user name and address (both audited only).
pub fn settle_login(
    ctx: &Ctx,
    conn: &mut DbConn,
    attempt: &Attempt,
    reservation: &str,
    account: Option<LoginAccount>,
    password_ok: bool,
    refresh_hash: String,
) -> AppResult<LoginOutcome> {
    let user = account.map(|a| a.0);
    let active = match &user {
        Some(u) => is_active(u)?,
        None => false,
    };
    match user {
        Some(user) if password_ok && active => {
            sessions::delete_attempt(conn, reservation)?;
            sessions::clear_attempts(conn, &attempt.key(), true)?;
            let session = open_session(conn, &user, None, refresh_hash, ctx.now)?;
            logged_in(ctx, &user)?.emit(
                conn,
                Event::new::<(), ()>(ev::AUTH_LOGGED_IN, "user", &user.id, None, None)?
                    .in_organisation(user.organisation_id.as_deref()),
            )?;
            Ok(LoginOutcome::LoggedIn(session))
        }
        user => {
            let entity_id = user
                .as_ref()
                .map_or_else(|| attempt.username.clone(), |u| u.id.clone());
            let after = serde_json::json!({
                "username": attempt.username,
                "address": ctx.address,
            });
            ctx.emit(
                conn,
                Event::new::<(), _>(ev::AUTH_LOGIN_FAILED, "user", entity_id, None, Some(&after))?
                    .in_organisation(user.as_ref().and_then(|u| u.organisation_id.as_deref())),
            )?;
            Ok(LoginOutcome::Failed {
                disabled: password_ok && !active,
            })
        }
    }
}

/// `ctx` with the account that just logged in as its caller.
pub(super) fn logged_in(ctx: &Ctx, user: &UserRow) -> AppResult<Ctx> {
    Ok(Ctx {
        caller: Some(Caller {
            id: user.id.clone(),
            role: stored("users", &user.role)?,
            organisation_id: user.organisation_id.clone(),
            person_id: user.person_id.clone(),
        }),
        ..ctx.clone()
    })
}
