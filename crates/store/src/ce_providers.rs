//! Continuing-education providers (继续教育基地) and their accreditation (CED-4).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::ce_providers;
use crate::{DbConn, Page, StoreError, page_of};

/// The stored status of an accredited provider (the only one listed publicly).
pub const ACCREDITED: &str = "accredited";
/// The stored statuses of a live application or accreditation (one per
/// organisation: `ce_providers_one_live_per_organisation`).
pub const LIVE: &[&str] = &["applied", "accredited", "suspended"];

/// One `ce_providers` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ce_providers, treat_none_as_null = true)]
pub struct CeProviderRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub region: String,
    pub status: String,
    /// JSON object: condition wire name → evidence (CED-4, seed 004 art. 9).
    pub conditions_json: String,
    pub scope: String,
    pub content: String,
    /// JSON array of `{name, amount_fen}`.
    pub fee_items_json: String,
    pub standards: String,
    pub contact_phone: Option<String>,
    pub status_reason: Option<String>,
    pub applied_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a provider; a second live one of the same organisation fails with
/// a unique violation.
pub fn insert(conn: &mut DbConn, row: &CeProviderRow) -> Result<(), StoreError> {
    diesel::insert_into(ce_providers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a provider by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<CeProviderRow>, StoreError> {
    Ok(ce_providers::table
        .find(id)
        .select(CeProviderRow::as_select())
        .first(conn)
        .optional()?)
}

/// The organisation's live (applied, accredited or suspended) provider, if any.
pub fn live_of_organisation(
    conn: &mut DbConn,
    organisation_id: &str,
) -> Result<Option<CeProviderRow>, StoreError> {
    Ok(ce_providers::table
        .filter(ce_providers::organisation_id.eq(organisation_id))
        .filter(ce_providers::status.eq_any(LIVE))
        .select(CeProviderRow::as_select())
        .order(ce_providers::id.desc())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut CeProviderRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        ce_providers::table
            .filter(ce_providers::id.eq(&row.id))
            .filter(ce_providers::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "ce_providers",
        })
    }
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct ProviderFilter {
    pub status: Option<String>,
    pub region: Option<String>,
    /// Name contains this text, case-insensitively.
    pub name_contains: Option<String>,
    /// Confines the list to one organisation's providers (ACC-2).
    pub only_organisation: Option<String>,
}

/// Lists providers in id (application) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &ProviderFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<CeProviderRow>, StoreError> {
    let mut query = ce_providers::table
        .select(CeProviderRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(ce_providers::status.eq(v.clone()));
    }
    if let Some(v) = &filter.region {
        query = query.filter(ce_providers::region.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(ce_providers::organisation_id.eq(v.clone()));
    }
    if let Some(name) = &filter.name_contains {
        query = query.filter(
            crate::lower(ce_providers::name)
                .like(crate::like_pattern(name))
                .escape('\\'),
        );
    }
    if let Some(after) = after {
        query = query.filter(ce_providers::id.gt(after.to_owned()));
    }
    let rows = query
        .order(ce_providers::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}
