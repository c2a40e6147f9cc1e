//! Input handling: problem+json for every malformed body, path or query (API-2),
//! the request context, validation, `If-Match` and pagination (API-3, API-5).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::{Ready, ready};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, ApiResult, ErrorCode, FieldProblem};

/// Largest JSON body accepted, in bytes.
pub const JSON_LIMIT: usize = 64 * 1024;

/// The largest body any endpoint accepts (the CSV upload); each endpoint's
/// extractor enforces its own, smaller or equal, limit.
pub const LARGEST_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Reads a whole body stream, refusing more than `limit` bytes with 413
/// (and 400 `malformed_json` when the stream breaks); `hint` is the expected
/// size, for the first allocation (at most `limit`).
pub async fn read_limited<S>(mut stream: S, limit: usize, hint: usize) -> ApiResult<web::Bytes>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    use futures_util::StreamExt as _;
    let mut body = web::BytesMut::with_capacity(hint.min(limit));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::http(
                ErrorCode::MalformedJson,
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// 413: the body is over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::http(
        ErrorCode::PayloadTooLarge,
        format!("the body may be at most {limit} bytes"),
    )
}

/// Turns a JSON body error into problem+json: 400 malformed, 413 too large,
/// 415 wrong media type, 422 wrong shape.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::http(
            ErrorCode::PayloadTooLarge,
            format!("the body may be at most {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::http(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => body_shape_error(e),
        JsonPayloadError::Deserialize(e) => ApiError::http(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        ),
        other => ApiError::http(
            ErrorCode::MalformedJson,
            format!("the body could not be read: {other}"),
        ),
    };
    api.into()
}

/// Maps a JSON body that failed to deserialise, for handlers that read a
/// body larger than [`JSON_LIMIT`] themselves: 422 `invalid_body` (naming the
/// field where serde says it) or 400 `malformed_json`, as [`json_error`] does.
pub fn json_body_error(e: &serde_json::Error) -> ApiError {
    if e.is_data() {
        body_shape_error(e)
    } else {
        ApiError::http(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    }
}

/// A JSON body that parsed but does not fit the schema, with the field named where serde says it.
fn body_shape_error(e: &serde_json::Error) -> ApiError {
    let message = e.to_string();
    let field = between_backticks(&message, "missing field `")
        .or_else(|| between_backticks(&message, "unknown field `"));
    match field {
        Some(field) => ApiError::Http {
            code: ErrorCode::InvalidBody,
            detail: message.clone(),
        }
        .with_field(field, &message),
        None => ApiError::http(ErrorCode::InvalidBody, message),
    }
}

fn between_backticks(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('`')?;
    Some(message[start..start + end].to_owned())
}

impl ApiError {
    /// Adds a named field to an `invalid_body` error by turning it into a validation list.
    fn with_field(self, field: String, message: &str) -> ApiError {
        match self {
            ApiError::Http {
                code: ErrorCode::InvalidBody,
                ..
            } => ApiError::Validation(vec![FieldProblem {
                field,
                code: "invalid_body".to_owned(),
                message: message.to_owned(),
            }]),
            other => other,
        }
    }
}

/// Path parameters that do not parse (e.g. a bad UUID) answer 400 `invalid_path_parameter`.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::http(
        ErrorCode::InvalidPathParameter,
        format!("invalid path parameter: {err}"),
    )
    .into()
}

/// Query strings that do not parse answer 400 `invalid_query`.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::http(ErrorCode::InvalidQuery, format!("invalid query: {err}")).into()
}

/// Runs `validator` rules and turns failures into per-field problems.
pub fn validate<T: Validate>(value: &T) -> ApiResult<()> {
    value
        .validate()
        .map_err(|e| ApiError::Validation(field_problems(&e, "")))
}

fn field_problems(errors: &ValidationErrors, prefix: &str) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|e| {
                FieldProblem {
                    field: name.clone(),
                    code: e.code.to_string(),
                    message: e
                        .message
                        .as_ref()
                        .map_or_else(|| describe(e), ToString::to_string),
                }
            })),
            ValidationErrorsKind::Struct(inner) => out.extend(field_problems(inner, &name)),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    out.extend(field_problems(inner, &format!("{name}[{i}]")));
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn describe(e: &validator::ValidationError) -> String {
    let param = |k: &str| e.params.get(k).map(ToString::to_string);
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be {min} to {max} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            _ => "has the wrong length".to_owned(),
        },
        "range" => "is out of range".to_owned(),
        other => format!("is invalid ({other})"),
    }
}

/// Who is asking and from where: request id and client address, for audit and throttling.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The `X-Request-Id` of this request.
    pub request_id: String,
    /// The client's IP address (the socket peer; proxies are not trusted).
    pub address: String,
}

/// The request id stored in request extensions by the request-id middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl FromRequest for RequestContext {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let address = req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        ready(Ok(RequestContext {
            request_id,
            address,
        }))
    }
}

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`), if the header was sent (API-5).
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i32>);

impl IfMatch {
    /// Fails with 412 when a version was named and the current one differs.
    pub fn check(self, current: i32) -> ApiResult<()> {
        match self.0 {
            Some(v) if v != current => Err(ApiError::version_mismatch()),
            _ => Ok(()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(raw) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(IfMatch(None)));
        };
        let parsed = raw.to_str().ok().and_then(|s| {
            let s = s.trim();
            let s = s.strip_prefix("W/").unwrap_or(s);
            s.trim_matches('"').parse::<i32>().ok()
        });
        ready(match parsed {
            Some(v) => Ok(IfMatch(Some(v))),
            None => Err(ApiError::http(
                ErrorCode::InvalidHeader,
                "If-Match must be the resource's version as an ETag, e.g. \"3\"",
            )),
        })
    }
}

/// The ETag header value for a version.
pub fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// Pagination parameters shared by every list (API-3).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub use guild_app::PageRequest;

impl PageParams {
    /// Checks the limit and decodes the cursor.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> ApiResult<PageRequest> {
        let limit = match limit {
            None => 50,
            Some(n @ 1..=200) => i64::from(n),
            Some(_) => {
                return Err(ApiError::http(
                    ErrorCode::InvalidQuery,
                    "limit must be between 1 and 200",
                ));
            }
        };
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(PageRequest { after, limit })
    }
}

const CURSOR_PREFIX: &str = "k1:";

fn decode_cursor(raw: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::http(
            ErrorCode::InvalidCursor,
            "the cursor is not one this API issued",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let key = text.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?;
    uuid::Uuid::parse_str(key).map_err(|_| bad())?;
    Ok(key.to_owned())
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    /// The items, in a stable order (oldest first).
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Paged<T> {
    /// Maps a store page into API items.
    pub fn from_page<R>(page: guild_app::Page<R>, f: impl FnMut(R) -> T) -> Self {
        Paged {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        }
    }

    /// Like [`Paged::from_page`] for fallible mapping.
    pub fn try_from_page<R>(
        page: guild_app::Page<R>,
        f: impl FnMut(R) -> ApiResult<T>,
    ) -> ApiResult<Self> {
        Ok(Paged {
            items: page.items.into_iter().map(f).collect::<ApiResult<_>>()?,
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        // rule API-3
        let key = uuid::Uuid::now_v7().to_string();
        let page = PageParams::parse(Some(10), Some(&encode_cursor(&key))).unwrap();
        assert_eq!(page.after.as_deref(), Some(key.as_str()));
        assert_eq!(page.limit, 10);
        for bad in ["", "abc", "!!", &URL_SAFE_NO_PAD.encode("k1:not-a-uuid")] {
            assert!(PageParams::parse(None, Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_outside_1_to_200_are_refused() {
        assert_eq!(PageParams::parse(None, None).unwrap().limit, 50);
        assert_eq!(PageParams::parse(Some(200), None).unwrap().limit, 200);
        assert!(PageParams::parse(Some(0), None).is_err());
        assert!(PageParams::parse(Some(201), None).is_err());
    }

    #[test]
    fn if_match_compares_versions() {
        // rule API-5
        assert!(IfMatch(None).check(3).is_ok());
        assert!(IfMatch(Some(3)).check(3).is_ok());
        let err = IfMatch(Some(2)).check(3).unwrap_err();
        assert_eq!(err.problem().status, 412);
    }

    #[test]
    fn serde_field_names_are_pulled_from_messages() {
        assert_eq!(
            between_backticks("missing field `name` at line 1", "missing field `").as_deref(),
            Some("name")
        );
        assert_eq!(between_backticks("something else", "missing field `"), None);
    }
}
