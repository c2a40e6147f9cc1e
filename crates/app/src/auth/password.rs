//! A password change by the account itself (ACC-1, ACC-5), in steps around the
//! password check the API runs.

use guild_domain::account::AttemptScope;
use guild_domain::error::Refusal;
use guild_store::DbConn;
use guild_store::sessions;

use super::attempts::throttled;
use super::{Attempt, Session, Throttled, open_session};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::events::{Event, kinds as ev};
use crate::users::end_all_sessions;

/// The caller's stored password hash, to check the current password against.
pub fn current_password_hash(ctx: &Ctx, conn: &mut DbConn) -> AppResult<String> {
    Ok(guild_store::users::find(conn, &ctx.caller()?.id)?
        .ok_or(AppError::NotFound("user"))?
        .password_hash)
}

/// What a wrong current password leads to.
#[derive(Debug, Clone)]
pub enum WrongPassword {
    /// 422 `password_mismatch` on `current_password`.
    Mismatch,
    /// The account's limit is reached: every session ended (ACC-5).
    Throttled(Throttled),
}

/// Settles a wrong current password of the caller (ACC-5): the reservation
/// stays as a failure; the failure that reaches the limit ends every session
/// of the account. One `auth.password_change_failed` event (audited only)
/// with the address, the failures and whether the sessions ended.
pub fn password_change_failed(
    ctx: &Ctx,
    conn: &mut DbConn,
    attempt: &Attempt,
) -> AppResult<WrongPassword> {
    let caller = ctx.caller()?;
    let (key, throttle) = (attempt.key(), attempt.throttle());
    // Concurrent settlements of this account run one at a time, so ending the
    // sessions never races on the account row.
    sessions::lock_attempt_keys(conn, &key)?;
    let since = throttle.window_start(ctx.now).naive_utc();
    let failures = sessions::count_attempts(conn, &key, since)?.account;
    let exhausted = throttle.exhausted(failures);
    if exhausted {
        end_all_sessions(conn, &caller.id, ctx.now)?;
    }
    let after = serde_json::json!({
        "address": ctx.address,
        "failures": failures,
        "sessions_ended": exhausted,
    });
    ctx.emit(
        conn,
        Event::new::<(), _>(
            ev::AUTH_PASSWORD_CHANGE_FAILED,
            "user",
            &caller.id,
            None,
            Some(&after),
        )?
        .in_organisation(caller.organisation_id.as_deref()),
    )?;
    if !exhausted {
        return Ok(WrongPassword::Mismatch);
    }
    let refusal = Refusal::rule(
        "ACC-5",
        "password_change_throttled",
        "too many wrong current passwords: every session of this account \
         has ended; log in again and retry in 15 minutes",
    );
    Ok(WrongPassword::Throttled(throttled(
        conn,
        &throttle,
        &key,
        &[AttemptScope::Account],
        refusal,
        ctx.now,
    )))
}

/// Changes the caller's password to `new_hash` after a right current
/// password (reservation `reservation` of `attempt`): the account's attempts
/// from this address are forgotten, every session ends (ACC-1) and a new one
/// is opened, stored as `refresh_hash`. One `user.password_changed` event.
pub fn change_password(
    ctx: &Ctx,
    conn: &mut DbConn,
    attempt: &Attempt,
    reservation: &str,
    new_hash: String,
    refresh_hash: String,
) -> AppResult<Session> {
    let caller = ctx.caller()?;
    let key = attempt.key();
    sessions::lock_attempt_keys(conn, &key)?;
    sessions::delete_attempt(conn, reservation)?;
    sessions::clear_attempts(conn, &key, false)?;
    end_all_sessions(conn, &caller.id, ctx.now)?;
    let mut row = guild_store::users::find(conn, &caller.id)?.ok_or(AppError::NotFound("user"))?;
    row.password_hash = new_hash;
    guild_store::users::update(conn, &mut row, ctx.now.naive_utc())?;
    ctx.emit(
        conn,
        Event::new::<(), ()>(ev::USER_PASSWORD_CHANGED, "user", &caller.id, None, None)?
            .in_organisation(caller.organisation_id.as_deref()),
    )?;
    open_session(conn, &row, None, refresh_hash, ctx.now)
}
