//! Reports of forged or fake certificates (CRT-7, seed 000 §6(3)5: 伪造或使用假证…
//! 记入行业不良行为记录，并向社会公示).
//!
//! - `POST /forgery-reports` (training officer, training head, admin): a
//!   report names the person and/or the organisation that forged or used the
//!   fake certificate, the number it claimed (if any), what happened and the
//!   evidence. In one transaction it lists an entry in the public misconduct
//!   register (offence `certificate_forgery`, listed from today, no end) and
//!   keeps the report with the evidence for the association.
//! - The register entry is public on `GET /public/misconduct`: the person's
//!   name partly masked, the organisation's name, the offence and the claimed
//!   number — never an ID number. The report itself (unmasked names,
//!   description, evidence) is read by association staff and the authority only.
//!
//! The entry is recorded against exactly whom the report names: a person
//! reported alone is listed without their employer, so an organisation is
//! never listed publicly for a forgery nobody reported it for.

use chrono::{DateTime, Utc};
use guild_domain::certificate_request::{check_forgery_subject, forgery_summary};
use guild_domain::discipline::{RegisterEntryStatus, RegisterOffence};
use guild_store::DbConn;
use guild_store::forgery_reports::{ForgeryFilter, ForgeryReportRow};
use guild_store::sanctions::MisconductEntryRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::events::{Event, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::{Page, PageRequest};

/// A report of a forged or fake certificate (CRT-7).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgeryReportView {
    /// The report id.
    pub id: Uuid,
    /// The person who forged or used the fake certificate.
    pub person_id: Option<Uuid>,
    /// The person's name (in full: the report is internal).
    pub person_name: Option<String>,
    /// The organisation that forged or used it.
    pub organisation_id: Option<Uuid>,
    /// The organisation's name.
    pub organisation_name: Option<String>,
    /// The certificate number the fake claimed, if any.
    pub claimed_number: Option<String>,
    /// A genuine certificate that was copied or altered, if any.
    pub certificate_id: Option<Uuid>,
    /// What happened.
    pub description: String,
    /// Where the evidence is kept (file number, photo reference, ...).
    pub evidence_reference: String,
    /// The entry listed in the public misconduct register.
    pub misconduct_entry_id: Uuid,
    /// Who reported it.
    pub reported_by: Uuid,
    /// When.
    pub reported_at: DateTime<Utc>,
}

impl ForgeryReportView {
    /// The record of a stored report with the names it refers to; a missing
    /// person or organisation is corrupt data.
    pub fn of(conn: &mut DbConn, r: ForgeryReportRow) -> AppResult<Self> {
        const T: &str = "forgery_reports";
        let person_name = match &r.person_id {
            Some(p) => Some(crate::enrolments::person_name(conn, p)?),
            None => None,
        };
        let organisation_name = match &r.organisation_id {
            Some(o) => Some(
                guild_store::organisations::find(conn, o)?
                    .map(|o| o.name)
                    .ok_or_else(|| {
                        AppError::Internal(format!("{T} names the missing organisation {o}"))
                    })?,
            ),
            None => None,
        };
        Ok(ForgeryReportView {
            id: stored_id(T, &r.id)?,
            person_id: stored_opt(T, r.person_id.as_deref())?,
            person_name,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            organisation_name,
            claimed_number: r.claimed_number,
            certificate_id: stored_opt(T, r.certificate_id.as_deref())?,
            description: r.description,
            evidence_reference: r.evidence_reference,
            misconduct_entry_id: stored_id(T, &r.misconduct_entry_id)?,
            reported_by: stored_id(T, &r.reported_by)?,
            reported_at: r.reported_at.and_utc(),
        })
    }
}

/// A new forgery report (CRT-7).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "claimed_number": "GA2025009999", "description": "Showed a printed certificate with a number the association never issued at a site inspection", "evidence_reference": "Inspection report 2026-041, photos 1-3"})))]
pub struct CreateForgeryReport {
    /// The person who forged or used the fake certificate (this and/or `organisation_id`).
    pub person_id: Option<Uuid>,
    /// The organisation that forged or used it (this and/or `person_id`).
    pub organisation_id: Option<Uuid>,
    /// The certificate number the fake claimed.
    #[validate(length(min = 1, max = 40))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
    pub claimed_number: Option<String>,
    /// A genuine certificate that was copied or altered.
    pub certificate_id: Option<Uuid>,
    /// What happened.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub description: String,
    /// Where the evidence is kept.
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub evidence_reference: String,
}

/// The trimmed value of a required text field (422 `required` when blank).
fn required(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        Err(AppError::field(
            field,
            "required",
            format!("{field} must not be blank"),
        ))
    } else {
        Ok(v.to_owned())
    }
}

/// What a report needs before anything is read (CRT-7): a person and/or an
/// organisation (`forgery_subject_required`), a description and the evidence.
pub fn check(body: &CreateForgeryReport) -> AppResult<()> {
    check_forgery_subject(body.person_id.is_some(), body.organisation_id.is_some())?;
    required("description", &body.description)?;
    required("evidence_reference", &body.evidence_reference)?;
    Ok(())
}

/// 422 `code` on `field` unless `found`.
fn must_exist(found: bool, field: &str, code: &'static str, what: &str) -> AppResult<()> {
    if found {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            code,
            format!("no {what} has this id"),
        ))
    }
}

/// Records a report and its register entry (CRT-7). The named person,
/// organisation and certificate must exist (422 `unknown_person` /
/// `unknown_organisation` / `unknown_certificate`). The entry is listed from
/// today (association time zone) with no end.
pub fn report(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateForgeryReport,
) -> AppResult<ForgeryReportView> {
    check(&body)?;
    check_references(conn, &body)?;
    let person_id = body.person_id.map(|p| p.to_string());
    let organisation_id = body.organisation_id.map(|o| o.to_string());
    let certificate_id = body.certificate_id.map(|c| c.to_string());
    let claimed_number = body
        .claimed_number
        .as_deref()
        .map(|n| required("claimed_number", n))
        .transpose()?;
    let at = ctx.now.naive_utc();
    let entry = MisconductEntryRow {
        id: Uuid::now_v7().to_string(),
        person_id: person_id.clone(),
        organisation_id: organisation_id.clone(),
        offence: RegisterOffence::CertificateForgery.as_str().to_owned(),
        sanction_summary: forgery_summary(claimed_number.as_deref()),
        starts_on: ctx.today(),
        ends_on: None,
        sanction_id: None,
        status: RegisterEntryStatus::Listed.as_str().to_owned(),
        withdrawal_reason: None,
        withdrawn_at: None,
        published_at: at,
    };
    crate::sanctions::register::list(ctx, conn, &entry)?;
    let row = ForgeryReportRow {
        id: Uuid::now_v7().to_string(),
        person_id,
        organisation_id,
        claimed_number,
        certificate_id,
        description: required("description", &body.description)?,
        evidence_reference: required("evidence_reference", &body.evidence_reference)?,
        misconduct_entry_id: entry.id.clone(),
        reported_by: ctx.caller()?.id.clone(),
        reported_at: at,
    };
    guild_store::forgery_reports::insert(conn, &row)?;
    let view = ForgeryReportView::of(conn, row)?;
    // Kept out of the organisation's own audit view (no organisation on the
    // event): the evidence is internal; the public sees the register entry.
    ctx.emit(
        conn,
        Event::new(
            ev::FORGERY_REPORT_CREATED,
            "forgery_report",
            view.id,
            None::<&()>,
            Some(&view),
        )?,
    )?;
    Ok(view)
}

/// The person, organisation and certificate a report names must exist (422
/// `unknown_person` / `unknown_organisation` / `unknown_certificate`).
fn check_references(conn: &mut DbConn, body: &CreateForgeryReport) -> AppResult<()> {
    if let Some(p) = body.person_id {
        let found = guild_store::people::find(conn, &p.to_string())?.is_some();
        must_exist(found, "person_id", "unknown_person", "person")?;
    }
    if let Some(o) = body.organisation_id {
        let found = guild_store::organisations::find(conn, &o.to_string())?.is_some();
        must_exist(
            found,
            "organisation_id",
            "unknown_organisation",
            "organisation",
        )?;
    }
    if let Some(c) = body.certificate_id {
        let found = guild_store::certificates::find(conn, &c.to_string())?.is_some();
        must_exist(
            found,
            "certificate_id",
            "unknown_certificate",
            "certificate",
        )?;
    }
    Ok(())
}

/// Lists reports, oldest first, about a person and/or an organisation.
pub fn list(
    conn: &mut DbConn,
    person_id: Option<Uuid>,
    organisation_id: Option<Uuid>,
    page: PageRequest,
) -> AppResult<Page<ForgeryReportView>> {
    let filter = ForgeryFilter {
        person_id: person_id.map(|v| v.to_string()),
        organisation_id: organisation_id.map(|v| v.to_string()),
    };
    let rows =
        guild_store::forgery_reports::list(conn, &filter, page.after.as_deref(), page.limit)?;
    rows.try_map(|r| ForgeryReportView::of(conn, r))
}

/// One report.
pub fn get(conn: &mut DbConn, id: Uuid) -> AppResult<ForgeryReportView> {
    let row = guild_store::forgery_reports::find(conn, &id.to_string())?
        .ok_or(AppError::NotFound("forgery report"))?;
    ForgeryReportView::of(conn, row)
}
