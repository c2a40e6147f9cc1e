//! Member organisations (PPL-4).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::organisations;
use crate::{DbConn, Page, StoreError, page_of};

/// One organisation as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub region: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub version: i32,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct OrganisationFilter {
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Restricts the list to one organisation (organisation users, ACC-2).
    pub only_id: Option<String>,
    /// Case-sensitive substring of the name.
    pub name_contains: Option<String>,
}

/// Inserts a new organisation.
pub fn insert(conn: &mut DbConn, row: &OrganisationRow) -> Result<(), StoreError> {
    diesel::insert_into(organisations::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds an organisation by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<OrganisationRow>, StoreError> {
    Ok(organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds an organisation by its unified social credit code.
pub fn find_by_credit_code(
    conn: &mut DbConn,
    code: &str,
) -> Result<Option<OrganisationRow>, StoreError> {
    Ok(organisations::table
        .filter(organisations::credit_code.eq(code))
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Lists organisations in id order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &OrganisationFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<OrganisationRow>, StoreError> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .into_boxed();
    if let Some(kind) = &filter.kind {
        query = query.filter(organisations::kind.eq(kind.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(organisations::status.eq(status.clone()));
    }
    if let Some(id) = &filter.only_id {
        query = query.filter(organisations::id.eq(id.clone()));
    }
    if let Some(name) = &filter.name_contains {
        query = query.filter(
            crate::lower(organisations::name)
                .like(crate::like_pattern(name))
                .escape('\\'),
        );
    }
    if let Some(after) = after {
        query = query.filter(organisations::id.gt(after.to_owned()));
    }
    let rows = query
        .order(organisations::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Saves `row` as the next version, if nobody changed it since it was read
/// (API-5): bumps `version`, stamps `updated_at`, and fails with
/// [`StoreError::Stale`] when the stored version moved on.
pub fn update(
    conn: &mut DbConn,
    row: &mut OrganisationRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        organisations::table
            .filter(organisations::id.eq(&row.id))
            .filter(organisations::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "organisations",
        })
    }
}
