//! The association's working-day calendar (ARC-2).
//!
//! Monday to Friday are working days and Saturday and Sunday are not, unless
//! the calendar says otherwise for a date:
//!
//! - a `holiday` (public holiday, e.g. 国庆 1–7 October) is never a working
//!   day, whatever weekday it falls on;
//! - a `workday` is a make-up working day (调休): a Saturday or Sunday on
//!   which people work to bridge a holiday. Only weekend days can be marked
//!   so ([`check_day`]): a weekday already is a working day, and marking one
//!   would only hide a typing error in the date.
//!
//! The calendar is data the training head or the administrator keeps
//! (`/archives/calendar`); rules read it as a [`WorkCalendar`] at the moment
//! of the request, so a holiday entered later moves every due date computed
//! afterwards.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

use crate::error::FieldError;
use crate::wire::wire_enum;

/// The longest name of a calendar day (`国庆节`, `Spring Festival make-up day`).
pub const DAY_NAME_MAX: usize = 100;

/// The first and last year the calendar accepts: far enough for any real
/// archive, narrow enough that date arithmetic never leaves chrono's range.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

wire_enum! {
    /// What a calendar entry makes of its date (ARC-2).
    pub enum CalendarDayKind("calendar_day_kind") {
        /// A public holiday: never a working day.
        Holiday => "holiday",
        /// A make-up working day (调休) on a Saturday or Sunday.
        Workday => "workday",
    }
}

/// Whether `day` is a Saturday or a Sunday.
pub fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Checks a calendar entry before it is stored (ARC-2): the date lies in
/// [`YEARS`]; a make-up `workday` falls on a Saturday or Sunday; the name,
/// trimmed, is 1 to [`DAY_NAME_MAX`] characters. Returns the trimmed name.
pub fn check_day(day: NaiveDate, kind: CalendarDayKind, name: &str) -> Result<String, FieldError> {
    if !YEARS.contains(&day.year()) {
        return Err(FieldError::new(
            "date",
            "date_out_of_range",
            format!(
                "the calendar covers the years {} to {}",
                YEARS.start(),
                YEARS.end()
            ),
        ));
    }
    if kind == CalendarDayKind::Workday && !is_weekend(day) {
        return Err(FieldError::new(
            "kind",
            "workday_not_on_weekend",
            format!(
                "{day} is a {:?}, already a working day; a make-up workday is a Saturday or Sunday",
                day.weekday()
            ),
        ));
    }
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 || len > DAY_NAME_MAX {
        return Err(FieldError::new(
            "name",
            "length",
            format!("must be 1 to {DAY_NAME_MAX} characters long"),
        ));
    }
    Ok(name.to_owned())
}

/// The working days of the association: weekdays, minus holidays, plus
/// make-up workdays (ARC-2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    days: BTreeMap<NaiveDate, CalendarDayKind>,
}

impl WorkCalendar {
    /// A calendar from its entries; a later entry for the same date wins.
    pub fn new(entries: impl IntoIterator<Item = (NaiveDate, CalendarDayKind)>) -> Self {
        Self {
            days: entries.into_iter().collect(),
        }
    }

    /// Whether people work on `day`: a listed `holiday` never, a listed
    /// `workday` always, otherwise Monday to Friday.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.days.get(&day) {
            Some(CalendarDayKind::Holiday) => false,
            Some(CalendarDayKind::Workday) => true,
            None => !is_weekend(day),
        }
    }

    /// The `n`th working day strictly after `day` (`day` itself never
    /// counts). `n = 0` answers `day`. `None` only at the end of chrono's
    /// date range. Always ends: the calendar lists finitely many dates, and
    /// past them every week has five working days.
    pub fn working_days_after(&self, day: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut at = day;
        let mut left = n;
        while left > 0 {
            at = at.succ_opt()?;
            if self.is_working_day(at) {
                left -= 1;
            }
        }
        Some(at)
    }

    /// The `n`th working day counting backwards from `day`, `day` itself
    /// included (`n >= 1`; `n = 0` answers the day after `day`). `None` only
    /// at the start of chrono's date range.
    pub fn nth_working_day_back_from(&self, day: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return day.succ_opt();
        }
        let mut at = day;
        let mut left = n;
        loop {
            if self.is_working_day(at) {
                left -= 1;
                if left == 0 {
                    return Some(at);
                }
            }
            at = at.pred_opt()?;
        }
    }
}

/// The first instant of the local date `day` in the time zone `tz` (midnight,
/// or the first hour that exists where a time-zone change skips midnight).
/// Instants before it fall on earlier local dates.
pub fn start_of_day(day: NaiveDate, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    (0..24).find_map(|hour| {
        let time = NaiveTime::from_hms_opt(hour, 0, 0)?;
        tz.from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// China's official 2024 National Day arrangement: 1–7 October off,
    /// Sunday 29 September and Saturday 12 October worked (调休).
    pub(crate) fn national_day_2024() -> WorkCalendar {
        let mut entries: Vec<_> = (1..=7)
            .map(|day| (d(2024, 10, day), CalendarDayKind::Holiday))
            .collect();
        entries.push((d(2024, 9, 29), CalendarDayKind::Workday));
        entries.push((d(2024, 10, 12), CalendarDayKind::Workday));
        WorkCalendar::new(entries)
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(CalendarDayKind);
    }

    #[test]
    fn weekdays_work_and_weekends_do_not_by_default() {
        // rule ARC-2
        let cal = WorkCalendar::default();
        // 6–10 April 2026 is Monday to Friday.
        for day in 6..=10 {
            assert!(cal.is_working_day(d(2026, 4, day)), "{day}");
        }
        assert!(!cal.is_working_day(d(2026, 4, 11)));
        assert!(!cal.is_working_day(d(2026, 4, 12)));
    }

    #[test]
    fn holidays_never_work_and_make_up_days_always_do() {
        // rule ARC-2
        let cal = national_day_2024();
        assert!(!cal.is_working_day(d(2024, 10, 1)), "Tuesday holiday");
        assert!(!cal.is_working_day(d(2024, 10, 5)), "Saturday holiday");
        assert!(cal.is_working_day(d(2024, 9, 29)), "Sunday make-up");
        assert!(cal.is_working_day(d(2024, 10, 12)), "Saturday make-up");
        assert!(!cal.is_working_day(d(2024, 10, 13)), "plain Sunday");
        assert!(cal.is_working_day(d(2024, 10, 8)), "plain Tuesday");
        // A holiday listed on a Saturday is still a holiday.
        let cal = WorkCalendar::new([(d(2026, 4, 11), CalendarDayKind::Holiday)]);
        assert!(!cal.is_working_day(d(2026, 4, 11)));
    }

    #[test]
    fn counting_starts_the_day_after() {
        // rule ARC-2: the starting day never counts, even when it is a working day
        let cal = WorkCalendar::default();
        assert_eq!(
            cal.working_days_after(d(2026, 4, 10), 0),
            Some(d(2026, 4, 10))
        );
        assert_eq!(
            cal.working_days_after(d(2026, 4, 10), 1),
            Some(d(2026, 4, 13))
        );
        assert_eq!(
            cal.working_days_after(d(2026, 4, 10), 5),
            Some(d(2026, 4, 17))
        );
        // From a Saturday: Monday is the first.
        assert_eq!(
            cal.working_days_after(d(2026, 4, 11), 1),
            Some(d(2026, 4, 13))
        );
    }

    #[test]
    fn counting_back_includes_the_day_itself() {
        // rule ARC-2
        let cal = national_day_2024();
        assert_eq!(
            cal.nth_working_day_back_from(d(2024, 10, 8), 1),
            Some(d(2024, 10, 8))
        );
        // 8 Oct, then 30 Sep, 29 Sep (make-up Sunday), 27 Sep, 26 Sep.
        assert_eq!(
            cal.nth_working_day_back_from(d(2024, 10, 8), 5),
            Some(d(2024, 9, 26))
        );
        assert_eq!(
            cal.nth_working_day_back_from(d(2024, 10, 6), 1),
            Some(d(2024, 9, 30))
        );
        assert_eq!(
            cal.nth_working_day_back_from(d(2024, 10, 6), 0),
            Some(d(2024, 10, 7))
        );
    }

    #[test]
    fn a_local_day_starts_at_local_midnight() {
        // rule ARC-2: dates are the association's local dates
        let start = start_of_day(d(2026, 4, 18), crate::DEFAULT_TIME_ZONE).unwrap();
        assert_eq!(start.to_rfc3339(), "2026-04-17T16:00:00+00:00");
        assert_eq!(
            crate::local_date(start, crate::DEFAULT_TIME_ZONE),
            d(2026, 4, 18)
        );
        let before = start - chrono::Duration::seconds(1);
        assert_eq!(
            crate::local_date(before, crate::DEFAULT_TIME_ZONE),
            d(2026, 4, 17)
        );
        // Where clocks skip midnight (Santiago, 8 September 2024), the first hour that exists.
        let skipped = start_of_day(d(2024, 9, 8), chrono_tz::America::Santiago).unwrap();
        assert_eq!(
            crate::local_date(skipped, chrono_tz::America::Santiago),
            d(2024, 9, 8)
        );
    }

    #[test]
    fn entries_are_checked() {
        // rule ARC-2: a make-up workday is a weekend day; names are required
        assert_eq!(
            check_day(
                d(2024, 10, 12),
                CalendarDayKind::Workday,
                "  National Day make-up "
            ),
            Ok("National Day make-up".to_owned())
        );
        assert!(check_day(d(2024, 10, 5), CalendarDayKind::Holiday, "国庆节").is_ok());
        assert_eq!(
            check_day(d(2024, 10, 11), CalendarDayKind::Workday, "x")
                .unwrap_err()
                .code,
            "workday_not_on_weekend"
        );
        assert_eq!(
            check_day(d(2024, 10, 1), CalendarDayKind::Holiday, "  ")
                .unwrap_err()
                .field,
            "name"
        );
        let long = "节".repeat(DAY_NAME_MAX + 1);
        assert!(check_day(d(2024, 10, 1), CalendarDayKind::Holiday, &long).is_err());
        assert!(check_day(d(2024, 10, 1), CalendarDayKind::Holiday, &long[3..]).is_ok());
        assert_eq!(
            check_day(d(1999, 10, 1), CalendarDayKind::Holiday, "x")
                .unwrap_err()
                .code,
            "date_out_of_range"
        );
    }
}
