//! Continuing education (CED-2 to CED-6): providers, activities, the credits
//! recorded for them, compliance and statistics. One submodule per resource;
//! the role lists the HTTP layer checks live here, next to the use cases, so
//! the route files need not import each other.

use chrono::Datelike;
pub use guild_domain::roles::{
    ACTIVITY_RECORDERS, PROVIDER_APPLICANTS, PROVIDER_DECIDERS, PROVIDER_READERS,
};

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};

pub mod activities;
pub mod compliance;
pub mod credits;
pub mod providers;
pub mod statistics;

/// The earliest year the register answers for.
pub const YEAR_MIN: i32 = 1990;
/// The latest year the register answers for.
pub const YEAR_MAX: i32 = 2100;

/// 422 `out_of_range` for a `year` outside the register's years.
pub fn check_year(year: Option<i32>) -> AppResult<()> {
    match year {
        Some(y) if !(YEAR_MIN..=YEAR_MAX).contains(&y) => Err(AppError::field(
            "year",
            "out_of_range",
            format!("a calendar year from {YEAR_MIN} to {YEAR_MAX}"),
        )),
        _ => Ok(()),
    }
}

/// A checked `year`, or the current year in the association's time zone.
pub fn year_or_current(ctx: &Ctx, year: Option<i32>) -> AppResult<i32> {
    check_year(year)?;
    Ok(year.unwrap_or_else(|| ctx.today().year()))
}
