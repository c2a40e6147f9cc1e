//! The webhook dispatcher's database work (API-8): fan-out, claims, results,
//! auto-disable and retention. The HTTP sending is the API's worker
//! (`guild_api::workers::webhooks`); every function here runs inside one
//! write transaction the worker opens.
//!
//! - [`fan_out`] turns pending outbox rows into one delivery per matching
//!   enabled subscription (kind wanted, [`guild_domain::webhook::receives`]),
//!   with the body fixed then: ID numbers masked unless the owner's role
//!   sees them in full (PPL-3). Instances fan out one at a time (an advisory
//!   lock on PostgreSQL), so each entity's deliveries keep the event order.
//!   While no subscription is enabled, nothing is fanned out (the rows stay
//!   pending), and a subscription only receives the events made after it.
//! - [`claim`] leases due deliveries to one worker ([`guild_store::webhooks::claim_due`]).
//! - [`finish`] records an attempt: delivered on a 2xx, else the next attempt
//!   on the retry schedule (injected clock), or failed when it is used up.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use guild_domain::Role;
use guild_domain::person::mask_id_number;
use guild_domain::webhook::{self as rule, EventFacts, Subscriber};
use guild_store::DbConn;
use guild_store::outbox::OutboxRow;
use guild_store::webhooks::{AttemptRecord, DELIVERED, FAILED, PENDING, SubscriptionRow};
use serde_json::{Value, json};
use uuid::Uuid;

use super::records::{WebhookView, event_types_of};
use super::{Settings, new_delivery};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::events::{Event, Notice, Recipients, kinds as ev};
use crate::ids::fact;

/// The most outbox rows one fan-out takes.
pub const FAN_OUT_BATCH: i64 = 200;

/// The body of a delivery: `{"id", "type", "timestamp", "data"}`.
pub fn envelope(id: &str, kind: &str, at: NaiveDateTime, data: Value) -> String {
    json!({
        "id": id,
        "type": kind,
        "timestamp": at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string()
}

/// PPL-3: `value` with every `id_number` field (any depth) masked.
pub fn mask_id_numbers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if k == "id_number" => *s = mask_id_number(s),
                    _ => mask_id_numbers(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_id_numbers),
        _ => {}
    }
}

/// A subscription as the fan-out needs it.
struct Audience {
    row: SubscriptionRow,
    subscriber: Subscriber,
    wanted: Vec<String>,
}

/// Fans out up to [`FAN_OUT_BATCH`] pending outbox rows; answers how many.
pub fn fan_out(conn: &mut DbConn, now: NaiveDateTime) -> AppResult<usize> {
    let subscriptions = guild_store::webhooks::enabled(conn)?;
    if subscriptions.is_empty() {
        return Ok(0);
    }
    guild_store::webhooks::lock_fanout(conn)?;
    let rows = guild_store::webhooks::pending_outbox(conn, FAN_OUT_BATCH)?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Read again under the lock: a subscription changed meanwhile counts.
    let audience = guild_store::webhooks::enabled(conn)?
        .into_iter()
        .map(|row| {
            let role: Role = row.owner_role.parse().map_err(|_| {
                AppError::Internal(format!("corrupt owner role of webhook {}", row.id))
            })?;
            Ok(Audience {
                subscriber: Subscriber {
                    role,
                    organisation: fact(row.organisation_id.as_deref()),
                },
                wanted: event_types_of(&row)?,
                row,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    for event in &rows {
        fan_out_one(conn, event, &audience, now)?;
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    guild_store::webhooks::mark_dispatched(conn, &ids, now)?;
    Ok(rows.len())
}

fn fan_out_one(
    conn: &mut DbConn,
    event: &OutboxRow,
    audience: &[Audience],
    now: NaiveDateTime,
) -> AppResult<()> {
    let facts = EventFacts {
        kind: &event.kind,
        entity_type: &event.entity_type,
        organisation: fact(event.organisation_id.as_deref()),
    };
    let data: Value = serde_json::from_str(&event.payload)
        .map_err(|e| AppError::Internal(format!("corrupt outbox payload {}: {e}", event.id)))?;
    let mut masked = data.clone();
    mask_id_numbers(&mut masked);
    for a in audience {
        let wanted = rule::wants(&a.wanted, &event.kind) && rule::receives(&a.subscriber, &facts);
        // A subscription receives the events from its creation on: both ids
        // are UUIDv7, ordered by the real time they were made (the injected
        // clock may stand still).
        if !wanted || event.id < a.row.id {
            continue;
        }
        let body = if a.subscriber.role.sees_full_id_numbers() {
            data.clone()
        } else {
            masked.clone()
        };
        let payload = envelope(&event.id, &event.kind, event.created_at, body);
        let delivery = new_delivery(
            &a.row,
            event.id.clone(),
            &event.kind,
            (&event.entity_type, &event.entity_id),
            payload,
            now,
        );
        guild_store::webhooks::insert_delivery(conn, &delivery)?;
    }
    Ok(())
}

/// One claimed delivery, ready to sign and send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The delivery id.
    pub delivery_id: String,
    /// The subscription it goes to.
    pub subscription_id: String,
    /// The claim's lease token: the result is stored only while it holds.
    pub token: String,
    /// The subscription's URL.
    pub url: String,
    /// The `webhook-id`: the event id.
    pub event_id: String,
    /// The JSON body.
    pub body: String,
    /// The keys that sign: the current one, and the previous one during a rotation.
    pub secrets: Vec<String>,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// Leases up to `limit` due deliveries until `now + lease`. Deliveries of a
/// subscription deleted or disabled meanwhile are marked failed instead.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease: TimeDelta,
    limit: i64,
) -> AppResult<Vec<Outgoing>> {
    let token = Uuid::new_v4().to_string();
    let rows = guild_store::webhooks::claim_due(conn, now, now + lease, &token, limit)?;
    let mut out = Vec::new();
    for d in rows {
        let sub = guild_store::webhooks::find(conn, &d.subscription_id, false)?;
        match sub.filter(|s| s.enabled) {
            Some(s) => {
                let mut secrets = vec![s.secret.clone()];
                if let (Some(prev), Some(until)) =
                    (&s.previous_secret, s.previous_secret_expires_at)
                    && until > now
                {
                    secrets.push(prev.clone());
                }
                out.push(Outgoing {
                    delivery_id: d.id,
                    subscription_id: d.subscription_id,
                    token: token.clone(),
                    url: s.url,
                    event_id: d.event_id,
                    body: d.payload,
                    secrets,
                    attempts: d.attempts,
                });
            }
            None => {
                let record = AttemptRecord {
                    status: FAILED,
                    attempts: d.attempts,
                    next_attempt_at: d.next_attempt_at,
                    last_status_code: d.last_status_code,
                    last_response_excerpt: d.last_response_excerpt,
                    last_error: Some("the subscription is disabled or deleted".to_owned()),
                    last_attempt_at: d.last_attempt_at.unwrap_or(now),
                    last_duration_ms: d.last_duration_ms.unwrap_or(0),
                    delivered_at: None,
                };
                guild_store::webhooks::record_attempt(conn, &d.id, &token, &record)?;
            }
        }
    }
    Ok(out)
}

/// What one attempt got.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// The start of its answer (at most 1 KiB).
    pub excerpt: Option<String>,
    /// Why there was no answer.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

impl Attempt {
    /// API-8: success is any 2xx (within the send timeout).
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Records the attempt on `out` made at `now` (the injected clock): delivered,
/// due again after the schedule's delay (`random` in `[0, 1)` for the
/// jitter), or failed. A subscription failing for [`rule::DISABLE_AFTER`] is
/// disabled and its owner notified.
pub fn finish(
    ctx: &Ctx,
    conn: &mut DbConn,
    settings: &Settings,
    out: &Outgoing,
    attempt: &Attempt,
    random: f64,
) -> AppResult<()> {
    let now = ctx.now.naive_utc();
    let attempts = out.attempts.saturating_add(1);
    let ok = attempt.succeeded();
    let delay = u32::try_from(attempts)
        .ok()
        .and_then(|n| rule::retry_delay(&settings.retry_schedule, n, settings.jitter, random))
        .and_then(|d| TimeDelta::from_std(d).ok());
    let (status, next) = match (ok, delay) {
        (true, _) => (DELIVERED, now),
        (false, Some(d)) => (PENDING, now + d),
        (false, None) => (FAILED, now),
    };
    let record = AttemptRecord {
        status,
        attempts,
        next_attempt_at: next,
        last_status_code: attempt.status_code.map(i32::from),
        last_response_excerpt: attempt.excerpt.clone(),
        last_error: attempt.error.clone(),
        last_attempt_at: now,
        last_duration_ms: attempt.duration_ms,
        delivered_at: ok.then_some(now),
    };
    if !guild_store::webhooks::record_attempt(conn, &out.delivery_id, &out.token, &record)? {
        // The lease ran out and another worker took the delivery over.
        return Ok(());
    }
    let Some(sub) = guild_store::webhooks::find(conn, &out.subscription_id, true)? else {
        return Ok(());
    };
    health(ctx, conn, sub, ok)
}

/// API-8: tracks since when a subscription fails; after
/// [`rule::DISABLE_AFTER`] of failures only, disables it and tells its owner.
fn health(ctx: &Ctx, conn: &mut DbConn, mut sub: SubscriptionRow, ok: bool) -> AppResult<()> {
    let now = ctx.now.naive_utc();
    match (ok, sub.failing_since) {
        (true, None) => Ok(()),
        (true, Some(_)) => {
            sub.failing_since = None;
            guild_store::webhooks::update(conn, &sub)?;
            Ok(())
        }
        (false, None) => {
            sub.failing_since = Some(now);
            guild_store::webhooks::update(conn, &sub)?;
            Ok(())
        }
        (false, Some(since)) if now - since >= rule::DISABLE_AFTER && sub.enabled => {
            let before = WebhookView::of(&sub, now)?;
            sub.enabled = false;
            sub.disabled_reason =
                Some("every delivery failed for 5 days; enable it again once fixed".to_owned());
            sub.updated_at = now;
            guild_store::webhooks::update(conn, &sub)?;
            let after = WebhookView::of(&sub, now)?;
            let notice = Notice::new(
                Recipients::Users(vec![sub.owner_user_id.clone()]),
                "webhook_disabled",
                rule::disabled_notice(&sub.url),
            );
            ctx.emit(
                conn,
                Event::change(ev::WEBHOOK_DISABLED, Some(&before), &after)?.notify(notice),
            )
        }
        (false, Some(_)) => Ok(()),
    }
}

/// Deletes fanned-out outbox rows and finished deliveries older than the
/// retention; answers how many rows went.
pub fn prune(conn: &mut DbConn, now: DateTime<Utc>, settings: &Settings) -> AppResult<usize> {
    let before = now.naive_utc() - TimeDelta::days(i64::from(settings.retention_days));
    Ok(guild_store::webhooks::prune(conn, before)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_masked_at_any_depth() {
        // rule PPL-3: subscribers who do not see full ID numbers get them masked
        let id = "110101199003070038";
        let mut v = json!({"id_number": id, "person": {"id_number": id, "name": "A"}, "list": [{"id_number": id}]});
        mask_id_numbers(&mut v);
        let masked = mask_id_number(id);
        assert_ne!(masked, id);
        assert_eq!(v["id_number"], json!(masked));
        assert_eq!(v["person"]["id_number"], json!(masked));
        assert_eq!(v["person"]["name"], json!("A"));
        assert_eq!(v["list"][0]["id_number"], json!(masked));
    }

    #[test]
    fn only_a_2xx_succeeds_and_excerpts_stop_at_a_character() {
        // rule API-8
        let a = |s| Attempt {
            status_code: Some(s),
            ..Attempt::default()
        };
        assert!(a(200).succeeded() && a(204).succeeded());
        assert!(!a(301).succeeded() && !a(500).succeeded());
        assert!(!Attempt::default().succeeded());
        assert_eq!(excerpt("héllo", 2), "h");
        assert_eq!(excerpt("abc", 1024), "abc");
    }

    #[test]
    fn the_envelope_carries_id_type_timestamp_and_data() {
        // rule API-8: the payload shape
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap();
        let v: Value =
            serde_json::from_str(&envelope("e1", "refund.paid", at, json!({"a": 1}))).unwrap();
        assert_eq!(v["id"], "e1");
        assert_eq!(v["type"], "refund.paid");
        assert_eq!(v["timestamp"], "2026-03-02T01:00:00.000000Z");
        assert_eq!(v["data"]["a"], 1);
    }
}
