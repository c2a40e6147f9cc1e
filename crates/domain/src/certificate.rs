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
            CertificateRequestStatus
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
}
