//! Enrolments (ENR-1 to ENR-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::enrolments;
use crate::{DbConn, StoreError};

/// One `enrolments` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = enrolments, treat_none_as_null = true)]
pub struct EnrolmentRow {
    pub id: String,
    pub class_id: String,
    pub person_id: String,
    pub organisation_id: Option<String>,
    pub channel: String,
    pub status: String,
    pub submitted_at: Option<NaiveDateTime>,
    pub org_approved_by: Option<String>,
    pub org_approved_at: Option<NaiveDateTime>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub waitlisted_at: Option<NaiveDateTime>,
    pub paid_at: Option<NaiveDateTime>,
    pub notified_at: Option<NaiveDateTime>,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<NaiveDateTime>,
    pub rejection_reason: Option<String>,
    pub transferred_from_id: Option<String>,
    pub created_by: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `enrolments` row.
pub fn insert(conn: &mut DbConn, row: &EnrolmentRow) -> Result<(), StoreError> {
    diesel::insert_into(enrolments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `enrolments` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<EnrolmentRow>, StoreError> {
    Ok(enrolments::table
        .find(id)
        .select(EnrolmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut EnrolmentRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        enrolments::table
            .filter(enrolments::id.eq(&row.id))
            .filter(enrolments::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "enrolments",
        })
    }
}
