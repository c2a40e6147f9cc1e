//! Connections, pools, transactions and migrations for both backends.

use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a request waits for a pooled connection before it answers 503: the
/// database being down must not hold every request for long.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(1500);
/// The libpq `connect_timeout` (seconds) added to a PostgreSQL URL that has none,
/// so an unreachable host cannot hold the pool's connection attempts for minutes.
pub const CONNECT_TIMEOUT_SECS: u32 = 2;
/// The PostgreSQL advisory lock (session-scoped) held while migrating: instances
/// started at the same moment migrate one after the other. ASCII `guild_mg`.
const MIGRATION_LOCK: i64 = 0x6775_696c_645f_6d67;
/// The PostgreSQL advisory lock (transaction-scoped) of [`Store::write_exclusive`].
/// ASCII `guild_ex`.
const EXCLUSIVE_LOCK: i64 = 0x6775_696c_645f_6578;
/// The write `/readyz` commits: one row, rewritten (see the `readiness` migration).
const READINESS_PROBE: &str = "INSERT INTO readiness (id, probes) VALUES (1, 1) \
     ON CONFLICT (id) DO UPDATE SET probes = readiness.probes + 1";
/// The busy timeout every SQLite connection uses, in milliseconds.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;

/// One connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL (production).
    Postgres(PgConnection),
    /// SQLite (embedded default).
    Sqlite(SqliteConnection),
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH` or a plain file path.
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL scheme and returns the address the driver takes.
    pub fn from_url(url: &str) -> (Backend, String) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            (Backend::Sqlite, path.to_owned())
        } else {
            (
                Backend::Sqlite,
                url.strip_prefix("sqlite:").unwrap_or(url).to_owned(),
            )
        }
    }

    /// The backend's name as used in logs and health output.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// An r2d2 manager that opens the backend chosen from the URL, so a bad URL
/// reports that backend's own error (not "invalid connection url for multiconnection").
#[derive(Debug, Clone)]
struct Manager {
    backend: Backend,
    address: String,
}

impl Manager {
    fn open(&self) -> Result<DbConn, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.address).map(DbConn::Postgres),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.address)?;
                let setup = |e| diesel::ConnectionError::CouldntSetupConfiguration(e);
                // The busy timeout comes first: the pragmas below wait for the
                // locks another process opening the file may hold.
                conn.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"))
                    .map_err(setup)?;
                switch_to_wal(&mut conn).map_err(setup)?;
                // Reads map the file (up to 256 MiB) instead of copying each
                // page through a system call: about a quarter off a
                // certificate lookup (docs/benchmarks.md).
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA mmap_size = 268435456;",
                )
                .map_err(setup)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Switches the connection's database to WAL. Several processes opening a new
/// file at the same moment all switch it: SQLite answers `database is locked`
/// to the losers at once, without waiting out the busy timeout (seen in about
/// one start in four of `operations::instances_starting_together_all_migrate`),
/// so the switch is retried until the busy timeout would have run out.
fn switch_to_wal(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    let deadline = Instant::now() + Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS);
    let mut pause = Duration::from_millis(5);
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("database is locked") && Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.open().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// The database: a pool of connections to one backend.
///
/// On SQLite, write transactions are serialised by a process-wide lock: SQLite
/// allows one writer, and a deferred transaction that upgrades to a write can
/// fail with `SQLITE_BUSY` regardless of the busy timeout.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    write_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `url`, runs pending migrations and builds the pool.
    pub fn open(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let (backend, address) = Backend::from_url(url);
        let parent = std::path::Path::new(&address).parent();
        if let Some(parent) =
            parent.filter(|p| backend == Backend::Sqlite && !p.as_os_str().is_empty())
            && !address.starts_with("file:")
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Setup(format!(
                    "cannot create the folder {} for the SQLite database: {e}",
                    parent.display()
                ))
            })?;
        }
        let address = match backend {
            Backend::Postgres => with_connect_timeout(&address),
            Backend::Sqlite => address,
        };
        let manager = Manager { backend, address };
        // Open one connection directly first: its error names the real cause.
        let mut first = manager.open().map_err(|e| {
            StoreError::Setup(format!(
                "cannot connect to the {} database: {e}",
                backend.name()
            ))
        })?;
        run_migrations(&mut first)?;
        drop(first);
        // The connection above proved the database reachable; the pool fills in
        // the background instead of racing the short checkout timeout at start.
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .build_unchecked(manager);
        Ok(Store {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks out a connection.
    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        self.pool.get().map_err(StoreError::Pool)
    }

    /// Runs `f` on a pooled connection without a transaction (reads).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs `f` in one write transaction: everything or nothing is written.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        let mut conn = self.conn()?;
        let conn: &mut DbConn = &mut conn;
        conn.transaction(f)
    }

    /// Like [`Store::write`], but no other instance's `write_exclusive` on the same
    /// database runs at the same time: for start-up work that reads, then writes
    /// what it did not find (the first admin, the first signing key), when several
    /// instances start at once. PostgreSQL takes a transaction-scoped advisory
    /// lock; SQLite takes the database's write lock before the first read, so a
    /// second process waits (busy timeout) instead of failing on a stale read.
    pub fn write_exclusive<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.write(|conn| {
            match conn {
                DbConn::Postgres(c) => {
                    c.batch_execute(&format!("SELECT pg_advisory_xact_lock({EXCLUSIVE_LOCK})"))?
                }
                DbConn::Sqlite(c) => {
                    c.batch_execute("UPDATE readiness SET probes = probes WHERE id = 1")?
                }
            }
            f(conn)
        })
    }

    /// Checks that the database answers (for `/readyz`).
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.ping().map_err(StoreError::Query)?;
        Ok(())
    }

    /// Checks within about `budget` that the database accepts a write (for
    /// `/readyz`): commits one tiny row, so read-only files, a read-only or
    /// standby server and a full disk all fail it, not only an unreachable one.
    pub fn check_writable(&self, budget: Duration) -> Result<(), StoreError> {
        let deadline = Instant::now() + budget;
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock_until(deadline)?),
            Backend::Postgres => None,
        };
        let mut conn = self
            .pool
            .get_timeout(remaining(deadline))
            .map_err(StoreError::Pool)?;
        let millis = remaining(deadline).as_millis().max(1);
        match &mut *conn {
            DbConn::Postgres(c) => c.transaction(|c| {
                c.batch_execute(&format!(
                    "SET LOCAL statement_timeout = {millis}; SET LOCAL lock_timeout = {millis}; \
                     {READINESS_PROBE}"
                ))
            })?,
            DbConn::Sqlite(c) => {
                // Wait for another process's write no longer than the budget.
                c.batch_execute(&format!("PRAGMA busy_timeout = {millis}"))?;
                let probed = c.transaction(|c| c.batch_execute(READINESS_PROBE));
                c.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
                probed?
            }
        }
        Ok(())
    }

    /// The process-wide SQLite write lock, waiting no later than `deadline`.
    fn write_lock_until(&self, deadline: Instant) -> Result<MutexGuard<'_, ()>, StoreError> {
        loop {
            match self.write_lock.try_lock() {
                Ok(guard) => return Ok(guard),
                Err(TryLockError::Poisoned(p)) => return Ok(p.into_inner()),
                Err(TryLockError::WouldBlock) if Instant::now() >= deadline => {
                    return Err(StoreError::Unavailable(
                        "the database is busy with a long write".to_owned(),
                    ));
                }
                Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

/// The time left until `deadline` (zero when it has passed).
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Adds libpq's `connect_timeout` to a PostgreSQL URL that does not set it.
pub(crate) fn with_connect_timeout(url: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    if query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("connect_timeout"))
    {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={CONNECT_TIMEOUT_SECS}")
}

type MigrationResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn run_migrations(conn: &mut DbConn) -> Result<(), StoreError> {
    let result = match conn {
        DbConn::Postgres(c) => migrate_postgres(c),
        DbConn::Sqlite(c) => migrate_sqlite(c),
    };
    result.map_err(|e| StoreError::Setup(format!("migrations failed: {e}")))
}

/// Instances that start at the same moment on a fresh database would create the
/// same tables at once (`duplicate key value violates unique constraint
/// "pg_type_typname_nsp_index"`): each migrates under an advisory lock, so the
/// first migrates and the others then find nothing left to do.
fn migrate_postgres(c: &mut PgConnection) -> MigrationResult {
    c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let migrated = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
    let unlocked = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    migrated?;
    unlocked?;
    Ok(())
}

/// On SQLite the migrations run in one `IMMEDIATE` transaction (holding the write
/// lock from the start), so processes starting at once migrate one after the
/// other. Nothing is locked when nothing is pending: a database opened
/// read-only still starts.
fn migrate_sqlite(c: &mut SqliteConnection) -> MigrationResult {
    if !c.has_pending_migration(SQLITE_MIGRATIONS)? {
        return Ok(());
    }
    c.immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_timeout_is_added_unless_one_is_set() {
        assert_eq!(
            with_connect_timeout("postgres://u@h:5432/db"),
            "postgres://u@h:5432/db?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=require&connect_timeout=9"),
            "postgres://u@h/db?sslmode=require&connect_timeout=9"
        );
        assert_eq!(
            with_connect_timeout("postgres://u:connect_timeout=1@h/db"),
            "postgres://u:connect_timeout=1@h/db?connect_timeout=2"
        );
    }
}
