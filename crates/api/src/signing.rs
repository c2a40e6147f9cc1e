//! Signed credentials (CRT-3): a certificate is also issued as a compact JWS
//! signed with the association's Ed25519 key, so a third party can verify it
//! offline with nothing but the public keys published at
//! `/.well-known/jwks.json`.
//!
//! Choices made where the spec is silent:
//!
//! - **Where the keys live.** The private key (a 32-byte Ed25519 seed) is kept
//!   in the `signing_keys` table, never in a response, a log line or the audit
//!   log. Every instance of the service then signs with the same key, a
//!   rotation is one transaction, and no key file has to be distributed. The
//!   price is that the database and its backups are as sensitive as the key.
//! - **The first key** is created when the server starts (and, should it be
//!   missing anyway, when a credential is first requested). Two instances
//!   starting together cannot both create one: the partial unique index
//!   `signing_keys_one_active` admits one `active` key, the loser inserts
//!   nothing and reads the winner's key.
//! - **Rotation** makes a new `active` key and retires the old one. Retired
//!   keys stay in the JWKS for good, so every credential ever signed keeps
//!   verifying; a retired key never signs again.
//! - **What is signed.** The same facts the public verification page shows
//!   (CRT-2): status, the holder's name partly masked, program, issue and
//!   expiry dates — never the ID number — plus the verification URL, so a
//!   verifier online can check for a later cancellation.
//! - **Which certificates.** Only a certificate that is `valid` at the moment
//!   of the request is signed (CRT-8). A revoked or superseded certificate is
//!   refused, and so is an expired or lapsed one: a credential is something a
//!   holder shows to prove a current qualification, and one saying "expired"
//!   would carry an `exp` already past, which verifiers reject anyway.
//! - **`exp`** is the end of the last valid day (midnight after `valid_until`
//!   in the association's time zone): an offline verifier never accepts the
//!   credential after the certificate's period ended. After a renewal by
//!   continuing education (CRT-4) the holder fetches a fresh credential.
//!   `nbf` is the start of the issue day.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use ed25519_dalek::{Signer, SigningKey};
use guild_domain::certificate::CertificateStatus;
use guild_domain::error::Refusal;
use guild_domain::person::mask_name;
use guild_store::DbConn;
use guild_store::certificates::CertificateRow;
use guild_store::programs::ProgramRow;
use guild_store::signing_keys::{self, SigningKeyRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::random_bytes;
use crate::error::{ApiError, ApiResult};

/// The JOSE algorithm of every signing key.
pub const ALGORITHM: &str = "EdDSA";
/// The `typ` header of a credential: a JWT, so ordinary JWT libraries verify it.
pub const CREDENTIAL_TYPE: &str = "JWT";
/// Where the public keys are published, below the public base URL.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The stable code of the refusal to sign a certificate that is not valid.
pub const NOT_VALID: &str = "certificate_not_valid";

/// One public key as a JSON Web Key (RFC 8037, `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "use": "sig", "alg": "EdDSA"}))]
pub struct Jwk {
    /// Key type: always `OKP`.
    pub kty: String,
    /// Curve: always `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding (32 bytes).
    pub x: String,
    /// The key id; a credential's header names it in `kid`.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Always `EdDSA`.
    pub alg: String,
}

/// The association's public signing keys: the active one and every retired
/// one, so credentials signed before a rotation keep verifying (CRT-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    /// Oldest first.
    pub keys: Vec<Jwk>,
}

/// The public part of a stored key.
pub fn jwk_of(row: &SigningKeyRow) -> Jwk {
    Jwk {
        kty: "OKP".to_owned(),
        crv: "Ed25519".to_owned(),
        x: row.public_key.clone(),
        kid: row.id.clone(),
        use_: "sig".to_owned(),
        alg: row.algorithm.clone(),
    }
}

/// A fresh `active` key from the operating system's random generator.
pub fn new_key(at: DateTime<Utc>) -> ApiResult<SigningKeyRow> {
    let seed: [u8; 32] = random_bytes(32)
        .try_into()
        .map_err(|_| ApiError::Internal("the random generator gave a short seed".to_owned()))?;
    let key = SigningKey::from_bytes(&seed);
    Ok(SigningKeyRow {
        id: Uuid::now_v7().to_string(),
        algorithm: ALGORITHM.to_owned(),
        public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        private_key: URL_SAFE_NO_PAD.encode(seed),
        status: signing_keys::ACTIVE.to_owned(),
        created_at: at.naive_utc(),
        retired_at: None,
    })
}

/// The key that signs, creating the first one if there is none, inside the
/// caller's write transaction. Returns the key and whether it was created
/// here. Safe against another instance doing the same at the same moment:
/// the unique index admits one active key and the loser reads the winner's.
pub fn ensure_active_key(conn: &mut DbConn, at: DateTime<Utc>) -> ApiResult<(SigningKeyRow, bool)> {
    if let Some(key) = signing_keys::active(conn)? {
        return Ok((key, false));
    }
    let fresh = new_key(at)?;
    let created = signing_keys::insert_unless_active_exists(conn, &fresh)?;
    let key = signing_keys::active(conn)?
        .ok_or_else(|| ApiError::Internal("no active signing key after creating one".to_owned()))?;
    Ok((key, created))
}

/// Retires the active key (if any) and makes a new one active, inside the
/// caller's write transaction (CRT-3). Returns the retired key and the new
/// one. A concurrent rotation that got there first answers 409.
pub fn rotate(
    conn: &mut DbConn,
    at: DateTime<Utc>,
) -> ApiResult<(Option<SigningKeyRow>, SigningKeyRow)> {
    let concurrent = || {
        ApiError::Refused(Refusal::rule(
            "CRT-3",
            "rotation_in_progress",
            "another rotation of the signing key happened at the same time; fetch the keys again",
        ))
    };
    let old = signing_keys::active(conn)?;
    if let Some(old) = &old
        && !signing_keys::retire(conn, &old.id, at.naive_utc())?
    {
        return Err(concurrent());
    }
    let fresh = new_key(at)?;
    if !signing_keys::insert_unless_active_exists(conn, &fresh)? {
        return Err(concurrent());
    }
    let old = match old {
        Some(o) => signing_keys::all(conn)?.into_iter().find(|k| k.id == o.id),
        None => None,
    };
    Ok((old, fresh))
}

/// The Ed25519 key of a stored row; refuses a row whose seed does not give
/// its published public key (a corrupt row must never sign).
fn signing_key(row: &SigningKeyRow) -> ApiResult<SigningKey> {
    let corrupt = |detail: &str| ApiError::Internal(format!("signing key {}: {detail}", row.id));
    if row.algorithm != ALGORITHM {
        return Err(corrupt("unknown algorithm"));
    }
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&row.private_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("the private key is not 32 base64url bytes"))?;
    let key = SigningKey::from_bytes(&seed);
    if URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()) != row.public_key {
        return Err(corrupt("the private key does not match the public key"));
    }
    Ok(key)
}

/// The protected header of a credential.
#[derive(Debug, Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// Signs `claims` as a compact JWS: `base64url(header).base64url(claims).base64url(signature)`
/// with the Ed25519 key of `row`, whose id goes in the header's `kid`.
pub fn sign_compact<C: Serialize>(row: &SigningKeyRow, claims: &C) -> ApiResult<String> {
    let key = signing_key(row)?;
    let header = serde_json::to_vec(&Header {
        alg: ALGORITHM,
        typ: CREDENTIAL_TYPE,
        kid: &row.id,
    })
    .map_err(|e| ApiError::Internal(format!("cannot serialise a JWS header: {e}")))?;
    let payload = serde_json::to_vec(claims)
        .map_err(|e| ApiError::Internal(format!("cannot serialise credential claims: {e}")))?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// What a signed credential says (CRT-3): the facts of public verification
/// (CRT-2) and the registered JWT claims. Never the ID number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "iss": "https://verify.guild.example", "sub": "GA2026000042",
    "jti": "0193a5f0-6a2b-7c8d-9e0f-112233445566",
    "iat": 1775787000, "nbf": 1775750400, "exp": 1870358400,
    "certificate_number": "GA2026000042", "status": "valid", "holder_name": "张*三",
    "program_code": "ELEC-1", "program_name": "Electrician, level 1",
    "certificate_name": "Electrician certificate",
    "issued_on": "2026-04-10", "valid_until": "2029-04-09",
    "verify_url": "https://verify.guild.example/verify/3q2-Xy9ZlYw0AbCdEfGhIjKl"
}))]
pub struct CredentialClaims {
    /// The issuer: the association's public base URL.
    pub iss: String,
    /// The certificate number.
    pub sub: String,
    /// The certificate id.
    pub jti: String,
    /// When the credential was signed (seconds since the epoch).
    pub iat: i64,
    /// The start of the issue day in the association's time zone.
    pub nbf: i64,
    /// The end of the last valid day (midnight after `valid_until`) in the
    /// association's time zone: no verifier accepts it afterwards.
    pub exp: i64,
    /// The certificate number.
    pub certificate_number: String,
    /// The status when signed: always `valid`.
    pub status: CertificateStatus,
    /// The holder's name, partly masked as on public verification.
    pub holder_name: String,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// The name printed on the certificate.
    pub certificate_name: String,
    /// The issue day.
    pub issued_on: NaiveDate,
    /// The last valid day, inclusive.
    pub valid_until: NaiveDate,
    /// The public verification page, where a later cancellation shows.
    pub verify_url: String,
}

/// CRT-3: only a certificate that is `valid` now is signed. Revoked and
/// superseded certificates are refused, and so are expired and lapsed ones
/// (see the module documentation).
pub fn may_sign(status: CertificateStatus) -> Result<(), Refusal> {
    match status {
        CertificateStatus::Valid => Ok(()),
        other => Err(Refusal::rule(
            "CRT-3",
            NOT_VALID,
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
        verify_url: guild_app::certificates::verify_url(public_base_url, &certificate.code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Verifies `token` with nothing but `jwks`, as a third party would.
    fn verify(token: &str, jwks: &Jwks) -> Result<serde_json::Value, String> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err("not three parts".to_owned());
        };
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        let kid = header["kid"].as_str().ok_or("no kid")?;
        let jwk = jwks
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or("unknown kid")?;
        let x: [u8; 32] = URL_SAFE_NO_PAD.decode(&jwk.x).unwrap().try_into().unwrap();
        let key = VerifyingKey::from_bytes(&x).unwrap();
        let sig: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap()
            .try_into()
            .unwrap();
        key.verify(
            format!("{}.{payload}", token.split('.').next().unwrap()).as_bytes(),
            &Signature::from_bytes(&sig),
        )
        .map_err(|e| e.to_string())?;
        Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap())
    }

    fn certificate() -> CertificateRow {
        let t = at("2026-04-10T02:00:00Z").naive_utc();
        CertificateRow {
            id: "0193a5f0-6a2b-7c8d-9e0f-112233445566".to_owned(),
            number: "GA2026000042".to_owned(),
            code: "abcdefghijklmnopqrstuvwx".to_owned(),
            person_id: "p".to_owned(),
            organisation_id: None,
            holder_name: "张小三".to_owned(),
            program_id: "prog".to_owned(),
            class_id: None,
            enrolment_id: None,
            registration_id: None,
            issued_on: d(2026, 4, 10),
            validity_years: 3,
            period_started_on: d(2026, 4, 10),
            valid_until: d(2029, 4, 9),
            renewals: 0,
            status: "active".to_owned(),
            replaces_id: None,
            superseded_by_id: None,
            ended_at: None,
            end_reason: None,
            issued_by: "u".to_owned(),
            version: 1,
            created_at: t,
            updated_at: t,
        }
    }

    fn program() -> ProgramRow {
        let t = at("2026-01-01T00:00:00Z").naive_utc();
        ProgramRow {
            id: "prog".to_owned(),
            code: "ELEC-1".to_owned(),
            name: "Electrician".to_owned(),
            description: None,
            target_categories: "[]".to_owned(),
            training_fee_fen: 0,
            exam_fee_fen: 0,
            theory_mode: None,
            theory_pass_mark: None,
            practical_pass_mark: None,
            skill_level: false,
            certificate_name: "Electrician certificate".to_owned(),
            validity_years: 3,
            status: "active".to_owned(),
            version: 1,
            created_at: t,
            updated_at: t,
        }
    }

    fn claims() -> CredentialClaims {
        credential_claims(
            &certificate(),
            &program(),
            CertificateStatus::Valid,
            at("2026-05-01T08:00:00Z"),
            chrono_tz::Asia::Shanghai,
            "https://verify.guild.test",
        )
        .unwrap()
    }

    #[test]
    fn only_valid_certificates_are_signed() {
        // rule CRT-3 (with CRT-8: status computed at the moment of the request)
        assert!(may_sign(CertificateStatus::Valid).is_ok());
        for status in [
            CertificateStatus::Revoked,
            CertificateStatus::Superseded,
            CertificateStatus::Expired,
            CertificateStatus::Lapsed,
        ] {
            let refusal = may_sign(status).unwrap_err();
            assert_eq!(refusal.rule, Some("CRT-3"));
            assert_eq!(refusal.code, NOT_VALID);
            assert!(refusal.detail.contains(status.as_str()), "{refusal}");
        }
        let refused = credential_claims(
            &certificate(),
            &program(),
            CertificateStatus::Revoked,
            at("2026-05-01T08:00:00Z"),
            chrono_tz::Asia::Shanghai,
            "https://verify.guild.test",
        );
        assert_eq!(refused.unwrap_err().code, NOT_VALID);
    }

    #[test]
    fn claims_carry_the_public_facts_and_dates() {
        // rule CRT-3: the facts of public verification (CRT-2), name masked
        let c = claims();
        assert_eq!(c.iss, "https://verify.guild.test");
        assert_eq!(c.sub, "GA2026000042");
        assert_eq!(c.jti, "0193a5f0-6a2b-7c8d-9e0f-112233445566");
        assert_eq!(c.holder_name, "张*三");
        assert_eq!(c.status, CertificateStatus::Valid);
        assert_eq!(c.program_code, "ELEC-1");
        assert_eq!(
            c.verify_url,
            "https://verify.guild.test/verify/abcdefghijklmnopqrstuvwx"
        );
        assert_eq!(c.iat, at("2026-05-01T08:00:00Z").timestamp());
        // Shanghai midnight of 10 Apr 2026 is 16:00 UTC the day before.
        assert_eq!(c.nbf, at("2026-04-09T16:00:00Z").timestamp());
        // exp: the end of 9 Apr 2029, the last valid day.
        assert_eq!(c.exp, at("2029-04-09T16:00:00Z").timestamp());
        let json = serde_json::to_value(&c).unwrap();
        assert!(json.get("id_number").is_none());
        assert_eq!(json["issued_on"], "2026-04-10");
        assert_eq!(json["valid_until"], "2029-04-09");
    }

    #[test]
    fn a_signature_verifies_with_the_jwks_only_and_survives_rotation() {
        // rule CRT-3: old signatures keep verifying after a key rotation
        let now = at("2026-05-01T08:00:00Z");
        let mut first = new_key(now).unwrap();
        let token = sign_compact(&first, &claims()).unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": first.id})
        );
        let jwks = Jwks {
            keys: vec![jwk_of(&first)],
        };
        let payload = verify(&token, &jwks).unwrap();
        assert_eq!(payload["holder_name"], "张*三");

        first.status = signing_keys::RETIRED.to_owned();
        let second = new_key(now).unwrap();
        assert_ne!(first.public_key, second.public_key);
        let rotated = Jwks {
            keys: vec![jwk_of(&first), jwk_of(&second)],
        };
        assert!(verify(&token, &rotated).is_ok());
        let newer = sign_compact(&second, &claims()).unwrap();
        assert!(verify(&newer, &rotated).is_ok());
        // Without the retired key the old credential cannot verify.
        let only_new = Jwks {
            keys: vec![jwk_of(&second)],
        };
        assert_eq!(verify(&token, &only_new), Err("unknown kid".to_owned()));
    }

    #[test]
    fn a_tampered_payload_fails() {
        // rule CRT-3
        let key = new_key(at("2026-05-01T08:00:00Z")).unwrap();
        let token = sign_compact(&key, &claims()).unwrap();
        let mut forged = claims();
        forged.holder_name = "李*四".to_owned();
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()),
            parts[2]
        );
        let jwks = Jwks {
            keys: vec![jwk_of(&key)],
        };
        assert!(verify(&tampered, &jwks).is_err());
    }

    #[test]
    fn a_corrupt_key_never_signs_and_the_private_key_is_never_printed() {
        let mut key = new_key(at("2026-05-01T08:00:00Z")).unwrap();
        assert!(!format!("{key:?}").contains(&key.private_key));
        let other = new_key(at("2026-05-01T08:00:00Z")).unwrap();
        key.public_key = other.public_key;
        assert!(sign_compact(&key, &claims()).is_err());
        key.private_key = "short".to_owned();
        assert!(sign_compact(&key, &claims()).is_err());
    }

    #[test]
    fn the_jwk_is_an_okp_ed25519_key() {
        let key = new_key(at("2026-05-01T08:00:00Z")).unwrap();
        let jwk = serde_json::to_value(jwk_of(&key)).unwrap();
        assert_eq!(
            jwk,
            serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": key.public_key,
                "kid": key.id, "use": "sig", "alg": "EdDSA"})
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.public_key).unwrap().len(), 32);
    }
}
