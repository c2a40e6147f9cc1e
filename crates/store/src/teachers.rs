//! The association board's terms and teacher appointments (TCH-1, TCH-2).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{teacher_appointments, terms, users};
use crate::{DbConn, Page, StoreError, page_of};

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

/// Lists terms in id (creation) order after `after`.
pub fn list_terms(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<TermRow>, StoreError> {
    let mut query = terms::table.select(TermRow::as_select()).into_boxed();
    if let Some(after) = after {
        query = query.filter(terms::id.gt(after.to_owned()));
    }
    let rows = query.order(terms::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Filters for [`list_appointments`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct AppointmentFilter {
    pub term_id: Option<String>,
    pub user_id: Option<String>,
    /// The stored status (`appointed` or `dismissed`).
    pub stored_status: Option<String>,
    /// Only appointments whose term's last day is before this date (ended terms).
    pub term_ended_before: Option<NaiveDate>,
    /// Only appointments whose term's last day is on or after this date (running terms).
    pub term_running_on: Option<NaiveDate>,
}

/// Lists appointments with their terms in id (creation) order after `after`.
pub fn list_appointments(
    conn: &mut DbConn,
    filter: &AppointmentFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<(AppointmentRow, TermRow)>, StoreError> {
    let mut query = teacher_appointments::table
        .inner_join(terms::table)
        .select((AppointmentRow::as_select(), TermRow::as_select()))
        .into_boxed();
    if let Some(term) = &filter.term_id {
        query = query.filter(teacher_appointments::term_id.eq(term.clone()));
    }
    if let Some(user) = &filter.user_id {
        query = query.filter(teacher_appointments::user_id.eq(user.clone()));
    }
    if let Some(status) = &filter.stored_status {
        query = query.filter(teacher_appointments::status.eq(status.clone()));
    }
    if let Some(day) = filter.term_ended_before {
        query = query.filter(terms::ends_on.lt(day));
    }
    if let Some(day) = filter.term_running_on {
        query = query.filter(terms::ends_on.ge(day));
    }
    if let Some(after) = after {
        query = query.filter(teacher_appointments::id.gt(after.to_owned()));
    }
    let rows = query
        .order(teacher_appointments::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |(a, _)| a.id.clone()))
}

/// Every appointment of one user, with its term (TCH-1: may they teach a class?).
pub fn appointments_of_user(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Vec<(AppointmentRow, TermRow)>, StoreError> {
    Ok(teacher_appointments::table
        .inner_join(terms::table)
        .filter(teacher_appointments::user_id.eq(user_id))
        .order(teacher_appointments::id.asc())
        .select((AppointmentRow::as_select(), TermRow::as_select()))
        .load(conn)?)
}

/// The display names of the accounts among `ids` (for views that name teachers).
pub fn display_names(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
