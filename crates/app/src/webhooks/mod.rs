//! Webhooks (API-8): subscriptions to the event outbox, signed deliveries
//! with retries, the delivery log.
//!
//! Who may subscribe and what each subscriber receives is
//! [`guild_domain::webhook`]. A subscription is seen and managed by its owner;
//! association admins see and manage every subscription (choice where the
//! issue was silent: an admin is who helps an integrator whose receiver
//! fails). Anyone else asking for one gets 404 (ACC-2).
//!
//! The dispatcher ([`dispatch`]) runs inside `guild serve`.

pub mod dispatch;
pub mod records;
pub mod signature;

use chrono::NaiveDateTime;
use guild_domain::Role;
use guild_domain::webhook::{self as rule, ROTATION_OVERLAP};
use guild_store::DbConn;
use guild_store::webhooks::{DeliveryRow, SubscriptionRow};
use serde_json::json;
use uuid::Uuid;

pub use records::{
    CreateWebhook, DeliveryView, EventTypeView, UpdateWebhook, WebhookView, WebhookWithSecret,
};

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::events::{CATALOGUE, Event, kinds as ev};
use crate::{Page, PageRequest};

/// The kind of the test event `POST /api/v1/webhooks/{id}/ping` sends. It is
/// not in the catalogue: it is sent to the one subscription asked, whatever
/// kinds it lists.
pub const PING: &str = "webhook.ping";

/// How the dispatcher and the URL policy are configured (`GUILD_WEBHOOK_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `GUILD_WEBHOOK_ALLOW_PRIVATE=1`: plain HTTP and internal addresses
    /// are accepted (development and tests only).
    pub allow_private: bool,
    /// `GUILD_WEBHOOK_RETRY_SCHEDULE`: the delays before each retry, seconds.
    pub retry_schedule: Vec<u64>,
    /// `GUILD_WEBHOOK_RETRY_JITTER`: how far (a fraction) a delay may move.
    pub jitter: f64,
    /// `GUILD_WEBHOOK_RETENTION_DAYS`: delivered outbox rows and finished
    /// deliveries are pruned after this many days.
    pub retention_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_private: false,
            retry_schedule: rule::DEFAULT_RETRY_SCHEDULE.to_vec(),
            jitter: rule::DEFAULT_JITTER,
            retention_days: 30,
        }
    }
}

/// The payload schema of the events of resource `resource` (the first part
/// of a kind): the record the API returns for it (`refund` → `RefundView`),
/// unless its record is named otherwise. A test in `guild-api` checks each
/// name against the OpenAPI document.
pub fn schema_of(resource: &str) -> String {
    let special = match resource {
        "attendance" => Some("AttendanceRecordView"),
        "ce_activity" => Some("ActivityView"),
        "ce_credit" => Some("CreditUploadResult"),
        "ce_provider" => Some("ProviderView"),
        "ce_requirement" => Some("RequirementView"),
        "exam_registration" => Some("RegistrationView"),
        "teacher" => Some("AppointmentView"),
        _ => None,
    };
    if let Some(s) = special {
        return s.to_owned();
    }
    let mut name: String = resource
        .split('_')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("View");
    name
}

/// How a time-driven event (`app::schedule`) shapes its `data`: the record
/// under `field`, next to the `occasion` that fired it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledPayload {
    /// The field holding the record, e.g. `certificate`.
    pub field: &'static str,
    /// The record's schema, e.g. `CertificateView`.
    pub record: &'static str,
    /// The schema of the whole `data`, e.g. `CertificateOccasion`.
    pub schema: &'static str,
}

/// The shape of `data` of the scheduler's kinds; `None` for the others,
/// whose `data` is the record itself.
pub fn scheduled_payload(kind: &str) -> Option<ScheduledPayload> {
    let (field, record, schema) = match kind {
        "certificate.expiring" | "certificate.expired" | "certificate.lapsed" => {
            ("certificate", "CertificateView", "CertificateOccasion")
        }
        "archive.overdue" => ("archive", "ArchiveView", "ArchiveOccasion"),
        "ce.requirement_unmet" => ("compliance", "ComplianceView", "ComplianceOccasion"),
        _ => return None,
    };
    Some(ScheduledPayload {
        field,
        record,
        schema,
    })
}

/// The schema of the `data` of events of `kind`.
pub fn payload_schema(kind: &crate::events::EventKind) -> String {
    scheduled_payload(kind.name).map_or_else(|| schema_of(kind.resource()), |p| p.schema.to_owned())
}

/// The catalogue a subscription can choose from: every published kind.
pub fn event_types() -> Vec<EventTypeView> {
    CATALOGUE
        .iter()
        .filter(|k| k.published())
        .map(|k| EventTypeView {
            kind: k.name.to_owned(),
            description: k.description.to_owned(),
            schema: payload_schema(k),
        })
        .collect()
}

/// `*` alone, or known published kinds (each once, in the order given).
fn checked_event_types(wanted: &[String]) -> AppResult<Vec<String>> {
    if wanted.iter().any(|w| w == "*") {
        return Ok(vec!["*".to_owned()]);
    }
    let mut out: Vec<String> = Vec::new();
    for w in wanted {
        let known = crate::events::by_name(w).is_some_and(|k| k.published());
        if !known {
            return Err(AppError::Refused(guild_domain::Refusal::new(
                guild_domain::codes::WEBHOOK_EVENT_TYPE_UNKNOWN,
                Some(rule::RULE),
                format!("{w:?} is not a published event kind"),
            )));
        }
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    Ok(out)
}

fn json_list(types: &[String]) -> AppResult<String> {
    serde_json::to_string(types)
        .map_err(|e| AppError::Internal(format!("cannot serialise event types: {e}")))
}

/// The subscription `id` if the caller may see it (its owner, or an admin),
/// locked for a change when `lock`.
fn visible(ctx: &Ctx, conn: &mut DbConn, id: Uuid, lock: bool) -> AppResult<SubscriptionRow> {
    let caller = ctx.caller()?;
    let row = guild_store::webhooks::find(conn, &id.to_string(), lock)?
        .ok_or(AppError::NotFound("webhook"))?;
    if caller.role == Role::Admin || row.owner_user_id == caller.id {
        Ok(row)
    } else {
        Err(AppError::NotFound("webhook"))
    }
}

/// API-8: subscribes the caller to events. The server makes the secret and
/// shows it this once.
pub fn create(
    ctx: &Ctx,
    conn: &mut DbConn,
    settings: &Settings,
    input: CreateWebhook,
) -> AppResult<WebhookWithSecret> {
    let caller = ctx.caller()?;
    if !rule::may_subscribe(caller.role) {
        return Err(AppError::Forbidden);
    }
    let url = input.url.trim().to_owned();
    rule::check_url(&url, settings.allow_private)?;
    let types = checked_event_types(&input.event_types)?;
    let now = ctx.now.naive_utc();
    let secret = signature::new_secret();
    let row = SubscriptionRow {
        id: Uuid::now_v7().to_string(),
        owner_user_id: caller.id.clone(),
        owner_role: caller.role.as_str().to_owned(),
        organisation_id: caller.organisation_id.clone(),
        url,
        description: input.description.map(|d| d.trim().to_owned()),
        event_types: json_list(&types)?,
        enabled: input.enabled.unwrap_or(true),
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_expires_at: None,
        failing_since: None,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    guild_store::webhooks::insert(conn, &row)?;
    let view = WebhookView::of(&row, now)?;
    ctx.emit(conn, Event::change(ev::WEBHOOK_CREATED, None, &view)?)?;
    Ok(WebhookWithSecret {
        webhook: view,
        secret: signature::display(&secret),
    })
}

/// The caller's subscriptions (an admin's: every subscription), oldest first.
pub fn list(ctx: &Ctx, conn: &mut DbConn, page: PageRequest) -> AppResult<Page<WebhookView>> {
    let caller = ctx.caller()?;
    let owner = (caller.role != Role::Admin).then_some(caller.id.as_str());
    let now = ctx.now.naive_utc();
    guild_store::webhooks::list(conn, owner, page.after.as_deref(), page.limit)?
        .try_map(|r| WebhookView::of(&r, now))
}

/// One subscription.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<WebhookView> {
    let row = visible(ctx, conn, id, false)?;
    WebhookView::of(&row, ctx.now.naive_utc())
}

/// API-8: changes a subscription's URL, kinds, description or state.
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    settings: &Settings,
    id: Uuid,
    input: UpdateWebhook,
) -> AppResult<WebhookView> {
    let mut row = visible(ctx, conn, id, true)?;
    let now = ctx.now.naive_utc();
    let before = WebhookView::of(&row, now)?;
    if let Some(url) = input.url {
        let url = url.trim().to_owned();
        rule::check_url(&url, settings.allow_private)?;
        row.url = url;
    }
    if let Some(types) = input.event_types {
        row.event_types = json_list(&checked_event_types(&types)?)?;
    }
    if let Some(d) = input.description {
        row.description = Some(d.trim().to_owned()).filter(|d| !d.is_empty());
    }
    if let Some(enabled) = input.enabled {
        if enabled && !row.enabled {
            row.failing_since = None;
            row.disabled_reason = None;
        }
        row.enabled = enabled;
    }
    row.updated_at = now;
    guild_store::webhooks::update(conn, &row)?;
    let after = WebhookView::of(&row, now)?;
    ctx.emit(
        conn,
        Event::change(ev::WEBHOOK_UPDATED, Some(&before), &after)?,
    )?;
    Ok(after)
}

/// API-8: ends a subscription. Its pending deliveries are not sent.
pub fn delete(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<()> {
    let mut row = visible(ctx, conn, id, true)?;
    let now = ctx.now.naive_utc();
    let before = WebhookView::of(&row, now)?;
    row.enabled = false;
    row.deleted_at = Some(now);
    row.updated_at = now;
    guild_store::webhooks::update(conn, &row)?;
    let event = Event::new(
        ev::WEBHOOK_DELETED,
        "webhook",
        before.id,
        Some(&before),
        None::<&WebhookView>,
    )?
    .in_organisation(before.organisation_id);
    ctx.emit(conn, event)
}

/// API-8: a new secret, shown this once. The old one keeps signing too for
/// 24 hours (both signatures in `webhook-signature`), so the receiver can
/// switch without losing events; rotating again ends the old one at once.
pub fn rotate_secret(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<WebhookWithSecret> {
    let mut row = visible(ctx, conn, id, true)?;
    let now = ctx.now.naive_utc();
    let before = WebhookView::of(&row, now)?;
    let secret = signature::new_secret();
    row.previous_secret = Some(std::mem::replace(&mut row.secret, secret.clone()));
    row.previous_secret_expires_at = Some(now + ROTATION_OVERLAP);
    row.updated_at = now;
    guild_store::webhooks::update(conn, &row)?;
    let after = WebhookView::of(&row, now)?;
    ctx.emit(
        conn,
        Event::change(ev::WEBHOOK_SECRET_ROTATED, Some(&before), &after)?,
    )?;
    Ok(WebhookWithSecret {
        webhook: after,
        secret: signature::display(&secret),
    })
}

/// A subscription's delivery log, newest first.
pub fn deliveries(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    page: PageRequest,
) -> AppResult<Page<DeliveryView>> {
    let row = visible(ctx, conn, id, false)?;
    guild_store::webhooks::deliveries(conn, &row.id, page.after.as_deref(), page.limit)?
        .try_map(DeliveryView::of)
}

/// Sends a delivery again: it is queued now, its attempts counted from 0.
/// (Delivery state, not domain state: no event; see the event coverage
/// allow-list.)
pub fn redeliver(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    delivery_id: Uuid,
) -> AppResult<DeliveryView> {
    let row = visible(ctx, conn, id, true)?;
    let delivery_id = delivery_id.to_string();
    guild_store::webhooks::find_delivery(conn, &row.id, &delivery_id)?
        .ok_or(AppError::NotFound("delivery"))?;
    guild_store::webhooks::requeue(conn, &delivery_id, ctx.now.naive_utc())?;
    let again = guild_store::webhooks::find_delivery(conn, &row.id, &delivery_id)?
        .ok_or(AppError::NotFound("delivery"))?;
    DeliveryView::of(again)
}

/// Queues a `webhook.ping` test event to this subscription only.
pub fn ping(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<DeliveryView> {
    let row = visible(ctx, conn, id, false)?;
    let now = ctx.now.naive_utc();
    let event_id = Uuid::now_v7();
    let payload = dispatch::envelope(
        &event_id.to_string(),
        PING,
        now,
        json!({"webhook_id": row.id, "url": row.url}),
    );
    let delivery = new_delivery(
        &row,
        event_id.to_string(),
        PING,
        ("webhook", &row.id),
        payload,
        now,
    );
    guild_store::webhooks::insert_delivery(conn, &delivery)?;
    DeliveryView::of(delivery)
}

/// A pending delivery of `event_id` to `sub`, due at `now`.
fn new_delivery(
    sub: &SubscriptionRow,
    event_id: String,
    kind: &str,
    (entity_type, entity_id): (&str, &str),
    payload: String,
    now: NaiveDateTime,
) -> DeliveryRow {
    DeliveryRow {
        id: Uuid::now_v7().to_string(),
        subscription_id: sub.id.clone(),
        event_id,
        event_type: kind.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id: entity_id.to_owned(),
        payload,
        status: guild_store::webhooks::PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        lease_token: None,
        last_status_code: None,
        last_response_excerpt: None,
        last_error: None,
        last_attempt_at: None,
        last_duration_ms: None,
        delivered_at: None,
        created_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_star_or_published_kinds() {
        // rule API-8: the catalogue is what one subscribes to
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            checked_event_types(&s(&["refund.paid", "*"])).unwrap(),
            s(&["*"])
        );
        assert_eq!(
            checked_event_types(&s(&["refund.paid", "refund.paid", "class.created"])).unwrap(),
            s(&["refund.paid", "class.created"])
        );
        for bad in ["auth.logged_in", "refund.nonsense", "webhook.ping"] {
            assert!(checked_event_types(&s(&[bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_catalogue_of_event_types_has_no_security_events() {
        // rule API-8: auth.* is never published
        let types = event_types();
        assert!(types.iter().all(|t| !t.kind.starts_with("auth.")));
        assert!(types.iter().any(|t| t.kind == "webhook.created"));
        assert_eq!(schema_of("refund"), "RefundView");
        assert_eq!(schema_of("certificate_request"), "CertificateRequestView");
    }
}
