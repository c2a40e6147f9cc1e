//! Refresh tokens and failed logins (ACC-1, ACC-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;

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
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
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

/// Revokes one token if it is still live; returns whether this call revoked it,
/// so two concurrent refreshes with one token cannot both succeed.
pub fn revoke_refresh_token(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
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

/// Records a failed login.
pub fn record_login_failure(
    conn: &mut DbConn,
    id: &str,
    username: &str,
    address: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(id),
            login_failures::username.eq(username),
            login_failures::address.eq(address),
            login_failures::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failed logins since `since` for an account name and for an address.
pub fn count_login_failures(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    since: NaiveDateTime,
) -> Result<(i64, i64), StoreError> {
    let by_account = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::created_at.ge(since))
        .count()
        .get_result(conn)?;
    let by_address = login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::created_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok((by_account, by_address))
}

/// The oldest failed login since `since` for an account name or an address
/// (whichever is older), to tell a throttled caller when to retry (ACC-5).
pub fn oldest_login_failure(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    since: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(login_failures::table
        .filter(
            login_failures::username
                .eq(username)
                .or(login_failures::address.eq(address)),
        )
        .filter(login_failures::created_at.ge(since))
        .select(diesel::dsl::min(login_failures::created_at))
        .first::<Option<NaiveDateTime>>(conn)?)
}

/// Forgets an account's failures after a successful login.
pub fn clear_login_failures(conn: &mut DbConn, username: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.filter(login_failures::username.eq(username)))
        .execute(conn)?;
    Ok(())
}
