//! Writing the audit log (API-6) inside the transaction of the change it records.

use chrono::{DateTime, Utc};
use guild_app::Ctx;
use guild_app::events::Event;
use guild_store::DbConn;
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
    /// The use-case context of this actor in time zone `tz`.
    pub fn ctx_in(&self, tz: chrono_tz::Tz) -> Ctx {
        Ctx { tz, ..self.ctx() }
    }

    /// The use-case context of this actor (the time zone is not read by events).
    pub fn ctx(&self) -> Ctx {
        Ctx {
            caller: self.user.map(AuthUser::caller),
            now: self.at,
            tz: chrono_tz::Tz::UTC,
            request_id: self.ctx.request_id.clone(),
            address: self.ctx.address.clone(),
        }
    }

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
    pub entity_type: &'static str,
    /// The entity's id.
    pub entity_id: &'a str,
    /// The organisation the entity belongs to (so it can read its own events).
    pub organisation_id: Option<&'a str>,
    /// The entity before the change.
    pub before: Option<&'a B>,
    /// The entity after the change.
    pub after: Option<&'a A>,
}

/// Records `change` as one event ([`guild_app::Ctx::emit`]): the audit row
/// (API-6) and, for published kinds, the outbox row (API-8), in the caller's
/// transaction. The action must be an event kind's audit action
/// ([`guild_app::events::CATALOGUE`]); anything else is a programming fault.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    change: Change<'_, B, A>,
) -> ApiResult<()> {
    let kind = guild_app::events::by_audit_action(change.action).ok_or_else(|| {
        ApiError::Internal(format!(
            "audit action {} is not in the event catalogue",
            change.action
        ))
    })?;
    let event = Event::new(
        *kind,
        change.entity_type,
        change.entity_id,
        change.before,
        change.after,
    )?
    .in_organisation(change.organisation_id);
    actor.ctx().emit(conn, event)?;
    Ok(())
}

/// The event kind logged under audit action `action`, for the areas that
/// still name their changes by audit action.
pub fn kind(action: &str) -> ApiResult<guild_app::events::EventKind> {
    guild_app::events::by_audit_action(action)
        .copied()
        .ok_or_else(|| {
            ApiError::Internal(format!(
                "audit action {action} is not in the event catalogue"
            ))
        })
}
