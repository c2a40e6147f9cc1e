//! Approving a certificate request (CRT-5, CRT-6).

use chrono::NaiveDateTime;
use guild_domain::Fen;
use guild_domain::certificate::{CertificateRecordStatus, CertificateRequestKind};
use guild_domain::certificate_request::{
    CertificateRequestAction, NoticeFacts, cancellation_notice, change_notice, check_requestable,
    decision_message, request_transition,
};
use guild_domain::fees::{FeeItem, LedgerKind};
use guild_domain::notice::NoticeKind;
use guild_store::DbConn;
use guild_store::certificate_requests::CertificateRequestRow;
use guild_store::certificates::CertificateRow;
use guild_store::locks::Locked;
use uuid::Uuid;

use crate::certificates::{NewCertificate, issue};
use crate::ctx::Ctx;
use crate::enrolments::ledger_entry;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, EventKind, kinds as ev};

use super::records::CertificateSnapshot;
use super::{
    CertificateRequestView, RequestSettings, check_employer, decision_notice, kinds, replaced_kind,
    status_today, visible,
};

/// The event of a certificate a request issued, superseded or revoked, with
/// snapshots that never hold the verification code.
fn certificate_event(
    kind: EventKind,
    before: Option<&CertificateRow>,
    after: &CertificateRow,
) -> AppResult<Event> {
    Ok(Event::new(
        kind,
        "certificate",
        &after.id,
        before.map(CertificateSnapshot::of).as_ref(),
        Some(&CertificateSnapshot::of(after)),
    )?
    .in_organisation(after.organisation_id.as_deref()))
}

/// The certificate's name for a notice (the program's certificate name).
/// A missing program is a fault of ours, never an empty name.
fn program_title(conn: &mut DbConn, program_id: &str) -> AppResult<String> {
    guild_store::programs::find(conn, program_id)?
        .map(|p| p.certificate_name)
        .ok_or_else(|| {
            AppError::Internal(format!("certificate names missing program {program_id}"))
        })
}

/// Charges the card fee of an approved request to the certificate's
/// enrolment ledger (CRT-5), when a card was asked for and the fee is not 0.
fn charge_card(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &CertificateRequestRow,
    old: &CertificateRow,
    new: &CertificateRow,
) -> AppResult<()> {
    let fee = Fen::from_stored(row.card_fee_fen);
    if !row.physical_card || fee.is_zero() {
        return Ok(());
    }
    let Some(enrolment_id) = old.enrolment_id.as_deref() else {
        // Refused when filed (`no_fee_ledger`); the enrolment link never changes.
        return Err(AppError::Internal(format!(
            "certificate {} has a card fee but no enrolment",
            old.id
        )));
    };
    let recorded_by = &ctx.caller()?.id;
    let mut entry = ledger_entry(
        enrolment_id,
        LedgerKind::Charge,
        FeeItem::CardFee,
        fee,
        recorded_by,
        ctx.now,
    );
    entry.reference = Some(row.id.clone());
    entry.note = Some(format!("card for certificate {}", new.number));
    guild_store::ledger::insert(conn, &entry)?;
    let after = serde_json::json!({
        "ledger_entry_id": entry.id,
        "item": FeeItem::CardFee,
        "amount_fen": fee,
        "certificate_request_id": row.id,
    });
    ctx.emit(
        conn,
        Event::new(
            ev::ENROLMENT_CARD_FEE_CHARGED,
            "enrolment",
            enrolment_id,
            None::<&()>,
            Some(&after),
        )?
        .in_organisation(row.organisation_id.as_deref()),
    )
}

/// A reissue or change: issues the new certificate (new number and code,
/// today's issue date, the old period, expiry and renewals, the new holder
/// name or employer), supersedes the old one, publishes a change (CRT-6) and
/// charges a card. Returns the new certificate's number.
fn replace(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &mut CertificateRequestRow,
    old: &mut CertificateRow,
    kind: CertificateRequestKind,
    facts: NoticeFacts<'_>,
    new_employer: Option<&str>,
) -> AppResult<String> {
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
            issued_on: facts.decided_on,
            validity_years: old.validity_years,
            period_started_on: old.period_started_on,
            valid_until: old.valid_until,
            renewals: old.renewals,
            replaces_id: Some(old.id.clone()),
            issued_by: ctx.caller()?.id.clone(),
        },
        ctx.now,
    )?;
    ctx.emit(conn, certificate_event(replaced_kind(kind), None, &new)?)?;
    old.status = CertificateRecordStatus::Superseded.as_str().to_owned();
    old.superseded_by_id = Some(new.id.clone());
    old.end_reason = Some(format!(
        "{kind} approved (request {}): replaced by certificate {}",
        row.id, new.number
    ));
    if kind == CertificateRequestKind::Change {
        let text = change_notice(
            facts,
            &new.number,
            row.new_holder_name
                .as_deref()
                .filter(|n| *n != old.holder_name),
            new_employer.filter(|_| row.new_organisation_id != old.organisation_id),
        );
        crate::notices::publish(
            ctx,
            conn,
            NoticeKind::CertificateChange,
            text,
            "certificate",
            &old.id,
        )?;
    }
    charge_card(ctx, conn, row, old, &new)?;
    row.new_certificate_id = Some(new.id.clone());
    Ok(new.number)
}

/// A cancellation: revokes the old certificate and publishes it (CRT-6).
fn revoke(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &CertificateRequestRow,
    old: &mut CertificateRow,
    facts: NoticeFacts<'_>,
) -> AppResult<()> {
    old.status = CertificateRecordStatus::Revoked.as_str().to_owned();
    old.end_reason = Some(format!(
        "cancellation approved (request {}): {}",
        row.id, row.reason
    ));
    crate::notices::publish(
        ctx,
        conn,
        NoticeKind::CertificateCancellation,
        cancellation_notice(facts),
        "certificate",
        &old.id,
    )?;
    Ok(())
}

/// Saves the old certificate, superseded or revoked, as ended at `at`; its
/// event shows it as it was before the approval (`before`).
fn end_old(
    ctx: &Ctx,
    conn: &mut DbConn,
    before: &CertificateRow,
    old: &mut CertificateRow,
    kind: CertificateRequestKind,
    at: NaiveDateTime,
) -> AppResult<()> {
    old.ended_at = Some(at);
    guild_store::certificates::update(conn, old, at)?;
    let event_kind = match kind {
        CertificateRequestKind::Cancellation => ev::CERTIFICATE_REVOKED,
        _ => ev::CERTIFICATE_SUPERSEDED,
    };
    ctx.emit(conn, certificate_event(event_kind, Some(before), old)?)
}

/// Approves a submitted request in one transaction under the certificate's
/// row lock (CRT-5, CRT-6): a reissue or change issues a new certificate and
/// supersedes the old one at once; a cancellation revokes it at once. The
/// certificate must still allow it (`certificate_lapsed` when it lapsed
/// meanwhile) and a new employer must still be approved. A physical card
/// charges the card fee to the enrolment ledger. Changes and cancellations
/// are published as public notices. The filer and holder are notified.
pub fn approve(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    settings: RequestSettings,
) -> AppResult<CertificateRequestView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    let row = visible(conn, caller, &id)?;
    request_transition(
        stored("certificate_requests", &row.status)?,
        CertificateRequestAction::Approve,
    )?;
    let mut old = guild_store::certificates::lock(conn, &row.certificate_id)?
        .ok_or(AppError::NotFound("certificate"))?;
    // Read again under the certificate's lock: a concurrent decision makes this one a 409.
    guild_store::locks::lock_row(conn, Locked::CertificateRequests, &id)?;
    let mut row = visible(conn, caller, &id)?;
    let before =
        CertificateRequestView::of(row.clone(), old.number.clone(), old.holder_name.clone())?;
    let next = request_transition(before.status, CertificateRequestAction::Approve)?;
    // The certificate may have lapsed since the request was filed.
    check_requestable(
        before.kind,
        status_today(ctx, &old, settings.grace_days)?,
        &old.number,
    )?;
    let new_employer = match &row.new_organisation_id {
        Some(org) => Some(check_employer(conn, org)?),
        None => None,
    };
    let old_before = old.clone();
    let at = ctx.now.naive_utc();
    let (number, holder) = (old.number.clone(), old.holder_name.clone());
    let program = program_title(conn, &old.program_id)?;
    let facts = NoticeFacts {
        number: &number,
        holder_name: &holder,
        program: &program,
        decided_on: ctx.today(),
    };
    let new_number = match before.kind {
        CertificateRequestKind::Reissue | CertificateRequestKind::Change => Some(replace(
            ctx,
            conn,
            &mut row,
            &mut old,
            before.kind,
            facts,
            new_employer.as_deref(),
        )?),
        CertificateRequestKind::Cancellation => {
            revoke(ctx, conn, &row, &mut old, facts)?;
            None
        }
    };
    end_old(ctx, conn, &old_before, &mut old, before.kind, at)?;
    row.status = next.as_str().to_owned();
    row.decided_by = Some(caller.id.clone());
    row.decided_at = Some(at);
    guild_store::certificate_requests::update(conn, &mut row, at)?;
    let message = decision_message(before.kind, &old.number, next, new_number.as_deref(), None);
    let notice = decision_notice(conn, &row, kinds::CERTIFICATE_REQUEST_APPROVED, message)?;
    let after = CertificateRequestView::of(row, old.number, old.holder_name)?;
    ctx.emit(
        conn,
        Event::change(ev::CERTIFICATE_REQUEST_APPROVED, Some(&before), &after)?.notify(notice),
    )?;
    Ok(after)
}
