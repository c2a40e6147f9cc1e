//! Exchanging a refresh token (ACC-1): each works once; a spent one presented
//! again ends its session.

use guild_domain::account::{RefreshTokenDeath, refresh_token_state};
use guild_store::DbConn;
use guild_store::sessions::{self, RefreshTokenRow};

use super::login::logged_in;
use super::{Session, is_active, open_session};
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::events::{Event, kinds as ev};

/// Why a refresh token is refused (401 `invalid_refresh_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadToken {
    /// `used`, `revoked`, `expired` or `unknown`.
    pub reason: &'static str,
    /// What the client is told.
    pub detail: &'static str,
}

impl DeadToken {
    fn used() -> Self {
        DeadToken {
            reason: RefreshTokenDeath::Used.as_str(),
            detail: "the refresh token was already used, so its session has ended; log in again",
        }
    }
}

/// Exchanges the refresh token stored as `token_hash` for a new one stored
/// as `refresh_hash` in the same session. A refusal is `Ok(Err(..))`, so the
/// session it ends stays ended when the transaction commits.
pub fn refresh(
    ctx: &Ctx,
    conn: &mut DbConn,
    token_hash: &str,
    refresh_hash: String,
) -> AppResult<Result<Session, DeadToken>> {
    let Some(row) = sessions::find_refresh_token(conn, token_hash)? else {
        return Ok(Err(DeadToken {
            reason: "unknown",
            detail: "the refresh token is not known",
        }));
    };
    if let Some(dead) = spend(ctx, conn, &row)? {
        return Ok(Err(dead));
    }
    match guild_store::users::find(conn, &row.user_id)? {
        Some(u) if is_active(&u)? => {
            let session = open_session(conn, &u, Some(row.family_id), refresh_hash, ctx.now)?;
            logged_in(ctx, &u)?.emit(
                conn,
                Event::new::<(), ()>(ev::AUTH_TOKENS_REFRESHED, "user", &u.id, None, None)?
                    .in_organisation(u.organisation_id.as_deref()),
            )?;
            Ok(Ok(session))
        }
        _ => Ok(Err(DeadToken {
            reason: RefreshTokenDeath::Revoked.as_str(),
            detail: "the account is disabled",
        })),
    }
}

/// Marks `row` used, or says why it cannot be (ending its session when it
/// was used or revoked before).
fn spend(ctx: &Ctx, conn: &mut DbConn, row: &RefreshTokenRow) -> AppResult<Option<DeadToken>> {
    let now = ctx.now;
    let state = refresh_token_state(
        row.used_at.is_some(),
        row.revoked_at.is_some(),
        row.expires_at.and_utc(),
        now,
    );
    match state {
        Err(RefreshTokenDeath::Used) => return reused(ctx, conn, row),
        Err(RefreshTokenDeath::Revoked) => {
            // A no-op for sessions ended as a whole; it also ends the session
            // of a token used before uses were recorded.
            sessions::revoke_family(conn, &row.family_id, now.naive_utc())?;
            return Ok(Some(DeadToken {
                reason: RefreshTokenDeath::Revoked.as_str(),
                detail: "the refresh token was revoked (logout, password change or a disabled account); log in again",
            }));
        }
        Err(RefreshTokenDeath::Expired) => {
            return Ok(Some(DeadToken {
                reason: RefreshTokenDeath::Expired.as_str(),
                detail: "the refresh token has expired; log in again",
            }));
        }
        Ok(()) => {}
    }
    if !sessions::use_refresh_token(conn, &row.id, now.naive_utc())? {
        // A concurrent refresh used it first: this is a reuse.
        return reused(ctx, conn, row);
    }
    Ok(None)
}

/// A spent token presented again (ACC-1): its session ends, and the audit
/// log records it, since it means the token leaked or a client misbehaves.
fn reused(ctx: &Ctx, conn: &mut DbConn, row: &RefreshTokenRow) -> AppResult<Option<DeadToken>> {
    sessions::revoke_family(conn, &row.family_id, ctx.now.naive_utc())?;
    ctx.emit(
        conn,
        Event::new::<(), _>(
            ev::AUTH_REFRESH_TOKEN_REUSED,
            "user",
            &row.user_id,
            None,
            Some(&serde_json::json!({"address": ctx.address})),
        )?,
    )?;
    Ok(Some(DeadToken::used()))
}
