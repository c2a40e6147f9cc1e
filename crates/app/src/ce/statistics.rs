//! CE statistics for the authority (CED-6, seed 004 art. 31): people,
//! credits, hours and fees of a year by region, organisation, occupation or
//! provider, or per year, as JSON or CSV (the CSV is the HTTP layer's).
//!
//! - `GET /ce/statistics?year=&by=` answers JSON, or CSV when the request
//!   says `format=csv` or `Accept: text/csv`; `GET /ce/statistics/export`
//!   always answers CSV. The authority and association staff read them.
//! - `people` counts distinct persons with at least one credit in the group;
//!   in the totals each person counts once (a person who learned with two
//!   providers is in both provider groups but once in the total).
//! - Region, organisation and occupation are those of each person-year (as
//!   recorded with the person's latest credit of the year); provider is that
//!   of each credit (`null`: employer-organised and other activities without
//!   a provider). Region, organisation and occupation groups read the yearly
//!   roll-up `ce_person_years`; provider groups aggregate the year's credits
//!   per provider and person first, then per provider. Both stay well under a
//!   second at a million credit records (bench/ce.sh).
//! - `year` defaults to the current year in the association's time zone;
//!   with `by=year` and no `year`, every year is listed.

use chrono::Datelike;
use guild_domain::Fen;
use guild_store::DbConn;
use guild_store::ce_credits::{StatDimension, StatRow};
use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::error::AppResult;

/// What the statistics are grouped by (CED-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StatisticsBy {
    /// Per calendar year.
    Year,
    /// Per region.
    Region,
    /// Per organisation (employer).
    Organisation,
    /// Per occupation (工种).
    Occupation,
    /// Per CE provider (继续教育基地).
    Provider,
}

impl StatisticsBy {
    /// The wire name, also the CSV header of the key column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Year => "year",
            Self::Region => "region",
            Self::Organisation => "organisation",
            Self::Occupation => "occupation",
            Self::Provider => "provider",
        }
    }

    fn dimension(self) -> StatDimension {
        match self {
            Self::Year => StatDimension::Year,
            Self::Region => StatDimension::Region,
            Self::Organisation => StatDimension::Organisation,
            Self::Occupation => StatDimension::Occupation,
            Self::Provider => StatDimension::Provider,
        }
    }
}

/// One group's figures (CED-6).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatisticsGroup {
    /// The group's value: region, organisation id, occupation, provider id or
    /// year; `null` for records without one (e.g. credits of activities
    /// without a provider).
    pub key: Option<String>,
    /// The organisation's or provider's name, where the key is an id.
    pub name: Option<String>,
    /// Distinct people with credits in the group.
    pub people: i64,
    /// Credits.
    pub credits: i64,
    /// Hours.
    pub hours: i64,
    /// Fees, in fen.
    pub fee_fen: Fen,
}

/// The figures of every group together; each person counts once.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatisticsTotals {
    /// Distinct people with credits.
    pub people: i64,
    /// Credits.
    pub credits: i64,
    /// Hours.
    pub hours: i64,
    /// Fees, in fen.
    pub fee_fen: Fen,
}

/// CE statistics of a year by one dimension (CED-6).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatisticsView {
    /// The year; `null` when every year is listed (`by=year` without a year).
    pub year: Option<i32>,
    /// What the groups are.
    pub by: StatisticsBy,
    /// The groups, by key (`null` last).
    pub groups: Vec<StatisticsGroup>,
    /// All groups together.
    pub totals: StatisticsTotals,
}

fn statistics(conn: &mut DbConn, year: Option<i32>, by: StatisticsBy) -> AppResult<StatisticsView> {
    let mut rows: Vec<StatRow> = guild_store::ce_credits::statistics(conn, year, by.dimension())?;
    rows.sort_by(|a, b| match (&a.key, &b.key) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let ids: Vec<String> = rows.iter().filter_map(|r| r.key.clone()).collect();
    let names = match by {
        StatisticsBy::Organisation => guild_store::ce_credits::organisation_names(conn, &ids)?,
        StatisticsBy::Provider => guild_store::ce_credits::provider_names(conn, &ids)?,
        _ => Default::default(),
    };
    let totals = guild_store::ce_credits::statistics_totals(conn, year)?;
    Ok(StatisticsView {
        year,
        by,
        groups: rows
            .into_iter()
            .map(|r| StatisticsGroup {
                name: r.key.as_ref().and_then(|k| names.get(k).cloned()),
                key: r.key,
                people: r.people,
                credits: r.credits,
                hours: r.hours,
                fee_fen: Fen::from_stored(r.fee_fen),
            })
            .collect(),
        totals: StatisticsTotals {
            people: totals.people,
            credits: totals.credits,
            hours: totals.hours,
            fee_fen: Fen::from_stored(totals.fee_fen),
        },
    })
}

/// The statistics of `year` by `by` (default `region`, CED-6): 422
/// `out_of_range` for a year outside the register's; `year` defaults to the
/// current year in the association's time zone, and with `by=year` and no
/// year every year is listed.
pub fn get(
    ctx: &Ctx,
    conn: &mut DbConn,
    year: Option<i32>,
    by: Option<StatisticsBy>,
) -> AppResult<StatisticsView> {
    super::check_year(year)?;
    let by = by.unwrap_or(StatisticsBy::Region);
    let year = match (year, by) {
        (Some(y), _) => Some(y),
        (None, StatisticsBy::Year) => None,
        (None, _) => Some(ctx.today().year()),
    };
    statistics(conn, year, by)
}
