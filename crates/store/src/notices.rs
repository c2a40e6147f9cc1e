//! Public notices: teacher dismissals, certificate changes and cancellations (TCH-2, CRT-6).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::notices;
use crate::{DbConn, Page, StoreError, page_of};

/// One `notices` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub entity_type: String,
    pub entity_id: String,
    pub published_at: NaiveDateTime,
}

/// Inserts a `notices` row.
pub fn insert(conn: &mut DbConn, row: &NoticeRow) -> Result<(), StoreError> {
    diesel::insert_into(notices::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `notices` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<NoticeRow>, StoreError> {
    Ok(notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()?)
}

/// Lists notices in id order (oldest first: ids are time-ordered UUIDv7)
/// after `after`, optionally of one kind.
pub fn list(
    conn: &mut DbConn,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<NoticeRow>, StoreError> {
    let mut query = notices::table.select(NoticeRow::as_select()).into_boxed();
    if let Some(kind) = kind {
        query = query.filter(notices::kind.eq(kind.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(notices::id.gt(after.to_owned()));
    }
    let rows = query.order(notices::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}
