//! Public notices: teacher dismissals, certificate changes and cancellations (TCH-2, CRT-6).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::notices;
use crate::{DbConn, StoreError};

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
