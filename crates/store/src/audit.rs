//! The audit log (API-6): every state change, with actor, before/after and request id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::audit_events;
use crate::{DbConn, Page, StoreError, page_of};

/// One audit event. `before_json`/`after_json` hold JSON snapshots of the entity.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_user_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The organisation the entity belongs to, so that organisation can read it (API-6).
    pub organisation_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub address: Option<String>,
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub organisation_id: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub action: Option<String>,
}

/// Appends an event; call it inside the transaction that makes the change.
pub fn insert(conn: &mut DbConn, row: &AuditEventRow) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Lists events in id (time) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<AuditEventRow>, StoreError> {
    let mut query = audit_events::table
        .select(AuditEventRow::as_select())
        .into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(audit_events::organisation_id.eq(org.clone()));
    }
    if let Some(v) = &filter.entity_type {
        query = query.filter(audit_events::entity_type.eq(v.clone()));
    }
    if let Some(v) = &filter.entity_id {
        query = query.filter(audit_events::entity_id.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_user_id {
        query = query.filter(audit_events::actor_user_id.eq(v.clone()));
    }
    if let Some(v) = &filter.action {
        query = query.filter(audit_events::action.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(audit_events::id.gt(after.to_owned()));
    }
    let rows = query
        .order(audit_events::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}
