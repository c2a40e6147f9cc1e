//! The working-day calendar: public holidays and make-up working days (ARC-2).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::calendar_days;
use crate::{DbConn, StoreError};

/// One `calendar_days` row: a date that is not what its weekday says.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = calendar_days, treat_none_as_null = true)]
pub struct CalendarDayRow {
    pub day: NaiveDate,
    pub kind: String,
    pub name: String,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// Finds the entry of one date.
pub fn find(conn: &mut DbConn, day: NaiveDate) -> Result<Option<CalendarDayRow>, StoreError> {
    Ok(calendar_days::table
        .find(day)
        .select(CalendarDayRow::as_select())
        .first(conn)
        .optional()?)
}

/// The entries from `from` to `to` (both included), in date order.
pub fn between(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarDayRow>, StoreError> {
    Ok(calendar_days::table
        .filter(calendar_days::day.ge(from))
        .filter(calendar_days::day.le(to))
        .order(calendar_days::day.asc())
        .select(CalendarDayRow::as_select())
        .load(conn)?)
}

/// Every entry, in date order. The calendar holds a few dozen dates a year,
/// so due-date rules load it whole.
pub fn all(conn: &mut DbConn) -> Result<Vec<CalendarDayRow>, StoreError> {
    Ok(calendar_days::table
        .order(calendar_days::day.asc())
        .select(CalendarDayRow::as_select())
        .load(conn)?)
}

/// Inserts the entry of a date that has none.
pub fn insert(conn: &mut DbConn, row: &CalendarDayRow) -> Result<(), StoreError> {
    diesel::insert_into(calendar_days::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Replaces the entry of `row.day`, which exists.
pub fn update(conn: &mut DbConn, row: &CalendarDayRow) -> Result<(), StoreError> {
    diesel::update(calendar_days::table.find(row.day))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Removes the entry of a date; whether there was one.
pub fn delete(conn: &mut DbConn, day: NaiveDate) -> Result<bool, StoreError> {
    let n = diesel::delete(calendar_days::table.find(day)).execute(conn)?;
    Ok(n > 0)
}
