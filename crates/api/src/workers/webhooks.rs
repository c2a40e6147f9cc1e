//! The webhook dispatcher (API-8): `GUILD_WEBHOOK_WORKERS` tasks, each
//! polling (real time, `GUILD_WEBHOOK_POLL_MS`) for work: fan pending outbox
//! rows out to deliveries, claim due deliveries, sign and send each, record
//! the outcome. The database work is [`guild_app::webhooks::dispatch`]; this
//! module only speaks HTTP.
//!
//! SSRF: the host of the URL is resolved here, every address it resolves to
//! is checked ([`guild_domain::webhook::check_addresses`]) and the request
//! connects to the checked address (reqwest's `resolve` pins it), so a DNS
//! change after the subscription was saved cannot reach inside. Redirects are
//! not followed and no proxy is used.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use actix_web::{rt, web};
use chrono::TimeDelta;
use guild_app::AppError;
use guild_app::webhooks::dispatch::{self, Attempt, Outgoing};
use guild_app::webhooks::signature;
use guild_domain::webhook;

use crate::state::AppState;

/// API-8: a receiver answers within this time or the attempt failed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim is held (injected clock): longer than a send can take.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// Deliveries one worker claims at a time.
const CLAIM_BATCH: i64 = 10;
/// API-8: the delivery log keeps at most this much of an answer.
const EXCERPT_BYTES: usize = 1024;
/// How often worker 0 prunes old outbox rows and deliveries: once this much
/// real time or injected-clock time has passed since the last prune (the
/// latter so a test moving the clock sees retention at work).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Spawns the configured number of dispatcher tasks.
pub fn spawn(state: &AppState) {
    for n in 0..state.config.webhook_workers {
        rt::spawn(run(state.clone(), n));
    }
}

async fn run(state: AppState, n: usize) {
    let mut last_prune: Option<(Instant, chrono::DateTime<chrono::Utc>)> = None;
    loop {
        let busy = match tick(&state).await {
            Ok(busy) => busy,
            Err(e) => {
                tracing::warn!(worker = n, error = %e, "webhook dispatch failed");
                false
            }
        };
        let now = state.clock.now();
        let due = last_prune.is_none_or(|(real, clock)| {
            real.elapsed() >= PRUNE_EVERY || (now - clock).to_std().is_ok_and(|d| d >= PRUNE_EVERY)
        });
        if n == 0 && due {
            last_prune = Some((Instant::now(), now));
            if let Err(e) = prune(&state).await {
                tracing::warn!(error = %e, "webhook retention failed");
            }
        }
        if !busy {
            rt::time::sleep(state.config.webhook_poll).await;
        }
    }
}

/// Runs blocking database work off the async task.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
) -> Result<T, String> {
    let s = state.clone();
    web::block(move || f(&s))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// One round: fan out, claim, send. Answers whether anything was sent.
async fn tick(state: &AppState) -> Result<bool, String> {
    let claimed = blocking(state, |s| {
        let now = s.clock.now().naive_utc();
        s.store.write(|c| dispatch::fan_out(c, now))?;
        s.store
            .write(|c| dispatch::claim(c, now, LEASE, CLAIM_BATCH))
    })
    .await?;
    let busy = !claimed.is_empty();
    for out in claimed {
        let attempt = send(state, &out).await;
        blocking(state, move |s| {
            let ctx = s.ctx(None, None);
            let random = rand::random::<f64>();
            s.store
                .write(|c| dispatch::finish(&ctx, c, &s.config.webhooks, &out, &attempt, random))
        })
        .await?;
    }
    Ok(busy)
}

async fn prune(state: &AppState) -> Result<usize, String> {
    blocking(state, |s| {
        let now = s.clock.now();
        s.store
            .write(|c| dispatch::prune(c, now, &s.config.webhooks))
    })
    .await
}

/// Signs and sends one delivery; never fails, the outcome says what happened.
async fn send(state: &AppState, out: &Outgoing) -> Attempt {
    let started = Instant::now();
    let mut attempt = match post(state, out).await {
        Ok((status, text)) => Attempt {
            status_code: Some(status),
            excerpt: Some(text),
            ..Attempt::default()
        },
        Err(e) => Attempt {
            error: Some(e),
            ..Attempt::default()
        },
    };
    attempt.duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    attempt
}

/// The address to connect to: the URL's host resolved, every address checked.
async fn checked_address(host: &str, port: u16, allow_private: bool) -> Result<IpAddr, String> {
    let addresses = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let h = host.to_owned();
            web::block(move || {
                (h.as_str(), port)
                    .to_socket_addrs()
                    .map(|a| a.map(|s| s.ip()).collect::<Vec<_>>())
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
        }
    };
    webhook::check_addresses(host, &addresses, allow_private).map_err(|r| r.detail)
}

/// POSTs the delivery; answers the status and the start of the body.
async fn post(state: &AppState, out: &Outgoing) -> Result<(u16, String), String> {
    let url = webhook::parse_url(&out.url).map_err(|r| r.detail)?;
    let ip = checked_address(&url.host, url.port, state.config.webhooks.allow_private).await?;
    let mut client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if url.host.parse::<IpAddr>().is_err() {
        client = client.resolve(&url.host, SocketAddr::new(ip, url.port));
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let timestamp = state.clock.now().timestamp();
    let signature = signature::header(&out.secrets, &out.event_id, timestamp, out.body.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = client
        .post(&out.url)
        .header("content-type", "application/json")
        .header("user-agent", "Guild-Webhooks/1")
        .header("webhook-id", &out.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(out.body.clone())
        .send()
        .await
        .map_err(describe)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while body.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    Ok((
        status,
        dispatch::excerpt(&String::from_utf8_lossy(&body), EXCERPT_BYTES),
    ))
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", SEND_TIMEOUT.as_secs())
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}
