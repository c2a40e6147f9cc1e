//! Refund requests and their four-step approval (REF-1 to REF-4).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::refunds;
use crate::{DbConn, StoreError};

/// One `refunds` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = refunds, treat_none_as_null = true)]
pub struct RefundRow {
    pub id: String,
    pub enrolment_id: String,
    pub organisation_id: Option<String>,
    pub kind: String,
    pub amount_fen: i64,
    pub deferral_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub training_confirmed_by: Option<String>,
    pub training_confirmed_at: Option<NaiveDateTime>,
    pub finance_confirmed_by: Option<String>,
    pub finance_confirmed_at: Option<NaiveDateTime>,
    pub leader_approved_by: Option<String>,
    pub leader_approved_at: Option<NaiveDateTime>,
    pub paid_by: Option<String>,
    pub paid_at: Option<NaiveDateTime>,
    pub payment_reference: Option<String>,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<NaiveDateTime>,
    pub rejection_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `refunds` row.
pub fn insert(conn: &mut DbConn, row: &RefundRow) -> Result<(), StoreError> {
    diesel::insert_into(refunds::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `refunds` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<RefundRow>, StoreError> {
    Ok(refunds::table
        .find(id)
        .select(RefundRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(conn: &mut DbConn, row: &mut RefundRow, at: NaiveDateTime) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        refunds::table
            .filter(refunds::id.eq(&row.id))
            .filter(refunds::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "refunds" })
    }
}
