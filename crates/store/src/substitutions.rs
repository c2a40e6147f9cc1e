//! Substitutions of the enrolled person (DEF-3).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{enrolments, substitutions};
use crate::{DbConn, Page, StoreError, page_of};

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

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct SubstitutionFilter {
    pub status: Option<String>,
    pub class_id: Option<String>,
    pub enrolment_id: Option<String>,
    /// Confines the list to one organisation (organisation users, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to substitutions where this person is the old or the new one (trainees).
    pub only_person: Option<String>,
}

/// Lists substitutions with their enrolment's class, in id (filing) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &SubstitutionFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<(SubstitutionRow, String)>, StoreError> {
    let mut query = substitutions::table
        .inner_join(enrolments::table)
        .select((SubstitutionRow::as_select(), enrolments::class_id))
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(substitutions::status.eq(v.clone()));
    }
    if let Some(v) = &filter.class_id {
        query = query.filter(enrolments::class_id.eq(v.clone()));
    }
    if let Some(v) = &filter.enrolment_id {
        query = query.filter(substitutions::enrolment_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(substitutions::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(
            substitutions::old_person_id
                .eq(v.clone())
                .or(substitutions::new_person_id.eq(v.clone())),
        );
    }
    if let Some(after) = after {
        query = query.filter(substitutions::id.gt(after.to_owned()));
    }
    let rows = query
        .order(substitutions::id.asc())
        .limit(limit + 1)
        .load::<(SubstitutionRow, String)>(conn)?;
    Ok(page_of(rows, limit, |(r, _)| r.id.clone()))
}

/// The enrolment's substitution in `status`, if any (the pending one, DEF-3;
/// the database allows at most one pending substitution per enrolment).
pub fn for_enrolment_with_status(
    conn: &mut DbConn,
    enrolment_id: &str,
    status: &str,
) -> Result<Option<SubstitutionRow>, StoreError> {
    Ok(substitutions::table
        .filter(substitutions::enrolment_id.eq(enrolment_id))
        .filter(substitutions::status.eq(status))
        .select(SubstitutionRow::as_select())
        .order(substitutions::id.asc())
        .first(conn)
        .optional()?)
}
