//! Continuing-education activities (CED-3) and the reads that recording their
//! credits needs. Credits themselves are written only by
//! [`crate::ce_credits::insert_credits`], which keeps the yearly roll-up in step.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::ce_credits::CeCreditRow;
use crate::people::PersonRow;
use crate::schema::{ce_activities, ce_credits, organisations, people};
use crate::{DbConn, Page, StoreError, page_of};

/// How many values go into one `IN (...)` list (well below SQLite's limit).
const IN_CHUNK: usize = 500;

/// One `ce_activities` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ce_activities, treat_none_as_null = true)]
pub struct CeActivityRow {
    pub id: String,
    /// The provider that ran it; `None` for an employer's own activity.
    pub provider_id: Option<String>,
    /// The recording organisation: the provider's or the employer.
    pub organisation_id: String,
    pub source: String,
    pub title: String,
    pub subject_category: String,
    pub credits: i32,
    pub hours: i32,
    pub fee_fen: i64,
    pub held_on: NaiveDate,
    pub year: i32,
    pub has_exam: bool,
    pub region: String,
    /// JSON array of evidence references (photos, videos).
    pub evidence_json: String,
    pub status: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts an activity.
pub fn insert(conn: &mut DbConn, row: &CeActivityRow) -> Result<(), StoreError> {
    diesel::insert_into(ce_activities::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds an activity by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<CeActivityRow>, StoreError> {
    Ok(ce_activities::table
        .find(id)
        .select(CeActivityRow::as_select())
        .first(conn)
        .optional()?)
}

/// Loads an activity and locks it until the end of the transaction
/// (`SELECT … FOR UPDATE` on PostgreSQL), so two uploads of credits for the
/// same activity run one after the other and the second sees who the first
/// credited (never counted twice). SQLite serialises write transactions
/// anyway. Must run inside [`crate::Store::write`].
pub fn lock(conn: &mut DbConn, id: &str) -> Result<Option<CeActivityRow>, StoreError> {
    let row = match conn {
        DbConn::Postgres(c) => ce_activities::table
            .find(id)
            .select(CeActivityRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConn::Sqlite(c) => ce_activities::table
            .find(id)
            .select(CeActivityRow::as_select())
            .first(c)
            .optional()?,
    };
    Ok(row)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut CeActivityRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        ce_activities::table
            .filter(ce_activities::id.eq(&row.id))
            .filter(ce_activities::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "ce_activities",
        })
    }
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct ActivityFilter {
    pub status: Option<String>,
    pub source: Option<String>,
    pub subject_category: Option<String>,
    pub year: Option<i32>,
    pub provider_id: Option<String>,
    pub organisation_id: Option<String>,
    pub region: Option<String>,
    /// Confines the list to one recording organisation (ACC-2, CED-5).
    pub only_organisation: Option<String>,
}

/// Lists activities in id (recording) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &ActivityFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<CeActivityRow>, StoreError> {
    let mut query = ce_activities::table
        .select(CeActivityRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(ce_activities::status.eq(v.clone()));
    }
    if let Some(v) = &filter.source {
        query = query.filter(ce_activities::source.eq(v.clone()));
    }
    if let Some(v) = &filter.subject_category {
        query = query.filter(ce_activities::subject_category.eq(v.clone()));
    }
    if let Some(v) = filter.year {
        query = query.filter(ce_activities::year.eq(v));
    }
    if let Some(v) = &filter.provider_id {
        query = query.filter(ce_activities::provider_id.eq(v.clone()));
    }
    if let Some(v) = &filter.organisation_id {
        query = query.filter(ce_activities::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.region {
        query = query.filter(ce_activities::region.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(ce_activities::organisation_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(ce_activities::id.gt(after.to_owned()));
    }
    let rows = query
        .order(ce_activities::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// The people already credited for an activity (CED-3: never twice).
pub fn credited_people(
    conn: &mut DbConn,
    activity_id: &str,
) -> Result<HashSet<String>, StoreError> {
    Ok(ce_credits::table
        .filter(ce_credits::activity_id.eq(activity_id))
        .select(ce_credits::person_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// The people with these ids, by id (unknown ids are absent).
pub fn people_by_ids(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, PersonRow>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        for row in people::table
            .filter(people::id.eq_any(chunk))
            .select(PersonRow::as_select())
            .load(conn)?
        {
            out.insert(row.id.clone(), row);
        }
    }
    Ok(out)
}

/// The people holding these normalised ID numbers, by `(id_type, id_number)`.
pub fn people_by_id_numbers(
    conn: &mut DbConn,
    id_numbers: &[String],
) -> Result<HashMap<(String, String), PersonRow>, StoreError> {
    let mut out = HashMap::new();
    for chunk in id_numbers.chunks(IN_CHUNK) {
        for row in people::table
            .filter(people::id_number.eq_any(chunk))
            .select(PersonRow::as_select())
            .load(conn)?
        {
            out.insert((row.id_type.clone(), row.id_number.clone()), row);
        }
    }
    Ok(out)
}

/// The regions of these organisations, by id (organisations without one are absent).
pub fn organisation_regions(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        for (id, region) in organisations::table
            .filter(organisations::id.eq_any(chunk))
            .select((organisations::id, organisations::region))
            .load::<(String, Option<String>)>(conn)?
        {
            if let Some(region) = region {
                out.insert(id, region);
            }
        }
    }
    Ok(out)
}

/// One credit of an activity with its person's name and ID number.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityCreditRow {
    pub credit: CeCreditRow,
    pub person_name: String,
    pub person_id_number: String,
}

/// Lists the credits recorded for an activity in id (recording) order after `after`.
pub fn credits_of_activity(
    conn: &mut DbConn,
    activity_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<ActivityCreditRow>, StoreError> {
    let mut query = ce_credits::table
        .inner_join(people::table.on(people::id.eq(ce_credits::person_id)))
        .filter(ce_credits::activity_id.eq(activity_id))
        .select((CeCreditRow::as_select(), people::name, people::id_number))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(ce_credits::id.gt(after.to_owned()));
    }
    let rows = query
        .order(ce_credits::id.asc())
        .limit(limit + 1)
        .load::<(CeCreditRow, String, String)>(conn)?
        .into_iter()
        .map(
            |(credit, person_name, person_id_number)| ActivityCreditRow {
                credit,
                person_name,
                person_id_number,
            },
        )
        .collect();
    Ok(page_of(rows, limit, |r| r.credit.id.clone()))
}
