//! Reading the audit log (API-6): administrators see everything, organisation
//! users the events of their own organisation's entities.

use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_store::DbConn;
use guild_store::audit::{AuditEventRow, AuditFilter};
use serde::Serialize;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::ids::{stored_id, stored_opt};
use crate::{Page, PageRequest};

/// One recorded change.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    /// The event id (time-ordered).
    pub id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it (absent for failed logins).
    pub actor_user_id: Option<Uuid>,
    /// The actor's role at the time.
    pub actor_role: Option<Role>,
    /// What was done, e.g. `organisation.approve`.
    pub action: String,
    /// The kind of entity, e.g. `organisation`.
    pub entity_type: String,
    /// The entity's id (the user name for a failed login of an unknown account).
    pub entity_id: String,
    /// The organisation the entity belongs to.
    pub organisation_id: Option<Uuid>,
    /// The entity before the change.
    pub before: Option<serde_json::Value>,
    /// The entity after the change.
    pub after: Option<serde_json::Value>,
    /// The request that made the change.
    pub request_id: Option<String>,
}

impl TryFrom<AuditEventRow> for AuditEventView {
    type Error = AppError;
    fn try_from(r: AuditEventRow) -> AppResult<Self> {
        const T: &str = "audit_events";
        let json = |v: Option<String>| -> AppResult<Option<serde_json::Value>> {
            v.map(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| AppError::Internal(format!("corrupt audit json: {e}")))
            })
            .transpose()
        };
        Ok(AuditEventView {
            id: stored_id(T, &r.id)?,
            occurred_at: r.occurred_at.and_utc(),
            actor_user_id: stored_opt(T, r.actor_user_id.as_deref())?,
            actor_role: r.actor_role.as_deref().map(|v| stored(T, v)).transpose()?,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            before: json(r.before_json)?,
            after: json(r.after_json)?,
            request_id: r.request_id,
        })
    }
}

/// What the audit log is filtered by, besides the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this kind of entity.
    pub entity_type: Option<String>,
    /// Only this entity.
    pub entity_id: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only changes by this account.
    pub actor_user_id: Option<Uuid>,
    /// Only this organisation's entities.
    pub organisation_id: Option<Uuid>,
}

/// The audit log, oldest first, confined to the caller's organisation for
/// organisation accounts (ACC-2); asking for another organisation's events
/// answers an empty page.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: AuditQuery,
    page: PageRequest,
) -> AppResult<Page<AuditEventView>> {
    let Some(organisation_id) = ctx.caller()?.organisation_filter(q.organisation_id) else {
        return Ok(Page::empty());
    };
    let filter = AuditFilter {
        organisation_id,
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_user_id: q.actor_user_id.map(|u| u.to_string()),
        action: q.action,
    };
    guild_store::audit::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(AuditEventView::try_from)
}
