//! Events that come from the passing of time, not from a request: what is
//! due on a given day (CRT-4, CRT-8, ARC-2, CED-1, CED-2).
//!
//! The scheduler asks these functions, once per run, which occasion of a
//! record is due `today` (association time zone). Each occasion has a key
//! ([`Occasion::key`]) that the store makes unique, so it is announced once
//! however often the scheduler runs and however many instances run it.
//!
//! **Catch-up.** An occasion is due from its day on, so a run after a
//! down-time still announces it, but only while its day lies within the last
//! `catch_up_days` days ([`in_catch_up`], `GUILD_SCHEDULER_CATCH_UP_DAYS`,
//! default [`DEFAULT_CATCH_UP_DAYS`]). Older occasions are never announced:
//! a freshly imported database (thousands of certificates that expired years
//! ago) does not flood the outbox and the inboxes. The status the API
//! computes at read time (CRT-8) is unaffected; only the announcement is
//! skipped.
//!
//! **One announcement per state.** When several occasions of one
//! certificate are due at once (the 90-day reminder was missed and the
//! 30-day one is due too), only the latest is announced: a holder is told
//! what holds now, not a stale "90 days left" ([`certificate_occasion`]).

use chrono::{Datelike, Days, NaiveDate};

use crate::certificate::{
    CertificateRecordStatus, CertificateStatus, grace_ends, status as certificate_status,
};

/// Days an occasion may lie in the past and still be announced (catch-up
/// after a down-time), unless configured.
pub const DEFAULT_CATCH_UP_DAYS: u32 = 7;

/// The days before the end of validity on which holders are reminded that
/// their certificate expires without CE (CRT-4), latest last.
pub const EXPIRY_REMINDER_DAYS: [u32; 2] = [90, 30];

/// The month and day on which people short of the year's CE credits are told
/// (CED-2): 1 December, a month before the year ends.
pub const CE_REMINDER_MONTH_DAY: (u32, u32) = (12, 1);

/// Whether an occasion on day `on` is announced on `today`: its day has come
/// and lies at most `catch_up_days` days back.
pub fn in_catch_up(on: NaiveDate, today: NaiveDate, catch_up_days: u32) -> bool {
    on <= today && (today - on).num_days() <= i64::from(catch_up_days)
}

/// A certificate's time-driven occasion (CRT-4, CRT-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateOccasion {
    /// `days` (90 or 30) before the end of validity, without CE recorded
    /// for the period (CE renews the certificate and moves its end).
    Expiring {
        /// Days left until the end of validity, as the reminder says.
        days: u32,
        /// The day of the reminder.
        on: NaiveDate,
    },
    /// The first day after the validity ended: the status turns `expired`.
    Expired {
        /// That day.
        on: NaiveDate,
    },
    /// The first day after the CE grace window: the status turns `lapsed`.
    Lapsed {
        /// That day.
        on: NaiveDate,
    },
}

impl CertificateOccasion {
    /// The day of the occasion.
    pub fn on(self) -> NaiveDate {
        match self {
            CertificateOccasion::Expiring { on, .. }
            | CertificateOccasion::Expired { on }
            | CertificateOccasion::Lapsed { on } => on,
        }
    }
}

/// What makes an occasion unique: the record and the period, reminder or
/// year it is about.
pub trait Occasion {
    /// The occasion part of the unique key, e.g. `90:2029-03-01`.
    fn key(&self) -> String;
}

/// A certificate occasion of the period ending `valid_until`: the key names
/// the period, so the next period (after a CE renewal) has its own
/// reminders, and one period's are announced once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateDue {
    /// What is due.
    pub occasion: CertificateOccasion,
    /// The last valid day of the period it is about.
    pub valid_until: NaiveDate,
}

impl Occasion for CertificateDue {
    fn key(&self) -> String {
        match self.occasion {
            CertificateOccasion::Expiring { days, .. } => format!("{days}:{}", self.valid_until),
            CertificateOccasion::Expired { .. } => format!("expired:{}", self.valid_until),
            CertificateOccasion::Lapsed { .. } => format!("lapsed:{}", self.valid_until),
        }
    }
}

/// The occasion of a certificate due on `today` (CRT-4, CRT-8), if any: the
/// latest of the 90- and 30-day reminders, the day it turns `expired` and
/// the day it turns `lapsed` whose day has come, when that day lies within
/// the catch-up window. The status itself is [`certificate_status`]: an
/// occasion is due only while the certificate shows what it announces (a
/// revoked or superseded certificate has none; a reminder only while
/// `valid`).
pub fn certificate_occasion(
    stored: CertificateRecordStatus,
    valid_until: NaiveDate,
    ce_grace_days: u32,
    today: NaiveDate,
    catch_up_days: u32,
) -> Option<CertificateDue> {
    let occasion = match certificate_status(stored, valid_until, today, ce_grace_days) {
        CertificateStatus::Revoked | CertificateStatus::Superseded => return None,
        CertificateStatus::Lapsed => CertificateOccasion::Lapsed {
            on: grace_ends(valid_until, ce_grace_days).succ_opt()?,
        },
        CertificateStatus::Expired => CertificateOccasion::Expired {
            on: valid_until.succ_opt()?,
        },
        CertificateStatus::Valid => EXPIRY_REMINDER_DAYS
            .iter()
            .filter_map(|&days| {
                let on = valid_until.checked_sub_days(Days::new(u64::from(days)))?;
                (on <= today).then_some(CertificateOccasion::Expiring { days, on })
            })
            .next_back()?,
    };
    in_catch_up(occasion.on(), today, catch_up_days).then_some(CertificateDue {
        occasion,
        valid_until,
    })
}

/// The day an archive due on `due_on` becomes overdue (ARC-2): the day after.
pub fn archive_overdue_on(due_on: NaiveDate) -> Option<NaiveDate> {
    due_on.succ_opt()
}

/// Whether an open archive due on `due_on` is announced as overdue on
/// `today` (ARC-2): overdue since a day within the catch-up window. The
/// archive is announced once, whatever its due date (the key is the
/// archive): a holiday entered later moves the due date, not the fact that
/// it was announced.
pub fn archive_overdue_due(due_on: NaiveDate, today: NaiveDate, catch_up_days: u32) -> bool {
    archive_overdue_on(due_on).is_some_and(|on| in_catch_up(on, today, catch_up_days))
}

/// The day of `year`'s CE reminder (CED-2): 1 December.
pub fn ce_reminder_on(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, CE_REMINDER_MONTH_DAY.0, CE_REMINDER_MONTH_DAY.1)
}

/// The year whose CE reminder (CED-2) is due on `today`, if any: this year's
/// from 1 December on, or last year's in early January when the catch-up
/// window reaches back that far. Whether a person is reminded is then their
/// standing in that year ([`crate::ce_compliance::standing`]: under
/// obligation, CED-1, and short of credits).
pub fn ce_reminder_year(today: NaiveDate, catch_up_days: u32) -> Option<i32> {
    [today.year(), today.year() - 1]
        .into_iter()
        .find(|&y| ce_reminder_on(y).is_some_and(|on| in_catch_up(on, today, catch_up_days)))
}

/// The first year-start on which a person whose skill certificate was
/// issued before it is under the CE obligation of `year` (CED-1): people
/// with a certificate issued before 1 January of `year`.
pub fn ce_obliged_issued_before(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, 1, 1)
}

/// The notice to a certificate's holder and organisation of `occasion`
/// (CRT-4, CRT-8).
pub fn certificate_notice(
    occasion: CertificateOccasion,
    number: &str,
    holder_name: &str,
    valid_until: NaiveDate,
    grace_ends_on: NaiveDate,
) -> (String, String) {
    match occasion {
        CertificateOccasion::Expiring { days, .. } => (
            format!("Certificate {number} expires in {days} days"),
            format!(
                "Certificate {number} of {holder_name} is valid until {valid_until} and no \
                 continuing education is recorded for its period. Complete CE before then \
                 to renew it for one more period."
            ),
        ),
        CertificateOccasion::Expired { .. } => (
            format!("Certificate {number} expired"),
            format!(
                "Certificate {number} of {holder_name} expired after {valid_until} without \
                 recorded continuing education. CE completed within the period can still be \
                 recorded until {grace_ends_on}; after that the certificate lapses."
            ),
        ),
        CertificateOccasion::Lapsed { .. } => (
            format!("Certificate {number} lapsed"),
            format!(
                "Certificate {number} of {holder_name} lapsed: its period ended on \
                 {valid_until} without continuing education and the grace window closed on \
                 {grace_ends_on}. It is void."
            ),
        ),
    }
}

/// The notice to the training staff of an overdue archive (ARC-2).
pub fn archive_overdue_notice(
    class_code: &str,
    class_title: &str,
    due_on: NaiveDate,
) -> (String, String) {
    (
        format!("Archive overdue: {class_code}"),
        format!(
            "The archive of class {class_code} ({class_title}) was due on {due_on} and is \
             not completed."
        ),
    )
}

/// The notice to a person and their organisation of a year's CE shortfall
/// (CED-2).
pub fn ce_unmet_notice(person_name: &str, year: i32, credits_needed: i32) -> (String, String) {
    (
        format!("CE credits short for {year}: {person_name}"),
        format!(
            "{person_name} still needs {credits_needed} continuing-education credits to meet \
             the {year} requirement. The year ends on 31 December."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const ACTIVE: CertificateRecordStatus = CertificateRecordStatus::Active;

    fn occ(today: NaiveDate) -> Option<CertificateOccasion> {
        certificate_occasion(ACTIVE, d(2029, 3, 1), 90, today, 7).map(|o| o.occasion)
    }

    #[test]
    fn certificate_reminders_at_90_and_30_days_crt_4() {
        // rule CRT-4: reminded 90 and 30 days before the end of validity
        let until = d(2029, 3, 1);
        let at90 = until - Days::new(90);
        let at30 = until - Days::new(30);
        assert_eq!(occ(at90.pred_opt().unwrap()), None);
        assert_eq!(
            occ(at90),
            Some(CertificateOccasion::Expiring { days: 90, on: at90 })
        );
        // catch-up: still due a week later, not after
        assert_eq!(
            occ(at90 + Days::new(7)),
            Some(CertificateOccasion::Expiring { days: 90, on: at90 })
        );
        assert_eq!(occ(at90 + Days::new(8)), None);
        assert_eq!(
            occ(at30),
            Some(CertificateOccasion::Expiring { days: 30, on: at30 })
        );
        assert_eq!(occ(until), None);
    }

    #[test]
    fn only_the_latest_reminder_is_due_crt_4() {
        // rule CRT-4: with a 60-day catch-up both reminders' days have come;
        // only the 30-day one is announced
        let until = d(2029, 3, 1);
        let at30 = until - Days::new(30);
        let due = certificate_occasion(ACTIVE, until, 90, at30 + Days::new(1), 60).unwrap();
        assert_eq!(
            due.occasion,
            CertificateOccasion::Expiring { days: 30, on: at30 }
        );
        assert_eq!(due.key(), "30:2029-03-01");
    }

    #[test]
    fn expired_and_lapsed_on_the_day_they_happen_crt_8() {
        // rule CRT-8: the day the computed status changes
        assert_eq!(
            occ(d(2029, 3, 2)),
            Some(CertificateOccasion::Expired { on: d(2029, 3, 2) })
        );
        // grace 90 days (until 30 May): lapsed from 31 May 2029
        let lapse = grace_ends(d(2029, 3, 1), 90).succ_opt().unwrap();
        assert_eq!(lapse, d(2029, 5, 31));
        assert_eq!(occ(lapse), Some(CertificateOccasion::Lapsed { on: lapse }));
        assert_eq!(occ(lapse + Days::new(8)), None);
        let due = certificate_occasion(ACTIVE, d(2029, 3, 1), 90, lapse, 7).unwrap();
        assert_eq!(due.key(), "lapsed:2029-03-01");
    }

    #[test]
    fn ended_certificates_have_no_occasion_crt_5() {
        // rule CRT-8: a revoked or superseded certificate never expires
        for stored in [
            CertificateRecordStatus::Revoked,
            CertificateRecordStatus::Superseded,
        ] {
            assert_eq!(
                certificate_occasion(stored, d(2029, 3, 1), 90, d(2029, 3, 2), 7),
                None
            );
        }
    }

    #[test]
    fn a_renewed_period_has_its_own_reminders_crt_4() {
        // rule CRT-4: CE moves valid_until, so the old period's reminder is
        // not due and the new period's key differs
        let renewed = d(2032, 3, 1);
        assert_eq!(
            certificate_occasion(ACTIVE, renewed, 90, d(2028, 12, 1), 7),
            None
        );
        let at90 = renewed - Days::new(90);
        assert_eq!(
            certificate_occasion(ACTIVE, renewed, 90, at90, 7)
                .unwrap()
                .key(),
            "90:2032-03-01"
        );
    }

    #[test]
    fn archive_overdue_the_day_after_its_due_date_arc_2() {
        // rule ARC-2
        let due = d(2026, 4, 17);
        assert!(!archive_overdue_due(due, due, 7));
        assert!(archive_overdue_due(due, d(2026, 4, 18), 7));
        assert!(archive_overdue_due(due, d(2026, 4, 25), 7));
        assert!(!archive_overdue_due(due, d(2026, 4, 26), 7));
    }

    #[test]
    fn ce_reminder_on_the_first_of_december_ced_2() {
        // rule CED-2: 1 December of the year, caught up for a week
        assert_eq!(ce_reminder_year(d(2026, 11, 30), 7), None);
        assert_eq!(ce_reminder_year(d(2026, 12, 1), 7), Some(2026));
        assert_eq!(ce_reminder_year(d(2026, 12, 8), 7), Some(2026));
        assert_eq!(ce_reminder_year(d(2026, 12, 9), 7), None);
        // a catch-up window reaching into January names last year
        assert_eq!(ce_reminder_year(d(2027, 1, 2), 40), Some(2026));
        assert_eq!(ce_reminder_year(d(2027, 1, 2), 7), None);
    }

    #[test]
    fn ce_obligation_starts_the_year_after_the_certificate_ced_1() {
        // rule CED-1: certificates issued before 1 January of the year
        assert_eq!(ce_obliged_issued_before(2026), Some(d(2026, 1, 1)));
        assert!(crate::ce_compliance::obligation(Some(d(2025, 12, 31)), 2026).is_required());
        assert!(!crate::ce_compliance::obligation(Some(d(2026, 1, 1)), 2026).is_required());
    }

    #[test]
    fn catch_up_window_is_inclusive() {
        // rule CRT-4: the catch-up window bounds every occasion
        assert!(in_catch_up(d(2026, 1, 1), d(2026, 1, 1), 0));
        assert!(!in_catch_up(d(2026, 1, 1), d(2026, 1, 2), 0));
        assert!(!in_catch_up(d(2026, 1, 2), d(2026, 1, 1), 7));
    }
}
