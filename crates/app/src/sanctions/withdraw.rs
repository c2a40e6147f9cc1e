//! Withdrawing a sanction (DSC-5), in the caller's transaction.

use guild_domain::discipline::{
    LaterSanction, Outcome, SanctionAction, SanctionStatus, check_withdrawable,
    employer_withdrawal_notice, lifts_disqualification, sanction_transition, withdrawal_notice,
};
use guild_domain::exam::RegistrationStatus;
use guild_domain::notice::NoticeKind;
use guild_domain::person::mask_name;
use guild_store::DbConn;
use guild_store::exams::ExamRegistrationRow;
use guild_store::sanctions::SanctionRow;
use uuid::Uuid;

use super::{
    ENTITY, Past, RegistrationSnapshot, SanctionView, employer_notice, history, kinds, view,
    visible,
};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::events::{Event, kinds as ev};
use crate::ids::stored_id;
use crate::notices::publish;

/// Withdraws a sanction with a reason (training head, DSC-5). Its ban is
/// withdrawn; the disqualification is lifted back to `registered`, with the
/// scores cleared, unless another active sanction still disqualifies; a
/// listed case stays on the public register marked withdrawn with the
/// reason, and a public notice announces it; a notified employer is told.
/// A warning counted by a later active disqualification cannot be withdrawn
/// before it (409, DSC-1).
pub fn withdraw(ctx: &Ctx, conn: &mut DbConn, id: Uuid, reason: String) -> AppResult<SanctionView> {
    let (row, reg) = lock(ctx, conn, &id.to_string())?;
    let before = view(conn, row.clone())?;
    sanction_transition(before.status, SanctionAction::Withdraw)?;
    let history = history(conn, &row.registration_id)?;
    check_withdrawable(before.offence, before.outcome, &later_than(&row, &history))?;
    let updated = mark_withdrawn(ctx, conn, &row, &reason)?;
    let others: Vec<Outcome> = history
        .iter()
        .filter(|p| p.row.id != row.id && p.status == SanctionStatus::Active)
        .map(|p| p.outcome)
        .collect();
    if lifts_disqualification(before.outcome, &others)
        && reg.status == RegistrationStatus::Disqualified.as_str()
    {
        reinstate(ctx, conn, reg, row.organisation_id.as_deref())?;
    }
    withdraw_from_register(ctx, conn, &row, &before.person_name, &reason)?;
    let after = view(conn, updated)?;
    let mut event = Event::new(
        ev::SANCTION_WITHDRAWN,
        ENTITY,
        &row.id,
        Some(&before),
        Some(&after),
    )?
    .in_organisation(row.organisation_id.as_deref());
    if let (Some(_), Some(org)) = (row.employer_notified_at, row.organisation_id.as_deref()) {
        let text = employer_withdrawal_notice(&before.person_name, &reason);
        event = event.notify(employer_notice(
            conn,
            org,
            kinds::MISCONDUCT_WITHDRAWN,
            text,
        )?);
    }
    ctx.emit(conn, event)?;
    Ok(after)
}

/// Loads the sanction, locks its registration as recording does, then reads
/// the sanction again: a concurrent incident or withdrawal of the same
/// examinee waits for us.
fn lock(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<(SanctionRow, ExamRegistrationRow)> {
    let caller = ctx.caller()?;
    let row = visible(conn, caller, id)?;
    let reg = guild_store::sanctions::lock_registration(conn, &row.registration_id)?.ok_or_else(
        || {
            AppError::Internal(format!(
                "sanction {id} names the missing exam registration {}",
                row.registration_id
            ))
        },
    )?;
    let row = visible(conn, caller, id)?;
    Ok((row, reg))
}

/// The sanctions of the same registration recorded after `row` (DSC-1).
fn later_than(row: &SanctionRow, history: &[Past]) -> Vec<LaterSanction> {
    history
        .iter()
        .filter(|p| p.row.id > row.id)
        .map(|p| LaterSanction {
            offence: p.offence,
            outcome: p.outcome,
            withdrawn: p.status == SanctionStatus::Withdrawn,
        })
        .collect()
}

/// Marks the sanction and its ban withdrawn by the caller with `reason`.
fn mark_withdrawn(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &SanctionRow,
    reason: &str,
) -> AppResult<SanctionRow> {
    let by = &ctx.caller()?.id;
    let at = ctx.now.naive_utc();
    let mut updated = row.clone();
    updated.status = SanctionStatus::Withdrawn.as_str().to_owned();
    updated.withdrawn_by = Some(by.clone());
    updated.withdrawn_at = Some(at);
    updated.withdrawal_reason = Some(reason.to_owned());
    guild_store::sanctions::update(conn, &mut updated, at)?;
    if let Some(ban) = &row.ban_id {
        let ban = crate::bans::get(ctx, conn, stored_id("sanctions", ban)?)?;
        crate::bans::lift(ctx, conn, ban, reason)?;
    }
    Ok(updated)
}

/// Lifts the disqualification: back to `registered` with the scores cleared,
/// to be entered again; one `exam_registration.reinstated` event.
fn reinstate(
    ctx: &Ctx,
    conn: &mut DbConn,
    mut reg: ExamRegistrationRow,
    organisation_id: Option<&str>,
) -> AppResult<()> {
    let before = reg.clone();
    reg.status = RegistrationStatus::Registered.as_str().to_owned();
    reg.theory_score = None;
    reg.practical_score = None;
    reg.passed = None;
    reg.result_entered_by = None;
    reg.result_entered_at = None;
    guild_store::exams::update_registration(conn, &mut reg, ctx.now.naive_utc())?;
    let event = Event::new(
        ev::EXAM_REGISTRATION_REINSTATED,
        "exam_registration",
        &reg.id,
        Some(&RegistrationSnapshot::of(&before)),
        Some(&RegistrationSnapshot::of(&reg)),
    )?
    .in_organisation(organisation_id);
    ctx.emit(conn, event)
}

/// The withdrawal is public where the listing was (DSC-5): the entry stays,
/// marked withdrawn with the reason, and a public notice announces it.
fn withdraw_from_register(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &SanctionRow,
    person_name: &str,
    reason: &str,
) -> AppResult<()> {
    let Some(entry) = guild_store::sanctions::entry_of_sanction(conn, &row.id)? else {
        return Ok(());
    };
    super::register::withdraw(ctx, conn, &entry, reason)?;
    let organisation = match entry.organisation_id.as_deref() {
        Some(o) => guild_store::organisations::find(conn, o)?.map(|o| o.name),
        None => None,
    };
    let text = withdrawal_notice(
        &mask_name(person_name),
        organisation.as_deref(),
        &entry.sanction_summary,
        reason,
    );
    publish(
        ctx,
        conn,
        NoticeKind::MisconductWithdrawal,
        text,
        ENTITY,
        &row.id,
    )?;
    Ok(())
}
