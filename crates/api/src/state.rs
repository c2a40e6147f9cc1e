//! The shared application state handed to every handler.

use std::sync::Arc;

use actix_web::web;
use guild_domain::clock::Clock;
use guild_store::Store;

use crate::auth::JwtSecret;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::passwords::Passwords;

/// The database, the clock and the configuration.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The injected clock: every rule reads time from here.
    pub clock: Arc<dyn Clock>,
    /// Access-token signing key.
    pub jwt: JwtSecret,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// The bounded Argon2id capacity shared by every worker (ACC-5).
    pub passwords: Arc<Passwords>,
}

/// Wraps the injected clock so every instant has microsecond precision: what both
/// SQLite and PostgreSQL keep, so a value written and read back compares equal.
#[derive(Debug)]
pub struct StorableClock(pub Arc<dyn Clock>);

impl Clock for StorableClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::SubsecRound;
        self.0.now().trunc_subsecs(6)
    }
}

impl AppState {
    /// Runs blocking database work off the async workers.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
    {
        let state = self.clone();
        web::block(move || f(&state))
            .await
            .map_err(ApiError::from)?
    }
}
