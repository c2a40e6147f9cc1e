//! Signed credentials and the association's signing keys (CRT-3): the JWKS
//! anyone can fetch, key rotation by the administrator, and a certificate's
//! credential as a compact JWS. The design choices are documented in
//! [`crate::signing`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::certificate::{self, CertificateRecordStatus};
use guild_domain::clock::local_date;
use guild_store::DbConn;
use guild_store::signing_keys::SigningKeyRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, parse_stored};
use crate::openapi::{ActionErrors, ListErrors, PublicErrors, ReadErrors};
use crate::routes::certificates::CERTIFICATE_READERS;
use crate::routes::users::stored_uuid;
use crate::signing::{
    self, ALGORITHM, CredentialClaims, JWKS_PATH, Jwk, Jwks, credential_claims, jwk_of,
    sign_compact,
};
use crate::state::AppState;

/// Registers this module's endpoints under `/api/v1`. The JWKS itself,
/// [`jwks`], is served outside `/api/v1` (see `app.rs`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_keys)
        .service(rotate_key)
        .service(get_credential);
}

/// The media type of a bare compact JWS (RFC 7519).
pub const JWT_MEDIA_TYPE: &str = "application/jwt";

/// Whether a signing key still signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SigningKeyStatus {
    /// The one key that signs new credentials.
    Active,
    /// No longer signs; stays in the JWKS so earlier credentials verify.
    Retired,
}

impl SigningKeyStatus {
    fn as_str(self) -> &'static str {
        match self {
            SigningKeyStatus::Active => guild_store::signing_keys::ACTIVE,
            SigningKeyStatus::Retired => guild_store::signing_keys::RETIRED,
        }
    }

    fn parse(stored: &str) -> ApiResult<Self> {
        match stored {
            guild_store::signing_keys::ACTIVE => Ok(SigningKeyStatus::Active),
            guild_store::signing_keys::RETIRED => Ok(SigningKeyStatus::Retired),
            other => Err(ApiError::Internal(format!(
                "corrupt row in signing_keys: unknown status {other:?}"
            ))),
        }
    }
}

/// A signing key as the administrator sees it: its public part and status,
/// never the private key.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    type Error = ApiError;
    fn try_from(r: &SigningKeyRow) -> ApiResult<Self> {
        Ok(SigningKeyView {
            id: stored_uuid("signing_keys", &r.id)?,
            algorithm: r.algorithm.clone(),
            status: SigningKeyStatus::parse(&r.status)?,
            public_jwk: jwk_of(r),
            created_at: r.created_at.and_utc(),
            retired_at: r.retired_at.map(|t| t.and_utc()),
        })
    }
}

/// The outcome of a rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SigningKeyRotation {
    /// The new key, which signs from now on.
    pub active: SigningKeyView,
    /// The key it replaced, now retired and still in the JWKS.
    pub retired: Option<SigningKeyView>,
}

/// Filters for the key list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only keys with this status.
    pub status: Option<SigningKeyStatus>,
}

/// A certificate's signed credential (CRT-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialView {
    /// The compact JWS (`header.payload.signature`, EdDSA over Ed25519).
    /// Verify it with the key named by `kid` in the JWKS.
    #[schema(
        example = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2lnbmF0dXJl"
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

/// The association's public keys for verifying signed credentials (CRT-3),
/// as a JSON Web Key Set (RFC 7517). No token needed. Lists the active key
/// and every retired one, oldest first, so a credential signed before a key
/// rotation keeps verifying. Cached for five minutes.
#[utoipa::path(
    operation_id = "get_jwks",
    tag = "public",
    security(()),
    responses(
        (status = 200, description = "The JSON Web Key Set", body = Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
        PublicErrors
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let keys = state
        .run(|s| {
            let keys = s.store.read(guild_store::signing_keys::all)?;
            if !keys.is_empty() {
                return Ok(keys);
            }
            // The server creates the first key when it starts; should it be
            // missing anyway, an empty set would make nothing verifiable.
            let now = s.clock.now();
            s.store.write(|c| {
                signing::ensure_active_key(c, now)?;
                Ok::<_, ApiError>(guild_store::signing_keys::all(c)?)
            })
        })
        .await?;
    let body = Jwks {
        keys: keys.iter().map(jwk_of).collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(body))
}

/// List the signing keys, oldest first (administrator only): public parts
/// and status, never a private key (CRT-3).
#[utoipa::path(
    operation_id = "list_signing_keys",
    tag = "certificates",
    params(SigningKeyQuery),
    responses((status = 200, description = "OK", body = Paged<SigningKeyView>), ListErrors)
)]
#[get("/signing-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SigningKeyQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let status = q.status.map(SigningKeyStatus::as_str);
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::signing_keys::list(
                    c,
                    status,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        SigningKeyView::try_from(&r)
    })?))
}

/// Rotate the signing key (administrator only, CRT-3): a new key signs from
/// now on and the previous one is retired. Retired keys stay in the JWKS, so
/// every credential signed before keeps verifying. Audited.
#[utoipa::path(
    operation_id = "rotate_signing_key",
    tag = "certificates",
    responses((status = 200, description = "Rotated: the new active key and the retired one", body = SigningKeyRotation), ActionErrors)
)]
#[post("/signing-keys/rotate")]
pub async fn rotate_key(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let actor = Actor::new(&user, &ctx, now);
                let (old, new) = signing::rotate(c, now)?;
                let before = old
                    .as_ref()
                    .map(|o| {
                        // As it was before the rotation: active.
                        let mut was = SigningKeyView::try_from(o)?;
                        was.status = SigningKeyStatus::Active;
                        was.retired_at = None;
                        Ok::<_, ApiError>(was)
                    })
                    .transpose()?;
                let view = SigningKeyRotation {
                    active: SigningKeyView::try_from(&new)?,
                    retired: old.as_ref().map(SigningKeyView::try_from).transpose()?,
                };
                audit::record(
                    c,
                    &actor,
                    Change {
                        action: "signing_key.rotate",
                        entity_type: "signing_key",
                        entity_id: &new.id,
                        organisation_id: None,
                        before: before.as_ref(),
                        after: Some(&view),
                    },
                )?;
                Ok::<_, ApiError>(view)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Whether the caller asked for the bare JWS rather than the JSON wrapper.
fn wants_bare_jws(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| {
            let media = m.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case(JWT_MEDIA_TYPE)
        })
}

/// Download a certificate's signed credential (CRT-3): a compact JWS signed
/// with the association's active Ed25519 key (`EdDSA`), verifiable offline
/// with nothing but `/.well-known/jwks.json`. It carries what public
/// verification shows (CRT-2) — status, the holder's name partly masked,
/// program, issue and expiry dates, the verification URL — never the ID
/// number; `exp` is the end of the last valid day. Only a certificate that
/// is `valid` now is signed: revoked, superseded, expired or lapsed
/// certificates answer 409 `certificate_not_valid` (rule CRT-3). Visible to
/// those who may read the certificate (404 for others, ACC-2). Send
/// `Accept: application/jwt` for the bare token instead of the JSON wrapper.
#[utoipa::path(
    operation_id = "get_certificate_credential",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses(
        (status = 200, description = "The signed credential: JSON by default, the bare compact JWS with `Accept: application/jwt`",
            content(
                (CredentialView = "application/json"),
                (String = "application/jwt")
            )),
        (status = 409, description = "The certificate is not valid now (`certificate_not_valid`, rule CRT-3)", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadErrors
    )
)]
#[get("/certificates/{id}/credential")]
pub async fn get_credential(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let id = id.into_inner().to_string();
    let bare = wants_bare_jws(&req);
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let (claims, key) = s.store.read(|c| {
                let claims = claims_now(c, s, &user, &id, now)?;
                Ok::<_, ApiError>((claims, guild_store::signing_keys::active(c)?))
            })?;
            let key = match key {
                Some(k) => k,
                None => s
                    .store
                    .write(|c| first_key_for_request(c, &Actor::new(&user, &ctx, now)))?,
            };
            Ok(CredentialView {
                credential: sign_compact(&key, &claims)?,
                kid: key.id.clone(),
                algorithm: ALGORITHM.to_owned(),
                jwks_url: format!("{}{JWKS_PATH}", s.config.public_base_url),
                claims,
            })
        })
        .await?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    if bare {
        Ok(response.content_type(JWT_MEDIA_TYPE).body(view.credential))
    } else {
        Ok(response.json(view))
    }
}

/// The claims of the certificate `id` as of `now`, or 404 / the CRT-3 refusal.
fn claims_now(
    conn: &mut DbConn,
    s: &AppState,
    user: &AuthUser,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<CredentialClaims> {
    let row = crate::routes::certificates::visible(conn, user, id)?;
    let program = guild_store::programs::find(conn, &row.program_id)?.ok_or_else(|| {
        ApiError::Internal(format!("certificate {} names a missing program", row.id))
    })?;
    let stored: CertificateRecordStatus = parse_stored("certificates", &row.status)?;
    let today = local_date(now, s.config.time_zone);
    let status = certificate::status(stored, row.valid_until, today, s.config.ce_grace_days);
    credential_claims(
        &row,
        &program,
        status,
        now,
        s.config.time_zone,
        &s.config.public_base_url,
    )
    .map_err(ApiError::Refused)
}

/// Creates the first signing key when a credential is requested and none
/// exists (the server normally creates it at start), auditing it under the
/// caller.
fn first_key_for_request(conn: &mut DbConn, actor: &Actor<'_>) -> ApiResult<SigningKeyRow> {
    let (key, created) = signing::ensure_active_key(conn, actor.at)?;
    if created {
        let view = SigningKeyView::try_from(&key)?;
        audit::record(
            conn,
            actor,
            Change::<(), _> {
                action: "signing_key.create",
                entity_type: "signing_key",
                entity_id: &key.id,
                organisation_id: None,
                before: None,
                after: Some(&view),
            },
        )?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn accepts(value: Option<&str>) -> bool {
        let mut req = TestRequest::default();
        if let Some(v) = value {
            req = req.insert_header((header::ACCEPT, v));
        }
        wants_bare_jws(&req.to_http_request())
    }

    #[test]
    fn the_bare_token_is_sent_only_when_asked_for() {
        // rule CRT-3: JSON by default, `application/jwt` on request
        assert!(!accepts(None));
        assert!(!accepts(Some("application/json")));
        assert!(!accepts(Some("*/*")));
        assert!(accepts(Some("application/jwt")));
        assert!(accepts(Some("text/plain, Application/JWT; q=0.9")));
    }
}
