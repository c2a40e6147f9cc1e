//! Request-wide behaviour: request ids, problem+json for every error, and
//! `Idempotency-Key` replay for `POST` (API-2, API-5).

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::Duration;
use guild_store::idempotency::{self, IdempotencyRow};

use crate::auth::{sha256_hex, verify_access_token};
use crate::error::{ApiError, ErrorCode, PROBLEM_JSON, Problem};
use crate::extract::{LARGEST_BODY_LIMIT, RequestId};
use crate::state::AppState;

/// The request id header, echoed on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The idempotency header (API-5).
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a replayed answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a key is remembered.
const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// Gives each request an id (the client's `X-Request-Id` when it is sane), echoes
/// it, and makes every error response `application/problem+json` carrying that id.
pub async fn request_id_and_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    // Handler and extractor errors arrive as responses; only a failure below
    // routing arrives as `Err`, and actix renders it (the rewrite below cannot see it).
    let res = next.call(req).await?.map_into_boxed_body();
    let mut res = if res.status().as_u16() >= 400 && !is_html(&res) {
        to_problem(res, &request_id).await
    } else {
        res
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
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

/// Reads the whole request body, refusing more than `limit` bytes with 413.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt as _;
    let too_large = || {
        ApiError::http(
            ErrorCode::PayloadTooLarge,
            format!("the body may be at most {limit} bytes"),
        )
    };
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::http(
                ErrorCode::MalformedJson,
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Replays the stored answer of a `POST` repeated with the same `Idempotency-Key`
/// (API-5): a retried request never acts twice. The key is scoped to the caller.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(&IDEMPOTENCY_KEY).cloned();
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            let err = ApiError::http(
                ErrorCode::InvalidHeader,
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            );
            return Ok(req.error_response(err));
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // Buffered up to the largest body any endpoint accepts; the endpoint's own
    // extractor then applies its limit to the replayed payload.
    let body = match read_body(&mut req, LARGEST_BODY_LIMIT).await {
        Ok(body) => body,
        Err(err) => return Ok(req.error_response(err)),
    };
    req.set_payload(actix_web::dev::Payload::from(body.clone()));

    let now = state.clock.now();
    let scope = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::auth::bearer_token)
        .and_then(|t| verify_access_token(&state.jwt, t, now).ok())
        .map_or_else(|| "anonymous".to_owned(), |c| c.sub);
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), ToString::to_string);
    let mut fingerprint = format!("{} {}\n", req.method(), path);
    fingerprint.push_str(&String::from_utf8_lossy(&body));
    let row = IdempotencyRow {
        id: uuid::Uuid::now_v7().to_string(),
        scope,
        idempotency_key: key,
        method: req.method().to_string(),
        path,
        request_hash: sha256_hex(&fingerprint),
        status_code: None,
        response_body: None,
        content_type: None,
        created_at: now.naive_utc(),
        completed_at: None,
    };
    let claim_row = row.clone();
    let existing = match state
        .run(move |s| {
            s.store.write(|c| {
                let found = idempotency::claim(c, &claim_row)?;
                match found {
                    Some(old)
                        if old.created_at
                            < (now - Duration::hours(IDEMPOTENCY_TTL_HOURS)).naive_utc() =>
                    {
                        idempotency::release(c, &old.id)?;
                        Ok(idempotency::claim(c, &claim_row)?)
                    }
                    other => Ok(other),
                }
            })
        })
        .await
    {
        Ok(existing) => existing,
        Err(err) => return Ok(req.error_response(err)),
    };
    if let Some(old) = existing {
        if old.request_hash != row.request_hash {
            return Ok(req.error_response(ApiError::http(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was already used for a different request",
            )));
        }
        let (Some(status), Some(body)) = (old.status_code, old.response_body) else {
            return Ok(req.error_response(ApiError::http(
                ErrorCode::IdempotencyInProgress,
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )));
        };
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut replay = HttpResponse::build(status);
        replay.insert_header((IDEMPOTENT_REPLAYED, "true"));
        if let Some(ct) = old.content_type {
            replay.insert_header((header::CONTENT_TYPE, ct));
        }
        return Ok(req.into_response(replay.body(body)));
    }

    let res = next
        .call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body);
    let res = match res {
        Ok(res) => res,
        Err(err) => {
            let id = row.id.clone();
            let _ = state
                .run(move |s| s.store.write(|c| Ok(idempotency::release(c, &id)?)))
                .await;
            return Err(err);
        }
    };
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let id = row.id.clone();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let no_store = head
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    // Answers that must not be replayed: server faults (a retry may succeed), 401/408/429
    // (about the caller's token or timing, not the request), and `no-store` bodies,
    // which hold secrets such as tokens that are never stored in plain text.
    let forget = status.is_server_error() || matches!(status.as_u16(), 401 | 408 | 429) || no_store;
    let stored = if forget {
        state
            .run(move |s| s.store.write(|c| Ok(idempotency::release(c, &id)?)))
            .await
    } else {
        let at = state.clock.now().naive_utc();
        state
            .run(move |s| {
                s.store.write(|c| {
                    Ok(idempotency::complete(
                        c,
                        &id,
                        i32::from(status.as_u16()),
                        &text,
                        content_type.as_deref(),
                        at,
                    )?)
                })
            })
            .await
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not store the idempotent answer");
    }
    let response = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, response))
}
