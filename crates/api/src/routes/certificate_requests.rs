//! Reissue, change and cancellation of certificates (CRT-5, CRT-6).
//!
//! - `POST /certificate-requests`: the reviewer of the certificate's
//!   organisation or the holder (a trainee account of its person) files a
//!   `reissue` (补办), `change` (变更: holder name and/or employer) or
//!   `cancellation` (注销), optionally with a physical card (card fee). The
//!   certificate must be active: not superseded or revoked, and not lapsed
//!   unless it is being cancelled. One open request per certificate (409
//!   `request_open`, also a partial unique index).
//! - `POST /certificate-requests/{id}/approve` (training officer or head), in
//!   one transaction under the certificate's row lock: a reissue or change
//!   issues a new certificate (new number and verification code, the old
//!   validity period and renewals, the new name or employer) and the old one
//!   becomes `superseded` with a link to it; a cancellation makes the old one
//!   `revoked`. Both take effect at once: verification of the old code answers
//!   `superseded` / `revoked` from that moment. A physical card charges the
//!   card fee to the certificate's enrolment ledger. A change or cancellation
//!   is published as a public notice (CRT-6); a reissue is not (the seed
//!   publishes changes and cancellations, and the old code already answers
//!   `superseded` to anyone who checks it).
//! - `reject` (training department, with a reason) and `withdraw` (the filer,
//!   or a reviewer of the request's organisation) close a request with
//!   nothing charged. A wrong state answers 409 with the allowed actions.
//!
//! The filer, the organisation's fillers and reviewers and the holder's
//! accounts are notified of a decision. Every change is audited.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use guild_domain::certificate::{
    self, CertificateRecordStatus, CertificateRequestKind, CertificateRequestStatus,
};
use guild_domain::certificate_request::{
    CertificateRequestAction, ChangeAsked, DECIDERS, FILERS, NoticeFacts, cancellation_notice,
    card_fee, change_notice, check_change_fields, check_new_employer, check_requestable,
    decision_message, may_file, request_allowed_actions, request_transition,
};
use guild_domain::fees::{FeeItem, LedgerKind};
use guild_domain::notice::NoticeKind;
use guild_domain::person::validate_person_name;
use guild_domain::{Fen, Refusal, Role, local_date};
use guild_store::DbConn;
use guild_store::certificate_requests::{CertificateRequestRow, RequestFilter};
use guild_store::certificates::CertificateRow;
use guild_store::locks::Locked;
use guild_store::notifications::NotificationRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Owner, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::certificates::{NewCertificate, issue};
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments as service;

/// Notification kinds written by certificate requests.
pub mod kinds {
    /// A certificate request was approved (CRT-5).
    pub const CERTIFICATE_REQUEST_APPROVED: &str = "certificate_request_approved";
    /// A certificate request was rejected (CRT-5).
    pub const CERTIFICATE_REQUEST_REJECTED: &str = "certificate_request_rejected";
}

/// A request to reissue, change or cancel a certificate (CRT-5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateRequestView {
    /// The request id.
    pub id: Uuid,
    /// The certificate asked about.
    pub certificate_id: Uuid,
    /// Its number.
    pub certificate_number: String,
    /// The holder's name on it.
    pub holder_name: String,
    /// `reissue` (补办), `change` (变更) or `cancellation` (注销).
    pub kind: CertificateRequestKind,
    /// The certificate's organisation, whose accounts see the request
    /// (`null` for an individual's certificate).
    pub organisation_id: Option<Uuid>,
    /// The holder.
    pub person_id: Uuid,
    /// Why the request is made (card lost, name changed, left the trade, ...).
    pub reason: String,
    /// A change: the holder's new name.
    pub new_holder_name: Option<String>,
    /// A change: the holder's new employer.
    pub new_organisation_id: Option<Uuid>,
    /// Whether a physical card is asked for (reissue or change).
    pub physical_card: bool,
    /// The card fee in fen, charged to the enrolment ledger on approval (0 without a card).
    pub card_fee_fen: Fen,
    /// Where the request stands.
    pub status: CertificateRequestStatus,
    /// The actions its state allows (API-4): `approve`, `reject`, `withdraw`.
    pub allowed_actions: Vec<String>,
    /// Who filed it.
    pub filed_by: Uuid,
    /// When it was filed.
    pub filed_at: DateTime<Utc>,
    /// Who approved, rejected or withdrew it.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a rejection.
    pub decision_reason: Option<String>,
    /// The certificate an approved reissue or change issued.
    pub new_certificate_id: Option<Uuid>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl CertificateRequestView {
    fn of(r: CertificateRequestRow, number: String, holder_name: String) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("certificate_requests", v);
        let opt = |v: &Option<String>| v.as_deref().map(id).transpose();
        let status: CertificateRequestStatus = parse_stored("certificate_requests", &r.status)?;
        Ok(CertificateRequestView {
            id: id(&r.id)?,
            certificate_id: id(&r.certificate_id)?,
            certificate_number: number,
            holder_name,
            kind: parse_stored("certificate_requests", &r.kind)?,
            organisation_id: opt(&r.organisation_id)?,
            person_id: id(&r.person_id)?,
            reason: r.reason,
            new_holder_name: r.new_holder_name,
            new_organisation_id: opt(&r.new_organisation_id)?,
            physical_card: r.physical_card,
            card_fee_fen: Fen::from_stored(r.card_fee_fen),
            status,
            allowed_actions: request_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: id(&r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: opt(&r.decided_by)?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            new_certificate_id: opt(&r.new_certificate_id)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new request (CRT-5).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"certificate_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "kind": "reissue", "reason": "The card was lost", "physical_card": true}))]
pub struct CreateCertificateRequest {
    /// The certificate (active; of the caller's organisation, or the caller's own).
    pub certificate_id: Uuid,
    /// `reissue`, `change` or `cancellation`.
    pub kind: CertificateRequestKind,
    /// Why.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    /// Ask for a physical card (reissue or change only); costs the card fee.
    #[serde(default)]
    pub physical_card: bool,
    /// A change: the holder's new name (1 to 64 characters).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub new_holder_name: Option<String>,
    /// A change: the holder's new employer (an approved organisation).
    pub new_organisation_id: Option<Uuid>,
}

/// Filters for the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequestQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<CertificateRequestStatus>,
    /// Only this kind.
    pub kind: Option<CertificateRequestKind>,
    /// Only requests about this certificate.
    pub certificate_id: Option<Uuid>,
}

/// Loads a request the caller may see, or 404 exactly like an unknown id (ACC-2).
fn visible_request(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<CertificateRequestRow> {
    guild_store::certificate_requests::find(conn, id)?
        .filter(|r| {
            caller.sees(&Owner::of_person(
                access::id(&r.person_id),
                access::opt_id(r.organisation_id.as_deref()),
            ))
        })
        .ok_or_else(|| ApiError::not_found("certificate request"))
}

fn certificate_of(conn: &mut DbConn, id: &str) -> ApiResult<CertificateRow> {
    guild_store::certificates::find(conn, id)?.ok_or_else(|| {
        ApiError::Internal(format!(
            "certificate request names a missing certificate {id}"
        ))
    })
}

fn view_of(conn: &mut DbConn, row: CertificateRequestRow) -> ApiResult<CertificateRequestView> {
    let cert = certificate_of(conn, &row.certificate_id)?;
    CertificateRequestView::of(row, cert.number, cert.holder_name)
}

fn audit_request(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&CertificateRequestView>,
    after: &CertificateRequestView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "certificate_request",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before,
            after: Some(after),
        },
    )
}

/// What the audit log keeps of a certificate a request changed or issued
/// (never the verification code: the log is readable by the organisation and
/// the code is the QR code's secret).
#[derive(Debug, Serialize)]
struct CertificateSnapshot<'a> {
    id: &'a str,
    number: &'a str,
    person_id: &'a str,
    organisation_id: Option<&'a str>,
    holder_name: &'a str,
    valid_until: chrono::NaiveDate,
    status: &'a str,
    replaces_id: Option<&'a str>,
    superseded_by_id: Option<&'a str>,
    end_reason: Option<&'a str>,
}

impl<'a> CertificateSnapshot<'a> {
    fn of(c: &'a CertificateRow) -> Self {
        CertificateSnapshot {
            id: &c.id,
            number: &c.number,
            person_id: &c.person_id,
            organisation_id: c.organisation_id.as_deref(),
            holder_name: &c.holder_name,
            valid_until: c.valid_until,
            status: &c.status,
            replaces_id: c.replaces_id.as_deref(),
            superseded_by_id: c.superseded_by_id.as_deref(),
            end_reason: c.end_reason.as_deref(),
        }
    }
}

fn audit_certificate(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&CertificateRow>,
    after: &CertificateRow,
) -> ApiResult<()> {
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "certificate",
            entity_id: &after.id,
            organisation_id: after.organisation_id.as_deref(),
            before: before.map(CertificateSnapshot::of).as_ref(),
            after: Some(&CertificateSnapshot::of(after)),
        },
    )
}

/// The certificate's status today (CRT-8).
fn status_today(
    cert: &CertificateRow,
    at: DateTime<Utc>,
    tz: Tz,
    grace_days: u32,
) -> ApiResult<certificate::CertificateStatus> {
    let stored: CertificateRecordStatus = parse_stored("certificates", &cert.status)?;
    Ok(certificate::status(
        stored,
        cert.valid_until,
        local_date(at, tz),
        grace_days,
    ))
}

/// CRT-5: a new employer exists (422 `unknown_organisation` otherwise) and
/// is approved (422 `organisation_not_approved`).
fn check_employer(conn: &mut DbConn, id: &str) -> ApiResult<String> {
    let org = guild_store::organisations::find(conn, id)?.ok_or_else(|| {
        ApiError::field(
            "new_organisation_id",
            "unknown_organisation",
            "no organisation has this id",
        )
    })?;
    check_new_employer(parse_stored("organisations", &org.status)?)?;
    Ok(org.name)
}

fn request_open(certificate_number: &str, detail: &str) -> ApiError {
    ApiError::Refused(Refusal::rule(
        "CRT-5",
        "request_open",
        format!(
            "certificate {certificate_number} already has an open request ({detail}); withdraw \
             it or wait for the association's decision"
        ),
    ))
}

/// The validated parts of a new request.
struct Filing {
    body: CreateCertificateRequest,
    new_holder_name: Option<String>,
}

/// Files a request in one transaction (CRT-5). Checks, in order: the caller
/// may see the certificate — its organisation's reviewer or its holder — (404
/// like an unknown id, ACC-2); the certificate may be asked for with this
/// kind (422 `certificate_not_active` / `certificate_lapsed`); the change
/// fields fit the kind and change something (422 `only_for_change` /
/// `nothing_to_change`); a new employer exists and is approved; a card is
/// only asked with a new certificate (422 `card_not_for_cancellation`) and
/// its fee has an enrolment ledger to go to (422 `no_fee_ledger`); no other
/// request is open (409 `request_open`, also the partial unique index).
fn file_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    filing: Filing,
    (tz, grace_days, fee): (Tz, u32, Fen),
) -> ApiResult<CertificateRequestView> {
    let body = filing.body;
    let not_found = || ApiError::not_found("certificate");
    let cert = guild_store::certificates::lock(conn, &body.certificate_id.to_string())?
        .ok_or_else(not_found)?;
    let own_org = cert.organisation_id.is_some()
        && user.organisation_id.as_deref() == cert.organisation_id.as_deref();
    let own_person = user.person_id.as_deref() == Some(cert.person_id.as_str());
    if !may_file(user.role, own_org, own_person) {
        return Err(not_found());
    }
    check_requestable(
        body.kind,
        status_today(&cert, actor.at, tz, grace_days)?,
        &cert.number,
    )?;
    let new_org = body.new_organisation_id.map(|o| o.to_string());
    check_change_fields(
        body.kind,
        ChangeAsked {
            new_holder_name: filing.new_holder_name.as_deref(),
            new_organisation_id: new_org.as_deref(),
        },
        &cert.holder_name,
        cert.organisation_id.as_deref(),
    )?;
    if let Some(org) = &new_org {
        check_employer(conn, org)?;
    }
    let fee = card_fee(body.kind, body.physical_card, fee)?;
    if !fee.is_zero() && cert.enrolment_id.is_none() {
        return Err(Refusal::rule(
            "CRT-5",
            "no_fee_ledger",
            format!(
                "certificate {} was not issued through an enrolment, so there is no ledger for \
                 the card fee; ask without a physical card",
                cert.number
            ),
        )
        .into());
    }
    if let Some(open) = guild_store::certificate_requests::open_for_certificate(conn, &cert.id)? {
        return Err(request_open(&cert.number, &open.id));
    }
    let at = actor.at.naive_utc();
    let row = CertificateRequestRow {
        id: Uuid::now_v7().to_string(),
        certificate_id: cert.id.clone(),
        kind: body.kind.as_str().to_owned(),
        organisation_id: cert.organisation_id.clone(),
        person_id: cert.person_id.clone(),
        reason: body.reason.trim().to_owned(),
        new_holder_name: filing.new_holder_name,
        new_organisation_id: new_org,
        physical_card: body.physical_card,
        card_fee_fen: fee.get(),
        status: CertificateRequestStatus::Submitted.as_str().to_owned(),
        filed_by: user.id.clone(),
        filed_at: at,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        new_certificate_id: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    guild_store::certificate_requests::insert(conn, &row).map_err(|e| {
        if e.is_unique_violation() {
            request_open(&cert.number, "filed concurrently")
        } else {
            e.into()
        }
    })?;
    let view = CertificateRequestView::of(row, cert.number, cert.holder_name)?;
    audit_request(conn, actor, "certificate_request.file", None, &view)?;
    Ok(view)
}

/// Notifies the filer, the request organisation's fillers and reviewers and
/// the holder's accounts of a decision.
fn notify_decision(
    conn: &mut DbConn,
    row: &CertificateRequestRow,
    kind: &str,
    (title, body): (String, String),
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut to = guild_store::notifications::enrolment_recipients(
        conn,
        row.organisation_id.as_deref(),
        &row.person_id,
    )?;
    if !to.contains(&row.filed_by) {
        to.push(row.filed_by.clone());
    }
    for user in to {
        guild_store::notifications::insert(
            conn,
            &NotificationRow {
                id: Uuid::now_v7().to_string(),
                recipient_user_id: user,
                kind: kind.to_owned(),
                title: title.clone(),
                body: body.clone(),
                entity_type: "certificate_request".to_owned(),
                entity_id: row.id.clone(),
                created_at: at.naive_utc(),
                read_at: None,
            },
        )?;
    }
    Ok(())
}

/// The certificate's name for a notice (the program's certificate name).
fn program_title(conn: &mut DbConn, program_id: &str) -> ApiResult<String> {
    Ok(guild_store::programs::find(conn, program_id)?
        .map(|p| p.certificate_name)
        .unwrap_or_default())
}

/// Approves a request in one transaction (CRT-5, CRT-6), see [`approve`].
fn approve_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    (tz, grace_days): (Tz, u32),
) -> ApiResult<CertificateRequestView> {
    let row = visible_request(conn, user, id)?;
    request_transition(
        parse_stored("certificate_requests", &row.status)?,
        CertificateRequestAction::Approve,
    )?;
    let mut old = guild_store::certificates::lock(conn, &row.certificate_id)?
        .ok_or_else(|| ApiError::not_found("certificate"))?;
    // Read again under the certificate's lock: a concurrent decision makes this one a 409.
    guild_store::locks::lock_row(conn, Locked::CertificateRequests, id)?;
    let mut row = visible_request(conn, user, id)?;
    let before =
        CertificateRequestView::of(row.clone(), old.number.clone(), old.holder_name.clone())?;
    let next = request_transition(before.status, CertificateRequestAction::Approve)?;
    // The certificate may have lapsed since the request was filed.
    check_requestable(
        before.kind,
        status_today(&old, actor.at, tz, grace_days)?,
        &old.number,
    )?;
    let new_employer = match &row.new_organisation_id {
        Some(org) => Some(check_employer(conn, org)?),
        None => None,
    };
    let old_before = old.clone();
    let today = local_date(actor.at, tz);
    let at = actor.at.naive_utc();
    let facts_number = old.number.clone();
    let facts_holder = old.holder_name.clone();
    let program = program_title(conn, &old.program_id)?;
    let facts = NoticeFacts {
        number: &facts_number,
        holder_name: &facts_holder,
        program: &program,
        decided_on: today,
    };
    let mut new_number = None;
    match before.kind {
        CertificateRequestKind::Reissue | CertificateRequestKind::Change => {
            let holder_name = row
                .new_holder_name
                .clone()
                .unwrap_or_else(|| old.holder_name.clone());
            let organisation_id = row
                .new_organisation_id
                .clone()
                .or_else(|| old.organisation_id.clone());
            let new = issue(
                conn,
                NewCertificate {
                    person_id: old.person_id.clone(),
                    organisation_id,
                    holder_name,
                    program_id: old.program_id.clone(),
                    class_id: old.class_id.clone(),
                    enrolment_id: old.enrolment_id.clone(),
                    registration_id: old.registration_id.clone(),
                    issued_on: today,
                    validity_years: old.validity_years,
                    period_started_on: old.period_started_on,
                    valid_until: old.valid_until,
                    renewals: old.renewals,
                    replaces_id: Some(old.id.clone()),
                    issued_by: user.id.clone(),
                },
                actor.at,
            )?;
            audit_certificate(
                conn,
                actor,
                &format!("certificate.{}", before.kind),
                None,
                &new,
            )?;
            old.status = CertificateRecordStatus::Superseded.as_str().to_owned();
            old.superseded_by_id = Some(new.id.clone());
            old.end_reason = Some(format!(
                "{} approved (request {}): replaced by certificate {}",
                before.kind, row.id, new.number
            ));
            if before.kind == CertificateRequestKind::Change {
                let text = change_notice(
                    facts,
                    &new.number,
                    row.new_holder_name
                        .as_deref()
                        .filter(|n| *n != old.holder_name),
                    new_employer
                        .as_deref()
                        .filter(|_| row.new_organisation_id != old.organisation_id),
                );
                guild_app::notices::publish(
                    conn,
                    NoticeKind::CertificateChange,
                    text,
                    "certificate",
                    &old.id,
                    actor.at,
                )?;
            }
            charge_card(conn, actor, &row, &old, &new)?;
            row.new_certificate_id = Some(new.id.clone());
            new_number = Some(new.number);
        }
        CertificateRequestKind::Cancellation => {
            old.status = CertificateRecordStatus::Revoked.as_str().to_owned();
            old.end_reason = Some(format!(
                "cancellation approved (request {}): {}",
                row.id, row.reason
            ));
            guild_app::notices::publish(
                conn,
                NoticeKind::CertificateCancellation,
                cancellation_notice(facts),
                "certificate",
                &old.id,
                actor.at,
            )?;
        }
    }
    old.ended_at = Some(at);
    guild_store::certificates::update(conn, &mut old, at)?;
    let action = match before.kind {
        CertificateRequestKind::Cancellation => "certificate.revoke",
        _ => "certificate.supersede",
    };
    audit_certificate(conn, actor, action, Some(&old_before), &old)?;
    row.status = next.as_str().to_owned();
    row.decided_by = Some(user.id.clone());
    row.decided_at = Some(at);
    guild_store::certificate_requests::update(conn, &mut row, at)?;
    notify_decision(
        conn,
        &row,
        kinds::CERTIFICATE_REQUEST_APPROVED,
        decision_message(before.kind, &old.number, next, new_number.as_deref(), None),
        actor.at,
    )?;
    let after = CertificateRequestView::of(row, old.number, old.holder_name)?;
    audit_request(
        conn,
        actor,
        "certificate_request.approve",
        Some(&before),
        &after,
    )?;
    Ok(after)
}

/// Charges the card fee of an approved request to the certificate's
/// enrolment ledger (CRT-5), when a card was asked for and the fee is not 0.
fn charge_card(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    row: &CertificateRequestRow,
    old: &CertificateRow,
    new: &CertificateRow,
) -> ApiResult<()> {
    let fee = Fen::from_stored(row.card_fee_fen);
    if !row.physical_card || fee.is_zero() {
        return Ok(());
    }
    let Some(enrolment_id) = old.enrolment_id.as_deref() else {
        // Refused when filed (`no_fee_ledger`); the enrolment link never changes.
        return Err(ApiError::Internal(format!(
            "certificate {} has a card fee but no enrolment",
            old.id
        )));
    };
    let recorded_by = actor
        .user
        .map(|u| u.id.as_str())
        .ok_or_else(|| ApiError::Internal("a card fee needs a user".to_owned()))?;
    let mut entry = service::ledger_entry(
        enrolment_id,
        LedgerKind::Charge,
        FeeItem::CardFee,
        fee,
        recorded_by,
        actor.at,
    );
    entry.reference = Some(row.id.clone());
    entry.note = Some(format!("card for certificate {}", new.number));
    guild_store::ledger::insert(conn, &entry)?;
    audit::record::<(), _>(
        conn,
        actor,
        Change {
            action: "enrolment.card_fee",
            entity_type: "enrolment",
            entity_id: enrolment_id,
            organisation_id: row.organisation_id.as_deref(),
            before: None,
            after: Some(&serde_json::json!({
                "ledger_entry_id": entry.id,
                "item": FeeItem::CardFee,
                "amount_fen": fee,
                "certificate_request_id": row.id,
            })),
        },
    )
}

/// Rejects (training department) or withdraws (filer) a request in one
/// transaction, see [`reject`] and [`withdraw`].
fn close_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    action: CertificateRequestAction,
    reason: Option<String>,
) -> ApiResult<CertificateRequestView> {
    guild_store::locks::lock_row(conn, Locked::CertificateRequests, id)?;
    let mut row = visible_request(conn, user, id)?;
    if action == CertificateRequestAction::Withdraw {
        let own_org_request = user.role == Role::OrgReviewer
            && row.organisation_id.is_some()
            && user.organisation_id.as_deref() == row.organisation_id.as_deref();
        if row.filed_by != user.id && !own_org_request {
            return Err(ApiError::forbidden());
        }
    }
    let before = view_of(conn, row.clone())?;
    let next = request_transition(before.status, action)?;
    let at = actor.at.naive_utc();
    row.status = next.as_str().to_owned();
    row.decided_by = Some(user.id.clone());
    row.decided_at = Some(at);
    row.decision_reason = reason.clone();
    guild_store::certificate_requests::update(conn, &mut row, at)?;
    if action == CertificateRequestAction::Reject {
        notify_decision(
            conn,
            &row,
            kinds::CERTIFICATE_REQUEST_REJECTED,
            decision_message(
                before.kind,
                &before.certificate_number,
                next,
                None,
                reason.as_deref(),
            ),
            actor.at,
        )?;
    }
    let after = CertificateRequestView::of(
        row,
        before.certificate_number.clone(),
        before.holder_name.clone(),
    )?;
    audit_request(
        conn,
        actor,
        &format!("certificate_request.{action}"),
        Some(&before),
        &after,
    )?;
    Ok(after)
}

/// List certificate requests, oldest first: organisation accounts see their
/// organisation's (ACC-2), trainees their own certificates', association
/// staff and the authority all.
#[utoipa::path(
    operation_id = "list_certificate_requests",
    tag = "certificate-requests",
    params(CertificateRequestQuery),
    responses((status = 200, description = "OK", body = Paged<CertificateRequestView>), ListErrors)
)]
#[get("/certificate-requests")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CertificateRequestQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = RequestFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        kind: q.kind.map(|v| v.as_str().to_owned()),
        certificate_id: q.certificate_id.map(|v| v.to_string()),
        ..RequestFilter::default()
    };
    match user.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => {
            filter.only_person = Some(access::no_id());
        }
    }
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::certificate_requests::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        CertificateRequestView::of(r.request, r.certificate_number, r.holder_name)
    })?))
}

/// File a request to reissue (补办), change (变更) or cancel (注销) a
/// certificate (CRT-5): by the reviewer of the certificate's organisation or
/// by the holder (404 for another organisation's certificate, ACC-2; the
/// organisation's filler may not file, 403). The certificate must be active:
/// not superseded or revoked (`certificate_not_active`), and not lapsed
/// unless it is cancelled (`certificate_lapsed`). A change names a new
/// holder name and/or a new employer (an approved organisation) that differ
/// from the certificate's; a reissue or cancellation names neither. A
/// physical card (reissue or change) costs the card fee, charged to the
/// certificate's enrolment ledger only when the request is approved. One
/// open request per certificate (409 `request_open`).
#[utoipa::path(
    operation_id = "create_certificate_request",
    tag = "certificate-requests",
    request_body = CreateCertificateRequest,
    responses((status = 201, description = "Filed; waits for the training department", body = CertificateRequestView), CreateErrors)
)]
#[post("/certificate-requests")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateCertificateRequest>,
) -> ApiResult<HttpResponse> {
    user.require(FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let new_holder_name = body
        .new_holder_name
        .as_deref()
        .map(|n| {
            validate_person_name(n)
                .map_err(|e| ApiError::field("new_holder_name", e.code, e.message))
        })
        .transpose()?;
    let filing = Filing {
        body,
        new_holder_name,
    };
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let cfg = (
                s.config.time_zone,
                s.config.ce_grace_days,
                Fen::from_stored(s.config.card_fee_fen),
            );
            s.store
                .write(|c| file_in_tx(c, &Actor::new(&user, &ctx, now), &user, filing, cfg))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/certificate-requests/{}", view.id),
        ))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one certificate request (its organisation's accounts, the holder,
/// association staff and the authority; 404 for others, ACC-2).
#[utoipa::path(
    operation_id = "get_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    responses((status = 200, description = "OK", body = CertificateRequestView), ReadErrors)
)]
#[get("/certificate-requests/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = visible_request(c, &user, &id)?;
                view_of(c, row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a submitted request (CRT-5, CRT-6: training officer or head). In
/// one transaction under the certificate's row lock: a reissue or change
/// issues a new certificate (new number and verification code, today's issue
/// date, the old validity period, expiry and renewals, the new holder name or
/// employer) and the old one becomes `superseded` at once, pointing to it; a
/// cancellation makes the old one `revoked` at once. The certificate must
/// still allow it (`certificate_lapsed` when it lapsed meanwhile) and a new
/// employer must still be approved. A physical card charges the card fee to
/// the enrolment ledger (`card_fee` charge). Changes and cancellations are
/// published on `GET /public/notices` with the certificate number and the
/// holder's name partly masked. The filer and holder are notified.
#[utoipa::path(
    operation_id = "approve_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    responses((status = 200, description = "Approved; `new_certificate_id` names the new certificate of a reissue or change", body = CertificateRequestView), ActionErrors)
)]
#[post("/certificate-requests/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(DECIDERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let cfg = (s.config.time_zone, s.config.ce_grace_days);
            s.store
                .write(|c| approve_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, cfg))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Reject a submitted request with a reason (CRT-5: training officer or
/// head). Nothing is charged; the filer and holder are notified.
#[utoipa::path(
    operation_id = "reject_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = CertificateRequestView), ActionErrors)
)]
#[post("/certificate-requests/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(DECIDERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    close(
        state,
        ctx,
        user,
        id.into_inner(),
        CertificateRequestAction::Reject,
        Some(reason),
    )
    .await
}

/// Withdraw a submitted request (CRT-5): by whoever filed it, or by a
/// reviewer of the request's organisation (the organisation answers for its
/// requests); 403 for other accounts that can see it. Nothing is charged.
#[utoipa::path(
    operation_id = "withdraw_certificate_request",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Certificate request id")),
    responses((status = 200, description = "Withdrawn", body = CertificateRequestView), ActionErrors)
)]
#[post("/certificate-requests/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(FILERS)?;
    close(
        state,
        ctx,
        user,
        id.into_inner(),
        CertificateRequestAction::Withdraw,
        None,
    )
    .await
}

async fn close(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: CertificateRequestAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                close_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, action, reason)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(approve)
        .service(reject)
        .service(withdraw);
}
