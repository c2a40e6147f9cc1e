//! The fee ledger: charges, payments and refunds per enrolment (ENR-3).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::ledger_entries;
use crate::{DbConn, StoreError};

/// One `ledger_entries` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_entries)]
pub struct LedgerEntryRow {
    pub id: String,
    pub enrolment_id: String,
    pub kind: String,
    pub item: String,
    pub amount_fen: i64,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

/// Inserts a `ledger_entries` row.
pub fn insert(conn: &mut DbConn, row: &LedgerEntryRow) -> Result<(), StoreError> {
    diesel::insert_into(ledger_entries::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `ledger_entries` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<LedgerEntryRow>, StoreError> {
    Ok(ledger_entries::table
        .find(id)
        .select(LedgerEntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every entry of an enrolment, oldest first (ENR-3: the balance is derived from these).
pub fn for_enrolment(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> Result<Vec<LedgerEntryRow>, StoreError> {
    Ok(ledger_entries::table
        .filter(ledger_entries::enrolment_id.eq(enrolment_id))
        .select(LedgerEntryRow::as_select())
        .order((ledger_entries::created_at.asc(), ledger_entries::id.asc()))
        .load(conn)?)
}
