//! The OpenAPI 3.1 document (API-7): the base document, the security scheme and
//! the shared problem+json error responses. Paths are collected from the handlers.

use std::collections::BTreeMap;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::error::{ErrorCode, FieldProblem, PROBLEM_JSON, Problem};

/// The base document; `app::openapi()` adds every handler's path.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guild API",
        description = "Training, certification and continuing-education register of an industry association. \
            Errors are RFC 9457 problem documents with a stable `code`; lists use cursor pagination; \
            mutable resources carry a `version` checked through `If-Match`; POST accepts `Idempotency-Key`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        version = "1.0.0"
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&Components),
    security(("bearer" = [])),
    tags(
        (name = "system", description = "Health and readiness"),
        (name = "auth", description = "Login, token refresh, logout and the current account (ACC-1, ACC-5)"),
        (name = "users", description = "Accounts, managed by the administrator"),
        (name = "organisations", description = "Member organisations (PPL-4) and their account change requests (ACC-3, ACC-4)"),
        (name = "people", description = "People with validated, masked ID numbers (PPL-1 to PPL-3)"),
        (name = "audit", description = "The audit log (API-6)"),
        (name = "programs", description = "Training programs with fees, exam components and certificate validity (PRG-1)"),
        (name = "plans", description = "Annual training plans, published and amended with a version history (PLN-1)"),
        (name = "teachers", description = "Board terms and teacher appointments, dismissals (TCH-1, TCH-2)"),
        (name = "classes", description = "Classes: schedule, teachers, capacity, states and the preparation checklist (CLS-1 to CLS-3)"),
        (name = "enrolments", description = "The enrolment chain, fee ledger and waiting list (ENR-1 to ENR-5, CLS-3)"),
        (name = "deferrals", description = "Deferrals and transfers to a later class (DEF-1, DEF-2)"),
        (name = "substitutions", description = "Substitution of the enrolled person (DEF-3)"),
        (name = "notifications", description = "Each account's inbox of notices"),
        (name = "bans", description = "Bans from training and exams (DSC-4, ENR-4)"),
        (name = "refunds", description = "Refund requests and their four-step approval (REF-1 to REF-4)"),
        (name = "attendance", description = "Attendance per session and leave requests (ATT-1 to ATT-3)"),
        (name = "sittings", description = "Exam sittings, registration, results and retakes (EXM-1 to EXM-5)"),
        (name = "sanctions", description = "Exam discipline: incidents, sanctions, bans and the misconduct register (DSC-1 to DSC-5)"),
        (name = "certificates", description = "Certificates, QR codes, signed credentials and continuing-education renewal (CRT-1 to CRT-4, CRT-8)"),
        (name = "certificate-requests", description = "Reissue, change and cancellation requests, forgery reports (CRT-5 to CRT-7)"),
        (name = "archives", description = "Class archives and the working-day calendar (ARC-1, ARC-2)"),
        (name = "ce", description = "The continuing-education credit register: providers, activities, credits, compliance and statistics (CED-1 to CED-6)"),
        (name = "public", description = "Unauthenticated endpoints: published plans and public notices")
    )
)]
pub struct ApiDoc;

struct Components;

impl Modify for Components {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from POST /api/v1/auth/login (15 minutes)",
                    ))
                    .build(),
            ),
        );
        for (status, name) in RESPONSES {
            components
                .responses
                .insert((*name).to_owned(), RefOr::T(problem_response(*status)));
        }
    }
}

/// Component response names by status.
const RESPONSES: &[(u16, &str)] = &[
    (400, "BadRequest"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "NotFound"),
    (409, "Conflict"),
    (412, "PreconditionFailed"),
    (413, "PayloadTooLarge"),
    (415, "UnsupportedMediaType"),
    (422, "UnprocessableEntity"),
    (429, "TooManyRequests"),
    (500, "InternalError"),
    (503, "ServiceUnavailable"),
];

/// The shared description of one error status, listing the codes it can carry.
fn problem_response(status: u16) -> Response {
    let codes: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| c.status().as_u16() == status)
        .map(|c| c.as_str())
        .collect();
    let mut description = format!(
        "Problem document (application/problem+json). Codes: {}.",
        codes.join(", ")
    );
    if status == 422 {
        description
            .push_str(" Business-rule refusals carry their own code and the rule ID in `rule`.");
    }
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn refs(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .filter_map(|s| RESPONSES.iter().find(|(status, _)| status == s))
        .map(|(status, name)| {
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

macro_rules! error_set {
    ($($(#[$doc:meta])* $name:ident = [$($status:literal),*];)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                refs(&[$($status),*])
            }
        }
    )*};
}

error_set! {
    /// Errors of an unauthenticated endpoint that reads.
    PublicErrors = [400, 404, 500, 503];
    /// Errors of reading one resource.
    ReadErrors = [400, 401, 403, 404, 500, 503];
    /// Errors of reading a list.
    ListErrors = [400, 401, 403, 500, 503];
    /// Errors of creating a resource.
    CreateErrors = [400, 401, 403, 404, 409, 413, 415, 422, 500, 503];
    /// Errors of updating a resource with `If-Match`.
    UpdateErrors = [400, 401, 403, 404, 409, 412, 413, 415, 422, 500, 503];
    /// Errors of an action endpoint (state change).
    ActionErrors = [400, 401, 403, 404, 409, 413, 415, 422, 500, 503];
    /// Errors of logging in and refreshing tokens.
    LoginErrors = [400, 401, 413, 415, 422, 429, 500, 503];
    /// Errors of changing one's password (throttled like logins, ACC-5).
    PasswordChangeErrors = [400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503];
    /// Errors of the liveness probe.
    HealthErrors = [500];
    /// Errors of the readiness probe.
    ReadyErrors = [500, 503];
}
