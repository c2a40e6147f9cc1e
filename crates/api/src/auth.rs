//! Authentication (ACC-1, ACC-5): password hashing, access tokens, the caller extractor.

pub use guild_domain::roles::{CLASS_RECORD_READERS, ENROLMENT_READERS};
use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::access::{Caller, Owner, Scope};
use guild_domain::account::ACCESS_TOKEN_TTL_SECONDS;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The HMAC key that signs access tokens. Never printed.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// Wraps a configured secret.
    pub fn new(bytes: Vec<u8>) -> Self {
        JwtSecret(bytes)
    }
    /// A fresh random secret (tokens then do not survive a restart).
    pub fn random() -> Self {
        JwtSecret(random_bytes(32))
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The account id.
    pub sub: String,
    /// The account's role when the token was issued.
    pub role: String,
    /// The account's token version; bumping it revokes all access tokens.
    pub tv: i32,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer: always `guild`.
    pub iss: String,
    /// The session: the refresh-token family this token was issued with. The
    /// token dies with its session (logout, reuse of a spent refresh token).
    /// Absent only in tokens issued before sessions were named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

const ISSUER: &str = "guild";

/// Signs an access token for `user_id` in session `session_id` valid for
/// [`ACCESS_TOKEN_TTL_SECONDS`] from `now`.
pub fn issue_access_token(
    secret: &JwtSecret,
    user_id: &str,
    role: Role,
    token_version: i32,
    session_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let claims = Claims {
        sub: user_id.to_owned(),
        role: role.as_str().to_owned(),
        tv: token_version,
        iat: now.timestamp(),
        exp: now.timestamp() + ACCESS_TOKEN_TTL_SECONDS,
        iss: ISSUER.to_owned(),
        sid: Some(session_id.to_owned()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&secret.0),
    )
    .map_err(|e| ApiError::Internal(format!("cannot sign token: {e}")))
}

/// Checks an access token's signature and issuer, and its expiry against the injected clock.
pub fn verify_access_token(
    secret: &JwtSecret,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked below against the application clock, not the system clock.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[ISSUER]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&secret.0), &validation)
            .map_err(|_| ApiError::unauthenticated("the access token is not valid"))?;
    if data.claims.exp <= now.timestamp() {
        return Err(ApiError::unauthenticated(
            "the access token has expired; refresh it",
        ));
    }
    Ok(data.claims)
}

/// The token of an `Authorization: Bearer <token>` header value. The scheme
/// name is case-insensitive (RFC 7235), so `bearer` and `BEARER` work too.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Reads the `sub` of a bearer token without checking it (to scope idempotency keys).
pub fn unverified_subject(secret: &JwtSecret, req_auth: Option<&str>) -> Option<String> {
    let token = bearer_token(req_auth?)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&secret.0), &validation)
        .ok()
        .map(|d| d.claims.sub)
}

/// Hashes a password with Argon2id and a fresh salt (ACC-5).
pub fn hash_password(password: &str) -> ApiResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("cannot hash password: {e}")))
}

/// Random bytes from the OS generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A new opaque refresh-token secret and the hash to store for it.
pub fn new_refresh_secret() -> (String, String) {
    let secret = URL_SAFE_NO_PAD.encode(random_bytes(32));
    let hash = sha256_hex(&secret);
    (secret, hash)
}

/// Hex SHA-256 of a string.
pub fn sha256_hex(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The authenticated caller, loaded from the database on every request so a
/// disabled account or a revoked token is refused at once.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The account id.
    pub id: String,
    /// The account's user name.
    pub username: String,
    /// The account's role.
    pub role: Role,
    /// The organisation of an organisation or provider account.
    pub organisation_id: Option<String>,
    /// The person record of a trainee or teacher account.
    pub person_id: Option<String>,
}

impl AuthUser {
    /// The caller as the use cases see it.
    pub fn caller(&self) -> guild_app::Caller {
        guild_app::Caller {
            id: self.id.clone(),
            role: self.role,
            organisation_id: self.organisation_id.clone(),
            person_id: self.person_id.clone(),
        }
    }

    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// The caller's facts for the visibility policy (ACC-2,
    /// [`guild_domain::access`]).
    pub fn policy(&self) -> Caller {
        self.caller().policy()
    }

    /// ACC-2: whether the caller may see a resource with these facts.
    pub fn sees(&self, owner: &Owner) -> bool {
        self.caller().sees(owner)
    }

    /// ACC-2: what the caller's list queries are confined to.
    pub fn scope(&self) -> Scope {
        self.caller().scope()
    }

    /// ACC-2: the organisation a list of organisations' own records is
    /// confined to ([`guild_app::Caller::organisation_scope`]).
    pub fn organisation_scope(&self) -> Option<String> {
        self.caller().organisation_scope()
    }

    /// ACC-2: whether the caller may see an organisation's own records
    /// (records about no person) of `organisation_id`.
    pub fn can_see_organisation(&self, organisation_id: Option<&str>) -> bool {
        self.caller().can_see_organisation(organisation_id)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authenticated once per request: the idempotency middleware may have done it.
        if let Some(user) = req.extensions().get::<AuthUser>().cloned() {
            return Box::pin(std::future::ready(Ok(user)));
        }
        let request = req.clone();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".to_owned()))?;
            let token = match header {
                None => {
                    return Err(ApiError::unauthenticated(
                        "send an access token: Authorization: Bearer <token>",
                    ));
                }
                Some(Err(_)) => {
                    return Err(ApiError::unauthenticated(
                        "the Authorization header is not readable",
                    ));
                }
                Some(Ok(value)) => match bearer_token(&value) {
                    Some(t) => t.to_owned(),
                    None => {
                        return Err(ApiError::unauthenticated(
                            "the Authorization header must be: Bearer <token>",
                        ));
                    }
                },
            };
            let claims = verify_access_token(&state.jwt, &token, state.clock.now())?;
            let store = state.store.clone();
            let found = web::block(move || {
                store.read(|c| {
                    guild_app::auth::authenticate(c, &claims.sub, claims.tv, claims.sid.as_deref())
                })
            })
            .await??;
            let account = found.map_err(|rejected| ApiError::unauthenticated(rejected.detail()))?;
            let user = AuthUser {
                id: account.id,
                username: account.username,
                role: account.role,
                organisation_id: account.organisation_id,
                person_id: account.person_id,
            };
            // Kept for the rest of the request (and its log line, which names the caller).
            request.extensions_mut().insert(user.clone());
            Ok(user)
        })
    }
}
