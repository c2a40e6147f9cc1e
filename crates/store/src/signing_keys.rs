//! The association's certificate signing keys (CRT-3): one `active` key signs,
//! `retired` keys stay published so earlier signatures keep verifying.
//!
//! The private key (the 32-byte Ed25519 seed) is kept in this table, next to
//! the data it vouches for: every instance of the service signs with the same
//! key, and a rotation is one transaction. The database (and its backups) is
//! therefore as sensitive as the key itself. The row's `Debug` output leaves
//! the private key out, so it cannot reach a log by accident.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::signing_keys;
use crate::{DbConn, Page, StoreError, page_of};

/// The stored status of the key that signs.
pub const ACTIVE: &str = "active";
/// The stored status of a key that no longer signs but still verifies.
pub const RETIRED: &str = "retired";

/// One `signing_keys` row.
#[derive(Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    /// The key id (`kid`), a UUIDv7.
    pub id: String,
    /// The JOSE algorithm, `EdDSA`.
    pub algorithm: String,
    /// The public key, base64url without padding (32 bytes).
    pub public_key: String,
    /// The private key seed, base64url without padding (32 bytes). Never shown.
    pub private_key: String,
    /// `active` or `retired`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .field("public_key", &self.public_key)
            .field("private_key", &"<redacted>")
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// Inserts `row` unless another key is already `active` (the partial unique
/// index `signing_keys_one_active` decides, so two instances racing to create
/// the first key, or two rotations, cannot both succeed). Returns whether the
/// row was inserted. `ON CONFLICT DO NOTHING` keeps the caller's transaction
/// usable on PostgreSQL, so the caller can read the winner's key instead.
pub fn insert_unless_active_exists(
    conn: &mut DbConn,
    row: &SigningKeyRow,
) -> Result<bool, StoreError> {
    let insert = diesel::insert_into(signing_keys::table).values(row);
    let n = match conn {
        DbConn::Postgres(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(n == 1)
}

/// The key that signs now, if any.
pub fn active(conn: &mut DbConn) -> Result<Option<SigningKeyRow>, StoreError> {
    Ok(signing_keys::table
        .filter(signing_keys::status.eq(ACTIVE))
        .select(SigningKeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every key, active and retired, oldest first (ids are UUIDv7): the JWKS.
pub fn all(conn: &mut DbConn) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_keys::table
        .order(signing_keys::id.asc())
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// One page of keys in id (creation) order after `after` (API-3).
pub fn list(
    conn: &mut DbConn,
    status: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<SigningKeyRow>, StoreError> {
    let mut query = signing_keys::table
        .select(SigningKeyRow::as_select())
        .into_boxed();
    if let Some(s) = status {
        query = query.filter(signing_keys::status.eq(s.to_owned()));
    }
    if let Some(a) = after {
        query = query.filter(signing_keys::id.gt(a.to_owned()));
    }
    let rows = query
        .order(signing_keys::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Retires the key `id` if it is still active; returns whether it was. On
/// PostgreSQL the update takes the row lock, so of two concurrent rotations
/// only the first retires it and the second sees `false`.
pub fn retire(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        signing_keys::table
            .filter(signing_keys::id.eq(id))
            .filter(signing_keys::status.eq(ACTIVE)),
    )
    .set((
        signing_keys::status.eq(RETIRED),
        signing_keys::retired_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Store;

    fn key(id: &str) -> SigningKeyRow {
        SigningKeyRow {
            id: id.to_owned(),
            algorithm: "EdDSA".to_owned(),
            public_key: format!("public-{id}"),
            private_key: format!("private-{id}"),
            status: ACTIVE.to_owned(),
            created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
            retired_at: None,
        }
    }

    #[test]
    fn one_key_is_active_and_retired_keys_stay_listed() {
        // rule CRT-3: the unique index admits one active key; a racing second insert is a no-op
        let dir = std::env::temp_dir().join(format!("guild-keys-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&format!("sqlite://{}/k.db", dir.display()), 1).unwrap();
        store
            .write(|c| {
                assert!(insert_unless_active_exists(c, &key("a"))?);
                assert!(!insert_unless_active_exists(c, &key("b"))?);
                assert_eq!(active(c)?.unwrap().id, "a");
                let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
                assert!(retire(c, "a", at)?);
                assert!(!retire(c, "a", at)?, "a retired key is not retired twice");
                assert!(insert_unless_active_exists(c, &key("b"))?);
                let ids: Vec<String> = all(c)?.into_iter().map(|k| k.id).collect();
                assert_eq!(ids, ["a", "b"]);
                let retired = list(c, Some(RETIRED), None, 10)?;
                assert_eq!(retired.items.len(), 1);
                assert_eq!(retired.items[0].retired_at, Some(at));
                let first = list(c, None, None, 1)?;
                assert_eq!(first.next_after.as_deref(), Some("a"));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert!(!format!("{:?}", key("a")).contains("private-a"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
