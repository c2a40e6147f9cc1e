//! The notification inbox of each account (ENR-1 class notices).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::notifications;
use crate::{DbConn, StoreError};

/// One `notifications` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub recipient_user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub entity_type: String,
    pub entity_id: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// Inserts a `notifications` row.
pub fn insert(conn: &mut DbConn, row: &NotificationRow) -> Result<(), StoreError> {
    diesel::insert_into(notifications::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `notifications` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<NotificationRow>, StoreError> {
    Ok(notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?)
}
