//! The signing records (CRT-3): the published keys, the administrator's view
//! of a key, a credential's claims and the credential itself.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::certificate::CertificateStatus;
use guild_store::signing_keys::{self, SigningKeyRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::ids::stored_id;

/// One public key as a JSON Web Key (RFC 8037, `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "use": "sig", "alg": "EdDSA"})))]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Whether a signing key still signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SigningKeyStatus {
    /// The one key that signs new credentials.
    Active,
    /// No longer signs; stays in the JWKS so earlier credentials verify.
    Retired,
}

impl SigningKeyStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningKeyStatus::Active => signing_keys::ACTIVE,
            SigningKeyStatus::Retired => signing_keys::RETIRED,
        }
    }

    fn parse(stored: &str) -> AppResult<Self> {
        match stored {
            signing_keys::ACTIVE => Ok(SigningKeyStatus::Active),
            signing_keys::RETIRED => Ok(SigningKeyStatus::Retired),
            other => Err(AppError::Internal(format!(
                "corrupt row in signing_keys: unknown status {other:?}"
            ))),
        }
    }
}

/// A signing key as the administrator sees it: its public part and status,
/// never the private key.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningKeyView {
    /// The key id, the `kid` in credential headers and in the JWKS.
    pub id: Uuid,
    /// Always `EdDSA` (Ed25519).
    pub algorithm: String,
    /// Whether it still signs.
    pub status: SigningKeyStatus,
    /// The public key as published in the JWKS.
    pub public_jwk: Jwk,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stopped signing.
    pub retired_at: Option<DateTime<Utc>>,
}

impl TryFrom<&SigningKeyRow> for SigningKeyView {
    type Error = AppError;
    fn try_from(r: &SigningKeyRow) -> AppResult<Self> {
        Ok(SigningKeyView {
            id: stored_id("signing_keys", &r.id)?,
            algorithm: r.algorithm.clone(),
            status: SigningKeyStatus::parse(&r.status)?,
            public_jwk: jwk_of(r),
            created_at: r.created_at.and_utc(),
            retired_at: r.retired_at.map(|t| t.and_utc()),
        })
    }
}

/// The outcome of a rotation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningKeyRotation {
    /// The new key, which signs from now on.
    pub active: SigningKeyView,
    /// The key it replaced, now retired and still in the JWKS.
    pub retired: Option<SigningKeyView>,
}

/// What a signed credential says (CRT-3): the facts of public verification
/// (CRT-2) and the registered JWT claims. Never the ID number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "iss": "https://verify.guild.example", "sub": "GA2026000042",
    "jti": "0193a5f0-6a2b-7c8d-9e0f-112233445566",
    "iat": 1775787000, "nbf": 1775750400, "exp": 1870358400,
    "certificate_number": "GA2026000042", "status": "valid", "holder_name": "张*三",
    "program_code": "ELEC-1", "program_name": "Electrician, level 1",
    "certificate_name": "Electrician certificate",
    "issued_on": "2026-04-10", "valid_until": "2029-04-09",
    "verify_url": "https://verify.guild.example/verify/3q2-Xy9ZlYw0AbCdEfGhIjKl"
})))]
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

/// A certificate's signed credential (CRT-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialView {
    /// The compact JWS (`header.payload.signature`, EdDSA over Ed25519).
    /// Verify it with the key named by `kid` in the JWKS.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2lnbmF0dXJl"
        )
    )]
    pub credential: String,
    /// The id of the key that signed it.
    pub kid: String,
    /// Always `EdDSA`.
    pub algorithm: String,
    /// Where the public keys are published.
    pub jwks_url: String,
    /// The signed claims, decoded for convenience (the JWS is what counts).
    pub claims: CredentialClaims,
}
