//! The Ed25519 keys and the compact JWS (CRT-3): no I/O but the operating
//! system's random generator.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use guild_store::signing_keys::{self, SigningKeyRow};
use rand::RngCore;
use serde::Serialize;
use uuid::Uuid;

use super::{ALGORITHM, CREDENTIAL_TYPE};
use crate::error::{AppError, AppResult};

/// A fresh `active` key from the operating system's random generator.
pub fn new_key(at: DateTime<Utc>) -> AppResult<SigningKeyRow> {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| AppError::Internal(format!("the random generator failed: {e}")))?;
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

/// The Ed25519 key of a stored row; refuses a row whose seed does not give
/// its published public key (a corrupt row must never sign).
fn signing_key(row: &SigningKeyRow) -> AppResult<SigningKey> {
    let corrupt = |detail: &str| AppError::Internal(format!("signing key {}: {detail}", row.id));
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
pub fn sign_compact<C: Serialize>(row: &SigningKeyRow, claims: &C) -> AppResult<String> {
    let key = signing_key(row)?;
    let header = serde_json::to_vec(&Header {
        alg: ALGORITHM,
        typ: CREDENTIAL_TYPE,
        kid: &row.id,
    })
    .map_err(|e| AppError::Internal(format!("cannot serialise a JWS header: {e}")))?;
    let payload = serde_json::to_vec(claims)
        .map_err(|e| AppError::Internal(format!("cannot serialise credential claims: {e}")))?;
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
