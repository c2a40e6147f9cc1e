//! Attendance per session and leave requests (ATT-1 to ATT-3).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{attendance_records, leave_requests};
use crate::{DbConn, StoreError};

/// One `attendance_records` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = attendance_records)]
pub struct AttendanceRecordRow {
    pub id: String,
    pub class_id: String,
    pub session_id: String,
    pub enrolment_id: String,
    pub status: String,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// Inserts a `attendance_records` row.
pub fn insert(conn: &mut DbConn, row: &AttendanceRecordRow) -> Result<(), StoreError> {
    diesel::insert_into(attendance_records::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `attendance_records` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<AttendanceRecordRow>, StoreError> {
    Ok(attendance_records::table
        .find(id)
        .select(AttendanceRecordRow::as_select())
        .first(conn)
        .optional()?)
}

/// One `leave_requests` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = leave_requests, treat_none_as_null = true)]
pub struct LeaveRequestRow {
    pub id: String,
    pub enrolment_id: String,
    pub session_id: String,
    pub organisation_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub filed_by: String,
    pub filed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `leave_requests` row.
pub fn insert_leave_request(conn: &mut DbConn, row: &LeaveRequestRow) -> Result<(), StoreError> {
    diesel::insert_into(leave_requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `leave_requests` row by id.
pub fn find_leave_request(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<LeaveRequestRow>, StoreError> {
    Ok(leave_requests::table
        .find(id)
        .select(LeaveRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update_leave_request(
    conn: &mut DbConn,
    row: &mut LeaveRequestRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        leave_requests::table
            .filter(leave_requests::id.eq(&row.id))
            .filter(leave_requests::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "leave_requests",
        })
    }
}
