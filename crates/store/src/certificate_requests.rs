//! Reissue, change and cancellation requests of certificates (CRT-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{certificate_requests, certificates};
use crate::{DbConn, Page, StoreError, page_of};

/// One `certificate_requests` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = certificate_requests, treat_none_as_null = true)]
pub struct CertificateRequestRow {
    pub id: String,
    pub certificate_id: String,
    pub kind: String,
    pub organisation_id: Option<String>,
    pub person_id: String,
    pub reason: String,
    pub new_holder_name: Option<String>,
    pub new_organisation_id: Option<String>,
    pub physical_card: bool,
    pub card_fee_fen: i64,
    pub status: String,
    pub filed_by: String,
    pub filed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub new_certificate_id: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `certificate_requests` row. The partial unique index
/// `certificate_requests_one_open` refuses a second `submitted` request of
/// one certificate (CRT-5): see [`StoreError::is_unique_violation`].
pub fn insert(conn: &mut DbConn, row: &CertificateRequestRow) -> Result<(), StoreError> {
    diesel::insert_into(certificate_requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `certificate_requests` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<CertificateRequestRow>, StoreError> {
    Ok(certificate_requests::table
        .find(id)
        .select(CertificateRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut CertificateRequestRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        certificate_requests::table
            .filter(certificate_requests::id.eq(&row.id))
            .filter(certificate_requests::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "certificate_requests",
        })
    }
}

/// The certificate's open (`submitted`) request, if any (CRT-5: at most one).
pub fn open_for_certificate(
    conn: &mut DbConn,
    certificate_id: &str,
) -> Result<Option<CertificateRequestRow>, StoreError> {
    Ok(certificate_requests::table
        .filter(certificate_requests::certificate_id.eq(certificate_id))
        .filter(certificate_requests::status.eq("submitted"))
        .select(CertificateRequestRow::as_select())
        .order(certificate_requests::id.asc())
        .first(conn)
        .optional()?)
}

/// A request with what a list shows of its certificate: the number and the
/// holder's name on it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestListRow {
    pub request: CertificateRequestRow,
    pub certificate_number: String,
    pub holder_name: String,
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub certificate_id: Option<String>,
    /// Confines the list to one organisation's requests (ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to one holder's requests (trainees).
    pub only_person: Option<String>,
}

/// Lists requests with their certificate's number and holder name, in id
/// (filing) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &RequestFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<RequestListRow>, StoreError> {
    let mut query = certificate_requests::table
        .inner_join(certificates::table)
        .select((
            CertificateRequestRow::as_select(),
            certificates::number,
            certificates::holder_name,
        ))
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(certificate_requests::status.eq(v.clone()));
    }
    if let Some(v) = &filter.kind {
        query = query.filter(certificate_requests::kind.eq(v.clone()));
    }
    if let Some(v) = &filter.certificate_id {
        query = query.filter(certificate_requests::certificate_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(certificate_requests::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(certificate_requests::person_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(certificate_requests::id.gt(after.to_owned()));
    }
    let rows = query
        .order(certificate_requests::id.asc())
        .limit(limit + 1)
        .load::<(CertificateRequestRow, String, String)>(conn)?
        .into_iter()
        .map(
            |(request, certificate_number, holder_name)| RequestListRow {
                request,
                certificate_number,
                holder_name,
            },
        )
        .collect();
    Ok(page_of(rows, limit, |r| r.request.id.clone()))
}
