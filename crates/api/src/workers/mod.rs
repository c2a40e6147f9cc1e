//! Background workers of `guild serve`. They run as tasks of the server's
//! actix system, so they stop with it.

pub mod webhooks;

use crate::state::AppState;

/// Spawns every background worker on the current actix system. Called by
/// [`crate::Application::build`], inside the system that runs the server.
pub fn spawn(state: &AppState) {
    webhooks::spawn(state);
}
