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
    match diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
    {
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
    status_code: i32,
    body: &str,
    content_type: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find(id))
        .set((
            idempotency_keys::status_code.eq(Some(status_code)),
            idempotency_keys::response_body.eq(Some(body)),
            idempotency_keys::content_type.eq(content_type),
            idempotency_keys::completed_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Releases a claimed key whose request failed on the server, so a retry can run.
pub fn release(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find(id)).execute(conn)?;
    Ok(())
}
