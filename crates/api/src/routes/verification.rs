//! Public certificate verification (CRT-2, CRT-8): what anyone scanning a
//! certificate's QR code sees.
//!
//! Two doors to the same answer:
//! - `GET /api/v1/public/certificates/{code}`: JSON for programs and apps.
//! - `GET /verify/{code}`: the URL inside the QR code. A phone's browser asks
//!   for `text/html` and gets a small self-contained page; any other client
//!   gets the same JSON as the API path. A page rather than a redirect to the
//!   API path, because whoever scans a card with a phone camera should read
//!   the status, not a JSON document, and no separate frontend is needed.
//!
//! What is shown (CRT-2): the certificate number (printed on the card, so the
//! verifier can match card and record), the status computed at the moment of
//! the request (CRT-8), the holder's name partly masked, the program and the
//! certificate's title, the issue and expiry dates, and for a superseded or
//! revoked certificate the day it ended. Never the ID number, the employer,
//! the reason for a cancellation, internal ids, or the code of a replacing
//! certificate (the holder presents the new card; its code is not ours to hand
//! out to whoever holds the old one).
//!
//! Unknown and malformed codes answer the same 404 `not_found` problem, so the
//! answer tells nothing beyond "no such certificate". Every answer is
//! `Cache-Control: no-store`: a status must never be served from a cache after
//! a certificate was superseded or revoked (CRT-5) or its validity ended
//! (CRT-8), and the request is one indexed read, so caching would buy little.
//! This path is read-only: it writes no audit event and logs nothing per
//! request (it is the hottest path of the service, one call per QR scan).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use guild_app::verification as app;
use guild_domain::certificate::CertificateStatus;
use utoipa_actix_web::service_config::ServiceConfig;

pub use guild_app::verification::{
    CODE_LEN, CertificateVerification, VerificationReader, VerifiedProgram, well_formed,
};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::openapi::PublicErrors;
use crate::state::AppState;

/// Registers nothing under the `/api/v1` scope: both endpoints are
/// registered ahead of it by [`configure_outside_scope`].
pub fn configure(_cfg: &mut ServiceConfig) {}

/// Registers both verification endpoints, each with its documentation, at the
/// top of the application, ahead of the `/api/v1` scope (`app.rs`).
///
/// Each is served as a scope with a literal prefix whose one handler reads the
/// code from the rest of the path ([`LiteralPrefix`]). actix tries routes in
/// the order they were registered and matches every pattern with a parameter
/// by a regular expression (here the small `regex-lite` engine): registered as
/// `/api/v1/public/certificates/{code}` inside the scope, a scan paid for a
/// hundred failed matches, and first in line still for one match that cost
/// more than the rest of the request's work together. A literal prefix is
/// compared as a string, so a scan is routed as cheaply as `/healthz`, and
/// every other request pays two string comparisons.
pub fn configure_outside_scope(cfg: &mut ServiceConfig) {
    cfg.service(LiteralPrefix {
        prefix: "/api/v1/public/certificates",
        doc: __path_verify,
        handler: web::to(verify),
    })
    .service(LiteralPrefix {
        prefix: "/verify",
        doc: __path_verify_page,
        handler: web::to(verify_page),
    });
}

/// A documented `GET {prefix}/{code}` endpoint served by a scope with the
/// literal `prefix`: the handler takes every request below it and reads the
/// code itself ([`code_of`]). It registers the route and its documentation
/// together, like `#[get]` does, so neither exists without the other.
struct LiteralPrefix<D> {
    prefix: &'static str,
    doc: D,
    handler: actix_web::Route,
}

impl<D> actix_web::dev::HttpServiceFactory for LiteralPrefix<D> {
    fn register(self, config: &mut actix_web::dev::AppService) {
        web::scope(self.prefix)
            .default_service(self.handler)
            .register(config);
    }
}

impl<D: utoipa_actix_web::OpenApiFactory> utoipa_actix_web::OpenApiFactory for LiteralPrefix<D> {
    fn paths(&self) -> utoipa::openapi::path::Paths {
        self.doc.paths()
    }

    fn schemas(
        &self,
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        self.doc.schemas(schemas);
    }
}

/// The code from the path below a [`LiteralPrefix`]: what the route
/// `{prefix}/{code}` would have matched. Answers like the router would
/// otherwise: `405 method_not_allowed` (with `Allow: GET`) for another method,
/// `404 route_not_found` for an empty or nested path.
fn code_of(req: &HttpRequest) -> Result<String, Box<HttpResponse>> {
    if req.method() != actix_web::http::Method::GET {
        let mut response = ApiError::http(
            ErrorCode::MethodNotAllowed,
            format!("{} is not allowed here; allowed: GET", req.method()),
        )
        .error_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return Err(Box::new(response));
    }
    match req.match_info().unprocessed().strip_prefix('/') {
        Some(code) if !code.is_empty() && !code.contains('/') => Ok(code.to_owned()),
        _ => Err(Box::new(
            ApiError::http(
                ErrorCode::RouteNotFound,
                format!("no endpoint at {}", req.path()),
            )
            .error_response(),
        )),
    }
}

/// Looks the code up through the batched reader and computes the status now
/// (CRT-8); unknown and malformed codes are the same 404.
async fn lookup(
    state: &AppState,
    reader: &VerificationReader,
    code: String,
) -> ApiResult<CertificateVerification> {
    let row = app::find(reader, code).await?;
    let (tz, grace_days) = (state.config.time_zone, state.config.ce_grace_days);
    Ok(app::answer(row, state.clock.now(), tz, grace_days)?)
}

/// Adds the headers every verification answer carries: never cached (CRT-8).
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Verifies a certificate by the code in its QR code (CRT-2, CRT-8).
///
/// Anyone may call it, without a token. The status is computed at the moment
/// of the request; the holder's name is partly masked and the ID number is
/// never shown. An unknown or malformed code answers 404 `not_found`, the same
/// for both. Answers carry `Cache-Control: no-store`.
#[utoipa::path(
    get,
    path = "/api/v1/public/certificates/{code}",
    operation_id = "verify_certificate",
    tag = "public",
    security(()),
    params(("code" = String, Path, description = "The verification code from the certificate's QR code (24 characters, URL-safe base64)")),
    responses((status = 200, description = "The certificate's public facts and its current status", body = CertificateVerification), PublicErrors)
)]
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: web::Data<VerificationReader>,
) -> HttpResponse {
    let code = match code_of(&req) {
        Ok(code) => code,
        Err(response) => return *response,
    };
    match lookup(&state, &reader, code).await {
        Ok(v) => no_store(HttpResponse::Ok().json(v)),
        Err(e) => no_store(e.error_response()),
    }
}

/// The verification page behind a certificate's QR code (CRT-2, CRT-8).
///
/// A browser (an `Accept` header preferring `text/html`) gets a small
/// self-contained HTML page with the status, the masked holder name, the
/// program and the dates; an unknown code gets a 404 page. Every other client
/// gets exactly what `GET /api/v1/public/certificates/{code}` answers.
#[utoipa::path(
    get,
    path = "/verify/{code}",
    operation_id = "verify_certificate_page",
    tag = "public",
    security(()),
    params(("code" = String, Path, description = "The verification code from the certificate's QR code (24 characters, URL-safe base64)")),
    responses((status = 200, description = "The certificate's public facts and its current status: an HTML page for browsers, else JSON",
        content((CertificateVerification = "application/json"), (String = "text/html"))), PublicErrors)
)]
pub async fn verify_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    reader: web::Data<VerificationReader>,
) -> HttpResponse {
    let code = match code_of(&req) {
        Ok(code) => code,
        Err(response) => return *response,
    };
    let html = prefers_html(&req);
    let result = lookup(&state, &reader, code).await;
    let mut response = match (result, html) {
        (Ok(v), false) => HttpResponse::Ok().json(v),
        (Err(e), false) => e.error_response(),
        (Ok(v), true) => html_response(actix_web::http::StatusCode::OK, &page(&v)),
        (Err(e), true) => {
            // The problem response logs a fault; the page replaces its body.
            let status = e.error_response().status();
            html_response(status, &error_page(status.as_u16()))
        }
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    no_store(response)
}

/// Whether the client ranks HTML above JSON: browsers list `text/html` first;
/// programs send `application/json`, `*/*` or nothing.
fn prefers_html(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut best_html = 0.0_f32;
    let mut best_json = 0.0_f32;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => best_html = best_html.max(q),
            "application/json" | "application/*" => best_json = best_json.max(q),
            _ => {}
        }
    }
    best_html > 0.0 && best_html > best_json
}

/// An HTML answer: never framed, no scripts, no outside resources, not indexed,
/// and the code in the address is not passed on as a referrer.
fn html_response(status: actix_web::http::StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header(("X-Robots-Tag", "noindex, nofollow"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body.to_owned())
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a status reads on the page (Chinese first, the association's language).
fn status_label(status: CertificateStatus) -> (&'static str, &'static str) {
    match status {
        CertificateStatus::Valid => ("有效 Valid", "#1b7f3b"),
        CertificateStatus::Expired => ("已过期 Expired", "#b26a00"),
        CertificateStatus::Lapsed => ("已失效 Lapsed", "#b00020"),
        CertificateStatus::Revoked => ("已注销 Revoked", "#b00020"),
        CertificateStatus::Superseded => ("已换发 Superseded", "#b00020"),
    }
}

const PAGE_HEAD: &str = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>证书查验 Certificate verification</title><style>\
body{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;background:#f5f5f5;color:#222}\
main{max-width:32rem;margin:auto;background:#fff;border-radius:.5rem;padding:1.5rem;box-shadow:0 1px 3px #0003}\
h1{font-size:1.2rem;margin:0 0 1rem}.status{font-size:1.6rem;font-weight:bold;margin:0 0 1rem}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem;margin:0}dt{color:#666}dd{margin:0}\
footer{color:#666;font-size:.8rem;margin-top:1rem}</style></head><body><main>";

/// The verification page of one certificate; every value is escaped.
fn page(v: &CertificateVerification) -> String {
    let (label, colour) = status_label(v.status);
    let ended = v
        .ended_on
        .map(|d| format!("<dt>终止日期 Ended on</dt><dd>{d}</dd>"))
        .unwrap_or_default();
    format!(
        "{PAGE_HEAD}<h1>证书查验 Certificate verification</h1>\
<p class=\"status\" style=\"color:{colour}\">{label}</p><dl>\
<dt>证书编号 Number</dt><dd>{number}</dd>\
<dt>持证人 Holder</dt><dd>{holder}</dd>\
<dt>证书 Certificate</dt><dd>{certificate}</dd>\
<dt>培训项目 Program</dt><dd>{program} ({program_code})</dd>\
<dt>发证日期 Issued on</dt><dd>{issued}</dd>\
<dt>有效期至 Valid until</dt><dd>{until}</dd>{ended}</dl>\
<footer>查验时间 Checked at {checked} UTC</footer></main></body></html>",
        number = escape(&v.number),
        holder = escape(&v.holder_name),
        certificate = escape(&v.certificate_name),
        program = escape(&v.program.name),
        program_code = escape(&v.program.code),
        issued = v.issued_on,
        until = v.valid_until,
        checked = v.checked_at.format("%Y-%m-%d %H:%M:%S"),
    )
}

/// The page for a code that is unknown or malformed (404), or for a fault.
fn error_page(status: u16) -> String {
    let text = if status == 404 {
        "未找到该证书。请核对二维码或证书编号。<br>No certificate has this code. Check the QR code or ask the issuer."
    } else {
        "暂时无法查验，请稍后再试。<br>Verification is unavailable right now; please try again later."
    };
    format!(
        "{PAGE_HEAD}<h1>证书查验 Certificate verification</h1><p class=\"status\" style=\"color:#b00020\">{text}</p></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn browsers_get_html_and_programs_json() {
        let accept = |v: &str| {
            TestRequest::default()
                .insert_header((header::ACCEPT, v))
                .to_http_request()
        };
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json, text/html;q=0.5")));
        assert!(!prefers_html(&accept("text/html;q=0")));
        assert!(!prefers_html(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn page_values_are_escaped() {
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
