//! Substitutions of the enrolled person (DEF-3).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::substitutions;
use crate::{DbConn, StoreError};

/// One `substitutions` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = substitutions, treat_none_as_null = true)]
pub struct SubstitutionRow {
    pub id: String,
    pub enrolment_id: String,
    pub organisation_id: Option<String>,
    pub old_person_id: String,
    pub new_person_id: String,
    pub reason: String,
    pub status: String,
    pub filed_by: String,
    pub filed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `substitutions` row.
pub fn insert(conn: &mut DbConn, row: &SubstitutionRow) -> Result<(), StoreError> {
    diesel::insert_into(substitutions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `substitutions` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<SubstitutionRow>, StoreError> {
    Ok(substitutions::table
        .find(id)
        .select(SubstitutionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut SubstitutionRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        substitutions::table
            .filter(substitutions::id.eq(&row.id))
            .filter(substitutions::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "substitutions",
        })
    }
}
