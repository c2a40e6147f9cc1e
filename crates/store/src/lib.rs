//! Guild persistence: the portable Diesel schema, one module per aggregate,
//! r2d2 pools and embedded migrations for SQLite and PostgreSQL.

pub mod account_changes;
pub mod audit;
mod db;
pub mod idempotency;
pub mod organisations;
pub mod people;
pub mod schema;
pub mod sessions;
pub mod users;

pub use db::{Backend, DbConn, Store};

/// A failure of the database layer. Callers map it to an HTTP answer with context.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, configured or migrated.
    #[error("{0}")]
    Setup(String),
    /// No connection could be checked out of the pool.
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// A row held a value the code does not understand (e.g. an unknown enum value).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table the row came from.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl StoreError {
    /// Whether the failure is a unique-constraint violation (a duplicate on create).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// One page of a keyset-paginated list (API-3).
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page, in a stable order.
    pub items: Vec<T>,
    /// The sort key of the last row when more rows follow.
    pub next_after: Option<String>,
}

/// Cuts `rows` (fetched with `limit + 1`) into a page.
pub(crate) fn page_of<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_after = if more { rows.last().map(key) } else { None };
    Page {
        items: rows,
        next_after,
    }
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\\` escaped.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Diesel's query error, for callers that run transactions through [`Store::write`].
pub use diesel::result::Error as QueryError;
