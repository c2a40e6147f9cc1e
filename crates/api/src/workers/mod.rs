//! Background workers of `guild serve`, next to its HTTP workers on the same
//! runtime (they stop with the server). Each does its database work on the
//! blocking pool (Diesel is blocking) and reads time from the injected clock.

pub mod scheduler;
pub mod webhooks;

use crate::state::AppState;

/// Starts every background worker of `state`'s configuration. Called by
/// [`crate::Application::build`], inside the server's runtime.
pub fn spawn(state: &AppState) {
    scheduler::spawn(state);
    webhooks::spawn(state);
}
