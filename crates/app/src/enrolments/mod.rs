//! The enrolment chain (ENR-1 to ENR-5) and the class waiting list (CLS-3).
//!
//! Organisation submissions go `draft → submitted → org_approved → confirmed →
//! paid → notified`; individuals skip `org_approved`. Every step checks the
//! caller may see the enrolment (404, ACC-2), may act on it (403) and that
//! the state allows the action (409 with the allowed actions). Other areas
//! (deferrals, substitutions, refunds, attendance, exams) reuse the loading
//! and saving here: [`visible`], [`locked`], [`save`], [`ledger_of`],
//! [`seats::release_seat`].

pub mod bulk;
mod chain;
pub mod ledger;
mod records;
pub mod seats;

pub use chain::{
    ListEnrolments, act, approve, cancel, confirm, create, get, insert, list, no_show,
    notify_class, notify_one, reject, submit, waiting_list,
};
pub use records::{
    CreateEnrolment, EnrolmentView, NotifiedCount, OrgAttestation, WaitingEntry, WaitingList,
};

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::Fen;
use guild_domain::access::{self, Owner};
use guild_domain::ban::{Ban, check_not_banned};
use guild_domain::class::ClassStatus;
use guild_domain::enrolment::{
    Channel, EnrolmentAction, EnrolmentStatus, check_class_open_for_enrolment,
    enrolment_transition, may_act,
};
use guild_domain::fees::{Balance, Entry, FeeItem, LedgerKind};
use guild_store::DbConn;
use guild_store::bans::BanRow;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::ledger::LedgerEntryRow;
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, EventKind};
use crate::ids::fact;

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
pub fn status_of(row: &EnrolmentRow) -> AppResult<(EnrolmentStatus, Channel)> {
    Ok((
        stored("enrolments", &row.status)?,
        stored("enrolments", &row.channel)?,
    ))
}

/// The visibility facts of an enrolment (ACC-2): data about its person,
/// entered for its organisation (none for individuals).
pub fn owner(row: &EnrolmentRow) -> Owner {
    Owner::of_person(
        fact(Some(&row.person_id)),
        fact(row.organisation_id.as_deref()),
    )
}

/// Whether `caller` may see enrolment `row` (ACC-2, [`guild_domain::access`]).
pub fn can_see(caller: &Caller, row: &EnrolmentRow) -> bool {
    access::can_see(&caller.policy(), &owner(row))
}

/// Loads an enrolment the caller may see, or 404 exactly like an unknown id (ACC-2).
pub fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<EnrolmentRow> {
    guild_store::enrolments::find(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or(AppError::NotFound("enrolment"))
}

/// [`visible`] for a change: the row is locked until the end of the write
/// transaction (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises writes
/// anyway), so concurrent changes of one enrolment run one after the other,
/// each on the other's result, instead of failing with 412 although the client
/// named no version (API-5). Lock order: the class first (when it is locked at
/// all), then the enrolment.
pub fn locked(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<EnrolmentRow> {
    guild_store::refunds::lock_enrolment(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or(AppError::NotFound("enrolment"))
}

/// Whether the caller acts for the enrolment's own organisation, and for its own person.
pub fn ownership(caller: &Caller, row: &EnrolmentRow) -> (bool, bool) {
    let own_org = row.organisation_id.is_some()
        && caller.organisation_id.as_deref() == row.organisation_id.as_deref();
    let own_person = caller.person_id.as_deref() == Some(row.person_id.as_str());
    (own_org, own_person)
}

/// 403 unless `caller` may take `action` on this enrolment (own organisation,
/// own individual enrolment, or association role).
pub fn check_may_act(
    caller: &Caller,
    row: &EnrolmentRow,
    channel: Channel,
    action: EnrolmentAction,
) -> AppResult<()> {
    let (own_org, own_person) = ownership(caller, row);
    if may_act(caller.role, action, channel, own_org, own_person) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Takes an enrolment through one step of the chain: checks the caller may act
/// on it (403) and the state allows the action (409 with the allowed actions).
pub fn step(
    caller: &Caller,
    row: &EnrolmentRow,
    action: EnrolmentAction,
) -> AppResult<EnrolmentStatus> {
    let (status, channel) = status_of(row)?;
    check_may_act(caller, row, channel, action)?;
    Ok(enrolment_transition(channel, status, action)?)
}

/// The class of an enrolment (404 when it vanished, which the foreign key prevents).
pub fn class_of(conn: &mut DbConn, class_id: &str) -> AppResult<ClassRow> {
    guild_store::classes::find(conn, class_id)?.ok_or(AppError::NotFound("class"))
}

/// ENR-1: the class must be `planned` or `open`.
pub fn check_class_open(class: &ClassRow) -> AppResult<()> {
    let status: ClassStatus = stored("classes", &class.status)?;
    Ok(check_class_open_for_enrolment(status)?)
}

/// A stored ban as the domain sees it.
pub fn ban_of(row: &BanRow) -> AppResult<Ban> {
    Ok(Ban {
        id: row.id.clone(),
        scope: stored("bans", &row.scope)?,
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
) -> AppResult<()> {
    let rows = guild_store::bans::current_for_people(conn, &[person_id.to_owned()], today)?;
    let bans = rows.iter().map(ban_of).collect::<AppResult<Vec<_>>>()?;
    Ok(check_not_banned(&bans, program_id, today)?)
}

/// The entries of a stored ledger as the rules see them.
pub fn entries(rows: &[LedgerEntryRow]) -> AppResult<Vec<Entry>> {
    rows.iter()
        .map(|r| {
            Ok(Entry {
                kind: stored("ledger_entries", &r.kind)?,
                item: stored("ledger_entries", &r.item)?,
                amount: Fen::from_stored(r.amount_fen),
            })
        })
        .collect()
}

/// The ledger of an enrolment: its entries (oldest first) and the balance derived from them (ENR-3).
pub fn ledger_of(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> AppResult<(Vec<LedgerEntryRow>, Balance)> {
    let rows = guild_store::ledger::for_enrolment(conn, enrolment_id)?;
    let balance = Balance::of(&entries(&rows)?);
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

/// The name of a person a row refers to; a missing one is corrupt data.
pub fn person_name(conn: &mut DbConn, person_id: &str) -> AppResult<String> {
    guild_store::people::find(conn, person_id)?
        .map(|p| p.name)
        .ok_or_else(|| AppError::Internal(format!("a row names the missing person {person_id}")))
}

/// The record of an enrolment row with its person's name and, optionally, its balance.
pub fn view_of(
    conn: &mut DbConn,
    row: EnrolmentRow,
    with_balance: bool,
) -> AppResult<EnrolmentView> {
    let name = person_name(conn, &row.person_id)?;
    let balance = if with_balance {
        Some(ledger_of(conn, &row.id)?.1)
    } else {
        None
    };
    EnrolmentView::from_row(row, name, balance)
}

impl crate::events::Record for EnrolmentView {
    const ENTITY: &'static str = "enrolment";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        self.organisation_id
    }
}

/// Saves the changed enrolment as the next version (412 when someone changed it
/// meanwhile) and emits `kind` with before and after.
pub fn save(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    row: EnrolmentRow,
    before: &EnrolmentView,
) -> AppResult<EnrolmentView> {
    save_and(ctx, conn, kind, row, before, |e| e)
}

/// [`save`], with the event completed by `finish` (its notices).
pub fn save_and(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    mut row: EnrolmentRow,
    before: &EnrolmentView,
    finish: impl FnOnce(Event) -> Event,
) -> AppResult<EnrolmentView> {
    guild_store::enrolments::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = view_of(conn, row, true)?;
    ctx.emit(conn, finish(Event::change(kind, Some(before), &after)?))?;
    Ok(after)
}

/// Writes one notification about enrolment `enrolment_id` to each account in
/// `recipients`, for the areas that do not announce their changes as events
/// with notices yet (attendance's leave requests).
pub fn notify(
    conn: &mut DbConn,
    recipients: &[String],
    kind: &str,
    (title, body): (String, String),
    enrolment_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for user in recipients {
        guild_store::notifications::insert(
            conn,
            &guild_store::notifications::NotificationRow {
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
