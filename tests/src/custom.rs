//! Test apps beyond [`TestApp::spawn`]: a changed configuration, a database URL
//! seen through a proxy or opened read-only, and several apps on one database
//! (instances starting together).

use std::path::PathBuf;

use super::*;

/// What differs from the usual test configuration.
#[derive(Debug, Default, Clone)]
pub struct AppOptions {
    /// `GUILD_*` variables set in addition to, or instead of, the usual test values.
    pub env: Vec<(&'static str, String)>,
}

impl AppOptions {
    /// Sets `name` to `value`.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> AppOptions {
        self.env.push((name, value.into()));
        self
    }
}

/// The usual test configuration for `database_url`, with `options` applied.
fn test_config(database_url: &str, options: &AppOptions) -> guild_api::Config {
    guild_api::Config::from_lookup(|k| {
        if let Some((_, v)) = options.env.iter().rev().find(|(name, _)| *name == k) {
            return Some(v.clone());
        }
        match k {
            "GUILD_DATABASE_URL" => Some(database_url.to_owned()),
            "GUILD_BIND" => Some("127.0.0.1:0".to_owned()),
            "GUILD_ADMIN_PASSWORD" => Some(ADMIN_PASSWORD.to_owned()),
            "GUILD_JWT_SECRET" => Some("test-secret-0123456789-abcdefghijklmnop".to_owned()),
            "GUILD_WORKERS" => Some("2".to_owned()),
            "GUILD_DB_POOL_SIZE" => Some("4".to_owned()),
            "GUILD_PUBLIC_BASE_URL" => Some(PUBLIC_BASE_URL.to_owned()),
            // The scheduler is off unless a test turns it on: its events
            // would otherwise land in the outboxes other tests count.
            "GUILD_SCHEDULER_POLL_MS" => Some("0".to_owned()),
            _ => None,
        }
    })
    .expect("test configuration is valid")
}

impl TestApp {
    /// Like [`TestApp::try_spawn`] on a fresh database, with `options`, the server
    /// getting the database URL through `map_url` (e.g. to go through a proxy).
    pub fn try_spawn_with(
        backend: Backend,
        options: &AppOptions,
        map_url: impl FnOnce(&str) -> String,
    ) -> Option<TestApp> {
        let (url, dir, pg) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("guild.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let db = TempPgDatabase::create(&postgres_url()?);
                (db.url().to_owned(), None, Some(db))
            }
        };
        let mut app = TestApp::start_on(backend, &map_url(&url), options)
            .unwrap_or_else(|e| panic!("the application did not start on {}: {e}", backend.name()));
        app._sqlite_dir = dir;
        app.pg = pg;
        Some(app)
    }

    /// Starts a server on the existing database at `database_url`, which outlives
    /// the app. `Err` carries the reason the application did not start.
    pub fn start_on(
        backend: Backend,
        database_url: &str,
        options: &AppOptions,
    ) -> Result<TestApp, String> {
        let config = test_config(database_url, options);
        let clock = ManualClock::new(start_time());
        let (tx, rx) = mpsc::channel::<Result<(u16, ServerHandle), String>>();
        let server_clock: Arc<dyn guild_domain::Clock> = Arc::new(clock.clone());
        let thread = std::thread::Builder::new()
            .name(format!("guild-test-server-{}", backend.name()))
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    match guild_api::Application::build(config, server_clock) {
                        Ok(app) => {
                            let port = app.port();
                            let server = app.into_server();
                            let _ = tx.send(Ok((port, server.handle())));
                            if let Err(e) = server.await {
                                eprintln!("test server stopped with an error: {e}");
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })
            .expect("spawn server thread");
        let started = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|e| format!("no answer in time: {e}"))
            .and_then(|r| r);
        let (port, handle) = match started {
            Ok(v) => v,
            Err(e) => {
                let _ = thread.join();
                return Err(e);
            }
        };
        let client = Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Ok(TestApp {
            backend,
            address: format!("http://127.0.0.1:{port}"),
            port,
            client,
            clock,
            handle: Some(handle),
            thread: Some(thread),
            _sqlite_dir: None,
            pg: None,
        })
    }

    /// The SQLite file of an app started by [`TestApp::spawn`].
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self._sqlite_dir.as_ref().map(|d| d.path().join("guild.db"))
    }

    /// The database URL of an app started by [`TestApp::spawn`].
    pub fn database_url(&self) -> Option<String> {
        match (&self.pg, self.sqlite_file()) {
            (Some(db), _) => Some(db.url().to_owned()),
            (None, Some(file)) => Some(format!("sqlite://{}", file.display())),
            (None, None) => None,
        }
    }

    /// The outbox rows (API-8) about one entity, oldest first, read straight
    /// from the app's database.
    pub fn outbox(
        &self,
        entity_type: &str,
        entity_id: &str,
    ) -> Vec<guild_store::outbox::OutboxRow> {
        let url = self.database_url().expect("an app started by spawn");
        let store = guild_store::Store::open(&url, 1).expect("the database opens");
        store
            .read(|c| guild_store::outbox::for_entity(c, entity_type, entity_id))
            .expect("the outbox reads")
    }

    /// A store on the app's database, for tests that read it often.
    pub fn store(&self) -> guild_store::Store {
        let url = self.database_url().expect("an app started by spawn");
        guild_store::Store::open(&url, 1).expect("the database opens")
    }

    /// How many outbox rows (API-8) the app's database holds.
    pub fn outbox_len(&self) -> usize {
        Self::outbox_len_in(&self.store())
    }

    /// How many outbox rows (API-8) the database behind `store` holds
    /// ([`TestApp::store`], kept open by a test that counts often).
    pub fn outbox_len_in(store: &guild_store::Store) -> usize {
        let n = store
            .read(guild_store::outbox::count)
            .expect("the outbox counts");
        usize::try_from(n).expect("a row count is not negative")
    }

    /// The fresh PostgreSQL database of an app started by [`TestApp::spawn`]: its name.
    pub fn pg_database(&self) -> Option<&str> {
        self.pg.as_ref().map(|db| db.name.as_str())
    }
}

impl TempPgDatabase {
    /// The database's name (`guild_test_<uuid>`).
    pub fn name(&self) -> &str {
        &self.name
    }
}
