//! Deferrals (DEF-1, DEF-2).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::deferrals;
use crate::{DbConn, StoreError};

/// One `deferrals` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = deferrals, treat_none_as_null = true)]
pub struct DeferralRow {
    pub id: String,
    pub enrolment_id: String,
    pub organisation_id: Option<String>,
    pub letter_reference: String,
    pub reason: String,
    pub status: String,
    pub filed_by: String,
    pub filed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub transferred_to_id: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `deferrals` row.
pub fn insert(conn: &mut DbConn, row: &DeferralRow) -> Result<(), StoreError> {
    diesel::insert_into(deferrals::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `deferrals` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<DeferralRow>, StoreError> {
    Ok(deferrals::table
        .find(id)
        .select(DeferralRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut DeferralRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        deferrals::table
            .filter(deferrals::id.eq(&row.id))
            .filter(deferrals::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "deferrals" })
    }
}
