//! What a credential says (CRT-3), computed from a certificate and its program.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use guild_domain::certificate::CertificateStatus;
use guild_domain::codes;
use guild_domain::error::Refusal;
use guild_domain::person::mask_name;
use guild_store::certificates::CertificateRow;
use guild_store::programs::ProgramRow;

use super::records::CredentialClaims;
use crate::certificates::verify_url;

/// CRT-3: only a certificate that is `valid` now is signed. Revoked and
/// superseded certificates are refused, and so are expired and lapsed ones
/// (see the module documentation).
pub fn may_sign(status: CertificateStatus) -> Result<(), Refusal> {
    match status {
        CertificateStatus::Valid => Ok(()),
        other => Err(Refusal::rule(
            "CRT-3",
            codes::CERTIFICATE_NOT_VALID,
            format!(
                "the certificate is {}; a signed credential is issued only for a valid certificate",
                other.as_str()
            ),
        )),
    }
}

/// Midnight starting `day` in `tz`, as seconds since the epoch (the earlier
/// instant should a clock change make midnight ambiguous).
fn start_of_day(day: NaiveDate, tz: Tz) -> i64 {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    tz.from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc().timestamp(), |t| t.timestamp())
}

/// The claims of a credential for `certificate` (with `status` computed now,
/// CRT-8), or the CRT-3 refusal when it is not valid.
pub fn credential_claims(
    certificate: &CertificateRow,
    program: &ProgramRow,
    status: CertificateStatus,
    now: DateTime<Utc>,
    tz: Tz,
    public_base_url: &str,
) -> Result<CredentialClaims, Refusal> {
    may_sign(status)?;
    let day_after = certificate
        .valid_until
        .succ_opt()
        .unwrap_or(certificate.valid_until);
    Ok(CredentialClaims {
        iss: public_base_url.to_owned(),
        sub: certificate.number.clone(),
        jti: certificate.id.clone(),
        iat: now.timestamp(),
        nbf: start_of_day(certificate.issued_on, tz),
        exp: start_of_day(day_after, tz),
        certificate_number: certificate.number.clone(),
        status,
        holder_name: mask_name(&certificate.holder_name),
        program_code: program.code.clone(),
        program_name: program.name.clone(),
        certificate_name: program.certificate_name.clone(),
        issued_on: certificate.issued_on,
        valid_until: certificate.valid_until,
        verify_url: verify_url(public_base_url, &certificate.code),
    })
}
