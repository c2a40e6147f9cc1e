//! Issuing certificates (CRT-1), and the one way a new certificate row is
//! made, also for a request that replaces one (CRT-5).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use guild_domain::certificate::{self, CertificateRecordStatus};
use guild_domain::exam::{RegistrationStatus, has_result};
use guild_store::DbConn;
use guild_store::certificates::CertificateRow;
use guild_store::enrolments::EnrolmentRow;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, Notice, Recipients, kinds as ev};
use crate::ids::stored_id;

use super::{
    CertificateSettings, CertificateView, ClassCertificates, SkippedCertificate, Views, kinds,
    new_verification_code,
};

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

/// Inserts a new certificate with the next number of its issue year and a
/// fresh verification code, inside the caller's write transaction (CRT-1, CRT-5).
pub fn issue(
    conn: &mut DbConn,
    new: NewCertificate,
    at: DateTime<Utc>,
) -> AppResult<CertificateRow> {
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

/// The passing registrations of the class, per enrolment in registration
/// order: `Some(registration)` when a pass is published, `None` when every
/// pass of the enrolment was entered after the last publication (EXM-5).
fn passes_of_class(
    conn: &mut DbConn,
    class_id: &str,
    published_at: NaiveDateTime,
) -> AppResult<Vec<(String, Option<String>)>> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (reg, _) in guild_store::exams::registrations_for_class(conn, class_id)? {
        let status: RegistrationStatus = stored("exam_registrations", &reg.status)?;
        let passed = reg.passed == Some(true)
            && has_result(status, reg.passed)
            && status != RegistrationStatus::Disqualified;
        if !passed {
            continue;
        }
        let published = reg.result_entered_at.is_none_or(|t| t <= published_at);
        let published = published.then(|| reg.id.clone());
        match out.iter_mut().find(|(e, _)| *e == reg.enrolment_id) {
            Some((_, slot)) => {
                if slot.is_none() {
                    *slot = published;
                }
            }
            None => out.push((reg.enrolment_id.clone(), published)),
        }
    }
    Ok(out)
}

fn skipped(
    enrolment: &EnrolmentRow,
    code: &str,
    certificate_id: Option<Uuid>,
) -> AppResult<SkippedCertificate> {
    Ok(SkippedCertificate {
        enrolment_id: stored_id("enrolments", &enrolment.id)?,
        person_id: stored_id("enrolments", &enrolment.person_id)?,
        code: code.to_owned(),
        certificate_id,
    })
}

/// The event of an issued certificate: the holder's accounts and their
/// organisation's fillers and reviewers are told (CRT-1).
fn issued_event(view: &CertificateView, person_id: &str) -> AppResult<Event> {
    let title = format!("Certificate {} issued", view.number);
    let body = format!(
        "{} received certificate {} ({}), valid from {} until {}.",
        view.holder_name, view.number, view.certificate_name, view.issued_on, view.valid_until
    );
    let to = Recipients::Payer {
        organisation_id: view.organisation_id.map(|o| o.to_string()),
        person_id: person_id.to_owned(),
    };
    Ok(Event::new(
        ev::CERTIFICATE_ISSUED,
        "certificate",
        view.id,
        None::<&()>,
        Some(view),
    )?
    .in_organisation(view.organisation_id)
    .notify(Notice::new(to, kinds::CERTIFICATE_ISSUED, (title, body))))
}

/// Issues the certificates of a class in one transaction (CRT-1), once the
/// class's results are published (422 `results_not_published`): every
/// enrolment whose exam passed with a published result gets one original
/// certificate, issued today (association time zone) and valid for the
/// program's validity. Re-running issues only the missing ones; the rest are
/// listed as skipped (`already_issued`, `result_not_published`).
pub fn issue_for_class(
    ctx: &Ctx,
    conn: &mut DbConn,
    class_id: Uuid,
    settings: CertificateSettings,
) -> AppResult<ClassCertificates> {
    let caller = ctx.caller()?;
    let class = guild_store::classes::lock(conn, &class_id.to_string())?
        .ok_or(AppError::NotFound("class"))?;
    let published = guild_store::exams::results_published(conn, &class.id)?;
    certificate::check_results_published(published.is_some())?;
    let published_at = published.map(|(at, _)| at).unwrap_or_default();
    let program = guild_store::programs::find(conn, &class.program_id)?
        .ok_or_else(|| AppError::Internal(format!("class {} has no program", class.id)))?;
    let years = u32::try_from(program.validity_years).unwrap_or(1);
    let issued_on = ctx.today();
    let mut views = Views::new(issued_on, settings);
    let mut outcome = ClassCertificates {
        class_id: stored_id("classes", &class.id)?,
        issued: Vec::new(),
        skipped: Vec::new(),
    };
    for (enrolment_id, registration) in passes_of_class(conn, &class.id, published_at)? {
        let enrolment = guild_store::enrolments::find(conn, &enrolment_id)?.ok_or_else(|| {
            AppError::Internal(format!("registration of missing enrolment {enrolment_id}"))
        })?;
        if let Some(existing) =
            guild_store::certificates::original_for_enrolment(conn, &enrolment.id)?
        {
            let id = stored_id("certificates", &existing.id)?;
            outcome
                .skipped
                .push(skipped(&enrolment, "already_issued", Some(id))?);
            continue;
        }
        let Some(registration_id) = registration else {
            outcome
                .skipped
                .push(skipped(&enrolment, "result_not_published", None)?);
            continue;
        };
        let person = guild_store::people::find(conn, &enrolment.person_id)?.ok_or_else(|| {
            AppError::Internal(format!(
                "enrolment of missing person {}",
                enrolment.person_id
            ))
        })?;
        let row = issue(
            conn,
            NewCertificate {
                person_id: person.id.clone(),
                organisation_id: person.organisation_id.clone(),
                holder_name: person.name.clone(),
                program_id: program.id.clone(),
                class_id: Some(class.id.clone()),
                enrolment_id: Some(enrolment.id.clone()),
                registration_id: Some(registration_id),
                issued_on,
                validity_years: program.validity_years,
                period_started_on: issued_on,
                valid_until: certificate::valid_until(issued_on, years),
                renewals: 0,
                replaces_id: None,
                issued_by: caller.id.clone(),
            },
            ctx.now,
        )?;
        let view = views.view(conn, row)?;
        ctx.emit(conn, issued_event(&view, &enrolment.person_id)?)?;
        outcome.issued.push(view);
    }
    Ok(outcome)
}
