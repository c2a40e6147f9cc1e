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

mod claims;
mod keys;
mod records;
#[cfg(test)]
mod tests;

pub use claims::{credential_claims, may_sign};
pub use keys::{new_key, sign_compact};
pub use records::{
    CredentialClaims, CredentialView, Jwk, Jwks, SigningKeyRotation, SigningKeyStatus,
    SigningKeyView, jwk_of,
};

use chrono::{DateTime, Utc};
use guild_domain::certificate::{self, CertificateRecordStatus};
use guild_domain::codes;
use guild_domain::error::Refusal;
use guild_store::DbConn;
use guild_store::signing_keys::{self, SigningKeyRow};
use uuid::Uuid;

use crate::certificates::{CertificateSettings, visible};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, kinds as ev};
use crate::{Page, PageRequest};

/// The JOSE algorithm of every signing key.
pub const ALGORITHM: &str = "EdDSA";
/// The `typ` header of a credential: a JWT, so ordinary JWT libraries verify it.
pub const CREDENTIAL_TYPE: &str = "JWT";
/// Where the public keys are published, below the public base URL.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The key that signs, creating the first one if there is none, inside the
/// caller's write transaction. Returns the key and whether it was created
/// here. Safe against another instance doing the same at the same moment:
/// the unique index admits one active key and the loser reads the winner's.
/// Emits nothing: the caller decides whether the creation is audited.
pub fn ensure_active_key(conn: &mut DbConn, at: DateTime<Utc>) -> AppResult<(SigningKeyRow, bool)> {
    if let Some(key) = signing_keys::active(conn)? {
        return Ok((key, false));
    }
    let fresh = new_key(at)?;
    let created = signing_keys::insert_unless_active_exists(conn, &fresh)?;
    let key = signing_keys::active(conn)?
        .ok_or_else(|| AppError::Internal("no active signing key after creating one".to_owned()))?;
    Ok((key, created))
}

/// Whether there is an active signing key (the server creates the first one
/// when it starts, CRT-3).
pub fn has_active_key(conn: &mut DbConn) -> AppResult<bool> {
    Ok(signing_keys::active(conn)?.is_some())
}

/// The published keys, oldest first (CRT-3); empty only before the first key.
pub fn published_keys(conn: &mut DbConn) -> AppResult<Jwks> {
    Ok(Jwks {
        keys: signing_keys::all(conn)?.iter().map(jwk_of).collect(),
    })
}

/// The published keys after creating the first one should there be none,
/// inside the caller's write transaction: an empty set would make nothing
/// verifiable. Not audited, like the key the server creates at start.
pub fn published_keys_creating_first(conn: &mut DbConn, at: DateTime<Utc>) -> AppResult<Jwks> {
    ensure_active_key(conn, at)?;
    published_keys(conn)
}

/// One page of the signing keys, oldest first (CRT-3): public parts and
/// status, never a private key.
pub fn list_keys(
    conn: &mut DbConn,
    status: Option<SigningKeyStatus>,
    page: PageRequest,
) -> AppResult<Page<SigningKeyView>> {
    signing_keys::list(
        conn,
        status.map(SigningKeyStatus::as_str),
        page.after.as_deref(),
        page.limit,
    )?
    .try_map(|r| SigningKeyView::try_from(&r))
}

/// The CRT-3 refusal of a rotation that lost the race to another.
fn concurrent_rotation() -> AppError {
    AppError::Refused(Refusal::rule(
        "CRT-3",
        codes::ROTATION_IN_PROGRESS,
        "another rotation of the signing key happened at the same time; fetch the keys again",
    ))
}

/// Retires the active key (if any) and makes a new one active, inside the
/// caller's write transaction (CRT-3). Returns the retired key and the new
/// one. A concurrent rotation that got there first answers 409.
fn replace_active_key(
    conn: &mut DbConn,
    at: DateTime<Utc>,
) -> AppResult<(Option<SigningKeyRow>, SigningKeyRow)> {
    let old = signing_keys::active(conn)?;
    if let Some(old) = &old
        && !signing_keys::retire(conn, &old.id, at.naive_utc())?
    {
        return Err(concurrent_rotation());
    }
    let fresh = new_key(at)?;
    if !signing_keys::insert_unless_active_exists(conn, &fresh)? {
        return Err(concurrent_rotation());
    }
    let old = match old {
        Some(o) => signing_keys::all(conn)?.into_iter().find(|k| k.id == o.id),
        None => None,
    };
    Ok((old, fresh))
}

/// Rotates the signing key (CRT-3): a new key signs from now on and the
/// previous one is retired; retired keys stay in the JWKS. One
/// `signing_key.rotated` event about the new key.
pub fn rotate(ctx: &Ctx, conn: &mut DbConn) -> AppResult<SigningKeyRotation> {
    let (old, new) = replace_active_key(conn, ctx.now)?;
    let before = old
        .as_ref()
        .map(|o| {
            // As it was before the rotation: active.
            let mut was = SigningKeyView::try_from(o)?;
            was.status = SigningKeyStatus::Active;
            was.retired_at = None;
            Ok::<_, AppError>(was)
        })
        .transpose()?;
    let view = SigningKeyRotation {
        active: SigningKeyView::try_from(&new)?,
        retired: old.as_ref().map(SigningKeyView::try_from).transpose()?,
    };
    ctx.emit(
        conn,
        Event::new(
            ev::SIGNING_KEY_ROTATED,
            "signing_key",
            &new.id,
            before.as_ref(),
            Some(&view),
        )?,
    )?;
    Ok(view)
}

/// The claims of the certificate `id` as of now, or 404 (ACC-2) / the CRT-3
/// refusal.
fn claims_now(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    settings: &CertificateSettings,
) -> AppResult<CredentialClaims> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    let program = guild_store::programs::find(conn, &row.program_id)?.ok_or_else(|| {
        AppError::Internal(format!("certificate {} names a missing program", row.id))
    })?;
    let recorded: CertificateRecordStatus = stored("certificates", &row.status)?;
    let status = certificate::status(recorded, row.valid_until, ctx.today(), settings.grace_days);
    Ok(credential_claims(
        &row,
        &program,
        status,
        ctx.now,
        ctx.tz,
        &settings.public_base_url,
    )?)
}

/// `claims` signed with `key`.
fn signed(
    key: &SigningKeyRow,
    claims: CredentialClaims,
    settings: &CertificateSettings,
) -> AppResult<CredentialView> {
    Ok(CredentialView {
        credential: sign_compact(key, &claims)?,
        kid: key.id.clone(),
        algorithm: ALGORITHM.to_owned(),
        jwks_url: format!("{}{JWKS_PATH}", settings.public_base_url),
        claims,
    })
}

/// A certificate's credential signed with the active key (CRT-3), on a read
/// connection; `None` when there is no active key yet, in which case the
/// caller runs [`credential_with_first_key`] in a write transaction. An
/// unseen certificate is 404 (ACC-2), one not valid now 409 (CRT-3, CRT-8),
/// both before the key is looked at.
pub fn credential(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    settings: &CertificateSettings,
) -> AppResult<Option<CredentialView>> {
    let claims = claims_now(ctx, conn, id, settings)?;
    match signing_keys::active(conn)? {
        Some(key) => signed(&key, claims, settings).map(Some),
        None => Ok(None),
    }
}

/// [`credential`] when no key signs yet: creates the first key inside the
/// caller's write transaction (one `signing_key.created` event under the
/// caller, unless another request created it first) and signs with it.
pub fn credential_with_first_key(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    settings: &CertificateSettings,
) -> AppResult<CredentialView> {
    let claims = claims_now(ctx, conn, id, settings)?;
    let (key, created) = ensure_active_key(conn, ctx.now)?;
    if created {
        let view = SigningKeyView::try_from(&key)?;
        ctx.emit(
            conn,
            Event::new::<(), _>(
                ev::SIGNING_KEY_CREATED,
                "signing_key",
                &key.id,
                None,
                Some(&view),
            )?,
        )?;
    }
    signed(&key, claims, settings)
}
