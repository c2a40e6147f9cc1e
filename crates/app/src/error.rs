//! The one transport-free error of the use cases. `api/src/error.rs` maps it to
//! `application/problem+json`; nothing here knows about HTTP.

use guild_domain::error::{FieldError, InvalidTransition, Refusal};
use guild_store::StoreError;

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such resource, or one the caller may not see (ACC-2): the two are
    /// indistinguishable on purpose. Carries the resource's name.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// A business rule refused the request; the code's kind (`domain::codes`)
    /// decides between 409 and 422.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The action does not fit the resource's current state (API-4).
    #[error("invalid transition: {0}")]
    Transition(InvalidTransition),
    /// A unique key is taken: the resource already exists (409
    /// `already_exists`). Carries what the client should know.
    #[error("already exists: {0}")]
    Exists(String),
    /// The version the client named (`If-Match`) is not current (API-5).
    #[error("stale version")]
    Stale,
    /// Fields of the input are invalid.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The database cannot serve the request just now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault on our side: logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// One invalid field.
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, code, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale { .. } => AppError::Stale,
            e if e.is_unavailable() => AppError::Unavailable(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<guild_store::QueryError> for AppError {
    fn from(e: guild_store::QueryError) -> Self {
        AppError::from(StoreError::Query(e))
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::Refused(r)
    }
}

impl From<InvalidTransition> for AppError {
    fn from(t: InvalidTransition) -> Self {
        AppError::Transition(t)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

/// The one mapping of a unique violation: a store write whose unique key is
/// taken means the thing already exists (or was entered concurrently), which
/// the caller names; every other store error maps as usual.
pub trait Taken<T> {
    /// `taken()` on a unique violation, else the store error.
    fn or_taken(self, taken: impl FnOnce() -> AppError) -> AppResult<T>;
}

impl<T> Taken<T> for Result<T, StoreError> {
    fn or_taken(self, taken: impl FnOnce() -> AppError) -> AppResult<T> {
        self.map_err(|e| {
            if e.is_unique_violation() {
                taken()
            } else {
                AppError::from(e)
            }
        })
    }
}

/// The parsed value of a stored enum or id, or an internal error naming the
/// table: a row the code cannot read is our fault, never the client's.
pub fn stored<T: std::str::FromStr>(table: &'static str, value: &str) -> AppResult<T> {
    value
        .parse()
        .map_err(|_| AppError::Internal(format!("corrupt row in {table}: unknown value {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_unavailable_and_a_missing_row_internal() {
        let lost = StoreError::Query(guild_store::QueryError::BrokenTransactionManager);
        assert!(matches!(AppError::from(lost), AppError::Unavailable(_)));
        let bug = StoreError::Query(guild_store::QueryError::NotFound);
        assert!(matches!(AppError::from(bug), AppError::Internal(_)));
    }
}
