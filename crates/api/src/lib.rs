//! Guild HTTP API: actix-web handlers, authentication, configuration and the
//! generated OpenAPI document. Use cases live in `guild-app`, business rules in
//! `guild-domain`; the api never reaches the store (`guild-store`) itself.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod openapi_webhooks;
pub mod passwords;
pub mod routes;
pub mod state;
pub mod timeout;
pub mod workers;

pub use app::{Application, openapi_document};
pub use config::Config;
