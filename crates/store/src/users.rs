//! Accounts (ACC-1, ACC-3, ACC-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::users;
use crate::{DbConn, Page, StoreError, page_of};

/// One account as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub person_id: Option<String>,
    pub status: String,
    pub token_version: i32,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub organisation_id: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
}

/// Inserts an account.
pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<(), StoreError> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds an account by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds an account by its (lower-case) user name.
pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// How many accounts exist (the first start creates the admin when there are none).
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

/// Lists accounts in id order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<UserRow>, StoreError> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(users::organisation_id.eq(org.clone()));
    }
    if let Some(role) = &filter.role {
        query = query.filter(users::role.eq(role.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(users::status.eq(status.clone()));
    }
    if let Some(after) = after {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    let rows = query.order(users::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Saves `row` as the next version, if nobody changed it since it was read
/// (API-5): bumps `version`, stamps `updated_at`, and fails with
/// [`StoreError::Stale`] when the stored version moved on.
pub fn update(conn: &mut DbConn, row: &mut UserRow, at: NaiveDateTime) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        users::table
            .filter(users::id.eq(&row.id))
            .filter(users::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "users" })
    }
}
