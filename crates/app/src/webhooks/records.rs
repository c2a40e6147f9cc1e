//! What the webhook endpoints take and return (API-8).

use chrono::{DateTime, NaiveDateTime, Utc};
use guild_store::webhooks::{DeliveryRow, SubscriptionRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppError, AppResult};
use crate::ids::{stored_id, stored_opt};

/// A webhook subscription. The secret is never part of it: it is shown once,
/// at creation and at each rotation ([`WebhookWithSecret`]).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    /// The subscription id.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// What it is for.
    pub description: Option<String>,
    /// The event kinds it receives (`*`: every kind the owner may receive).
    pub event_types: Vec<String>,
    /// Whether events are sent to it.
    pub enabled: bool,
    /// Why it was disabled by the server (every delivery failed for 5 days).
    pub disabled_reason: Option<String>,
    /// The account that owns it.
    pub owner_user_id: Uuid,
    /// The owner's organisation, if any.
    pub organisation_id: Option<Uuid>,
    /// Until when the key replaced by the last rotation still signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl WebhookView {
    /// The record of a stored subscription at `now`.
    pub fn of(r: &SubscriptionRow, now: NaiveDateTime) -> AppResult<Self> {
        let id = |v: &str| stored_id("webhook_subscriptions", v);
        Ok(WebhookView {
            id: id(&r.id)?,
            url: r.url.clone(),
            description: r.description.clone(),
            event_types: event_types_of(r)?,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason.clone(),
            owner_user_id: id(&r.owner_user_id)?,
            organisation_id: stored_opt("webhook_subscriptions", r.organisation_id.as_deref())?,
            previous_secret_expires_at: r
                .previous_secret_expires_at
                .filter(|t| *t > now)
                .map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// The event kinds a stored subscription lists.
pub fn event_types_of(r: &SubscriptionRow) -> AppResult<Vec<String>> {
    serde_json::from_str(&r.event_types)
        .map_err(|e| AppError::Internal(format!("corrupt event types of webhook {}: {e}", r.id)))
}

impl crate::events::Record for WebhookView {
    const ENTITY: &'static str = "webhook";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        self.organisation_id
    }
}

/// A subscription with its signing secret, shown this once.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookWithSecret {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret, `whsec_<base64>`: keep it, it is not shown again.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    )]
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"url": "https://hooks.example.com/guild", "event_types": ["enrolment.confirmed", "refund.paid"], "description": "ERP integration"})))]
pub struct CreateWebhook {
    /// An `https://` URL of a public host.
    #[validate(length(min = 1, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub url: String,
    /// `["*"]`, or kinds of the catalogue (`GET /api/v1/webhooks/event-types`).
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 200))]
    pub event_types: Vec<String>,
    /// What it is for.
    #[validate(length(max = 500))]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description: Option<String>,
    /// Whether events are sent to it (default true).
    pub enabled: Option<bool>,
}

/// Changes to a subscription: the fields sent replace the stored ones.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"enabled": false})))]
pub struct UpdateWebhook {
    /// A new URL.
    #[validate(length(min = 1, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub url: Option<String>,
    /// New event kinds.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 200))]
    pub event_types: Option<Vec<String>>,
    /// A new description.
    #[validate(length(max = 500))]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description: Option<String>,
    /// Enable (which also clears a server's `disabled_reason`) or disable.
    pub enabled: Option<bool>,
}

/// One kind of the event catalogue a webhook can subscribe to.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventTypeView {
    /// The kind, e.g. `refund.paid`: the payload's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened.
    pub description: String,
    /// The OpenAPI schema of the payload's `data` (the record as the API returns it).
    pub schema: String,
}

/// One delivery of an event to a subscription, with its last attempt.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    /// The delivery id.
    pub id: Uuid,
    /// The event id: the `webhook-id` header, the same on every attempt.
    pub event_id: Uuid,
    /// The event kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far (counted from 0 again on a redelivery).
    pub attempts: i32,
    /// The HTTP status the receiver last answered.
    pub last_status_code: Option<i32>,
    /// The start of the receiver's last answer (at most 1 KiB).
    pub last_response_excerpt: Option<String>,
    /// Why the last attempt got no answer (timeout, refused address, ...).
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// How long the last attempt took, in milliseconds.
    pub last_duration_ms: Option<i64>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When a 2xx answered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the delivery was created (the event fanned out).
    pub created_at: DateTime<Utc>,
}

impl DeliveryView {
    /// The record of a stored delivery.
    pub fn of(r: DeliveryRow) -> AppResult<Self> {
        let id = |v: &str| stored_id("webhook_deliveries", v);
        let pending = r.status == guild_store::webhooks::PENDING;
        Ok(DeliveryView {
            id: id(&r.id)?,
            event_id: id(&r.event_id)?,
            kind: r.event_type,
            status: r.status,
            attempts: r.attempts,
            last_status_code: r.last_status_code,
            last_response_excerpt: r.last_response_excerpt,
            last_error: r.last_error,
            last_attempt_at: r.last_attempt_at.map(|t| t.and_utc()),
            last_duration_ms: r.last_duration_ms,
            next_attempt_at: pending.then(|| r.next_attempt_at.and_utc()),
            delivered_at: r.delivered_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
        })
    }
}
