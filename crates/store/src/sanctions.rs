//! Exam discipline sanctions and the public misconduct register (DSC-1 to DSC-5, CRT-7).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{misconduct_entries, sanctions};
use crate::{DbConn, StoreError};

/// One `sanctions` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sanctions, treat_none_as_null = true)]
pub struct SanctionRow {
    pub id: String,
    pub sitting_id: String,
    pub registration_id: String,
    pub person_id: String,
    pub organisation_id: Option<String>,
    pub offence: String,
    pub outcome: String,
    pub rule: String,
    pub description: String,
    pub evidence_reference: String,
    pub invigilator_user_id: String,
    pub occurred_at: NaiveDateTime,
    pub ban_id: Option<String>,
    pub employer_notified_at: Option<NaiveDateTime>,
    pub status: String,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawal_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `sanctions` row.
pub fn insert(conn: &mut DbConn, row: &SanctionRow) -> Result<(), StoreError> {
    diesel::insert_into(sanctions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `sanctions` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<SanctionRow>, StoreError> {
    Ok(sanctions::table
        .find(id)
        .select(SanctionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut SanctionRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        sanctions::table
            .filter(sanctions::id.eq(&row.id))
            .filter(sanctions::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "sanctions" })
    }
}

/// One `misconduct_entries` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = misconduct_entries)]
pub struct MisconductEntryRow {
    pub id: String,
    pub person_id: Option<String>,
    pub organisation_id: Option<String>,
    pub offence: String,
    pub sanction_summary: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub sanction_id: Option<String>,
    pub status: String,
    pub withdrawal_reason: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub published_at: NaiveDateTime,
}

/// Inserts a `misconduct_entries` row.
pub fn insert_misconduct_entry(
    conn: &mut DbConn,
    row: &MisconductEntryRow,
) -> Result<(), StoreError> {
    diesel::insert_into(misconduct_entries::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `misconduct_entries` row by id.
pub fn find_misconduct_entry(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<MisconductEntryRow>, StoreError> {
    Ok(misconduct_entries::table
        .find(id)
        .select(MisconductEntryRow::as_select())
        .first(conn)
        .optional()?)
}
