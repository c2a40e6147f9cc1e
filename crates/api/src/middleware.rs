//! Request-wide behaviour: request ids, problem+json for every error, security
//! headers, one log line per request, and `Idempotency-Key` replay for `POST`
//! (API-2, API-5).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpResponse, web};
use guild_app::idempotency::{self as app_idempotency, Claim, KeyedRequest, Replay};
use sha2::{Digest, Sha256};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorCode, PROBLEM_JSON, Problem};
use crate::extract::{LARGEST_BODY_LIMIT, RequestId, read_limited};
use crate::state::AppState;

/// The request id header, echoed on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The idempotency header (API-5).
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a replayed answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest client-chosen request id kept.
const REQUEST_ID_MAX_LEN: usize = 64;
/// The target of the one log line written per request.
pub const REQUEST_LOG_TARGET: &str = "guild::request";
/// The content security policy of the API documentation (`/docs`). The bundled
/// Swagger UI loads its scripts from files (no inline script), but styles some
/// elements inline and draws icons as `data:` images.
pub const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// A client-chosen request id is kept only when it is a short token: 1 to 64
/// characters of `A-Z a-z 0-9 . _ -`. Anything else (spaces, quotes, control
/// or non-ASCII characters, log-forging attempts) is replaced by a new id.
pub fn sane_request_id(value: &str) -> bool {
    (1..=REQUEST_ID_MAX_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Gives each request an id (the client's `X-Request-Id` when it is a short
/// token, see [`sane_request_id`]), echoes it, makes every error response
/// `application/problem+json` carrying that id, adds the security headers
/// ([`security_headers`]) and logs the request once ([`log_request`]).
pub async fn request_id_and_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let method = req.method().clone();
    // Handler and extractor errors arrive as responses; only a failure below
    // routing arrives as `Err`, and actix renders it (the rewrite below cannot see it).
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            log_request(&RequestLog {
                method: method.as_str(),
                route: "(failed below routing)".to_owned(),
                status: err.as_response_error().status_code().as_u16(),
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                request_id: &request_id,
                user_id: None,
            });
            return Err(err);
        }
    };
    let mut res = if res.status().as_u16() >= 400 && !is_html(&res) {
        to_problem(res, &request_id).await
    } else {
        res
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let docs = is_docs(res.request().path());
    security_headers(res.headers_mut(), authenticated, docs);
    let request = res.request();
    let user_id = request.extensions().get::<AuthUser>().map(|u| u.id.clone());
    log_request(&RequestLog {
        method: request.method().as_str(),
        route: request
            .match_pattern()
            .unwrap_or_else(|| "(unmatched)".to_owned()),
        status: res.status().as_u16(),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        request_id: &request_id,
        user_id: user_id.as_deref(),
    });
    Ok(res)
}

/// Whether `path` is the API documentation (Swagger UI).
fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Headers every response carries:
/// - `X-Content-Type-Options: nosniff`, always;
/// - `Cache-Control: no-store` on an answer to a request that carried
///   `Authorization` (personal data must not sit in caches), unless the handler
///   chose its own `Cache-Control`;
/// - on the documentation, a content security policy ([`DOCS_CSP`]) and
///   `X-Frame-Options: DENY`.
pub fn security_headers(headers: &mut header::HeaderMap, authenticated: bool, docs: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// What is logged about one request.
#[derive(Debug)]
pub struct RequestLog<'a> {
    pub method: &'a str,
    /// The route pattern (`/api/v1/enrolments/{id}`), never the concrete path.
    pub route: String,
    pub status: u16,
    pub latency_ms: f64,
    pub request_id: &'a str,
    /// The authenticated caller, when the request was authenticated.
    pub user_id: Option<&'a str>,
}

/// Logs one request at `info` (target [`REQUEST_LOG_TARGET`]); a server fault at
/// `error`, so the `request_id` of a 500 problem is found in the log.
pub fn log_request(entry: &RequestLog<'_>) {
    let latency_ms = (entry.latency_ms * 1000.0).round() / 1000.0;
    let user_id = entry.user_id.unwrap_or("-");
    if entry.status >= 500 {
        tracing::error!(
            target: REQUEST_LOG_TARGET,
            method = entry.method,
            route = %entry.route,
            status = entry.status,
            latency_ms,
            request_id = entry.request_id,
            user_id,
            "request failed"
        );
    } else {
        tracing::info!(
            target: REQUEST_LOG_TARGET,
            method = entry.method,
            route = %entry.route,
            status = entry.status,
            latency_ms,
            request_id = entry.request_id,
            user_id,
            "request"
        );
    }
}

/// Whether a handler answered with an HTML page on purpose (the certificate
/// verification page a browser asked for, CRT-2): kept as it is, not rewritten.
fn is_html(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
}

/// Rewrites an error response as problem+json with the request id, keeping status and headers.
async fn to_problem(res: ServiceResponse<BoxBody>, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    let (req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let parsed = if is_problem {
        serde_json::from_slice::<serde_json::Value>(&bytes).ok()
    } else {
        None
    };
    let mut value = match parsed {
        Some(v) => v,
        None => serde_json::to_value(fallback_problem(status, &bytes)).unwrap_or_default(),
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "request_id".to_owned(),
            serde_json::Value::String(request_id.to_owned()),
        );
    }
    let mut rebuilt = HttpResponse::build(status);
    for (name, v) in head.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rebuilt.append_header((name.clone(), v.clone()));
        }
    }
    let response = rebuilt
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(value.to_string());
    ServiceResponse::new(req, response)
}

/// A problem for an error actix produced itself (unknown route, wrong method, …).
fn fallback_problem(status: StatusCode, body: &[u8]) -> Problem {
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::MalformedJson,
    };
    let detail = String::from_utf8_lossy(body).trim().to_owned();
    let mut problem = ApiError::http(
        code,
        if detail.is_empty() {
            code.title().to_owned()
        } else {
            detail
        },
    )
    .problem();
    if code == ErrorCode::Internal {
        problem.detail = None;
    }
    // Keep the status actix chose (e.g. 400 for a bad request line) even when the code is generic.
    problem.status = status.as_u16();
    problem
}

/// Replays the stored answer of a `POST` repeated with the same `Idempotency-Key`
/// (API-5): a retried request never acts twice. The key is scoped to the caller.
///
/// A request carrying `Authorization` is authenticated fully first, exactly as
/// the [`AuthUser`] extractor does (the account exists and is active, the token
/// was not revoked); when that fails the request goes on without the key, so
/// the endpoint answers as it would to that token (401 on every endpoint that
/// needs a caller) and no stored answer is ever shown to a revoked token.
/// Requests without `Authorization` share the `anonymous` scope.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(&IDEMPOTENCY_KEY).cloned();
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return pass(req, next).await;
    };
    let key = match idempotency_key(&key) {
        Ok(key) => key,
        Err(err) => return Ok(req.error_response(err)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return pass(req, next).await;
    };
    let Some(scope) = key_scope(&req).await else {
        return pass(req, next).await;
    };
    // Buffered up to the largest body any endpoint accepts; the endpoint's own
    // extractor then applies its limit to the replayed payload.
    let body = match read_limited(req.take_payload(), LARGEST_BODY_LIMIT, 0).await {
        Ok(body) => body,
        Err(err) => return Ok(req.error_response(err)),
    };
    req.set_payload(actix_web::dev::Payload::from(body.clone()));
    let keyed = keyed_request(&req, scope, key, &body);
    let now = state.clock.now();
    let claimed = state
        .run(move |s| Ok(s.store.write(|c| app_idempotency::claim(c, now, keyed))?))
        .await;
    let id = match claimed {
        Ok(Claim::Claimed(id)) => id,
        Ok(earlier) => return Ok(answer_earlier(req, earlier)),
        Err(err) => return Ok(req.error_response(err)),
    };
    match pass(req, next).await {
        Ok(res) => Ok(remember(&state, id, res).await),
        Err(err) => {
            let _ = forget(&state, id).await;
            Err(err)
        }
    }
}

/// Calls the next service without idempotency.
async fn pass(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// The key of the header: 1 to 255 visible ASCII characters.
fn idempotency_key(value: &HeaderValue) -> Result<String, ApiError> {
    match value.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(k.to_owned())
        }
        _ => Err(ApiError::http(
            ErrorCode::InvalidHeader,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// Whose keys the request's key is among: the authenticated caller's, or
/// `anonymous` without `Authorization`; `None` when the token does not
/// authenticate (the request then goes on without the key).
async fn key_scope(req: &ServiceRequest) -> Option<String> {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return Some("anonymous".to_owned());
    }
    // The extractor remembers the caller in the request, so the handler
    // does not load the account a second time.
    AuthUser::from_request(req.request(), &mut Payload::None)
        .await
        .ok()
        .map(|user| user.id)
}

/// The request as the key remembers it: method, path and body fingerprint.
fn keyed_request(req: &ServiceRequest, scope: String, key: String, body: &[u8]) -> KeyedRequest {
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), ToString::to_string);
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_media_type);
    KeyedRequest {
        scope,
        key,
        method: req.method().to_string(),
        request_hash: request_fingerprint(req.method().as_str(), &path, body, is_json),
        path,
    }
}

/// The answer to a request whose key was used before: a refusal, or the
/// stored answer replayed.
fn answer_earlier(req: ServiceRequest, earlier: Claim) -> ServiceResponse<BoxBody> {
    let replay = match earlier {
        Claim::Answered(replay) => replay,
        Claim::Reused => {
            return req.error_response(ApiError::http(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was already used for a different request",
            ));
        }
        Claim::Claimed(_) | Claim::InProgress => {
            return req.error_response(ApiError::http(
                ErrorCode::IdempotencyInProgress,
                "a request with this Idempotency-Key is still being processed; retry shortly",
            ));
        }
    };
    let status = StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK);
    let mut answer = HttpResponse::build(status);
    answer.insert_header((IDEMPOTENT_REPLAYED, "true"));
    let stored_headers = [
        (header::CONTENT_TYPE, replay.content_type),
        (header::LOCATION, replay.location),
        (header::ETAG, replay.etag),
    ];
    for (name, value) in stored_headers {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            answer.insert_header((name, v));
        }
    }
    req.into_response(answer.body(replay.body))
}

/// Keeps the answer `res` under claim `id` when a retry would get the same
/// answer, otherwise lets the key go; returns `res` unchanged.
async fn remember(
    state: &AppState,
    id: String,
    res: ServiceResponse<BoxBody>,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let header_text = |name: header::HeaderName| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let location = header_text(header::LOCATION);
    let etag = header_text(header::ETAG);
    let no_store = header_text(header::CACHE_CONTROL).is_some_and(|v| v.contains("no-store"));
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let stored = if no_store || !replayable(status) {
        forget(state, id).await
    } else {
        let answer = Replay {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            content_type,
            location,
            etag,
        };
        let at = state.clock.now();
        state
            .run(move |s| {
                Ok(s.store
                    .write(|c| app_idempotency::complete(c, &id, &answer, at))?)
            })
            .await
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not store the idempotent answer");
    }
    let response = head.set_body(BoxBody::new(bytes));
    ServiceResponse::new(http_req, response)
}

/// Lets claim `id` go, so a retry runs.
async fn forget(state: &AppState, id: String) -> Result<(), ApiError> {
    state
        .run(move |s| Ok(s.store.write(|c| app_idempotency::release(c, &id))?))
        .await
}

/// Whether an answer is remembered under its key and replayed. Not those a
/// retry could change: server faults (5xx), 401 (about the token, not the
/// request), 408 and 429 (timing), 409 (a conflict with the current state,
/// which moves on) and 412 (a version race). The key is released instead, so
/// the retry runs. (`no-store` answers, which hold secrets such as tokens that
/// are never stored in plain text, are not remembered either.)
pub fn replayable(status: StatusCode) -> bool {
    !(status.is_server_error() || matches!(status.as_u16(), 401 | 408 | 409 | 412 | 429))
}

/// Whether a `Content-Type` value names JSON (`application/json`, `…+json`).
fn is_json_media_type(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || media.ends_with("+json")
}

/// SHA-256 (hex) of what makes two requests "the same request" for a key: the
/// method, the path with its query, and the body. A JSON body counts as the
/// value it parses to (key order and white space do not matter); any other
/// body (a CSV upload) or JSON that does not parse counts byte for byte.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8], is_json: bool) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) if is_json => {
            let mut canonical = String::with_capacity(body.len());
            canonical_json(&value, &mut canonical);
            hasher.update(b"json\n");
            hasher.update(canonical.as_bytes());
        }
        _ => {
            hasher.update(b"bytes\n");
            hasher.update(body);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `value` as compact JSON with every object's keys sorted, whatever
/// order `serde_json` keeps them in.
fn canonical_json(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_be_short_tokens() {
        for good in [
            "a",
            "trace-me-42",
            "0190f2c1-7b7e-7cc2-9c1e-3f4b2a1d0e9f",
            "A.b_c-D",
            &"x".repeat(64),
        ] {
            assert!(sane_request_id(good), "{good:?}");
        }
        for bad in [
            "",
            &"x".repeat(65),
            "has space",
            "quote\"d",
            "new\nline",
            "tab\t",
            "semi;colon",
            "slash/",
            "équipe",
            "a=b",
            "<script>",
        ] {
            assert!(!sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn json_bodies_compare_as_values_and_others_as_bytes() {
        let fp = |body: &str, json: bool| request_fingerprint("POST", "/x", body.as_bytes(), json);
        let a = fp(
            r#"{"name":"A","kind":"other","n":{"b":1,"a":[2,{"z":0,"y":1}]}}"#,
            true,
        );
        let b = fp(
            "{ \"n\": {\"a\": [2, {\"y\": 1, \"z\": 0}], \"b\": 1},\n \"kind\": \"other\", \"name\": \"A\" }",
            true,
        );
        assert_eq!(a, b, "key order and white space do not matter");
        assert_ne!(
            a,
            fp(
                r#"{"name":"B","kind":"other","n":{"b":1,"a":[2,{"z":0,"y":1}]}}"#,
                true
            )
        );
        assert_ne!(
            fp(r#"{"a":[1,2]}"#, true),
            fp(r#"{"a":[2,1]}"#, true),
            "array order matters"
        );
        assert_ne!(
            fp("a,b\n1,2\n", false),
            fp("a,b\n1,2\r\n", false),
            "CSV byte for byte"
        );
        assert_ne!(
            fp(r#"{"a":1, "b":2}"#, false),
            fp(r#"{"b":2,"a":1}"#, false)
        );
        assert_ne!(
            fp("{broken", true),
            fp("{broken ", true),
            "unparsable JSON byte for byte"
        );
        assert_ne!(
            request_fingerprint("POST", "/x", b"{}", true),
            request_fingerprint("POST", "/y", b"{}", true)
        );
    }

    #[test]
    fn transient_answers_are_not_replayed() {
        for code in [401, 408, 409, 412, 429, 500, 502, 503, 504] {
            assert!(
                !replayable(StatusCode::from_u16(code).unwrap_or_default()),
                "{code}"
            );
        }
        for code in [200, 201, 204, 400, 403, 404, 413, 422] {
            assert!(
                replayable(StatusCode::from_u16(code).unwrap_or_default()),
                "{code}"
            );
        }
    }

    /// Collects what a `tracing` subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[test]
    fn each_request_is_logged_once_and_a_server_fault_at_error_level() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            log_request(&RequestLog {
                method: "POST",
                route: "/api/v1/enrolments/{id}/payments".to_owned(),
                status: 500,
                latency_ms: 12.345_678,
                request_id: "req-500",
                user_id: Some("0190f2c1-7b7e-7cc2-9c1e-3f4b2a1d0e9f"),
            });
            log_request(&RequestLog {
                method: "GET",
                route: "/healthz".to_owned(),
                status: 200,
                latency_ms: 0.5,
                request_id: "req-200",
                user_id: None,
            });
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let fault = lines[0];
        for part in [
            "ERROR",
            REQUEST_LOG_TARGET,
            "method=\"POST\"",
            "route=/api/v1/enrolments/{id}/payments",
            "status=500",
            "latency_ms=12.346",
            "request_id=\"req-500\"",
            "user_id=\"0190f2c1-7b7e-7cc2-9c1e-3f4b2a1d0e9f\"",
        ] {
            assert!(fault.contains(part), "{part} missing in {fault}");
        }
        let ok = lines[1];
        for part in [
            " INFO ",
            "route=/healthz",
            "status=200",
            "request_id=\"req-200\"",
            "user_id=\"-\"",
        ] {
            assert!(ok.contains(part), "{part} missing in {ok}");
        }
    }

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=utf-8"));
        assert!(is_json_media_type("application/merge-patch+json"));
        assert!(!is_json_media_type("text/csv; charset=utf-8"));
        assert!(!is_json_media_type("application/jsonx"));
    }

    #[test]
    fn security_headers_are_set() {
        let mut h = header::HeaderMap::new();
        security_headers(&mut h, false, false);
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert!(h.get(header::CACHE_CONTROL).is_none());
        assert!(h.get(header::CONTENT_SECURITY_POLICY).is_none());
        let mut h = header::HeaderMap::new();
        security_headers(&mut h, true, false);
        assert_eq!(
            h.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        let mut h = header::HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        security_headers(&mut h, true, true);
        assert_eq!(
            h.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
            Some(&b"public, max-age=60"[..])
        );
        assert_eq!(
            h.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        assert!(h.get(header::CONTENT_SECURITY_POLICY).is_some());
    }
}
