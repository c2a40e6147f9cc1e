//! Bans from training and exams (DSC-4), checked by enrolment (ENR-4).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::bans;
use crate::{DbConn, Page, StoreError, page_of};

/// One `bans` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bans)]
pub struct BanRow {
    pub id: String,
    pub person_id: String,
    pub scope: String,
    pub program_id: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub reason: String,
    pub rule: String,
    pub sanction_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_reason: Option<String>,
}

/// Inserts a `bans` row.
pub fn insert(conn: &mut DbConn, row: &BanRow) -> Result<(), StoreError> {
    diesel::insert_into(bans::table).values(row).execute(conn)?;
    Ok(())
}

/// Finds a `bans` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<BanRow>, StoreError> {
    Ok(bans::table
        .find(id)
        .select(BanRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct BanFilter {
    pub person_id: Option<String>,
    /// Only bans in force on this day (not withdrawn, `starts_on <= day <= ends_on`).
    pub active_on: Option<NaiveDate>,
    /// Only bans not in force on this day.
    pub inactive_on: Option<NaiveDate>,
}

/// Lists bans in id order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &BanFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<BanRow>, StoreError> {
    let mut query = bans::table.select(BanRow::as_select()).into_boxed();
    if let Some(p) = &filter.person_id {
        query = query.filter(bans::person_id.eq(p.clone()));
    }
    if let Some(day) = filter.active_on {
        query = query
            .filter(bans::withdrawn_at.is_null())
            .filter(bans::starts_on.le(day))
            .filter(bans::ends_on.ge(day));
    }
    if let Some(day) = filter.inactive_on {
        query = query.filter(
            bans::withdrawn_at
                .is_not_null()
                .or(bans::starts_on.gt(day))
                .or(bans::ends_on.lt(day)),
        );
    }
    if let Some(after) = after {
        query = query.filter(bans::id.gt(after.to_owned()));
    }
    let rows = query.order(bans::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// The bans of these people that are not withdrawn and not over by `today`
/// (the candidates for ENR-4; the domain decides which block), in batched queries.
pub fn current_for_people(
    conn: &mut DbConn,
    person_ids: &[String],
    today: NaiveDate,
) -> Result<Vec<BanRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in person_ids.chunks(500) {
        out.extend(
            bans::table
                .filter(bans::person_id.eq_any(chunk))
                .filter(bans::withdrawn_at.is_null())
                .filter(bans::ends_on.ge(today))
                .select(BanRow::as_select())
                .order(bans::id.asc())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Records the withdrawal of a ban (DSC-5) unless it is already withdrawn;
/// answers whether this call withdrew it.
pub fn withdraw(
    conn: &mut DbConn,
    id: &str,
    by: &str,
    reason: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        bans::table
            .filter(bans::id.eq(id))
            .filter(bans::withdrawn_at.is_null()),
    )
    .set((
        bans::withdrawn_at.eq(Some(at)),
        bans::withdrawn_by.eq(Some(by)),
        bans::withdrawal_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
