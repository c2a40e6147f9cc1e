//! Ids as stored (text) and as records carry them (`Uuid`), converted in one place.

use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The id stored in `table`, or an internal error: a row the code cannot read
/// is our fault, never the client's.
pub fn stored_id(table: &'static str, value: &str) -> AppResult<Uuid> {
    Uuid::parse_str(value)
        .map_err(|_| AppError::Internal(format!("corrupt id in {table}: {value:?}")))
}

/// [`stored_id`] of an optional column.
pub fn stored_opt(table: &'static str, value: Option<&str>) -> AppResult<Option<Uuid>> {
    value.map(|v| stored_id(table, v)).transpose()
}

/// The id as a visibility fact: a corrupt id is no fact at all, so it grants
/// nothing (fail closed).
pub fn fact(value: Option<&str>) -> Option<Uuid> {
    value.and_then(|v| Uuid::parse_str(v).ok())
}
