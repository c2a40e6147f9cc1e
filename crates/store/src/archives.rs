//! Class archives and their documents (ARC-1, ARC-2), and the reads the
//! generated documents need that no other aggregate offers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::certificates::CertificateRow;
use crate::schema::{archive_documents, archives, certificates, classes};
use crate::{DbConn, Page, StoreError, page_of};

/// One `archives` row: a class's file, opened when its results were first published.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = archives, treat_none_as_null = true)]
pub struct ArchiveRow {
    pub id: String,
    pub class_id: String,
    pub results_published_at: NaiveDateTime,
    pub status: String,
    pub completed_by: Option<String>,
    pub completed_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One `archive_documents` row: a document attached by reference.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = archive_documents, treat_none_as_null = true)]
pub struct ArchiveDocumentRow {
    pub id: String,
    pub archive_id: String,
    pub kind: String,
    pub reference: String,
    pub note: Option<String>,
    pub attached_by: String,
    pub attached_at: NaiveDateTime,
}

/// Inserts an `archives` row (`archives.class_id` is unique: one file per class).
pub fn insert(conn: &mut DbConn, row: &ArchiveRow) -> Result<(), StoreError> {
    diesel::insert_into(archives::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds an archive by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ArchiveRow>, StoreError> {
    Ok(archives::table
        .find(id)
        .select(ArchiveRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds the archive of a class.
pub fn find_by_class(conn: &mut DbConn, class_id: &str) -> Result<Option<ArchiveRow>, StoreError> {
    Ok(archives::table
        .filter(archives::class_id.eq(class_id))
        .select(ArchiveRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut ArchiveRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        archives::table
            .filter(archives::id.eq(&row.id))
            .filter(archives::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "archives" })
    }
}

/// The attached documents of an archive, by kind.
pub fn documents(
    conn: &mut DbConn,
    archive_id: &str,
) -> Result<Vec<ArchiveDocumentRow>, StoreError> {
    Ok(archive_documents::table
        .filter(archive_documents::archive_id.eq(archive_id))
        .order(archive_documents::kind.asc())
        .select(ArchiveDocumentRow::as_select())
        .load(conn)?)
}

/// The attached documents of several archives (one list page).
pub fn documents_of(
    conn: &mut DbConn,
    archive_ids: &[String],
) -> Result<Vec<ArchiveDocumentRow>, StoreError> {
    Ok(archive_documents::table
        .filter(archive_documents::archive_id.eq_any(archive_ids))
        .order((
            archive_documents::archive_id.asc(),
            archive_documents::kind.asc(),
        ))
        .select(ArchiveDocumentRow::as_select())
        .load(conn)?)
}

/// Inserts an attached document (`(archive_id, kind)` is unique).
pub fn insert_document(conn: &mut DbConn, row: &ArchiveDocumentRow) -> Result<(), StoreError> {
    diesel::insert_into(archive_documents::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Replaces the reference, note and who/when of an attached document.
pub fn update_document(conn: &mut DbConn, row: &ArchiveDocumentRow) -> Result<(), StoreError> {
    diesel::update(archive_documents::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// An archive with what a list shows of its class.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveListRow {
    pub archive: ArchiveRow,
    pub class_code: String,
    pub class_title: String,
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct ArchiveFilter {
    pub status: Option<String>,
    pub class_id: Option<String>,
    /// `Some((true, t))`: only archives that are `open` and whose results
    /// were published before the instant `t`; `Some((false, t))`: only the
    /// others (ARC-2: the caller computes `t` from the calendar).
    pub overdue: Option<(bool, NaiveDateTime)>,
}

/// Lists archives with their class's code and title, in id (opening) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &ArchiveFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<ArchiveListRow>, StoreError> {
    let mut query = archives::table
        .inner_join(classes::table)
        .select((ArchiveRow::as_select(), classes::code, classes::title))
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(archives::status.eq(v.clone()));
    }
    if let Some(v) = &filter.class_id {
        query = query.filter(archives::class_id.eq(v.clone()));
    }
    match filter.overdue {
        Some((true, before)) => {
            query = query
                .filter(archives::status.eq("open"))
                .filter(archives::results_published_at.lt(before));
        }
        Some((false, before)) => {
            query = query.filter(
                archives::status
                    .ne("open")
                    .or(archives::results_published_at.ge(before)),
            );
        }
        None => {}
    }
    if let Some(after) = after {
        query = query.filter(archives::id.gt(after.to_owned()));
    }
    let rows = query
        .order(archives::id.asc())
        .limit(limit + 1)
        .load::<(ArchiveRow, String, String)>(conn)?
        .into_iter()
        .map(|(archive, class_code, class_title)| ArchiveListRow {
            archive,
            class_code,
            class_title,
        })
        .collect();
    Ok(page_of(rows, limit, |r| r.archive.id.clone()))
}

/// The certificates issued for a class, by number (the certificate receipt
/// sheet, ARC-1): originals and any reissues that name the class.
pub fn certificates_of_class(
    conn: &mut DbConn,
    class_id: &str,
) -> Result<Vec<CertificateRow>, StoreError> {
    Ok(certificates::table
        .filter(certificates::class_id.eq(class_id))
        .order((certificates::number.asc(), certificates::id.asc()))
        .select(CertificateRow::as_select())
        .load(conn)?)
}
