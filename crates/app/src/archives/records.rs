//! The records and inputs of class archives (ARC-1, ARC-2).

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::archive::{
    ArchiveStatus, DocumentKind, archive_allowed_actions, due_on, missing_documents, timeliness,
};
use guild_domain::local_date;
use guild_store::archives::{ArchiveDocumentRow, ArchiveRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use super::Today;
use crate::calendar::out_of_range;
use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

const T: &str = "archives";

/// One of the six documents of an archive (ARC-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveDocumentView {
    /// Which document.
    pub kind: DocumentKind,
    /// Its title on the paper file (`培训协议书`, …).
    pub title: String,
    /// Whether the system generates it (attendance, grade and certificate
    /// receipt sheets) rather than the officer attaching it by reference.
    pub generated: bool,
    /// Whether it is on file: generated documents always are.
    pub present: bool,
    /// Where to download a generated document (CSV).
    pub download_path: Option<String>,
    /// The reference of an attached document (file number, document system id).
    pub reference: Option<String>,
    /// A remark on an attached document.
    pub note: Option<String>,
    /// Who attached it.
    pub attached_by: Option<Uuid>,
    /// When.
    pub attached_at: Option<DateTime<Utc>>,
}

/// A class's archive (ARC-1) with its due date (ARC-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveView {
    /// The archive id.
    pub id: Uuid,
    /// The class.
    pub class_id: Uuid,
    /// The class's code.
    pub class_code: String,
    /// The class's title.
    pub class_title: String,
    /// `open` or `completed`.
    pub status: ArchiveStatus,
    /// The actions its state allows (API-4): `attach_document` is
    /// `PUT /archives/{id}/documents/{kind}`, `complete` is `POST /archives/{id}/complete`.
    pub allowed_actions: Vec<String>,
    /// When the class's results were first published: the archive clock's start (ARC-2).
    pub results_published_at: DateTime<Utc>,
    /// That instant's date in the association's time zone; it does not count.
    pub published_on: NaiveDate,
    /// The 5th working day after `published_on`, on the calendar as it stands now.
    pub due_on: NaiveDate,
    /// Open and past `due_on` today (association time zone).
    pub overdue: bool,
    /// Calendar days past `due_on`: of today while open, of the completion
    /// date once completed; 0 when in time.
    pub days_overdue: i64,
    /// Once completed, whether after `due_on`; `null` while open.
    pub completed_late: Option<bool>,
    /// The six documents, in filing order.
    pub documents: Vec<ArchiveDocumentView>,
    /// The attached documents still missing (completion needs none, ARC-1).
    pub missing_documents: Vec<DocumentKind>,
    /// Who completed it.
    pub completed_by: Option<Uuid>,
    /// When.
    pub completed_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (API-5).
    pub version: i32,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Attaches a document by reference.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"reference": "ARCH-2026-041", "note": "Signed original in cabinet 3"})))]
pub struct AttachDocument {
    /// Where the document is: file number, document management system id, shelf mark.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub reference: String,
    /// A remark.
    #[validate(length(max = 1000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}

/// Filters of the archive list.
#[derive(Debug, Clone, Default)]
pub struct ListArchives {
    /// Only this status.
    pub status: Option<ArchiveStatus>,
    /// `true`: only open archives past their due date (ARC-2); `false`: only the others.
    pub overdue: Option<bool>,
    /// Only this class's archive.
    pub class_id: Option<Uuid>,
}

fn document_view(
    archive_id: &str,
    kind: DocumentKind,
    attached: Option<&ArchiveDocumentRow>,
) -> AppResult<ArchiveDocumentView> {
    Ok(ArchiveDocumentView {
        kind,
        title: kind.title_zh().to_owned(),
        generated: kind.is_generated(),
        present: kind.is_generated() || attached.is_some(),
        download_path: kind
            .is_generated()
            .then(|| format!("/api/v1/archives/{archive_id}/documents/{kind}")),
        reference: attached.map(|d| d.reference.clone()),
        note: attached.and_then(|d| d.note.clone()),
        attached_by: attached.map(|d| stored_id(T, &d.attached_by)).transpose()?,
        attached_at: attached.map(|d| d.attached_at.and_utc()),
    })
}

impl ArchiveView {
    /// The archive as it stands on `today`: its due date and lateness on the
    /// calendar as it stands (ARC-2) and its six documents (ARC-1).
    pub(super) fn from_parts(
        row: &ArchiveRow,
        class_code: &str,
        class_title: &str,
        docs: &[ArchiveDocumentRow],
        today: &Today,
    ) -> AppResult<ArchiveView> {
        let status: ArchiveStatus = stored(T, &row.status)?;
        let published_at = row.results_published_at.and_utc();
        let published_on = local_date(published_at, today.tz);
        let due = due_on(published_on, &today.calendar).ok_or_else(out_of_range)?;
        let completed_on = row.completed_at.map(|t| local_date(t.and_utc(), today.tz));
        let t = timeliness(due, today.date, completed_on);
        let mut present = Vec::new();
        let mut documents = Vec::new();
        for &kind in DocumentKind::ALL {
            let attached = docs.iter().find(|d| d.kind == kind.as_str());
            if attached.is_some() {
                present.push(kind);
            }
            documents.push(document_view(&row.id, kind, attached)?);
        }
        Ok(ArchiveView {
            id: stored_id(T, &row.id)?,
            class_id: stored_id(T, &row.class_id)?,
            class_code: class_code.to_owned(),
            class_title: class_title.to_owned(),
            status,
            allowed_actions: archive_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            results_published_at: published_at,
            published_on,
            due_on: due,
            overdue: t.overdue,
            days_overdue: t.days_overdue,
            completed_late: t.completed_late,
            missing_documents: missing_documents(&present),
            documents,
            completed_by: stored_opt(T, row.completed_by.as_deref())?,
            completed_at: row.completed_at.map(|t| t.and_utc()),
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}
