//! Changes of the public misconduct register (DSC-3, DSC-5, CRT-7), each
//! announced by one `misconduct_entry.*` event. Listing comes from a serious
//! misconduct sanction or a forgery report; withdrawal from withdrawing the
//! sanction. The event carries the entry as the public register shows it.

use guild_domain::discipline::RegisterEntryStatus;
use guild_store::DbConn;
use guild_store::sanctions::MisconductEntryRow;

use super::MisconductEntryView;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::events::{Event, EventKind, kinds as ev};

/// Lists `entry` on the register: one `misconduct_entry.listed` event.
pub(crate) fn list(ctx: &Ctx, conn: &mut DbConn, entry: &MisconductEntryRow) -> AppResult<()> {
    guild_store::sanctions::insert_misconduct_entry(conn, entry)?;
    announce(ctx, conn, ev::MISCONDUCT_ENTRY_LISTED, None, entry)
}

/// Marks `entry` withdrawn with `reason`; it stays on the register (DSC-5).
/// One `misconduct_entry.withdrawn` event.
pub(crate) fn withdraw(
    ctx: &Ctx,
    conn: &mut DbConn,
    entry: &MisconductEntryRow,
    reason: &str,
) -> AppResult<()> {
    let before = public_view(conn, &entry.id)?;
    guild_store::sanctions::withdraw_entry(
        conn,
        &entry.id,
        RegisterEntryStatus::Withdrawn.as_str(),
        reason,
        ctx.now.naive_utc(),
    )?;
    announce(
        ctx,
        conn,
        ev::MISCONDUCT_ENTRY_WITHDRAWN,
        Some(before),
        entry,
    )
}

fn announce(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    before: Option<MisconductEntryView>,
    entry: &MisconductEntryRow,
) -> AppResult<()> {
    let after = public_view(conn, &entry.id)?;
    let event = Event::new(
        kind,
        "misconduct_entry",
        &entry.id,
        before.as_ref(),
        Some(&after),
    )?
    .in_organisation(entry.organisation_id.as_deref());
    ctx.emit(conn, event)
}

fn public_view(conn: &mut DbConn, id: &str) -> AppResult<MisconductEntryView> {
    let entry = guild_store::sanctions::entry_with_names(conn, id)?
        .ok_or_else(|| AppError::Internal(format!("register entry {id} vanished")))?;
    MisconductEntryView::of(entry)
}
