//! The records and inputs of certificates (CRT-1, CRT-2, CRT-4, CRT-8), as
//! the API shows and takes them, and the one place a stored certificate
//! becomes a [`CertificateView`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::certificate::{self, CeKind, CertificateRecordStatus, CertificateStatus};
use guild_store::DbConn;
use guild_store::certificate_ce::CertificateCeRow;
use guild_store::certificates::CertificateRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppError, AppResult, stored};
use crate::ids::{stored_id, stored_opt};

use super::{CertificateSettings, verify_url};

/// A certificate as its holder, organisation and the association see it
/// (CRT-1, CRT-2, CRT-8). Never the holder's ID number.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateView {
    /// The certificate id.
    pub id: Uuid,
    /// The unique printed number: `GA` + year + six-digit serial.
    #[cfg_attr(feature = "openapi", schema(example = "GA2026000042"))]
    pub number: String,
    /// The unguessable verification code (CRT-2).
    #[cfg_attr(feature = "openapi", schema(example = "q3Jx0cWbVd1m8n2YtR5uZk7A"))]
    pub code: String,
    /// The public verification URL the QR code encodes.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://verify.guild.example/verify/q3Jx0cWbVd1m8n2YtR5uZk7A")
    )]
    pub verify_url: String,
    /// Where to fetch the QR code as PNG.
    pub qr_png_url: String,
    /// Where to fetch the QR code as SVG.
    pub qr_svg_url: String,
    /// The status now (CRT-8): `valid`, `expired` (period ended; CE completed
    /// within it can still be recorded until `grace_ends_on`), `lapsed`
    /// (void), `revoked` or `superseded`.
    pub status: CertificateStatus,
    /// The stored events: `active`, `superseded` or `revoked`.
    pub record_status: CertificateRecordStatus,
    /// The holder.
    pub person_id: Uuid,
    /// The holder's name as printed.
    pub holder_name: String,
    /// The holder's organisation when issued (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// The program the certificate was earned in.
    pub program_id: Uuid,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// The title printed on the certificate.
    pub certificate_name: String,
    /// The class it was earned in (`null` for imported certificates).
    pub class_id: Option<Uuid>,
    /// The passed enrolment.
    pub enrolment_id: Option<Uuid>,
    /// The passed exam registration.
    pub registration_id: Option<Uuid>,
    /// The issue day (association time zone).
    pub issued_on: NaiveDate,
    /// The length of one validity period, in years.
    pub validity_years: i32,
    /// The first day of the current validity period.
    pub period_started_on: NaiveDate,
    /// The last valid day of the current period (inclusive).
    pub valid_until: NaiveDate,
    /// The last day on which CE completed within the current period can still
    /// be recorded (CRT-4); after it an unrenewed certificate is `lapsed`.
    pub grace_ends_on: NaiveDate,
    /// How many times CE renewed it (CRT-4).
    pub renewals: i32,
    /// The certificate this one replaced (CRT-5).
    pub replaces_id: Option<Uuid>,
    /// The certificate that replaced this one (CRT-5).
    pub superseded_by_id: Option<Uuid>,
    /// When it was superseded or revoked.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it was superseded or revoked.
    pub end_reason: Option<String>,
    /// Who issued it.
    pub issued_by: Uuid,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An enrolment of the class that got no new certificate (CRT-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedCertificate {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// The trainee.
    pub person_id: Uuid,
    /// Why: `already_issued` (it holds its original certificate, named in
    /// `certificate_id`) or `result_not_published` (the pass was entered
    /// after the class's results were last published; publish them again).
    pub code: String,
    /// The certificate it already holds.
    pub certificate_id: Option<Uuid>,
}

/// What issuing a class's certificates produced (CRT-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassCertificates {
    /// The class.
    pub class_id: Uuid,
    /// The certificates issued now.
    pub issued: Vec<CertificateView>,
    /// The passed enrolments that got none now, and why.
    pub skipped: Vec<SkippedCertificate>,
}

/// Continuing education completed by a certificate's holder (CRT-4).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"kind": "association_learning", "title": "2027 gas safety regulations update", "hours": 8, "completed_on": "2027-05-20", "evidence_reference": "ASSOC-LEARN-2027-031"})))]
pub struct CreateCeRecord {
    /// `association_learning` (the association's learning on new policies,
    /// regulations and technology), `ce_class` or `other_approved`.
    pub kind: CeKind,
    /// What was learnt.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Hours of learning, 1 to 1000.
    #[validate(range(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub hours: i32,
    /// The day it was completed: within the certificate's current period and
    /// not in the future.
    pub completed_on: NaiveDate,
    /// Where the evidence is kept (attendance list, certificate of the class).
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub evidence_reference: Option<String>,
}

/// One continuing-education record of a certificate (CRT-4).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeRecordView {
    /// The record id.
    pub id: Uuid,
    /// The certificate it renewed.
    pub certificate_id: Uuid,
    /// The holder.
    pub person_id: Uuid,
    /// What kind of continuing education.
    pub kind: CeKind,
    /// What was learnt.
    pub title: String,
    /// Hours of learning.
    pub hours: i32,
    /// When it was completed.
    pub completed_on: NaiveDate,
    /// Where the evidence is kept.
    pub evidence_reference: Option<String>,
    /// The last day of the period it was completed in.
    pub period_ended_on: NaiveDate,
    /// The certificate's new last valid day after this record.
    pub renewed_until: Option<NaiveDate>,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

impl CeRecordView {
    /// The record of a stored CE row.
    pub fn of(r: CertificateCeRow) -> AppResult<Self> {
        let id = |v: &str| stored_id("certificate_ce_records", v);
        Ok(CeRecordView {
            id: id(&r.id)?,
            certificate_id: id(&r.certificate_id)?,
            person_id: id(&r.person_id)?,
            kind: stored("certificate_ce_records", &r.kind)?,
            title: r.title,
            hours: r.hours,
            completed_on: r.completed_on,
            evidence_reference: r.evidence_reference,
            period_ended_on: r.period_ended_on,
            renewed_until: r.renewed_until,
            recorded_by: id(&r.recorded_by)?,
            recorded_at: r.recorded_at.and_utc(),
        })
    }
}

/// What recording CE did (CRT-4).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CeRecorded {
    /// The new record.
    pub record: CeRecordView,
    /// The certificate after its renewal.
    pub certificate: CertificateView,
}

/// The program facts a certificate view shows.
#[derive(Debug, Clone)]
struct ProgramFacts {
    code: String,
    name: String,
    certificate_name: String,
}

/// Program and organisation names looked up once per answer, and what a
/// view needs besides the row: today's date and the settings.
#[derive(Debug)]
pub struct Views {
    today: NaiveDate,
    settings: CertificateSettings,
    programs: HashMap<String, ProgramFacts>,
    organisations: HashMap<String, String>,
}

impl Views {
    /// Views as of `today` under `settings`.
    pub fn new(today: NaiveDate, settings: CertificateSettings) -> Self {
        Views {
            today,
            settings,
            programs: HashMap::new(),
            organisations: HashMap::new(),
        }
    }

    /// The day the statuses are computed for.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The settings the views are made under.
    pub fn settings(&self) -> &CertificateSettings {
        &self.settings
    }

    fn program(&mut self, conn: &mut DbConn, id: &str) -> AppResult<ProgramFacts> {
        if let Some(p) = self.programs.get(id) {
            return Ok(p.clone());
        }
        let p = guild_store::programs::find(conn, id)?
            .ok_or_else(|| AppError::Internal(format!("certificate names missing program {id}")))?;
        let facts = ProgramFacts {
            code: p.code,
            name: p.name,
            certificate_name: p.certificate_name,
        };
        self.programs.insert(id.to_owned(), facts.clone());
        Ok(facts)
    }

    /// The name of a certificate's organisation (empty for an individual's).
    /// A missing organisation is a fault of ours, never an empty name.
    pub fn organisation(&mut self, conn: &mut DbConn, id: Option<&str>) -> AppResult<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if let Some(n) = self.organisations.get(id) {
            return Ok(n.clone());
        }
        let name = guild_store::organisations::find(conn, id)?
            .map(|o| o.name)
            .ok_or_else(|| {
                AppError::Internal(format!("certificate names missing organisation {id}"))
            })?;
        self.organisations.insert(id.to_owned(), name.clone());
        Ok(name)
    }

    /// The record of a stored certificate as it stands today (CRT-8).
    pub fn view(&mut self, conn: &mut DbConn, r: CertificateRow) -> AppResult<CertificateView> {
        let id = |v: &str| stored_id("certificates", v);
        let opt = |v: &Option<String>| stored_opt("certificates", v.as_deref());
        let record_status: CertificateRecordStatus = stored("certificates", &r.status)?;
        let program = self.program(conn, &r.program_id)?;
        let grace = self.settings.grace_days;
        Ok(CertificateView {
            id: id(&r.id)?,
            verify_url: verify_url(&self.settings.public_base_url, &r.code),
            qr_png_url: format!("/api/v1/certificates/{}/qr.png", r.id),
            qr_svg_url: format!("/api/v1/certificates/{}/qr.svg", r.id),
            number: r.number,
            code: r.code,
            status: certificate::status(record_status, r.valid_until, self.today, grace),
            record_status,
            person_id: id(&r.person_id)?,
            holder_name: r.holder_name,
            organisation_id: opt(&r.organisation_id)?,
            program_id: id(&r.program_id)?,
            program_code: program.code,
            program_name: program.name,
            certificate_name: program.certificate_name,
            class_id: opt(&r.class_id)?,
            enrolment_id: opt(&r.enrolment_id)?,
            registration_id: opt(&r.registration_id)?,
            issued_on: r.issued_on,
            validity_years: r.validity_years,
            period_started_on: r.period_started_on,
            valid_until: r.valid_until,
            grace_ends_on: certificate::grace_ends(r.valid_until, grace),
            renewals: r.renewals,
            replaces_id: opt(&r.replaces_id)?,
            superseded_by_id: opt(&r.superseded_by_id)?,
            ended_at: r.ended_at.map(|t| t.and_utc()),
            end_reason: r.end_reason,
            issued_by: id(&r.issued_by)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}
