//! The working-day calendar (ARC-2): the public holidays and the make-up
//! working days on weekends that archive due dates are counted on. Every
//! other Monday to Friday is a working day, every other Saturday and Sunday
//! not. Due dates are computed at read time from the calendar as it stands,
//! so a day entered later moves them.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::calendar::{CalendarDayKind, WorkCalendar, check_day};
use guild_store::DbConn;
use guild_store::calendar::CalendarDayRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::stored_id;

const T: &str = "calendar_days";

/// One date of the working-day calendar (ARC-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDayView {
    /// The date.
    pub date: NaiveDate,
    /// `holiday` (never a working day) or `workday` (a make-up working day on a weekend).
    pub kind: CalendarDayKind,
    /// What the day is, e.g. `国庆节` or `National Day make-up day`.
    pub name: String,
    /// Who last set it.
    pub updated_by: Uuid,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl CalendarDayView {
    /// The record of a stored calendar day.
    pub fn from_row(r: &CalendarDayRow) -> AppResult<Self> {
        Ok(CalendarDayView {
            date: r.day,
            kind: stored(T, &r.kind)?,
            name: r.name.clone(),
            updated_by: stored_id(T, &r.updated_by)?,
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// The calendar entries of one year (at most 366, so not paginated).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarYear {
    /// The year.
    pub year: i32,
    /// Its holidays and make-up working days, in date order. Every other
    /// Monday to Friday is a working day, every other Saturday and Sunday not.
    pub days: Vec<CalendarDayView>,
}

/// Sets one date of the calendar.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"kind": "holiday", "name": "国庆节"})))]
pub struct SetCalendarDay {
    /// `holiday`, or `workday` for a make-up working day (Saturday or Sunday only).
    pub kind: CalendarDayKind,
    /// What the day is.
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
}

/// Whether [`set_day`] created the date's entry or replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// The date had no entry.
    Created,
    /// The date's entry was replaced.
    Replaced,
}

/// Date arithmetic that left the supported range: our fault, never the client's.
pub(crate) fn out_of_range() -> AppError {
    AppError::Internal("date arithmetic left the supported range".to_owned())
}

/// The whole calendar, as due dates are computed against it (ARC-2).
pub fn work_calendar(conn: &mut DbConn) -> AppResult<WorkCalendar> {
    let rows = guild_store::calendar::all(conn)?;
    Ok(WorkCalendar::new(
        rows.iter()
            .map(|r| Ok((r.day, stored(T, &r.kind)?)))
            .collect::<AppResult<Vec<_>>>()?,
    ))
}

/// The holidays and make-up working days of `year` (default: the current
/// year in the association's time zone). The caller checked the range.
pub fn year(ctx: &Ctx, conn: &mut DbConn, year: Option<i32>) -> AppResult<CalendarYear> {
    let year = year.unwrap_or_else(|| ctx.today().year());
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(out_of_range)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(out_of_range)?;
    let days = guild_store::calendar::between(conn, first, last)?
        .iter()
        .map(CalendarDayView::from_row)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(CalendarYear { year, days })
}

fn emit(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    date: NaiveDate,
    before: Option<&CalendarDayView>,
    after: Option<&CalendarDayView>,
) -> AppResult<()> {
    ctx.emit(conn, Event::new(kind, "calendar_day", date, before, after)?)
}

/// Sets `date` (ARC-2): a `holiday` is never a working day; a `workday` is
/// a make-up working day and must be a Saturday or Sunday
/// (`workday_not_on_weekend`). Replaces the date's entry or creates it.
/// Emits `calendar_day.set`.
pub fn set_day(
    ctx: &Ctx,
    conn: &mut DbConn,
    date: NaiveDate,
    body: SetCalendarDay,
) -> AppResult<(Set, CalendarDayView)> {
    let name = check_day(date, body.kind, &body.name)?;
    let before = guild_store::calendar::find(conn, date)?;
    let row = CalendarDayRow {
        day: date,
        kind: body.kind.as_str().to_owned(),
        name,
        updated_by: ctx.caller()?.id.clone(),
        updated_at: ctx.now.naive_utc(),
    };
    match &before {
        Some(_) => guild_store::calendar::update(conn, &row)?,
        None => guild_store::calendar::insert(conn, &row)?,
    }
    let before = before.as_ref().map(CalendarDayView::from_row).transpose()?;
    let after = CalendarDayView::from_row(&row)?;
    emit(
        ctx,
        conn,
        ev::CALENDAR_DAY_SET,
        date,
        before.as_ref(),
        Some(&after),
    )?;
    let set = if before.is_none() {
        Set::Created
    } else {
        Set::Replaced
    };
    Ok((set, after))
}

/// Removes `date`'s entry (ARC-2): the date is again what its weekday says.
/// 404 when the date has no entry. Emits `calendar_day.deleted`.
pub fn delete_day(ctx: &Ctx, conn: &mut DbConn, date: NaiveDate) -> AppResult<()> {
    let before =
        guild_store::calendar::find(conn, date)?.ok_or(AppError::NotFound("calendar day"))?;
    guild_store::calendar::delete(conn, date)?;
    let before = CalendarDayView::from_row(&before)?;
    emit(
        ctx,
        conn,
        ev::CALENDAR_DAY_DELETED,
        date,
        Some(&before),
        None,
    )
}
