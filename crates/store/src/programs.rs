//! Training programs (PRG-1).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::programs;
use crate::{DbConn, Page, StoreError, page_of};

/// One `programs` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = programs, treat_none_as_null = true)]
pub struct ProgramRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub target_categories: String,
    pub training_fee_fen: i64,
    pub exam_fee_fen: i64,
    pub theory_mode: Option<String>,
    pub theory_pass_mark: Option<i32>,
    pub practical_pass_mark: Option<i32>,
    pub skill_level: bool,
    pub certificate_name: String,
    pub validity_years: i32,
    pub status: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `programs` row.
pub fn insert(conn: &mut DbConn, row: &ProgramRow) -> Result<(), StoreError> {
    diesel::insert_into(programs::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `programs` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ProgramRow>, StoreError> {
    Ok(programs::table
        .find(id)
        .select(ProgramRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut ProgramRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        programs::table
            .filter(programs::id.eq(&row.id))
            .filter(programs::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "programs" })
    }
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct ProgramFilter {
    pub status: Option<String>,
    pub skill_level: Option<bool>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

/// Lists programs in id (creation) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &ProgramFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<ProgramRow>, StoreError> {
    let mut query = programs::table.select(ProgramRow::as_select()).into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(programs::status.eq(status.clone()));
    }
    if let Some(skill_level) = filter.skill_level {
        query = query.filter(programs::skill_level.eq(skill_level));
    }
    if let Some(name) = &filter.name_contains {
        query = query.filter(
            crate::lower(programs::name)
                .like(crate::like_pattern(name))
                .escape('\\'),
        );
    }
    if let Some(after) = after {
        query = query.filter(programs::id.gt(after.to_owned()));
    }
    let rows = query
        .order(programs::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Finds a program by its (unique) code.
pub fn find_by_code(conn: &mut DbConn, code: &str) -> Result<Option<ProgramRow>, StoreError> {
    Ok(programs::table
        .filter(programs::code.eq(code))
        .select(ProgramRow::as_select())
        .first(conn)
        .optional()?)
}

/// The programs among `ids` that exist (any order).
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<ProgramRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(programs::table
        .filter(programs::id.eq_any(ids))
        .select(ProgramRow::as_select())
        .load(conn)?)
}
