//! Writing the audit log (API-6) inside the transaction of the change it records.

use chrono::{DateTime, Utc};
use guild_store::DbConn;
use guild_store::audit::AuditEventRow;
use serde::Serialize;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::RequestContext;

/// Who did it, from where, and when.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    /// The caller, or `None` for unauthenticated events (failed logins).
    pub user: Option<&'a AuthUser>,
    /// Request id and address.
    pub ctx: &'a RequestContext,
    /// The application clock's time of the change.
    pub at: DateTime<Utc>,
}

impl<'a> Actor<'a> {
    /// An authenticated caller acting at `at`.
    pub fn new(user: &'a AuthUser, ctx: &'a RequestContext, at: DateTime<Utc>) -> Self {
        Actor {
            user: Some(user),
            ctx,
            at,
        }
    }
}

/// One change to record.
#[derive(Debug)]
pub struct Change<'a, B: Serialize, A: Serialize> {
    /// e.g. `organisation.approve`.
    pub action: &'a str,
    /// e.g. `organisation`.
    pub entity_type: &'a str,
    /// The entity's id.
    pub entity_id: &'a str,
    /// The organisation the entity belongs to (so it can read its own events).
    pub organisation_id: Option<&'a str>,
    /// The entity before the change.
    pub before: Option<&'a B>,
    /// The entity after the change.
    pub after: Option<&'a A>,
}

/// Appends an audit event for `change`.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    change: Change<'_, B, A>,
) -> ApiResult<()> {
    let row = AuditEventRow {
        id: uuid::Uuid::now_v7().to_string(),
        occurred_at: actor.at.naive_utc(),
        actor_user_id: actor.user.map(|u| u.id.clone()),
        actor_role: actor.user.map(|u| u.role.as_str().to_owned()),
        action: change.action.to_owned(),
        entity_type: change.entity_type.to_owned(),
        entity_id: change.entity_id.to_owned(),
        organisation_id: change.organisation_id.map(str::to_owned),
        before_json: snapshot(change.before)?,
        after_json: snapshot(change.after)?,
        request_id: Some(actor.ctx.request_id.clone()).filter(|r| !r.is_empty()),
        address: Some(actor.ctx.address.clone()),
    };
    guild_store::audit::insert(conn, &row)?;
    Ok(())
}

/// Serialises an API representation of the entity. People are recorded as an
/// organisation user sees them (ID number masked, PPL-3), since organisations read their own events.
fn snapshot<T: Serialize>(value: Option<&T>) -> ApiResult<Option<String>> {
    value
        .map(|v| {
            serde_json::to_string(v)
                .map_err(|e| ApiError::Internal(format!("cannot serialise audit snapshot: {e}")))
        })
        .transpose()
}
