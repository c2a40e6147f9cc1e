//! Certificates and their yearly number serials (CRT-1 to CRT-8).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{certificate_numbers, certificates};
use crate::{DbConn, Page, StoreError, page_of};

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

/// Filters for [`list`]: every condition is a plain column test, so a list
/// filtered by computed status (CRT-8) pages correctly.
#[derive(Debug, Default, Clone)]
pub struct CertificateFilter {
    /// Only this stored status.
    pub stored_status: Option<String>,
    /// `valid_until` on or after this day.
    pub valid_until_from: Option<NaiveDate>,
    /// `valid_until` on or before this day.
    pub valid_until_to: Option<NaiveDate>,
    pub person_id: Option<String>,
    pub program_id: Option<String>,
    pub class_id: Option<String>,
    /// Confines the list to one organisation (organisation users, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to one person (trainees).
    pub only_person: Option<String>,
}

/// Lists certificates in id (issue) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &CertificateFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<CertificateRow>, StoreError> {
    let mut query = certificates::table
        .select(CertificateRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.stored_status {
        query = query.filter(certificates::status.eq(v.clone()));
    }
    if let Some(v) = filter.valid_until_from {
        query = query.filter(certificates::valid_until.ge(v));
    }
    if let Some(v) = filter.valid_until_to {
        query = query.filter(certificates::valid_until.le(v));
    }
    if let Some(v) = &filter.person_id {
        query = query.filter(certificates::person_id.eq(v.clone()));
    }
    if let Some(v) = &filter.program_id {
        query = query.filter(certificates::program_id.eq(v.clone()));
    }
    if let Some(v) = &filter.class_id {
        query = query.filter(certificates::class_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(certificates::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(certificates::person_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(certificates::id.gt(after.to_owned()));
    }
    let rows = query
        .order(certificates::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// The original certificate (not a replacement) issued for an enrolment
/// (CRT-1: at most one, by the partial unique index).
pub fn original_for_enrolment(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> Result<Option<CertificateRow>, StoreError> {
    Ok(certificates::table
        .filter(certificates::enrolment_id.eq(enrolment_id))
        .filter(certificates::replaces_id.is_null())
        .select(CertificateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Locks a certificate row for the rest of the write transaction (PostgreSQL
/// `FOR UPDATE`; SQLite's write transaction already holds the lock).
pub fn lock(conn: &mut DbConn, id: &str) -> Result<Option<CertificateRow>, StoreError> {
    Ok(match conn {
        DbConn::Postgres(c) => certificates::table
            .find(id)
            .select(CertificateRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConn::Sqlite(c) => certificates::table
            .find(id)
            .select(CertificateRow::as_select())
            .first(c)
            .optional()?,
    })
}
