//! Exam sittings, registrations and results (EXM-1 to EXM-5).
//!
//! The meaning of an `exam_registrations` row (attempt, charged, status,
//! scores, passed) is documented in `guild_domain::exam`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::schema::{classes, exam_registrations, sittings};
use crate::{DbConn, Page, StoreError, page_of};

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

/// Lists sittings (optionally of one class) in id (creation) order after `after`.
pub fn list(
    conn: &mut DbConn,
    class_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<SittingRow>, StoreError> {
    let mut query = sittings::table.select(SittingRow::as_select()).into_boxed();
    if let Some(v) = class_id {
        query = query.filter(sittings::class_id.eq(v.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(sittings::id.gt(after.to_owned()));
    }
    let rows = query
        .order(sittings::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// The enrolment's registrations in attempt order (EXM-3).
pub fn registrations_for_enrolment(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> Result<Vec<ExamRegistrationRow>, StoreError> {
    Ok(exam_registrations::table
        .filter(exam_registrations::enrolment_id.eq(enrolment_id))
        .order((
            exam_registrations::attempt.asc(),
            exam_registrations::id.asc(),
        ))
        .select(ExamRegistrationRow::as_select())
        .load(conn)?)
}

/// Every registration of every sitting of the class, with its sitting, in
/// sitting then registration order (EXM-5).
pub fn registrations_for_class(
    conn: &mut DbConn,
    class_id: &str,
) -> Result<Vec<(ExamRegistrationRow, SittingRow)>, StoreError> {
    Ok(exam_registrations::table
        .inner_join(sittings::table)
        .filter(sittings::class_id.eq(class_id))
        .order((sittings::id.asc(), exam_registrations::id.asc()))
        .select((ExamRegistrationRow::as_select(), SittingRow::as_select()))
        .load(conn)?)
}

/// How many registrations the sitting has.
pub fn registration_count(conn: &mut DbConn, sitting_id: &str) -> Result<i64, StoreError> {
    Ok(exam_registrations::table
        .filter(exam_registrations::sitting_id.eq(sitting_id))
        .count()
        .get_result(conn)?)
}

/// When and by whom the class's results were last published (EXM-5); the
/// columns are not part of `ClassRow`, so class updates never touch them.
pub fn results_published(
    conn: &mut DbConn,
    class_id: &str,
) -> Result<Option<(NaiveDateTime, Option<String>)>, StoreError> {
    let row: Option<(Option<NaiveDateTime>, Option<String>)> = classes::table
        .find(class_id)
        .select((classes::results_published_at, classes::results_published_by))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(at, by)| at.map(|at| (at, by))))
}

/// Records the publication of the class's results (EXM-5); the archive clock
/// (ARC-2) runs from `results_published_at`.
pub fn set_results_published(
    conn: &mut DbConn,
    class_id: &str,
    at: NaiveDateTime,
    by: &str,
) -> Result<(), StoreError> {
    diesel::update(classes::table.find(class_id))
        .set((
            classes::results_published_at.eq(Some(at)),
            classes::results_published_by.eq(Some(by)),
        ))
        .execute(conn)?;
    Ok(())
}
