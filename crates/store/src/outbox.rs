//! The transactional outbox (API-8): one row per published event, written in
//! the transaction of the change it announces. The webhook dispatcher reads
//! pending rows from here, never the tables of the change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::outbox;
use crate::{DbConn, StoreError};

/// The delivery state of a row nobody has dispatched yet.
pub const PENDING: &str = "pending";

/// One published event. `id` is the id of the audit event of the same change.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    /// The event kind from the catalogue, e.g. `refund.paid`.
    pub kind: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The organisation the entity belongs to, if any.
    pub organisation_id: Option<String>,
    /// The event's JSON payload.
    pub payload: String,
    pub created_at: NaiveDateTime,
    /// `pending` until the dispatcher has fanned it out.
    pub delivery_state: String,
    pub dispatched_at: Option<NaiveDateTime>,
}

/// Appends a row; call it inside the transaction that makes the change.
pub fn insert(conn: &mut DbConn, row: &OutboxRow) -> Result<(), StoreError> {
    diesel::insert_into(outbox::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The rows about one entity, oldest first.
pub fn for_entity(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: &str,
) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::entity_type.eq(entity_type.to_owned()))
        .filter(outbox::entity_id.eq(entity_id.to_owned()))
        .order(outbox::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// How many rows the outbox holds, dispatched or not.
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(outbox::table.count().get_result(conn)?)
}
