//! Refunds (REF-1 to REF-4).
//!
//! - A personal refund (REF-2): the payer — the paying organisation's filler
//!   or reviewer, or the individual trainee — asks for the training fee back
//!   after an approved deferral filed before the class started (DEF-1), within
//!   one year of filing it. The amount is derived from the enrolment's ledger:
//!   the money held for the training fee, never the exam fee.
//! - A cancelled class's refunds (REF-1): the training department files, in
//!   one transaction, a `class_cancelled` refund of everything held for every
//!   enrolment of the class, unless a later class of the program can take the
//!   trainees that calendar year.
//! - Each refund then walks `submitted → training_confirmed →
//!   finance_confirmed → leader_approved → paid` (REF-3), each step by its own
//!   role and in order; the role whose step is due may reject it with a
//!   reason. Every step emits one event with before and after.
//! - REF-4: one open (neither rejected nor paid) refund per enrolment, also
//!   enforced by the partial unique index `refunds_one_open_per_enrolment`
//!   (409 `refund_in_progress`); payment locks the enrolment row, re-checks
//!   the money held and writes the `refund` ledger entries in the same
//!   transaction (409 `refund_exceeds_paid`).
//!
//! On payment the enrolment becomes `cancelled`: the trainee will not take
//! part and the money paid back can no longer move to a later class (DEF-2).
//! The payer is notified when a refund is paid or rejected.

mod records;

pub use records::{
    ClassRefunds, CreateRefund, ListRefunds, PayRefund, RefundView, SkippedEnrolment,
};

use chrono::{Datelike, NaiveDate};
use guild_domain::class::ClassStatus;
use guild_domain::deferral::{ClassFacts, DeferralStatus};
use guild_domain::refund::{
    RefundAction, RefundKind, RefundStatus, Refundable, check_class_cancelled,
    check_no_later_class, check_personal_in_time, check_refundable_status, class_refund_skip,
    due_roles, may_request, paid_notice, payment_entries, refund_amount, refund_in_progress,
    refund_requires_deferral, refund_transition, rejected_notice, status_after_refund,
};
use guild_domain::{Fen, local_date};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use guild_store::refunds::{RefundFilter, RefundRow};
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::enrolments::{self, seats::payer};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, Notice, kinds as ev};
use crate::{Page, PageRequest};

/// Notification kinds written by refunds.
pub mod kinds {
    /// Finance paid a refund (REF-3).
    pub const REFUND_PAID: &str = "refund_paid";
    /// A refund was rejected at one of its steps (REF-3).
    pub const REFUND_REJECTED: &str = "refund_rejected";
}

/// Loads a refund and its enrolment if the caller may see the enrolment, or
/// 404 exactly like an unknown id (ACC-2).
fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<(RefundRow, EnrolmentRow)> {
    let row = guild_store::refunds::find(conn, id)?.ok_or(AppError::NotFound("refund"))?;
    let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
        .filter(|e| enrolments::can_see(caller, e))
        .ok_or(AppError::NotFound("refund"))?;
    Ok((row, enrolment))
}

fn view_of(conn: &mut DbConn, row: RefundRow, enrolment: &EnrolmentRow) -> AppResult<RefundView> {
    let name = enrolments::person_name(conn, &enrolment.person_id)?;
    RefundView::from_parts(row, &enrolment.class_id, &enrolment.person_id, name)
}

impl crate::events::Record for RefundView {
    const ENTITY: &'static str = "refund";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        self.organisation_id
    }
}

/// Lists refunds, oldest first, within the caller's scope (ACC-2):
/// organisations their own, trainees their own enrolments', association
/// staff and the authority all.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListRefunds,
    page: PageRequest,
) -> AppResult<Page<RefundView>> {
    let mut filter = RefundFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        kind: q.kind.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        ..RefundFilter::default()
    };
    let Some(scope) = crate::scope::person_data(ctx.caller()?) else {
        return Ok(Page::empty());
    };
    filter.only_organisation = scope.only_organisation;
    filter.only_person = scope.only_person;
    let rows = guild_store::refunds::list(conn, &filter, page.after.as_deref(), page.limit)?;
    rows.try_map(|r| RefundView::from_parts(r.refund, &r.class_id, &r.person_id, r.person_name))
}

/// One refund, visible to whoever may see its enrolment.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<RefundView> {
    let (row, enrolment) = visible(conn, ctx.caller()?, &id.to_string())?;
    view_of(conn, row, &enrolment)
}

/// A new `submitted` refund row.
fn new_refund(
    ctx: &Ctx,
    enrolment: &EnrolmentRow,
    kind: RefundKind,
    amount: Fen,
    deferral_id: Option<String>,
    reason: String,
) -> AppResult<RefundRow> {
    let at = ctx.now.naive_utc();
    Ok(RefundRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        kind: kind.as_str().to_owned(),
        amount_fen: amount.get(),
        deferral_id,
        reason,
        status: RefundStatus::Submitted.as_str().to_owned(),
        requested_by: ctx.caller()?.id.clone(),
        requested_at: at,
        training_confirmed_by: None,
        training_confirmed_at: None,
        finance_confirmed_by: None,
        finance_confirmed_at: None,
        leader_approved_by: None,
        leader_approved_at: None,
        paid_by: None,
        paid_at: None,
        payment_reference: None,
        rejected_by: None,
        rejected_at: None,
        rejection_reason: None,
        version: 1,
        created_at: at,
        updated_at: at,
    })
}

/// Inserts a refund and emits `kind`; the partial unique index
/// `refunds_one_open_per_enrolment` turns a concurrent second open refund into
/// 409 `refund_in_progress` (REF-4).
fn file(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: RefundRow,
    enrolment: &EnrolmentRow,
    kind: EventKind,
) -> AppResult<RefundView> {
    guild_store::refunds::insert(conn, &row)
        .or_taken(|| AppError::from(refund_in_progress("filed concurrently")))?;
    let view = view_of(conn, row, enrolment)?;
    ctx.emit(conn, Event::change(kind, None, &view)?)?;
    Ok(view)
}

/// Files a personal refund (REF-2). Checks, in order: the caller may see the
/// enrolment (404) and is its payer (403); the enrolment is not a `no_show`
/// (422 `no_show_no_refund`, DEF-4); it has an approved (or since transferred)
/// deferral (422 `refund_requires_deferral`) filed before the class's start
/// date in the association's time zone (DEF-1); the request comes no later
/// than the same calendar date one year after the deferral's filing date (422
/// `refund_too_late`, see [`guild_domain::refund::personal_refund_deadline`]);
/// a training fee is still held (422 `nothing_to_refund`: e.g. the money moved
/// to a later class, DEF-2); no other open refund exists (409
/// `refund_in_progress`, REF-4, also the partial unique index).
pub fn request(ctx: &Ctx, conn: &mut DbConn, body: CreateRefund) -> AppResult<RefundView> {
    let caller = ctx.caller()?;
    let enrolment = enrolments::visible(conn, caller, &body.enrolment_id.to_string())?;
    let (status, channel) = enrolments::status_of(&enrolment)?;
    let (own_org, own_person) = enrolments::ownership(caller, &enrolment);
    if !may_request(caller.role, channel, own_org, own_person) {
        return Err(AppError::Forbidden);
    }
    check_refundable_status(status)?;
    let deferral = guild_store::deferrals::for_enrolment_in(
        conn,
        &enrolment.id,
        &[
            DeferralStatus::Approved.as_str(),
            DeferralStatus::Transferred.as_str(),
        ],
    )?
    .ok_or_else(|| {
        refund_requires_deferral(
            "a personal refund needs an approved deferral of this enrolment, filed before \
             the class started (DEF-1)",
        )
    })?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    check_personal_in_time(
        local_date(deferral.filed_at.and_utc(), ctx.tz),
        class.start_date,
        ctx.today(),
    )?;
    let (ledger, _) = enrolments::ledger_of(conn, &enrolment.id)?;
    let amount = refund_amount(
        &enrolments::entries(&ledger)?,
        RefundKind::Personal,
        "REF-2",
    )?;
    if let Some(live) = guild_store::refunds::open_for_enrolment(conn, &enrolment.id)? {
        return Err(refund_in_progress(&live.id).into());
    }
    let reason = body.reason.trim().to_owned();
    let row = new_refund(
        ctx,
        &enrolment,
        RefundKind::Personal,
        amount,
        Some(deferral.id),
        reason,
    )?;
    file(ctx, conn, row, &enrolment, ev::REFUND_REQUESTED)
}

fn class_facts(class: &ClassRow) -> AppResult<ClassFacts<'_>> {
    Ok(ClassFacts {
        program_id: &class.program_id,
        start_date: class.start_date,
        status: stored::<ClassStatus>("classes", &class.status)?,
    })
}

/// REF-1: a cancelled class's refunds wait for a later class of the program in
/// the same calendar year; refuses when there is one (422 `later_class_available`).
fn check_cancelled_without_later_class(conn: &mut DbConn, class: &ClassRow) -> AppResult<()> {
    let facts = class_facts(class)?;
    check_class_cancelled(facts.status)?;
    let year_end = NaiveDate::from_ymd_opt(class.start_date.year(), 12, 31)
        .ok_or_else(|| AppError::Internal("class start date out of range".to_owned()))?;
    let later = guild_store::refunds::later_classes_of_program(
        conn,
        &class.program_id,
        &class.id,
        class.start_date,
        year_end,
    )?;
    let candidates = later
        .iter()
        .map(|c| Ok((c.id.as_str(), class_facts(c)?)))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(check_no_later_class(&facts, &candidates)?)
}

/// Files the refunds of a cancelled class in one transaction (REF-1). The
/// class row is locked (404 when unknown); it must be `cancelled` (409
/// `class_not_cancelled`); no planned or open class of the same program may
/// start later in the same calendar year (422 `later_class_available`,
/// naming it). Then every enrolment of the class that holds money gets a
/// `class_cancelled` refund of all of it (training fee, exam fee and anything
/// else held), `submitted`, filed by the caller; enrolments without money,
/// `no_show`s (DEF-4) and those with an open refund (REF-4) are listed as
/// skipped. Each refund emits `refund.filed`.
pub fn file_for_class(ctx: &Ctx, conn: &mut DbConn, class_id: Uuid) -> AppResult<ClassRefunds> {
    let class = guild_store::classes::lock(conn, &class_id.to_string())?
        .ok_or(AppError::NotFound("class"))?;
    check_cancelled_without_later_class(conn, &class)?;
    let reason = match class.cancellation_reason.as_deref() {
        Some(r) => format!("class {} cancelled: {r}", class.code),
        None => format!("class {} cancelled", class.code),
    };
    let mut outcome = ClassRefunds {
        class_id,
        refund_ids: Vec::new(),
        skipped: Vec::new(),
    };
    for enrolment in guild_store::refunds::enrolments_of_class(conn, &class.id)? {
        let enrolment_id = crate::ids::stored_id("enrolments", &enrolment.id)?;
        let (status, _) = enrolments::status_of(&enrolment)?;
        let (ledger, _) = enrolments::ledger_of(conn, &enrolment.id)?;
        let held = Refundable::of(&enrolments::entries(&ledger)?).total();
        let skip = match class_refund_skip(status, held) {
            Some(code) => Some(code),
            None => guild_store::refunds::open_for_enrolment(conn, &enrolment.id)?
                .map(|_| "refund_in_progress"),
        };
        if let Some(code) = skip {
            // Enrolments that never held money (drafts, rejected, cancelled
            // before payment) are not worth listing.
            if code != "nothing_to_refund" || status.is_live() {
                outcome.skipped.push(SkippedEnrolment {
                    enrolment_id,
                    code: code.to_owned(),
                });
            }
            continue;
        }
        let row = new_refund(
            ctx,
            &enrolment,
            RefundKind::ClassCancelled,
            held,
            None,
            reason.clone(),
        )?;
        let view = file(ctx, conn, row, &enrolment, ev::REFUND_FILED)?;
        outcome.refund_ids.push(view.id);
    }
    Ok(outcome)
}

/// The event kind of each step.
fn step_kind(action: RefundAction) -> EventKind {
    match action {
        RefundAction::ConfirmTraining => ev::REFUND_TRAINING_CONFIRMED,
        RefundAction::ConfirmFinance => ev::REFUND_FINANCE_CONFIRMED,
        RefundAction::Approve => ev::REFUND_LEADER_APPROVED,
        RefundAction::Pay => ev::REFUND_PAID,
        RefundAction::Reject => ev::REFUND_REJECTED,
    }
}

/// Takes one step of the approval (REF-3, REF-4); `text` is the payment
/// reference of `pay` and the reason of `reject`.
///
/// The caller's role was checked for the action before (403). Here: the
/// caller may see the refund (404); the state allows the action (409 with the
/// allowed actions); a `reject` comes from the role whose step is due (403
/// otherwise). `pay` locks the enrolment row, reads the refund again under the
/// lock (a concurrent payment makes this one a 409), plans the ledger entries
/// against the ledger as it stands (409 `refund_exceeds_paid` when less is held
/// than the refund pays back), writes them with the payment reference, and
/// closes the enrolment (`cancelled`). The payer is notified of a payment or a
/// rejection. The step records who and when, and emits its event with before
/// and after.
pub fn step(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: RefundAction,
    text: Option<String>,
) -> AppResult<RefundView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    let (row, _) = visible(conn, caller, &id)?;
    refund_transition(stored("refunds", &row.status)?, action)?;
    if action == RefundAction::Pay {
        guild_store::refunds::lock_enrolment(conn, &row.enrolment_id)?;
    }
    // Read again: under the enrolment lock for a payment, and under the
    // refund's own lock for every step (API-5: a concurrent step makes this
    // one a 409, never a 412).
    guild_store::locks::lock_row(conn, Locked::Refunds, &id)?;
    let (mut row, enrolment) = visible(conn, caller, &id)?;
    let before = view_of(conn, row.clone(), &enrolment)?;
    let next = refund_transition(before.status, action)?;
    if action == RefundAction::Reject && !due_roles(before.status).contains(&caller.role) {
        return Err(AppError::Forbidden);
    }
    let at = Some(ctx.now.naive_utc());
    let by = Some(caller.id.clone());
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    let mut notice = None;
    match action {
        RefundAction::ConfirmTraining => {
            row.training_confirmed_by = by;
            row.training_confirmed_at = at;
        }
        RefundAction::ConfirmFinance => {
            row.finance_confirmed_by = by;
            row.finance_confirmed_at = at;
        }
        RefundAction::Approve => {
            row.leader_approved_by = by;
            row.leader_approved_at = at;
        }
        RefundAction::Pay => {
            let reference = text.unwrap_or_default();
            pay_back(ctx, conn, &row, &enrolment, &before, &reference)?;
            let amount = Fen::from_stored(row.amount_fen);
            let text = paid_notice(&class.title, &before.person_name, amount);
            notice = Some(Notice::new(payer(&enrolment), kinds::REFUND_PAID, text));
            row.paid_by = by;
            row.paid_at = at;
            row.payment_reference = Some(reference);
        }
        RefundAction::Reject => {
            let reason = text.unwrap_or_default();
            let text = rejected_notice(&class.title, &before.person_name, &reason);
            notice = Some(Notice::new(payer(&enrolment), kinds::REFUND_REJECTED, text));
            row.rejected_by = by;
            row.rejected_at = at;
            row.rejection_reason = Some(reason);
        }
    }
    row.status = next.as_str().to_owned();
    guild_store::refunds::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = view_of(conn, row, &enrolment)?;
    let mut event = Event::change(step_kind(action), Some(&before), &after)?;
    if let Some(notice) = notice {
        event = event.notify(notice);
    }
    ctx.emit(conn, event)?;
    Ok(after)
}

/// Pays a refund back (REF-3, REF-4): plans the ledger entries against the
/// ledger as it stands (409 `refund_exceeds_paid`), writes them with the
/// payment reference, and closes the enrolment (`enrolment.refunded`).
fn pay_back(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &RefundRow,
    enrolment: &EnrolmentRow,
    before: &RefundView,
    reference: &str,
) -> AppResult<()> {
    let caller = ctx.caller()?;
    let amount = Fen::from_stored(row.amount_fen);
    let (ledger, _) = enrolments::ledger_of(conn, &enrolment.id)?;
    let plan = payment_entries(&enrolments::entries(&ledger)?, before.kind, amount)?;
    for (kind, item, part) in plan {
        let mut entry =
            enrolments::ledger_entry(&enrolment.id, kind, item, part, &caller.id, ctx.now);
        entry.reference = Some(reference.to_owned());
        entry.note = Some(format!("refund {}", row.id));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let (status, _) = enrolments::status_of(enrolment)?;
    let enrolment_before = enrolments::view_of(conn, enrolment.clone(), false)?;
    let mut closed = enrolment.clone();
    closed.status = status_after_refund(status).as_str().to_owned();
    enrolments::save(ctx, conn, ev::ENROLMENT_REFUNDED, closed, &enrolment_before)?;
    Ok(())
}
