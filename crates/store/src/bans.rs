//! Bans from training and exams (DSC-4), checked by enrolment (ENR-4).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::bans;
use crate::{DbConn, StoreError};

/// One `bans` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bans)]
pub struct BanRow {
    pub id: String,
    pub person_id: String,
    pub scope: String,
    pub program_id: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub reason: String,
    pub rule: String,
    pub sanction_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_reason: Option<String>,
}

/// Inserts a `bans` row.
pub fn insert(conn: &mut DbConn, row: &BanRow) -> Result<(), StoreError> {
    diesel::insert_into(bans::table).values(row).execute(conn)?;
    Ok(())
}

/// Finds a `bans` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<BanRow>, StoreError> {
    Ok(bans::table
        .find(id)
        .select(BanRow::as_select())
        .first(conn)
        .optional()?)
}
