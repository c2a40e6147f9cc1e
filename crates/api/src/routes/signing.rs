//! Signed credentials and the association's signing keys (CRT-3): the JWKS
//! anyone can fetch, key rotation by the administrator, and a certificate's
//! credential as a compact JWS. The design choices and the use cases are in
//! [`guild_app::signing`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use guild_app::signing as app;
use guild_domain::roles::SIGNING_KEY_KEEPERS;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::signing::{
    CredentialClaims, CredentialView, Jwk, Jwks, SigningKeyRotation, SigningKeyStatus,
    SigningKeyView,
};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext};
use crate::openapi::{ActionErrors, ListErrors, PublicErrors, ReadErrors};
use crate::routes::certificates::{CERTIFICATE_READERS, settings};
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
    // The server creates the first key when it starts; should it be missing
    // anyway, an empty set would make nothing verifiable.
    let body = state
        .read_or_tx(
            None,
            None,
            |_, c| Ok(Some(app::published_keys(c)?).filter(|k| !k.keys.is_empty())),
            |ctx, c| app::published_keys_creating_first(c, ctx.now),
        )
        .await?;
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
    user.require(SIGNING_KEY_KEEPERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let status = q.status;
    let rows = state
        .read(user, move |_, c| app::list_keys(c, status, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
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
    user.require(SIGNING_KEY_KEEPERS)?;
    let view = state.tx(user, ctx, app::rotate).await?;
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
    let id = id.into_inner();
    let bare = wants_bare_jws(&req);
    let settings = settings(&state);
    let reader = settings.clone();
    // The server creates the first key when it starts; should it be missing
    // anyway, the first credential creates it (audited).
    let view = state
        .read_or_tx(
            Some(user),
            Some(ctx),
            move |ctx, c| app::credential(ctx, c, id, &reader),
            move |ctx, c| app::credential_with_first_key(ctx, c, id, &settings),
        )
        .await?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    if bare {
        Ok(response.content_type(JWT_MEDIA_TYPE).body(view.credential))
    } else {
        Ok(response.json(view))
    }
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
