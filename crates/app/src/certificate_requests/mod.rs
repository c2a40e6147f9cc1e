//! Reissue, change and cancellation of certificates (CRT-5, CRT-6).
//!
//! - Filing: the reviewer of the certificate's organisation or the holder (a
//!   trainee account of its person) files a `reissue` (补办), `change` (变更:
//!   holder name and/or employer) or `cancellation` (注销), optionally with a
//!   physical card (card fee). The certificate must be active: not
//!   superseded or revoked, and not lapsed unless it is being cancelled. One
//!   open request per certificate (409 `request_open`, also a partial unique
//!   index).
//! - Approval (training officer or head), in one transaction under the
//!   certificate's row lock: a reissue or change issues a new certificate
//!   (new number and verification code, the old validity period and
//!   renewals, the new name or employer) and the old one becomes `superseded`
//!   with a link to it; a cancellation makes the old one `revoked`. Both take
//!   effect at once: verification of the old code answers `superseded` /
//!   `revoked` from that moment. A physical card charges the card fee to the
//!   certificate's enrolment ledger. A change or cancellation is published as
//!   a public notice (CRT-6); a reissue is not (the seed publishes changes
//!   and cancellations, and the old code already answers `superseded` to
//!   anyone who checks it).
//! - `reject` (training department, with a reason) and `withdraw` (the filer,
//!   or a reviewer of the request's organisation) close a request with
//!   nothing charged. A wrong state answers 409 with the allowed actions.
//!
//! The filer, the organisation's fillers and reviewers and the holder's
//! accounts are notified of a decision. Every change emits one event.

mod approve;
mod records;

pub use approve::approve;
pub use records::{CertificateRequestView, CreateCertificateRequest};

use guild_domain::access::{Owner, Scope};
use guild_domain::certificate::{
    self, CertificateRecordStatus, CertificateRequestKind, CertificateRequestStatus,
};
use guild_domain::certificate_request::{
    CertificateRequestAction, ChangeAsked, card_fee, check_change_fields, check_new_employer,
    check_requestable, decision_message, may_file, request_transition,
};
use guild_domain::person::validate_person_name;
use guild_domain::{Fen, Refusal, Role};
use guild_store::DbConn;
use guild_store::certificate_requests::{CertificateRequestRow, RequestFilter};
use guild_store::certificates::CertificateRow;
use guild_store::locks::Locked;
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, Notice, Recipients, kinds as ev};
use crate::ids::fact;
use crate::{Page, PageRequest};

/// Notification kinds written by certificate requests.
pub mod kinds {
    /// A certificate request was approved (CRT-5).
    pub const CERTIFICATE_REQUEST_APPROVED: &str = "certificate_request_approved";
    /// A certificate request was rejected (CRT-5).
    pub const CERTIFICATE_REQUEST_REJECTED: &str = "certificate_request_rejected";
}

/// What the request use cases take from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RequestSettings {
    /// Days after the end of a period during which an unrenewed certificate
    /// is still `expired`, not `lapsed` (CRT-4).
    pub grace_days: u32,
    /// The fee of a physical card (CRT-5).
    pub card_fee: Fen,
}

/// Loads a request the caller may see, or 404 exactly like an unknown id (ACC-2).
fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<CertificateRequestRow> {
    guild_store::certificate_requests::find(conn, id)?
        .filter(|r| {
            caller.sees(&Owner::of_person(
                fact(Some(&r.person_id)),
                fact(r.organisation_id.as_deref()),
            ))
        })
        .ok_or(AppError::NotFound("certificate request"))
}

fn certificate_of(conn: &mut DbConn, id: &str) -> AppResult<CertificateRow> {
    guild_store::certificates::find(conn, id)?.ok_or_else(|| {
        AppError::Internal(format!(
            "certificate request names a missing certificate {id}"
        ))
    })
}

fn view_of(conn: &mut DbConn, row: CertificateRequestRow) -> AppResult<CertificateRequestView> {
    let cert = certificate_of(conn, &row.certificate_id)?;
    CertificateRequestView::of(row, cert.number, cert.holder_name)
}

impl crate::events::Record for CertificateRequestView {
    const ENTITY: &'static str = "certificate_request";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        self.organisation_id
    }
}

/// The certificate's status today (CRT-8).
fn status_today(
    ctx: &Ctx,
    cert: &CertificateRow,
    grace_days: u32,
) -> AppResult<certificate::CertificateStatus> {
    let stored: CertificateRecordStatus = stored("certificates", &cert.status)?;
    Ok(certificate::status(
        stored,
        cert.valid_until,
        ctx.today(),
        grace_days,
    ))
}

/// CRT-5: a new employer exists (422 `unknown_organisation` otherwise) and
/// is approved (422 `organisation_not_approved`).
fn check_employer(conn: &mut DbConn, id: &str) -> AppResult<String> {
    let org = guild_store::organisations::find(conn, id)?.ok_or_else(|| {
        AppError::field(
            "new_organisation_id",
            "unknown_organisation",
            "no organisation has this id",
        )
    })?;
    check_new_employer(stored("organisations", &org.status)?)?;
    Ok(org.name)
}

fn request_open(certificate_number: &str, detail: &str) -> AppError {
    AppError::Refused(Refusal::rule(
        "CRT-5",
        "request_open",
        format!(
            "certificate {certificate_number} already has an open request ({detail}); withdraw \
             it or wait for the association's decision"
        ),
    ))
}

/// The decision notice to the filer, the request organisation's fillers and
/// reviewers and the holder's accounts.
fn decision_notice(
    conn: &mut DbConn,
    row: &CertificateRequestRow,
    kind: &'static str,
    message: (String, String),
) -> AppResult<Notice> {
    let mut to = guild_store::notifications::enrolment_recipients(
        conn,
        row.organisation_id.as_deref(),
        &row.person_id,
    )?;
    if !to.contains(&row.filed_by) {
        to.push(row.filed_by.clone());
    }
    Ok(Notice::new(Recipients::Users(to), kind, message))
}

/// What a list of certificate requests is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct RequestListFilter {
    /// Only this status.
    pub status: Option<CertificateRequestStatus>,
    /// Only this kind.
    pub kind: Option<CertificateRequestKind>,
    /// Only requests about this certificate.
    pub certificate_id: Option<Uuid>,
}

/// Certificate requests, oldest first: organisation accounts see their
/// organisation's (ACC-2), trainees their own certificates', association
/// staff and the authority all.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    only: RequestListFilter,
    page: PageRequest,
) -> AppResult<Page<CertificateRequestView>> {
    let mut filter = RequestFilter {
        status: only.status.map(|v| v.as_str().to_owned()),
        kind: only.kind.map(|v| v.as_str().to_owned()),
        certificate_id: only.certificate_id.map(|v| v.to_string()),
        ..RequestFilter::default()
    };
    match ctx.caller()?.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => {
            filter.only_person = Some(crate::access::no_id());
        }
    }
    guild_store::certificate_requests::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(|r| CertificateRequestView::of(r.request, r.certificate_number, r.holder_name))
}

/// One request, visible like ACC-2 says.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<CertificateRequestView> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    view_of(conn, row)
}

/// The reason and new holder name of a new request, checked before anything
/// is loaded (422 per field).
fn check_filing(body: &CreateCertificateRequest) -> AppResult<Option<String>> {
    if body.reason.trim().is_empty() {
        return Err(AppError::field("reason", "required", "give a reason"));
    }
    body.new_holder_name
        .as_deref()
        .map(|n| {
            validate_person_name(n)
                .map_err(|e| AppError::field("new_holder_name", e.code, e.message))
        })
        .transpose()
}

/// Locks certificate `id` for a new request by `caller`: its organisation's
/// reviewer or its holder; anyone else gets 404 like an unknown id (ACC-2).
fn lock_filable(conn: &mut DbConn, caller: &Caller, id: Uuid) -> AppResult<CertificateRow> {
    let not_found = || AppError::NotFound("certificate");
    let cert = guild_store::certificates::lock(conn, &id.to_string())?.ok_or_else(not_found)?;
    let own_org = cert.organisation_id.is_some()
        && caller.organisation_id.as_deref() == cert.organisation_id.as_deref();
    let own_person = caller.person_id.as_deref() == Some(cert.person_id.as_str());
    if may_file(caller.role, own_org, own_person) {
        Ok(cert)
    } else {
        Err(not_found())
    }
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
pub fn file(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateCertificateRequest,
    settings: RequestSettings,
) -> AppResult<CertificateRequestView> {
    let new_holder_name = check_filing(&body)?;
    let caller = ctx.caller()?;
    let cert = lock_filable(conn, caller, body.certificate_id)?;
    check_requestable(
        body.kind,
        status_today(ctx, &cert, settings.grace_days)?,
        &cert.number,
    )?;
    let new_org = body.new_organisation_id.map(|o| o.to_string());
    check_change_fields(
        body.kind,
        ChangeAsked {
            new_holder_name: new_holder_name.as_deref(),
            new_organisation_id: new_org.as_deref(),
        },
        &cert.holder_name,
        cert.organisation_id.as_deref(),
    )?;
    if let Some(org) = &new_org {
        check_employer(conn, org)?;
    }
    let fee = card_fee(body.kind, body.physical_card, settings.card_fee)?;
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
    let at = ctx.now.naive_utc();
    let row = CertificateRequestRow {
        id: Uuid::now_v7().to_string(),
        certificate_id: cert.id.clone(),
        kind: body.kind.as_str().to_owned(),
        organisation_id: cert.organisation_id.clone(),
        person_id: cert.person_id.clone(),
        reason: body.reason.trim().to_owned(),
        new_holder_name,
        new_organisation_id: new_org,
        physical_card: body.physical_card,
        card_fee_fen: fee.get(),
        status: CertificateRequestStatus::Submitted.as_str().to_owned(),
        filed_by: caller.id.clone(),
        filed_at: at,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        new_certificate_id: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    guild_store::certificate_requests::insert(conn, &row)
        .or_taken(|| request_open(&cert.number, "filed concurrently"))?;
    let view = CertificateRequestView::of(row, cert.number, cert.holder_name)?;
    ctx.emit(
        conn,
        Event::change(ev::CERTIFICATE_REQUEST_FILED, None, &view)?,
    )?;
    Ok(view)
}

/// Rejects (training department, with a reason) or withdraws (the filer, or
/// a reviewer of the request's organisation; 403 for other accounts that can
/// see it) a submitted request in one transaction. Nothing is charged; a
/// rejection is notified to the filer and holder.
pub fn close(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: CertificateRequestAction,
    reason: Option<String>,
) -> AppResult<CertificateRequestView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    guild_store::locks::lock_row(conn, Locked::CertificateRequests, &id)?;
    let mut row = visible(conn, caller, &id)?;
    if action == CertificateRequestAction::Withdraw {
        // The organisation answers for its requests: its reviewer may withdraw them.
        let own_org_request = caller.role == Role::OrgReviewer
            && row.organisation_id.is_some()
            && caller.organisation_id.as_deref() == row.organisation_id.as_deref();
        if row.filed_by != caller.id && !own_org_request {
            return Err(AppError::Forbidden);
        }
    }
    let before = view_of(conn, row.clone())?;
    let next = request_transition(before.status, action)?;
    let at = ctx.now.naive_utc();
    row.status = next.as_str().to_owned();
    row.decided_by = Some(caller.id.clone());
    row.decided_at = Some(at);
    row.decision_reason = reason.clone();
    guild_store::certificate_requests::update(conn, &mut row, at)?;
    let notice = if action == CertificateRequestAction::Reject {
        let message = decision_message(
            before.kind,
            &before.certificate_number,
            next,
            None,
            reason.as_deref(),
        );
        Some(decision_notice(
            conn,
            &row,
            kinds::CERTIFICATE_REQUEST_REJECTED,
            message,
        )?)
    } else {
        None
    };
    let after = CertificateRequestView::of(
        row,
        before.certificate_number.clone(),
        before.holder_name.clone(),
    )?;
    let kind = match action {
        CertificateRequestAction::Reject => ev::CERTIFICATE_REQUEST_REJECTED,
        CertificateRequestAction::Withdraw => ev::CERTIFICATE_REQUEST_WITHDRAWN,
        CertificateRequestAction::Approve => ev::CERTIFICATE_REQUEST_APPROVED,
    };
    let mut event = Event::change(kind, Some(&before), &after)?;
    if let Some(notice) = notice {
        event = event.notify(notice);
    }
    ctx.emit(conn, event)?;
    Ok(after)
}

/// The kind of a request, as the certificate events name it.
fn replaced_kind(kind: CertificateRequestKind) -> EventKind {
    match kind {
        CertificateRequestKind::Reissue => ev::CERTIFICATE_REISSUED,
        CertificateRequestKind::Change => ev::CERTIFICATE_CHANGED,
        CertificateRequestKind::Cancellation => ev::CERTIFICATE_CANCELLED,
    }
}
