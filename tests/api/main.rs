//! Guild's HTTP tests: every module talks HTTP to the real server (STYLE habit 7)
//! and runs its bodies on SQLite and PostgreSQL. Modules follow the route tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_changes;
mod archives;
mod attendance;
mod audit;
mod auth;
mod ce_compliance;
mod ce_register;
mod certificate_requests;
mod certificates;
mod classes;
mod conventions;
mod coverage;
mod credentials;
mod deferrals;
mod discipline;
mod enrolments;
mod event_coverage;
mod exams;
mod headers;
mod health;
mod idempotency;
mod notifications;
mod operations;
mod organisations;
mod people;
mod plans;
mod programs;
mod refunds;
mod scheduled_events;
mod schema_parity;
mod story;
mod substitutions;
mod teachers;
mod training_story;
mod users;
mod verification;
mod webhooks;
