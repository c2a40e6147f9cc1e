//! Attempt throttling of logins and password changes (ACC-5): an attempt is
//! reserved before its password is checked, so concurrent guesses cannot pass
//! the limit.

use chrono::{DateTime, Utc};
use guild_domain::account::{AttemptScope, LoginThrottle, attempt_kind};
use guild_domain::error::Refusal;
use guild_store::DbConn;
use guild_store::sessions::{self, AttemptKey};
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::AppResult;

/// What is being attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// A login (5 per account and address, 50 per account, 20 per address).
    Login,
    /// A password change's current-password check (5 per account).
    PasswordChange,
}

/// One attempt: its kind, the (normalised) user name tried and the address.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// What is attempted.
    pub kind: AttemptKind,
    /// The normalised user name.
    pub username: String,
    /// The client's address.
    pub address: String,
}

impl Attempt {
    /// A login as `username` (trimmed, lower case) from `address`.
    pub fn login(username: &str, address: &str) -> Self {
        Attempt {
            kind: AttemptKind::Login,
            username: username.trim().to_lowercase(),
            address: address.to_owned(),
        }
    }

    /// A password change of the account `username` from `address`.
    pub fn password_change(username: &str, address: &str) -> Self {
        Attempt {
            kind: AttemptKind::PasswordChange,
            username: username.to_owned(),
            address: address.to_owned(),
        }
    }

    pub(super) fn key(&self) -> AttemptKey<'_> {
        AttemptKey {
            kind: match self.kind {
                AttemptKind::Login => attempt_kind::LOGIN,
                AttemptKind::PasswordChange => attempt_kind::PASSWORD_CHANGE,
            },
            username: &self.username,
            address: &self.address,
        }
    }

    pub(super) fn throttle(&self) -> LoginThrottle {
        match self.kind {
            AttemptKind::Login => LoginThrottle::default(),
            AttemptKind::PasswordChange => LoginThrottle::password_change(),
        }
    }
}

/// A reached limit (ACC-5): answered 429 with `Retry-After`.
#[derive(Debug, Clone)]
pub struct Throttled {
    /// Seconds until the window has room again.
    pub retry_after: i64,
    /// The ACC-5 refusal (its detail and rule are shown).
    pub refusal: Refusal,
}

/// Reserves one attempt before its password is checked (ACC-5): counting the
/// attempts in the window and recording this one is one atomic step (see
/// [`sessions::lock_attempt_keys`]), so however many arrive at once, at most
/// the limit reach the check. Answers the reservation's id, or the reached
/// limit (and nothing recorded).
pub fn reserve_attempt(
    ctx: &Ctx,
    conn: &mut DbConn,
    attempt: &Attempt,
) -> AppResult<Result<String, Throttled>> {
    let (key, throttle) = (attempt.key(), attempt.throttle());
    sessions::lock_attempt_keys(conn, &key)?;
    let since = throttle.window_start(ctx.now).naive_utc();
    let counts = sessions::count_attempts(conn, &key, since)?;
    if let Err(reached) = throttle.check(counts) {
        return Ok(Err(throttled(
            conn,
            &throttle,
            &key,
            &reached.scopes,
            reached.refusal,
            ctx.now,
        )));
    }
    let id = Uuid::now_v7().to_string();
    sessions::insert_attempt(conn, &id, &key, ctx.now.naive_utc())?;
    Ok(Ok(id))
}

/// Gives a reservation back: the guess never reached the check (the hasher
/// was too busy).
pub fn give_back_attempt(conn: &mut DbConn, reservation: &str) -> AppResult<()> {
    Ok(sessions::delete_attempt(conn, reservation)?)
}

/// The reached limit: `Retry-After` is when the oldest attempt counted under
/// every reached limit has left the window (ACC-5).
pub(super) fn throttled(
    conn: &mut DbConn,
    throttle: &LoginThrottle,
    key: &AttemptKey<'_>,
    scopes: &[AttemptScope],
    refusal: Refusal,
    now: DateTime<Utc>,
) -> Throttled {
    let since = throttle.window_start(now).naive_utc();
    let mut retry_after = 1;
    for scope in scopes {
        let wait = match sessions::oldest_attempt(conn, key, *scope, since) {
            Ok(Some(oldest)) => throttle.retry_after(oldest.and_utc(), now),
            Ok(None) | Err(_) => throttle.window.num_seconds(),
        };
        retry_after = retry_after.max(wait);
    }
    Throttled {
        retry_after,
        refusal,
    }
}
