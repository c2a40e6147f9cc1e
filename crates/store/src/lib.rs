//! Guild persistence: the portable Diesel schema, one module per aggregate,
//! r2d2 pools and embedded migrations for SQLite and PostgreSQL.

pub mod account_changes;
pub mod archives;
pub mod attendance;
pub mod audit;
pub mod bans;
pub mod calendar;
pub mod ce_activities;
pub mod ce_credits;
pub mod ce_providers;
pub mod ce_requirements;
pub mod certificate_ce;
pub mod certificate_requests;
pub mod certificates;
pub mod classes;
mod db;
pub mod deferrals;
pub mod enrolments;
pub mod exams;
pub mod forgery_reports;
pub mod idempotency;
pub mod ledger;
pub mod locks;
pub mod notices;
pub mod notifications;
pub mod organisations;
pub mod outbox;
pub mod people;
pub mod plans;
pub mod programs;
pub mod refunds;
pub mod sanctions;
pub mod scheduler;
pub mod schema;
pub mod sessions;
pub mod signing_keys;
pub mod substitutions;
pub mod teachers;
pub mod users;
pub mod verification;
pub mod webhooks;

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
    /// The row changed since it was read (optimistic concurrency, API-5).
    #[error("{table} row was changed by someone else")]
    Stale {
        /// The table of the row.
        table: &'static str,
    },
    /// The database cannot serve the request now (busy, read-only, gone).
    #[error("database unavailable: {0}")]
    Unavailable(String),
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

impl StoreError {
    /// Whether the failure is the database's state rather than the request's or
    /// the code's: no connection, a connection lost mid-request, a server that is
    /// shutting down, read-only or out of disk, a locked SQLite file. Such a
    /// request may succeed when retried later (HTTP 503), unlike a bug (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) | StoreError::Unavailable(_) => true,
            StoreError::Query(e) => query_is_unavailable(e),
            _ => false,
        }
    }
}

fn query_is_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match e {
        // A transaction whose connection broke cannot even be rolled back.
        Error::BrokenTransactionManager => true,
        Error::RollbackErrorOnCommit { commit_error, .. } => query_is_unavailable(commit_error),
        Error::DatabaseError(kind, info) => match kind {
            Kind::ClosedConnection | Kind::ReadOnlyTransaction => true,
            Kind::UniqueViolation
            | Kind::ForeignKeyViolation
            | Kind::NotNullViolation
            | Kind::CheckViolation
            | Kind::RestrictViolation
            | Kind::ExclusionViolation
            | Kind::SerializationFailure => false,
            _ => is_unavailable_message(info.message()),
        },
        _ => false,
    }
}

/// The messages libpq, PostgreSQL and SQLite give when the database, not the
/// query, is the problem (diesel reports most of them as an unknown kind).
fn is_unavailable_message(message: &str) -> bool {
    const MARKERS: &[&str] = &[
        // libpq: the connection broke or was never there.
        "server closed the connection",
        "connection has been closed",
        "no connection to the server",
        "could not send data to server",
        "could not receive data from server",
        "connection not open",
        "connection to server",
        "terminating connection",
        // PostgreSQL: shutting down, starting, in recovery, read-only, out of disk.
        "the database system is",
        "read-only transaction",
        "no space left on device",
        "could not extend file",
        "could not write to file",
        // SQLite: locked by another process, read-only files, full disk, I/O.
        "database is locked",
        "database table is locked",
        "readonly database",
        "database or disk is full",
        "disk i/o error",
        "unable to open database file",
    ];
    let message = message.to_ascii_lowercase();
    MARKERS.iter().any(|m| message.contains(m))
}

/// One page of a keyset-paginated list (API-3).
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page, in a stable order.
    pub items: Vec<T>,
    /// The sort key of the last row when more rows follow.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// A page without rows (a scope that admits nothing).
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_after: None,
        }
    }

    /// The page with each row mapped by the fallible `f`.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_after: self.next_after,
        })
    }
}

/// Cuts `rows` (fetched with `limit + 1`) into a page.
pub fn page_of<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_after = if more { rows.last().map(key) } else { None };
    Page {
        items: rows,
        next_after,
    }
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on SQLite and PostgreSQL.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A case-insensitive `LIKE` pattern (compare against `lower(column)`) matching
/// `needle` anywhere, with `%`, `_` and `\\` escaped. The same on both backends.
pub(crate) fn like_pattern(needle: &str) -> String {
    let needle = needle.to_lowercase();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn db_error(kind: diesel::result::DatabaseErrorKind, message: &str) -> StoreError {
        StoreError::Query(diesel::result::Error::DatabaseError(
            kind,
            Box::new(message.to_owned()),
        ))
    }

    #[test]
    fn a_lost_or_unwritable_database_is_unavailable_and_a_bad_query_is_not() {
        use diesel::result::DatabaseErrorKind as Kind;
        for (kind, message) in [
            (
                Kind::ClosedConnection,
                "server closed the connection unexpectedly",
            ),
            (Kind::Unknown, "SSL connection has been closed unexpectedly"),
            (Kind::UnableToSendCommand, "no connection to the server\n"),
            (
                Kind::Unknown,
                "terminating connection due to administrator command",
            ),
            (Kind::Unknown, "the database system is shutting down"),
            (
                Kind::ReadOnlyTransaction,
                "cannot execute UPDATE in a read-only transaction",
            ),
            (
                Kind::Unknown,
                "could not extend file \"base/1/2\": No space left on device",
            ),
            (Kind::Unknown, "database is locked"),
            (Kind::Unknown, "attempt to write a readonly database"),
            (Kind::Unknown, "database or disk is full"),
        ] {
            assert!(db_error(kind, message).is_unavailable(), "{message}");
        }
        for (kind, message) in [
            (
                Kind::UniqueViolation,
                "duplicate key value violates unique constraint",
            ),
            (Kind::Unknown, "syntax error at or near \"SELEC\""),
            (
                Kind::UnableToSendCommand,
                "number of parameters must be between 0 and 65535",
            ),
        ] {
            assert!(!db_error(kind, message).is_unavailable(), "{message}");
        }
        assert!(!StoreError::Query(diesel::result::Error::NotFound).is_unavailable());
        assert!(StoreError::Unavailable("busy".to_owned()).is_unavailable());
    }

    #[test]
    fn backend_is_chosen_from_the_url_scheme() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            (Backend::Postgres, "postgres://u@h/db".to_owned())
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").0,
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("sqlite://data/guild.db"),
            (Backend::Sqlite, "data/guild.db".to_owned())
        );
        assert_eq!(
            Backend::from_url("data/guild.db"),
            (Backend::Sqlite, "data/guild.db".to_owned())
        );
    }

    #[test]
    fn a_page_knows_whether_more_rows_follow() {
        // rule API-3: fetched limit + 1 rows means another page exists
        let page = page_of(vec!["a", "b", "c"], 2, |s| (*s).to_owned());
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(page.next_after.as_deref(), Some("b"));
        let last = page_of(vec!["a", "b"], 2, |s| (*s).to_owned());
        assert_eq!(last.next_after, None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn opening_a_bad_postgres_url_names_the_backend() {
        let err = Store::open("postgres://nobody@127.0.0.1:1/none", 1).unwrap_err();
        assert!(err.to_string().contains("postgres"), "{err}");
    }

    #[test]
    fn sqlite_store_migrates_and_answers() {
        let dir = std::env::temp_dir().join(format!("guild-store-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/nested/g.db", dir.display());
        let store = Store::open(&url, 2).unwrap();
        store.ping().unwrap();
        let n = store.read(users::count).unwrap();
        assert_eq!(n, 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
