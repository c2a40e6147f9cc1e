//! Certificates and their yearly number serials (CRT-1 to CRT-8).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{certificate_numbers, certificates};
use crate::{DbConn, StoreError};

/// One `certificates` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = certificates, treat_none_as_null = true)]
pub struct CertificateRow {
    pub id: String,
    pub number: String,
    pub code: String,
    pub person_id: String,
    pub organisation_id: Option<String>,
    pub holder_name: String,
    pub program_id: String,
    pub class_id: Option<String>,
    pub enrolment_id: Option<String>,
    pub registration_id: Option<String>,
    pub issued_on: NaiveDate,
    pub validity_years: i32,
    pub period_started_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub renewals: i32,
    pub status: String,
    pub replaces_id: Option<String>,
    pub superseded_by_id: Option<String>,
    pub ended_at: Option<NaiveDateTime>,
    pub end_reason: Option<String>,
    pub issued_by: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `certificates` row.
pub fn insert(conn: &mut DbConn, row: &CertificateRow) -> Result<(), StoreError> {
    diesel::insert_into(certificates::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `certificates` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<CertificateRow>, StoreError> {
    Ok(certificates::table
        .find(id)
        .select(CertificateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds a certificate by its verification code (CRT-2; a unique index).
pub fn find_by_code(conn: &mut DbConn, code: &str) -> Result<Option<CertificateRow>, StoreError> {
    Ok(certificates::table
        .filter(certificates::code.eq(code))
        .select(CertificateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut CertificateRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        certificates::table
            .filter(certificates::id.eq(&row.id))
            .filter(certificates::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "certificates",
        })
    }
}

/// Takes the next certificate serial of `year` (CRT-1), inside the caller's
/// write transaction. The year's counter row is created up front with a
/// portable "insert unless present", then incremented: on PostgreSQL the
/// update holds the row lock until commit, so two issuers never get one
/// serial; SQLite serialises write transactions anyway.
pub fn next_serial(conn: &mut DbConn, year: i32) -> Result<i32, StoreError> {
    let insert = diesel::insert_into(certificate_numbers::table).values((
        certificate_numbers::year.eq(year),
        certificate_numbers::last_number.eq(0),
    ));
    match conn {
        DbConn::Postgres(c) => {
            insert.on_conflict_do_nothing().execute(c)?;
        }
        DbConn::Sqlite(c) => {
            insert.on_conflict_do_nothing().execute(c)?;
        }
    }
    diesel::update(certificate_numbers::table.find(year))
        .set(certificate_numbers::last_number.eq(certificate_numbers::last_number + 1))
        .execute(conn)?;
    Ok(certificate_numbers::table
        .find(year)
        .select(certificate_numbers::last_number)
        .first(conn)?)
}
