//! Enrolments (ENR-1 to ENR-5).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::people::PersonRow;
use crate::schema::{enrolments, people};
use crate::{DbConn, Page, StoreError, page_of};

/// Statuses that no longer count as the person's enrolment in the class (ENR-5);
/// the same list as the partial unique index `enrolments_one_live_per_class`.
const NOT_LIVE: [&str; 2] = ["cancelled", "transferred"];

/// Rows per `IN (...)` list, well below SQLite's bound-parameter limit.
const CHUNK: usize = 500;

/// One `enrolments` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = enrolments, treat_none_as_null = true)]
pub struct EnrolmentRow {
    pub id: String,
    pub class_id: String,
    pub person_id: String,
    pub organisation_id: Option<String>,
    pub channel: String,
    pub status: String,
    pub submitted_at: Option<NaiveDateTime>,
    pub org_approved_by: Option<String>,
    pub org_approved_at: Option<NaiveDateTime>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub waitlisted_at: Option<NaiveDateTime>,
    pub paid_at: Option<NaiveDateTime>,
    pub notified_at: Option<NaiveDateTime>,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<NaiveDateTime>,
    pub rejection_reason: Option<String>,
    pub transferred_from_id: Option<String>,
    pub created_by: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `enrolments` row.
pub fn insert(conn: &mut DbConn, row: &EnrolmentRow) -> Result<(), StoreError> {
    diesel::insert_into(enrolments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `enrolments` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<EnrolmentRow>, StoreError> {
    Ok(enrolments::table
        .find(id)
        .select(EnrolmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(
    conn: &mut DbConn,
    row: &mut EnrolmentRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        enrolments::table
            .filter(enrolments::id.eq(&row.id))
            .filter(enrolments::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale {
            table: "enrolments",
        })
    }
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct EnrolmentFilter {
    pub class_id: Option<String>,
    pub status: Option<String>,
    pub person_id: Option<String>,
    pub organisation_id: Option<String>,
    /// Confines the list to one organisation (organisation users, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to one person (trainees).
    pub only_person: Option<String>,
}

/// Lists enrolments with their person's name, in id order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &EnrolmentFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<(EnrolmentRow, String)>, StoreError> {
    let mut query = enrolments::table
        .inner_join(people::table)
        .select((EnrolmentRow::as_select(), people::name))
        .into_boxed();
    if let Some(v) = &filter.class_id {
        query = query.filter(enrolments::class_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(enrolments::status.eq(v.clone()));
    }
    if let Some(v) = &filter.person_id {
        query = query.filter(enrolments::person_id.eq(v.clone()));
    }
    if let Some(v) = &filter.organisation_id {
        query = query.filter(enrolments::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(enrolments::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(enrolments::person_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(enrolments::id.gt(after.to_owned()));
    }
    let rows = query
        .order(enrolments::id.asc())
        .limit(limit + 1)
        .load::<(EnrolmentRow, String)>(conn)?;
    Ok(page_of(rows, limit, |(r, _)| r.id.clone()))
}

/// The person's live enrolment in the class, if any (ENR-5).
pub fn find_live(
    conn: &mut DbConn,
    class_id: &str,
    person_id: &str,
) -> Result<Option<EnrolmentRow>, StoreError> {
    Ok(enrolments::table
        .filter(enrolments::class_id.eq(class_id))
        .filter(enrolments::person_id.eq(person_id))
        .filter(enrolments::status.ne_all(NOT_LIVE))
        .select(EnrolmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The ids of every person with a live enrolment in the class (ENR-5, bulk checks).
pub fn live_person_ids(conn: &mut DbConn, class_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(enrolments::table
        .filter(enrolments::class_id.eq(class_id))
        .filter(enrolments::status.ne_all(NOT_LIVE))
        .select(enrolments::person_id)
        .load(conn)?)
}

/// The class's waiting list in order of submission (CLS-3): `submitted_at`,
/// then id; optionally only one organisation's entries.
pub fn waiting_list(
    conn: &mut DbConn,
    class_id: &str,
    organisation_id: Option<&str>,
) -> Result<Vec<EnrolmentRow>, StoreError> {
    let mut query = enrolments::table
        .filter(enrolments::class_id.eq(class_id))
        .filter(enrolments::status.eq("waitlisted"))
        .select(EnrolmentRow::as_select())
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(enrolments::organisation_id.eq(org.to_owned()));
    }
    Ok(query
        .order((enrolments::submitted_at.asc(), enrolments::id.asc()))
        .load(conn)?)
}

/// Enrolments of the class in one status, in id order.
pub fn in_class_with_status(
    conn: &mut DbConn,
    class_id: &str,
    status: &str,
) -> Result<Vec<EnrolmentRow>, StoreError> {
    Ok(enrolments::table
        .filter(enrolments::class_id.eq(class_id))
        .filter(enrolments::status.eq(status))
        .select(EnrolmentRow::as_select())
        .order(enrolments::id.asc())
        .load(conn)?)
}

/// The people holding any of `id_numbers` (any document type; callers match
/// the type), fetched in a few batched queries (PPL-3 lookups of a bulk file).
pub fn people_by_id_numbers(
    conn: &mut DbConn,
    id_numbers: &[String],
) -> Result<Vec<PersonRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in id_numbers.chunks(CHUNK) {
        out.extend(
            people::table
                .filter(people::id_number.eq_any(chunk))
                .select(PersonRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// The names of the given people, by id.
pub fn person_names(
    conn: &mut DbConn,
    person_ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut out = Vec::new();
    for chunk in person_ids.chunks(CHUNK) {
        out.extend(
            people::table
                .filter(people::id.eq_any(chunk))
                .select((people::id, people::name))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// Rows per multi-row `INSERT`: 200 rows of at most 22 columns stay far below
/// the bound-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
const INSERT_CHUNK: usize = 200;

/// Inserts many enrolments in multi-row statements (bulk upload, ENR-1). The
/// partial unique index still guards ENR-5: a duplicate fails the statement.
pub fn insert_many(conn: &mut DbConn, rows: &[EnrolmentRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let query = diesel::insert_into(enrolments::table).values(chunk);
        // Multi-row inserts are backend-specific in Diesel; the SQL is the same.
        match conn {
            DbConn::Postgres(c) => query.execute(c)?,
            DbConn::Sqlite(c) => query.execute(c)?,
        };
    }
    Ok(())
}

/// Inserts many people in multi-row statements (bulk upload, PPL-3: one record per ID number).
pub fn insert_people(conn: &mut DbConn, rows: &[PersonRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let query = diesel::insert_into(people::table).values(chunk);
        match conn {
            DbConn::Postgres(c) => query.execute(c)?,
            DbConn::Sqlite(c) => query.execute(c)?,
        };
    }
    Ok(())
}
