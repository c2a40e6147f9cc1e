//! The association board's terms and teacher appointments (TCH-1, TCH-2).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{teacher_appointments, terms};
use crate::{DbConn, StoreError};

/// One `terms` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = terms)]
pub struct TermRow {
    pub id: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

/// Inserts a `terms` row.
pub fn insert_term(conn: &mut DbConn, row: &TermRow) -> Result<(), StoreError> {
    diesel::insert_into(terms::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `terms` row by id.
pub fn find_term(conn: &mut DbConn, id: &str) -> Result<Option<TermRow>, StoreError> {
    Ok(terms::table
        .find(id)
        .select(TermRow::as_select())
        .first(conn)
        .optional()?)
}

/// One `teacher_appointments` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = teacher_appointments, treat_none_as_null = true)]
pub struct AppointmentRow {
    pub id: String,
    pub user_id: String,
    pub term_id: String,
    pub subjects: Option<String>,
    pub status: String,
    pub appointed_by: String,
    pub dismissed_at: Option<NaiveDateTime>,
    pub dismissed_by: Option<String>,
    pub dismissal_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `teacher_appointments` row.
pub fn insert_appointment(conn: &mut DbConn, row: &AppointmentRow) -> Result<(), StoreError> {
    diesel::insert_into(teacher_appointments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `teacher_appointments` row by id.
pub fn find_appointment(conn: &mut DbConn, id: &str) -> Result<Option<AppointmentRow>, StoreError> {
    Ok(teacher_appointments::table
        .find(id)
        .select(AppointmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update_appointment(
    conn: &mut DbConn,
    row: &mut AppointmentRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        teacher_appointments::table
            .filter(teacher_appointments::id.eq(&row.id))
            .filter(teacher_appointments::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "teacher_appointments",
        })
    }
}
