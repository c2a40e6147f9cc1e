//! The continuing-education credit register (CED-3, CED-5, CED-6): credit
//! records and the per-person yearly roll-up `ce_person_years` that keeps
//! compliance and statistics fast.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{
    ce_activities, ce_credits, ce_person_years, ce_providers, organisations, people,
};
use crate::{DbConn, Page, StoreError, page_of};

/// The subject category of public credits (CED-3), as stored.
pub const PUBLIC: &str = "public";
/// The subject category of professional credits (CED-3), as stored.
pub const PROFESSIONAL: &str = "professional";

/// One `ce_credits` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ce_credits, treat_none_as_null = true)]
pub struct CeCreditRow {
    pub id: String,
    pub activity_id: String,
    pub person_id: String,
    pub year: i32,
    pub earned_on: chrono::NaiveDate,
    pub source: String,
    pub subject_category: String,
    pub credits: i32,
    pub hours: i32,
    pub fee_fen: i64,
    pub exam_based: bool,
    pub exam_score: Option<i32>,
    pub exam_passed: Option<bool>,
    pub provider_id: Option<String>,
    pub organisation_id: Option<String>,
    pub occupation: Option<String>,
    pub region: Option<String>,
    pub evidence_json: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// One `ce_person_years` row: a person's credits of one calendar year, summed.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ce_person_years, treat_none_as_null = true)]
pub struct CePersonYearRow {
    pub person_id: String,
    pub year: i32,
    pub region: Option<String>,
    pub organisation_id: Option<String>,
    pub occupation: Option<String>,
    pub total_credits: i32,
    pub public_credits: i32,
    pub professional_credits: i32,
    pub exam_credits: i32,
    pub hours: i32,
    pub fee_fen: i64,
    pub records: i32,
    pub updated_at: NaiveDateTime,
}

/// Whether a credit counts towards the exam-based minimum (CED-2): it comes
/// from a subject exam, is professional, and the exam was not failed.
pub fn counts_as_exam(row: &CeCreditRow) -> bool {
    row.exam_based && row.subject_category == PROFESSIONAL && row.exam_passed != Some(false)
}

/// Inserts credit `rows` and adds them to the yearly roll-up of each person
/// (`ce_person_years`), inside the caller's write transaction so the two never
/// disagree. A person-year's region, organisation and occupation become those
/// of the latest row written. The roll-up row is created up front with a
/// portable "insert unless present" and then incremented: on PostgreSQL the
/// update holds the row lock until commit, so concurrent recorders add up;
/// SQLite serialises write transactions anyway.
pub fn insert_credits(
    conn: &mut DbConn,
    rows: &[CeCreditRow],
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    for chunk in rows.chunks(500) {
        let insert = diesel::insert_into(ce_credits::table).values(chunk);
        match conn {
            DbConn::Postgres(c) => {
                insert.execute(c)?;
            }
            DbConn::Sqlite(c) => {
                insert.execute(c)?;
            }
        }
    }
    for row in rows {
        let empty = CePersonYearRow {
            person_id: row.person_id.clone(),
            year: row.year,
            region: row.region.clone(),
            organisation_id: row.organisation_id.clone(),
            occupation: row.occupation.clone(),
            total_credits: 0,
            public_credits: 0,
            professional_credits: 0,
            exam_credits: 0,
            hours: 0,
            fee_fen: 0,
            records: 0,
            updated_at: at,
        };
        let insert = diesel::insert_into(ce_person_years::table).values(&empty);
        match conn {
            DbConn::Postgres(c) => {
                insert.on_conflict_do_nothing().execute(c)?;
            }
            DbConn::Sqlite(c) => {
                insert.on_conflict_do_nothing().execute(c)?;
            }
        }
        let public = if row.subject_category == PUBLIC {
            row.credits
        } else {
            0
        };
        let professional = if row.subject_category == PROFESSIONAL {
            row.credits
        } else {
            0
        };
        let exam = if counts_as_exam(row) { row.credits } else { 0 };
        diesel::update(ce_person_years::table.find((&row.person_id, row.year)))
            .set((
                ce_person_years::total_credits.eq(ce_person_years::total_credits + row.credits),
                ce_person_years::public_credits.eq(ce_person_years::public_credits + public),
                ce_person_years::professional_credits
                    .eq(ce_person_years::professional_credits + professional),
                ce_person_years::exam_credits.eq(ce_person_years::exam_credits + exam),
                ce_person_years::hours.eq(ce_person_years::hours + row.hours),
                ce_person_years::fee_fen.eq(ce_person_years::fee_fen + row.fee_fen),
                ce_person_years::records.eq(ce_person_years::records + 1),
                ce_person_years::region.eq(&row.region),
                ce_person_years::organisation_id.eq(&row.organisation_id),
                ce_person_years::occupation.eq(&row.occupation),
                ce_person_years::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The roll-up row of `person_id` in `year`, if they have any credit that
/// year: one primary-key lookup (CED-5).
pub fn find_person_year(
    conn: &mut DbConn,
    person_id: &str,
    year: i32,
) -> Result<Option<CePersonYearRow>, StoreError> {
    Ok(ce_person_years::table
        .find((person_id, year))
        .select(CePersonYearRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds a `ce_credits` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<CeCreditRow>, StoreError> {
    Ok(ce_credits::table
        .find(id)
        .select(CeCreditRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct CreditFilter {
    pub person_id: Option<String>,
    pub year: Option<i32>,
    pub activity_id: Option<String>,
    pub provider_id: Option<String>,
    pub subject_category: Option<String>,
    /// Confines the list to one person's credits (trainees, CED-5).
    pub only_person: Option<String>,
    /// Confines the list to the current staff of an organisation and the
    /// activities it recorded itself (organisation accounts, CED-5, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to the credits of activities an organisation
    /// recorded (provider accounts, CED-5).
    pub only_activities_of: Option<String>,
}

/// Lists credit records in id (recording) order after `after` (CED-5).
pub fn list(
    conn: &mut DbConn,
    filter: &CreditFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<CeCreditRow>, StoreError> {
    let mut query = ce_credits::table
        .select(CeCreditRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.person_id {
        query = query.filter(ce_credits::person_id.eq(v.clone()));
    }
    if let Some(v) = filter.year {
        query = query.filter(ce_credits::year.eq(v));
    }
    if let Some(v) = &filter.activity_id {
        query = query.filter(ce_credits::activity_id.eq(v.clone()));
    }
    if let Some(v) = &filter.provider_id {
        query = query.filter(ce_credits::provider_id.eq(v.clone()));
    }
    if let Some(v) = &filter.subject_category {
        query = query.filter(ce_credits::subject_category.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(ce_credits::person_id.eq(v.clone()));
    }
    if let Some(org) = &filter.only_organisation {
        let staff = people::table
            .filter(people::organisation_id.eq(org.clone()))
            .select(people::id);
        let own_activities = ce_activities::table
            .filter(ce_activities::organisation_id.eq(org.clone()))
            .select(ce_activities::id);
        query = query.filter(
            ce_credits::person_id
                .eq_any(staff)
                .or(ce_credits::activity_id.eq_any(own_activities)),
        );
    }
    if let Some(org) = &filter.only_activities_of {
        let own_activities = ce_activities::table
            .filter(ce_activities::organisation_id.eq(org.clone()))
            .select(ce_activities::id);
        query = query.filter(ce_credits::activity_id.eq_any(own_activities));
    }
    if let Some(after) = after {
        query = query.filter(ce_credits::id.gt(after.to_owned()));
    }
    let rows = query
        .order(ce_credits::id.asc())
        .limit(limit + 1)
        .load::<CeCreditRow>(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// A person of an organisation with their roll-up of one year, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffYear {
    pub person_id: String,
    pub name: String,
    pub occupation: Option<String>,
    pub skill_level: Option<String>,
    pub skill_certificate_issued_on: Option<chrono::NaiveDate>,
    /// `None` when the person has no credit that year.
    pub year_row: Option<CePersonYearRow>,
}

/// The current staff of `organisation_id` in id order after `after` (at most
/// `limit`), each with their roll-up of `year` — people without any credit
/// that year included (CED-5: they are the furthest behind).
pub fn staff_years(
    conn: &mut DbConn,
    organisation_id: &str,
    year: i32,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<StaffYear>, StoreError> {
    let mut query = people::table
        .filter(people::organisation_id.eq(organisation_id.to_owned()))
        .select((
            people::id,
            people::name,
            people::occupation,
            people::skill_level,
            people::skill_certificate_issued_on,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(people::id.gt(after.to_owned()));
    }
    #[allow(clippy::type_complexity)]
    let staff: Vec<(
        String,
        String,
        Option<String>,
        Option<String>,
        Option<chrono::NaiveDate>,
    )> = query.order(people::id.asc()).limit(limit).load(conn)?;
    let ids: Vec<&String> = staff.iter().map(|s| &s.0).collect();
    let mut years: std::collections::HashMap<String, CePersonYearRow> = ce_person_years::table
        .filter(ce_person_years::year.eq(year))
        .filter(ce_person_years::person_id.eq_any(ids))
        .select(CePersonYearRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.person_id.clone(), r))
        .collect();
    Ok(staff
        .into_iter()
        .map(
            |(person_id, name, occupation, skill_level, issued)| StaffYear {
                year_row: years.remove(&person_id),
                person_id,
                name,
                occupation,
                skill_level,
                skill_certificate_issued_on: issued,
            },
        )
        .collect())
}

/// What CED-6 statistics group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatDimension {
    Year,
    Region,
    Organisation,
    Occupation,
    Provider,
}

/// One group of a statistic: distinct people, credits, hours and fees.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct StatRow {
    /// The group's value (region, organisation id, occupation, provider id or
    /// year); `None` for records without one.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub people: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub credits: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub hours: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub fee_fen: i64,
}

fn load_stats(conn: &mut DbConn, sql: &str) -> Result<Vec<StatRow>, StoreError> {
    Ok(match conn {
        DbConn::Postgres(c) => diesel::sql_query(sql).load::<StatRow>(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(sql).load::<StatRow>(c)?,
    })
}

/// Runs a statistics query that groups hundreds of thousands of rows. On
/// PostgreSQL it runs in a read-only transaction with enough `work_mem` for
/// the grouping to stay in memory (the default 4 MB spills it to disk) and
/// without JIT (whose compile time exceeds its gain here); `SET LOCAL` ends
/// with the transaction, so the pooled connection keeps its settings.
fn load_large_stats(conn: &mut DbConn, sql: &str) -> Result<Vec<StatRow>, StoreError> {
    match conn {
        DbConn::Postgres(c) => Ok(c.build_transaction().read_only().run(|c| {
            diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(c)?;
            diesel::sql_query("SET LOCAL jit = off").execute(c)?;
            diesel::sql_query(sql).load::<StatRow>(c)
        })?),
        DbConn::Sqlite(_) => load_stats(conn, sql),
    }
}

const SUMS: &str = "CAST(COALESCE(SUM(total_credits), 0) AS BIGINT) AS credits, \
     CAST(COALESCE(SUM(hours), 0) AS BIGINT) AS hours, \
     CAST(COALESCE(SUM(fee_fen), 0) AS BIGINT) AS fee_fen";

/// CED-6: people, credits, hours and fees of `year` (every year when `None`)
/// per group of `by`, in no particular order. Region, organisation and
/// occupation are those of each person-year (its latest credit); they read
/// the roll-up `ce_person_years`, one row per person and year. Provider
/// groups read the credits themselves (a person learns with several
/// providers): the year's credits are first summed per provider and person,
/// then per provider, so each person counts once per provider without a
/// `COUNT(DISTINCT)` sort; it runs with [`load_large_stats`]. An index on
/// `ce_credits (year, provider_id, person_id, credits, hours, fee_fen)` turns
/// it into an index-only scan in group order (about 4 times faster at a
/// million credits). The year is an integer put into the SQL text.
pub fn statistics(
    conn: &mut DbConn,
    year: Option<i32>,
    by: StatDimension,
) -> Result<Vec<StatRow>, StoreError> {
    let year_filter = |col: &str| match year {
        Some(y) => format!("WHERE {col} = {y}"),
        None => String::new(),
    };
    let person_years = |key: &str| {
        format!(
            "SELECT {key} AS key, COUNT(*) AS people, {SUMS} FROM ce_person_years {} GROUP BY {key}",
            year_filter("year")
        )
    };
    let large = by == StatDimension::Provider;
    let sql = match by {
        StatDimension::Region => person_years("region"),
        StatDimension::Organisation => person_years("organisation_id"),
        StatDimension::Occupation => person_years("occupation"),
        StatDimension::Year => format!(
            "SELECT CAST(year AS TEXT) AS key, COUNT(*) AS people, {SUMS} \
             FROM ce_person_years {} GROUP BY year",
            year_filter("year")
        ),
        StatDimension::Provider => format!(
            "SELECT provider_id AS key, COUNT(*) AS people, \
             CAST(SUM(c) AS BIGINT) AS credits, CAST(SUM(h) AS BIGINT) AS hours, \
             CAST(SUM(f) AS BIGINT) AS fee_fen \
             FROM (SELECT provider_id, person_id, SUM(credits) AS c, SUM(hours) AS h, \
                   SUM(fee_fen) AS f FROM ce_credits {} GROUP BY provider_id, person_id) t \
             GROUP BY provider_id",
            year_filter("year")
        ),
    };
    if large {
        load_large_stats(conn, &sql)
    } else {
        load_stats(conn, &sql)
    }
}

/// CED-6: the totals of `year` (every year when `None`): distinct people and
/// all credits, hours and fees, from the roll-up.
pub fn statistics_totals(conn: &mut DbConn, year: Option<i32>) -> Result<StatRow, StoreError> {
    let people = if year.is_some() {
        "COUNT(*)"
    } else {
        "COUNT(DISTINCT person_id)"
    };
    let filter = match year {
        Some(y) => format!("WHERE year = {y}"),
        None => String::new(),
    };
    let sql = format!(
        "SELECT CAST(NULL AS TEXT) AS key, {people} AS people, {SUMS} FROM ce_person_years {filter}"
    );
    let mut rows = load_stats(conn, &sql)?;
    Ok(rows.pop().unwrap_or(StatRow {
        key: None,
        people: 0,
        credits: 0,
        hours: 0,
        fee_fen: 0,
    }))
}

/// The names of these organisations, by id (statistics labels, CED-6).
pub fn organisation_names(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        out.extend(
            organisations::table
                .filter(organisations::id.eq_any(chunk))
                .select((organisations::id, organisations::name))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// The names of these providers, by id (statistics labels, CED-6).
pub fn provider_names(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        out.extend(
            ce_providers::table
                .filter(ce_providers::id.eq_any(chunk))
                .select((ce_providers::id, ce_providers::name))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(out)
}
