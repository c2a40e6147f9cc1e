//! Annual training plans and their published versions (PLN-1).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{plan_versions, plans};
use crate::{DbConn, StoreError};

/// One `plans` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = plans, treat_none_as_null = true)]
pub struct PlanRow {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub items_json: String,
    pub notes: Option<String>,
    pub status: String,
    pub latest_version: i32,
    pub published_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `plans` row.
pub fn insert(conn: &mut DbConn, row: &PlanRow) -> Result<(), StoreError> {
    diesel::insert_into(plans::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `plans` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<PlanRow>, StoreError> {
    Ok(plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(conn: &mut DbConn, row: &mut PlanRow, at: NaiveDateTime) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        plans::table
            .filter(plans::id.eq(&row.id))
            .filter(plans::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "plans" })
    }
}

/// One `plan_versions` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_versions)]
pub struct PlanVersionRow {
    pub id: String,
    pub plan_id: String,
    pub number: i32,
    pub title: String,
    pub items_json: String,
    pub notes: Option<String>,
    pub change_note: Option<String>,
    pub published_by: String,
    pub published_at: NaiveDateTime,
}

/// Inserts a `plan_versions` row.
pub fn insert_plan_version(conn: &mut DbConn, row: &PlanVersionRow) -> Result<(), StoreError> {
    diesel::insert_into(plan_versions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `plan_versions` row by id.
pub fn find_plan_version(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<PlanVersionRow>, StoreError> {
    Ok(plan_versions::table
        .find(id)
        .select(PlanVersionRow::as_select())
        .first(conn)
        .optional()?)
}
