//! Certificates: numbers, validity, the status anyone sees when verifying
//! (CRT-1, CRT-2, CRT-4, CRT-8) and the reissue/change/cancel requests (CRT-5).
//!
//! - CRT-1: a certificate is valid from its issue day through
//!   [`valid_until`]: the day before the anniversary `validity_years` later.
//! - CRT-4: continuing education completed within the current period renews
//!   the certificate for one more period from its current expiry
//!   ([`renewed_until`]). A period that ends without recorded CE first shows
//!   `expired` for a grace window in which CE *completed within the period*
//!   can still be recorded (the association's register often lags the class),
//!   and `lapsed` after it: the certificate is void and cannot be renewed.
//! - CRT-8: the status is computed from dates and stored events at the moment
//!   of the request ([`status`]); a certificate never shows `valid` after its
//!   validity ended.

use chrono::{Datelike, Days, NaiveDate};

use crate::discipline::last_day_of_years;
use crate::error::Refusal;
use crate::wire::wire_enum;

/// Days after the end of a validity period during which CE completed within
/// the period can still be recorded (status `expired`), unless configured.
pub const DEFAULT_CE_GRACE_DAYS: u32 = 90;

wire_enum! {
    /// What anyone verifying a certificate is told (CRT-2, CRT-8).
    pub enum CertificateStatus("certificate_status") {
        /// Within its validity period.
        Valid => "valid",
        /// Its period ended without recorded continuing education; CE
        /// completed within the period can still be recorded (CRT-4).
        Expired => "expired",
        /// Its period ended without continuing education and the grace
        /// window has passed: void (CRT-4).
        Lapsed => "lapsed",
        /// Cancelled (注销) by the association (CRT-5).
        Revoked => "revoked",
        /// Replaced by a reissued or changed certificate (CRT-5).
        Superseded => "superseded",
    }
}

wire_enum! {
    /// The stored events of a certificate; dates decide the rest (CRT-8).
    pub enum CertificateRecordStatus("certificate_record_status") {
        /// Issued and neither replaced nor cancelled.
        Active => "active",
        /// Replaced by a new certificate (CRT-5).
        Superseded => "superseded",
        /// Cancelled (CRT-5).
        Revoked => "revoked",
    }
}

/// The status of a certificate on `today` (CRT-8): stored events first, then
/// dates. `valid_until` is the last valid day, inclusive.
pub fn status(
    stored: CertificateRecordStatus,
    valid_until: NaiveDate,
    today: NaiveDate,
    ce_grace_days: u32,
) -> CertificateStatus {
    match stored {
        CertificateRecordStatus::Superseded => CertificateStatus::Superseded,
        CertificateRecordStatus::Revoked => CertificateStatus::Revoked,
        CertificateRecordStatus::Active if today <= valid_until => CertificateStatus::Valid,
        CertificateRecordStatus::Active if today <= grace_ends(valid_until, ce_grace_days) => {
            CertificateStatus::Expired
        }
        CertificateRecordStatus::Active => CertificateStatus::Lapsed,
    }
}

/// The last day on which CE completed within a period ending `valid_until`
/// may still be recorded (CRT-4).
pub fn grace_ends(valid_until: NaiveDate, ce_grace_days: u32) -> NaiveDate {
    valid_until
        .checked_add_days(Days::new(u64::from(ce_grace_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The last valid day of a certificate issued on `issued_on` (CRT-1): the day
/// before the anniversary `validity_years` later.
pub fn valid_until(issued_on: NaiveDate, validity_years: u32) -> NaiveDate {
    last_day_of_years(issued_on, validity_years)
}

/// The new last valid day after a renewal by CE (CRT-4): one more period from
/// the current expiry.
pub fn renewed_until(current_valid_until: NaiveDate, validity_years: u32) -> NaiveDate {
    let next_start = current_valid_until
        .succ_opt()
        .unwrap_or(current_valid_until);
    last_day_of_years(next_start, validity_years)
}

/// The printed certificate number (CRT-1): `GA` + year + a six-digit serial
/// that restarts each year, e.g. `GA2026000042`.
pub fn format_number(issued_on: NaiveDate, serial: u32) -> String {
    format!("GA{}{serial:06}", issued_on.year())
}

wire_enum! {
    /// What a certificate request asks for (CRT-5).
    pub enum CertificateRequestKind("certificate_request_kind") {
        /// 补办: a lost or damaged certificate is issued again.
        Reissue => "reissue",
        /// 变更: the holder's name or employer changed.
        Change => "change",
        /// 注销: the certificate is cancelled.
        Cancellation => "cancellation",
    }
}

wire_enum! {
    /// Where a certificate request stands (CRT-5).
    pub enum CertificateRequestStatus("certificate_request_status") {
        /// Filed; waiting for the association.
        Submitted => "submitted",
        /// Approved: a new certificate was issued, or the old one revoked. Final.
        Approved => "approved",
        /// Rejected with a reason. Final.
        Rejected => "rejected",
        /// Withdrawn by the filer before a decision. Final.
        Withdrawn => "withdrawn",
    }
}

/// Refuses issuing certificates for a class whose results are not published
/// (CRT-1, EXM-5): a certificate rests on a published pass.
pub fn check_results_published(published: bool) -> Result<(), Refusal> {
    if published {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CRT-1",
            "results_not_published",
            "certificates are issued once the class's results are published (EXM-5)",
        ))
    }
}

/// The dates between which a certificate's `valid_until` lies when it shows
/// `status` on `today` (CRT-8), for list filters computed in SQL: the stored
/// status to match and inclusive bounds on `valid_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusWindow {
    /// The stored status the certificate must have.
    pub stored: CertificateRecordStatus,
    /// `valid_until` on or after this day.
    pub valid_until_from: Option<NaiveDate>,
    /// `valid_until` on or before this day.
    pub valid_until_to: Option<NaiveDate>,
}

/// The [`StatusWindow`] of `status` on `today`: the inverse of [`status`], so
/// a list filtered by computed status pages over plain column conditions.
pub fn status_window(
    status: CertificateStatus,
    today: NaiveDate,
    ce_grace_days: u32,
) -> StatusWindow {
    // `expired` while today <= valid_until + grace, i.e. valid_until >= today - grace.
    let grace_start = today
        .checked_sub_days(Days::new(u64::from(ce_grace_days)))
        .unwrap_or(NaiveDate::MIN);
    let window = |stored, from, to| StatusWindow {
        stored,
        valid_until_from: from,
        valid_until_to: to,
    };
    let active = CertificateRecordStatus::Active;
    match status {
        CertificateStatus::Valid => window(active, Some(today), None),
        CertificateStatus::Expired => window(active, Some(grace_start), today.pred_opt()),
        CertificateStatus::Lapsed => window(active, None, grace_start.pred_opt()),
        CertificateStatus::Revoked => window(CertificateRecordStatus::Revoked, None, None),
        CertificateStatus::Superseded => window(CertificateRecordStatus::Superseded, None, None),
    }
}

/// The last day of a reminder window of `days` from `today` (CRT-4: "expiring
/// in the next 90 days" lists valid certificates whose `valid_until` lies in
/// `[today, expiring_until(today, days)]`).
pub fn expiring_until(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

wire_enum! {
    /// What kind of continuing education was completed (CRT-4).
    pub enum CeKind("ce_kind") {
        /// The association's learning on new policies, regulations and
        /// technology during the validity period (counts as CE, CRT-4).
        AssociationLearning => "association_learning",
        /// A continuing-education class.
        CeClass => "ce_class",
        /// Another form the association approved.
        OtherApproved => "other_approved",
    }
}

/// The certificate as continuing education sees it (CRT-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CePeriod {
    /// The stored status.
    pub stored: CertificateRecordStatus,
    /// The first day of the current validity period.
    pub period_started_on: NaiveDate,
    /// The last valid day of the current period.
    pub valid_until: NaiveDate,
    /// The program's validity in years: the length of one more period.
    pub validity_years: u32,
}

/// What recording one CE completion does to the certificate (CRT-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CeRenewal {
    /// The last day of the period the CE was completed in.
    pub period_ended_on: NaiveDate,
    /// The first day of the next period.
    pub period_started_on: NaiveDate,
    /// The new last valid day: one more period from the current expiry.
    pub renewed_until: NaiveDate,
}

/// Decides a CE record (CRT-4), checked in this order:
///
/// - only an `active` certificate takes CE: a revoked or superseded one is
///   refused (`certificate_not_active`, the replacement carries the period);
/// - a `lapsed` certificate is void and cannot be renewed (`certificate_lapsed`);
///   an `expired` one (within the grace window) still can, by CE completed
///   within its period;
/// - the completion day is not in the future (`ce_completed_in_future`);
/// - it lies within the current period `[period_started_on, valid_until]`
///   (`ce_outside_period`). After a renewal the current period is the new
///   one, so a second CE completed in the period already renewed is refused
///   rather than renewing twice: one CE renews one period.
///
/// The CE then renews the certificate: the next period starts the day after
/// the current expiry and ends one period later ([`renewed_until`]).
pub fn plan_ce(
    cert: CePeriod,
    completed_on: NaiveDate,
    today: NaiveDate,
    ce_grace_days: u32,
) -> Result<CeRenewal, Refusal> {
    match status(cert.stored, cert.valid_until, today, ce_grace_days) {
        CertificateStatus::Revoked | CertificateStatus::Superseded => {
            return Err(Refusal::rule(
                "CRT-4",
                "certificate_not_active",
                format!(
                    "the certificate is {}; record CE against the certificate that replaced it",
                    cert.stored
                ),
            ));
        }
        CertificateStatus::Lapsed => {
            return Err(Refusal::rule(
                "CRT-4",
                "certificate_lapsed",
                format!(
                    "the certificate lapsed: its period ended on {} without recorded CE and the \
                     {ce_grace_days}-day grace window has passed",
                    cert.valid_until
                ),
            ));
        }
        CertificateStatus::Valid | CertificateStatus::Expired => {}
    }
    if completed_on > today {
        return Err(Refusal::rule(
            "CRT-4",
            "ce_completed_in_future",
            format!("completed_on {completed_on} is after today ({today})"),
        ));
    }
    if completed_on < cert.period_started_on || completed_on > cert.valid_until {
        return Err(Refusal::rule(
            "CRT-4",
            "ce_outside_period",
            format!(
                "CE renews the certificate only when completed within its current period, {} to {}",
                cert.period_started_on, cert.valid_until
            ),
        ));
    }
    Ok(CeRenewal {
        period_ended_on: cert.valid_until,
        period_started_on: cert.valid_until.succ_opt().unwrap_or(cert.valid_until),
        renewed_until: renewed_until(cert.valid_until, cert.validity_years),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(
            CertificateStatus,
            CertificateRecordStatus,
            CertificateRequestKind,
            CertificateRequestStatus,
            CeKind
        );
    }

    #[test]
    fn three_years_end_the_day_before_the_anniversary() {
        // rule CRT-1
        assert_eq!(valid_until(d(2026, 11, 22), 3), d(2029, 11, 21));
        // rule CRT-4: one more period from the current expiry
        assert_eq!(renewed_until(d(2029, 11, 21), 3), d(2032, 11, 21));
    }

    #[test]
    fn status_follows_the_dates() {
        // rule CRT-8
        let until = d(2029, 11, 21);
        let active = CertificateRecordStatus::Active;
        assert_eq!(status(active, until, until, 90), CertificateStatus::Valid);
        assert_eq!(
            status(active, until, d(2029, 11, 22), 90),
            CertificateStatus::Expired
        );
        assert_eq!(
            status(active, until, d(2030, 2, 19), 90),
            CertificateStatus::Expired
        );
        assert_eq!(
            status(active, until, d(2030, 2, 20), 90),
            CertificateStatus::Lapsed
        );
        assert_eq!(
            status(
                CertificateRecordStatus::Superseded,
                until,
                d(2027, 1, 1),
                90
            ),
            CertificateStatus::Superseded
        );
        assert_eq!(
            status(CertificateRecordStatus::Revoked, until, d(2027, 1, 1), 90),
            CertificateStatus::Revoked
        );
    }

    #[test]
    fn numbers_carry_the_year_and_serial() {
        assert_eq!(format_number(d(2026, 3, 1), 42), "GA2026000042");
    }
    #[test]
    fn issuing_waits_for_published_results() {
        // rule CRT-1
        assert!(check_results_published(true).is_ok());
        let r = check_results_published(false).unwrap_err();
        assert_eq!((r.code, r.rule), ("results_not_published", Some("CRT-1")));
    }

    #[test]
    fn status_windows_invert_the_status() {
        // rule CRT-8: every day around the boundaries falls in exactly the
        // window of the status it shows
        let today = d(2030, 2, 19);
        let in_window = |w: StatusWindow, stored, until: NaiveDate| {
            w.stored == stored
                && w.valid_until_from.is_none_or(|f| until >= f)
                && w.valid_until_to.is_none_or(|t| until <= t)
        };
        for stored in CertificateRecordStatus::ALL.iter().copied() {
            for offset in -200_i64..200 {
                let until = today + chrono::Duration::days(offset);
                let shown = status(stored, until, today, 90);
                for s in CertificateStatus::ALL.iter().copied() {
                    assert_eq!(
                        in_window(status_window(s, today, 90), stored, until),
                        s == shown,
                        "{stored} until {until}: {s}"
                    );
                }
            }
        }
        assert_eq!(expiring_until(d(2026, 1, 1), 90), d(2026, 4, 1));
    }

    fn cert(until: NaiveDate) -> CePeriod {
        CePeriod {
            stored: CertificateRecordStatus::Active,
            period_started_on: d(2026, 4, 10),
            valid_until: until,
            validity_years: 3,
        }
    }

    #[test]
    fn ce_within_the_period_renews_from_the_current_expiry() {
        // rule CRT-4
        let c = cert(d(2029, 4, 9));
        let r = plan_ce(c, d(2027, 5, 1), d(2027, 6, 1), 90).unwrap();
        assert_eq!(r.period_ended_on, d(2029, 4, 9));
        assert_eq!(r.period_started_on, d(2029, 4, 10));
        assert_eq!(r.renewed_until, d(2032, 4, 9));
        // the first and last days of the period count
        assert!(plan_ce(c, d(2026, 4, 10), d(2027, 1, 1), 90).is_ok());
        assert!(plan_ce(c, d(2029, 4, 9), d(2029, 4, 9), 90).is_ok());
    }

    #[test]
    fn ce_is_recordable_in_the_grace_window_but_not_after() {
        // rule CRT-4: expired (grace) still renews by CE completed in the period
        let c = cert(d(2029, 4, 9));
        let r = plan_ce(c, d(2029, 3, 1), d(2029, 7, 8), 90).unwrap();
        assert_eq!(r.renewed_until, d(2032, 4, 9));
        let lapsed = plan_ce(c, d(2029, 3, 1), d(2029, 7, 9), 90).unwrap_err();
        assert_eq!(
            (lapsed.code, lapsed.rule),
            ("certificate_lapsed", Some("CRT-4"))
        );
    }

    #[test]
    fn ce_outside_the_period_or_in_the_future_is_refused() {
        // rule CRT-4
        let c = cert(d(2029, 4, 9));
        let code = |completed, today| plan_ce(c, completed, today, 90).unwrap_err().code;
        assert_eq!(code(d(2026, 4, 9), d(2027, 1, 1)), "ce_outside_period");
        assert_eq!(code(d(2029, 4, 10), d(2029, 4, 20)), "ce_outside_period");
        assert_eq!(code(d(2027, 1, 2), d(2027, 1, 1)), "ce_completed_in_future");
        // after a renewal the old period is no longer the current one
        let renewed = CePeriod {
            period_started_on: d(2029, 4, 10),
            valid_until: d(2032, 4, 9),
            ..c
        };
        assert_eq!(
            plan_ce(renewed, d(2027, 6, 1), d(2027, 7, 1), 90)
                .unwrap_err()
                .code,
            "ce_outside_period"
        );
    }

    #[test]
    fn ended_certificates_take_no_ce() {
        // rule CRT-4
        for stored in [
            CertificateRecordStatus::Revoked,
            CertificateRecordStatus::Superseded,
        ] {
            let c = CePeriod {
                stored,
                ..cert(d(2029, 4, 9))
            };
            let r = plan_ce(c, d(2027, 1, 1), d(2027, 2, 1), 90).unwrap_err();
            assert_eq!((r.code, r.rule), ("certificate_not_active", Some("CRT-4")));
        }
    }
}
