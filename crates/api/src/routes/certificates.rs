//! Certificates (SPEC §9): issuing to those who passed (CRT-1), QR codes and
//! public verification (CRT-2, CRT-8), continuing-education renewal (CRT-4),
//! holder and company lists with the CSV export.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::certificate::{self, CertificateRecordStatus};
use guild_store::DbConn;
use guild_store::certificates::CertificateRow;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::random_bytes;
use crate::error::ApiResult;

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(_cfg: &mut ServiceConfig) {}

/// What a new certificate is issued for: a pass (CRT-1) or a request that
/// replaces an earlier certificate (CRT-5).
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub person_id: String,
    pub organisation_id: Option<String>,
    pub holder_name: String,
    pub program_id: String,
    pub class_id: Option<String>,
    pub enrolment_id: Option<String>,
    pub registration_id: Option<String>,
    /// The issue day in the association's time zone.
    pub issued_on: NaiveDate,
    pub validity_years: i32,
    /// The current validity period: a fresh certificate starts on `issued_on`
    /// and runs to [`certificate::valid_until`]; a replacement keeps the
    /// period (and renewals) of the certificate it replaces.
    pub period_started_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub renewals: i32,
    pub replaces_id: Option<String>,
    pub issued_by: String,
}

/// A new unguessable verification code (CRT-2): 144 random bits, URL-safe
/// base64 (24 characters).
pub fn new_verification_code() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(18))
}

/// Inserts a new certificate with the next number of its issue year and a
/// fresh verification code, inside the caller's write transaction (CRT-1, CRT-5).
pub fn issue(
    conn: &mut DbConn,
    new: NewCertificate,
    at: DateTime<Utc>,
) -> ApiResult<CertificateRow> {
    use chrono::Datelike;
    let serial = guild_store::certificates::next_serial(conn, new.issued_on.year())?;
    let serial = u32::try_from(serial).unwrap_or_default();
    let now = at.naive_utc();
    let row = CertificateRow {
        id: Uuid::now_v7().to_string(),
        number: certificate::format_number(new.issued_on, serial),
        code: new_verification_code(),
        person_id: new.person_id,
        organisation_id: new.organisation_id,
        holder_name: new.holder_name,
        program_id: new.program_id,
        class_id: new.class_id,
        enrolment_id: new.enrolment_id,
        registration_id: new.registration_id,
        issued_on: new.issued_on,
        validity_years: new.validity_years,
        period_started_on: new.period_started_on,
        valid_until: new.valid_until,
        renewals: new.renewals,
        status: CertificateRecordStatus::Active.as_str().to_owned(),
        replaces_id: new.replaces_id,
        superseded_by_id: None,
        ended_at: None,
        end_reason: None,
        issued_by: new.issued_by,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::certificates::insert(conn, &row)?;
    Ok(row)
}
