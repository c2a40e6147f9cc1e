//! Typed configuration, read from `GUILD_*` environment variables and passed in (never global).

use std::net::SocketAddr;

use crate::auth::JwtSecret;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `GUILD_DATABASE_URL`: `sqlite://PATH`, a plain path, or `postgres://…`.
    pub database_url: String,
    /// `GUILD_BIND`: the address to listen on.
    pub bind: SocketAddr,
    /// `GUILD_DB_POOL_SIZE`: connections in the pool.
    pub pool_size: u32,
    /// `GUILD_ADMIN_PASSWORD`: the first admin's password on an empty database.
    pub admin_password: Option<Secret>,
    /// `GUILD_JWT_SECRET`: the key that signs access tokens (random per start when unset).
    pub jwt_secret: JwtSecret,
    /// `GUILD_TIME_ZONE`: the association's time zone for date rules.
    pub time_zone: chrono_tz::Tz,
    /// `GUILD_PUBLIC_BASE_URL`: the public address of the service.
    pub public_base_url: String,
    /// `GUILD_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `GUILD_CE_GRACE_DAYS`: days after a validity period ends during which CE
    /// completed within the period can still be recorded (CRT-4; default 90).
    pub ce_grace_days: u32,
    /// `GUILD_CARD_FEE_FEN`: the fee for a physical certificate card, in fen
    /// (CRT-5; default 2000, i.e. 20 yuan).
    pub card_fee_fen: i64,
    /// `GUILD_REQUEST_TIMEOUT_SECS`: how long a client may take to send a request
    /// body (and, capped at 5 s, its headers) before it gets `408` and is closed.
    pub request_timeout: std::time::Duration,
    /// `GUILD_SCHEDULER_POLL_MS`: how often the scheduler looks for
    /// time-driven events (CRT-4, CRT-8, ARC-2, CED-2; default 60000 ms);
    /// `0` turns the scheduler off in this instance. `None` when off.
    pub scheduler_poll: Option<std::time::Duration>,
    /// `GUILD_SCHEDULER_CATCH_UP_DAYS`: how many days back an occasion is
    /// still announced after a down-time (default 7; older ones never are,
    /// so an imported database does not flood the outbox).
    pub scheduler_catch_up_days: u32,
    /// The webhook settings (API-8): `GUILD_WEBHOOK_ALLOW_PRIVATE` (`1`: plain
    /// HTTP and internal addresses accepted, for development and tests),
    /// `GUILD_WEBHOOK_RETRY_SCHEDULE` (comma-separated seconds before each
    /// retry), `GUILD_WEBHOOK_RETRY_JITTER` (a fraction from 0 to 1, default
    /// 0.1) and `GUILD_WEBHOOK_RETENTION_DAYS` (default 30).
    pub webhooks: guild_app::webhooks::Settings,
    /// `GUILD_WEBHOOK_WORKERS`: webhook dispatcher tasks (default 2; 0 runs none).
    pub webhook_workers: usize,
    /// `GUILD_WEBHOOK_POLL_MS`: how often (real time) an idle dispatcher looks
    /// for work (default 1000).
    pub webhook_poll: std::time::Duration,
}

/// A configured secret string that never prints.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The default database: a SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/guild.db";
/// The default physical card fee (CRT-5): 20 yuan.
pub const DEFAULT_CARD_FEE_FEN: i64 = 2000;
/// The default time a client has to send a request body.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How often the scheduler runs by default.
pub const DEFAULT_SCHEDULER_POLL: std::time::Duration = std::time::Duration::from_secs(60);
/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Config {
    /// Reads the configuration from the environment, reporting every bad value by name.
    pub fn from_env() -> Result<Config, String> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads the configuration through `get` (testable without touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let bind_raw = get("GUILD_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind_raw.parse().map_err(|e| {
            format!("GUILD_BIND={bind_raw:?} is not an address like 127.0.0.1:8080: {e}")
        })?;
        let pool_size = number(
            &get,
            "GUILD_DB_POOL_SIZE",
            1..=200,
            "a number from 1 to 200",
        )?
        .unwrap_or(10);
        let time_zone = match get("GUILD_TIME_ZONE") {
            None => guild_domain::clock::DEFAULT_TIME_ZONE,
            Some(v) => v
                .parse()
                .map_err(|_| format!("GUILD_TIME_ZONE={v:?} is not an IANA time zone"))?,
        };
        let jwt_secret = match get("GUILD_JWT_SECRET") {
            None => JwtSecret::random(),
            Some(v) if v.len() >= 32 => JwtSecret::new(v.into_bytes()),
            Some(_) => return Err("GUILD_JWT_SECRET must be at least 32 characters".to_owned()),
        };
        let workers = number(&get, "GUILD_WORKERS", 1..=256, "a number from 1 to 256")?;
        let ce_grace_days = number(
            &get,
            "GUILD_CE_GRACE_DAYS",
            0..=3650,
            "a number from 0 to 3650",
        )?
        .unwrap_or(guild_domain::certificate::DEFAULT_CE_GRACE_DAYS);
        let card_fee_fen = number(
            &get,
            "GUILD_CARD_FEE_FEN",
            0..=100_000_000,
            "a whole number of fen from 0 to 100000000",
        )?
        .unwrap_or(DEFAULT_CARD_FEE_FEN);
        let request_timeout = number(
            &get,
            "GUILD_REQUEST_TIMEOUT_SECS",
            1..=3600,
            "a number from 1 to 3600",
        )?
        .map_or(DEFAULT_REQUEST_TIMEOUT, std::time::Duration::from_secs);
        let (scheduler_poll, scheduler_catch_up_days) = scheduler_settings(&get)?;
        let webhooks = webhook_settings(&get)?;
        let (webhook_workers, webhook_poll) = webhook_dispatch(&get)?;
        let public_base_url = get("GUILD_PUBLIC_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        Ok(Config {
            database_url: get("GUILD_DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            bind,
            pool_size,
            admin_password: get("GUILD_ADMIN_PASSWORD").map(Secret),
            jwt_secret,
            time_zone,
            public_base_url,
            workers,
            ce_grace_days,
            card_fee_fen,
            request_timeout,
            scheduler_poll,
            scheduler_catch_up_days,
            webhooks,
            webhook_workers,
            webhook_poll,
        })
    }
}

/// `GUILD_SCHEDULER_POLL_MS` (`None` when `0`: off) and
/// `GUILD_SCHEDULER_CATCH_UP_DAYS`.
fn scheduler_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(Option<std::time::Duration>, u32), String> {
    let scheduler_poll = match number(
        get,
        "GUILD_SCHEDULER_POLL_MS",
        0..=86_400_000,
        "a number of milliseconds from 0 (off) to 86400000",
    )? {
        None => Some(DEFAULT_SCHEDULER_POLL),
        Some(0) => None,
        Some(ms) => Some(std::time::Duration::from_millis(ms)),
    };
    let scheduler_catch_up_days = number(
        get,
        "GUILD_SCHEDULER_CATCH_UP_DAYS",
        0..=3650,
        "a number from 0 to 3650",
    )?
    .unwrap_or(guild_domain::schedule::DEFAULT_CATCH_UP_DAYS);
    Ok((scheduler_poll, scheduler_catch_up_days))
}

/// `GUILD_WEBHOOK_WORKERS` and `GUILD_WEBHOOK_POLL_MS`.
fn webhook_dispatch(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(usize, std::time::Duration), String> {
    let webhook_workers = number(
        get,
        "GUILD_WEBHOOK_WORKERS",
        0..=64,
        "a number from 0 to 64",
    )?
    .unwrap_or(2);
    let webhook_poll = number(
        get,
        "GUILD_WEBHOOK_POLL_MS",
        5..=600_000,
        "a number of milliseconds from 5 to 600000",
    )?
    .map_or(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_millis,
    );
    Ok((webhook_workers, webhook_poll))
}

/// The `GUILD_WEBHOOK_*` settings of the dispatcher and the URL policy (API-8).
fn webhook_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<guild_app::webhooks::Settings, String> {
    let mut s = guild_app::webhooks::Settings::default();
    if let Some(v) = get("GUILD_WEBHOOK_ALLOW_PRIVATE") {
        s.allow_private = match v.as_str() {
            "1" | "true" => true,
            "0" | "false" => false,
            _ => return Err(format!("GUILD_WEBHOOK_ALLOW_PRIVATE={v:?} must be 1 or 0")),
        };
    }
    if let Some(v) = get("GUILD_WEBHOOK_RETRY_SCHEDULE") {
        let delays: Option<Vec<u64>> = v
            .split(',')
            .map(|d| d.trim().parse::<u64>().ok().filter(|d| *d <= 30 * 86_400))
            .collect();
        s.retry_schedule = delays.filter(|d| d.len() <= 50).ok_or_else(|| {
            format!(
                "GUILD_WEBHOOK_RETRY_SCHEDULE={v:?} must be up to 50 comma-separated delays in seconds"
            )
        })?;
    }
    if let Some(v) = get("GUILD_WEBHOOK_RETRY_JITTER") {
        s.jitter = v
            .parse::<f64>()
            .ok()
            .filter(|j| (0.0..=1.0).contains(j))
            .ok_or_else(|| {
                format!("GUILD_WEBHOOK_RETRY_JITTER={v:?} must be a number from 0 to 1")
            })?;
    }
    s.retention_days = number(
        get,
        "GUILD_WEBHOOK_RETENTION_DAYS",
        1..=3650,
        "a number of days from 1 to 3650",
    )?
    .unwrap_or(s.retention_days);
    Ok(s)
}

/// The number in variable `name`, if set: it must parse and lie in `range`,
/// otherwise the error says it must be `what`.
fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<T>,
    what: &str,
) -> Result<Option<T>, String>
where
    T: std::str::FromStr + PartialOrd,
{
    get(name)
        .map(|v| {
            v.parse::<T>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| format!("{name}={v:?} must be {what}"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert_eq!(c.time_zone, chrono_tz::Asia::Shanghai);
        assert!(c.admin_password.is_none());
        assert_eq!(c.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn the_request_timeout_is_read_in_seconds() {
        let c =
            Config::from_lookup(|k| (k == "GUILD_REQUEST_TIMEOUT_SECS").then(|| "2".to_owned()))
                .unwrap();
        assert_eq!(c.request_timeout, std::time::Duration::from_secs(2));
        let err =
            Config::from_lookup(|k| (k == "GUILD_REQUEST_TIMEOUT_SECS").then(|| "0".to_owned()))
                .unwrap_err();
        assert!(err.contains("GUILD_REQUEST_TIMEOUT_SECS"));
    }

    #[test]
    fn the_scheduler_polls_every_minute_unless_configured() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.scheduler_poll, Some(DEFAULT_SCHEDULER_POLL));
        assert_eq!(c.scheduler_catch_up_days, 7);
        let c = Config::from_lookup(|k| (k == "GUILD_SCHEDULER_POLL_MS").then(|| "0".to_owned()))
            .unwrap();
        assert_eq!(c.scheduler_poll, None);
        let c = Config::from_lookup(|k| (k == "GUILD_SCHEDULER_POLL_MS").then(|| "250".to_owned()))
            .unwrap();
        assert_eq!(
            c.scheduler_poll,
            Some(std::time::Duration::from_millis(250))
        );
        let err =
            Config::from_lookup(|k| (k == "GUILD_SCHEDULER_POLL_MS").then(|| "-1".to_owned()))
                .unwrap_err();
        assert!(err.contains("GUILD_SCHEDULER_POLL_MS"));
    }

    #[test]
    fn webhook_settings_are_read() {
        // rule API-8: the retry schedule, jitter and URL policy are configurable
        let c = Config::from_lookup(|_| None).unwrap();
        assert!(!c.webhooks.allow_private);
        assert_eq!(c.webhooks.retry_schedule.len(), 8);
        assert_eq!(c.webhook_workers, 2);
        let c = Config::from_lookup(|k| match k {
            "GUILD_WEBHOOK_ALLOW_PRIVATE" => Some("1".to_owned()),
            "GUILD_WEBHOOK_RETRY_SCHEDULE" => Some("60, 120".to_owned()),
            "GUILD_WEBHOOK_RETRY_JITTER" => Some("0".to_owned()),
            _ => None,
        })
        .unwrap();
        assert!(c.webhooks.allow_private);
        assert_eq!(c.webhooks.retry_schedule, vec![60, 120]);
        assert!(c.webhooks.jitter.abs() < f64::EPSILON);
        for (k, v) in [
            ("GUILD_WEBHOOK_ALLOW_PRIVATE", "yes"),
            ("GUILD_WEBHOOK_RETRY_SCHEDULE", "5,x"),
            ("GUILD_WEBHOOK_RETRY_JITTER", "2"),
        ] {
            let err = Config::from_lookup(|n| (n == k).then(|| v.to_owned())).unwrap_err();
            assert!(err.contains(k), "{err}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            Config::from_lookup(|k| (k == "GUILD_BIND").then(|| "nowhere".to_owned())).unwrap_err();
        assert!(err.contains("GUILD_BIND"));
        let err = Config::from_lookup(|k| (k == "GUILD_JWT_SECRET").then(|| "short".to_owned()))
            .unwrap_err();
        assert!(err.contains("GUILD_JWT_SECRET"));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config::from_lookup(|k| {
            (k == "GUILD_ADMIN_PASSWORD").then(|| "hunter2hunter2".to_owned())
        })
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
