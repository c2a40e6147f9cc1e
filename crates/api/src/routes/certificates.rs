//! Certificates (SPEC §9): issuing to those who passed (CRT-1), QR codes and
//! public verification (CRT-2, CRT-8), continuing-education renewal (CRT-4),
//! holder and company lists with the CSV export.
//!
//! - `POST /classes/{id}/certificates` (CRT-1): training staff issue, in one
//!   transaction, one original certificate to every enrolment of the class
//!   whose exam passed with a published result (EXM-5). Refused before the
//!   class's results are published (`results_not_published`). Re-running
//!   issues only the missing ones; enrolments that already hold their
//!   original are reported as skipped (`already_issued`), as is a pass entered
//!   after the last publication (`result_not_published`). The partial unique
//!   index `certificates_one_original_per_enrolment` stops a concurrent second
//!   original. The issue day is the association's local date of the action.
//!   The certificate belongs to the holder's organisation at issue time (the
//!   person's current employer, not the one that paid for the enrolment, so a
//!   former employer never reads it); individuals hold theirs alone.
//! - `GET /certificates` and `GET /certificates/export` (CRT-8): the holder
//!   and company lists. Association staff and the authority see every
//!   certificate, organisation accounts their organisation's (ACC-2), a
//!   trainee their own person's. The computed status filter is translated
//!   into conditions on the stored status and `valid_until`
//!   ([`certificate::status_window`]), so paging stays exact. The export is
//!   `text/csv` with names in full (organisations see their own staff) but
//!   never an ID number.
//! - `GET /certificates/{id}`, `…/qr.png`, `…/qr.svg` (CRT-2): the QR code
//!   encodes exactly `{GUILD_PUBLIC_BASE_URL}/verify/{code}`.
//! - `POST /certificates/{id}/ce-records` (CRT-4): training staff record
//!   continuing education; CE completed within the current period renews the
//!   certificate for one more period ([`certificate::plan_ce`]).

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use guild_app::certificates as app;
use guild_domain::certificate::CertificateStatus;
pub use guild_domain::roles::{CERTIFICATE_ISSUERS, CERTIFICATE_READERS};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::certificates::{
    CeRecordView, CeRecorded, CertificateSettings, CertificateView, ClassCertificates,
    CreateCeRecord, EXPORT_HEADER, EXPORT_LIMIT, NewCertificate, SkippedCertificate, issue, kinds,
    new_verification_code, verify_url,
};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;

/// The longest reminder window `expiring_within_days` accepts (10 years).
pub const MAX_EXPIRING_WITHIN_DAYS: u32 = 3660;

/// Registers this module's endpoints under `/api/v1`. The export is
/// registered before `/certificates/{id}` so `export` is never read as an id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(issue_for_class)
        .service(list)
        .service(export)
        .service(get)
        .service(qr_png)
        .service(qr_svg)
        .service(record_ce)
        .service(list_ce);
}

/// The certificate settings of the configuration.
pub fn settings(state: &AppState) -> CertificateSettings {
    CertificateSettings {
        grace_days: state.config.ce_grace_days,
        public_base_url: state.config.public_base_url.clone(),
    }
}

/// Issue the certificates of a class (CRT-1): training staff, once the
/// class's results are published (422 `results_not_published`). In one
/// transaction every enrolment whose exam passed with a published result gets
/// one original certificate: a unique number (`GA` + year + serial), an
/// unguessable 24-character verification code, issued today (association
/// time zone) and valid for the program's validity. Re-running issues only
/// the missing ones; the rest are listed as skipped (`already_issued`,
/// `result_not_published`). Answers 201 when something was issued, 200 when
/// nothing was left to issue.
#[utoipa::path(
    operation_id = "issue_class_certificates",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Class id")),
    responses(
        (status = 201, description = "Issued: the new certificates and the enrolments skipped", body = ClassCertificates),
        (status = 200, description = "Nothing left to issue: every pass already holds its certificate", body = ClassCertificates),
        ActionErrors
    )
)]
#[post("/classes/{id}/certificates")]
pub async fn issue_for_class(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_ISSUERS)?;
    let class_id = id.into_inner();
    let settings = settings(&state);
    let outcome = state
        .tx(user, req, move |ctx, c| {
            app::issue_for_class(ctx, c, class_id, settings)
        })
        .await?;
    if outcome.issued.is_empty() {
        Ok(HttpResponse::Ok().json(outcome))
    } else {
        Ok(HttpResponse::Created().json(outcome))
    }
}

/// Filters shared by the certificate list and its CSV export (CRT-8).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateFilters {
    /// Only certificates showing this status today (computed, CRT-8).
    pub status: Option<CertificateStatus>,
    /// Only this holder's.
    pub person_id: Option<Uuid>,
    /// Only this program's.
    pub program_id: Option<Uuid>,
    /// Only those earned in this class.
    pub class_id: Option<Uuid>,
    /// Only valid certificates whose validity ends within the next N days,
    /// today included (e.g. 90 for renewal reminders, CRT-4).
    #[param(minimum = 0, maximum = 3660)]
    pub expiring_within_days: Option<u32>,
    /// Only those valid until this day or later.
    pub valid_until_from: Option<NaiveDate>,
    /// Only those valid until this day or earlier.
    pub valid_until_to: Option<NaiveDate>,
}

impl CertificateFilters {
    /// The use case's filters; 400 `invalid_query` for a reminder window
    /// beyond [`MAX_EXPIRING_WITHIN_DAYS`].
    fn parse(self) -> ApiResult<app::Filters> {
        if self
            .expiring_within_days
            .is_some_and(|d| d > MAX_EXPIRING_WITHIN_DAYS)
        {
            return Err(ApiError::http(
                ErrorCode::InvalidQuery,
                format!("expiring_within_days must be between 0 and {MAX_EXPIRING_WITHIN_DAYS}"),
            ));
        }
        Ok(app::Filters {
            status: self.status,
            person_id: self.person_id,
            program_id: self.program_id,
            class_id: self.class_id,
            expiring_within_days: self.expiring_within_days,
            valid_until_from: self.valid_until_from,
            valid_until_to: self.valid_until_to,
        })
    }
}

/// The certificate list's query: filters plus paging (API-3).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only certificates showing this status today (computed, CRT-8).
    pub status: Option<CertificateStatus>,
    /// Only this holder's.
    pub person_id: Option<Uuid>,
    /// Only this program's.
    pub program_id: Option<Uuid>,
    /// Only those earned in this class.
    pub class_id: Option<Uuid>,
    /// Only valid certificates whose validity ends within the next N days,
    /// today included (e.g. 90 for renewal reminders, CRT-4).
    #[param(minimum = 0, maximum = 3660)]
    pub expiring_within_days: Option<u32>,
    /// Only those valid until this day or later.
    pub valid_until_from: Option<NaiveDate>,
    /// Only those valid until this day or earlier.
    pub valid_until_to: Option<NaiveDate>,
}

impl CertificateQuery {
    fn filters(&self) -> CertificateFilters {
        CertificateFilters {
            status: self.status,
            person_id: self.person_id,
            program_id: self.program_id,
            class_id: self.class_id,
            expiring_within_days: self.expiring_within_days,
            valid_until_from: self.valid_until_from,
            valid_until_to: self.valid_until_to,
        }
    }
}

/// List certificates in issue order (CRT-8): association staff and the
/// authority see all, organisation accounts their organisation's (ACC-2), a
/// trainee their own. Filter by computed `status` (valid, expired, lapsed,
/// revoked, superseded, as of today in the association's time zone), holder,
/// program, class, `valid_until` range, or `expiring_within_days` (valid
/// certificates whose validity ends within the next N days, for renewal
/// reminders).
#[utoipa::path(
    operation_id = "list_certificates",
    tag = "certificates",
    params(CertificateQuery),
    responses((status = 200, description = "OK", body = Paged<CertificateView>), ListErrors)
)]
#[get("/certificates")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CertificateQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filters = q.filters().parse()?;
    let settings = settings(&state);
    let rows = state
        .read(user, move |ctx, c| {
            app::list(ctx, c, filters, page, settings)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Export certificates as CSV (CRT-8): the same filters and visibility as
/// `GET /certificates`, every matching certificate in issue order (at most
/// 10,000; narrow the filters beyond that). UTF-8 with a header row
/// (`number,holder_name,program_code,program_name,certificate_name,issued_on,
/// valid_until,status,organisation,verify_url`), CRLF line ends. Holder names
/// are in full (an organisation sees its own staff); ID numbers are never
/// exported. Cells that a spreadsheet would run as a formula start with `'`.
#[utoipa::path(
    operation_id = "export_certificates",
    tag = "certificates",
    params(CertificateFilters),
    responses(
        (status = 200, description = "The certificates as UTF-8 CSV with a header row", content_type = "text/csv", body = String,
         example = json!("number,holder_name,program_code,program_name,certificate_name,issued_on,valid_until,status,organisation,verify_url\r\nGA2026000001,Zhang Anna,GAS-OPS,Gas operations,Gas operations certificate,2026-04-10,2029-04-09,valid,Acme Gas,https://verify.guild.example/verify/q3Jx0cWbVd1m8n2YtR5uZk7A\r\n")),
        ListErrors
    )
)]
#[get("/certificates/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CertificateFilters>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let filters = q.into_inner().parse()?;
    let settings = settings(&state);
    let export = state
        .read(user, move |ctx, c| app::export(ctx, c, filters, settings))
        .await?;
    let app::Export::Csv(csv) = export else {
        return Err(ApiError::http(
            ErrorCode::InvalidQuery,
            format!("the export holds at most {EXPORT_LIMIT} certificates; narrow the filters"),
        ));
    };
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"certificates.csv\"",
        ))
        .body(csv))
}

/// Read one certificate with its status now (CRT-8), verification URL and QR
/// links (CRT-2): association staff and the authority, the holder's
/// organisation, the holder; 404 for anyone else (ACC-2).
#[utoipa::path(
    operation_id = "get_certificate",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "OK", body = CertificateView), ReadErrors)
)]
#[get("/certificates/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let id = id.into_inner();
    let settings = settings(&state);
    let view = state
        .read(user, move |ctx, c| app::get(ctx, c, id, settings))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// A PNG image (binary).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PngImage(pub Vec<u8>);

/// An SVG image (XML text).
#[derive(Debug, ToSchema)]
#[schema(value_type = String)]
pub struct SvgImage(pub String);

/// The verification URL of a certificate the caller may see (CRT-2).
async fn qr_target(state: &web::Data<AppState>, user: AuthUser, id: Uuid) -> ApiResult<String> {
    user.require(CERTIFICATE_READERS)?;
    let base = state.config.public_base_url.clone();
    state
        .read(user, move |ctx, c| app::qr_target(ctx, c, id, &base))
        .await
}

fn qr_code(url: &str) -> ApiResult<qrcode::QrCode> {
    qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))
}

/// The QR code of `url` as PNG: black modules on white with the standard
/// quiet zone, at least 256 pixels wide.
pub fn qr_png_bytes(url: &str) -> ApiResult<Vec<u8>> {
    let image = qr_code(url)?
        .render::<image::Luma<u8>>()
        .min_dimensions(256, 256)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| ApiError::Internal(format!("QR PNG: {e}")))?;
    Ok(out.into_inner())
}

/// The QR code of `url` as an SVG document.
pub fn qr_svg_text(url: &str) -> ApiResult<String> {
    Ok(qr_code(url)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

/// The certificate's QR code as PNG (CRT-2): it encodes exactly
/// `{GUILD_PUBLIC_BASE_URL}/verify/{code}`, the public verification page.
/// Visible like the certificate (ACC-2).
#[utoipa::path(
    operation_id = "get_certificate_qr_png",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "The QR code as a PNG image", content_type = "image/png", body = PngImage), ReadErrors)
)]
#[get("/certificates/{id}/qr.png")]
pub async fn qr_png(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let url = qr_target(&state, user, id.into_inner()).await?;
    let png = web::block(move || qr_png_bytes(&url))
        .await
        .map_err(ApiError::from)??;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// The certificate's QR code as SVG (CRT-2): it encodes exactly
/// `{GUILD_PUBLIC_BASE_URL}/verify/{code}`. Visible like the certificate (ACC-2).
#[utoipa::path(
    operation_id = "get_certificate_qr_svg",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "The QR code as an SVG image", content_type = "image/svg+xml", body = SvgImage), ReadErrors)
)]
#[get("/certificates/{id}/qr.svg")]
pub async fn qr_svg(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let url = qr_target(&state, user, id.into_inner()).await?;
    let svg = qr_svg_text(&url)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// Record continuing education for a certificate's holder and renew it
/// (CRT-4): training staff. The association's learning on new policies,
/// regulations and technology counts (`association_learning`). Refused for a
/// revoked or superseded certificate (422 `certificate_not_active`), a lapsed
/// one (422 `certificate_lapsed`: void once its period ended without CE and
/// the grace window passed), a completion day in the future
/// (`ce_completed_in_future`) or outside the current period
/// (`ce_outside_period`; after a renewal the current period is the new one).
/// Otherwise the certificate is renewed for one more period from its current
/// expiry, also while it shows `expired` within the grace window. `If-Match`
/// with the certificate's version is honoured (API-5).
#[utoipa::path(
    operation_id = "record_certificate_ce",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id")),
    request_body = CreateCeRecord,
    responses((status = 201, description = "Recorded; the certificate is renewed", body = CeRecorded), CreateErrors)
)]
#[post("/certificates/{id}/ce-records")]
pub async fn record_ce(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<CreateCeRecord>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_ISSUERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let id = id.into_inner();
    let settings = settings(&state);
    let done = state
        .tx(user, req, move |ctx, c| {
            app::record_ce(ctx, c, id, body, if_match.0, settings)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(done.certificate.version))
        .json(done))
}

/// List a certificate's continuing-education records in recording order
/// (CRT-4); visible like the certificate (ACC-2).
#[utoipa::path(
    operation_id = "list_certificate_ce",
    tag = "certificates",
    params(("id" = Uuid, Path, description = "Certificate id"), PageParams),
    responses((status = 200, description = "OK", body = Paged<CeRecordView>), ReadErrors)
)]
#[get("/certificates/{id}/ce-records")]
pub async fn list_ce(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    user.require(CERTIFICATE_READERS)?;
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let id = id.into_inner();
    let rows = state
        .read(user, move |ctx, c| app::list_ce(ctx, c, id, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}
