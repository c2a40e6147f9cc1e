//! Time source abstraction: rules never read the system clock directly, so
//! tests can pin "now".

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};

/// The association's default time zone for date rules (Shenzhen).
pub const DEFAULT_TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; clones share the same instant.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock to `at` (forwards or backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.lock() = at;
    }

    /// Moves the clock by `by` (negative moves it backwards).
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.lock();
        *now += by;
    }

    /// Locks the instant; a poisoned lock still holds a valid instant.
    fn lock(&self) -> MutexGuard<'_, DateTime<Utc>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

/// The calendar date of `now` in the time zone `tz` (date rules use the
/// association's local date, not the UTC date).
pub fn local_date(now: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 31, h, m, 0).unwrap()
    }

    #[test]
    fn manual_clock_set_and_advance_are_shared_by_clones() {
        let clock = ManualClock::new(at(10, 0));
        let other = clock.clone();
        clock.advance(Duration::minutes(15));
        assert_eq!(other.now(), at(10, 15));
        other.set(at(1, 0));
        assert_eq!(clock.now(), at(1, 0));
    }

    #[test]
    fn manual_clock_survives_poisoned_lock() {
        let clock = ManualClock::new(at(10, 0));
        let poisoner = clock.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.0.lock().unwrap();
            panic!("poison the lock");
        })
        .join();
        assert!(clock.0.is_poisoned());
        clock.advance(Duration::minutes(1));
        assert_eq!(clock.now(), at(10, 1));
    }

    #[test]
    fn system_clock_is_a_clock() {
        let clock: &dyn Clock = &SystemClock;
        assert!(clock.now() > at(0, 0));
    }

    #[test]
    fn local_date_uses_association_time_zone() {
        // 2024-03-31 16:30 UTC is already 2024-04-01 00:30 in Shenzhen.
        let now = at(16, 30);
        assert_eq!(
            local_date(now, DEFAULT_TIME_ZONE),
            NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()
        );
        assert_eq!(
            local_date(now, chrono_tz::UTC),
            NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
        );
        assert_eq!(
            local_date(at(15, 59), DEFAULT_TIME_ZONE),
            NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
        );
    }
}
