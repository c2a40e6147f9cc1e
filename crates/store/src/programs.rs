//! Training programs (PRG-1).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::programs;
use crate::{DbConn, StoreError};

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
