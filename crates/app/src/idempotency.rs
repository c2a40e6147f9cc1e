//! `Idempotency-Key` replay (API-5): the store side of a repeated `POST`. The
//! HTTP middleware reads the key and the body, asks [`claim`] whether the key
//! is new, and afterwards either remembers the answer ([`complete`]) or lets
//! the key go ([`release`]). Nothing here knows about HTTP headers.

use chrono::{DateTime, Duration, Utc};
use guild_store::DbConn;
use guild_store::idempotency::{self, IdempotencyRow, StoredAnswer};
use uuid::Uuid;

use crate::AppResult;

/// How long a key is remembered.
pub const TTL_HOURS: i64 = 24;

/// A request carrying a key: who sent it, the key, and what it asked.
#[derive(Debug, Clone)]
pub struct KeyedRequest {
    /// The caller's account id, or `anonymous`.
    pub scope: String,
    /// The client's `Idempotency-Key`.
    pub key: String,
    /// The HTTP method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The fingerprint of method, path and body.
    pub request_hash: String,
}

/// A stored answer, to be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The status code.
    pub status: u16,
    /// The body as sent.
    pub body: String,
    /// The `Content-Type`, `Location` and `ETag` sent with it.
    pub content_type: Option<String>,
    /// The `Location` header.
    pub location: Option<String>,
    /// The `ETag` header.
    pub etag: Option<String>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its old use expired): this request runs, and its
    /// answer is later kept under this claim id.
    Claimed(String),
    /// The key was used for a different request.
    Reused,
    /// The first request with this key is still running.
    InProgress,
    /// The first request's answer, to be replayed.
    Answered(Replay),
}

/// Claims `request`'s key at `now`. A use older than [`TTL_HOURS`] is
/// forgotten and the key claimed afresh.
pub fn claim(conn: &mut DbConn, now: DateTime<Utc>, request: KeyedRequest) -> AppResult<Claim> {
    let row = IdempotencyRow {
        id: Uuid::now_v7().to_string(),
        scope: request.scope,
        idempotency_key: request.key,
        method: request.method,
        request_hash: request.request_hash,
        path: request.path,
        status_code: None,
        response_body: None,
        content_type: None,
        created_at: now.naive_utc(),
        completed_at: None,
        location: None,
        etag: None,
    };
    let found = match idempotency::claim(conn, &row)? {
        Some(old) if old.created_at < (now - Duration::hours(TTL_HOURS)).naive_utc() => {
            idempotency::release(conn, &old.id)?;
            idempotency::claim(conn, &row)?
        }
        other => other,
    };
    Ok(match found {
        None => Claim::Claimed(row.id),
        Some(old) => earlier_use(old, &row.request_hash),
    })
}

/// What an earlier use of the key means for a request hashing to `hash`.
fn earlier_use(old: IdempotencyRow, hash: &str) -> Claim {
    if old.request_hash != hash {
        return Claim::Reused;
    }
    let (Some(status), Some(body)) = (old.status_code, old.response_body) else {
        return Claim::InProgress;
    };
    Claim::Answered(Replay {
        status: u16::try_from(status).unwrap_or(200),
        body,
        content_type: old.content_type,
        location: old.location,
        etag: old.etag,
    })
}

/// Remembers the answer of claim `id`, answered at `at`.
pub fn complete(conn: &mut DbConn, id: &str, answer: &Replay, at: DateTime<Utc>) -> AppResult<()> {
    let stored = StoredAnswer {
        status_code: i32::from(answer.status),
        body: &answer.body,
        content_type: answer.content_type.as_deref(),
        location: answer.location.as_deref(),
        etag: answer.etag.as_deref(),
    };
    Ok(idempotency::complete(conn, id, stored, at.naive_utc())?)
}

/// Lets claim `id` go, so a retry runs.
pub fn release(conn: &mut DbConn, id: &str) -> AppResult<()> {
    Ok(idempotency::release(conn, id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hash: &str, status: Option<i32>, body: Option<&str>) -> IdempotencyRow {
        IdempotencyRow {
            id: "k".into(),
            scope: "s".into(),
            idempotency_key: "key".into(),
            method: "POST".into(),
            path: "/x".into(),
            request_hash: hash.into(),
            status_code: status,
            response_body: body.map(str::to_owned),
            content_type: Some("application/json".into()),
            created_at: chrono::NaiveDateTime::default(),
            completed_at: None,
            location: None,
            etag: None,
        }
    }

    // rule API-5
    #[test]
    fn an_earlier_use_is_reused_in_progress_or_replayed() {
        assert_eq!(earlier_use(row("a", None, None), "b"), Claim::Reused);
        assert_eq!(earlier_use(row("a", None, None), "a"), Claim::InProgress);
        assert_eq!(
            earlier_use(row("a", Some(201), Some("{}")), "a"),
            Claim::Answered(Replay {
                status: 201,
                body: "{}".into(),
                content_type: Some("application/json".into()),
                location: None,
                etag: None,
            })
        );
    }
}
