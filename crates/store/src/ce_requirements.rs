//! The yearly CE requirement per region (CED-2); a region without a row uses
//! the defaults of `guild_domain::ce_compliance::Requirement::DEFAULT`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::ce_requirements;
use crate::{DbConn, StoreError};

/// One `ce_requirements` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ce_requirements, treat_none_as_null = true)]
pub struct CeRequirementRow {
    pub region: String,
    pub total_credits: i32,
    pub public_credits: i32,
    pub professional_credits: i32,
    pub exam_credits: i32,
    pub version: i32,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `ce_requirements` row.
pub fn insert(conn: &mut DbConn, row: &CeRequirementRow) -> Result<(), StoreError> {
    diesel::insert_into(ce_requirements::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds the requirement of `region`.
pub fn find(conn: &mut DbConn, region: &str) -> Result<Option<CeRequirementRow>, StoreError> {
    Ok(ce_requirements::table
        .find(region)
        .select(CeRequirementRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every region with its own requirement, by region name.
pub fn list(conn: &mut DbConn) -> Result<Vec<CeRequirementRow>, StoreError> {
    Ok(ce_requirements::table
        .order(ce_requirements::region.asc())
        .select(CeRequirementRow::as_select())
        .load(conn)?)
}

/// Every region's own requirement keyed by region (for answering many people at once).
pub fn by_region(conn: &mut DbConn) -> Result<HashMap<String, CeRequirementRow>, StoreError> {
    Ok(list(conn)?
        .into_iter()
        .map(|r| (r.region.clone(), r))
        .collect())
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut CeRequirementRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        ce_requirements::table
            .filter(ce_requirements::region.eq(&row.region))
            .filter(ce_requirements::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "ce_requirements",
        })
    }
}
