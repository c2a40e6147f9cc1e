//! The enrolment services: what one write transaction of the enrolment chain
//! does (ENR-1 to ENR-5, CLS-3). Handlers parse, check the role and call one of
//! these inside `s.store.write(...)`; each loads what the rule needs through the
//! store, asks the domain, writes and audits.
//!
//! Other areas (deferrals, substitutions, refunds) reuse [`release_seat`],
//! [`visible_enrolment`], [`save_enrolment`], [`ledger_of`] and [`notify`].

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::ban::{Ban, check_not_banned};
use guild_domain::class::ClassStatus;
use guild_domain::enrolment::{
    Channel, ClassNoticeFacts, EnrolmentAction, EnrolmentStatus, check_class_open_for_enrolment,
    check_promotion, class_notice, enrolment_transition, may_act, promotion_notice,
    rejection_notice, seat_decision,
};
use guild_domain::fees::{Balance, Entry, FeeItem, LedgerKind, confirmation_charges};
use guild_domain::{Fen, Refusal, Role, local_date};
use guild_store::DbConn;
use guild_store::bans::BanRow;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::ledger::LedgerEntryRow;
use guild_store::notifications::NotificationRow;
use uuid::Uuid;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_stored;
use crate::routes::enrolments::EnrolmentView;

/// Notification kinds written by the enrolment chain.
pub mod kinds {
    /// The class notice: time and place (ENR-1).
    pub const CLASS_NOTICE: &str = "class_notice";
    /// An enrolment was returned to the submitter (ENR-1).
    pub const ENROLMENT_REJECTED: &str = "enrolment_rejected";
    /// A waiting enrolment got a seat (CLS-3).
    pub const WAITLIST_PROMOTED: &str = "waitlist_promoted";
}

/// The parsed status and channel of a stored enrolment.
pub fn status_of(row: &EnrolmentRow) -> ApiResult<(EnrolmentStatus, Channel)> {
    Ok((
        parse_stored("enrolments", &row.status)?,
        parse_stored("enrolments", &row.channel)?,
    ))
}

/// Whether `caller` may see enrolment `row` (ACC-2): association staff and the
/// authority see all; organisation accounts their organisation's; trainees
/// their own (both channels); other roles none.
pub fn can_see(caller: &AuthUser, row: &EnrolmentRow) -> bool {
    match caller.role {
        Role::OrgFiller | Role::OrgReviewer => {
            caller.can_see_organisation(row.organisation_id.as_deref())
        }
        Role::Trainee => caller.person_id.as_deref() == Some(row.person_id.as_str()),
        r => r.is_association_staff() || r == Role::Authority,
    }
}

/// Loads an enrolment the caller may see, or 404 exactly like an unknown id (ACC-2).
pub fn visible_enrolment(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<EnrolmentRow> {
    guild_store::enrolments::find(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or_else(|| ApiError::not_found("enrolment"))
}

/// [`visible_enrolment`] for a change: the row is locked until the end of the
/// write transaction (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises
/// writes anyway), so concurrent changes of one enrolment run one after the
/// other, each on the other's result. Without the lock a concurrent change
/// made [`save_enrolment`] fail with 412 `version_mismatch` although the
/// client named no version (API-5). Lock order: the class first (when it is
/// locked at all), then the enrolment.
pub fn locked_enrolment(conn: &mut DbConn, caller: &AuthUser, id: &str) -> ApiResult<EnrolmentRow> {
    guild_store::refunds::lock_enrolment(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or_else(|| ApiError::not_found("enrolment"))
}

/// 403 unless `caller` may take `action` on this enrolment (own organisation,
/// own individual enrolment, or association role).
pub fn check_may_act(
    caller: &AuthUser,
    row: &EnrolmentRow,
    channel: Channel,
    action: EnrolmentAction,
) -> ApiResult<()> {
    let own_org = row.organisation_id.is_some()
        && caller.organisation_id.as_deref() == row.organisation_id.as_deref();
    let own_person = caller.person_id.as_deref() == Some(row.person_id.as_str());
    if may_act(caller.role, action, channel, own_org, own_person) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The class of an enrolment (404 when it vanished, which the foreign key prevents).
pub fn class_of(conn: &mut DbConn, class_id: &str) -> ApiResult<ClassRow> {
    guild_store::classes::find(conn, class_id)?.ok_or_else(|| ApiError::not_found("class"))
}

/// ENR-1: the class must be `planned` or `open`.
pub fn check_class_open(class: &ClassRow) -> ApiResult<()> {
    let status: ClassStatus = parse_stored("classes", &class.status)?;
    Ok(check_class_open_for_enrolment(status)?)
}

/// A stored ban as the domain sees it.
pub fn ban_of(row: &BanRow) -> ApiResult<Ban> {
    Ok(Ban {
        id: row.id.clone(),
        scope: parse_stored("bans", &row.scope)?,
        program_id: row.program_id.clone(),
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        withdrawn: row.withdrawn_at.is_some(),
    })
}

/// ENR-4: refuses (422 `person_banned`) when an active ban of the person covers
/// the program, naming the ban and its end date.
pub fn check_not_banned_now(
    conn: &mut DbConn,
    person_id: &str,
    program_id: &str,
    today: NaiveDate,
) -> ApiResult<()> {
    let rows = guild_store::bans::current_for_people(conn, &[person_id.to_owned()], today)?;
    let bans = rows.iter().map(ban_of).collect::<ApiResult<Vec<_>>>()?;
    Ok(check_not_banned(&bans, program_id, today)?)
}

/// The ledger of an enrolment: its entries (oldest first) and the balance derived from them (ENR-3).
pub fn ledger_of(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> ApiResult<(Vec<LedgerEntryRow>, Balance)> {
    let rows = guild_store::ledger::for_enrolment(conn, enrolment_id)?;
    let entries = rows
        .iter()
        .map(|r| {
            Ok(Entry {
                kind: parse_stored("ledger_entries", &r.kind)?,
                item: parse_stored("ledger_entries", &r.item)?,
                amount: Fen::from_stored(r.amount_fen),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let balance = Balance::of(&entries);
    Ok((rows, balance))
}

/// A new ledger entry (ENR-3) without reference or note; insert it with
/// `guild_store::ledger::insert`.
pub fn ledger_entry(
    enrolment_id: &str,
    kind: LedgerKind,
    item: FeeItem,
    amount: Fen,
    recorded_by: &str,
    now: DateTime<Utc>,
) -> LedgerEntryRow {
    LedgerEntryRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment_id.to_owned(),
        kind: kind.as_str().to_owned(),
        item: item.as_str().to_owned(),
        amount_fen: amount.get(),
        reference: None,
        note: None,
        recorded_by: recorded_by.to_owned(),
        created_at: now.naive_utc(),
    }
}

/// Writes the program's training and exam fee as charges (ENR-3, zero fees
/// skipped). When nothing is due afterwards — a free program, or credit brought
/// over — the enrolment is paid at once (`paid`, `paid_at`): there is no
/// payment for finance to record.
fn charge_on_confirmation(
    conn: &mut DbConn,
    row: &mut EnrolmentRow,
    class: &ClassRow,
    recorded_by: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let program = guild_store::programs::find(conn, &class.program_id)?
        .ok_or_else(|| ApiError::Internal(format!("class {} names a missing program", class.id)))?;
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

/// The view of an enrolment row with its person's name and, optionally, its balance.
pub fn view_of(
    conn: &mut DbConn,
    row: EnrolmentRow,
    with_balance: bool,
) -> ApiResult<EnrolmentView> {
    let name = guild_store::people::find(conn, &row.person_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    let balance = if with_balance {
        Some(ledger_of(conn, &row.id)?.1)
    } else {
        None
    };
    EnrolmentView::from_row(row, name, balance)
}

/// Saves the changed enrolment as the next version (412 when someone changed it
/// meanwhile) and audits the change with before and after.
pub fn save_enrolment(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    mut row: EnrolmentRow,
    before: &EnrolmentView,
) -> ApiResult<EnrolmentView> {
    guild_store::enrolments::update(conn, &mut row, actor.at.naive_utc())?;
    let after = view_of(conn, row, true)?;
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "enrolment",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before: Some(before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

/// Writes one notification to each account in `recipients`.
pub fn notify(
    conn: &mut DbConn,
    recipients: &[String],
    kind: &str,
    (title, body): (String, String),
    enrolment_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for user in recipients {
        guild_store::notifications::insert(
            conn,
            &NotificationRow {
                id: Uuid::now_v7().to_string(),
                recipient_user_id: user.clone(),
                kind: kind.to_owned(),
                title: title.clone(),
                body: body.clone(),
                entity_type: "enrolment".to_owned(),
                entity_id: enrolment_id.to_owned(),
                created_at: now.naive_utc(),
                read_at: None,
            },
        )?;
    }
    Ok(())
}

/// The accounts that hear about an enrolment: the organisation's active fillers
/// and reviewers, and the person's own accounts.
fn recipients(conn: &mut DbConn, row: &EnrolmentRow) -> ApiResult<Vec<String>> {
    Ok(guild_store::notifications::enrolment_recipients(
        conn,
        row.organisation_id.as_deref(),
        &row.person_id,
    )?)
}

fn person_name(conn: &mut DbConn, person_id: &str) -> ApiResult<String> {
    Ok(guild_store::people::find(conn, person_id)?
        .map(|p| p.name)
        .unwrap_or_default())
}

fn recorded_by<'a>(actor: &'a Actor<'_>) -> ApiResult<&'a str> {
    actor
        .user
        .map(|u| u.id.as_str())
        .ok_or_else(|| ApiError::Internal("an enrolment change needs a user".to_owned()))
}

/// Sends the class notice of an enrolment (ENR-1): a `class_notice`
/// notification with the class title, dates, place and the first session's
/// start, to every active filler and reviewer of its organisation and to the
/// trainee's accounts.
pub fn send_class_notice(
    conn: &mut DbConn,
    row: &EnrolmentRow,
    class: &ClassRow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
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
    let to = recipients(conn, row)?;
    notify(
        conn,
        &to,
        kinds::CLASS_NOTICE,
        class_notice(&facts, &name),
        &row.id,
        now,
    )
}

/// Takes an enrolment through one step of the chain: checks the caller may act
/// on it (403) and the state allows the action (409 with the allowed actions).
pub fn step(
    caller: &AuthUser,
    row: &EnrolmentRow,
    action: EnrolmentAction,
) -> ApiResult<EnrolmentStatus> {
    let (status, channel) = status_of(row)?;
    check_may_act(caller, row, channel, action)?;
    Ok(enrolment_transition(channel, status, action)?)
}

/// Submit (ENR-1): `draft | rejected → submitted`; the class must take
/// enrolments and the person must not be banned (ENR-4). A resubmission clears
/// an earlier approval, which must be given again.
pub fn submit(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    id: &str,
    tz: Tz,
) -> ApiResult<EnrolmentView> {
    let mut row = locked_enrolment(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Submit)?;
    let class = class_of(conn, &row.class_id)?;
    check_class_open(&class)?;
    check_not_banned_now(
        conn,
        &row.person_id,
        &class.program_id,
        local_date(actor.at, tz),
    )?;
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    row.submitted_at = Some(actor.at.naive_utc());
    row.org_approved_by = None;
    row.org_approved_at = None;
    save_enrolment(conn, actor, "enrolment.submit", row, &before)
}

/// Approve (ENR-2): the organisation's reviewer attests that the person data is
/// true, accurate and complete; who and when are recorded.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<EnrolmentView> {
    let mut row = locked_enrolment(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Approve)?;
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    row.org_approved_by = Some(caller.id.clone());
    row.org_approved_at = Some(actor.at.naive_utc());
    save_enrolment(conn, actor, "enrolment.approve", row, &before)
}

/// Confirm (ENR-1, CLS-3): in this one transaction the class row is locked
/// first (`SELECT … FOR UPDATE` on PostgreSQL), then the seats are counted, so
/// two officers confirming the last seat at once cannot overfill the class. A
/// seat → `confirmed` with the program's fees charged (ENR-3); no seat →
/// `waitlisted`. A waiting enrolment can be confirmed again when a seat is
/// free and nobody submitted earlier waits (normally a freed seat promotes it
/// by itself, see [`release_seat`]).
pub fn confirm(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    id: &str,
    tz: Tz,
) -> ApiResult<EnrolmentView> {
    let row = visible_enrolment(conn, caller, id)?;
    step(caller, &row, EnrolmentAction::Confirm)?;
    let class = guild_store::classes::lock(conn, &row.class_id)?
        .ok_or_else(|| ApiError::not_found("class"))?;
    // Read again under the class lock: a concurrent confirmation may have changed it.
    let mut row = locked_enrolment(conn, caller, id)?;
    let (from, _) = status_of(&row)?;
    step(caller, &row, EnrolmentAction::Confirm)?;
    check_class_open(&class)?;
    check_not_banned_now(
        conn,
        &row.person_id,
        &class.program_id,
        local_date(actor.at, tz),
    )?;
    let seats = guild_store::classes::seats_taken(conn, &class.id)?;
    let outcome = if from == EnrolmentStatus::Waitlisted {
        let waiting = guild_store::enrolments::waiting_list(conn, &class.id, None)?;
        let ahead = waiting.iter().take_while(|w| w.id != row.id).count();
        check_promotion(seats, class.capacity, ahead).map_err(ApiError::Conflict)?;
        EnrolmentStatus::Confirmed
    } else {
        seat_decision(seats, class.capacity)
    };
    let before = view_of(conn, row.clone(), false)?;
    row.status = outcome.as_str().to_owned();
    row.confirmed_by = Some(caller.id.clone());
    let action = if outcome == EnrolmentStatus::Confirmed {
        row.confirmed_at = Some(actor.at.naive_utc());
        charge_on_confirmation(conn, &mut row, &class, &caller.id, actor.at)?;
        "enrolment.confirm"
    } else {
        row.waitlisted_at = Some(actor.at.naive_utc());
        "enrolment.waitlist"
    };
    save_enrolment(conn, actor, action, row, &before)
}

/// Reject (ENR-1): returns the enrolment to the submitter with a reason and
/// notifies the submitter's side: the account that entered it, the
/// organisation's fillers and reviewers, and the person's accounts (not the
/// rejecting reviewer themself).
pub fn reject(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    id: &str,
    reason: String,
) -> ApiResult<EnrolmentView> {
    let mut row = locked_enrolment(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Reject)?;
    let class = class_of(conn, &row.class_id)?;
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    row.rejected_by = Some(caller.id.clone());
    row.rejected_at = Some(actor.at.naive_utc());
    row.rejection_reason = Some(reason.clone());
    let name = person_name(conn, &row.person_id)?;
    let mut to = recipients(conn, &row)?;
    to.push(row.created_by.clone());
    to.sort();
    to.dedup();
    to.retain(|u| *u != caller.id);
    notify(
        conn,
        &to,
        kinds::ENROLMENT_REJECTED,
        rejection_notice(&class.title, &name, &reason),
        &row.id,
        actor.at,
    )?;
    save_enrolment(conn, actor, "enrolment.reject", row, &before)
}

/// Cancel (withdraw, ENR-1): before payment only. Money already recorded
/// against the enrolment must be refunded first (409 `payments_recorded`,
/// ENR-3); its charges stay on record. A cancelled seat goes at once to the
/// first waiting enrolment ([`release_seat`]), in the same transaction.
pub fn cancel(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    id: &str,
    tz: Tz,
) -> ApiResult<EnrolmentView> {
    let row = visible_enrolment(conn, caller, id)?;
    step(caller, &row, EnrolmentAction::Cancel)?;
    let (status, _) = status_of(&row)?;
    if status.holds_seat() {
        guild_store::classes::lock(conn, &row.class_id)?;
    }
    let mut row = locked_enrolment(conn, caller, id)?;
    let (status, _) = status_of(&row)?;
    let next = step(caller, &row, EnrolmentAction::Cancel)?;
    let (_, balance) = ledger_of(conn, &row.id)?;
    if !balance.held().is_zero() {
        return Err(ApiError::Conflict(Refusal::rule(
            "ENR-3",
            "payments_recorded",
            format!(
                "{} has been paid for this enrolment; it cannot be withdrawn until the money is refunded",
                balance.held()
            ),
        )));
    }
    let before = view_of(conn, row.clone(), false)?;
    row.status = next.as_str().to_owned();
    let class_id = row.class_id.clone();
    let view = save_enrolment(conn, actor, "enrolment.cancel", row, &before)?;
    if status.holds_seat() {
        release_seat(conn, &class_id, actor, actor.at, tz)?;
    }
    Ok(view)
}

/// Notify (ENR-1): `paid → notified`; sends the class notice.
pub fn notify_one(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<EnrolmentView> {
    let mut row = locked_enrolment(conn, caller, id)?;
    let next = step(caller, &row, EnrolmentAction::Notify)?;
    let class = class_of(conn, &row.class_id)?;
    let before = view_of(conn, row.clone(), false)?;
    send_class_notice(conn, &row, &class, actor.at)?;
    row.status = next.as_str().to_owned();
    row.notified_at = Some(actor.at.naive_utc());
    save_enrolment(conn, actor, "enrolment.notify", row, &before)
}

/// Notifies every `paid` enrolment of a class at once (ENR-1); answers how many.
pub fn notify_class(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    class_id: &str,
) -> ApiResult<usize> {
    let class = class_of(conn, class_id)?;
    let paid = guild_store::enrolments::in_class_with_status(
        conn,
        class_id,
        EnrolmentStatus::Paid.as_str(),
    )?;
    let n = paid.len();
    for mut row in paid {
        let next = step(caller, &row, EnrolmentAction::Notify)?;
        let before = view_of(conn, row.clone(), false)?;
        send_class_notice(conn, &row, &class, actor.at)?;
        row.status = next.as_str().to_owned();
        row.notified_at = Some(actor.at.naive_utc());
        save_enrolment(conn, actor, "enrolment.notify", row, &before)?;
    }
    Ok(n)
}

/// Gives a freed seat of `class_id` to the first waiting enrolment (CLS-3).
///
/// Call it inside the write transaction that freed the seat (a cancellation
/// of a seat-holding enrolment here; an approved deferral or substitution
/// elsewhere), after the change is saved. It locks the class row, counts the
/// seats and, when one is free and the class still takes enrolments (ENR-1),
/// confirms the earliest waiting enrolment in order of submission
/// (`submitted_at`, then id) whose person is not banned (ENR-4; banned ones
/// keep waiting). The promoted enrolment is charged the program's fees
/// (ENR-3), audited as `enrolment.promote` by `actor`, and its organisation's
/// fillers and reviewers and the trainee get a `waitlist_promoted`
/// notification. Answers the promoted enrolment's id, or `None` when nothing
/// moved.
pub fn release_seat(
    conn: &mut DbConn,
    class_id: &str,
    actor: &Actor<'_>,
    now: DateTime<Utc>,
    tz: Tz,
) -> ApiResult<Option<String>> {
    let Some(class) = guild_store::classes::lock(conn, class_id)? else {
        return Ok(None);
    };
    let status: ClassStatus = parse_stored("classes", &class.status)?;
    if check_class_open_for_enrolment(status).is_err() {
        return Ok(None);
    }
    let seats = guild_store::classes::seats_taken(conn, class_id)?;
    if seat_decision(seats, class.capacity) != EnrolmentStatus::Confirmed {
        return Ok(None);
    }
    let today = local_date(now, tz);
    let by = recorded_by(actor)?.to_owned();
    for mut row in guild_store::enrolments::waiting_list(conn, class_id, None)? {
        if check_not_banned_now(conn, &row.person_id, &class.program_id, today).is_err() {
            continue;
        }
        let (status, channel) = status_of(&row)?;
        let next = enrolment_transition(channel, status, EnrolmentAction::Confirm)?;
        let before = view_of(conn, row.clone(), false)?;
        row.status = next.as_str().to_owned();
        row.confirmed_at = Some(now.naive_utc());
        charge_on_confirmation(conn, &mut row, &class, &by, now)?;
        let name = person_name(conn, &row.person_id)?;
        let to = recipients(conn, &row)?;
        notify(
            conn,
            &to,
            kinds::WAITLIST_PROMOTED,
            promotion_notice(&class.title, &name),
            &row.id,
            now,
        )?;
        let id = row.id.clone();
        save_enrolment(conn, actor, "enrolment.promote", row, &before)?;
        return Ok(Some(id));
    }
    Ok(None)
}
