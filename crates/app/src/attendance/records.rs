//! The records and inputs of attendance and leave requests (ATT-1 to ATT-3,
//! EXM-2), as the API shows and takes them.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::attendance::{AttendanceStatus, LeaveStatus, leave_allowed_actions};
use guild_domain::exam::Ineligibility;
use guild_store::attendance::{AttendanceRecordRow, LeaveRequestRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppResult, stored};
use crate::ids::stored_id;

/// A leave request for one session (ATT-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The record of a stored leave request with what it hangs off.
    pub fn from_parts(
        r: LeaveRequestRow,
        class_id: &str,
        person_id: &str,
        person_name: String,
        session_date: NaiveDate,
    ) -> AppResult<Self> {
        let id = |v: &str| stored_id("leave_requests", v);
        let status: LeaveStatus = stored("leave_requests", &r.status)?;
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
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "session_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "reason": "Emergency repair duty"})))]
pub struct CreateLeaveRequest {
    /// A paid enrolment (`paid` or `notified`).
    pub enrolment_id: Uuid,
    /// A session of the enrolment's class, on a later day than today (ATT-2).
    pub session_id: Uuid,
    /// Why the trainee will be away.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// Filters of the leave request list.
#[derive(Debug, Clone, Default)]
pub struct ListLeaveRequests {
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
#[derive(Debug, Clone, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub note: Option<String>,
}

/// The attendance of a session, one entry per trainee (ATT-1).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"records": [{"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "status": "present"}]})))]
pub struct RecordAttendance {
    /// 1 to 1000 trainees; each enrolment at most once.
    #[validate(length(min = 1, max = 1000), nested)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub records: Vec<AttendanceInput>,
}

/// One recorded attendance (ATT-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The record of a stored attendance record.
    pub fn from_row(r: &AttendanceRecordRow) -> AppResult<Self> {
        let id = |v: &str| stored_id("attendance_records", v);
        Ok(AttendanceRecordView {
            id: id(&r.id)?,
            session_id: id(&r.session_id)?,
            enrolment_id: id(&r.enrolment_id)?,
            status: stored("attendance_records", &r.status)?,
            note: r.note.clone(),
            recorded_by: id(&r.recorded_by)?,
            recorded_at: r.recorded_at.and_utc(),
        })
    }
}

/// The recorded attendance of one session (ATT-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendanceSheet {
    /// The class.
    pub class_id: Uuid,
    /// The schedule.
    pub sessions: Vec<SheetSession>,
    /// The trainees the caller may see, by enrolment id.
    pub trainees: Vec<SheetRow>,
}

/// Exam eligibility of an enrolment (ATT-3, EXM-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
