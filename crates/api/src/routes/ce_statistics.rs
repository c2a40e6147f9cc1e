//! CE statistics for the authority (CED-6, seed 004 art. 31): people,
//! credits, hours and fees of a year by region, organisation, occupation or
//! provider, or per year, as JSON or CSV: the HTTP side. The figures come from
//! [`guild_app::ce::statistics`]; the CSV is written here.
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

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use guild_app::ce::statistics as app;
use guild_domain::Fen;
pub use guild_domain::roles::STATISTICS_READERS;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub use guild_app::ce::statistics::{
    StatisticsBy, StatisticsGroup, StatisticsTotals, StatisticsView,
};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::openapi::ListErrors;
use crate::state::AppState;

/// The answer's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatisticsFormat {
    /// `application/json` (the default).
    Json,
    /// `text/csv` with a header row.
    Csv,
}

/// Which statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQuery {
    /// The calendar year (default: the current year; with `by=year` and no
    /// year, every year).
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
    /// What to group by (default `region`).
    pub by: Option<StatisticsBy>,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    pub format: Option<StatisticsFormat>,
}

/// Which statistics to export as CSV.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The calendar year (default: the current year; with `by=year` and no
    /// year, every year).
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
    /// What to group by (default `region`).
    pub by: Option<StatisticsBy>,
}

/// Quotes one CSV field (RFC 4180) and defuses spreadsheet formulas: a cell
/// starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The name column of the group without a key.
pub const CSV_NONE: &str = "(none)";
/// The name column of the totals line.
pub const CSV_TOTAL: &str = "(total)";

/// The statistics as CSV: a header `<by>,name,people,credits,hours,fee_fen`,
/// one line per group (the group without a key has an empty key and the name
/// `(none)`), then the totals with an empty key and the name `(total)`. CRLF
/// line ends; fees in fen.
fn to_csv(v: &StatisticsView) -> String {
    let mut out = format!("{},name,people,credits,hours,fee_fen\r\n", v.by.as_str());
    let mut line = |key: &str, name: &str, people: i64, credits: i64, hours: i64, fee: Fen| {
        out.push_str(&format!(
            "{},{},{people},{credits},{hours},{}\r\n",
            csv_field(key),
            csv_field(name),
            fee.get()
        ));
    };
    for g in &v.groups {
        let name = match (&g.key, &g.name) {
            (None, _) => CSV_NONE,
            (Some(_), Some(n)) => n.as_str(),
            (Some(_), None) => "",
        };
        line(
            g.key.as_deref().unwrap_or(""),
            name,
            g.people,
            g.credits,
            g.hours,
            g.fee_fen,
        );
    }
    let t = &v.totals;
    line("", CSV_TOTAL, t.people, t.credits, t.hours, t.fee_fen);
    out
}

fn csv_response(v: &StatisticsView) -> HttpResponse {
    let file = match v.year {
        Some(y) => format!("ce-statistics-{y}-by-{}.csv", v.by.as_str()),
        None => format!("ce-statistics-by-{}.csv", v.by.as_str()),
    };
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .body(to_csv(v))
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|part| part.trim().to_ascii_lowercase().starts_with("text/csv"))
        })
}

/// CE statistics (CED-6): people, credits, hours and fees of a year per
/// region, organisation, occupation or provider, or per year; as JSON, or as
/// CSV with `format=csv` or `Accept: text/csv`. The authority and
/// association staff.
#[utoipa::path(
    operation_id = "get_ce_statistics",
    tag = "ce",
    params(StatisticsQuery),
    responses(
        (status = 200, description = "The statistics (JSON, or CSV when asked for)",
         content((StatisticsView = "application/json"), (String = "text/csv"))),
        ListErrors
    )
)]
#[get("/ce/statistics")]
pub async fn get_statistics(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    q: web::Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    user.require(STATISTICS_READERS)?;
    let q = q.into_inner();
    let csv = match q.format {
        Some(StatisticsFormat::Csv) => true,
        Some(StatisticsFormat::Json) => false,
        None => wants_csv(&req),
    };
    let (year, by) = (q.year, q.by);
    let view = state
        .read(user, move |ctx, c| app::get(ctx, c, year, by))
        .await?;
    Ok(if csv {
        csv_response(&view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// Export CE statistics as CSV (CED-6): the same figures as
/// `GET /ce/statistics`, UTF-8 with a header row
/// (`<by>,name,people,credits,hours,fee_fen`), one line per group and a last
/// line with the totals (name `(total)`).
#[utoipa::path(
    operation_id = "export_ce_statistics",
    tag = "ce",
    params(ExportQuery),
    responses(
        (status = 200, description = "The statistics as UTF-8 CSV with a header row", content_type = "text/csv", body = String,
         example = json!("region,name,people,credits,hours,fee_fen\r\nJinhua,,120,7300,7100,3600000\r\n,(total),120,7300,7100,3600000\r\n")),
        ListErrors
    )
)]
#[get("/ce/statistics/export")]
pub async fn export_statistics(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    user.require(STATISTICS_READERS)?;
    let q = q.into_inner();
    let (year, by) = (q.year, q.by);
    let view = state
        .read(user, move |ctx, c| app::get(ctx, c, year, by))
        .await?;
    Ok(csv_response(&view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_statistics).service(get_statistics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_header_groups_and_totals() {
        // rule CED-6
        let v = StatisticsView {
            year: Some(2026),
            by: StatisticsBy::Provider,
            groups: vec![
                StatisticsGroup {
                    key: Some("p1".to_owned()),
                    name: Some("=Base, \"A\"".to_owned()),
                    people: 2,
                    credits: 30,
                    hours: 28,
                    fee_fen: Fen::from_stored(1000),
                },
                StatisticsGroup {
                    key: None,
                    name: None,
                    people: 1,
                    credits: 5,
                    hours: 4,
                    fee_fen: Fen::from_stored(0),
                },
            ],
            totals: StatisticsTotals {
                people: 2,
                credits: 35,
                hours: 32,
                fee_fen: Fen::from_stored(1000),
            },
        };
        assert_eq!(
            to_csv(&v),
            "provider,name,people,credits,hours,fee_fen\r\n\
             p1,\"'=Base, \"\"A\"\"\",2,30,28,1000\r\n\
             ,(none),1,5,4,0\r\n\
             ,(total),2,35,32,1000\r\n"
        );
    }
}
