//! Attendance per session and leave requests (ATT-1 to ATT-3).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{
    attendance_records, class_sessions, classes, enrolments, leave_requests, people,
};
use crate::{DbConn, Page, StoreError, page_of};

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

/// The attendance record of one trainee at one session, if any (ATT-1).
pub fn find_for(
    conn: &mut DbConn,
    session_id: &str,
    enrolment_id: &str,
) -> Result<Option<AttendanceRecordRow>, StoreError> {
    Ok(attendance_records::table
        .filter(attendance_records::session_id.eq(session_id))
        .filter(attendance_records::enrolment_id.eq(enrolment_id))
        .select(AttendanceRecordRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves a changed record (status, note, who and when) of an existing row.
pub fn update_record(conn: &mut DbConn, row: &AttendanceRecordRow) -> Result<(), StoreError> {
    diesel::update(attendance_records::table.find(&row.id))
        .set((
            attendance_records::status.eq(&row.status),
            attendance_records::note.eq(&row.note),
            attendance_records::recorded_by.eq(&row.recorded_by),
            attendance_records::recorded_at.eq(row.recorded_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every attendance record of the class (the attendance sheet, ATT-1).
pub fn for_class(
    conn: &mut DbConn,
    class_id: &str,
) -> Result<Vec<AttendanceRecordRow>, StoreError> {
    Ok(attendance_records::table
        .filter(attendance_records::class_id.eq(class_id))
        .order(attendance_records::id.asc())
        .select(AttendanceRecordRow::as_select())
        .load(conn)?)
}

/// The enrolment's attendance records with their session dates (ATT-3).
pub fn for_enrolment(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> Result<Vec<(AttendanceRecordRow, NaiveDate)>, StoreError> {
    Ok(attendance_records::table
        .inner_join(class_sessions::table.on(class_sessions::id.eq(attendance_records::session_id)))
        .filter(attendance_records::enrolment_id.eq(enrolment_id))
        .order(class_sessions::session_date.asc())
        .select((
            AttendanceRecordRow::as_select(),
            class_sessions::session_date,
        ))
        .load(conn)?)
}

/// The leave requests of the class's enrolments in one status (e.g. the
/// approved ones, which excuse their sessions, ATT-1).
pub fn leave_for_class(
    conn: &mut DbConn,
    class_id: &str,
    status: &str,
) -> Result<Vec<LeaveRequestRow>, StoreError> {
    let in_class = enrolments::table
        .filter(enrolments::class_id.eq(class_id.to_owned()))
        .select(enrolments::id);
    Ok(leave_requests::table
        .filter(leave_requests::enrolment_id.eq_any(in_class))
        .filter(leave_requests::status.eq(status))
        .order(leave_requests::id.asc())
        .select(LeaveRequestRow::as_select())
        .load(conn)?)
}

/// The enrolment's leave request for the session in one of `statuses`, if any
/// (the database allows one that is not refused per enrolment and session).
pub fn leave_for(
    conn: &mut DbConn,
    enrolment_id: &str,
    session_id: &str,
    statuses: &[&str],
) -> Result<Option<LeaveRequestRow>, StoreError> {
    Ok(leave_requests::table
        .filter(leave_requests::enrolment_id.eq(enrolment_id))
        .filter(leave_requests::session_id.eq(session_id))
        .filter(leave_requests::status.eq_any(statuses))
        .order(leave_requests::id.asc())
        .select(LeaveRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// A leave request with what a list shows of its enrolment and session.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaveListRow {
    pub leave: LeaveRequestRow,
    pub class_id: String,
    pub person_id: String,
    pub person_name: String,
    pub session_date: NaiveDate,
}

/// Filters for [`list_leave_requests`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct LeaveFilter {
    pub status: Option<String>,
    pub class_id: Option<String>,
    pub enrolment_id: Option<String>,
    pub session_id: Option<String>,
    /// Confines the list to one organisation (organisation users, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to the enrolments of one person (trainees).
    pub only_person: Option<String>,
    /// Confines the list to the classes this user heads (class heads, ATT-2).
    pub only_class_head: Option<String>,
}

/// Lists leave requests with their enrolment's class and person and the
/// session date, in id (filing) order after `after`.
pub fn list_leave_requests(
    conn: &mut DbConn,
    filter: &LeaveFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<LeaveListRow>, StoreError> {
    let mut query = leave_requests::table
        .inner_join(enrolments::table.on(enrolments::id.eq(leave_requests::enrolment_id)))
        .inner_join(people::table.on(people::id.eq(enrolments::person_id)))
        .inner_join(class_sessions::table.on(class_sessions::id.eq(leave_requests::session_id)))
        .select((
            LeaveRequestRow::as_select(),
            enrolments::class_id,
            enrolments::person_id,
            people::name,
            class_sessions::session_date,
        ))
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(leave_requests::status.eq(v.clone()));
    }
    if let Some(v) = &filter.class_id {
        query = query.filter(enrolments::class_id.eq(v.clone()));
    }
    if let Some(v) = &filter.enrolment_id {
        query = query.filter(leave_requests::enrolment_id.eq(v.clone()));
    }
    if let Some(v) = &filter.session_id {
        query = query.filter(leave_requests::session_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(leave_requests::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(enrolments::person_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_class_head {
        let headed = classes::table
            .filter(classes::class_head_user_id.eq(v.clone()))
            .select(classes::id);
        query = query.filter(enrolments::class_id.eq_any(headed));
    }
    if let Some(after) = after {
        query = query.filter(leave_requests::id.gt(after.to_owned()));
    }
    let rows = query
        .order(leave_requests::id.asc())
        .limit(limit + 1)
        .load::<(LeaveRequestRow, String, String, String, NaiveDate)>(conn)?
        .into_iter()
        .map(
            |(leave, class_id, person_id, person_name, session_date)| LeaveListRow {
                leave,
                class_id,
                person_id,
                person_name,
                session_date,
            },
        )
        .collect();
    Ok(page_of(rows, limit, |r| r.leave.id.clone()))
}
