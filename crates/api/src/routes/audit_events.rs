//! Reading the audit log (API-6): administrators see everything, organisation
//! users the events of their own organisation's entities.

use actix_web::{HttpResponse, get, web};
use guild_domain::roles::AUDIT_READERS;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub use guild_app::audit_events::AuditEventView;

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged};
use crate::openapi::ListErrors;
use crate::state::AppState;

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
    user.require(AUDIT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let query = guild_app::audit_events::AuditQuery {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        action: q.action,
        actor_user_id: q.actor_user_id,
        organisation_id: q.organisation_id,
    };
    let rows = state
        .read(user, move |ctx, c| {
            guild_app::audit_events::list(ctx, c, query, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}
