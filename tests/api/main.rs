//! Guild's HTTP tests: every module talks HTTP to the real server (STYLE habit 7)
//! and runs its bodies on SQLite and PostgreSQL. Modules follow the route tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_changes;
mod audit;
mod auth;
mod conventions;
mod coverage;
mod health;
mod organisations;
mod people;
mod schema_parity;
mod story;
mod users;
