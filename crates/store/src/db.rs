//! Connections, pools, transactions and migrations for both backends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

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
                // Reads map the file (up to 256 MiB) instead of copying each
                // page through a system call: about a quarter off a
                // certificate lookup (docs/benchmarks.md).
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA mmap_size = 268435456;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
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
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| StoreError::Setup(format!("cannot build the connection pool: {e}")))?;
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

    /// Checks that the database answers (for `/readyz`).
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.ping().map_err(StoreError::Query)?;
        Ok(())
    }
}

fn run_migrations(conn: &mut DbConn) -> Result<(), StoreError> {
    let result = match conn {
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| StoreError::Setup(format!("migrations failed: {e}")))
}
