//! People: trainees and skilled talent (PPL-1 to PPL-3).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::people;
use crate::{DbConn, Page, StoreError, page_of};

/// One person as stored. `id_number` is stored in full; responses mask it (PPL-3).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub gender: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub organisation_id: Option<String>,
    pub category: Option<String>,
    pub occupation: Option<String>,
    pub skill_level: Option<String>,
    pub skill_certificate_number: Option<String>,
    pub skill_certificate_issued_on: Option<NaiveDate>,
    pub version: i32,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct PersonFilter {
    /// Only people of this organisation (ACC-2 for organisation users).
    pub organisation_id: Option<String>,
    pub category: Option<String>,
    pub id_type: Option<String>,
    /// Exact, normalised ID number.
    pub id_number: Option<String>,
    pub name_contains: Option<String>,
}

/// Inserts a person.
pub fn insert(conn: &mut DbConn, row: &PersonRow) -> Result<(), StoreError> {
    diesel::insert_into(people::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a person by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<PersonRow>, StoreError> {
    Ok(people::table
        .find(id)
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds the person holding an ID document (PPL-3: one record per ID number).
pub fn find_by_id_number(
    conn: &mut DbConn,
    id_type: &str,
    id_number: &str,
) -> Result<Option<PersonRow>, StoreError> {
    Ok(people::table
        .filter(people::id_type.eq(id_type))
        .filter(people::id_number.eq(id_number))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// Lists people in id order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &PersonFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<PersonRow>, StoreError> {
    let mut query = people::table.select(PersonRow::as_select()).into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(people::organisation_id.eq(org.clone()));
    }
    if let Some(category) = &filter.category {
        query = query.filter(people::category.eq(category.clone()));
    }
    if let Some(id_type) = &filter.id_type {
        query = query.filter(people::id_type.eq(id_type.clone()));
    }
    if let Some(number) = &filter.id_number {
        query = query.filter(people::id_number.eq(number.clone()));
    }
    if let Some(name) = &filter.name_contains {
        query = query.filter(
            crate::lower(people::name)
                .like(crate::like_pattern(name))
                .escape('\\'),
        );
    }
    if let Some(after) = after {
        query = query.filter(people::id.gt(after.to_owned()));
    }
    let rows = query.order(people::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Saves `row` as the next version, if nobody changed it since it was read
/// (API-5): bumps `version`, stamps `updated_at`, and fails with
/// [`StoreError::Stale`] when the stored version moved on.
pub fn update(conn: &mut DbConn, row: &mut PersonRow, at: NaiveDateTime) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        people::table
            .filter(people::id.eq(&row.id))
            .filter(people::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "people" })
    }
}
