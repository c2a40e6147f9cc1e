//! The scheduler's tables (CRT-4, CRT-8, ARC-2, CED-2): worker leases (one
//! instance at a time runs a worker) and the occasions already announced
//! (each fires once), plus the scans that find candidate records.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use crate::certificates::CertificateRow;
use crate::people::PersonRow;
use crate::schema::{certificates, people, scheduled_events, worker_leases};
use crate::{DbConn, StoreError};

/// Takes or renews the lease `name` for `holder` until `expires_at`: inserts
/// it, renews it when `holder` already holds it, or takes it over when the
/// other holder let it expire before `now`. One upsert statement, so two
/// instances never both hold it. `true` when `holder` holds the lease now.
pub fn acquire_lease(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    const UPSERT: &str = "INSERT INTO worker_leases (name, holder, expires_at) VALUES ({1}, {2}, {3}) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE worker_leases.holder = excluded.holder OR worker_leases.expires_at < {4}";
    let changed = match conn {
        DbConn::Postgres(c) => diesel::sql_query(
            UPSERT
                .replace("{1}", "$1")
                .replace("{2}", "$2")
                .replace("{3}", "$3")
                .replace("{4}", "$4"),
        )
        .bind::<Text, _>(name)
        .bind::<Text, _>(holder)
        .bind::<Timestamp, _>(expires_at)
        .bind::<Timestamp, _>(now)
        .execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(
            UPSERT
                .replace("{1}", "?")
                .replace("{2}", "?")
                .replace("{3}", "?")
                .replace("{4}", "?"),
        )
        .bind::<Text, _>(name)
        .bind::<Text, _>(holder)
        .bind::<Timestamp, _>(expires_at)
        .bind::<Timestamp, _>(now)
        .execute(c)?,
    };
    Ok(changed == 1)
}

/// The holder of lease `name` and when it expires, if anyone took it.
pub fn lease(conn: &mut DbConn, name: &str) -> Result<Option<(String, NaiveDateTime)>, StoreError> {
    Ok(worker_leases::table
        .find(name)
        .select((worker_leases::holder, worker_leases::expires_at))
        .first(conn)
        .optional()?)
}

/// One announced occasion.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = scheduled_events)]
pub struct ScheduledEventRow {
    /// The event kind, e.g. `certificate.expiring`.
    pub kind: String,
    /// The record it is about.
    pub entity_id: String,
    /// Which occasion of the record, e.g. `90:2029-03-01` or `2026`.
    pub occasion: String,
    /// The id of the audit event and outbox row that announced it.
    pub event_id: String,
    pub emitted_at: NaiveDateTime,
}

/// Claims an occasion inside the transaction that announces it: `false`
/// when it was claimed before (by this or another instance), and then
/// nothing is written.
pub fn claim(conn: &mut DbConn, row: &ScheduledEventRow) -> Result<bool, StoreError> {
    let insert = diesel::insert_into(scheduled_events::table).values(row);
    let n = match conn {
        DbConn::Postgres(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(n == 1)
}

/// Releases a claim made in the same transaction whose occasion turned out
/// not to be due after all (the record changed since the scan).
pub fn release(
    conn: &mut DbConn,
    kind: &str,
    entity_id: &str,
    occasion: &str,
) -> Result<(), StoreError> {
    diesel::delete(scheduled_events::table.find((kind, entity_id, occasion))).execute(conn)?;
    Ok(())
}

/// Whether an occasion was announced already (a cheap check before the
/// write transaction; [`claim`] decides).
pub fn claimed(
    conn: &mut DbConn,
    kind: &str,
    entity_id: &str,
    occasion: &str,
) -> Result<bool, StoreError> {
    Ok(scheduled_events::table
        .find((kind, entity_id, occasion))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Active certificates whose last valid day lies in `[from, to]`, in id
/// order after `after` (the candidates of CRT-4 and CRT-8 occasions).
pub fn certificates_ending_between(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CertificateRow>, StoreError> {
    let mut query = certificates::table
        .filter(certificates::status.eq("active"))
        .filter(certificates::valid_until.ge(from))
        .filter(certificates::valid_until.le(to))
        .select(CertificateRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(certificates::id.gt(after.to_owned()));
    }
    Ok(query
        .order(certificates::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// People whose skill certificate was issued before `before` and who have
/// no announced occasion `occasion` of `kind` yet, in id order after `after`
/// (the candidates of the CE reminder, CED-1).
pub fn people_certified_before(
    conn: &mut DbConn,
    before: NaiveDate,
    (kind, occasion): (&str, &str),
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PersonRow>, StoreError> {
    let announced = scheduled_events::table
        .filter(scheduled_events::kind.eq(kind.to_owned()))
        .filter(scheduled_events::occasion.eq(occasion.to_owned()))
        .filter(scheduled_events::entity_id.eq(people::id));
    let mut query = people::table
        .filter(people::skill_certificate_issued_on.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(announced)))
        .select(PersonRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(people::id.gt(after.to_owned()));
    }
    Ok(query.order(people::id.asc()).limit(limit).load(conn)?)
}
