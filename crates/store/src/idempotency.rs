//! Stored answers for `Idempotency-Key` (API-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::idempotency_keys;
use crate::{DbConn, StoreError};

/// A key and, once the request finished, the answer to replay.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub id: String,
    /// Who used the key: the account id, or `anonymous`.
    pub scope: String,
    pub idempotency_key: String,
    pub method: String,
    pub path: String,
    /// SHA-256 of method, path and body: the same key with another request is refused.
    pub request_hash: String,
    pub status_code: Option<i32>,
    pub response_body: Option<String>,
    pub content_type: Option<String>,
    pub created_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    /// The answer's `Location` header, replayed with it.
    pub location: Option<String>,
    /// The answer's `ETag` header, replayed with it.
    pub etag: Option<String>,
}

/// The answer stored for a claimed key.
#[derive(Debug, Clone, Copy)]
pub struct StoredAnswer<'a> {
    pub status_code: i32,
    pub body: &'a str,
    pub content_type: Option<&'a str>,
    pub location: Option<&'a str>,
    pub etag: Option<&'a str>,
}

/// Claims a key. Returns `None` when this call claimed it, or the existing row.
pub fn claim(
    conn: &mut DbConn,
    row: &IdempotencyRow,
) -> Result<Option<IdempotencyRow>, StoreError> {
    let existing = idempotency_keys::table
        .filter(idempotency_keys::scope.eq(&row.scope))
        .filter(idempotency_keys::idempotency_key.eq(&row.idempotency_key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    if existing.is_some() {
        return Ok(existing);
    }
    // In a savepoint: on PostgreSQL a failed insert aborts the whole transaction,
    // and the read of the winner's row below must still run.
    let inserted = conn.transaction::<_, diesel::result::Error, _>(|c| {
        diesel::insert_into(idempotency_keys::table)
            .values(row)
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(None),
        // Lost a race with a concurrent request using the same key: report theirs.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(idempotency_keys::table
            .filter(idempotency_keys::scope.eq(&row.scope))
            .filter(idempotency_keys::idempotency_key.eq(&row.idempotency_key))
            .select(IdempotencyRow::as_select())
            .first(conn)
            .optional()?),
        Err(e) => Err(e.into()),
    }
}

/// Stores the answer for a claimed key.
pub fn complete(
    conn: &mut DbConn,
    id: &str,
    answer: StoredAnswer<'_>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find(id))
        .set((
            idempotency_keys::status_code.eq(Some(answer.status_code)),
            idempotency_keys::response_body.eq(Some(answer.body)),
            idempotency_keys::content_type.eq(answer.content_type),
            idempotency_keys::location.eq(answer.location),
            idempotency_keys::etag.eq(answer.etag),
            idempotency_keys::completed_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Releases a claimed key whose answer a retry could change, so the retry runs.
pub fn release(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find(id)).execute(conn)?;
    Ok(())
}
