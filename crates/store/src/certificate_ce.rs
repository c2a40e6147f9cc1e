//! Continuing education recorded against a certificate (CRT-4): each row
//! names the period it was completed in and the new expiry it gave.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::certificate_ce_records;
use crate::{DbConn, Page, StoreError, page_of};

/// One `certificate_ce_records` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificate_ce_records)]
pub struct CertificateCeRow {
    pub id: String,
    pub certificate_id: String,
    pub person_id: String,
    pub kind: String,
    pub title: String,
    pub hours: i32,
    pub completed_on: NaiveDate,
    pub evidence_reference: Option<String>,
    /// The last day of the period the CE was completed in.
    pub period_ended_on: NaiveDate,
    /// The certificate's new last valid day, when this record renewed it.
    pub renewed_until: Option<NaiveDate>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// Inserts a `certificate_ce_records` row (records are never changed).
pub fn insert(conn: &mut DbConn, row: &CertificateCeRow) -> Result<(), StoreError> {
    diesel::insert_into(certificate_ce_records::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Lists a certificate's CE records in id (recording) order after `after`.
pub fn list_for_certificate(
    conn: &mut DbConn,
    certificate_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<CertificateCeRow>, StoreError> {
    let mut query = certificate_ce_records::table
        .filter(certificate_ce_records::certificate_id.eq(certificate_id.to_owned()))
        .select(CertificateCeRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(certificate_ce_records::id.gt(after.to_owned()));
    }
    let rows = query
        .order(certificate_ce_records::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}
