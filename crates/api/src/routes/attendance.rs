//! Attendance per session, leave requests and exam eligibility (ATT-1 to
//! ATT-3, EXM-2).
//!
//! - `POST /classes/{id}/sessions/{session_id}/attendance` records (upserts)
//!   the attendance of the class's paid trainees at one session: by the class
//!   head (the class's `class_head_user_id`) or training staff, while the
//!   class is `in_progress`, or `finished` for corrections (ATT-1).
//!   `GET /classes/{id}/attendance` is the sheet (one row per trainee, one
//!   mark per session); it is one document, not a paginated list: a class has
//!   at most 1000 seats.
//! - `/leave-requests`: filed by the trainee, their organisation's accounts or
//!   training staff, at least one day before the session in the association's
//!   time zone (ATT-2); the class head (or training staff) approves or refuses.
//! - `GET /enrolments/{id}/eligibility`: every reason the trainee may not sit
//!   the class's exam (ATT-3 absences with their dates, not paid, no-show,
//!   disqualified, banned), for whoever may see the enrolment. Exam
//!   registration (`routes::sittings`) uses the same [`eligibility_of`].

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::Role;
use guild_domain::attendance::{
    AttendanceStatus, LeaveAction, LeaveStatus, check_class_running, check_leave_in_time,
    check_session_held, check_takes_part, leave_allowed_actions, leave_decision_notice,
    leave_transition, may_decide_leave, may_file_leave, may_record_attendance, status_to_record,
    unexcused_absences,
};
use guild_domain::ban::blocking_ban;
use guild_domain::class::{ClassStatus, format_session_time};
use guild_domain::deferral::check_class_not_closed;
use guild_domain::exam::{EligibilityFacts, Ineligibility, RegistrationStatus, eligibility};
use guild_domain::local_date;
use guild_store::DbConn;
use guild_store::attendance::{AttendanceRecordRow, LeaveFilter, LeaveRequestRow};
use guild_store::classes::{ClassRow, ClassSessionRow};
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, ClassRows, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, CLASS_RECORD_READERS};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments as service;

/// Roles that may file a leave request (ATT-2); the domain narrows it to the
/// trainee's own, the organisation's own, or training staff.
pub const LEAVE_FILERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
];

/// Roles that may record attendance and decide leave (ATT-1, ATT-2): training
/// staff, and a teacher who is the class's head.
pub const CLASS_HEAD_ROLES: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Teacher,
];

/// Notification kinds written by leave requests.
pub mod kinds {
    /// A leave request reached the class head (ATT-2).
    pub const LEAVE_REQUESTED: &str = "leave_requested";
    /// The class head decided a leave request (ATT-2).
    pub const LEAVE_DECIDED: &str = "leave_decided";
}

/// A leave request for one session (ATT-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaveRequestView {
    /// The leave request id.
    pub id: Uuid,
    /// The trainee's enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The session the trainee will miss.
    pub session_id: Uuid,
    /// The session's day; the request had to arrive before it (ATT-2).
    pub session_date: NaiveDate,
    /// The trainee.
    pub person_id: Uuid,
    /// The trainee's name.
    pub person_name: String,
    /// The enrolment's organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// Why the trainee will be away.
    pub reason: String,
    /// `submitted`, `approved` or `refused`.
    pub status: LeaveStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The account that filed it.
    pub filed_by: Uuid,
    /// When it was filed: the time the ATT-2 deadline is checked against.
    pub filed_at: DateTime<Utc>,
    /// Who decided.
    pub decided_by: Option<Uuid>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a refusal.
    pub decision_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl LeaveRequestView {
    fn from_parts(
        r: LeaveRequestRow,
        class_id: &str,
        person_id: &str,
        person_name: String,
        session_date: NaiveDate,
    ) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("leave_requests", v);
        let status: LeaveStatus = parse_stored("leave_requests", &r.status)?;
        Ok(LeaveRequestView {
            id: id(&r.id)?,
            enrolment_id: id(&r.enrolment_id)?,
            class_id: id(class_id)?,
            session_id: id(&r.session_id)?,
            session_date,
            person_id: id(person_id)?,
            person_name,
            organisation_id: r.organisation_id.as_deref().map(id).transpose()?,
            reason: r.reason,
            status,
            allowed_actions: leave_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: id(&r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: r.decided_by.as_deref().map(id).transpose()?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A leave request (ATT-2).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "session_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "reason": "Emergency repair duty"}))]
pub struct CreateLeaveRequest {
    /// A paid enrolment (`paid` or `notified`).
    pub enrolment_id: Uuid,
    /// A session of the enrolment's class, on a later day than today (ATT-2).
    pub session_id: Uuid,
    /// Why the trainee will be away.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

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

/// One trainee's attendance as recorded (ATT-1).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    /// A paid enrolment (`paid` or `notified`) of the class.
    pub enrolment_id: Uuid,
    /// `present`, `excused` (only with an approved leave request for the
    /// session) or `absent`. Omitted: `excused` when the trainee has approved
    /// leave for the session (otherwise it must be given).
    pub status: Option<AttendanceStatus>,
    /// A remark, up to 500 characters.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// The attendance of a session, one entry per trainee (ATT-1).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"records": [{"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "status": "present"}]}))]
pub struct RecordAttendance {
    /// 1 to 1000 trainees; each enrolment at most once.
    #[validate(length(min = 1, max = 1000), nested)]
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<AttendanceInput>,
}

/// One recorded attendance (ATT-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceRecordView {
    /// The record id.
    pub id: Uuid,
    /// The session.
    pub session_id: Uuid,
    /// The trainee's enrolment.
    pub enrolment_id: Uuid,
    /// `present`, `excused` or `absent`.
    pub status: AttendanceStatus,
    /// The remark.
    pub note: Option<String>,
    /// Who recorded it last.
    pub recorded_by: Uuid,
    /// When it was recorded last.
    pub recorded_at: DateTime<Utc>,
}

impl AttendanceRecordView {
    fn from_row(r: &AttendanceRecordRow) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("attendance_records", v);
        Ok(AttendanceRecordView {
            id: id(&r.id)?,
            session_id: id(&r.session_id)?,
            enrolment_id: id(&r.enrolment_id)?,
            status: parse_stored("attendance_records", &r.status)?,
            note: r.note.clone(),
            recorded_by: id(&r.recorded_by)?,
            recorded_at: r.recorded_at.and_utc(),
        })
    }
}

/// The recorded attendance of one session (ATT-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionAttendance {
    /// The class.
    pub class_id: Uuid,
    /// The session.
    pub session_id: Uuid,
    /// The session's day.
    pub session_date: NaiveDate,
    /// Every record of the session.
    pub records: Vec<AttendanceRecordView>,
}

/// A session as the sheet lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SheetSession {
    /// The session id.
    pub id: Uuid,
    /// The day.
    pub session_date: NaiveDate,
    /// Start time `HH:MM`.
    pub starts_at: String,
    /// End time `HH:MM`.
    pub ends_at: String,
    /// What is taught.
    pub topic: String,
}

/// One trainee's mark at one session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SheetMark {
    /// The session.
    pub session_id: Uuid,
    /// The recorded status; when nothing is recorded yet, `excused` if an
    /// approved leave request covers the session, else `null`.
    pub status: Option<AttendanceStatus>,
    /// Whether the status was recorded (ATT-1) rather than derived from leave.
    pub recorded: bool,
    /// The recorded remark.
    pub note: Option<String>,
    /// The approved leave request for the session, if any (ATT-2).
    pub leave_request_id: Option<Uuid>,
}

/// One trainee's row of the attendance sheet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SheetRow {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// The trainee.
    pub person_id: Uuid,
    /// The trainee's name.
    pub person_name: String,
    /// The enrolment's organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// One mark per session, in the sheet's session order.
    pub marks: Vec<SheetMark>,
    /// The days of unexcused absences (ATT-3).
    pub unexcused_absences: Vec<NaiveDate>,
    /// False once two or more unexcused absences remove exam eligibility (ATT-3).
    pub eligible_by_attendance: bool,
}

/// A class's attendance sheet (ATT-1): sessions in time order and a row per
/// paid trainee (and anyone else with a record).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceSheet {
    /// The class.
    pub class_id: Uuid,
    /// The schedule.
    pub sessions: Vec<SheetSession>,
    /// The trainees the caller may see, by enrolment id.
    pub trainees: Vec<SheetRow>,
}

/// Exam eligibility of an enrolment (ATT-3, EXM-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Eligibility {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// Its class.
    pub class_id: Uuid,
    /// Whether the trainee may be registered for the class's exam.
    pub eligible: bool,
    /// Every reason against it (empty when eligible).
    pub reasons: Vec<Ineligibility>,
}

/// Whether `user` is the class's head (班主任).
pub fn is_class_head(class: &ClassRow, user: &AuthUser) -> bool {
    class.class_head_user_id.as_deref() == Some(user.id.as_str())
}

fn class_status(class: &ClassRow) -> ApiResult<ClassStatus> {
    parse_stored("classes", &class.status)
}

fn session_of(conn: &mut DbConn, class: &ClassRow, session_id: &str) -> ApiResult<ClassSessionRow> {
    guild_store::classes::find_class_session(conn, session_id)?
        .filter(|s| s.class_id == class.id)
        .ok_or_else(|| ApiError::not_found("session"))
}

/// EXM-2, ATT-3: every reason `enrolment` may not sit an exam of its class
/// (program `program_id`) on `today`: its status, the unexcused absences
/// with their dates, a disqualification in this class, and an active ban
/// covering the program (DSC-4, the ENR-4 check).
pub fn eligibility_of(
    conn: &mut DbConn,
    enrolment: &EnrolmentRow,
    program_id: &str,
    today: NaiveDate,
) -> ApiResult<Vec<Ineligibility>> {
    let (status, _) = service::status_of(enrolment)?;
    let records = guild_store::attendance::for_enrolment(conn, &enrolment.id)?
        .into_iter()
        .map(|(r, date)| Ok((date, parse_stored("attendance_records", &r.status)?)))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut disqualified = false;
    for r in guild_store::exams::registrations_for_enrolment(conn, &enrolment.id)? {
        let s: RegistrationStatus = parse_stored("exam_registrations", &r.status)?;
        disqualified |= s == RegistrationStatus::Disqualified;
    }
    let bans = guild_store::bans::current_for_people(
        conn,
        std::slice::from_ref(&enrolment.person_id),
        today,
    )?
    .iter()
    .map(service::ban_of)
    .collect::<guild_app::AppResult<Vec<_>>>()?;
    let ban = blocking_ban(&bans, program_id, today).map(|b| b.refusal());
    Ok(eligibility(&EligibilityFacts {
        status,
        absent_on: unexcused_absences(&records),
        disqualified,
        ban,
    }))
}

fn eligibility_in_tx(
    conn: &mut DbConn,
    user: &AuthUser,
    id: &str,
    today: NaiveDate,
) -> ApiResult<Eligibility> {
    let enrolment = service::visible(conn, &user.caller(), id)?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    let reasons = eligibility_of(conn, &enrolment, &class.program_id, today)?;
    Ok(Eligibility {
        enrolment_id: stored_uuid("enrolments", &enrolment.id)?,
        class_id: stored_uuid("enrolments", &enrolment.class_id)?,
        eligible: reasons.is_empty(),
        reasons,
    })
}

/// ACC-2: whether `caller` may see a leave request of `enrolment` in
/// `class`: whoever may see the enrolment, and the class head of its class.
fn can_see_leave(caller: &AuthUser, enrolment: &EnrolmentRow, class: &ClassRow) -> bool {
    caller.sees(
        &access::enrolment_owner(enrolment)
            .with_teachers(access::opt_id(class.class_head_user_id.as_deref())),
    )
}

struct LeaveParts {
    row: LeaveRequestRow,
    enrolment: EnrolmentRow,
    class: ClassRow,
    session: ClassSessionRow,
}

/// Loads a leave request the caller may see, or 404 exactly like an unknown id (ACC-2).
fn visible_leave(conn: &mut DbConn, caller: &AuthUser, id: &str) -> ApiResult<LeaveParts> {
    let not_found = || ApiError::not_found("leave request");
    let row = guild_store::attendance::find_leave_request(conn, id)?.ok_or_else(not_found)?;
    let enrolment =
        guild_store::enrolments::find(conn, &row.enrolment_id)?.ok_or_else(not_found)?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    if !can_see_leave(caller, &enrolment, &class) {
        return Err(not_found());
    }
    let session =
        guild_store::classes::find_class_session(conn, &row.session_id)?.ok_or_else(not_found)?;
    Ok(LeaveParts {
        row,
        enrolment,
        class,
        session,
    })
}

fn leave_view(conn: &mut DbConn, p: &LeaveParts) -> ApiResult<LeaveRequestView> {
    let name = guild_store::people::find(conn, &p.enrolment.person_id)?
        .map(|x| x.name)
        .unwrap_or_default();
    LeaveRequestView::from_parts(
        p.row.clone(),
        &p.enrolment.class_id,
        &p.enrolment.person_id,
        name,
        p.session.session_date,
    )
}

fn audit_leave(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&LeaveRequestView>,
    after: &LeaveRequestView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "leave_request",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before,
            after: Some(after),
        },
    )
}

/// Files a leave request in one transaction (ATT-2). Checks, in order: the
/// caller may see the enrolment (404) and file for it (403); the session
/// belongs to the enrolment's class (422 `session_id`); the class is not
/// over or cancelled (`class_closed`); the enrolment is paid
/// (`not_taking_part`); the association's local date is before the session
/// date (`leave_too_late`); no other request for the session is open or
/// approved (409 `leave_request_exists`, also a partial unique index). The
/// class head is notified.
fn create_leave_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    body: CreateLeaveRequest,
    tz: Tz,
) -> ApiResult<LeaveRequestView> {
    let enrolment = service::visible(conn, &user.caller(), &body.enrolment_id.to_string())?;
    let own_org = enrolment.organisation_id.is_some()
        && user.organisation_id.as_deref() == enrolment.organisation_id.as_deref();
    let own_person = user.person_id.as_deref() == Some(enrolment.person_id.as_str());
    if !may_file_leave(user.role, own_org, own_person) {
        return Err(ApiError::forbidden());
    }
    let class = service::class_of(conn, &enrolment.class_id)?;
    let session = guild_store::classes::find_class_session(conn, &body.session_id.to_string())?
        .filter(|s| s.class_id == class.id)
        .ok_or_else(|| {
            ApiError::field(
                "session_id",
                "session_not_in_class",
                "the session is not one of the enrolment's class",
            )
        })?;
    check_class_not_closed(class_status(&class)?, "ATT-2")?;
    let (status, _) = service::status_of(&enrolment)?;
    check_takes_part(status, "ATT-2")?;
    check_leave_in_time(local_date(actor.at, tz), session.session_date)?;
    let exists = |id: &str| {
        ApiError::Refused(guild_domain::Refusal::rule(
            "ATT-2",
            "leave_request_exists",
            format!("leave request {id} for this session is already filed"),
        ))
    };
    if let Some(open) = guild_store::attendance::leave_for(
        conn,
        &enrolment.id,
        &session.id,
        &[
            LeaveStatus::Submitted.as_str(),
            LeaveStatus::Approved.as_str(),
        ],
    )? {
        return Err(exists(&open.id));
    }
    let now = actor.at.naive_utc();
    let row = LeaveRequestRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        session_id: session.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        reason: body.reason.trim().to_owned(),
        status: LeaveStatus::Submitted.as_str().to_owned(),
        filed_by: user.id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::attendance::insert_leave_request(conn, &row).map_err(|e| {
        if e.is_unique_violation() {
            exists("filed concurrently")
        } else {
            e.into()
        }
    })?;
    let parts = LeaveParts {
        row,
        enrolment,
        class,
        session,
    };
    let view = leave_view(conn, &parts)?;
    if let Some(head) = parts.class.class_head_user_id.clone() {
        service::notify(
            conn,
            &[head],
            kinds::LEAVE_REQUESTED,
            (
                format!("Leave request: {}, {}", view.person_name, view.session_date),
                format!(
                    "{} asks leave for the session of {} in {}: {}",
                    view.person_name, view.session_date, parts.class.title, view.reason
                ),
            ),
            &parts.enrolment.id,
            actor.at,
        )?;
    }
    audit_leave(conn, actor, "leave_request.file", None, &view)?;
    Ok(view)
}

/// Approves or refuses a leave request (ATT-2): the class head or training
/// staff (403 otherwise); only a submitted request (409 with the allowed
/// actions). The trainee's side (organisation accounts, the trainee) is
/// notified. Deciding may happen on or after the session day: the filing
/// time is what ATT-2 checks.
fn decide_leave_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    action: LeaveAction,
    reason: Option<String>,
) -> ApiResult<LeaveRequestView> {
    guild_store::locks::lock_row(conn, Locked::LeaveRequests, id)?;
    let mut parts = visible_leave(conn, user, id)?;
    if !may_decide_leave(user.role, is_class_head(&parts.class, user)) {
        return Err(ApiError::forbidden());
    }
    let before = leave_view(conn, &parts)?;
    let next = leave_transition(before.status, action)?;
    let now = actor.at.naive_utc();
    parts.row.status = next.as_str().to_owned();
    parts.row.decided_by = Some(user.id.clone());
    parts.row.decided_at = Some(now);
    parts.row.decision_reason = reason.clone();
    guild_store::attendance::update_leave_request(conn, &mut parts.row, now)?;
    let after = leave_view(conn, &parts)?;
    let to = guild_store::notifications::enrolment_recipients(
        conn,
        parts.enrolment.organisation_id.as_deref(),
        &parts.enrolment.person_id,
    )?;
    service::notify(
        conn,
        &to,
        kinds::LEAVE_DECIDED,
        leave_decision_notice(
            next == LeaveStatus::Approved,
            &after.person_name,
            after.session_date,
            &parts.class.title,
            reason.as_deref(),
        ),
        &parts.enrolment.id,
        actor.at,
    )?;
    let action_name = match action {
        LeaveAction::Approve => "leave_request.approve",
        LeaveAction::Refuse => "leave_request.refuse",
    };
    audit_leave(conn, actor, action_name, Some(&before), &after)?;
    Ok(after)
}

/// Records a session's attendance in one transaction (ATT-1): see
/// [`record_attendance`]. Each changed record is audited (`attendance.record`) with
/// before and after; an unchanged one is left alone.
fn record_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    class_id: &str,
    session_id: &str,
    body: RecordAttendance,
    tz: Tz,
) -> ApiResult<SessionAttendance> {
    let class = service::class_of(conn, class_id)?;
    let session = session_of(conn, &class, session_id)?;
    if !may_record_attendance(user.role, is_class_head(&class, user)) {
        return Err(ApiError::forbidden());
    }
    check_class_running(class_status(&class)?)?;
    check_session_held(local_date(actor.at, tz), session.session_date)?;
    let excused: HashSet<String> =
        guild_store::attendance::leave_for_class(conn, &class.id, LeaveStatus::Approved.as_str())?
            .into_iter()
            .filter(|l| l.session_id == session.id)
            .map(|l| l.enrolment_id)
            .collect();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut plan = Vec::new();
    for (i, input) in body.records.iter().enumerate() {
        let key = input.enrolment_id.to_string();
        let field = format!("records[{i}].enrolment_id");
        if !seen.insert(key.clone()) {
            problems.push(FieldProblem {
                field,
                code: "duplicate".to_owned(),
                message: "each enrolment at most once".to_owned(),
            });
            continue;
        }
        let enrolment =
            guild_store::enrolments::find(conn, &key)?.filter(|e| e.class_id == class.id);
        let Some(enrolment) = enrolment else {
            problems.push(FieldProblem {
                field,
                code: "not_in_class".to_owned(),
                message: "no enrolment of this class has this id".to_owned(),
            });
            continue;
        };
        let (status, _) = service::status_of(&enrolment)?;
        if let Err(r) = check_takes_part(status, "ATT-1") {
            problems.push(FieldProblem {
                field,
                code: r.code.to_owned(),
                message: r.detail,
            });
            continue;
        }
        plan.push((input.clone(), enrolment));
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let now = actor.at.naive_utc();
    for (input, enrolment) in plan {
        let status = status_to_record(input.status, excused.contains(&enrolment.id))?;
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let existing = guild_store::attendance::find_for(conn, &session.id, &enrolment.id)?;
        let before = existing
            .as_ref()
            .map(AttendanceRecordView::from_row)
            .transpose()?;
        let row = match existing {
            Some(mut row) => {
                if row.status == status.as_str() && row.note == note {
                    continue;
                }
                row.status = status.as_str().to_owned();
                row.note = note;
                row.recorded_by = user.id.clone();
                row.recorded_at = now;
                guild_store::attendance::update_record(conn, &row)?;
                row
            }
            None => {
                let row = AttendanceRecordRow {
                    id: Uuid::now_v7().to_string(),
                    class_id: class.id.clone(),
                    session_id: session.id.clone(),
                    enrolment_id: enrolment.id.clone(),
                    status: status.as_str().to_owned(),
                    note,
                    recorded_by: user.id.clone(),
                    recorded_at: now,
                };
                guild_store::attendance::insert(conn, &row)?;
                row
            }
        };
        let after = AttendanceRecordView::from_row(&row)?;
        audit::record(
            conn,
            actor,
            Change {
                action: "attendance.record",
                entity_type: "attendance_record",
                entity_id: &row.id,
                organisation_id: enrolment.organisation_id.as_deref(),
                before: before.as_ref(),
                after: Some(&after),
            },
        )?;
    }
    session_attendance(conn, &class, &session)
}

fn session_attendance(
    conn: &mut DbConn,
    class: &ClassRow,
    session: &ClassSessionRow,
) -> ApiResult<SessionAttendance> {
    let records = guild_store::attendance::for_class(conn, &class.id)?
        .iter()
        .filter(|r| r.session_id == session.id)
        .map(AttendanceRecordView::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(SessionAttendance {
        class_id: stored_uuid("classes", &class.id)?,
        session_id: stored_uuid("class_sessions", &session.id)?,
        session_date: session.session_date,
        records,
    })
}

/// The class's attendance sheet as `user` may see it (ATT-1); the archive
/// generates its attendance sheet from it (ARC-1).
pub(crate) fn sheet_in_tx(
    conn: &mut DbConn,
    user: &AuthUser,
    class_id: &str,
) -> ApiResult<AttendanceSheet> {
    let class = service::class_of(conn, class_id)?;
    let visible = ClassRows::of(conn, &class, user)?.ok_or_else(ApiError::forbidden)?;
    let sessions = guild_store::classes::sessions(conn, &class.id)?;
    let records = guild_store::attendance::for_class(conn, &class.id)?;
    let leave =
        guild_store::attendance::leave_for_class(conn, &class.id, LeaveStatus::Approved.as_str())?;
    let mut enrolments: Vec<EnrolmentRow> = Vec::new();
    for status in ["paid", "notified"] {
        enrolments.extend(guild_store::enrolments::in_class_with_status(
            conn, &class.id, status,
        )?);
    }
    let listed: HashSet<String> = enrolments.iter().map(|e| e.id.clone()).collect();
    let extra: HashSet<String> = records
        .iter()
        .map(|r| r.enrolment_id.clone())
        .filter(|id| !listed.contains(id))
        .collect();
    for id in extra {
        if let Some(e) = guild_store::enrolments::find(conn, &id)? {
            enrolments.push(e);
        }
    }
    enrolments.retain(|e| visible.sees(e));
    enrolments.sort_by(|a, b| a.id.cmp(&b.id));
    let names: HashMap<String, String> = guild_store::enrolments::person_names(
        conn,
        &enrolments
            .iter()
            .map(|e| e.person_id.clone())
            .collect::<Vec<_>>(),
    )?
    .into_iter()
    .collect();
    let by_key: HashMap<(&str, &str), &AttendanceRecordRow> = records
        .iter()
        .map(|r| ((r.session_id.as_str(), r.enrolment_id.as_str()), r))
        .collect();
    let leave_by_key: HashMap<(&str, &str), &LeaveRequestRow> = leave
        .iter()
        .map(|l| ((l.session_id.as_str(), l.enrolment_id.as_str()), l))
        .collect();
    let mut trainees = Vec::new();
    for e in &enrolments {
        let mut marks = Vec::new();
        let mut dated = Vec::new();
        for s in &sessions {
            let key = (s.id.as_str(), e.id.as_str());
            let record = by_key.get(&key);
            let leave = leave_by_key.get(&key);
            let recorded: Option<AttendanceStatus> = record
                .map(|r| parse_stored("attendance_records", &r.status))
                .transpose()?;
            if let Some(st) = recorded {
                dated.push((s.session_date, st));
            }
            marks.push(SheetMark {
                session_id: stored_uuid("class_sessions", &s.id)?,
                status: recorded.or(leave.map(|_| AttendanceStatus::Excused)),
                recorded: recorded.is_some(),
                note: record.and_then(|r| r.note.clone()),
                leave_request_id: leave
                    .map(|l| stored_uuid("leave_requests", &l.id))
                    .transpose()?,
            });
        }
        let absences = unexcused_absences(&dated);
        trainees.push(SheetRow {
            enrolment_id: stored_uuid("enrolments", &e.id)?,
            person_id: stored_uuid("enrolments", &e.person_id)?,
            person_name: names.get(&e.person_id).cloned().unwrap_or_default(),
            organisation_id: e
                .organisation_id
                .as_deref()
                .map(|o| stored_uuid("enrolments", o))
                .transpose()?,
            marks,
            eligible_by_attendance: guild_domain::attendance::absence_refusal(&absences).is_none(),
            unexcused_absences: absences,
        });
    }
    Ok(AttendanceSheet {
        class_id: stored_uuid("classes", &class.id)?,
        sessions: sessions
            .iter()
            .map(|s| {
                Ok(SheetSession {
                    id: stored_uuid("class_sessions", &s.id)?,
                    session_date: s.session_date,
                    starts_at: format_session_time(s.starts_at),
                    ends_at: format_session_time(s.ends_at),
                    topic: s.topic.clone(),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?,
        trainees,
    })
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
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RecordAttendance>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_HEAD_ROLES)?;
    validate(&*body)?;
    let (class_id, session_id) = path.into_inner();
    let (class_id, session_id) = (class_id.to_string(), session_id.to_string());
    let body = body.into_inner();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                record_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &class_id,
                    &session_id,
                    body,
                    s.config.time_zone,
                )
            })
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
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| s.store.read(|c| sheet_in_tx(c, &user, &id)))
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
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let today = local_date(s.clock.now(), s.config.time_zone);
            s.store.read(|c| eligibility_in_tx(c, &user, &id, today))
        })
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
    let mut filter = LeaveFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        session_id: q.session_id.map(|v| v.to_string()),
        ..LeaveFilter::default()
    };
    match user.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Teacher(u) => filter.only_class_head = Some(u.to_string()),
        Scope::Provider(_) | Scope::Nothing => filter.only_person = Some(access::no_id()),
    }
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::attendance::list_leave_requests(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        LeaveRequestView::from_parts(
            r.leave,
            &r.class_id,
            &r.person_id,
            r.person_name,
            r.session_date,
        )
    })?))
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
    ctx: RequestContext,
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
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| create_leave_in_tx(c, &Actor::new(&user, &ctx, now), &user, body, tz))
        })
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
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let parts = visible_leave(c, &user, &id)?;
                leave_view(c, &parts)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: LeaveAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_HEAD_ROLES)?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                decide_leave_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, action, reason)
            })
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
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        ctx,
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
    ctx: RequestContext,
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
        ctx,
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
