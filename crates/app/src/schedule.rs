//! Time-driven events (CRT-4, CRT-8, ARC-2, CED-1, CED-2): what the
//! scheduler announces when the clock passes a date, not when a request
//! changes something.
//!
//! - `certificate.expiring` 90 and 30 days before the end of validity of an
//!   active certificate without CE recorded for the period (CE renews it and
//!   moves the end, so a renewed certificate has no reminder of the old
//!   period); `certificate.expired` on the first day after the validity and
//!   `certificate.lapsed` on the first day after the CE grace window (CRT-8:
//!   the status stays computed at read time; the event only announces the
//!   change). Payload `{"certificate": <CertificateView>, "occasion": {...}}`;
//!   the holder's accounts and the organisation's fillers and reviewers are
//!   notified.
//! - `archive.overdue` the day after an open archive's due date (ARC-2).
//!   Payload `{"archive": <ArchiveView>, "occasion": {...}}`; the training
//!   staff (`ARCHIVE_KEEPERS`) are notified.
//! - `ce.requirement_unmet` on 1 December for a person under CE obligation
//!   (CED-1) who is short of the year's credits (CED-2), about entity
//!   `person`. Payload `{"compliance": <ComplianceView>, "occasion": {...}}`;
//!   the person's accounts and their organisation's fillers and reviewers
//!   are notified.
//!
//! What is due on a day is decided in [`guild_domain::schedule`] (with the
//! catch-up window that keeps a freshly imported database from flooding the
//! outbox). [`run_once`] takes the lease (one instance runs the scheduler at
//! a time), scans the candidates and announces each due occasion in its own
//! transaction: the occasion's row in `scheduled_events` (unique per kind,
//! record and occasion), the audit event, the notifications and the outbox
//! row commit together, so each occasion is announced exactly once, even
//! when two instances race or the lease changes hands. The events run for no
//! caller ([`Ctx::system`]): their audit rows have no actor.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::archive::ArchiveStatus;
use guild_domain::certificate::{CertificateRecordStatus, grace_ends};
use guild_domain::roles::ARCHIVE_KEEPERS;
use guild_domain::schedule::{
    self as due, CertificateDue, CertificateOccasion, Occasion, archive_overdue_due,
    archive_overdue_on, ce_obliged_issued_before, ce_reminder_year, certificate_occasion,
};
use guild_store::locks::Locked;
use guild_store::scheduler::ScheduledEventRow;
use guild_store::{DbConn, Store};
use serde_json::json;
use uuid::Uuid;

use crate::PageRequest;
use crate::archives::{ArchiveView, ListArchives};
use crate::certificates::{CertificateSettings, Views};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, EventKind, Notice, Recipients, kinds as ev};

/// The name of the scheduler's lease in `worker_leases`.
pub const LEASE: &str = "scheduler";

/// How many candidate records are read per batch.
const BATCH: i64 = 200;

/// Notification kinds written by the scheduler.
pub mod kinds {
    /// A certificate ends in 90 or 30 days without CE (CRT-4).
    pub const CERTIFICATE_EXPIRING: &str = "certificate_expiring";
    /// A certificate's validity ended (CRT-8).
    pub const CERTIFICATE_EXPIRED: &str = "certificate_expired";
    /// A certificate lapsed (CRT-4).
    pub const CERTIFICATE_LAPSED: &str = "certificate_lapsed";
    /// An archive is overdue (ARC-2).
    pub const ARCHIVE_OVERDUE: &str = "archive_overdue";
    /// A person is short of the year's CE credits on 1 December (CED-2).
    pub const CE_REQUIREMENT_UNMET: &str = "ce_requirement_unmet";
}

/// What the scheduler takes from the configuration.
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// The certificates' grace window and public URL (CRT-2, CRT-4).
    pub certificates: CertificateSettings,
    /// How many days back an occasion is still announced
    /// ([`guild_domain::schedule::in_catch_up`]).
    pub catch_up_days: u32,
    /// How long a taken lease lasts without renewal (wall-clock time).
    pub lease_for: std::time::Duration,
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Whether this instance held the lease (else it did nothing).
    pub leased: bool,
    /// How many events it emitted.
    pub emitted: usize,
    /// How many due occasions failed (logged; retried by the next run, so
    /// one broken record never holds up the others).
    pub failed: usize,
}

impl Summary {
    /// Counts the outcome of announcing one occasion of `kind` about `entity_id`.
    fn count(&mut self, kind: EventKind, entity_id: &str, outcome: AppResult<bool>) {
        match outcome {
            Ok(emitted) => self.emitted += usize::from(emitted),
            Err(e) => {
                self.failed += 1;
                tracing::warn!(kind = kind.name, entity_id, error = %e, "scheduled event not emitted");
            }
        }
    }
}

/// One run of the scheduler: takes or renews the lease `holder` competes
/// for, then announces every occasion due on the association's date of
/// `now` (the injected clock), one transaction per event.
///
/// The lease is measured on `wall_now`, the real clock: it is about which
/// process is alive, not about business dates, so moving the injected clock
/// (tests, a ManualClock) never hands it over. Exactly-once does not rest on
/// the lease but on the `scheduled_events` key. An occasion that fails (a
/// corrupt row) is logged and counted in [`Summary::failed`]; the others
/// are still announced, and the failed one is tried again next run. Only a
/// failing scan (the database gone) ends the run with an error.
pub fn run_once(
    store: &Store,
    holder: &str,
    wall_now: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: Tz,
    settings: &ScheduleSettings,
) -> AppResult<Summary> {
    let lease_for = chrono::Duration::from_std(settings.lease_for)
        .map_err(|e| AppError::Internal(format!("lease duration out of range: {e}")))?;
    let until = wall_now + lease_for;
    let leased = store.write(|c| {
        guild_store::scheduler::acquire_lease(
            c,
            LEASE,
            holder,
            wall_now.naive_utc(),
            until.naive_utc(),
        )
        .map_err(AppError::from)
    })?;
    if !leased {
        return Ok(Summary::default());
    }
    let ctx = Ctx::system(now, tz);
    let mut summary = Summary {
        leased: true,
        ..Summary::default()
    };
    certificates(store, &ctx, settings, &mut summary)?;
    archives(store, &ctx, settings, &mut summary)?;
    ce_reminders(store, &ctx, settings, &mut summary)?;
    Ok(summary)
}

/// Announces one occasion in its own transaction. The occasion is claimed
/// first (a claim made before means it was announced: nothing is written),
/// so the transaction starts with a write: on SQLite it waits for the write
/// lock instead of failing to upgrade a read. `build` then re-reads the
/// record and returns the event when the occasion is still due (else the
/// claim is released) and the event is emitted. `true` when it was emitted.
fn announce(
    store: &Store,
    ctx: &Ctx,
    kind: EventKind,
    entity_id: &str,
    occasion: &str,
    build: impl FnOnce(&mut DbConn) -> AppResult<Option<Event>>,
) -> AppResult<bool> {
    let seen = store.read(|c| {
        guild_store::scheduler::claimed(c, kind.name, entity_id, occasion).map_err(AppError::from)
    })?;
    if seen {
        return Ok(false);
    }
    store.write(|c| {
        let id = Uuid::now_v7().to_string();
        let claimed = guild_store::scheduler::claim(
            c,
            &ScheduledEventRow {
                kind: kind.name.to_owned(),
                entity_id: entity_id.to_owned(),
                occasion: occasion.to_owned(),
                event_id: id.clone(),
                emitted_at: ctx.now.naive_utc(),
            },
        )?;
        if !claimed {
            return Ok(false);
        }
        match build(c)? {
            Some(event) => {
                ctx.emit_as(c, id, event)?;
                Ok(true)
            }
            None => {
                guild_store::scheduler::release(c, kind.name, entity_id, occasion)?;
                Ok(false)
            }
        }
    })
}

/// The certificates' occasions (CRT-4, CRT-8).
fn certificates(
    store: &Store,
    ctx: &Ctx,
    settings: &ScheduleSettings,
    summary: &mut Summary,
) -> AppResult<()> {
    let today = ctx.today();
    let grace = settings.certificates.grace_days;
    let catch_up = settings.catch_up_days;
    // Every occasion of a certificate lies within [valid_until - 90,
    // grace end + 1]; with the catch-up window, these are the candidates.
    let back = u64::from(grace) + u64::from(catch_up) + 1;
    let ahead = due::EXPIRY_REMINDER_DAYS.iter().copied().max().unwrap_or(0);
    let from = today
        .checked_sub_days(chrono::Days::new(back))
        .unwrap_or(NaiveDate::MIN);
    let to = guild_domain::certificate::expiring_until(today, ahead);
    let mut after: Option<String> = None;
    loop {
        let rows = store.read(|c| {
            guild_store::scheduler::certificates_ending_between(
                c,
                from,
                to,
                after.as_deref(),
                BATCH,
            )
            .map_err(AppError::from)
        })?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        for row in &rows {
            let Ok(stored_status) = stored::<CertificateRecordStatus>("certificates", &row.status)
            else {
                summary.count(ev::CERTIFICATE_EXPIRING, &row.id, Err(corrupt(&row.id)));
                continue;
            };
            let Some(due) =
                certificate_occasion(stored_status, row.valid_until, grace, today, catch_up)
            else {
                continue;
            };
            let (kind, key, id) = (certificate_kind(due.occasion), due.key(), row.id.clone());
            let outcome = announce(store, ctx, kind, &id, &key, |c| {
                certificate_event(c, ctx, settings, &id, &key)
            });
            summary.count(kind, &id, outcome);
        }
    }
    Ok(())
}

/// A stored certificate whose status the code does not understand.
fn corrupt(id: &str) -> AppError {
    AppError::Internal(format!("certificate {id} has an unknown stored status"))
}

/// The event kind of a certificate occasion.
fn certificate_kind(occasion: CertificateOccasion) -> EventKind {
    match occasion {
        CertificateOccasion::Expiring { .. } => ev::CERTIFICATE_EXPIRING,
        CertificateOccasion::Expired { .. } => ev::CERTIFICATE_EXPIRED,
        CertificateOccasion::Lapsed { .. } => ev::CERTIFICATE_LAPSED,
    }
}

/// The occasion as the payload shows it.
fn certificate_occasion_json(due: &CertificateDue, today: NaiveDate) -> serde_json::Value {
    let days_left = (due.valid_until - today).num_days();
    match due.occasion {
        CertificateOccasion::Expiring { days, on } => json!({
            "kind": "expiring", "on": on, "reminder_days": days,
            "days_left": days_left, "valid_until": due.valid_until,
        }),
        CertificateOccasion::Expired { on } => json!({
            "kind": "expired", "on": on, "valid_until": due.valid_until,
        }),
        CertificateOccasion::Lapsed { on } => json!({
            "kind": "lapsed", "on": on, "valid_until": due.valid_until,
        }),
    }
}

/// The event of a certificate's occasion `key`, when it is still due (a CE
/// recorded since the scan moved the period; a revocation ended it).
fn certificate_event(
    conn: &mut DbConn,
    ctx: &Ctx,
    settings: &ScheduleSettings,
    id: &str,
    key: &str,
) -> AppResult<Option<Event>> {
    let today = ctx.today();
    let Some(row) = guild_store::certificates::lock(conn, id)? else {
        return Ok(None);
    };
    let stored_status: CertificateRecordStatus = stored("certificates", &row.status)?;
    let grace = settings.certificates.grace_days;
    let Some(due) = certificate_occasion(
        stored_status,
        row.valid_until,
        grace,
        today,
        settings.catch_up_days,
    )
    .filter(|d| d.key() == key) else {
        return Ok(None);
    };
    let person_id = row.person_id.clone();
    let organisation_id = row.organisation_id.clone();
    let view = Views::new(today, settings.certificates.clone()).view(conn, row)?;
    let (kind, notice_kind) = match due.occasion {
        CertificateOccasion::Expiring { .. } => {
            (ev::CERTIFICATE_EXPIRING, kinds::CERTIFICATE_EXPIRING)
        }
        CertificateOccasion::Expired { .. } => {
            (ev::CERTIFICATE_EXPIRED, kinds::CERTIFICATE_EXPIRED)
        }
        CertificateOccasion::Lapsed { .. } => (ev::CERTIFICATE_LAPSED, kinds::CERTIFICATE_LAPSED),
    };
    let text = due::certificate_notice(
        due.occasion,
        &view.number,
        &view.holder_name,
        view.valid_until,
        grace_ends(view.valid_until, grace),
    );
    let payload = json!({
        "certificate": &view,
        "occasion": certificate_occasion_json(&due, today),
    });
    let to = Recipients::Payer {
        organisation_id,
        person_id,
    };
    Ok(Some(
        Event::new(kind, "certificate", view.id, None::<&()>, Some(&payload))?
            .in_organisation(view.organisation_id)
            .notify(Notice::new(to, notice_kind, text)),
    ))
}

/// The archives' occasions (ARC-2).
fn archives(
    store: &Store,
    ctx: &Ctx,
    settings: &ScheduleSettings,
    summary: &mut Summary,
) -> AppResult<()> {
    let today = ctx.today();
    let mut after: Option<String> = None;
    loop {
        let page = store.read(|c| {
            crate::archives::list(
                ctx,
                c,
                overdue_archives(),
                PageRequest {
                    after: after.clone(),
                    limit: BATCH,
                },
            )
        })?;
        for view in &page.items {
            if !archive_overdue_due(view.due_on, today, settings.catch_up_days) {
                continue;
            }
            let id = view.id.to_string();
            let outcome = announce(store, ctx, ev::ARCHIVE_OVERDUE, &id, "overdue", |c| {
                archive_event(c, ctx, settings, view.id)
            });
            summary.count(ev::ARCHIVE_OVERDUE, &id, outcome);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(())
}

/// The filter of open archives past their due date (ARC-2).
fn overdue_archives() -> ListArchives {
    ListArchives {
        status: Some(ArchiveStatus::Open),
        overdue: Some(true),
        class_id: None,
    }
}

/// The event of an overdue archive, when it still is (a completion since
/// the scan ends it).
fn archive_event(
    conn: &mut DbConn,
    ctx: &Ctx,
    settings: &ScheduleSettings,
    id: Uuid,
) -> AppResult<Option<Event>> {
    guild_store::locks::lock_row(conn, Locked::Archives, &id.to_string())?;
    let view: ArchiveView = crate::archives::get(ctx, conn, id)?;
    let today = ctx.today();
    if view.status != ArchiveStatus::Open
        || !archive_overdue_due(view.due_on, today, settings.catch_up_days)
    {
        return Ok(None);
    }
    let roles: Vec<&str> = ARCHIVE_KEEPERS.iter().map(|r| r.as_str()).collect();
    let staff = guild_store::notifications::accounts_with_roles(conn, &roles)?;
    let text = due::archive_overdue_notice(&view.class_code, &view.class_title, view.due_on);
    let payload = json!({
        "archive": &view,
        "occasion": {
            "kind": "overdue",
            "on": archive_overdue_on(view.due_on),
            "due_on": view.due_on,
            "days_overdue": view.days_overdue,
        },
    });
    Ok(Some(
        Event::new(
            ev::ARCHIVE_OVERDUE,
            "archive",
            view.id,
            None::<&()>,
            Some(&payload),
        )?
        .notify(Notice::new(
            Recipients::Users(staff),
            kinds::ARCHIVE_OVERDUE,
            text,
        )),
    ))
}

/// The CE reminders of 1 December (CED-1, CED-2).
fn ce_reminders(
    store: &Store,
    ctx: &Ctx,
    settings: &ScheduleSettings,
    summary: &mut Summary,
) -> AppResult<()> {
    let today = ctx.today();
    let Some(year) = ce_reminder_year(today, settings.catch_up_days) else {
        return Ok(());
    };
    let Some(before) = ce_obliged_issued_before(year) else {
        return Ok(());
    };
    let occasion = year.to_string();
    let mut after: Option<String> = None;
    loop {
        let people = store.read(|c| {
            guild_store::scheduler::people_certified_before(
                c,
                before,
                (ev::CE_REQUIREMENT_UNMET.name, &occasion),
                after.as_deref(),
                BATCH,
            )
            .map_err(AppError::from)
        })?;
        let Some(last) = people.last() else { break };
        after = Some(last.id.clone());
        for person in &people {
            let id = person.id.clone();
            let kind = ev::CE_REQUIREMENT_UNMET;
            let outcome = store
                .read(|c| crate::ce::compliance::person_year(c, person, year, today.year()))
                .and_then(|view| {
                    if !view.behind {
                        return Ok(false);
                    }
                    announce(store, ctx, kind, &id, &occasion, |c| {
                        ce_event(c, ctx, &id, year)
                    })
                });
            summary.count(kind, &id, outcome);
        }
    }
    Ok(())
}

/// The event of a person short of `year`'s credits, when they still are.
fn ce_event(conn: &mut DbConn, ctx: &Ctx, person_id: &str, year: i32) -> AppResult<Option<Event>> {
    let Some(person) = guild_store::people::find(conn, person_id)? else {
        return Ok(None);
    };
    let view = crate::ce::compliance::person_year(conn, &person, year, ctx.today().year())?;
    if !view.behind {
        return Ok(None);
    }
    let text = due::ce_unmet_notice(&view.person_name, year, view.credits_needed);
    let payload = json!({
        "compliance": &view,
        "occasion": {
            "kind": "requirement_unmet",
            "on": due::ce_reminder_on(year),
            "year": year,
            "credits_short": view.credits_needed,
        },
    });
    let to = Recipients::Payer {
        organisation_id: person.organisation_id.clone(),
        person_id: person.id.clone(),
    };
    Ok(Some(
        Event::new(
            ev::CE_REQUIREMENT_UNMET,
            "person",
            &person.id,
            None::<&()>,
            Some(&payload),
        )?
        .in_organisation(person.organisation_id.as_deref())
        .notify(Notice::new(to, kinds::CE_REQUIREMENT_UNMET, text)),
    ))
}
