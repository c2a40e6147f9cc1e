//! Reading the audit log (API-6): administrators see everything, organisation
//! users the events of their own organisation's entities.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_store::audit::{AuditEventRow, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged};
use crate::openapi::ListErrors;
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
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
    type Error = ApiError;
    fn try_from(r: AuditEventRow) -> ApiResult<Self> {
        let json = |v: Option<String>| -> ApiResult<Option<serde_json::Value>> {
            v.map(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| ApiError::Internal(format!("corrupt audit json: {e}")))
            })
            .transpose()
        };
        Ok(AuditEventView {
            id: stored_uuid("audit_events", &r.id)?,
            occurred_at: r.occurred_at.and_utc(),
            actor_user_id: r
                .actor_user_id
                .as_deref()
                .map(|v| stored_uuid("audit_events", v))
                .transpose()?,
            actor_role: r
                .actor_role
                .as_deref()
                .map(|v| crate::extract::parse_stored("audit_events", v))
                .transpose()?,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            organisation_id: r
                .organisation_id
                .as_deref()
                .map(|v| stored_uuid("audit_events", v))
                .transpose()?,
            before: json(r.before_json)?,
            after: json(r.after_json)?,
            request_id: r.request_id,
        })
    }
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this kind of entity, e.g. `person`.
    pub entity_type: Option<String>,
    /// Only this entity.
    pub entity_id: Option<String>,
    /// Only this action, e.g. `organisation.approve`.
    pub action: Option<String>,
    /// Only changes by this account.
    pub actor_user_id: Option<Uuid>,
    /// Only this organisation's entities (administrators).
    pub organisation_id: Option<Uuid>,
}

/// Read the audit log, oldest first.
#[utoipa::path(
    operation_id = "list_audit_events",
    tag = "audit", params(AuditQuery), responses((status = 200,
            description = "OK", body = Paged<AuditEventView>), ListErrors))]
#[get("/audit-events")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin, Role::OrgFiller, Role::OrgReviewer])?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let own = user.organisation_scope();
    if own.is_some()
        && q.organisation_id
            .is_some_and(|o| Some(o.to_string()) != own)
    {
        return Ok(HttpResponse::Ok().json(Paged::<AuditEventView> {
            items: vec![],
            next_cursor: None,
        }));
    }
    let filter = AuditFilter {
        organisation_id: own.or(q.organisation_id.map(|o| o.to_string())),
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_user_id: q.actor_user_id.map(|u| u.to_string()),
        action: q.action,
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::audit::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, AuditEventView::try_from)?))
}
