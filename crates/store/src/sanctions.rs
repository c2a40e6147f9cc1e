//! Exam discipline sanctions and the public misconduct register (DSC-1 to DSC-5, CRT-7).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::bans::BanRow;
use crate::exams::ExamRegistrationRow;
use crate::schema::{
    bans, exam_registrations, misconduct_entries, organisations, people, sanctions, users,
};
use crate::{DbConn, Page, StoreError, page_of};

/// One `sanctions` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sanctions, treat_none_as_null = true)]
pub struct SanctionRow {
    pub id: String,
    pub sitting_id: String,
    pub registration_id: String,
    pub person_id: String,
    pub organisation_id: Option<String>,
    pub offence: String,
    pub outcome: String,
    pub rule: String,
    pub description: String,
    pub evidence_reference: String,
    pub invigilator_user_id: String,
    pub occurred_at: NaiveDateTime,
    pub ban_id: Option<String>,
    pub employer_notified_at: Option<NaiveDateTime>,
    pub status: String,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawal_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `sanctions` row.
pub fn insert(conn: &mut DbConn, row: &SanctionRow) -> Result<(), StoreError> {
    diesel::insert_into(sanctions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `sanctions` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<SanctionRow>, StoreError> {
    Ok(sanctions::table
        .find(id)
        .select(SanctionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut SanctionRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        sanctions::table
            .filter(sanctions::id.eq(&row.id))
            .filter(sanctions::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "sanctions" })
    }
}

/// One `misconduct_entries` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = misconduct_entries)]
pub struct MisconductEntryRow {
    pub id: String,
    pub person_id: Option<String>,
    pub organisation_id: Option<String>,
    pub offence: String,
    pub sanction_summary: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub sanction_id: Option<String>,
    pub status: String,
    pub withdrawal_reason: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub published_at: NaiveDateTime,
}

/// Inserts a `misconduct_entries` row.
pub fn insert_misconduct_entry(
    conn: &mut DbConn,
    row: &MisconductEntryRow,
) -> Result<(), StoreError> {
    diesel::insert_into(misconduct_entries::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `misconduct_entries` row by id.
pub fn find_misconduct_entry(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<MisconductEntryRow>, StoreError> {
    Ok(misconduct_entries::table
        .find(id)
        .select(MisconductEntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct SanctionFilter {
    /// ACC-2: only sanctions of people sent by this organisation.
    pub organisation_id: Option<String>,
    /// Only this person's sanctions.
    pub person_id: Option<String>,
    /// Only sanctions recorded by this invigilator.
    pub invigilator_user_id: Option<String>,
    /// Only sanctions of this sitting.
    pub sitting_id: Option<String>,
    /// Only sanctions with this status.
    pub status: Option<String>,
    /// Only sanctions for this offence.
    pub offence: Option<String>,
}

/// Lists sanctions in id order (oldest first) after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &SanctionFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<SanctionRow>, StoreError> {
    let mut query = sanctions::table
        .select(SanctionRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.organisation_id {
        query = query.filter(sanctions::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.person_id {
        query = query.filter(sanctions::person_id.eq(v.clone()));
    }
    if let Some(v) = &filter.invigilator_user_id {
        query = query.filter(sanctions::invigilator_user_id.eq(v.clone()));
    }
    if let Some(v) = &filter.sitting_id {
        query = query.filter(sanctions::sitting_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(sanctions::status.eq(v.clone()));
    }
    if let Some(v) = &filter.offence {
        query = query.filter(sanctions::offence.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(sanctions::id.gt(after.to_owned()));
    }
    let rows = query
        .order(sanctions::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Every sanction of one exam registration (one person in one sitting), in
/// the order they were recorded: the history DSC-1 counts.
pub fn of_registration(
    conn: &mut DbConn,
    registration_id: &str,
) -> Result<Vec<SanctionRow>, StoreError> {
    Ok(sanctions::table
        .filter(sanctions::registration_id.eq(registration_id))
        .select(SanctionRow::as_select())
        .order(sanctions::id.asc())
        .load(conn)?)
}

/// Loads an exam registration and locks it until the end of the transaction,
/// so two incidents recorded at once for the same examinee are decided one
/// after the other and the second sees the first (DSC-1): `SELECT … FOR
/// UPDATE` on PostgreSQL; on SQLite the store's write lock already serialises
/// write transactions. Must run inside [`crate::Store::write`].
pub fn lock_registration(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ExamRegistrationRow>, StoreError> {
    let row = match conn {
        DbConn::Postgres(c) => exam_registrations::table
            .find(id)
            .select(ExamRegistrationRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConn::Sqlite(c) => exam_registrations::table
            .find(id)
            .select(ExamRegistrationRow::as_select())
            .first(c)
            .optional()?,
    };
    Ok(row)
}

/// The active accounts of an organisation (fillers and reviewers), in id
/// order: who hears of an employee's serious misconduct (DSC-3).
pub fn organisation_accounts(
    conn: &mut DbConn,
    organisation_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(users::table
        .filter(users::status.eq("active"))
        .filter(users::organisation_id.eq(organisation_id))
        .filter(users::role.eq_any(["org_filler", "org_reviewer"]))
        .select(users::id)
        .order(users::id.asc())
        .load(conn)?)
}

/// The register entry of a sanction, if it was listed (DSC-3).
pub fn entry_of_sanction(
    conn: &mut DbConn,
    sanction_id: &str,
) -> Result<Option<MisconductEntryRow>, StoreError> {
    Ok(misconduct_entries::table
        .filter(misconduct_entries::sanction_id.eq(sanction_id))
        .select(MisconductEntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a register entry withdrawn with the reason and time (DSC-5): it
/// stays on the register. Answers whether this call changed it.
pub fn withdraw_entry(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    reason: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        misconduct_entries::table
            .filter(misconduct_entries::id.eq(id))
            .filter(misconduct_entries::withdrawn_at.is_null()),
    )
    .set((
        misconduct_entries::status.eq(status),
        misconduct_entries::withdrawal_reason.eq(Some(reason)),
        misconduct_entries::withdrawn_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Filters for [`list_entries`].
#[derive(Debug, Default, Clone)]
pub struct EntryFilter {
    /// Only entries with this status.
    pub status: Option<String>,
    /// Only entries for this offence.
    pub offence: Option<String>,
}

/// A register entry with the names it shows: the person's (to be masked by
/// the caller) and the organisation's.
#[derive(Debug, Clone)]
pub struct EntryWithNames {
    pub entry: MisconductEntryRow,
    pub person_name: Option<String>,
    pub organisation_name: Option<String>,
}

/// Lists register entries newest first (descending id: ids are time-ordered
/// UUIDv7 made at publication) before `after`, with the names to show.
pub fn list_entries(
    conn: &mut DbConn,
    filter: &EntryFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<EntryWithNames>, StoreError> {
    let mut query = misconduct_entries::table
        .select(MisconductEntryRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(misconduct_entries::status.eq(v.clone()));
    }
    if let Some(v) = &filter.offence {
        query = query.filter(misconduct_entries::offence.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(misconduct_entries::id.lt(after.to_owned()));
    }
    let rows: Vec<MisconductEntryRow> = query
        .order(misconduct_entries::id.desc())
        .limit(limit + 1)
        .load(conn)?;
    let rows = with_names(conn, rows)?;
    Ok(page_of(rows, limit, |r| r.entry.id.clone()))
}

/// One register entry with its names, if it exists.
pub fn entry_with_names(conn: &mut DbConn, id: &str) -> Result<Option<EntryWithNames>, StoreError> {
    let rows: Vec<MisconductEntryRow> = find_misconduct_entry(conn, id)?.into_iter().collect();
    Ok(with_names(conn, rows)?.pop())
}

/// The entries with the names they show, loaded in two queries.
fn with_names(
    conn: &mut DbConn,
    rows: Vec<MisconductEntryRow>,
) -> Result<Vec<EntryWithNames>, StoreError> {
    let person_ids: Vec<String> = rows.iter().filter_map(|r| r.person_id.clone()).collect();
    let org_ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.organisation_id.clone())
        .collect();
    let person_names = person_names(conn, &person_ids)?;
    let org_names: std::collections::HashMap<String, String> = organisations::table
        .filter(organisations::id.eq_any(&org_ids))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|entry| EntryWithNames {
            person_name: entry
                .person_id
                .as_ref()
                .and_then(|p| person_names.get(p).cloned()),
            organisation_name: entry
                .organisation_id
                .as_ref()
                .and_then(|o| org_names.get(o).cloned()),
            entry,
        })
        .collect())
}

/// The bans with these ids (the bans of a page of sanctions), in one query.
pub fn bans_by_ids(conn: &mut DbConn, ids: &[String]) -> Result<Vec<BanRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(bans::table
        .filter(bans::id.eq_any(ids))
        .select(BanRow::as_select())
        .load(conn)?)
}

/// The names of these people, by id, in one query.
pub fn person_names(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(people::table
        .filter(people::id.eq_any(ids))
        .select((people::id, people::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
