//! Class archives and the working-day calendar (ARC-1, ARC-2): the HTTP
//! side. The use cases, and the rules they follow, are in
//! [`guild_app::archives`] and [`guild_app::calendar`].
//!
//! Archives are association-internal records: only training staff (training
//! officer, training head, administrator) and the authority ("read-only
//! everything", SPEC §1) read them; every other role gets 403 before any
//! lookup, so ids never leak (ACC-2). Training staff attach documents and
//! complete archives; the training head and the administrator keep the
//! calendar, which every association role and the authority may read.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::NaiveDate;
use guild_app::archives::{self as app, ListArchives};
use guild_app::calendar::{self, Set};
use guild_domain::archive::{ArchiveStatus, DocumentKind};
use guild_domain::calendar::YEARS;
pub use guild_domain::roles::{
    ARCHIVE_KEEPERS, ARCHIVE_READERS, CALENDAR_KEEPERS, CALENDAR_READERS,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::archives::{ArchiveDocumentView, ArchiveView, AttachDocument};
pub use guild_app::calendar::{CalendarDayView, CalendarYear, SetCalendarDay};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// The media type of the generated documents.
const CSV: &str = "text/csv; charset=utf-8; header=present";

/// The year of the calendar to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    /// The year, 2000 to 2100 (default: the current year in the association's time zone).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// Filters for the archive list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArchiveQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ArchiveStatus>,
    /// `true`: only open archives past their due date (ARC-2); `false`: only the others.
    pub overdue: Option<bool>,
    /// Only this class's archive.
    pub class_id: Option<Uuid>,
}

/// Parses a `YYYY-MM-DD` path segment (400 `invalid_path_parameter` otherwise).
fn parse_date(raw: &str) -> ApiResult<NaiveDate> {
    let bad = || {
        ApiError::http(
            ErrorCode::InvalidPathParameter,
            format!("invalid path parameter: {raw:?} is not a date (YYYY-MM-DD)"),
        )
    };
    if raw.len() != 10 {
        return Err(bad());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())
}

/// Parses a document kind path segment (400 `invalid_path_parameter` otherwise).
fn parse_kind(raw: &str) -> ApiResult<DocumentKind> {
    raw.parse().map_err(|e: guild_domain::UnknownValue| {
        ApiError::http(
            ErrorCode::InvalidPathParameter,
            format!("invalid path parameter: {e}"),
        )
    })
}

/// Answers a generated document: UTF-8 CSV with a byte-order mark, so
/// spreadsheet programs show Chinese names correctly.
async fn generated(
    state: web::Data<AppState>,
    user: AuthUser,
    id: Uuid,
    kind: DocumentKind,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_READERS)?;
    let (name, body) = state
        .read(user, move |ctx, c| app::document(ctx, c, id, kind))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(CSV)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(format!("\u{feff}{body}")))
}

/// Read one year of the working-day calendar (ARC-2): its public holidays
/// and make-up working days. Association staff and the authority.
#[utoipa::path(
    operation_id = "get_archive_calendar",
    tag = "archives",
    params(CalendarQuery),
    responses((status = 200, description = "The year's holidays and make-up working days", body = CalendarYear), ListErrors)
)]
#[get("/archives/calendar")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CALENDAR_READERS)?;
    let requested = q.into_inner().year;
    if let Some(y) = requested
        && !YEARS.contains(&y)
    {
        return Err(ApiError::http(
            ErrorCode::InvalidQuery,
            format!("year must be between {} and {}", YEARS.start(), YEARS.end()),
        ));
    }
    let view = state
        .read(user, move |ctx, c| calendar::year(ctx, c, requested))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Set one date of the working-day calendar (ARC-2; training head or
/// administrator): a `holiday` is never a working day; a `workday` is a
/// make-up working day and must be a Saturday or Sunday
/// (`workday_not_on_weekend`). Replaces the date's entry if it has one
/// (200) or creates it (201). Due dates of archives follow at once.
#[utoipa::path(
    operation_id = "set_archive_calendar_day",
    tag = "archives",
    params(("date" = NaiveDate, Path, description = "The date, YYYY-MM-DD (2000 to 2100)")),
    request_body = SetCalendarDay,
    responses(
        (status = 200, description = "Replaced", body = CalendarDayView),
        (status = 201, description = "Created", body = CalendarDayView),
        UpdateErrors
    )
)]
#[put("/archives/calendar/{date}")]
pub async fn set_calendar_day(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    date: web::Path<String>,
    body: web::Json<SetCalendarDay>,
) -> ApiResult<HttpResponse> {
    user.require(CALENDAR_KEEPERS)?;
    let date = parse_date(&date.into_inner())?;
    validate(&*body)?;
    let body = body.into_inner();
    let (set, view) = state
        .tx(user, ctx, move |ctx, c| {
            calendar::set_day(ctx, c, date, body)
        })
        .await?;
    let mut response = if set == Set::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(view))
}

/// Remove one date from the working-day calendar (ARC-2; training head or
/// administrator): the date is again what its weekday says. 404 when the
/// date has no entry.
#[utoipa::path(
    operation_id = "delete_archive_calendar_day",
    tag = "archives",
    params(("date" = NaiveDate, Path, description = "The date, YYYY-MM-DD")),
    responses((status = 204, description = "Removed"), ActionErrors)
)]
#[delete("/archives/calendar/{date}")]
pub async fn delete_calendar_day(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    date: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require(CALENDAR_KEEPERS)?;
    let date = parse_date(&date.into_inner())?;
    state
        .tx(user, ctx, move |ctx, c| calendar::delete_day(ctx, c, date))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List class archives, oldest first (training staff and the authority),
/// each with its due date and lateness as of today on the current calendar
/// (ARC-2). `overdue=true` lists the open archives past their due date: the
/// training head's follow-up list.
#[utoipa::path(
    operation_id = "list_archives",
    tag = "archives",
    params(ArchiveQuery),
    responses((status = 200, description = "OK", body = Paged<ArchiveView>), ListErrors)
)]
#[get("/archives")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ArchiveQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListArchives {
        status: q.status,
        overdue: q.overdue,
        class_id: q.class_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    let paged = Paged::from_page(rows, |v| v);
    Ok(HttpResponse::Ok().json(paged))
}

/// Read one class archive (training staff and the authority) with its
/// documents, due date and lateness as of today (ARC-1, ARC-2).
#[utoipa::path(
    operation_id = "get_archive",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "OK", body = ArchiveView), ReadErrors)
)]
#[get("/archives/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Download the archive's attendance sheet (学员考勤表, ARC-1), generated
/// from the class's attendance records: UTF-8 CSV (with a byte-order mark),
/// a header row, one row per trainee, one column per session.
#[utoipa::path(
    operation_id = "get_archive_attendance_sheet",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "The attendance sheet as CSV", body = String, content_type = "text/csv"), ReadErrors)
)]
#[get("/archives/{id}/documents/attendance_sheet")]
pub async fn attendance_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    generated(state, user, id.into_inner(), DocumentKind::AttendanceSheet).await
}

/// Download the archive's grade sheet (考核成绩表, ARC-1), generated from
/// the class's exam registrations: UTF-8 CSV (with a byte-order mark), a
/// header row, one row per registration with theory and practical scores.
#[utoipa::path(
    operation_id = "get_archive_grade_sheet",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "The grade sheet as CSV", body = String, content_type = "text/csv"), ReadErrors)
)]
#[get("/archives/{id}/documents/grade_sheet")]
pub async fn grade_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    generated(state, user, id.into_inner(), DocumentKind::GradeSheet).await
}

/// Download the archive's certificate receipt sheet (证书发放签收表, ARC-1),
/// generated from the certificates issued for the class: UTF-8 CSV (with a
/// byte-order mark), a header row, one row per certificate with empty
/// `received_on` and `signature` columns for the paper receipt.
#[utoipa::path(
    operation_id = "get_archive_certificate_receipt_sheet",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "The certificate receipt sheet as CSV", body = String, content_type = "text/csv"), ReadErrors)
)]
#[get("/archives/{id}/documents/certificate_receipt_sheet")]
pub async fn certificate_receipt_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    generated(
        state,
        user,
        id.into_inner(),
        DocumentKind::CertificateReceiptSheet,
    )
    .await
}

/// Attach a document to an open archive by reference (ARC-1; training
/// staff): `training_agreement`, `class_notice` or `timetable`. The three
/// generated kinds are refused (`document_generated`). Replaces an earlier
/// reference of the same kind. Honours `If-Match` with the archive's version.
#[utoipa::path(
    operation_id = "attach_archive_document",
    tag = "archives",
    params(
        ("id" = Uuid, Path, description = "Archive id"),
        ("kind" = DocumentKind, Path, description = "training_agreement, class_notice or timetable")
    ),
    request_body = AttachDocument,
    responses((status = 200, description = "Attached; the archive", body = ArchiveView), UpdateErrors)
)]
#[put("/archives/{id}/documents/{kind}")]
pub async fn attach_document(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, String)>,
    if_match: IfMatch,
    body: web::Json<AttachDocument>,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_KEEPERS)?;
    let (id, kind) = path.into_inner();
    let kind = parse_kind(&kind)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reference.trim().is_empty() {
        return Err(ApiError::field(
            "reference",
            "required",
            "give the document's reference",
        ));
    }
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::attach(ctx, c, id, kind, body, if_match.0)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Complete an archive (ARC-1; training staff): only when the training
/// agreement, the class notice and the timetable are attached
/// (`archive_documents_missing`, naming them). Records who and when; after
/// the due date it is still allowed and shows `completed_late: true`
/// (ARC-2). Honours `If-Match` with the archive's version.
#[utoipa::path(
    operation_id = "complete_archive",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "Completed", body = ArchiveView), ActionErrors)
)]
#[post("/archives/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_KEEPERS)?;
    let id = id.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::complete(ctx, c, id, if_match.0)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Registers this module's endpoints under `/api/v1`. The calendar comes
/// first so `/archives/calendar` is never taken for an archive id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar)
        .service(set_calendar_day)
        .service(delete_calendar_day)
        .service(list)
        .service(get)
        .service(attendance_sheet)
        .service(grade_sheet)
        .service(certificate_receipt_sheet)
        .service(attach_document)
        .service(complete);
}
