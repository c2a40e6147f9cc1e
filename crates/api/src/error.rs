//! One application error type and its single mapping to `application/problem+json` (API-2).
//!
//! Every refusal carries a stable machine `code` from [`ErrorCode`] (or, for a
//! business rule, the domain's code from [`guild_domain::codes`]) and, where a
//! rule refused it, the rule ID. A business refusal's status comes from its
//! code's kind in that catalogue, mapped here in [`refusal_status`].
//! 5xx bodies say nothing internal; the cause goes to the log.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use guild_domain::codes::{self, Kind};
use guild_domain::error::{FieldError, InvalidTransition, Refusal};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $status:ident, $title:literal), )*) => {
        /// The table of transport-level error codes, each with its HTTP status and title.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( $(#[$doc])* $variant, )* }

        impl ErrorCode {
            /// Every code, for documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];
            /// The stable wire name.
            pub fn as_str(self) -> &'static str { match self { $(ErrorCode::$variant => $code,)* } }
            /// The HTTP status this code answers with.
            pub fn status(self) -> StatusCode { match self { $(ErrorCode::$variant => StatusCode::$status,)* } }
            /// A short human title.
            pub fn title(self) -> &'static str { match self { $(ErrorCode::$variant => $title,)* } }
        }
    };
}

error_codes! {
    /// The body is not well-formed JSON.
    MalformedJson = ("malformed_json", BAD_REQUEST, "The request body is not valid JSON"),
    /// A path parameter (such as an id) has the wrong format.
    InvalidPathParameter = ("invalid_path_parameter", BAD_REQUEST, "A path parameter is invalid"),
    /// A query parameter is unknown, malformed or out of range.
    InvalidQuery = ("invalid_query", BAD_REQUEST, "A query parameter is invalid"),
    /// A header (If-Match, Idempotency-Key, ...) is malformed.
    InvalidHeader = ("invalid_header", BAD_REQUEST, "A request header is invalid"),
    /// The pagination cursor was not issued by this API.
    InvalidCursor = ("invalid_cursor", BAD_REQUEST, "The pagination cursor is invalid"),
    /// No or an invalid/expired bearer token (ACC-1).
    Unauthenticated = ("unauthenticated", UNAUTHORIZED, "Authentication is required"),
    /// Wrong user name or password (ACC-5).
    InvalidCredentials = ("invalid_credentials", UNAUTHORIZED, "The user name or password is wrong"),
    /// The refresh token is unknown, spent, revoked or expired (ACC-1).
    InvalidRefreshToken = ("invalid_refresh_token", UNAUTHORIZED, "The refresh token is not valid"),
    /// The caller's role may not do this.
    Forbidden = ("forbidden", FORBIDDEN, "Your role may not do this"),
    /// No such resource, or not one the caller may see (ACC-2).
    NotFound = ("not_found", NOT_FOUND, "The resource does not exist"),
    /// No such route.
    RouteNotFound = ("route_not_found", NOT_FOUND, "No such endpoint"),
    /// The route exists but not with this method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed on this endpoint"),
    /// The action is not allowed in the resource's current state (API-4).
    InvalidTransition = ("invalid_transition", CONFLICT, "The action is not allowed in the current state"),
    /// The resource already exists (unique value taken).
    AlreadyExists = ("already_exists", CONFLICT, "The resource already exists"),
    /// Another request with the same Idempotency-Key is still running (API-5).
    IdempotencyInProgress = ("idempotency_in_progress", CONFLICT, "A request with this Idempotency-Key is in progress"),
    /// `If-Match` names a version that is no longer current (API-5).
    VersionMismatch = ("version_mismatch", PRECONDITION_FAILED, "The resource was changed by someone else"),
    /// The body is larger than allowed.
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE, "The request body is too large"),
    /// The body is not `application/json`.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The body must be application/json"),
    /// The JSON does not fit the schema: wrong type, unknown field or enum value, missing field.
    InvalidBody = ("invalid_body", UNPROCESSABLE_ENTITY, "The request body does not match the schema"),
    /// One or more fields are invalid; see `errors`.
    ValidationFailed = ("validation_failed", UNPROCESSABLE_ENTITY, "Some fields are invalid"),
    /// The Idempotency-Key was already used for a different request (API-5).
    IdempotencyKeyReused = ("idempotency_key_reused", UNPROCESSABLE_ENTITY, "The Idempotency-Key was used for another request"),
    /// A business rule refused the request; see `rule`.
    RuleViolation = ("rule_violation", UNPROCESSABLE_ENTITY, "A business rule refused the request"),
    /// Too many attempts (ACC-5).
    TooManyRequests = ("too_many_requests", TOO_MANY_REQUESTS, "Too many attempts; try again later"),
    /// A fault on the server; the body says nothing more.
    Internal = ("internal", INTERNAL_SERVER_ERROR, "Internal server error"),
    /// The request body did not arrive in time (`GUILD_REQUEST_TIMEOUT_SECS`).
    RequestTimeout = ("request_timeout", REQUEST_TIMEOUT, "The request was not received in time"),
    /// The database is unreachable, read-only or busy; retry after `Retry-After`.
    Unavailable = ("unavailable", SERVICE_UNAVAILABLE, "The service is temporarily unavailable"),
    /// Too many passwords are being checked at once; retry after `Retry-After` (ACC-5).
    ServerBusy = ("server_busy", SERVICE_UNAVAILABLE, "The server is busy; try again shortly"),
}

/// The title of a business refusal of kind [`Kind::Conflict`] (409).
pub const CONFLICT_TITLE: &str = "The request conflicts with existing data";

/// The title of a business refusal of kind [`Kind::Forbidden`] (403).
pub const FORBIDDEN_BY_RULE_TITLE: &str = "A business rule forbids this request";

/// The status and title of a business refusal with `code`: the one place
/// where the kinds of [`guild_domain::codes`] become HTTP statuses
/// (conflict → 409, unprocessable → 422, forbidden → 403). A code missing from
/// the catalogue (a bug, caught by the catalogue tests) answers 422 and is
/// logged by [`ApiError::error_response`], never a 500.
pub fn refusal_status(code: &str) -> (StatusCode, &'static str) {
    match codes::lookup(code).map(|c| c.kind) {
        Some(Kind::Conflict) => (StatusCode::CONFLICT, CONFLICT_TITLE),
        Some(Kind::Forbidden) => (StatusCode::FORBIDDEN, FORBIDDEN_BY_RULE_TITLE),
        Some(Kind::Unprocessable) | None => (
            ErrorCode::RuleViolation.status(),
            ErrorCode::RuleViolation.title(),
        ),
    }
}

/// Seconds a client is asked to wait (`Retry-After`) when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 5;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name in the request (`snake_case`, dotted for nested fields).
    #[schema(example = "id_number")]
    pub field: String,
    /// A stable machine code for what is wrong.
    #[schema(example = "id_number_check_digit")]
    pub code: String,
    /// A human explanation.
    pub message: String,
}

impl From<FieldError> for FieldProblem {
    fn from(e: FieldError) -> Self {
        FieldProblem {
            field: e.field,
            code: e.code.to_owned(),
            message: e.message,
        }
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:guild:problem:validation_failed",
    "title": "Some fields are invalid",
    "status": 422,
    "detail": "1 field is invalid",
    "code": "validation_failed",
    "errors": [{"field": "id_number", "code": "id_number_check_digit", "message": "the check digit does not match (GB 11643)"}],
    "request_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566"
}))]
pub struct Problem {
    /// `urn:guild:problem:{code}`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable machine code: a transport code or, when a business rule
    /// refused the request, a refusal code (`rule` names the rule).
    pub code: String,
    /// The SPEC rule ID that refused the request, e.g. `DEF-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Per-field problems of a validation error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// The actions allowed in the resource's current state (409 `invalid_transition`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// A machine-readable refinement of `code`: why a refresh token is dead
    /// (`used`, `revoked`, `expired` or `unknown`, ACC-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "used")]
    pub reason: Option<String>,
    /// The request's id (also in the `X-Request-Id` header), for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Everything a request can fail with. Converted to HTTP in exactly one place.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A transport-level error with its code and a detail for the client.
    #[error("{code:?}: {detail}")]
    Http {
        /// The code from the table.
        code: ErrorCode,
        /// Shown to the client.
        detail: String,
    },
    /// Fields failed validation.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldProblem>),
    /// A business rule refused the request. The status comes from the kind of
    /// the refusal's code in [`guild_domain::codes`] (see [`refusal_status`]).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The action does not fit the current state.
    #[error("invalid transition: {0}")]
    Transition(InvalidTransition),
    /// Too many attempts; retry after the given seconds.
    #[error("throttled: {detail}")]
    Throttled {
        /// Seconds until the window has room again.
        retry_after: i64,
        /// Shown to the client.
        detail: String,
        /// The rule, e.g. ACC-5.
        rule: Option<&'static str>,
    },
    /// A transport-level error refined by a machine-readable `reason`.
    #[error("{code:?} ({reason}): {detail}")]
    Reasoned {
        /// The code from the table.
        code: ErrorCode,
        /// Shown to the client as `reason`.
        reason: &'static str,
        /// Shown to the client.
        detail: String,
    },
    /// Too much work of one kind at once (password checks); retry after the given seconds.
    #[error("busy: {detail}")]
    Busy {
        /// Seconds to wait before retrying.
        retry_after: i64,
        /// Shown to the client.
        detail: String,
    },
    /// A server-side fault: logged in full, shown as a bare 500.
    #[error("internal: {0}")]
    Internal(String),
    /// The database is unreachable.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    /// A transport-level error with a detail.
    pub fn http(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Http {
            code,
            detail: detail.into(),
        }
    }
    /// 404 for an entity the caller cannot see, whether or not it exists (ACC-2).
    pub fn not_found(entity: &str) -> Self {
        ApiError::http(ErrorCode::NotFound, format!("{entity} not found"))
    }
    /// 403: the caller's role may not do this at all.
    pub fn forbidden() -> Self {
        ApiError::http(
            ErrorCode::Forbidden,
            "your role may not perform this operation",
        )
    }
    /// 401 with a detail.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        ApiError::http(ErrorCode::Unauthenticated, detail)
    }
    /// 422 with one invalid field.
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldProblem {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }
    /// 409 `already_exists`.
    pub fn exists(detail: impl Into<String>) -> Self {
        ApiError::http(ErrorCode::AlreadyExists, detail)
    }
    /// 412: the `If-Match` version is stale.
    pub fn version_mismatch() -> Self {
        ApiError::http(
            ErrorCode::VersionMismatch,
            "the resource was changed since you read it; fetch it again",
        )
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Http { code, detail } => base(
                code.as_str(),
                code.status(),
                code.title(),
                Some(detail.clone()),
            ),
            ApiError::Validation(errors) => {
                let c = ErrorCode::ValidationFailed;
                let mut p = base(
                    c.as_str(),
                    c.status(),
                    c.title(),
                    Some(invalid_count(errors)),
                );
                p.errors = Some(errors.clone());
                p
            }
            ApiError::Refused(r) => {
                let (status, title) = refusal_status(r.code);
                let mut p = base(r.code, status, title, Some(r.detail.clone()));
                p.rule = r.rule.map(str::to_owned);
                p
            }
            ApiError::Transition(t) => {
                let c = ErrorCode::InvalidTransition;
                let detail = transition_detail(t);
                let mut p = base(c.as_str(), c.status(), c.title(), Some(detail));
                p.rule = t.rule.map(str::to_owned);
                p.allowed_actions = Some(t.allowed.iter().map(|a| (*a).to_owned()).collect());
                p
            }
            ApiError::Throttled { detail, rule, .. } => {
                let c = ErrorCode::TooManyRequests;
                let mut p = base(c.as_str(), c.status(), c.title(), Some(detail.clone()));
                p.rule = rule.map(str::to_owned);
                p
            }
            ApiError::Reasoned {
                code,
                reason,
                detail,
            } => {
                let mut p = base(
                    code.as_str(),
                    code.status(),
                    code.title(),
                    Some(detail.clone()),
                );
                p.reason = Some((*reason).to_owned());
                p
            }
            ApiError::Busy { detail, .. } => {
                let c = ErrorCode::ServerBusy;
                base(c.as_str(), c.status(), c.title(), Some(detail.clone()))
            }
            ApiError::Internal(_) => {
                let c = ErrorCode::Internal;
                base(c.as_str(), c.status(), c.title(), None)
            }
            ApiError::Unavailable(_) => {
                let c = ErrorCode::Unavailable;
                base(
                    c.as_str(),
                    c.status(),
                    c.title(),
                    Some(
                        "the database cannot be reached or written to just now; retry later"
                            .to_owned(),
                    ),
                )
            }
        }
    }
}

/// A problem document with no rule, field errors or allowed actions yet.
fn base(code: &str, status: StatusCode, title: &str, detail: Option<String>) -> Problem {
    Problem {
        type_uri: format!("urn:guild:problem:{code}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        rule: None,
        errors: None,
        allowed_actions: None,
        reason: None,
        request_id: None,
    }
}

/// "1 field is invalid", "3 fields are invalid".
fn invalid_count(errors: &[FieldProblem]) -> String {
    let n = errors.len();
    format!("{n} field{} invalid", if n == 1 { " is" } else { "s are" })
}

/// What an invalid transition says: the action, the state and what is allowed.
fn transition_detail(t: &InvalidTransition) -> String {
    let allowed = if t.allowed.is_empty() {
        "none".to_owned()
    } else {
        t.allowed.join(", ")
    };
    format!(
        "cannot {} a {} that is {}; allowed: {allowed}",
        t.action, t.entity, t.from
    )
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Refused(r)
    }
}

/// The one mapping of the use cases' transport-free error to HTTP.
impl From<guild_app::AppError> for ApiError {
    fn from(e: guild_app::AppError) -> Self {
        use guild_app::AppError;
        match e {
            AppError::NotFound(entity) => ApiError::not_found(entity),
            AppError::Forbidden => ApiError::forbidden(),
            AppError::Refused(r) => ApiError::Refused(r),
            AppError::Transition(t) => ApiError::Transition(t),
            AppError::Stale => ApiError::version_mismatch(),
            AppError::Exists(detail) => ApiError::exists(detail),
            AppError::Invalid(fields) => {
                ApiError::Validation(fields.into_iter().map(FieldProblem::from).collect())
            }
            AppError::Unavailable(detail) => ApiError::Unavailable(detail),
            AppError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<InvalidTransition> for ApiError {
    fn from(t: InvalidTransition) -> Self {
        ApiError::Transition(t)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Validation(vec![e.into()])
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task failed: {e}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            ApiError::Refused(r) if codes::lookup(r.code).is_none() => {
                tracing::error!(
                    code = r.code,
                    rule = r.rule,
                    "refusal code missing from guild_domain::codes; answering 422"
                );
            }
            _ => {}
        }
        let problem = self.problem();
        let mut response = problem_response(&problem);
        if let ApiError::Throttled { retry_after, .. } | ApiError::Busy { retry_after, .. } = self
            && let Ok(v) = HeaderValue::from_str(&(*retry_after).max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let ApiError::Unavailable(_) = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        if problem.status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"guild\""),
            );
        }
        response
    }
}

/// Serialises a problem with the right status and media type.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .json(problem)
}

/// The result type of handlers and services.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod catalogue_scan;

#[cfg(test)]
mod tests {
    use super::*;
    use guild_app::AppError;

    #[test]
    fn every_code_is_unique_and_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
            assert!(code.status().as_u16() >= 400);
        }
    }

    #[test]
    fn refusals_carry_their_rule_and_transitions_their_allowed_actions() {
        // rule API-2, API-4
        let p =
            ApiError::Refused(Refusal::rule("DEF-1", "deferral_too_late", "too late")).problem();
        assert_eq!(
            (p.status, p.code.as_str(), p.rule.as_deref()),
            (422, "deferral_too_late", Some("DEF-1"))
        );
        let t = InvalidTransition {
            entity: "organisation",
            from: "approved",
            action: "approve",
            allowed: vec!["suspend"],
            rule: Some("PPL-4"),
        };
        let p = ApiError::Transition(t).problem();
        assert_eq!(p.status, 409);
        assert_eq!(p.allowed_actions, Some(vec!["suspend".to_owned()]));
    }

    #[test]
    fn a_refusal_answers_the_status_of_its_code_kind_whatever_the_variant() {
        // rule API-2: one table of refusal codes decides the status
        let conflict = || Refusal::rule("REF-4", codes::REFUND_IN_PROGRESS, "busy");
        let unprocessable = || Refusal::rule("DEF-1", codes::DEFERRAL_TOO_LATE, "late");
        for err in [ApiError::Refused(conflict()), ApiError::from(conflict())] {
            let p = err.problem();
            assert_eq!(
                (
                    p.status,
                    p.title.as_str(),
                    p.code.as_str(),
                    p.rule.as_deref()
                ),
                (409, CONFLICT_TITLE, "refund_in_progress", Some("REF-4"))
            );
            assert_eq!(err.status_code(), StatusCode::CONFLICT);
        }
        for err in [
            ApiError::Refused(unprocessable()),
            ApiError::from(unprocessable()),
        ] {
            let p = err.problem();
            assert_eq!(
                (p.status, p.title.as_str()),
                (422, ErrorCode::RuleViolation.title())
            );
            assert_eq!(p.type_uri, "urn:guild:problem:deferral_too_late");
        }
        assert_eq!(
            refusal_status(codes::CERTIFICATE_NOT_VALID).0,
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn every_kind_has_a_status_and_an_unknown_code_answers_422_not_500() {
        for c in codes::CATALOGUE {
            let expected = match c.kind {
                Kind::Conflict => 409,
                Kind::Unprocessable => 422,
                Kind::Forbidden => 403,
            };
            assert_eq!(refusal_status(c.code).0.as_u16(), expected, "{}", c.code);
        }
        let err = ApiError::Refused(Refusal::new("no_such_code_anywhere", None, "?"));
        assert_eq!(err.problem().status, 422);
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn refusal_codes_and_transport_codes_never_share_a_name() {
        for code in ErrorCode::ALL {
            assert!(
                codes::lookup(code.as_str()).is_none(),
                "{} is both a transport code and a refusal code",
                code.as_str()
            );
        }
    }

    #[test]
    fn a_lost_database_connection_answers_503_with_retry_after() {
        // A connection that died mid-request is the database's state, not a bug
        // (the store's errors become AppError::Unavailable in guild-app).
        let err = ApiError::from(AppError::Unavailable("connection lost".to_owned()));
        assert!(matches!(err, ApiError::Unavailable(_)), "{err:?}");
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS))
        );
        let bug = AppError::Internal("no such row".to_owned());
        assert!(matches!(ApiError::from(bug), ApiError::Internal(_)));
    }

    #[test]
    fn internal_errors_reveal_nothing() {
        let p = ApiError::Internal("secret table exploded".to_owned()).problem();
        assert_eq!(p.status, 500);
        assert!(p.detail.is_none());
        assert!(!serde_json::to_string(&p).unwrap().contains("secret"));
    }
}
