//! Class archives (ARC-1, ARC-2).
//!
//! - Publishing a class's results for the first time opens its archive in
//!   the same transaction ([`open_for_class`], called by the publication of
//!   results, EXM-5). Publishing again (after a retake) does not move the
//!   clock: the deadline runs from the first publication, so a missed
//!   deadline cannot be reset by a later publication.
//! - The archive holds the six documents of ARC-1. The attendance sheet, the
//!   grade sheet and the certificate receipt sheet are generated as CSV from
//!   the class's records at the moment they are read ([`document`]); the
//!   training agreement, the class notice and the timetable are attached by
//!   reference ([`attach`]). [`complete`] closes the file once the three
//!   attached documents are there.
//! - ARC-2: the archive is due on the 5th working day after the local date
//!   (association time zone) of the first publication, the publication day
//!   not counting, on the working-day calendar ([`crate::calendar`]). Due
//!   dates are computed at read time from the calendar as it stands, so a
//!   holiday entered later moves them. [`list`] with `overdue` lists the open
//!   archives past their due date for the training head.
//!
//! Archives are association-internal records: the handlers let only
//! training staff and the authority in, before any lookup (ACC-2).

mod documents;
mod records;
mod snapshots;

pub use records::{ArchiveDocumentView, ArchiveView, AttachDocument, ListArchives};
pub use snapshots::{ArchiveSnapshot, snapshot};

use snapshots::emit;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::archive::{
    ArchiveAction, ArchiveStatus, DocumentKind, archive_transition, check_attachable,
    check_complete, overdue_before,
};
use guild_domain::calendar::{WorkCalendar, start_of_day};
use guild_store::DbConn;
use guild_store::archives::{ArchiveDocumentRow, ArchiveFilter, ArchiveRow};
use guild_store::classes::ClassRow;
use guild_store::locks::Locked;
use uuid::Uuid;

use crate::calendar::{self, out_of_range};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{EventKind, kinds as ev};
use crate::inputs::check_version;
use crate::{Page, PageRequest};

/// What due dates are computed against: today, the time zone and the calendar.
struct Today {
    date: NaiveDate,
    tz: Tz,
    calendar: WorkCalendar,
}

impl Today {
    fn load(ctx: &Ctx, conn: &mut DbConn) -> AppResult<Self> {
        Ok(Today {
            date: ctx.today(),
            tz: ctx.tz,
            calendar: calendar::work_calendar(conn)?,
        })
    }
}

/// An archive with its class, or 404.
fn load(conn: &mut DbConn, id: &str) -> AppResult<(ArchiveRow, ClassRow)> {
    let row = guild_store::archives::find(conn, id)?.ok_or(AppError::NotFound("archive"))?;
    let class = guild_store::classes::find(conn, &row.class_id)?
        .ok_or_else(|| AppError::Internal(format!("archive {id} without its class")))?;
    Ok((row, class))
}

/// One archive with its documents, due date and lateness as of today
/// (ARC-1, ARC-2).
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ArchiveView> {
    let today = Today::load(ctx, conn)?;
    let (row, class) = load(conn, &id.to_string())?;
    let docs = guild_store::archives::documents(conn, &row.id)?;
    ArchiveView::from_parts(&row, &class.code, &class.title, &docs, &today)
}

/// The store filter of a list: `overdue` becomes the instant before which
/// an open archive's results must have been published to be past due today
/// (ARC-2).
fn archive_filter(q: ListArchives, today: &Today) -> AppResult<ArchiveFilter> {
    let overdue = match q.overdue {
        Some(flag) => {
            let first_in_time =
                overdue_before(today.date, &today.calendar).ok_or_else(out_of_range)?;
            let before = start_of_day(first_in_time, today.tz).ok_or_else(out_of_range)?;
            Some((flag, before.naive_utc()))
        }
        None => None,
    };
    Ok(ArchiveFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        overdue,
    })
}

/// Class archives, oldest first, each with its due date and lateness as of
/// today on the current calendar (ARC-2).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListArchives,
    page: PageRequest,
) -> AppResult<Page<ArchiveView>> {
    let today = Today::load(ctx, conn)?;
    let filter = archive_filter(q, &today)?;
    let rows = guild_store::archives::list(conn, &filter, page.after.as_deref(), page.limit)?;
    let ids: Vec<String> = rows.items.iter().map(|r| r.archive.id.clone()).collect();
    let docs = guild_store::archives::documents_of(conn, &ids)?;
    rows.try_map(|r| {
        let mine: Vec<ArchiveDocumentRow> = docs
            .iter()
            .filter(|d| d.archive_id == r.archive.id)
            .cloned()
            .collect();
        ArchiveView::from_parts(&r.archive, &r.class_code, &r.class_title, &mine, &today)
    })
}

/// A generated document of the archive (ARC-1): its file name and its CSV
/// text, built from the class's records now.
pub fn document(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    kind: DocumentKind,
) -> AppResult<(String, String)> {
    let (row, class) = load(conn, &id.to_string())?;
    let body = documents::generate(conn, ctx.caller()?, &row.class_id, kind)?;
    Ok((documents::file_name(&class.code, kind), body))
}

/// Writes the attached document `kind` of the archive: replaces the
/// existing one or adds it.
fn put_document(
    ctx: &Ctx,
    conn: &mut DbConn,
    archive_id: &str,
    existing: Option<&ArchiveDocumentRow>,
    kind: DocumentKind,
    body: AttachDocument,
) -> AppResult<()> {
    let attached_by = ctx.caller()?.id.clone();
    let at = ctx.now.naive_utc();
    let reference = body.reference.trim().to_owned();
    let note = body
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    match existing {
        Some(existing) => {
            let mut doc = existing.clone();
            doc.reference = reference;
            doc.note = note;
            doc.attached_by = attached_by;
            doc.attached_at = at;
            guild_store::archives::update_document(conn, &doc)?;
        }
        None => guild_store::archives::insert_document(
            conn,
            &ArchiveDocumentRow {
                id: Uuid::now_v7().to_string(),
                archive_id: archive_id.to_owned(),
                kind: kind.as_str().to_owned(),
                reference,
                note,
                attached_by,
                attached_at: at,
            },
        )?,
    }
    Ok(())
}

/// Attaches or replaces a document (ARC-1): the archive exists (404),
/// matches `expected_version` (412), is open (409 with the allowed actions)
/// and the kind is one attached by reference (422 `document_generated`). The
/// archive's version moves on. Emits `archive.document_attached`.
pub fn attach(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    kind: DocumentKind,
    body: AttachDocument,
    expected_version: Option<i32>,
) -> AppResult<ArchiveView> {
    let change = Change {
        id,
        expected_version,
        action: ArchiveAction::AttachDocument,
        event: ev::ARCHIVE_DOCUMENT_ATTACHED,
    };
    change.apply(ctx, conn, |ctx, conn, row, _, docs| {
        check_attachable(kind)?;
        let existing = docs.iter().find(|d| d.kind == kind.as_str());
        put_document(ctx, conn, &row.id, existing, kind, body)
    })
}

/// Completes an archive (ARC-1): the archive exists (404), matches
/// `expected_version` (412), is open (409 with the allowed actions) and
/// holds the three attached documents (422 `archive_documents_missing`,
/// naming them). Records who and when; a late completion is allowed and
/// shows as `completed_late` (ARC-2). Emits `archive.completed`.
pub fn complete(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
) -> AppResult<ArchiveView> {
    let change = Change {
        id,
        expected_version,
        action: ArchiveAction::Complete,
        event: ev::ARCHIVE_COMPLETED,
    };
    change.apply(ctx, conn, |ctx, _, row, next, docs| {
        let present = docs
            .iter()
            .map(|d| stored("archive_documents", &d.kind))
            .collect::<AppResult<Vec<DocumentKind>>>()?;
        check_complete(&present)?;
        row.status = next.as_str().to_owned();
        row.completed_by = Some(ctx.caller()?.id.clone());
        row.completed_at = Some(ctx.now.naive_utc());
        Ok(())
    })
}

/// One change of an archive by a caller: the steps every change shares.
struct Change {
    id: Uuid,
    /// The `If-Match` version, if given (412 when it differs).
    expected_version: Option<i32>,
    /// The action, checked against the archive's state (409).
    action: ArchiveAction,
    /// The event the change emits.
    event: EventKind,
}

impl Change {
    /// Locks the archive, checks the version and the transition, lets `edit`
    /// change the row (and its documents) given the next state and the
    /// documents before, writes the row and emits the event with before and
    /// after.
    fn apply(
        self,
        ctx: &Ctx,
        conn: &mut DbConn,
        edit: impl FnOnce(
            &Ctx,
            &mut DbConn,
            &mut ArchiveRow,
            ArchiveStatus,
            &[ArchiveDocumentRow],
        ) -> AppResult<()>,
    ) -> AppResult<ArchiveView> {
        let today = Today::load(ctx, conn)?;
        let id = self.id.to_string();
        guild_store::locks::lock_row(conn, Locked::Archives, &id)?;
        let (mut row, class) = load(conn, &id)?;
        check_version(self.expected_version, row.version)?;
        let next = archive_transition(stored("archives", &row.status)?, self.action)?;
        let before_docs = guild_store::archives::documents(conn, &row.id)?;
        let before_row = row.clone();
        edit(ctx, conn, &mut row, next, &before_docs)?;
        guild_store::archives::update(conn, &mut row, ctx.now.naive_utc())?;
        let docs = guild_store::archives::documents(conn, &row.id)?;
        let before = snapshot(&before_row, &before_docs);
        emit(ctx, conn, self.event, Some(&before), &snapshot(&row, &docs))?;
        ArchiveView::from_parts(&row, &class.code, &class.title, &docs, &today)
    }
}

/// Opens the class's archive when its results are published (ARC-1, ARC-2),
/// inside the publishing transaction. Idempotent: when the class already has
/// an archive nothing changes, so the clock runs from the first publication.
/// Emits `archive.opened`.
pub fn open_for_class(
    ctx: &Ctx,
    conn: &mut DbConn,
    class_id: &str,
    published_at: DateTime<Utc>,
) -> AppResult<()> {
    if guild_store::archives::find_by_class(conn, class_id)?.is_some() {
        return Ok(());
    }
    let row = ArchiveRow {
        id: Uuid::now_v7().to_string(),
        class_id: class_id.to_owned(),
        results_published_at: published_at.naive_utc(),
        status: ArchiveStatus::Open.as_str().to_owned(),
        completed_by: None,
        completed_at: None,
        version: 1,
        created_at: ctx.now.naive_utc(),
        updated_at: ctx.now.naive_utc(),
    };
    guild_store::archives::insert(conn, &row)?;
    emit(ctx, conn, ev::ARCHIVE_OPENED, None, &snapshot(&row, &[]))
}
