//! Deferrals (DEF-1, DEF-2).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{deferrals, enrolments, people};
use crate::{DbConn, Page, StoreError, page_of};

/// One `deferrals` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = deferrals, treat_none_as_null = true)]
pub struct DeferralRow {
    pub id: String,
    pub enrolment_id: String,
    pub organisation_id: Option<String>,
    pub letter_reference: String,
    pub reason: String,
    pub status: String,
    pub filed_by: String,
    pub filed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub transferred_to_id: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `deferrals` row.
pub fn insert(conn: &mut DbConn, row: &DeferralRow) -> Result<(), StoreError> {
    diesel::insert_into(deferrals::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `deferrals` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<DeferralRow>, StoreError> {
    Ok(deferrals::table
        .find(id)
        .select(DeferralRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut DeferralRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        deferrals::table
            .filter(deferrals::id.eq(&row.id))
            .filter(deferrals::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "deferrals" })
    }
}

/// A deferral with what a list shows of its enrolment: the class, the person
/// and the person's name.
#[derive(Debug, Clone, PartialEq)]
pub struct DeferralListRow {
    pub deferral: DeferralRow,
    pub class_id: String,
    pub person_id: String,
    pub person_name: String,
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct DeferralFilter {
    pub status: Option<String>,
    pub class_id: Option<String>,
    pub enrolment_id: Option<String>,
    /// Confines the list to one organisation (organisation users, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to the enrolments of one person (trainees).
    pub only_person: Option<String>,
}

/// Lists deferrals with their enrolment's class and person, in id (filing) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &DeferralFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<DeferralListRow>, StoreError> {
    let mut query = deferrals::table
        .inner_join(enrolments::table.inner_join(people::table))
        .select((
            DeferralRow::as_select(),
            enrolments::class_id,
            enrolments::person_id,
            people::name,
        ))
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(deferrals::status.eq(v.clone()));
    }
    if let Some(v) = &filter.class_id {
        query = query.filter(enrolments::class_id.eq(v.clone()));
    }
    if let Some(v) = &filter.enrolment_id {
        query = query.filter(deferrals::enrolment_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(deferrals::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(enrolments::person_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(deferrals::id.gt(after.to_owned()));
    }
    let rows = query
        .order(deferrals::id.asc())
        .limit(limit + 1)
        .load::<(DeferralRow, String, String, String)>(conn)?
        .into_iter()
        .map(
            |(deferral, class_id, person_id, person_name)| DeferralListRow {
                deferral,
                class_id,
                person_id,
                person_name,
            },
        )
        .collect();
    Ok(page_of(rows, limit, |r| r.deferral.id.clone()))
}

/// The enrolment's deferral in one of `statuses`, if any (the open one, DEF-1;
/// the database allows at most one open deferral per enrolment).
pub fn for_enrolment_in(
    conn: &mut DbConn,
    enrolment_id: &str,
    statuses: &[&str],
) -> Result<Option<DeferralRow>, StoreError> {
    Ok(deferrals::table
        .filter(deferrals::enrolment_id.eq(enrolment_id))
        .filter(deferrals::status.eq_any(statuses))
        .select(DeferralRow::as_select())
        .order(deferrals::id.asc())
        .first(conn)
        .optional()?)
}
