//! The OpenAPI 3.1 document (API-7): the base document, the security scheme,
//! the shared problem+json error responses and the values of `Problem.code`.
//! Paths are collected from the handlers.

use std::collections::BTreeMap;

use guild_domain::codes;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::error::{ErrorCode, FieldProblem, PROBLEM_JSON, Problem, refusal_status};

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
    components(schemas(Problem, FieldProblem, crate::routes::ce_statistics::StatisticsFormat)),
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
        (name = "webhooks", description = "Webhook subscriptions, signed deliveries (Standard Webhooks), retries and the delivery log (API-8)"),
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

/// Every value `Problem.code` can take, with a one-line description: the
/// transport codes of [`ErrorCode`] in table order, then the business refusal
/// codes of [`guild_domain::codes`] by code. A description starts with the
/// status (and the rule, for a refusal).
pub fn problem_codes() -> Vec<(&'static str, String)> {
    let transport = ErrorCode::ALL.iter().map(|c| {
        (
            c.as_str(),
            format!("{}: {}.", c.status().as_u16(), c.title()),
        )
    });
    let refusals = codes::CATALOGUE.iter().map(|c| {
        let status = refusal_status(c.code).0.as_u16();
        let description = match c.rule {
            Some(rule) => format!("{status} {rule}: {}", c.meaning),
            None => format!("{status}: {}", c.meaning),
        };
        (c.code, description)
    });
    transport.chain(refusals).collect()
}

/// Lists the values of `Problem.code` as an `enum`, each described in
/// `x-enum-descriptions` (the extension openapi-generator reads), so SDK
/// users can switch on the code. Applied to the assembled document
/// ([`crate::app::openapi_document`]): a handler naming `Problem` as a body
/// adds the derived schema again.
pub fn list_problem_codes(doc: &mut utoipa::openapi::OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
        return;
    };
    let Some(RefOr::T(Schema::Object(code))) = problem.properties.get_mut("code") else {
        return;
    };
    let (values, descriptions): (Vec<_>, Vec<_>) = problem_codes()
        .into_iter()
        .map(|(code, description)| {
            (
                serde_json::Value::from(code),
                serde_json::Value::from(description),
            )
        })
        .unzip();
    code.enum_values = Some(values);
    code.extensions = Some(
        ExtensionsBuilder::new()
            .add("x-enum-descriptions", descriptions)
            .build(),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_code_lists_every_transport_and_refusal_code_with_a_description() {
        // rule API-7: the document lists the codes SDK users switch on
        let doc = serde_json::to_value(crate::app::openapi_document()).unwrap();
        let code = &doc["components"]["schemas"]["Problem"]["properties"]["code"];
        assert_eq!(code["type"], "string");
        let values: Vec<&str> = code["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let descriptions = code["x-enum-descriptions"].as_array().unwrap();
        assert_eq!(values.len(), ErrorCode::ALL.len() + codes::CATALOGUE.len());
        assert_eq!(descriptions.len(), values.len());
        let unique: std::collections::HashSet<&&str> = values.iter().collect();
        assert_eq!(unique.len(), values.len(), "a code is listed twice");
        for c in ErrorCode::ALL {
            assert!(values.contains(&c.as_str()), "{}", c.as_str());
        }
        for c in codes::CATALOGUE {
            assert!(values.contains(&c.code), "{}", c.code);
        }
        let at = |code: &str| {
            let i = values.iter().position(|v| *v == code).unwrap();
            descriptions[i].as_str().unwrap()
        };
        assert_eq!(
            at("malformed_json"),
            "400: The request body is not valid JSON."
        );
        assert_eq!(
            at("refund_in_progress"),
            "409 REF-4: The enrolment already has a refund in progress."
        );
        assert!(at("cannot_disable_self").starts_with("422: "));
    }

    #[test]
    fn every_schema_reference_resolves() {
        // rule API-7: a generated client needs every `$ref` defined
        let doc = serde_json::to_value(crate::app::openapi_document()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut missing = Vec::new();
        let mut stack = vec![&doc];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                        let name = r.trim_start_matches("#/components/schemas/");
                        if r.starts_with("#/components/schemas/") && !schemas.contains_key(name) {
                            missing.push(name.to_owned());
                        }
                    }
                    stack.extend(map.values());
                }
                serde_json::Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        assert!(missing.is_empty(), "undefined schemas: {missing:?}");
    }
}
