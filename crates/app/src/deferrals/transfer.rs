//! The transfer of a deferred trainee to a later class (DEF-2).

use crate::events::Event;
use guild_domain::deferral::{
    ClassFacts, DeferralAction, check_transfer_seat, check_transfer_target, deferral_transition,
    status_after_transfer, transfer_entries, transfer_notice,
};
use guild_domain::enrolment::{EnrolmentStatus, already_enrolled};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use uuid::Uuid;

use super::{TransferOutcome, check_may_file, class_status, kinds, notify_about, view_of, visible};
use crate::ctx::Ctx;
use crate::enrolments;
use crate::error::{AppError, AppResult, stored};
use crate::events::kinds as ev;

fn facts(class: &ClassRow) -> AppResult<ClassFacts<'_>> {
    Ok(ClassFacts {
        program_id: &class.program_id,
        start_date: class.start_date,
        status: class_status(class)?,
    })
}

/// Transfers a deferred trainee to a later class (DEF-2).
///
/// Order: the caller may see (404) and file for (403) the enrolment; the
/// deferral is `approved` (409); the target class is locked (404 when unknown)
/// and checked (same program, later start, same calendar year, planned or
/// open: 422 DEF-2); the enrolment is `deferred` (a `no_show` never moves,
/// DEF-4); the person is not banned from the program (ENR-4) nor already
/// enrolled there (409 ENR-5); a seat is free (409 `class_full`, CLS-3 —
/// counted under the class lock).
///
/// Then: the old enrolment gets a `transfer_out` of the money it holds and a
/// `charge_reversal` of each charge, and becomes `transferred`; a new
/// enrolment for the same person, organisation and channel is created in the
/// later class in status `paid`, with `transferred_from_id`, the same charges
/// and a `transfer_in` of the same money (due 0). Submission time and the
/// reviewer's attestation (ENR-2) carry over from the old enrolment; the
/// caller is recorded as the one who confirmed the seat. The deferral records
/// `transferred_to_id`. The organisation and the trainee are notified.
pub fn transfer(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    target_class_id: Uuid,
) -> AppResult<TransferOutcome> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    let (row, enrolment) = visible(conn, caller, &id)?;
    check_may_file(caller, &enrolment)?;
    deferral_transition(stored("deferrals", &row.status)?, DeferralAction::Transfer)?;
    let target = guild_store::classes::lock(conn, &target_class_id.to_string())?
        .ok_or(AppError::NotFound("class"))?;
    // Read again under the class lock and the deferral's own (API-5).
    guild_store::locks::lock_row(conn, Locked::Deferrals, &id)?;
    let (mut row, mut old) = visible(conn, caller, &id)?;
    let before = view_of(conn, row.clone(), &old)?;
    let next = deferral_transition(before.status, DeferralAction::Transfer)?;
    let original = enrolments::class_of(conn, &old.class_id)?;
    check_transfer_target(&facts(&original)?, &facts(&target)?)?;
    let (old_status, _) = enrolments::status_of(&old)?;
    let transferred = status_after_transfer(old_status)?;
    enrolments::check_not_banned_now(conn, &old.person_id, &target.program_id, ctx.today())?;
    if let Some(existing) = guild_store::enrolments::find_live(conn, &target.id, &old.person_id)? {
        return Err(already_enrolled(&existing.id).into());
    }
    let seats = guild_store::classes::seats_taken(conn, &target.id)?;
    check_transfer_seat(seats, target.capacity)?;

    let (old_rows, _) = enrolments::ledger_of(conn, &old.id)?;
    let plan = transfer_entries(&enrolments::entries(&old_rows)?);
    for (kind, item, amount) in &plan.old {
        let mut entry =
            enrolments::ledger_entry(&old.id, *kind, *item, *amount, &caller.id, ctx.now);
        entry.note = Some(format!("transfer to {}", target.code));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let old_before = enrolments::view_of(conn, old.clone(), false)?;
    old.status = transferred.as_str().to_owned();
    enrolments::save(
        ctx,
        conn,
        ev::ENROLMENT_TRANSFERRED,
        old.clone(),
        &old_before,
    )?;

    let new_row = transferred_enrolment(ctx, &old, &target)?;
    enrolments::insert(conn, &new_row)?;
    for (kind, item, amount) in &plan.new {
        let mut entry =
            enrolments::ledger_entry(&new_row.id, *kind, *item, *amount, &caller.id, ctx.now);
        entry.note = Some(format!("transfer from {}", original.code));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let new_view = enrolments::view_of(conn, new_row.clone(), true)?;
    ctx.emit(
        conn,
        Event::change(ev::ENROLMENT_TRANSFERRED_IN, None, &new_view)?,
    )?;

    row.status = next.as_str().to_owned();
    row.transferred_to_id = Some(new_row.id.clone());
    guild_store::deferrals::update(conn, &mut row, ctx.now.naive_utc())?;
    let text = transfer_notice(&original.title, &target.title, &before.person_name);
    notify_about(ctx, conn, &new_row, kinds::ENROLMENT_TRANSFERRED, text)?;
    let after = view_of(conn, row, &old)?;
    ctx.emit(
        conn,
        Event::change(ev::DEFERRAL_TRANSFERRED, Some(&before), &after)?,
    )?;
    Ok(TransferOutcome {
        deferral: after,
        enrolment: new_view,
    })
}

/// The new `paid` enrolment in the later class, carrying over the old one's
/// person, organisation, channel, submission and attestation (DEF-2).
fn transferred_enrolment(
    ctx: &Ctx,
    old: &EnrolmentRow,
    target: &ClassRow,
) -> AppResult<EnrolmentRow> {
    let by = ctx.caller()?.id.clone();
    let at = ctx.now.naive_utc();
    Ok(EnrolmentRow {
        id: Uuid::now_v7().to_string(),
        class_id: target.id.clone(),
        person_id: old.person_id.clone(),
        organisation_id: old.organisation_id.clone(),
        channel: old.channel.clone(),
        status: EnrolmentStatus::Paid.as_str().to_owned(),
        submitted_at: old.submitted_at,
        org_approved_by: old.org_approved_by.clone(),
        org_approved_at: old.org_approved_at,
        confirmed_by: Some(by.clone()),
        confirmed_at: Some(at),
        waitlisted_at: None,
        paid_at: Some(at),
        notified_at: None,
        rejected_by: None,
        rejected_at: None,
        rejection_reason: None,
        transferred_from_id: Some(old.id.clone()),
        created_by: by,
        version: 1,
        created_at: at,
        updated_at: at,
    })
}
