//! Attendance per session, leave requests and exam eligibility (ATT-1 to
//! ATT-3, EXM-2).
//!
//! - Attendance ([`record`], ATT-1) is recorded (upserted) per session for
//!   the class's paid trainees by the class head or training staff, while the
//!   class is `in_progress`, or `finished` for corrections. The [`sheet`] is
//!   one document per class (at most 1000 seats), not a paginated list.
//! - Leave requests (ATT-2) are filed by the trainee, their organisation's
//!   accounts or training staff, at least one day before the session in the
//!   association's time zone; the class head (or training staff) approves or
//!   refuses them.
//! - [`eligibility`]: every reason the trainee may not sit the class's exam
//!   (ATT-3 absences with their dates, not paid, no-show, disqualified,
//!   banned). Exam registration uses the same [`eligibility_of`].

mod records;
mod sheet;

pub use records::{
    AttendanceInput, AttendanceRecordView, AttendanceSheet, CreateLeaveRequest, Eligibility,
    LeaveRequestView, ListLeaveRequests, RecordAttendance, SessionAttendance, SheetMark, SheetRow,
    SheetSession,
};
pub use sheet::{record, sheet, sheet_for};

use chrono::NaiveDate;
use guild_domain::Refusal;
use guild_domain::access::Scope;
use guild_domain::attendance::{
    LeaveAction, LeaveStatus, check_leave_in_time, check_takes_part, leave_decision_notice,
    leave_transition, may_decide_leave, may_file_leave, unexcused_absences,
};
use guild_domain::ban::blocking_ban;
use guild_domain::class::ClassStatus;
use guild_domain::deferral::check_class_not_closed;
use guild_domain::exam::{
    EligibilityFacts, Ineligibility, RegistrationStatus, eligibility as rule,
};
use guild_store::DbConn;
use guild_store::attendance::{LeaveFilter, LeaveRequestRow};
use guild_store::classes::{ClassRow, ClassSessionRow};
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::enrolments;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::stored_id;
use crate::{Page, PageRequest};

/// Notification kinds written by leave requests.
pub mod kinds {
    /// A leave request reached the class head (ATT-2).
    pub const LEAVE_REQUESTED: &str = "leave_requested";
    /// The class head decided a leave request (ATT-2).
    pub const LEAVE_DECIDED: &str = "leave_decided";
}

/// Whether `caller` is the class's head (班主任).
pub fn is_class_head(class: &ClassRow, caller: &Caller) -> bool {
    class.class_head_user_id.as_deref() == Some(caller.id.as_str())
}

fn class_status(class: &ClassRow) -> AppResult<ClassStatus> {
    stored("classes", &class.status)
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
) -> AppResult<Vec<Ineligibility>> {
    let (status, _) = enrolments::status_of(enrolment)?;
    let records = guild_store::attendance::for_enrolment(conn, &enrolment.id)?
        .into_iter()
        .map(|(r, date)| Ok((date, stored("attendance_records", &r.status)?)))
        .collect::<AppResult<Vec<_>>>()?;
    let mut disqualified = false;
    for r in guild_store::exams::registrations_for_enrolment(conn, &enrolment.id)? {
        let s: RegistrationStatus = stored("exam_registrations", &r.status)?;
        disqualified |= s == RegistrationStatus::Disqualified;
    }
    let bans = guild_store::bans::current_for_people(
        conn,
        std::slice::from_ref(&enrolment.person_id),
        today,
    )?
    .iter()
    .map(enrolments::ban_of)
    .collect::<AppResult<Vec<_>>>()?;
    let ban = blocking_ban(&bans, program_id, today).map(|b| b.refusal());
    Ok(rule(&EligibilityFacts {
        status,
        absent_on: unexcused_absences(&records),
        disqualified,
        ban,
    }))
}

/// Whether an enrolment's trainee may sit the class's exam, with every reason
/// against it (ATT-3, EXM-2); visible to whoever may see the enrolment.
pub fn eligibility(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<Eligibility> {
    let enrolment = enrolments::visible(conn, ctx.caller()?, &id.to_string())?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    let reasons = eligibility_of(conn, &enrolment, &class.program_id, ctx.today())?;
    Ok(Eligibility {
        enrolment_id: stored_id("enrolments", &enrolment.id)?,
        class_id: stored_id("enrolments", &enrolment.class_id)?,
        eligible: reasons.is_empty(),
        reasons,
    })
}

/// ACC-2: whether `caller` may see a leave request of `enrolment` in
/// `class`: whoever may see the enrolment, and the class head of its class.
fn can_see_leave(caller: &Caller, enrolment: &EnrolmentRow, class: &ClassRow) -> bool {
    caller.sees(
        &enrolments::owner(enrolment)
            .with_teachers(crate::access::opt_id(class.class_head_user_id.as_deref())),
    )
}

struct LeaveParts {
    row: LeaveRequestRow,
    enrolment: EnrolmentRow,
    class: ClassRow,
    session: ClassSessionRow,
}

/// Loads a leave request the caller may see, or 404 exactly like an unknown id (ACC-2).
fn visible_leave(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<LeaveParts> {
    let not_found = || AppError::NotFound("leave request");
    let row = guild_store::attendance::find_leave_request(conn, id)?.ok_or_else(not_found)?;
    let enrolment =
        guild_store::enrolments::find(conn, &row.enrolment_id)?.ok_or_else(not_found)?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
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

fn leave_view(conn: &mut DbConn, p: &LeaveParts) -> AppResult<LeaveRequestView> {
    let name = enrolments::person_name(conn, &p.enrolment.person_id)?;
    LeaveRequestView::from_parts(
        p.row.clone(),
        &p.enrolment.class_id,
        &p.enrolment.person_id,
        name,
        p.session.session_date,
    )
}

fn leave_event(
    kind: EventKind,
    before: Option<&LeaveRequestView>,
    after: &LeaveRequestView,
) -> AppResult<Event> {
    Ok(
        Event::new(kind, "leave_request", after.id, before, Some(after))?
            .in_organisation(after.organisation_id),
    )
}

/// Lists leave requests, oldest first: organisations their own (ACC-2),
/// trainees their own, a teacher those of the classes they head, association
/// staff and the authority all.
pub fn list_leave(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListLeaveRequests,
    page: PageRequest,
) -> AppResult<Page<LeaveRequestView>> {
    let mut filter = LeaveFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        session_id: q.session_id.map(|v| v.to_string()),
        ..LeaveFilter::default()
    };
    match ctx.caller()?.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Teacher(u) => filter.only_class_head = Some(u.to_string()),
        Scope::Provider(_) | Scope::Nothing => {
            filter.only_person = Some(crate::access::no_id());
        }
    }
    guild_store::attendance::list_leave_requests(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(|r| {
            LeaveRequestView::from_parts(
                r.leave,
                &r.class_id,
                &r.person_id,
                r.person_name,
                r.session_date,
            )
        })
}

/// One leave request (whoever may see its enrolment, and the class head).
pub fn get_leave(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<LeaveRequestView> {
    let parts = visible_leave(conn, ctx.caller()?, &id.to_string())?;
    leave_view(conn, &parts)
}

fn leave_exists(id: &str) -> AppError {
    AppError::Refused(Refusal::rule(
        "ATT-2",
        "leave_request_exists",
        format!("leave request {id} for this session is already filed"),
    ))
}

/// ATT-2: the session of a new leave request, which must belong to the
/// enrolment's class (422 `session_id`).
fn session_in_class(
    conn: &mut DbConn,
    class: &ClassRow,
    session_id: Uuid,
) -> AppResult<ClassSessionRow> {
    guild_store::classes::find_class_session(conn, &session_id.to_string())?
        .filter(|s| s.class_id == class.id)
        .ok_or_else(|| {
            AppError::field(
                "session_id",
                "session_not_in_class",
                "the session is not one of the enrolment's class",
            )
        })
}

/// Files a leave request (ATT-2). Checks, in order: the caller may see the
/// enrolment (404) and file for it (403); the session belongs to the
/// enrolment's class (422 `session_id`); the class is not over or cancelled
/// (`class_closed`); the enrolment is paid (`not_taking_part`); the
/// association's local date is before the session date (`leave_too_late`);
/// no other request for the session is open or approved (409
/// `leave_request_exists`, also a partial unique index). The class head is
/// notified.
pub fn file_leave(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateLeaveRequest,
) -> AppResult<LeaveRequestView> {
    let caller = ctx.caller()?;
    let enrolment = enrolments::visible(conn, caller, &body.enrolment_id.to_string())?;
    let (own_org, own_person) = enrolments::ownership(caller, &enrolment);
    if !may_file_leave(caller.role, own_org, own_person) {
        return Err(AppError::Forbidden);
    }
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    let session = session_in_class(conn, &class, body.session_id)?;
    check_class_not_closed(class_status(&class)?, "ATT-2")?;
    let (status, _) = enrolments::status_of(&enrolment)?;
    check_takes_part(status, "ATT-2")?;
    check_leave_in_time(ctx.today(), session.session_date)?;
    let open = [
        LeaveStatus::Submitted.as_str(),
        LeaveStatus::Approved.as_str(),
    ];
    if let Some(open) = guild_store::attendance::leave_for(conn, &enrolment.id, &session.id, &open)?
    {
        return Err(leave_exists(&open.id));
    }
    let row = new_leave(ctx, &enrolment, &session, body.reason.trim())?;
    guild_store::attendance::insert_leave_request(conn, &row)
        .or_taken(|| leave_exists("filed concurrently"))?;
    let parts = LeaveParts {
        row,
        enrolment,
        class,
        session,
    };
    let view = leave_view(conn, &parts)?;
    notify_class_head(ctx, conn, &parts, &view)?;
    ctx.emit(conn, leave_event(ev::LEAVE_REQUEST_FILED, None, &view)?)?;
    Ok(view)
}

fn new_leave(
    ctx: &Ctx,
    enrolment: &EnrolmentRow,
    session: &ClassSessionRow,
    reason: &str,
) -> AppResult<LeaveRequestRow> {
    let now = ctx.now.naive_utc();
    Ok(LeaveRequestRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        session_id: session.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        reason: reason.to_owned(),
        status: LeaveStatus::Submitted.as_str().to_owned(),
        filed_by: ctx.caller()?.id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// ATT-2: a new leave request reaches the class head (when the class has one).
fn notify_class_head(
    ctx: &Ctx,
    conn: &mut DbConn,
    parts: &LeaveParts,
    view: &LeaveRequestView,
) -> AppResult<()> {
    let Some(head) = parts.class.class_head_user_id.clone() else {
        return Ok(());
    };
    enrolments::notify(
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
        ctx.now,
    )
}

/// Approves or refuses a leave request (ATT-2): the class head or training
/// staff (403 otherwise); only a submitted request (409 with the allowed
/// actions). The trainee's side (organisation accounts, the trainee) is
/// notified. Deciding may happen on or after the session day: the filing
/// time is what ATT-2 checks.
pub fn decide_leave(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: LeaveAction,
    reason: Option<String>,
) -> AppResult<LeaveRequestView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    guild_store::locks::lock_row(conn, Locked::LeaveRequests, &id)?;
    let mut parts = visible_leave(conn, caller, &id)?;
    if !may_decide_leave(caller.role, is_class_head(&parts.class, caller)) {
        return Err(AppError::Forbidden);
    }
    let before = leave_view(conn, &parts)?;
    let next = leave_transition(before.status, action)?;
    let now = ctx.now.naive_utc();
    parts.row.status = next.as_str().to_owned();
    parts.row.decided_by = Some(caller.id.clone());
    parts.row.decided_at = Some(now);
    parts.row.decision_reason = reason.clone();
    guild_store::attendance::update_leave_request(conn, &mut parts.row, now)?;
    let after = leave_view(conn, &parts)?;
    let to = guild_store::notifications::enrolment_recipients(
        conn,
        parts.enrolment.organisation_id.as_deref(),
        &parts.enrolment.person_id,
    )?;
    enrolments::notify(
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
        ctx.now,
    )?;
    let kind = match action {
        LeaveAction::Approve => ev::LEAVE_REQUEST_APPROVED,
        LeaveAction::Refuse => ev::LEAVE_REQUEST_REFUSED,
    };
    ctx.emit(conn, leave_event(kind, Some(&before), &after)?)?;
    Ok(after)
}
