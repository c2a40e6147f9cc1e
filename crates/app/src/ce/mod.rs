//! Continuing education (CED-2 to CED-6): providers, activities, the credits
//! recorded for them, compliance and statistics. One submodule per resource;
//! the role lists the HTTP layer checks live here, next to the use cases, so
//! the route files need not import each other.

use chrono::Datelike;
use guild_domain::Role;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};

pub mod activities;
pub mod compliance;
pub mod credits;
pub mod providers;
pub mod statistics;

/// Who records activities: providers, and employers for their own staff.
pub const ACTIVITY_RECORDERS: &[Role] = &[Role::Provider, Role::OrgFiller, Role::OrgReviewer];

/// Who reads providers: association staff and the authority all of them,
/// organisation and provider accounts their own organisation's (ACC-2).
pub const PROVIDER_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::Provider,
    Role::OrgFiller,
    Role::OrgReviewer,
];

/// Who applies for and maintains an organisation's provider record: its
/// provider accounts and its reviewer (the organisation's responsible person).
pub const PROVIDER_APPLICANTS: &[Role] = &[Role::Provider, Role::OrgReviewer];

/// Who decides on providers (CED-4).
pub const PROVIDER_DECIDERS: &[Role] = &[Role::Authority];

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
