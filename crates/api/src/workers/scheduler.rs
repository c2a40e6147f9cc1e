//! The scheduler worker (CRT-4, CRT-8, ARC-2, CED-2): every
//! `GUILD_SCHEDULER_POLL_MS` it runs [`guild_app::schedule::run_once`] with
//! the injected clock, so tests move time with a `ManualClock`. Each
//! instance competes for the lease under its own random holder id; the one
//! holding it announces what is due, the others skip the run. The lease
//! lasts [`LEASE_POLLS`] poll intervals of real time (at least
//! [`LEASE_MIN`]), so a stopped instance's lease passes to another soon.

use std::time::Duration;

use actix_web::web;
use guild_app::schedule::{ScheduleSettings, run_once};
use guild_domain::clock::{Clock, SystemClock};
use uuid::Uuid;

use crate::routes::certificates::settings as certificate_settings;
use crate::state::AppState;

/// How many poll intervals a lease outlives its last renewal.
pub const LEASE_POLLS: u32 = 3;
/// The shortest lease.
pub const LEASE_MIN: Duration = Duration::from_secs(1);

/// Spawns the scheduler loop on the current runtime, unless it is off
/// (`GUILD_SCHEDULER_POLL_MS=0`).
pub fn spawn(state: &AppState) {
    let Some(poll) = state.config.scheduler_poll else {
        return;
    };
    let settings = ScheduleSettings {
        certificates: certificate_settings(state),
        catch_up_days: state.config.scheduler_catch_up_days,
        lease_for: (poll * LEASE_POLLS).max(LEASE_MIN),
    };
    let holder = Uuid::now_v7().to_string();
    let state = state.clone();
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(poll).await;
            tick(&state, &holder, &settings).await;
        }
    });
}

/// One run on the blocking pool; failures are logged and the next poll
/// tries again (an occasion not announced now is still due then).
async fn tick(state: &AppState, holder: &str, settings: &ScheduleSettings) {
    let store = state.store.clone();
    let now = state.clock.now();
    let tz = state.config.time_zone;
    let holder = holder.to_owned();
    let settings = settings.clone();
    let run = web::block(move || run_once(&store, &holder, SystemClock.now(), now, tz, &settings));
    match run.await {
        Ok(Ok(summary)) if summary.emitted > 0 || summary.failed > 0 => {
            tracing::info!(
                emitted = summary.emitted,
                failed = summary.failed,
                "scheduled events emitted"
            );
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "scheduler run failed"),
        Err(e) => tracing::warn!(error = %e, "scheduler run did not finish"),
    }
}
