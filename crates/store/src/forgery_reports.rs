//! Reports of forged or fake certificates (CRT-7); each one lists an entry in
//! the public misconduct register (`misconduct_entries`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::forgery_reports;
use crate::{DbConn, Page, StoreError, page_of};

/// One `forgery_reports` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = forgery_reports)]
pub struct ForgeryReportRow {
    pub id: String,
    pub person_id: Option<String>,
    pub organisation_id: Option<String>,
    pub claimed_number: Option<String>,
    pub certificate_id: Option<String>,
    pub description: String,
    pub evidence_reference: String,
    pub misconduct_entry_id: String,
    pub reported_by: String,
    pub reported_at: NaiveDateTime,
}

/// Inserts a `forgery_reports` row (after its misconduct entry).
pub fn insert(conn: &mut DbConn, row: &ForgeryReportRow) -> Result<(), StoreError> {
    diesel::insert_into(forgery_reports::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `forgery_reports` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ForgeryReportRow>, StoreError> {
    Ok(forgery_reports::table
        .find(id)
        .select(ForgeryReportRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct ForgeryFilter {
    pub person_id: Option<String>,
    pub organisation_id: Option<String>,
}

/// Lists reports in id (reporting) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &ForgeryFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<ForgeryReportRow>, StoreError> {
    let mut query = forgery_reports::table
        .select(ForgeryReportRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.person_id {
        query = query.filter(forgery_reports::person_id.eq(v.clone()));
    }
    if let Some(v) = &filter.organisation_id {
        query = query.filter(forgery_reports::organisation_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(forgery_reports::id.gt(after.to_owned()));
    }
    let rows = query
        .order(forgery_reports::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r: &ForgeryReportRow| r.id.clone()))
}
