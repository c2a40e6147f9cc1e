//! Refresh tokens and throttled attempts (ACC-1, ACC-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use guild_domain::account::{AttemptCounts, AttemptScope};

use crate::schema::{login_failures, refresh_tokens};
use crate::{DbConn, StoreError};

/// A refresh token, stored only as a SHA-256 hash of the secret the client holds.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    /// All tokens rotated from one login share a family; reuse of a spent token revokes the family.
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    /// Set when the token is revoked for any reason, including being used.
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// Set when the token was exchanged for a new pair (ACC-1).
    pub used_at: Option<NaiveDateTime>,
}

/// Stores a new refresh token.
pub fn insert_refresh_token(conn: &mut DbConn, row: &RefreshTokenRow) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a refresh token by the hash of its secret.
pub fn find_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> Result<Option<RefreshTokenRow>, StoreError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks one token used (and so revoked) if it is still live; returns whether
/// this call used it, so two concurrent refreshes with one token cannot both succeed.
pub fn use_refresh_token(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set((
        refresh_tokens::revoked_at.eq(Some(at)),
        refresh_tokens::used_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether a session (a refresh-token family) is still live: one of its tokens
/// has not been used or revoked. Access tokens name their session in `sid` and
/// die with it (ACC-1).
pub fn family_is_live(conn: &mut DbConn, family_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    ))
    .get_result(conn)?)
}

/// Revokes every live token of a family.
pub fn revoke_family(
    conn: &mut DbConn,
    family_id: &str,
    at: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?)
}

/// Revokes every live token of a user (logout everywhere, password change, disable).
pub fn revoke_all_for_user(
    conn: &mut DbConn,
    user_id: &str,
    at: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?)
}

/// The keys an attempt is counted under (ACC-5): what kind of attempt, for
/// which account name, from which address.
#[derive(Debug, Clone, Copy)]
pub struct AttemptKey<'a> {
    /// `login` or `password_change` (`guild_domain::account::attempt_kind`).
    pub kind: &'a str,
    /// The normalised user name tried.
    pub username: &'a str,
    /// The client address.
    pub address: &'a str,
}

/// FNV-1a: a stable 64-bit hash, the same in every process and version, so
/// every instance takes the same advisory lock for the same key.
fn lock_id(key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Serialises reservations for the account and the address of `key` until the
/// end of the current transaction (ACC-5), so that counting the attempts and
/// recording a new one is one atomic step. On PostgreSQL this takes transaction
/// advisory locks (in a fixed order, so two transactions cannot deadlock); on
/// SQLite the store already runs one write transaction at a time. Call it
/// first inside [`crate::Store::write`].
pub fn lock_attempt_keys(conn: &mut DbConn, key: &AttemptKey<'_>) -> Result<(), StoreError> {
    let DbConn::Postgres(pg) = conn else {
        return Ok(());
    };
    let mut ids = [
        lock_id(&format!("guild.attempts.account:{}", key.username)),
        lock_id(&format!("guild.attempts.address:{}", key.address)),
    ];
    ids.sort_unstable();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 && ids[i - 1] == *id {
            continue;
        }
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(*id)
            .execute(pg)?;
    }
    Ok(())
}

/// Attempts of `key.kind` since `since`: for the account from the address,
/// for the account from everywhere, and from the address for every account.
pub fn count_attempts(
    conn: &mut DbConn,
    key: &AttemptKey<'_>,
    since: NaiveDateTime,
) -> Result<AttemptCounts, StoreError> {
    let recent = || {
        login_failures::table
            .filter(login_failures::kind.eq(key.kind.to_owned()))
            .filter(login_failures::created_at.ge(since))
    };
    let account_address: i64 = recent()
        .filter(login_failures::username.eq(key.username))
        .filter(login_failures::address.eq(key.address))
        .count()
        .get_result(conn)?;
    let account: i64 = recent()
        .filter(login_failures::username.eq(key.username))
        .count()
        .get_result(conn)?;
    let address: i64 = recent()
        .filter(login_failures::address.eq(key.address))
        .count()
        .get_result(conn)?;
    let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    Ok(AttemptCounts {
        account_address: n(account_address),
        account: n(account),
        address: n(address),
    })
}

/// The oldest attempt since `since` counted under `scope` of `key`, to tell a
/// throttled caller when to retry (ACC-5).
pub fn oldest_attempt(
    conn: &mut DbConn,
    key: &AttemptKey<'_>,
    scope: AttemptScope,
    since: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, StoreError> {
    let recent = login_failures::table
        .filter(login_failures::kind.eq(key.kind.to_owned()))
        .filter(login_failures::created_at.ge(since))
        .select(diesel::dsl::min(login_failures::created_at));
    let oldest = match scope {
        AttemptScope::AccountAddress => recent
            .filter(login_failures::username.eq(key.username))
            .filter(login_failures::address.eq(key.address))
            .first::<Option<NaiveDateTime>>(conn)?,
        AttemptScope::Account => recent
            .filter(login_failures::username.eq(key.username))
            .first::<Option<NaiveDateTime>>(conn)?,
        AttemptScope::Address => recent
            .filter(login_failures::address.eq(key.address))
            .first::<Option<NaiveDateTime>>(conn)?,
    };
    Ok(oldest)
}

/// Records an attempt under `key` before its password is checked (ACC-5).
pub fn insert_attempt(
    conn: &mut DbConn,
    id: &str,
    key: &AttemptKey<'_>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(id),
            login_failures::kind.eq(key.kind),
            login_failures::username.eq(key.username),
            login_failures::address.eq(key.address),
            login_failures::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes one recorded attempt (a reservation that did not reach the check).
pub fn delete_attempt(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq(id))).execute(conn)?;
    Ok(())
}

/// Forgets the attempts of `key.kind` for the account, from the address when
/// `from_address_only`, else from everywhere (after a success).
pub fn clear_attempts(
    conn: &mut DbConn,
    key: &AttemptKey<'_>,
    from_address_only: bool,
) -> Result<usize, StoreError> {
    let rows = login_failures::table
        .filter(login_failures::kind.eq(key.kind.to_owned()))
        .filter(login_failures::username.eq(key.username.to_owned()));
    let n = if from_address_only {
        diesel::delete(rows.filter(login_failures::address.eq(key.address.to_owned())))
            .execute(conn)?
    } else {
        diesel::delete(rows).execute(conn)?
    };
    Ok(n)
}

/// Forgets every attempt of every kind for an account name (an
/// administrator's unlock, ACC-5); returns how many were forgotten.
pub fn clear_account_attempts(conn: &mut DbConn, username: &str) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(login_failures::table.filter(login_failures::username.eq(username)))
            .execute(conn)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_lock_ids_are_stable_across_processes() {
        // rule ACC-5: every instance must take the same lock for the same key
        assert_eq!(
            lock_id(""),
            i64::from_ne_bytes(0xcbf2_9ce4_8422_2325_u64.to_ne_bytes())
        );
        assert_eq!(
            lock_id("a"),
            i64::from_ne_bytes(0xaf63_dc4c_8601_ec8c_u64.to_ne_bytes())
        );
        assert_ne!(
            lock_id("guild.attempts.account:admin"),
            lock_id("guild.attempts.address:admin")
        );
    }
}
