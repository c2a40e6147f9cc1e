//! Guild's use cases: one module per resource, between the HTTP layer (`api`)
//! and the store. Each use case takes a [`Ctx`] and a connection inside the
//! transaction the caller opened, loads what its rule needs, asks the domain
//! (visibility from [`guild_domain::access`]), writes through the store and
//! emits one [`events::Event`] per state change. Nothing here knows about HTTP.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod account_changes;
pub mod archives;
pub mod attendance;
pub mod audit_events;
pub mod auth;
pub mod bans;
pub mod calendar;
pub mod ce;
pub mod certificate_requests;
pub mod certificates;
pub mod classes;
pub mod ctx;
pub mod deferrals;
pub mod enrolments;
pub mod error;
pub mod events;
pub mod forgery_reports;
pub mod idempotency;
pub mod ids;
pub mod inputs;
pub mod notices;
pub mod notifications;
pub mod organisations;
pub mod people;
pub mod plans;
pub mod programs;
pub mod refunds;
pub mod sanctions;
pub mod schedule;
pub mod scope;
pub mod signing;
pub mod sittings;
pub mod substitutions;
pub mod teachers;
pub mod users;
pub mod verification;
pub mod webhooks;

pub use ctx::{Caller, Ctx};
pub use enrolments::CreateEnrolment;
pub use error::{AppError, AppResult};
pub use guild_store::{DbConn, Page, Store};

/// A validated page request (API-3): the sort key to start after and the page size.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Start after this key (decoded from the cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: i64,
}
