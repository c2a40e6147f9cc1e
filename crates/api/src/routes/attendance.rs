//! Attendance per session, leave requests and exam eligibility (ATT-1 to
//! ATT-3, EXM-2): the HTTP side. The use cases, and the rules they follow,
//! are in [`guild_app::attendance`].
//!
//! - `POST /classes/{id}/sessions/{session_id}/attendance` records (upserts)
//!   the attendance of the class's paid trainees at one session (ATT-1).
//!   `GET /classes/{id}/attendance` is the sheet (one row per trainee, one
//!   mark per session); it is one document, not a paginated list: a class has
//!   at most 1000 seats.
//! - `/leave-requests`: filed by the trainee, their organisation's accounts or
//!   training staff, at least one day before the session (ATT-2); the class
//!   head (or training staff) approves or refuses.
//! - `GET /enrolments/{id}/eligibility`: every reason the trainee may not sit
//!   the class's exam. Exam registration (`routes::sittings`) uses the same
//!   [`eligibility_of`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::attendance::{self as app, ListLeaveRequests};
use guild_domain::attendance::{LeaveAction, LeaveStatus};
pub use guild_domain::roles::{CLASS_HEAD_ROLES, LEAVE_FILERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::attendance::{
    AttendanceInput, AttendanceRecordView, AttendanceSheet, CreateLeaveRequest, Eligibility,
    LeaveRequestView, RecordAttendance, SessionAttendance, SheetMark, SheetRow, SheetSession,
    eligibility_of,
};

use crate::auth::{AuthUser, CLASS_RECORD_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;
use guild_app::inputs::Reason;

/// Filters for the leave request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeaveQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<LeaveStatus>,
    /// Only requests of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
    /// Only for this session.
    pub session_id: Option<Uuid>,
}

/// Record the attendance of one session (ATT-1): `present`, `excused` or
/// `absent` per paid trainee (`paid` or `notified`) of the class, one entry
/// per enrolment; a trainee already recorded is updated (upsert per session
/// and enrolment). By the class head (the class's `class_head_user_id`) or
/// training staff; only while the class is `in_progress`, or `finished` for
/// corrections (`class_not_running`), and never before the session's date in
/// the association's time zone (`session_not_held`). `excused` only with an approved leave
/// request for the session (`excuse_without_leave`, ATT-1); with one, an
/// omitted status means `excused`. Two or more `absent` sessions remove exam
/// eligibility (ATT-3).
#[utoipa::path(
    operation_id = "record_session_attendance",
    tag = "attendance",
    params(
        ("id" = Uuid, Path, description = "Class id"),
        ("session_id" = Uuid, Path, description = "Session id (of this class)")
    ),
    request_body = RecordAttendance,
    responses((status = 200, description = "Recorded: every record of the session", body = SessionAttendance), ActionErrors)
)]
#[post("/classes/{id}/sessions/{session_id}/attendance")]
pub async fn record_attendance(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RecordAttendance>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_HEAD_ROLES)?;
    validate(&*body)?;
    let (class_id, session_id) = path.into_inner();
    let body = body.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| {
            app::record(ctx, c, class_id, session_id, body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Read a class's attendance sheet (ATT-1): every session and, per trainee,
/// one mark per session, the unexcused absences and whether they still allow
/// the exam (ATT-3). Association staff, the authority and the class's head
/// and teachers see every trainee; organisation accounts only their own
/// organisation's trainees; a trainee only themself; other teachers 403.
#[utoipa::path(
    operation_id = "get_class_attendance",
    tag = "attendance",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = AttendanceSheet), ReadErrors)
)]
#[get("/classes/{id}/attendance")]
pub async fn sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let id = id.into_inner();
    let view = state
        .read(user, move |ctx, c| app::sheet(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Read whether an enrolment's trainee may sit the class's exam (ATT-3,
/// EXM-2), with every reason against it: `too_many_absences` (ATT-3, with
/// the dates), `not_paid` (EXM-2), `no_show` (DEF-4), `disqualified`
/// (EXM-2), `person_banned` (DSC-4). Visible to whoever may see the
/// enrolment: the trainee, their organisation, association staff.
#[utoipa::path(
    operation_id = "get_enrolment_eligibility",
    tag = "attendance",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "OK", body = Eligibility), ReadErrors)
)]
#[get("/enrolments/{id}/eligibility")]
pub async fn get_eligibility(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let id = id.into_inner();
    let view = state
        .read(user, move |ctx, c| app::eligibility(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// List leave requests, oldest first: organisations see their own (ACC-2),
/// trainees their own, a teacher those of the classes they head, association
/// staff and the authority all.
#[utoipa::path(
    operation_id = "list_leave_requests",
    tag = "attendance",
    params(LeaveQuery),
    responses((status = 200, description = "OK", body = Paged<LeaveRequestView>), ListErrors)
)]
#[get("/leave-requests")]
pub async fn list_leave(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<LeaveQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListLeaveRequests {
        status: q.status,
        class_id: q.class_id,
        enrolment_id: q.enrolment_id,
        session_id: q.session_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list_leave(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// File a leave request for one session (ATT-2). It must reach the class
/// head at least one day before the session: the association's local date
/// at filing must be before the session date (23:59 of the day before is in
/// time; 00:00 of the session day is refused with `leave_too_late`). Filed
/// by the trainee, their organisation's accounts, or training staff, for a
/// paid enrolment; one open or approved request per session (409). The class
/// head is notified.
#[utoipa::path(
    operation_id = "create_leave_request",
    tag = "attendance",
    request_body = CreateLeaveRequest,
    responses((status = 201, description = "Filed; waits for the class head", body = LeaveRequestView), CreateErrors)
)]
#[post("/leave-requests")]
pub async fn create_leave(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateLeaveRequest>,
) -> ApiResult<HttpResponse> {
    user.require(LEAVE_FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .tx(user, req, move |ctx, c| app::file_leave(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/leave-requests/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one leave request (whoever may see its enrolment, and the class head).
#[utoipa::path(
    operation_id = "get_leave_request",
    tag = "attendance",
    params(("id" = Uuid, Path, description = "Leave request id")),
    responses((status = 200, description = "OK", body = LeaveRequestView), ReadErrors)
)]
#[get("/leave-requests/{id}")]
pub async fn get_leave(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let id = id.into_inner();
    let view = state
        .read(user, move |ctx, c| app::get_leave(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Decides a leave request after the role check (403 first).
async fn decide(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: LeaveAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_HEAD_ROLES)?;
    let view = state
        .tx(user, req, move |ctx, c| {
            app::decide_leave(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a leave request (ATT-2: the class head, or training staff). The
/// trainee is then `excused` for the session (the default when attendance is
/// recorded, ATT-1); the trainee's side is notified.
#[utoipa::path(
    operation_id = "approve_leave_request",
    tag = "attendance",
    params(("id" = Uuid, Path, description = "Leave request id")),
    responses((status = 200, description = "Approved", body = LeaveRequestView), ActionErrors)
)]
#[post("/leave-requests/{id}/approve")]
pub async fn approve_leave(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        req,
        user,
        id.into_inner(),
        LeaveAction::Approve,
        None,
    )
    .await
}

/// Refuse a leave request with a reason (ATT-2: the class head, or training
/// staff); the trainee's side is notified.
#[utoipa::path(
    operation_id = "refuse_leave_request",
    tag = "attendance",
    params(("id" = Uuid, Path, description = "Leave request id")),
    request_body = Reason,
    responses((status = 200, description = "Refused", body = LeaveRequestView), ActionErrors)
)]
#[post("/leave-requests/{id}/refuse")]
pub async fn refuse_leave(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_HEAD_ROLES)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    decide(
        state,
        req,
        user,
        id.into_inner(),
        LeaveAction::Refuse,
        Some(reason),
    )
    .await
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_attendance)
        .service(sheet)
        .service(get_eligibility)
        .service(list_leave)
        .service(create_leave)
        .service(get_leave)
        .service(approve_leave)
        .service(refuse_leave);
}
