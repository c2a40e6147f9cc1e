//! Public certificate verification (CRT-2, CRT-8): what anyone scanning a
//! certificate's QR code is told.
//!
//! What is shown (CRT-2): the certificate number (printed on the card, so the
//! verifier can match card and record), the status computed at the moment of
//! the request (CRT-8), the holder's name partly masked, the program and the
//! certificate's title, the issue and expiry dates, and for a superseded or
//! revoked certificate the day it ended. Never the ID number, the employer,
//! the reason for a cancellation, internal ids, or the code of a replacing
//! certificate (the holder presents the new card; its code is not ours to hand
//! out to whoever holds the old one).
//!
//! Unknown and malformed codes answer the same [`AppError::NotFound`], so the
//! answer tells nothing beyond "no such certificate". This path is read-only:
//! it writes no event and logs nothing per request (it is the hottest path of
//! the service, one call per QR scan). The lookup joins the batch of the
//! [`VerificationReader`] threads (see `guild_store::verification`).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::certificate::{self, CertificateRecordStatus, CertificateStatus};
use guild_domain::clock::local_date;
use guild_domain::person::mask_name;
use serde::Serialize;

pub use guild_store::verification::{LookupError, VerificationReader, VerificationRow};

use crate::error::{AppError, AppResult, stored};

/// The length of a verification code: 18 random bytes in URL-safe base64
/// without padding (see [`crate::certificates::new_verification_code`]).
pub const CODE_LEN: usize = 24;

/// A program as shown on a verification.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifiedProgram {
    /// The program's code.
    #[cfg_attr(feature = "openapi", schema(example = "GAS-OPS"))]
    pub code: String,
    /// The program's name.
    #[cfg_attr(feature = "openapi", schema(example = "Gas operations"))]
    pub name: String,
}

/// What anyone verifying a certificate is told (CRT-2, CRT-8). Never the ID
/// number, the employer or any internal id.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateVerification {
    /// The certificate number printed on the card.
    #[cfg_attr(feature = "openapi", schema(example = "GA2026000042"))]
    pub number: String,
    /// The status at `checked_at` (CRT-8): `valid`, `expired` (period ended,
    /// continuing education may still be recorded), `lapsed` (void),
    /// `revoked` (cancelled) or `superseded` (replaced by a new certificate).
    pub status: CertificateStatus,
    /// The holder's name, partly masked.
    #[cfg_attr(feature = "openapi", schema(example = "张*三"))]
    pub holder_name: String,
    /// The program the certificate was earned in.
    pub program: VerifiedProgram,
    /// The certificate's title.
    #[cfg_attr(feature = "openapi", schema(example = "Gas operations certificate"))]
    pub certificate_name: String,
    /// The first day of validity.
    pub issued_on: NaiveDate,
    /// The last valid day of the current period, after any renewal by
    /// continuing education (CRT-4).
    pub valid_until: NaiveDate,
    /// The day (association time zone) a superseded or revoked certificate
    /// ended; `null` otherwise.
    pub ended_on: Option<NaiveDate>,
    /// The moment the status was computed: the time of this request.
    pub checked_at: DateTime<Utc>,
}

/// Whether `code` has the shape of a verification code: 24 URL-safe base64
/// characters. Anything else cannot exist and is answered like an unknown code
/// without asking the database.
pub fn well_formed(code: &str) -> bool {
    code.len() == CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The stored facts of the certificate with `code`, through the batched
/// reader; a malformed code never reaches the database. Unknown and malformed
/// codes are the same 404.
pub async fn find(reader: &VerificationReader, code: String) -> AppResult<VerificationRow> {
    if !well_formed(&code) {
        return Err(AppError::NotFound("certificate"));
    }
    reader
        .lookup(code)
        .await
        .map_err(|e| match e {
            LookupError::Unavailable(cause) => AppError::Unavailable(cause),
            LookupError::Failed(cause) => AppError::Internal(cause),
        })?
        .ok_or(AppError::NotFound("certificate"))
}

/// The public answer for `row` at `now` (CRT-2, CRT-8), in time zone `tz`
/// with a CE grace window of `grace_days`.
pub fn answer(
    row: VerificationRow,
    now: DateTime<Utc>,
    tz: Tz,
    grace_days: u32,
) -> AppResult<CertificateVerification> {
    let stored: CertificateRecordStatus = stored("certificates", &row.status)?;
    let status = certificate::status(stored, row.valid_until, local_date(now, tz), grace_days);
    let ended_on = match stored {
        CertificateRecordStatus::Active => None,
        CertificateRecordStatus::Superseded | CertificateRecordStatus::Revoked => {
            row.ended_at.map(|at| local_date(at.and_utc(), tz))
        }
    };
    Ok(CertificateVerification {
        number: row.number,
        status,
        holder_name: mask_name(&row.holder_name),
        program: VerifiedProgram {
            code: row.program_code,
            name: row.program_name,
        },
        certificate_name: row.certificate_name,
        issued_on: row.issued_on,
        valid_until: row.valid_until,
        ended_on,
        checked_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_shape_of_new_codes() {
        // rule CRT-2
        let code = crate::certificates::new_verification_code();
        assert!(well_formed(&code), "{code}");
        assert!(well_formed("abcdefghijklmnopqrstuv-_"));
        assert!(!well_formed("abcdefghijklmnopqrstuv-"));
        assert!(!well_formed("abcdefghijklmnopqrstuv-_x"));
        assert!(!well_formed("abcdefghijklmnopqrstuv+/"));
        assert!(!well_formed("abcdefghijklmnopqrstu%20"));
        assert!(!well_formed("abcdefghijklmnopqrstuvw\u{e9}"));
    }
}
