//! Exam sittings, registrations and results (EXM-1 to EXM-5).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::schema::{exam_registrations, sittings};
use crate::{DbConn, StoreError};

/// One `sittings` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sittings, treat_none_as_null = true)]
pub struct SittingRow {
    pub id: String,
    pub class_id: String,
    pub kind: String,
    pub held_on: NaiveDate,
    pub starts_at: NaiveTime,
    pub place: String,
    pub status: String,
    pub version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `sittings` row.
pub fn insert(conn: &mut DbConn, row: &SittingRow) -> Result<(), StoreError> {
    diesel::insert_into(sittings::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `sittings` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<SittingRow>, StoreError> {
    Ok(sittings::table
        .find(id)
        .select(SittingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut SittingRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        sittings::table
            .filter(sittings::id.eq(&row.id))
            .filter(sittings::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "sittings" })
    }
}

/// One `exam_registrations` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = exam_registrations, treat_none_as_null = true)]
pub struct ExamRegistrationRow {
    pub id: String,
    pub sitting_id: String,
    pub enrolment_id: String,
    pub person_id: String,
    pub attempt: i32,
    pub charged: bool,
    pub status: String,
    pub theory_score: Option<i32>,
    pub practical_score: Option<i32>,
    pub passed: Option<bool>,
    pub result_entered_by: Option<String>,
    pub result_entered_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `exam_registrations` row.
pub fn insert_registration(conn: &mut DbConn, row: &ExamRegistrationRow) -> Result<(), StoreError> {
    diesel::insert_into(exam_registrations::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `exam_registrations` row by id.
pub fn find_registration(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ExamRegistrationRow>, StoreError> {
    Ok(exam_registrations::table
        .find(id)
        .select(ExamRegistrationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update_registration(
    conn: &mut DbConn,
    row: &mut ExamRegistrationRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        exam_registrations::table
            .filter(exam_registrations::id.eq(&row.id))
            .filter(exam_registrations::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "exam_registrations",
        })
    }
}
