//! Webhook subscriptions and deliveries (API-8).
//!
//! The dispatcher fans pending outbox rows out to deliveries ([`pending_outbox`],
//! [`insert_delivery`], [`mark_dispatched`]) and workers claim due deliveries
//! ([`claim_due`]): on PostgreSQL with `FOR UPDATE SKIP LOCKED` and a lease,
//! on SQLite inside the single writer's transaction.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::outbox::{OutboxRow, PENDING as OUTBOX_PENDING};
use crate::schema::{outbox, webhook_deliveries, webhook_subscriptions};
use crate::{DbConn, Page, StoreError, page_of};

/// A delivery not yet delivered nor given up.
pub const PENDING: &str = "pending";
/// A delivery a 2xx answered.
pub const DELIVERED: &str = "delivered";
/// A delivery whose every attempt failed.
pub const FAILED: &str = "failed";
/// The outbox state of a row fanned out.
pub const DISPATCHED: &str = "dispatched";

/// The PostgreSQL advisory lock (transaction-scoped) of the fan-out, so two
/// instances fan out one after the other and keep each entity's event order.
/// ASCII `guild_wh`.
const FANOUT_LOCK: i64 = 0x6775_696c_645f_7768;

/// One `webhook_subscriptions` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_null = true)]
pub struct SubscriptionRow {
    pub id: String,
    pub owner_user_id: String,
    pub owner_role: String,
    pub organisation_id: Option<String>,
    pub url: String,
    pub description: Option<String>,
    /// A JSON array of kinds, `["*"]` for all.
    pub event_types: String,
    pub enabled: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// One `webhook_deliveries` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_token: Option<String>,
    pub last_status_code: Option<i32>,
    pub last_response_excerpt: Option<String>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_duration_ms: Option<i64>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The outcome of one attempt, as [`record_attempt`] stores it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status_code: Option<i32>,
    pub last_response_excerpt: Option<String>,
    pub last_error: Option<String>,
    pub last_attempt_at: NaiveDateTime,
    pub last_duration_ms: i64,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Inserts a subscription.
pub fn insert(conn: &mut DbConn, row: &SubscriptionRow) -> Result<(), StoreError> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Writes every column of `row` (found by its id).
pub fn update(conn: &mut DbConn, row: &SubscriptionRow) -> Result<(), StoreError> {
    diesel::update(webhook_subscriptions::table.find(row.id.clone()))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// A subscription that is not deleted, locked for a change on PostgreSQL
/// when `lock` is set.
pub fn find(
    conn: &mut DbConn,
    id: &str,
    lock: bool,
) -> Result<Option<SubscriptionRow>, StoreError> {
    let query = webhook_subscriptions::table
        .find(id.to_owned())
        .filter(webhook_subscriptions::deleted_at.is_null());
    if lock && let DbConn::Postgres(c) = conn {
        return Ok(query
            .for_update()
            .select(SubscriptionRow::as_select())
            .first(c)
            .optional()?);
    }
    Ok(query
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Lists subscriptions (not deleted) in id order after `after`, only those
/// of `owner` when given.
pub fn list(
    conn: &mut DbConn,
    owner: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<SubscriptionRow>, StoreError> {
    let mut query = webhook_subscriptions::table
        .filter(webhook_subscriptions::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .into_boxed();
    if let Some(o) = owner {
        query = query.filter(webhook_subscriptions::owner_user_id.eq(o.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(webhook_subscriptions::id.gt(after.to_owned()));
    }
    let rows = query
        .order(webhook_subscriptions::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Every enabled subscription (the fan-out's audience).
pub fn enabled(conn: &mut DbConn) -> Result<Vec<SubscriptionRow>, StoreError> {
    Ok(webhook_subscriptions::table
        .filter(webhook_subscriptions::deleted_at.is_null())
        .filter(webhook_subscriptions::enabled.eq(true))
        .order(webhook_subscriptions::id.asc())
        .select(SubscriptionRow::as_select())
        .load(conn)?)
}

/// Serialises fan-outs across instances for the rest of the transaction:
/// PostgreSQL takes a transaction-scoped advisory lock; SQLite's writer is
/// already alone.
pub fn lock_fanout(conn: &mut DbConn) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        c.batch_execute(&format!("SELECT pg_advisory_xact_lock({FANOUT_LOCK})"))?;
    }
    Ok(())
}

/// Up to `limit` outbox rows not yet fanned out, oldest first.
pub fn pending_outbox(conn: &mut DbConn, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::delivery_state.eq(OUTBOX_PENDING))
        .order(outbox::id.asc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Marks outbox rows as fanned out.
pub fn mark_dispatched(
    conn: &mut DbConn,
    ids: &[String],
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids.to_vec())))
        .set((
            outbox::delivery_state.eq(DISPATCHED),
            outbox::dispatched_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inserts a delivery.
pub fn insert_delivery(conn: &mut DbConn, row: &DeliveryRow) -> Result<(), StoreError> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A delivery of a subscription.
pub fn find_delivery(
    conn: &mut DbConn,
    subscription_id: &str,
    id: &str,
) -> Result<Option<DeliveryRow>, StoreError> {
    Ok(webhook_deliveries::table
        .find(id.to_owned())
        .filter(webhook_deliveries::subscription_id.eq(subscription_id.to_owned()))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

/// A subscription's deliveries, newest first, before `before` (a delivery id).
pub fn deliveries(
    conn: &mut DbConn,
    subscription_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Page<DeliveryRow>, StoreError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription_id.to_owned()))
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(b) = before {
        query = query.filter(webhook_deliveries::id.lt(b.to_owned()));
    }
    let rows = query
        .order(webhook_deliveries::id.desc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// The due deliveries, oldest event first: pending, due, not leased, and with
/// no earlier pending delivery about the same entity to the same subscription.
/// `$1` is now, `$2` the limit (`?1`, `?2` on SQLite).
const CLAIM_DUE: &str = "SELECT d.id FROM webhook_deliveries d \
     WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
     AND (d.lease_until IS NULL OR d.lease_until < $1) \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
         WHERE e.subscription_id = d.subscription_id AND e.entity_type = d.entity_type \
         AND e.entity_id = d.entity_id AND e.status = 'pending' AND e.event_id < d.event_id) \
     ORDER BY d.event_id LIMIT $2";

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Claims up to `limit` due deliveries for `lease_until`, under `token`:
/// pending, due at `now`, not leased to another worker, and with no earlier
/// pending delivery about the same entity to the same subscription (order per
/// entity). PostgreSQL skips rows another instance is claiming (`FOR UPDATE
/// SKIP LOCKED`); SQLite's single writer claims alone. Must run inside
/// [`crate::Store::write`].
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    token: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let ids: Vec<String> = match conn {
        DbConn::Postgres(c) => {
            diesel::sql_query(format!("{CLAIM_DUE} FOR UPDATE OF d SKIP LOCKED"))
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load::<IdRow>(c)?
        }
        DbConn::Sqlite(c) => diesel::sql_query(CLAIM_DUE.replace('$', "?"))
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<IdRow>(c)?,
    }
    .into_iter()
    .map(|r| r.id)
    .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids.clone())))
        .set((
            webhook_deliveries::lease_until.eq(Some(lease_until)),
            webhook_deliveries::lease_token.eq(Some(token.to_owned())),
        ))
        .execute(conn)?;
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::id.eq_any(ids))
        .order(webhook_deliveries::event_id.asc())
        .select(DeliveryRow::as_select())
        .load(conn)?)
}

/// Stores the outcome of an attempt on a delivery still leased under
/// `token`, releasing the lease. Answers whether the lease was still held.
pub fn record_attempt(
    conn: &mut DbConn,
    id: &str,
    token: &str,
    outcome: &AttemptRecord,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        webhook_deliveries::table
            .find(id.to_owned())
            .filter(webhook_deliveries::lease_token.eq(token.to_owned())),
    )
    .set((
        webhook_deliveries::status.eq(outcome.status),
        webhook_deliveries::attempts.eq(outcome.attempts),
        webhook_deliveries::next_attempt_at.eq(outcome.next_attempt_at),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::lease_token.eq(None::<String>),
        webhook_deliveries::last_status_code.eq(outcome.last_status_code),
        webhook_deliveries::last_response_excerpt.eq(outcome.last_response_excerpt.clone()),
        webhook_deliveries::last_error.eq(outcome.last_error.clone()),
        webhook_deliveries::last_attempt_at.eq(Some(outcome.last_attempt_at)),
        webhook_deliveries::last_duration_ms.eq(Some(outcome.last_duration_ms)),
        webhook_deliveries::delivered_at.eq(outcome.delivered_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Puts a delivery back in the queue, due at `at`, with its attempts counted
/// from zero again (redelivery).
pub fn requeue(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(webhook_deliveries::table.find(id.to_owned()))
        .set((
            webhook_deliveries::status.eq(PENDING),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(at),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::lease_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether the subscription has had a successful delivery since `since`.
pub fn delivered_since(
    conn: &mut DbConn,
    subscription_id: &str,
    since: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription_id.to_owned()))
        .filter(webhook_deliveries::delivered_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Deletes fanned-out outbox rows and finished deliveries created before
/// `before`; answers how many rows went.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, StoreError> {
    let deliveries = diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne(PENDING))
            .filter(webhook_deliveries::created_at.lt(before)),
    )
    .execute(conn)?;
    let events = diesel::delete(
        outbox::table
            .filter(outbox::delivery_state.eq(DISPATCHED))
            .filter(outbox::created_at.lt(before)),
    )
    .execute(conn)?;
    Ok(deliveries + events)
}

/// Counts a subscription's deliveries by status (tests and the delivery log).
pub fn count_deliveries(
    conn: &mut DbConn,
    subscription_id: &str,
    status: &str,
) -> Result<i64, StoreError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription_id.to_owned()))
        .filter(webhook_deliveries::status.eq(status.to_owned()))
        .count()
        .get_result(conn)?)
}
