//! What the audit log and the outbox keep of an archive.

use chrono::{DateTime, Utc};
use guild_store::DbConn;
use guild_store::archives::{ArchiveDocumentRow, ArchiveRow};
use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::events::{Event, EventKind};

/// What the audit log keeps of an archive: its stored facts, not the due
/// date and lateness, which depend on the day and the calendar.
#[derive(Debug, Serialize)]
pub struct ArchiveSnapshot<'a> {
    id: &'a str,
    class_id: &'a str,
    status: &'a str,
    results_published_at: DateTime<Utc>,
    completed_by: Option<&'a str>,
    completed_at: Option<DateTime<Utc>>,
    version: i32,
    documents: Vec<DocumentSnapshot<'a>>,
}

#[derive(Debug, Serialize)]
struct DocumentSnapshot<'a> {
    kind: &'a str,
    reference: &'a str,
    note: Option<&'a str>,
    attached_by: &'a str,
    attached_at: DateTime<Utc>,
}

/// The audit snapshot of an archive and its documents.
pub fn snapshot<'a>(row: &'a ArchiveRow, docs: &'a [ArchiveDocumentRow]) -> ArchiveSnapshot<'a> {
    ArchiveSnapshot {
        id: &row.id,
        class_id: &row.class_id,
        status: &row.status,
        results_published_at: row.results_published_at.and_utc(),
        completed_by: row.completed_by.as_deref(),
        completed_at: row.completed_at.map(|t| t.and_utc()),
        version: row.version,
        documents: docs
            .iter()
            .map(|d| DocumentSnapshot {
                kind: &d.kind,
                reference: &d.reference,
                note: d.note.as_deref(),
                attached_by: &d.attached_by,
                attached_at: d.attached_at.and_utc(),
            })
            .collect(),
    }
}

/// Emits `kind` about an archive with its snapshots before and after.
pub(super) fn emit(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    before: Option<&ArchiveSnapshot<'_>>,
    after: &ArchiveSnapshot<'_>,
) -> AppResult<()> {
    ctx.emit(
        conn,
        Event::new(kind, "archive", after.id, before, Some(after))?,
    )
}
