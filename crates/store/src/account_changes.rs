//! Organisation account change requests (ACC-4, 变更函).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::account_changes;
use crate::{DbConn, Page, StoreError, page_of};

/// One account change request as stored. The proposed password is kept only as a hash.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = account_changes, treat_none_as_null = true)]
pub struct AccountChangeRow {
    pub id: String,
    pub organisation_id: String,
    pub role: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub replaces_user_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub submitted_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub created_user_id: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct AccountChangeFilter {
    pub organisation_id: Option<String>,
    pub status: Option<String>,
}

/// Inserts a request.
pub fn insert(conn: &mut DbConn, row: &AccountChangeRow) -> Result<(), StoreError> {
    diesel::insert_into(account_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a request by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<AccountChangeRow>, StoreError> {
    Ok(account_changes::table
        .find(id)
        .select(AccountChangeRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether an open (submitted) request already asks for this user name.
pub fn pending_username_exists(conn: &mut DbConn, username: &str) -> Result<bool, StoreError> {
    let n: i64 = account_changes::table
        .filter(account_changes::username.eq(username))
        .filter(account_changes::status.eq("submitted"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Lists requests in id order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &AccountChangeFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<AccountChangeRow>, StoreError> {
    let mut query = account_changes::table
        .select(AccountChangeRow::as_select())
        .into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(account_changes::organisation_id.eq(org.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(account_changes::status.eq(status.clone()));
    }
    if let Some(after) = after {
        query = query.filter(account_changes::id.gt(after.to_owned()));
    }
    let rows = query
        .order(account_changes::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Saves `row` as the next version, if nobody changed it since it was read
/// (API-5): bumps `version`, stamps `updated_at`, and fails with
/// [`StoreError::Stale`] when the stored version moved on.
pub fn update(
    conn: &mut DbConn,
    row: &mut AccountChangeRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        account_changes::table
            .filter(account_changes::id.eq(&row.id))
            .filter(account_changes::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "account_changes",
        })
    }
}
