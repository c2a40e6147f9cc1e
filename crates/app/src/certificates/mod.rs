//! Certificates (SPEC §9): issuing to those who passed (CRT-1), QR codes and
//! public verification (CRT-2, CRT-8), continuing-education renewal (CRT-4),
//! holder and company lists with the CSV export.
//!
//! - Issuing (CRT-1): training staff issue, in one transaction, one original
//!   certificate to every enrolment of the class whose exam passed with a
//!   published result (EXM-5). Refused before the class's results are
//!   published (`results_not_published`). Re-running issues only the missing
//!   ones; enrolments that already hold their original are reported as
//!   skipped (`already_issued`), as is a pass entered after the last
//!   publication (`result_not_published`). The partial unique index
//!   `certificates_one_original_per_enrolment` stops a concurrent second
//!   original. The issue day is the association's local date of the action.
//!   The certificate belongs to the holder's organisation at issue time (the
//!   person's current employer, not the one that paid for the enrolment, so a
//!   former employer never reads it); individuals hold theirs alone.
//! - The holder and company lists and the CSV export (CRT-8): association
//!   staff and the authority see every certificate, organisation accounts
//!   their organisation's (ACC-2), a trainee their own person's. The computed
//!   status filter is translated into conditions on the stored status and
//!   `valid_until` ([`certificate::status_window`]), so paging stays exact.
//!   The export has names in full (organisations see their own staff) but
//!   never an ID number.
//! - The QR code encodes exactly `{GUILD_PUBLIC_BASE_URL}/verify/{code}` (CRT-2).
//! - Continuing education (CRT-4): training staff record it; CE completed
//!   within the current period renews the certificate for one more period
//!   ([`certificate::plan_ce`]).

mod issue;
mod list;
mod records;

pub use issue::{NewCertificate, issue, issue_for_class};
pub use list::{EXPORT_HEADER, EXPORT_LIMIT, Export, Filters, export, list};
pub use records::{
    CeRecordView, CeRecorded, CertificateView, ClassCertificates, CreateCeRecord,
    SkippedCertificate, Views,
};

use guild_domain::access::Owner;
use guild_domain::certificate::{self, CePeriod};
use guild_store::DbConn;
use guild_store::certificate_ce::CertificateCeRow;
use guild_store::certificates::CertificateRow;
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult};
use crate::events::{Event, kinds as ev};
use crate::ids::fact;
use crate::inputs::check_version;
use crate::{Page, PageRequest};

/// Notification kinds written by certificates.
pub mod kinds {
    /// A certificate was issued to the holder (CRT-1).
    pub const CERTIFICATE_ISSUED: &str = "certificate_issued";
}

/// What the certificate use cases take from the configuration.
#[derive(Debug, Clone)]
pub struct CertificateSettings {
    /// Days after the end of a period during which CE completed within it can
    /// still be recorded (CRT-4).
    pub grace_days: u32,
    /// The public base URL the verification links start with (CRT-2).
    pub public_base_url: String,
}

/// The public verification URL a certificate's QR code encodes (CRT-2).
pub fn verify_url(public_base_url: &str, code: &str) -> String {
    format!("{}/verify/{code}", public_base_url.trim_end_matches('/'))
}

/// A new unguessable verification code (CRT-2): 144 random bits, URL-safe
/// base64 (24 characters).
pub fn new_verification_code() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// ACC-2: whether `caller` may see certificate `row` ([`guild_domain::access`]).
pub fn may_see(caller: &Caller, row: &CertificateRow) -> bool {
    caller.sees(&Owner::of_person(
        fact(Some(&row.person_id)),
        fact(row.organisation_id.as_deref()),
    ))
}

/// Loads a certificate the caller may see, or 404 exactly like an unknown id
/// (ACC-2): association staff and the authority every certificate, an
/// organisation account its organisation's, a trainee their own person's.
pub fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<CertificateRow> {
    guild_store::certificates::find(conn, id)?
        .filter(|r| may_see(caller, r))
        .ok_or(AppError::NotFound("certificate"))
}

/// One certificate with its status today (CRT-8), visible like ACC-2 says.
pub fn get(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    settings: CertificateSettings,
) -> AppResult<CertificateView> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    Views::new(ctx.today(), settings).view(conn, row)
}

/// The verification URL a visible certificate's QR code encodes (CRT-2).
pub fn qr_target(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    public_base_url: &str,
) -> AppResult<String> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    Ok(verify_url(public_base_url, &row.code))
}

/// A certificate's continuing-education records in recording order (CRT-4),
/// visible like the certificate (ACC-2).
pub fn list_ce(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    page: PageRequest,
) -> AppResult<Page<CeRecordView>> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    guild_store::certificate_ce::list_for_certificate(
        conn,
        &row.id,
        page.after.as_deref(),
        page.limit,
    )?
    .try_map(CeRecordView::of)
}

/// The blank fields a CE record may not have (422): a title of spaces, an
/// evidence reference of spaces.
fn check_ce_record(body: &CreateCeRecord) -> AppResult<()> {
    if body.title.trim().is_empty() {
        return Err(AppError::field("title", "required", "name what was learnt"));
    }
    if body
        .evidence_reference
        .as_deref()
        .is_some_and(|e| e.trim().is_empty())
    {
        return Err(AppError::field(
            "evidence_reference",
            "blank",
            "leave it out or name where the evidence is kept",
        ));
    }
    Ok(())
}

/// Records continuing education for a certificate's holder and renews it in
/// one transaction (CRT-4). Refused for a revoked or superseded certificate
/// (`certificate_not_active`), a lapsed one (`certificate_lapsed`), a
/// completion day in the future (`ce_completed_in_future`) or outside the
/// current period (`ce_outside_period`). `expected_version` is the client's
/// `If-Match` (API-5).
pub fn record_ce(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    body: CreateCeRecord,
    expected_version: Option<i32>,
    settings: CertificateSettings,
) -> AppResult<CeRecorded> {
    check_ce_record(&body)?;
    let caller = ctx.caller()?;
    let id = id.to_string();
    guild_store::certificates::lock(conn, &id)?.ok_or(AppError::NotFound("certificate"))?;
    let mut row = visible(conn, caller, &id)?;
    check_version(expected_version, row.version)?;
    let mut views = Views::new(ctx.today(), settings);
    let before = views.view(conn, row.clone())?;
    let renewal = certificate::plan_ce(
        CePeriod {
            stored: before.record_status,
            period_started_on: row.period_started_on,
            valid_until: row.valid_until,
            validity_years: u32::try_from(row.validity_years).unwrap_or(1),
        },
        body.completed_on,
        views.today(),
        views.settings().grace_days,
    )?;
    let record = CertificateCeRow {
        id: Uuid::now_v7().to_string(),
        certificate_id: row.id.clone(),
        person_id: row.person_id.clone(),
        kind: body.kind.as_str().to_owned(),
        title: body.title.trim().to_owned(),
        hours: body.hours,
        completed_on: body.completed_on,
        evidence_reference: body.evidence_reference.map(|e| e.trim().to_owned()),
        period_ended_on: renewal.period_ended_on,
        renewed_until: Some(renewal.renewed_until),
        recorded_by: caller.id.clone(),
        recorded_at: ctx.now.naive_utc(),
    };
    guild_store::certificate_ce::insert(conn, &record)?;
    row.period_started_on = renewal.period_started_on;
    row.valid_until = renewal.renewed_until;
    row.renewals += 1;
    guild_store::certificates::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = views.view(conn, row)?;
    let record = CeRecordView::of(record)?;
    let snapshot = serde_json::json!({"certificate": &after, "ce_record": &record});
    ctx.emit(
        conn,
        Event::new(
            ev::CERTIFICATE_CE_RECORDED,
            "certificate",
            after.id,
            Some(&before),
            Some(&snapshot),
        )?
        .in_organisation(after.organisation_id),
    )?;
    Ok(CeRecorded {
        record,
        certificate: after,
    })
}
