//! The holder and company lists of certificates and their CSV export (CRT-8).

use chrono::NaiveDate;
use guild_domain::access::Scope;
use guild_domain::certificate::{self, CertificateStatus};
use guild_store::DbConn;
use guild_store::certificates::CertificateFilter;
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::error::AppResult;
use crate::{Page, PageRequest};

use super::{CertificateSettings, CertificateView, Views};

/// The most rows one CSV export answers; narrow the filters beyond that.
pub const EXPORT_LIMIT: i64 = 10_000;

/// The export's header row.
pub const EXPORT_HEADER: &str = "number,holder_name,program_code,program_name,certificate_name,issued_on,valid_until,status,organisation,verify_url";

/// The filters of the certificate list and its export (CRT-8).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only certificates showing this status today (computed).
    pub status: Option<CertificateStatus>,
    /// Only this holder's.
    pub person_id: Option<Uuid>,
    /// Only this program's.
    pub program_id: Option<Uuid>,
    /// Only those earned in this class.
    pub class_id: Option<Uuid>,
    /// Only valid certificates whose validity ends within the next N days,
    /// today included.
    pub expiring_within_days: Option<u32>,
    /// Only those valid until this day or later.
    pub valid_until_from: Option<NaiveDate>,
    /// Only those valid until this day or earlier.
    pub valid_until_to: Option<NaiveDate>,
}

fn later(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    a.max(b)
}

fn earlier(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Translates the filters and the caller's visibility (ACC-2) into column
/// conditions on `today` (CRT-8). `None` when no certificate can match
/// (e.g. `status=lapsed` with `expiring_within_days`).
fn store_filter(
    f: &Filters,
    caller: &Caller,
    today: NaiveDate,
    grace_days: u32,
) -> Option<CertificateFilter> {
    let mut filter = CertificateFilter {
        valid_until_from: f.valid_until_from,
        valid_until_to: f.valid_until_to,
        person_id: f.person_id.map(|v| v.to_string()),
        program_id: f.program_id.map(|v| v.to_string()),
        class_id: f.class_id.map(|v| v.to_string()),
        ..CertificateFilter::default()
    };
    let mut windows = Vec::new();
    if let Some(status) = f.status {
        windows.push(certificate::status_window(status, today, grace_days));
    }
    if let Some(days) = f.expiring_within_days {
        let mut valid = certificate::status_window(CertificateStatus::Valid, today, grace_days);
        valid.valid_until_to = Some(certificate::expiring_until(today, days));
        windows.push(valid);
    }
    for w in windows {
        let stored = w.stored.as_str().to_owned();
        if filter.stored_status.as_ref().is_some_and(|s| *s != stored) {
            return None;
        }
        filter.stored_status = Some(stored);
        filter.valid_until_from = later(filter.valid_until_from, w.valid_until_from);
        filter.valid_until_to = earlier(filter.valid_until_to, w.valid_until_to);
    }
    if let (Some(from), Some(to)) = (filter.valid_until_from, filter.valid_until_to)
        && from > to
    {
        return None;
    }
    match caller.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => return None,
    }
    Some(filter)
}

/// Certificates in issue order (CRT-8), as far as the caller sees them (ACC-2).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    filters: Filters,
    page: PageRequest,
    settings: CertificateSettings,
) -> AppResult<Page<CertificateView>> {
    let today = ctx.today();
    let Some(filter) = store_filter(&filters, ctx.caller()?, today, settings.grace_days) else {
        return Ok(Page::empty());
    };
    let rows = guild_store::certificates::list(conn, &filter, page.after.as_deref(), page.limit)?;
    let mut views = Views::new(today, settings);
    rows.try_map(|r| views.view(conn, r))
}

/// What an export produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// The CSV document.
    Csv(String),
    /// More than [`EXPORT_LIMIT`] certificates match: narrow the filters.
    TooMany,
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

/// The certificates the list would show, every one in issue order, as CSV
/// (CRT-8): a header row, CRLF line ends, names in full, never an ID number.
pub fn export(
    ctx: &Ctx,
    conn: &mut DbConn,
    filters: Filters,
    settings: CertificateSettings,
) -> AppResult<Export> {
    let today = ctx.today();
    let filter = store_filter(&filters, ctx.caller()?, today, settings.grace_days);
    let mut out = String::from(EXPORT_HEADER);
    out.push_str("\r\n");
    let Some(filter) = filter else {
        return Ok(Export::Csv(out));
    };
    let rows = guild_store::certificates::list(conn, &filter, None, EXPORT_LIMIT)?;
    if rows.next_after.is_some() {
        return Ok(Export::TooMany);
    }
    let mut views = Views::new(today, settings);
    for r in rows.items {
        let organisation = views.organisation(conn, r.organisation_id.as_deref())?;
        let v = views.view(conn, r)?;
        let fields = [
            v.number,
            v.holder_name,
            v.program_code,
            v.program_name,
            v.certificate_name,
            v.issued_on.to_string(),
            v.valid_until.to_string(),
            v.status.as_str().to_owned(),
            organisation,
            v.verify_url,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(Export::Csv(out))
}
