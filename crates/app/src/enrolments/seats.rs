//! Seats, fees and the class notice: what confirming an enrolment brings
//! with it (ENR-1, ENR-3, CLS-3).

use guild_domain::Fen;
use guild_domain::class::ClassStatus;
use guild_domain::enrolment::{
    ClassNoticeFacts, EnrolmentAction, EnrolmentStatus, check_class_open_for_enrolment,
    class_notice, enrolment_transition, promotion_notice, seat_decision,
};
use guild_domain::fees::{LedgerKind, confirmation_charges};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;

use super::{
    check_not_banned_now, kinds, ledger_entry, ledger_of, person_name, save_and, status_of, view_of,
};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Notice, Recipients, kinds as ev};

/// Writes the program's training and exam fee as charges (ENR-3, zero fees
/// skipped). When nothing is due afterwards — a free program, or credit brought
/// over — the enrolment is paid at once (`paid`, `paid_at`): there is no
/// payment for finance to record.
pub fn charge_on_confirmation(
    conn: &mut DbConn,
    row: &mut EnrolmentRow,
    class: &ClassRow,
    recorded_by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let program = guild_store::programs::find(conn, &class.program_id)?
        .ok_or_else(|| AppError::Internal(format!("class {} names a missing program", class.id)))?;
    for (item, amount) in confirmation_charges(
        Fen::from_stored(program.training_fee_fen),
        Fen::from_stored(program.exam_fee_fen),
    ) {
        let mut entry = ledger_entry(&row.id, LedgerKind::Charge, item, amount, recorded_by, now);
        entry.note = Some(format!("{} {item}", program.code));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let (_, balance) = ledger_of(conn, &row.id)?;
    if balance.is_settled() {
        row.status = EnrolmentStatus::Paid.as_str().to_owned();
        row.paid_at = Some(now.naive_utc());
    }
    Ok(())
}

/// Who hears about an enrolment: the organisation's active fillers and
/// reviewers, and the person's own accounts.
pub fn payer(row: &EnrolmentRow) -> Recipients {
    Recipients::Payer {
        organisation_id: row.organisation_id.clone(),
        person_id: row.person_id.clone(),
    }
}

/// The class notice of an enrolment (ENR-1): a `class_notice` notification
/// with the class title, dates, place and the first session's start, to every
/// active filler and reviewer of its organisation and to the trainee's accounts.
pub fn send_class_notice(
    conn: &mut DbConn,
    row: &EnrolmentRow,
    class: &ClassRow,
) -> AppResult<Notice> {
    let first_session = guild_store::classes::sessions(conn, &class.id)?
        .first()
        .map(|s| (s.session_date, s.starts_at));
    let facts = ClassNoticeFacts {
        title: &class.title,
        start_date: class.start_date,
        end_date: class.end_date,
        place: &class.place,
        first_session,
    };
    let name = person_name(conn, &row.person_id)?;
    Ok(Notice::new(
        payer(row),
        kinds::CLASS_NOTICE,
        class_notice(&facts, &name),
    ))
}

/// Gives a freed seat of `class_id` to the first waiting enrolment (CLS-3).
///
/// Call it inside the write transaction that freed the seat (a cancellation
/// of a seat-holding enrolment; an approved deferral or substitution), after
/// the change is saved. It locks the class row, counts the seats and, when one
/// is free and the class still takes enrolments (ENR-1), confirms the earliest
/// waiting enrolment in order of submission (`submitted_at`, then id) whose
/// person is not banned (ENR-4; banned ones keep waiting). The promoted
/// enrolment is charged the program's fees (ENR-3), emitted as
/// `enrolment.promoted` by the caller, and its organisation's fillers and
/// reviewers and the trainee get a `waitlist_promoted` notification. Answers
/// the promoted enrolment's id, or `None` when nothing moved.
pub fn release_seat(ctx: &Ctx, conn: &mut DbConn, class_id: &str) -> AppResult<Option<String>> {
    let Some(class) = guild_store::classes::lock(conn, class_id)? else {
        return Ok(None);
    };
    let status: ClassStatus = stored("classes", &class.status)?;
    if check_class_open_for_enrolment(status).is_err() {
        return Ok(None);
    }
    let seats = guild_store::classes::seats_taken(conn, class_id)?;
    if seat_decision(seats, class.capacity) != EnrolmentStatus::Confirmed {
        return Ok(None);
    }
    let today = ctx.today();
    let by = ctx.caller()?.id.clone();
    for mut row in guild_store::enrolments::waiting_list(conn, class_id, None)? {
        if check_not_banned_now(conn, &row.person_id, &class.program_id, today).is_err() {
            continue;
        }
        let (status, channel) = status_of(&row)?;
        let next = enrolment_transition(channel, status, EnrolmentAction::Confirm)?;
        let before = view_of(conn, row.clone(), false)?;
        row.status = next.as_str().to_owned();
        row.confirmed_at = Some(ctx.now.naive_utc());
        charge_on_confirmation(conn, &mut row, &class, &by, ctx.now)?;
        let name = person_name(conn, &row.person_id)?;
        let notice = Notice::new(
            payer(&row),
            kinds::WAITLIST_PROMOTED,
            promotion_notice(&class.title, &name),
        );
        let id = row.id.clone();
        save_and(ctx, conn, ev::ENROLMENT_PROMOTED, row, &before, |e| {
            e.notify(notice)
        })?;
        return Ok(Some(id));
    }
    Ok(None)
}
