//! Inputs shared by several resources.

use guild_domain::error::FieldError;
use serde::Deserialize;
use validator::Validate;

use crate::error::{AppError, AppResult};

/// The reason for a rejection or suspension.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, in words the organisation will read.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// API-5: fails with [`AppError::Stale`] when the client named a version
/// (`If-Match`) and the current one differs; no version named means no check.
pub fn check_version(expected: Option<i32>, current: i32) -> AppResult<()> {
    match expected {
        Some(v) if v != current => Err(AppError::Stale),
        _ => Ok(()),
    }
}

/// A field check's result with the error named after the input's `name`
/// (the domain names the value, the input names the field).
pub fn field<T>(name: &str, r: Result<T, FieldError>) -> AppResult<T> {
    r.map_err(|mut e| {
        e.field = name.to_owned();
        AppError::from(e)
    })
}
