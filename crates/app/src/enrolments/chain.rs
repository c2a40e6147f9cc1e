//! The use cases of the enrolment chain: create, read, list and each step.

use guild_domain::deferral::{DeferralStatus, check_class_started, deferral_pending};
use guild_domain::enrolment::{
    Channel, EnrolmentAction, EnrolmentStatus, already_enrolled, check_promotion,
    no_show_transition, rejection_notice, seat_decision,
};
use guild_domain::fees::Balance;
use guild_domain::{Refusal, Role};
use guild_store::DbConn;
use guild_store::enrolments::{EnrolmentFilter, EnrolmentRow};
use uuid::Uuid;

use super::seats::{charge_on_confirmation, release_seat, send_class_notice};
use super::{
    EnrolmentView, NotifiedCount, WaitingEntry, WaitingList, can_see, check_class_open,
    check_not_banned_now, class_of, kinds, ledger_of, locked, person_name, save, save_and,
    status_of, step, view_of, visible,
};
use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, Taken};
use crate::events::Event;
use crate::events::{Notice, Recipients, kinds as ev};
use crate::{CreateEnrolment, Page, PageRequest};

/// Filters of the enrolment list.
#[derive(Debug, Clone, Default)]
pub struct ListEnrolments {
    /// Only this class.
    pub class_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<EnrolmentStatus>,
    /// Only this person.
    pub person_id: Option<Uuid>,
    /// Only this organisation's.
    pub organisation_id: Option<Uuid>,
}

/// Lists enrolments, oldest first, within the caller's scope (ACC-2):
/// organisation accounts their organisation's, trainees their own, association
/// staff and the authority all; other roles none.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListEnrolments,
    page: PageRequest,
) -> AppResult<Page<EnrolmentView>> {
    let mut filter = EnrolmentFilter {
        class_id: q.class_id.map(|v| v.to_string()),
        status: q.status.map(|v| v.as_str().to_owned()),
        person_id: q.person_id.map(|v| v.to_string()),
        organisation_id: q.organisation_id.map(|v| v.to_string()),
        ..EnrolmentFilter::default()
    };
    let Some(scope) = crate::scope::person_data(ctx.caller()?) else {
        return Ok(Page::empty());
    };
    filter.only_organisation = scope.only_organisation;
    filter.only_person = scope.only_person;
    let rows = guild_store::enrolments::list(conn, &filter, page.after.as_deref(), page.limit)?;
    rows.try_map(|(r, name)| EnrolmentView::from_row(r, name, None))
}

/// One enrolment with its fee balance (ENR-3).
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<EnrolmentView> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    view_of(conn, row, true)
}

/// Who a new enrolment is for and through which channel, decided from the caller's role.
struct NewEnrolment {
    class_id: String,
    person_id: String,
    organisation_id: Option<String>,
    channel: Channel,
    submit: bool,
}

fn resolve_channel(caller: &Caller, body: CreateEnrolment) -> AppResult<NewEnrolment> {
    let (organisation_id, channel) = if caller.role.is_org_account() {
        let own = caller.organisation_id.clone().ok_or(AppError::Forbidden)?;
        if body.organisation_id.is_some_and(|o| o.to_string() != own) {
            return Err(AppError::field(
                "organisation_id",
                "not_own_organisation",
                "organisation accounts enrol people of their own organisation only",
            ));
        }
        (Some(own), Channel::Organisation)
    } else if caller.role == Role::Trainee {
        if body.organisation_id.is_some() {
            return Err(AppError::field(
                "organisation_id",
                "not_allowed",
                "a trainee enrols as an individual; leave organisation_id out",
            ));
        }
        if caller.person_id.as_deref() != Some(body.person_id.to_string().as_str()) {
            return Err(AppError::NotFound("person"));
        }
        (None, Channel::Individual)
    } else {
        match body.organisation_id {
            Some(o) => (Some(o.to_string()), Channel::Organisation),
            None => (None, Channel::Individual),
        }
    };
    Ok(NewEnrolment {
        class_id: body.class_id.to_string(),
        person_id: body.person_id.to_string(),
        organisation_id,
        channel,
        submit: body.submit.unwrap_or(false),
    })
}

/// Checks the person is the caller's to enrol through the resolved channel:
/// organisation accounts their organisation's people (404 otherwise, ACC-2);
/// staff naming an organisation one of its people.
fn check_person(
    conn: &mut DbConn,
    caller: &Caller,
    new: &NewEnrolment,
    person_org: Option<&String>,
) -> AppResult<()> {
    if caller.role.is_org_account() {
        if person_org != new.organisation_id.as_ref() {
            return Err(AppError::NotFound("person"));
        }
    } else if let (false, Some(org)) = (caller.role == Role::Trainee, &new.organisation_id) {
        guild_store::organisations::find(conn, org)?
            .ok_or_else(|| AppError::field("organisation_id", "unknown", "no such organisation"))?;
        if person_org != Some(org) {
            return Err(AppError::field(
                "person_id",
                "person_not_in_organisation",
                "the person does not belong to the named organisation",
            ));
        }
    }
    Ok(())
}

/// Creates an enrolment in one transaction (ENR-1): the person must be the
/// caller's to enrol, the class must take enrolments, the person must not
/// already be enrolled (ENR-5, 409) nor banned (ENR-4, 422).
pub fn create(ctx: &Ctx, conn: &mut DbConn, body: CreateEnrolment) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let new = resolve_channel(caller, body)?;
    let person =
        guild_store::people::find(conn, &new.person_id)?.ok_or(AppError::NotFound("person"))?;
    check_person(conn, caller, &new, person.organisation_id.as_ref())?;
    let class =
        guild_store::classes::find(conn, &new.class_id)?.ok_or(AppError::NotFound("class"))?;
    check_class_open(&class)?;
    if let Some(existing) = guild_store::enrolments::find_live(conn, &new.class_id, &new.person_id)?
    {
        return Err(already_enrolled(&existing.id).into());
    }
    check_not_banned_now(conn, &new.person_id, &class.program_id, ctx.today())?;
    let row = new_row(caller, new, ctx.now.naive_utc());
    insert(conn, &row)?;
    let view = EnrolmentView::from_row(row, person.name, Some(Balance::default()))?;
    ctx.emit(conn, Event::change(ev::ENROLMENT_CREATED, None, &view)?)?;
    Ok(view)
}

fn new_row(caller: &Caller, new: NewEnrolment, now: chrono::NaiveDateTime) -> EnrolmentRow {
    let status = if new.submit {
        EnrolmentStatus::Submitted
    } else {
        EnrolmentStatus::Draft
    };
    EnrolmentRow {
        id: Uuid::now_v7().to_string(),
        class_id: new.class_id,
        person_id: new.person_id,
        organisation_id: new.organisation_id,
        channel: new.channel.as_str().to_owned(),
        status: status.as_str().to_owned(),
        submitted_at: new.submit.then_some(now),
        org_approved_by: None,
        org_approved_at: None,
        confirmed_by: None,
        confirmed_at: None,
        waitlisted_at: None,
        paid_at: None,
        notified_at: None,
        rejected_by: None,
        rejected_at: None,
        rejection_reason: None,
        transferred_from_id: None,
        created_by: caller.id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts an enrolment; the partial unique index `enrolments_one_live_per_class`
/// is the last line of defence of ENR-5, answered as 409 `already_enrolled`.
pub fn insert(conn: &mut DbConn, row: &EnrolmentRow) -> AppResult<()> {
    guild_store::enrolments::insert(conn, row)
        .or_taken(|| AppError::from(already_enrolled("entered concurrently")))
}

/// Submit (ENR-1): `draft | rejected → submitted`; the class must take
/// enrolments and the person must not be banned (ENR-4). A resubmission clears
/// an earlier approval, which must be given again.
pub fn submit(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let mut row = locked(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Submit)?;
    let class = class_of(conn, &row.class_id)?;
    check_class_open(&class)?;
    check_not_banned_now(conn, &row.person_id, &class.program_id, ctx.today())?;
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    row.submitted_at = Some(ctx.now.naive_utc());
    row.org_approved_by = None;
    row.org_approved_at = None;
    save(ctx, conn, ev::ENROLMENT_SUBMITTED, row, &before)
}

/// Approve (ENR-2): the organisation's reviewer attests that the person data is
/// true, accurate and complete; who and when are recorded.
pub fn approve(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let mut row = locked(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Approve)?;
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    row.org_approved_by = Some(caller.id.clone());
    row.org_approved_at = Some(ctx.now.naive_utc());
    save(ctx, conn, ev::ENROLMENT_APPROVED, row, &before)
}

/// Confirm (ENR-1, CLS-3): in this one transaction the class row is locked
/// first (`SELECT … FOR UPDATE` on PostgreSQL), then the seats are counted, so
/// two officers confirming the last seat at once cannot overfill the class. A
/// seat → `confirmed` with the program's fees charged (ENR-3); no seat →
/// `waitlisted`. A waiting enrolment can be confirmed again when a seat is
/// free and nobody submitted earlier waits (normally a freed seat promotes it
/// by itself, see [`release_seat`]).
pub fn confirm(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let row = visible(conn, caller, id)?;
    step(caller, &row, EnrolmentAction::Confirm)?;
    let class =
        guild_store::classes::lock(conn, &row.class_id)?.ok_or(AppError::NotFound("class"))?;
    // Read again under the class lock: a concurrent confirmation may have changed it.
    let mut row = locked(conn, caller, id)?;
    let (from, _) = status_of(&row)?;
    step(caller, &row, EnrolmentAction::Confirm)?;
    check_class_open(&class)?;
    check_not_banned_now(conn, &row.person_id, &class.program_id, ctx.today())?;
    let seats = guild_store::classes::seats_taken(conn, &class.id)?;
    let outcome = if from == EnrolmentStatus::Waitlisted {
        let waiting = guild_store::enrolments::waiting_list(conn, &class.id, None)?;
        let ahead = waiting.iter().take_while(|w| w.id != row.id).count();
        check_promotion(seats, class.capacity, ahead)?;
        EnrolmentStatus::Confirmed
    } else {
        seat_decision(seats, class.capacity)
    };
    let before = view_of(conn, row.clone(), false)?;
    row.status = outcome.as_str().to_owned();
    row.confirmed_by = Some(caller.id.clone());
    let kind = if outcome == EnrolmentStatus::Confirmed {
        row.confirmed_at = Some(ctx.now.naive_utc());
        charge_on_confirmation(conn, &mut row, &class, &caller.id, ctx.now)?;
        ev::ENROLMENT_CONFIRMED
    } else {
        row.waitlisted_at = Some(ctx.now.naive_utc());
        ev::ENROLMENT_WAITLISTED
    };
    save(ctx, conn, kind, row, &before)
}

/// Reject (ENR-1): returns the enrolment to the submitter with a reason and
/// notifies the submitter's side: the account that entered it, the
/// organisation's fillers and reviewers, and the person's accounts (not the
/// rejecting reviewer themself).
pub fn reject(ctx: &Ctx, conn: &mut DbConn, id: &str, reason: String) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let mut row = locked(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Reject)?;
    let class = class_of(conn, &row.class_id)?;
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    row.rejected_by = Some(caller.id.clone());
    row.rejected_at = Some(ctx.now.naive_utc());
    row.rejection_reason = Some(reason.clone());
    let name = person_name(conn, &row.person_id)?;
    let mut to = guild_store::notifications::enrolment_recipients(
        conn,
        row.organisation_id.as_deref(),
        &row.person_id,
    )?;
    to.push(row.created_by.clone());
    to.sort();
    to.dedup();
    to.retain(|u| *u != caller.id);
    let notice = Notice::new(
        Recipients::Users(to),
        kinds::ENROLMENT_REJECTED,
        rejection_notice(&class.title, &name, &reason),
    );
    save_and(ctx, conn, ev::ENROLMENT_REJECTED, row, &before, |e| {
        e.notify(notice)
    })
}

/// Cancel (withdraw, ENR-1): before payment only. Money already recorded
/// against the enrolment must be refunded first (409 `payments_recorded`,
/// ENR-3); its charges stay on record. A cancelled seat goes at once to the
/// first waiting enrolment ([`release_seat`]), in the same transaction.
pub fn cancel(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let row = visible(conn, caller, id)?;
    step(caller, &row, EnrolmentAction::Cancel)?;
    let (status, _) = status_of(&row)?;
    if status.holds_seat() {
        guild_store::classes::lock(conn, &row.class_id)?;
    }
    let mut row = locked(conn, caller, id)?;
    let (status, _) = status_of(&row)?;
    let next = step(caller, &row, EnrolmentAction::Cancel)?;
    let (_, balance) = ledger_of(conn, &row.id)?;
    if !balance.held().is_zero() {
        return Err(Refusal::rule(
            "ENR-3",
            "payments_recorded",
            format!(
                "{} has been paid for this enrolment; it cannot be withdrawn until the money is refunded",
                balance.held()
            ),
        )
        .into());
    }
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    let class_id = row.class_id.clone();
    let view = save(ctx, conn, ev::ENROLMENT_CANCELLED, row, &before)?;
    if status.holds_seat() {
        release_seat(ctx, conn, &class_id)?;
    }
    Ok(view)
}

/// Notify (ENR-1): `paid → notified`; sends the class notice.
pub fn notify_one(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let row = locked(conn, caller, id)?;
    let class = class_of(conn, &row.class_id)?;
    notify_row(ctx, conn, caller, row, &class)
}

fn notify_row(
    ctx: &Ctx,
    conn: &mut DbConn,
    caller: &Caller,
    mut row: EnrolmentRow,
    class: &guild_store::classes::ClassRow,
) -> AppResult<EnrolmentView> {
    let next = step(caller, &row, EnrolmentAction::Notify)?;
    let before = view_of(conn, row.clone(), false)?;
    let notice = send_class_notice(conn, &row, class)?;
    row.status = next.as_str().to_owned();
    row.notified_at = Some(ctx.now.naive_utc());
    save_and(ctx, conn, ev::ENROLMENT_NOTIFIED, row, &before, |e| {
        e.notify(notice)
    })
}

/// Notifies every `paid` enrolment of a class at once (ENR-1); answers how many.
pub fn notify_class(ctx: &Ctx, conn: &mut DbConn, class_id: Uuid) -> AppResult<NotifiedCount> {
    let caller = ctx.caller()?;
    let key = class_id.to_string();
    let class = class_of(conn, &key)?;
    let paid =
        guild_store::enrolments::in_class_with_status(conn, &key, EnrolmentStatus::Paid.as_str())?;
    let notified = paid.len();
    for row in paid {
        notify_row(ctx, conn, caller, row, &class)?;
    }
    Ok(NotifiedCount { class_id, notified })
}

/// The waiting list of a class in order of submission (CLS-3): every entry
/// for association staff; organisation accounts only their own, with their
/// position in the whole list.
pub fn waiting_list(ctx: &Ctx, conn: &mut DbConn, class_id: Uuid) -> AppResult<WaitingList> {
    let caller = ctx.caller()?;
    let key = class_id.to_string();
    let class = class_of(conn, &key)?;
    let seats_taken = guild_store::classes::seats_taken(conn, &key)?;
    let rows = guild_store::enrolments::waiting_list(conn, &key, None)?;
    let waiting = rows.len();
    let mut items = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        if can_see(caller, &row) {
            items.push(WaitingEntry {
                position: i + 1,
                enrolment: view_of(conn, row, false)?,
            });
        }
    }
    Ok(WaitingList {
        class_id,
        capacity: class.capacity,
        seats_taken,
        waiting,
        items,
    })
}

/// No-show (DEF-4): `paid | notified → no_show`, by training staff once the
/// class has started (`in_progress` or `finished`; otherwise 422
/// `class_not_started`) and only when no deferral of the enrolment waits for a
/// decision (409 `deferral_pending`).
pub fn no_show(ctx: &Ctx, conn: &mut DbConn, id: &str) -> AppResult<EnrolmentView> {
    let caller = ctx.caller()?;
    let mut row = locked(conn, caller, id)?;
    let (status, channel) = status_of(&row)?;
    super::check_may_act(caller, &row, channel, EnrolmentAction::NoShow)?;
    let next = no_show_transition(channel, status)?;
    let class = class_of(conn, &row.class_id)?;
    check_class_started(crate::error::stored("classes", &class.status)?)?;
    if let Some(pending) = guild_store::deferrals::for_enrolment_in(
        conn,
        &row.id,
        &[DeferralStatus::Submitted.as_str()],
    )? {
        return Err(deferral_pending(&pending.id).into());
    }
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    save(ctx, conn, ev::ENROLMENT_NO_SHOW, row, &before)
}

/// Takes one step of the chain on enrolment `id` (ENR-1, ENR-2, DEF-4);
/// `reason` is the rejection's. `pay` happens through recorded payments.
pub fn act(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: EnrolmentAction,
    reason: Option<String>,
) -> AppResult<EnrolmentView> {
    let id = id.to_string();
    match action {
        EnrolmentAction::Submit => submit(ctx, conn, &id),
        EnrolmentAction::Approve => approve(ctx, conn, &id),
        EnrolmentAction::Confirm => confirm(ctx, conn, &id),
        EnrolmentAction::Reject => reject(ctx, conn, &id, reason.unwrap_or_default()),
        EnrolmentAction::Cancel => cancel(ctx, conn, &id),
        EnrolmentAction::Notify => notify_one(ctx, conn, &id),
        EnrolmentAction::NoShow => no_show(ctx, conn, &id),
        EnrolmentAction::Pay => Err(AppError::Internal(
            "pay happens through recorded payments".to_owned(),
        )),
    }
}
