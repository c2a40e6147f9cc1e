//! Certificates (SPEC §9): issuing to those who passed (CRT-1), QR codes and
//! public verification (CRT-2, CRT-8), continuing-education renewal (CRT-4),
//! holder and company lists with the CSV export.
//!
//! - `POST /classes/{id}/certificates` (CRT-1): training staff issue, in one
//!   transaction, one original certificate to every enrolment of the class
//!   whose exam passed with a published result (EXM-5). Refused before the
//!   class's results are published (`results_not_published`). Re-running
//!   issues only the missing ones; enrolments that already hold their
//!   original are reported as skipped (`already_issued`), as is a pass entered
//!   after the last publication (`result_not_published`). The partial unique
//!   index `certificates_one_original_per_enrolment` stops a concurrent second
//!   original. The issue day is the association's local date of the action.
//!   The certificate belongs to the holder's organisation at issue time (the
//!   person's current employer, not the one that paid for the enrolment, so a
//!   former employer never reads it); individuals hold theirs alone.
//! - `GET /certificates` and `GET /certificates/export` (CRT-8): the holder
//!   and company lists. Association staff and the authority see every
//!   certificate, organisation accounts their organisation's (ACC-2), a
//!   trainee their own person's. The computed status filter is translated
//!   into conditions on the stored status and `valid_until`
//!   ([`certificate::status_window`]), so paging stays exact. The export is
//!   `text/csv` with names in full (organisations see their own staff) but
//!   never an ID number.
//! - `GET /certificates/{id}`, `…/qr.png`, `…/qr.svg` (CRT-2): the QR code
//!   encodes exactly `{GUILD_PUBLIC_BASE_URL}/verify/{code}`.
//! - `POST /certificates/{id}/ce-records` (CRT-4): training staff record
//!   continuing education; CE completed within the current period renews the
//!   certificate for one more period ([`certificate::plan_ce`]).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::certificate::{
    self, CeKind, CePeriod, CertificateRecordStatus, CertificateStatus,
};
use guild_domain::exam::{RegistrationStatus, has_result};
use guild_domain::{Role, local_date};
use guild_store::DbConn;
use guild_store::certificate_ce::CertificateCeRow;
use guild_store::certificates::{CertificateFilter, CertificateRow};
use guild_store::notifications::NotificationRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Owner, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, ENROLMENT_READERS, random_bytes};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Who issues certificates and records continuing education: training staff.
pub const CERTIFICATE_ISSUERS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// Who may read certificates at all; each then sees only those it may
/// ([`may_see`]).
pub const CERTIFICATE_READERS: &[Role] = ENROLMENT_READERS;

/// The most rows one CSV export answers; narrow the filters beyond that.
pub const EXPORT_LIMIT: i64 = 10_000;

/// The longest reminder window `expiring_within_days` accepts (10 years).
pub const MAX_EXPIRING_WITHIN_DAYS: u32 = 3660;

/// Notification kinds written by certificates.
pub mod kinds {
    /// A certificate was issued to the holder (CRT-1).
    pub const CERTIFICATE_ISSUED: &str = "certificate_issued";
}

/// Registers this module's endpoints under `/api/v1`. The export is
/// registered before `/certificates/{id}` so `export` is never read as an id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(issue_for_class)
        .service(list)
        .service(export)
        .service(get)
        .service(qr_png)
        .service(qr_svg)
        .service(record_ce)
        .service(list_ce);
}

/// The public verification URL a certificate's QR code encodes (CRT-2).
pub fn verify_url(public_base_url: &str, code: &str) -> String {
    format!("{}/verify/{code}", public_base_url.trim_end_matches('/'))
}

/// A certificate as its holder, organisation and the association see it
/// (CRT-1, CRT-2, CRT-8). Never the holder's ID number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateView {
    /// The certificate id.
    pub id: Uuid,
    /// The unique printed number: `GA` + year + six-digit serial.
    #[schema(example = "GA2026000042")]
    pub number: String,
    /// The unguessable verification code (CRT-2).
    #[schema(example = "q3Jx0cWbVd1m8n2YtR5uZk7A")]
    pub code: String,
    /// The public verification URL the QR code encodes.
    #[schema(example = "https://verify.guild.example/verify/q3Jx0cWbVd1m8n2YtR5uZk7A")]
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

/// The program facts a certificate view shows.
#[derive(Debug, Clone)]
struct ProgramFacts {
    code: String,
    name: String,
    certificate_name: String,
}

/// Program and organisation names looked up once per answer.
#[derive(Debug, Default)]
struct Names {
    programs: HashMap<String, ProgramFacts>,
    organisations: HashMap<String, String>,
}

impl Names {
    fn program(&mut self, conn: &mut DbConn, id: &str) -> ApiResult<ProgramFacts> {
        if let Some(p) = self.programs.get(id) {
            return Ok(p.clone());
        }
        let p = guild_store::programs::find(conn, id)?
            .ok_or_else(|| ApiError::Internal(format!("certificate names missing program {id}")))?;
        let facts = ProgramFacts {
            code: p.code,
            name: p.name,
            certificate_name: p.certificate_name,
        };
        self.programs.insert(id.to_owned(), facts.clone());
        Ok(facts)
    }

    fn organisation(&mut self, conn: &mut DbConn, id: Option<&str>) -> ApiResult<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if let Some(n) = self.organisations.get(id) {
            return Ok(n.clone());
        }
        let name = guild_store::organisations::find(conn, id)?
            .map(|o| o.name)
            .unwrap_or_default();
        self.organisations.insert(id.to_owned(), name.clone());
        Ok(name)
    }
}

/// What the view needs besides the row: today's date, the grace window and
/// the public base URL.
#[derive(Debug, Clone)]
struct ViewContext {
    today: NaiveDate,
    grace_days: u32,
    public_base_url: String,
}

impl ViewContext {
    fn of(state: &AppState) -> Self {
        ViewContext {
            today: local_date(state.clock.now(), state.config.time_zone),
            grace_days: state.config.ce_grace_days,
            public_base_url: state.config.public_base_url.clone(),
        }
    }
}

fn view_of(
    conn: &mut DbConn,
    names: &mut Names,
    cx: &ViewContext,
    r: CertificateRow,
) -> ApiResult<CertificateView> {
    let id = |v: &str| stored_uuid("certificates", v);
    let opt = |v: &Option<String>| v.as_deref().map(id).transpose();
    let record_status: CertificateRecordStatus = parse_stored("certificates", &r.status)?;
    let program = names.program(conn, &r.program_id)?;
    let grace = cx.grace_days;
    Ok(CertificateView {
        id: id(&r.id)?,
        verify_url: verify_url(&cx.public_base_url, &r.code),
        qr_png_url: format!("/api/v1/certificates/{}/qr.png", r.id),
        qr_svg_url: format!("/api/v1/certificates/{}/qr.svg", r.id),
        number: r.number,
        code: r.code,
        status: certificate::status(record_status, r.valid_until, cx.today, grace),
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

/// ACC-2: whether `user` may see certificate `row` ([`guild_domain::access`]).
fn may_see(user: &AuthUser, row: &CertificateRow) -> bool {
    user.sees(&Owner::of_person(
        access::id(&row.person_id),
        access::opt_id(row.organisation_id.as_deref()),
    ))
}

/// Loads a certificate the caller may see, or 404 exactly like an unknown id
/// (ACC-2): association staff and the authority every certificate, an
/// organisation account its organisation's, a trainee their own person's.
pub fn visible(conn: &mut DbConn, user: &AuthUser, id: &str) -> ApiResult<CertificateRow> {
    guild_store::certificates::find(conn, id)?
        .filter(|r| may_see(user, r))
        .ok_or_else(|| ApiError::not_found("certificate"))
}

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

/// An enrolment of the class that got no new certificate (CRT-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassCertificates {
    /// The class.
    pub class_id: Uuid,
    /// The certificates issued now.
    pub issued: Vec<CertificateView>,
    /// The passed enrolments that got none now, and why.
    pub skipped: Vec<SkippedCertificate>,
}

/// The passing registrations of the class, per enrolment in registration
/// order: `Some(registration)` when a pass is published, `None` when every
/// pass of the enrolment was entered after the last publication (EXM-5).
fn passes_of_class(
    conn: &mut DbConn,
    class_id: &str,
    published_at: chrono::NaiveDateTime,
) -> ApiResult<Vec<(String, Option<String>)>> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (reg, _) in guild_store::exams::registrations_for_class(conn, class_id)? {
        let status: RegistrationStatus = parse_stored("exam_registrations", &reg.status)?;
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

/// Issues a class's certificates in one transaction (CRT-1): see [`issue_for_class`].
fn issue_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    class_id: &str,
    cx: &ViewContext,
) -> ApiResult<ClassCertificates> {
    let class =
        guild_store::classes::lock(conn, class_id)?.ok_or_else(|| ApiError::not_found("class"))?;
    let published = guild_store::exams::results_published(conn, &class.id)?;
    certificate::check_results_published(published.is_some())?;
    let published_at = published.map(|(at, _)| at).unwrap_or_default();
    let program = guild_store::programs::find(conn, &class.program_id)?
        .ok_or_else(|| ApiError::Internal(format!("class {} has no program", class.id)))?;
    let years = u32::try_from(program.validity_years).unwrap_or(1);
    let issued_on = cx.today;
    let mut names = Names::default();
    let mut outcome = ClassCertificates {
        class_id: stored_uuid("classes", &class.id)?,
        issued: Vec::new(),
        skipped: Vec::new(),
    };
    for (enrolment_id, registration) in passes_of_class(conn, &class.id, published_at)? {
        let enrolment = guild_store::enrolments::find(conn, &enrolment_id)?.ok_or_else(|| {
            ApiError::Internal(format!("registration of missing enrolment {enrolment_id}"))
        })?;
        let skip = |code: &str, certificate_id: Option<Uuid>| -> ApiResult<SkippedCertificate> {
            Ok(SkippedCertificate {
                enrolment_id: stored_uuid("enrolments", &enrolment.id)?,
                person_id: stored_uuid("enrolments", &enrolment.person_id)?,
                code: code.to_owned(),
                certificate_id,
            })
        };
        if let Some(existing) =
            guild_store::certificates::original_for_enrolment(conn, &enrolment.id)?
        {
            let id = stored_uuid("certificates", &existing.id)?;
            outcome.skipped.push(skip("already_issued", Some(id))?);
            continue;
        }
        let Some(registration_id) = registration else {
            outcome.skipped.push(skip("result_not_published", None)?);
            continue;
        };
        let person = guild_store::people::find(conn, &enrolment.person_id)?.ok_or_else(|| {
            ApiError::Internal(format!(
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
                issued_by: user.id.clone(),
            },
            actor.at,
        )?;
        let view = view_of(conn, &mut names, cx, row)?;
        audit_certificate(conn, actor, "certificate.issue", None, &view)?;
        notify_issued(conn, &view, &enrolment.person_id, actor.at)?;
        outcome.issued.push(view);
    }
    Ok(outcome)
}

fn audit_certificate(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&CertificateView>,
    after: &CertificateView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "certificate",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before,
            after: Some(after),
        },
    )
}

/// Tells the holder's accounts and their organisation's fillers and
/// reviewers that a certificate was issued (CRT-1).
fn notify_issued(
    conn: &mut DbConn,
    view: &CertificateView,
    person_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let org = view.organisation_id.map(|o| o.to_string());
    let to = guild_store::notifications::enrolment_recipients(conn, org.as_deref(), person_id)?;
    let title = format!("Certificate {} issued", view.number);
    let body = format!(
        "{} received certificate {} ({}), valid from {} until {}.",
        view.holder_name, view.number, view.certificate_name, view.issued_on, view.valid_until
    );
    for user in to {
        guild_store::notifications::insert(
            conn,
            &NotificationRow {
                id: Uuid::now_v7().to_string(),
                recipient_user_id: user,
                kind: kinds::CERTIFICATE_ISSUED.to_owned(),
                title: title.clone(),
                body: body.clone(),
                entity_type: "certificate".to_owned(),
                entity_id: view.id.to_string(),
                created_at: at.naive_utc(),
                read_at: None,
            },
        )?;
    }
    Ok(())
}

/// Issue the certificates of a class (CRT-1): training staff, once the
/// class's results are published (422 `results_not_published`). In one
/// transaction every enrolment whose exam passed with a published result gets
/// one original certificate: a unique number (`GA` + year + serial), an
/// unguessable 24-character verification code, issued today (association
/// time zone) and valid for the program's validity. Re-running issues only
/// the missing ones; the rest are listed as skipped (`already_issued`,
/// `result_not_published`). Answers 201 when something was issued, 200 when
/// nothing was left to issue.
#[utoipa::path(
    operation_id = "issue_class_certificates",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Class id")),
    responses(
        (status = 201, description = "Issued: the new certificates and the enrolments skipped", body = ClassCertificates),
        (status = 200, description = "Nothing left to issue: every pass already holds its certificate", body = ClassCertificates),
        ActionErrors
    )
)]
#[post("/classes/{id}/certificates")]
pub async fn issue_for_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_ISSUERS)?;
    let class_id = id.into_inner().to_string();
    let outcome = state
        .run(move |s| {
            let now = s.clock.now();
            let cx = ViewContext::of(s);
            s.store
                .write(|c| issue_in_tx(c, &Actor::new(&user, &ctx, now), &user, &class_id, &cx))
        })
        .await?;
    if outcome.issued.is_empty() {
        Ok(HttpResponse::Ok().json(outcome))
    } else {
        Ok(HttpResponse::Created().json(outcome))
    }
}

/// Filters shared by the certificate list and its CSV export (CRT-8).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateFilters {
    /// Only certificates showing this status today (computed, CRT-8).
    pub status: Option<CertificateStatus>,
    /// Only this holder's.
    pub person_id: Option<Uuid>,
    /// Only this program's.
    pub program_id: Option<Uuid>,
    /// Only those earned in this class.
    pub class_id: Option<Uuid>,
    /// Only valid certificates whose validity ends within the next N days,
    /// today included (e.g. 90 for renewal reminders, CRT-4).
    #[param(minimum = 0, maximum = 3660)]
    pub expiring_within_days: Option<u32>,
    /// Only those valid until this day or later.
    pub valid_until_from: Option<NaiveDate>,
    /// Only those valid until this day or earlier.
    pub valid_until_to: Option<NaiveDate>,
}

/// The certificate list's query: filters plus paging (API-3).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only certificates showing this status today (computed, CRT-8).
    pub status: Option<CertificateStatus>,
    /// Only this holder's.
    pub person_id: Option<Uuid>,
    /// Only this program's.
    pub program_id: Option<Uuid>,
    /// Only those earned in this class.
    pub class_id: Option<Uuid>,
    /// Only valid certificates whose validity ends within the next N days,
    /// today included (e.g. 90 for renewal reminders, CRT-4).
    #[param(minimum = 0, maximum = 3660)]
    pub expiring_within_days: Option<u32>,
    /// Only those valid until this day or later.
    pub valid_until_from: Option<NaiveDate>,
    /// Only those valid until this day or earlier.
    pub valid_until_to: Option<NaiveDate>,
}

impl CertificateQuery {
    fn filters(&self) -> CertificateFilters {
        CertificateFilters {
            status: self.status,
            person_id: self.person_id,
            program_id: self.program_id,
            class_id: self.class_id,
            expiring_within_days: self.expiring_within_days,
            valid_until_from: self.valid_until_from,
            valid_until_to: self.valid_until_to,
        }
    }
}

fn later(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    a.max(b)
}

fn earlier(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Translates the filters and the caller's visibility (ACC-2) into column
/// conditions on `today` (CRT-8). `None` when no certificate can match
/// (e.g. `status=lapsed` with `expiring_within_days`).
fn store_filter(
    f: &CertificateFilters,
    user: &AuthUser,
    today: NaiveDate,
    grace_days: u32,
) -> ApiResult<Option<CertificateFilter>> {
    let mut filter = CertificateFilter {
        valid_until_from: f.valid_until_from,
        valid_until_to: f.valid_until_to,
        person_id: f.person_id.map(|v| v.to_string()),
        program_id: f.program_id.map(|v| v.to_string()),
        class_id: f.class_id.map(|v| v.to_string()),
        ..CertificateFilter::default()
    };
    let mut windows = Vec::new();
    if let Some(status) = f.status {
        windows.push(certificate::status_window(status, today, grace_days));
    }
    if let Some(days) = f.expiring_within_days {
        if days > MAX_EXPIRING_WITHIN_DAYS {
            return Err(ApiError::http(
                ErrorCode::InvalidQuery,
                format!("expiring_within_days must be between 0 and {MAX_EXPIRING_WITHIN_DAYS}"),
            ));
        }
        let mut valid = certificate::status_window(CertificateStatus::Valid, today, grace_days);
        valid.valid_until_to = Some(certificate::expiring_until(today, days));
        windows.push(valid);
    }
    for w in windows {
        let stored = w.stored.as_str().to_owned();
        if filter.stored_status.as_ref().is_some_and(|s| *s != stored) {
            return Ok(None);
        }
        filter.stored_status = Some(stored);
        filter.valid_until_from = later(filter.valid_until_from, w.valid_until_from);
        filter.valid_until_to = earlier(filter.valid_until_to, w.valid_until_to);
    }
    if let (Some(from), Some(to)) = (filter.valid_until_from, filter.valid_until_to)
        && from > to
    {
        return Ok(None);
    }
    match user.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => return Ok(None),
    }
    Ok(Some(filter))
}

/// List certificates in issue order (CRT-8): association staff and the
/// authority see all, organisation accounts their organisation's (ACC-2), a
/// trainee their own. Filter by computed `status` (valid, expired, lapsed,
/// revoked, superseded, as of today in the association's time zone), holder,
/// program, class, `valid_until` range, or `expiring_within_days` (valid
/// certificates whose validity ends within the next N days, for renewal
/// reminders).
#[utoipa::path(
    operation_id = "list_certificates",
    tag = "certificates",
    params(CertificateQuery),
    responses((status = 200, description = "OK", body = Paged<CertificateView>), ListErrors)
)]
#[get("/certificates")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CertificateQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filters = q.filters();
    let paged = state
        .run(move |s| {
            let cx = ViewContext::of(s);
            let Some(filter) = store_filter(&filters, &user, cx.today, cx.grace_days)? else {
                return Ok(Paged {
                    items: Vec::new(),
                    next_cursor: None,
                });
            };
            s.store.read(|c| {
                let rows =
                    guild_store::certificates::list(c, &filter, page.after.as_deref(), page.limit)?;
                let mut names = Names::default();
                Paged::try_from_page(rows, |r| view_of(c, &mut names, &cx, r))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Quotes one CSV field (RFC 4180) and defuses spreadsheet formulas: a cell
/// starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The export's header row.
pub const EXPORT_HEADER: &str = "number,holder_name,program_code,program_name,certificate_name,issued_on,valid_until,status,organisation,verify_url";

fn export_csv(
    conn: &mut DbConn,
    filter: Option<CertificateFilter>,
    cx: &ViewContext,
) -> ApiResult<String> {
    let mut out = String::from(EXPORT_HEADER);
    out.push_str("\r\n");
    let Some(filter) = filter else {
        return Ok(out);
    };
    let rows = guild_store::certificates::list(conn, &filter, None, EXPORT_LIMIT)?;
    if rows.next_after.is_some() {
        return Err(ApiError::http(
            ErrorCode::InvalidQuery,
            format!("the export holds at most {EXPORT_LIMIT} certificates; narrow the filters"),
        ));
    }
    let mut names = Names::default();
    for r in rows.items {
        let organisation = names.organisation(conn, r.organisation_id.as_deref())?;
        let v = view_of(conn, &mut names, cx, r)?;
        let fields = [
            v.number,
            v.holder_name,
            v.program_code,
            v.program_name,
            v.certificate_name,
            v.issued_on.to_string(),
            v.valid_until.to_string(),
            v.status.as_str().to_owned(),
            organisation,
            v.verify_url,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// Export certificates as CSV (CRT-8): the same filters and visibility as
/// `GET /certificates`, every matching certificate in issue order (at most
/// 10,000; narrow the filters beyond that). UTF-8 with a header row
/// (`number,holder_name,program_code,program_name,certificate_name,issued_on,
/// valid_until,status,organisation,verify_url`), CRLF line ends. Holder names
/// are in full (an organisation sees its own staff); ID numbers are never
/// exported. Cells that a spreadsheet would run as a formula start with `'`.
#[utoipa::path(
    operation_id = "export_certificates",
    tag = "certificates",
    params(CertificateFilters),
    responses(
        (status = 200, description = "The certificates as UTF-8 CSV with a header row", content_type = "text/csv", body = String,
         example = json!("number,holder_name,program_code,program_name,certificate_name,issued_on,valid_until,status,organisation,verify_url\r\nGA2026000001,Zhang Anna,GAS-OPS,Gas operations,Gas operations certificate,2026-04-10,2029-04-09,valid,Acme Gas,https://verify.guild.example/verify/q3Jx0cWbVd1m8n2YtR5uZk7A\r\n")),
        ListErrors
    )
)]
#[get("/certificates/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CertificateFilters>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let filters = q.into_inner();
    let csv = state
        .run(move |s| {
            let cx = ViewContext::of(s);
            let filter = store_filter(&filters, &user, cx.today, cx.grace_days)?;
            s.store.read(|c| export_csv(c, filter, &cx))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"certificates.csv\"",
        ))
        .body(csv))
}

/// Read one certificate with its status now (CRT-8), verification URL and QR
/// links (CRT-2): association staff and the authority, the holder's
/// organisation, the holder; 404 for anyone else (ACC-2).
#[utoipa::path(
    operation_id = "get_certificate",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "OK", body = CertificateView), ReadErrors)
)]
#[get("/certificates/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let cx = ViewContext::of(s);
            s.store.read(|c| {
                let row = visible(c, &user, &id)?;
                view_of(c, &mut Names::default(), &cx, row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// A PNG image (binary).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PngImage(pub Vec<u8>);

/// An SVG image (XML text).
#[derive(Debug, ToSchema)]
#[schema(value_type = String)]
pub struct SvgImage(pub String);

/// The verification URL of a certificate the caller may see (CRT-2).
async fn qr_target(state: &web::Data<AppState>, user: AuthUser, id: Uuid) -> ApiResult<String> {
    user.require(CERTIFICATE_READERS)?;
    let id = id.to_string();
    state
        .run(move |s| {
            let base = s.config.public_base_url.clone();
            s.store
                .read(|c| Ok(verify_url(&base, &visible(c, &user, &id)?.code)))
        })
        .await
}

fn qr_code(url: &str) -> ApiResult<qrcode::QrCode> {
    qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))
}

/// The QR code of `url` as PNG: black modules on white with the standard
/// quiet zone, at least 256 pixels wide.
pub fn qr_png_bytes(url: &str) -> ApiResult<Vec<u8>> {
    let image = qr_code(url)?
        .render::<image::Luma<u8>>()
        .min_dimensions(256, 256)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| ApiError::Internal(format!("QR PNG: {e}")))?;
    Ok(out.into_inner())
}

/// The QR code of `url` as an SVG document.
pub fn qr_svg_text(url: &str) -> ApiResult<String> {
    Ok(qr_code(url)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

/// The certificate's QR code as PNG (CRT-2): it encodes exactly
/// `{GUILD_PUBLIC_BASE_URL}/verify/{code}`, the public verification page.
/// Visible like the certificate (ACC-2).
#[utoipa::path(
    operation_id = "get_certificate_qr_png",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "The QR code as a PNG image", content_type = "image/png", body = PngImage), ReadErrors)
)]
#[get("/certificates/{id}/qr.png")]
pub async fn qr_png(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let url = qr_target(&state, user, id.into_inner()).await?;
    let png = web::block(move || qr_png_bytes(&url))
        .await
        .map_err(ApiError::from)??;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// The certificate's QR code as SVG (CRT-2): it encodes exactly
/// `{GUILD_PUBLIC_BASE_URL}/verify/{code}`. Visible like the certificate (ACC-2).
#[utoipa::path(
    operation_id = "get_certificate_qr_svg",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "The QR code as an SVG image", content_type = "image/svg+xml", body = SvgImage), ReadErrors)
)]
#[get("/certificates/{id}/qr.svg")]
pub async fn qr_svg(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let url = qr_target(&state, user, id.into_inner()).await?;
    let svg = qr_svg_text(&url)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Continuing education completed by a certificate's holder (CRT-4).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "association_learning", "title": "2027 gas safety regulations update", "hours": 8, "completed_on": "2027-05-20", "evidence_reference": "ASSOC-LEARN-2027-031"}))]
pub struct CreateCeRecord {
    /// `association_learning` (the association's learning on new policies,
    /// regulations and technology), `ce_class` or `other_approved`.
    pub kind: CeKind,
    /// What was learnt.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Hours of learning, 1 to 1000.
    #[validate(range(min = 1, max = 1000))]
    #[schema(minimum = 1, maximum = 1000)]
    pub hours: i32,
    /// The day it was completed: within the certificate's current period and
    /// not in the future.
    pub completed_on: NaiveDate,
    /// Where the evidence is kept (attendance list, certificate of the class).
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub evidence_reference: Option<String>,
}

/// One continuing-education record of a certificate (CRT-4).
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    fn of(r: CertificateCeRow) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("certificate_ce_records", v);
        Ok(CeRecordView {
            id: id(&r.id)?,
            certificate_id: id(&r.certificate_id)?,
            person_id: id(&r.person_id)?,
            kind: parse_stored("certificate_ce_records", &r.kind)?,
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CeRecorded {
    /// The new record.
    pub record: CeRecordView,
    /// The certificate after its renewal.
    pub certificate: CertificateView,
}

/// Records CE and renews the certificate in one transaction (CRT-4): see [`record_ce`].
fn record_ce_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    body: CreateCeRecord,
    if_match: IfMatch,
    cx: &ViewContext,
) -> ApiResult<CeRecorded> {
    guild_store::certificates::lock(conn, id)?.ok_or_else(|| ApiError::not_found("certificate"))?;
    let mut row = visible(conn, user, id)?;
    if_match.check(row.version)?;
    let mut names = Names::default();
    let before = view_of(conn, &mut names, cx, row.clone())?;
    let renewal = certificate::plan_ce(
        CePeriod {
            stored: before.record_status,
            period_started_on: row.period_started_on,
            valid_until: row.valid_until,
            validity_years: u32::try_from(row.validity_years).unwrap_or(1),
        },
        body.completed_on,
        cx.today,
        cx.grace_days,
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
        recorded_by: user.id.clone(),
        recorded_at: actor.at.naive_utc(),
    };
    guild_store::certificate_ce::insert(conn, &record)?;
    row.period_started_on = renewal.period_started_on;
    row.valid_until = renewal.renewed_until;
    row.renewals += 1;
    guild_store::certificates::update(conn, &mut row, actor.at.naive_utc())?;
    let after = view_of(conn, &mut names, cx, row)?;
    let record = CeRecordView::of(record)?;
    audit::record(
        conn,
        actor,
        Change {
            action: "certificate.ce_record",
            entity_type: "certificate",
            entity_id: &after.id.to_string(),
            organisation_id: after.organisation_id.map(|o| o.to_string()).as_deref(),
            before: Some(&before),
            after: Some(&serde_json::json!({"certificate": &after, "ce_record": &record})),
        },
    )?;
    Ok(CeRecorded {
        record,
        certificate: after,
    })
}

/// Record continuing education for a certificate's holder and renew it
/// (CRT-4): training staff. The association's learning on new policies,
/// regulations and technology counts (`association_learning`). Refused for a
/// revoked or superseded certificate (422 `certificate_not_active`), a lapsed
/// one (422 `certificate_lapsed`: void once its period ended without CE and
/// the grace window passed), a completion day in the future
/// (`ce_completed_in_future`) or outside the current period
/// (`ce_outside_period`; after a renewal the current period is the new one).
/// Otherwise the certificate is renewed for one more period from its current
/// expiry, also while it shows `expired` within the grace window. `If-Match`
/// with the certificate's version is honoured (API-5).
#[utoipa::path(
    operation_id = "record_certificate_ce",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    request_body = CreateCeRecord,
    responses((status = 201, description = "Recorded; the certificate is renewed", body = CeRecorded), CreateErrors)
)]
#[post("/certificates/{id}/ce-records")]
pub async fn record_ce(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<CreateCeRecord>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_ISSUERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.title.trim().is_empty() {
        return Err(ApiError::field("title", "required", "name what was learnt"));
    }
    if body
        .evidence_reference
        .as_deref()
        .is_some_and(|e| e.trim().is_empty())
    {
        return Err(ApiError::field(
            "evidence_reference",
            "blank",
            "leave it out or name where the evidence is kept",
        ));
    }
    let id = id.into_inner().to_string();
    let done = state
        .run(move |s| {
            let now = s.clock.now();
            let cx = ViewContext::of(s);
            s.store.write(|c| {
                record_ce_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &id,
                    body,
                    if_match,
                    &cx,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(done.certificate.version))
        .json(done))
}

/// List a certificate's continuing-education records in recording order
/// (CRT-4); visible like the certificate (ACC-2).
#[utoipa::path(
    operation_id = "list_certificate_ce",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id"), PageParams),
    responses((status = 200, description = "OK", body = Paged<CeRecordView>), ReadErrors)
)]
#[get("/certificates/{id}/ce-records")]
pub async fn list_ce(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let id = id.into_inner().to_string();
    let paged = state
        .run(move |s| {
            s.store.read(|c| {
                let row = visible(c, &user, &id)?;
                let rows = guild_store::certificate_ce::list_for_certificate(
                    c,
                    &row.id,
                    page.after.as_deref(),
                    page.limit,
                )?;
                Paged::try_from_page(rows, CeRecordView::of)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}
