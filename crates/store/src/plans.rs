//! Annual training plans and their published versions (PLN-1).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{classes, plan_versions, plans, programs};
use crate::{DbConn, Page, StoreError, page_of};

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

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct PlanFilter {
    pub year: Option<i32>,
    pub status: Option<String>,
}

/// Lists plans in id (creation) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &PlanFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<PlanRow>, StoreError> {
    let mut query = plans::table.select(PlanRow::as_select()).into_boxed();
    if let Some(year) = filter.year {
        query = query.filter(plans::year.eq(year));
    }
    if let Some(status) = &filter.status {
        query = query.filter(plans::status.eq(status.clone()));
    }
    if let Some(after) = after {
        query = query.filter(plans::id.gt(after.to_owned()));
    }
    let rows = query.order(plans::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Finds the plan of `year` (there is at most one per year).
pub fn find_by_year(conn: &mut DbConn, year: i32) -> Result<Option<PlanRow>, StoreError> {
    Ok(plans::table
        .filter(plans::year.eq(year))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?)
}

/// Published plans with their latest version, newest year first, after the plan
/// `after` (keyset on the unique year: the cursor's plan names the year to continue below).
pub fn list_published(
    conn: &mut DbConn,
    published: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<(PlanRow, PlanVersionRow)>, StoreError> {
    let mut query = plans::table
        .inner_join(
            plan_versions::table.on(plan_versions::plan_id
                .eq(plans::id)
                .and(plan_versions::number.eq(plans::latest_version))),
        )
        .filter(plans::status.eq(published.to_owned()))
        .select((PlanRow::as_select(), PlanVersionRow::as_select()))
        .into_boxed();
    if let Some(after) = after {
        let year: Option<i32> = plans::table
            .find(after)
            .select(plans::year)
            .first(conn)
            .optional()?;
        // A cursor naming a plan that no longer exists ends the list.
        let Some(year) = year else {
            return Ok(Page {
                items: Vec::new(),
                next_after: None,
            });
        };
        query = query.filter(plans::year.lt(year));
    }
    let rows = query
        .order(plans::year.desc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |(p, _)| p.id.clone()))
}

/// A plan's published versions in number order (oldest first), after the version `after`.
pub fn list_versions(
    conn: &mut DbConn,
    plan_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<PlanVersionRow>, StoreError> {
    let mut query = plan_versions::table
        .filter(plan_versions::plan_id.eq(plan_id.to_owned()))
        .select(PlanVersionRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        let number: Option<i32> = plan_versions::table
            .find(after)
            .select(plan_versions::number)
            .first(conn)
            .optional()?;
        let Some(number) = number else {
            return Ok(Page {
                items: Vec::new(),
                next_after: None,
            });
        };
        query = query.filter(plan_versions::number.gt(number));
    }
    let rows = query
        .order(plan_versions::number.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Version `number` of a plan.
pub fn find_version(
    conn: &mut DbConn,
    plan_id: &str,
    number: i32,
) -> Result<Option<PlanVersionRow>, StoreError> {
    Ok(plan_versions::table
        .filter(plan_versions::plan_id.eq(plan_id))
        .filter(plan_versions::number.eq(number))
        .select(PlanVersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// A class of a plan's year as the public sees it, with its program's code and name.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct PublicClassRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub program_code: String,
    pub program_name: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub place: String,
    pub capacity: i32,
    pub status: String,
}

/// Every class of `year` (all statuses, cancelled included) with its program,
/// by start date then code.
pub fn classes_of_year(conn: &mut DbConn, year: i32) -> Result<Vec<PublicClassRow>, StoreError> {
    Ok(classes::table
        .inner_join(programs::table)
        .filter(classes::year.eq(year))
        .order((classes::start_date.asc(), classes::code.asc()))
        .select((
            classes::id,
            classes::code,
            classes::title,
            programs::code,
            programs::name,
            classes::start_date,
            classes::end_date,
            classes::place,
            classes::capacity,
            classes::status,
        ))
        .load(conn)?)
}
