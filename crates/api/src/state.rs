//! The shared application state handed to every handler.

use std::sync::Arc;

use actix_web::web;
use guild_app::Store;
use guild_domain::clock::Clock;

use guild_app::{AppResult, Ctx, DbConn};

use crate::auth::{AuthUser, JwtSecret};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::extract::RequestContext;
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
    /// The use-case context of a request by `user`, at the clock's now.
    pub fn ctx(&self, user: Option<&AuthUser>, req: Option<&RequestContext>) -> Ctx {
        Ctx {
            caller: user.map(AuthUser::caller),
            now: self.clock.now(),
            tz: self.config.time_zone,
            request_id: req.map(|r| r.request_id.clone()).unwrap_or_default(),
            address: req.map(|r| r.address.clone()).unwrap_or_default(),
        }
    }

    /// Runs the use case `f` for `user` in one write transaction, off the async
    /// workers: one blocking hop, one connection, everything or nothing written.
    pub async fn tx<T, F>(&self, user: AuthUser, req: RequestContext, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx, &mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.run(move |s| {
            let ctx = s.ctx(Some(&user), Some(&req));
            Ok(s.store.write(|c| f(&ctx, c))?)
        })
        .await
    }

    /// Runs the read-only use case `f` for `user` on one connection, off the
    /// async workers.
    pub async fn read<T, F>(&self, user: AuthUser, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx, &mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.run(move |s| {
            let ctx = s.ctx(Some(&user), None);
            Ok(s.store.read(|c| f(&ctx, c))?)
        })
        .await
    }

    /// A read that may need one write: `read` runs on one connection, and
    /// only when it answers `None` does `write` run, in a write transaction
    /// (e.g. the first signing key, created on first use). `user` is `None`
    /// for a public endpoint.
    pub async fn read_or_tx<T, R, W>(
        &self,
        user: Option<AuthUser>,
        req: Option<RequestContext>,
        read: R,
        write: W,
    ) -> ApiResult<T>
    where
        T: Send + 'static,
        R: FnOnce(&Ctx, &mut DbConn) -> AppResult<Option<T>> + Send + 'static,
        W: FnOnce(&Ctx, &mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.run(move |s| {
            let ctx = s.ctx(user.as_ref(), req.as_ref());
            match s.store.read(|c| read(&ctx, c))? {
                Some(found) => Ok(found),
                None => Ok(s.store.write(|c| write(&ctx, c))?),
            }
        })
        .await
    }

    /// Runs a use case that needs no caller (a public read) on one
    /// connection, off the async workers.
    pub async fn public<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.run(move |s| Ok(s.store.read(f)?)).await
    }

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
