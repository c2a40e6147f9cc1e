//! Attendance and leave (ATT-1 to ATT-3, seed 000 §6(3)4).
//!
//! - The class head (班主任, the class's `class_head_user_id`) or training
//!   staff record attendance per scheduled session for the class's paid
//!   trainees: `present`, `excused` or `absent` (ATT-1). `excused` needs an
//!   approved leave request for that session; with one, `excused` is also the
//!   default when no status is given.
//! - A leave request must reach the class head at least one day before the
//!   session: the association's local date at filing must be before the
//!   session date, so 23:59 of the day before is in time and 00:00 of the
//!   session day is too late (ATT-2). The class head (or training staff)
//!   approves or refuses it.
//! - Two or more unexcused absences (`absent`) in a class remove the trainee's
//!   exam eligibility for that class (ATT-3).

use chrono::NaiveDate;

use crate::class::ClassStatus;
use crate::enrolment::EnrolmentStatus;
use crate::error::{InvalidTransition, Refusal};
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

/// The number of unexcused absences in a class that removes exam eligibility (ATT-3).
pub const ABSENCES_REMOVING_ELIGIBILITY: usize = 2;

wire_enum! {
    /// A trainee's attendance at one session (ATT-1).
    pub enum AttendanceStatus("attendance_status") {
        /// Attended.
        Present => "present",
        /// Away with an approved leave request (ATT-2).
        Excused => "excused",
        /// Away without approved leave: an unexcused absence (ATT-3).
        Absent => "absent",
    }
}

wire_enum! {
    /// Where a leave request stands (ATT-2): `submitted → approved | refused`.
    pub enum LeaveStatus("leave_status") {
        /// Filed in time; waits for the class head.
        Submitted => "submitted",
        /// Approved: the trainee is `excused` for the session.
        Approved => "approved",
        /// Refused with a reason; another request for the session may be filed.
        Refused => "refused",
    }
}

wire_enum! {
    /// An action on a leave request: `POST /leave-requests/{id}/{action}`.
    pub enum LeaveAction("leave_action") {
        /// The class head (or training staff) agrees.
        Approve => "approve",
        /// The class head (or training staff) refuses, with a reason.
        Refuse => "refuse",
    }
}

const LEAVE_MACHINE: StateMachine<LeaveStatus, LeaveAction> = StateMachine {
    entity: "leave_request",
    rule: Some("ATT-2"),
    edges: &[
        (
            LeaveStatus::Submitted,
            LeaveAction::Approve,
            LeaveStatus::Approved,
        ),
        (
            LeaveStatus::Submitted,
            LeaveAction::Refuse,
            LeaveStatus::Refused,
        ),
    ],
};

/// Applies `action` to a leave request in `from` (ATT-2, API-4): only a
/// submitted request is decided.
pub fn leave_transition(
    from: LeaveStatus,
    action: LeaveAction,
) -> Result<LeaveStatus, InvalidTransition> {
    LEAVE_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a leave request in `from`.
pub fn leave_allowed_actions(from: LeaveStatus) -> Vec<&'static str> {
    LEAVE_MACHINE.allowed(from)
}

/// Whether `role` may record attendance for a class (ATT-1): training staff
/// for any class, a teacher only as the class's head.
pub fn may_record_attendance(role: Role, is_class_head: bool) -> bool {
    role.is_training_staff() || (role == Role::Teacher && is_class_head)
}

/// Whether `role` may decide a leave request of a class (ATT-2): the class
/// head, or training staff.
pub fn may_decide_leave(role: Role, is_class_head: bool) -> bool {
    may_record_attendance(role, is_class_head)
}

/// Whether `role` may file a leave request for an enrolment (ATT-2): the
/// trainee for their own enrolment, the enrolment's organisation's accounts,
/// or training staff.
pub fn may_file_leave(role: Role, own_organisation: bool, own_person: bool) -> bool {
    match role {
        Role::Trainee => own_person,
        Role::OrgFiller | Role::OrgReviewer => own_organisation,
        r => r.is_training_staff(),
    }
}

/// ATT-1: attendance is recorded while the class runs (`in_progress`), and
/// corrected after it is `finished`; never for a planned, open or cancelled
/// class (code `class_not_running`).
pub fn check_class_running(status: ClassStatus) -> Result<(), Refusal> {
    match status {
        ClassStatus::InProgress | ClassStatus::Finished => Ok(()),
        other => Err(Refusal::rule(
            "ATT-1",
            "class_not_running",
            format!(
                "attendance is recorded for a class in progress (or finished); this class is {other}"
            ),
        )),
    }
}

/// ATT-1: attendance is taken for a session that has happened: refused
/// before the session's date in the association's time zone
/// (`session_not_held`). On the session's own day it is accepted, since the
/// head takes the roll during the session. An `absent` entered in advance
/// would otherwise remove exam eligibility (ATT-3) for a session nobody
/// has missed yet.
pub fn check_session_held(today: NaiveDate, session_date: NaiveDate) -> Result<(), Refusal> {
    if session_date > today {
        Err(Refusal::rule(
            "ATT-1",
            "session_not_held",
            format!(
                "the session is on {session_date}; attendance is recorded from that day on \
                 (today is {today})"
            ),
        ))
    } else {
        Ok(())
    }
}

/// ATT-1, ATT-2: attendance and leave concern the class's paid trainees
/// (`paid` or `notified`, ENR-3); anyone else is not taking part (code
/// `not_taking_part`, `rule` naming the request's rule).
pub fn check_takes_part(status: EnrolmentStatus, rule: &'static str) -> Result<(), Refusal> {
    if status.is_paid_up() {
        Ok(())
    } else {
        Err(Refusal::rule(
            rule,
            "not_taking_part",
            format!(
                "the enrolment is {status}: only a paid trainee (paid or notified) takes part in the class"
            ),
        ))
    }
}

/// ATT-2: a leave request must reach the class head at least one day before
/// the session: `today` (the association's local date at filing) must be
/// before `session_date`. 23:59 of the day before is in time; 00:00 of the
/// session day is refused (code `leave_too_late`).
pub fn check_leave_in_time(today: NaiveDate, session_date: NaiveDate) -> Result<(), Refusal> {
    if today < session_date {
        Ok(())
    } else {
        Err(Refusal::rule(
            "ATT-2",
            "leave_too_late",
            format!(
                "a leave request must reach the class head at least one day before the session \
                 ({session_date}, association time); today is {today}"
            ),
        ))
    }
}

/// ATT-1: the status to record for one trainee at one session. `requested` is
/// what the recorder sent (`None`: use the default); `approved_leave` whether
/// an approved leave request covers the session. `excused` needs approved
/// leave (code `excuse_without_leave`); with approved leave the default is
/// `excused`; without a status and without leave nothing can be assumed
/// (code `attendance_status_required`).
pub fn status_to_record(
    requested: Option<AttendanceStatus>,
    approved_leave: bool,
) -> Result<AttendanceStatus, Refusal> {
    match (requested, approved_leave) {
        (Some(AttendanceStatus::Excused), false) => Err(Refusal::rule(
            "ATT-1",
            "excuse_without_leave",
            "a trainee is `excused` only with an approved leave request for the session",
        )),
        (Some(status), _) => Ok(status),
        (None, true) => Ok(AttendanceStatus::Excused),
        (None, false) => Err(Refusal::rule(
            "ATT-1",
            "attendance_status_required",
            "give `present` or `absent` (there is no approved leave for this session)",
        )),
    }
}

/// The dates of a trainee's unexcused absences in a class (ATT-3): the
/// sessions recorded `absent`, in date order (one date per absent session).
pub fn unexcused_absences(records: &[(NaiveDate, AttendanceStatus)]) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> = records
        .iter()
        .filter(|(_, s)| *s == AttendanceStatus::Absent)
        .map(|(d, _)| *d)
        .collect();
    dates.sort();
    dates
}

/// ATT-3: the refusal when two or more unexcused absences remove the trainee's
/// exam eligibility for the class, naming the dates (code `too_many_absences`);
/// `None` while the trainee is still eligible by attendance.
pub fn absence_refusal(absent_on: &[NaiveDate]) -> Option<Refusal> {
    if absent_on.len() < ABSENCES_REMOVING_ELIGIBILITY {
        return None;
    }
    let dates: Vec<String> = absent_on.iter().map(ToString::to_string).collect();
    Some(Refusal::rule(
        "ATT-3",
        "too_many_absences",
        format!(
            "{} unexcused absences ({}): two or more remove exam eligibility for this class",
            absent_on.len(),
            dates.join(", ")
        ),
    ))
}

/// A notice to the trainee's side about a decided leave request (ATT-2).
pub fn leave_decision_notice(
    approved: bool,
    person_name: &str,
    session_date: NaiveDate,
    class_title: &str,
    reason: Option<&str>,
) -> (String, String) {
    if approved {
        (
            format!("Leave approved: {person_name}, {session_date}"),
            format!(
                "The leave of {person_name} for the session of {session_date} in {class_title} \
                 was approved; the trainee is excused."
            ),
        )
    } else {
        (
            format!("Leave refused: {person_name}, {session_date}"),
            format!(
                "The leave of {person_name} for the session of {session_date} in {class_title} \
                 was refused: {}",
                reason.unwrap_or("no reason given")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(AttendanceStatus, LeaveStatus, LeaveAction);
    }

    #[test]
    fn leave_machine_decides_only_submitted_requests() {
        // rule ATT-2, API-4
        use LeaveAction as A;
        use LeaveStatus as S;
        assert_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Submitted, A::Approve, S::Approved),
                (S::Submitted, A::Refuse, S::Refused),
            ],
            leave_transition,
            leave_allowed_actions,
            "leave_request",
            Some("ATT-2"),
        );
    }

    #[test]
    fn leave_must_arrive_the_day_before_the_session() {
        // rule ATT-2: the day before is in time, the session day is not
        let session = d(2026, 4, 7);
        assert!(check_leave_in_time(d(2026, 4, 6), session).is_ok());
        assert!(check_leave_in_time(d(2026, 3, 1), session).is_ok());
        for late in [d(2026, 4, 7), d(2026, 4, 8)] {
            let r = check_leave_in_time(late, session).unwrap_err();
            assert_eq!((r.rule, r.code), (Some("ATT-2"), "leave_too_late"));
        }
    }

    #[test]
    fn excused_needs_approved_leave_which_is_also_the_default() {
        // rule ATT-1
        use AttendanceStatus as S;
        let r = status_to_record(Some(S::Excused), false).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("ATT-1"), "excuse_without_leave"));
        assert_eq!(status_to_record(Some(S::Excused), true), Ok(S::Excused));
        assert_eq!(status_to_record(None, true), Ok(S::Excused));
        assert_eq!(status_to_record(Some(S::Absent), true), Ok(S::Absent));
        assert_eq!(status_to_record(Some(S::Present), false), Ok(S::Present));
        assert_eq!(
            status_to_record(None, false).unwrap_err().code,
            "attendance_status_required"
        );
    }

    #[test]
    fn two_unexcused_absences_remove_eligibility() {
        // rule ATT-3
        use AttendanceStatus as S;
        let records = [
            (d(2026, 4, 8), S::Absent),
            (d(2026, 4, 6), S::Excused),
            (d(2026, 4, 7), S::Present),
        ];
        let dates = unexcused_absences(&records);
        assert_eq!(dates, vec![d(2026, 4, 8)]);
        assert!(absence_refusal(&dates).is_none());
        let records = [
            (d(2026, 4, 8), S::Absent),
            (d(2026, 4, 6), S::Absent),
            (d(2026, 4, 7), S::Excused),
        ];
        let dates = unexcused_absences(&records);
        assert_eq!(dates, vec![d(2026, 4, 6), d(2026, 4, 8)]);
        let r = absence_refusal(&dates).unwrap();
        assert_eq!((r.rule, r.code), (Some("ATT-3"), "too_many_absences"));
        assert!(r.detail.contains("2026-04-06") && r.detail.contains("2026-04-08"));
    }

    #[test]
    fn attendance_only_for_running_or_finished_classes() {
        // rule ATT-1
        assert!(check_class_running(ClassStatus::InProgress).is_ok());
        assert!(check_class_running(ClassStatus::Finished).is_ok());
        for s in [
            ClassStatus::Planned,
            ClassStatus::Open,
            ClassStatus::Cancelled,
        ] {
            assert_eq!(
                check_class_running(s).unwrap_err().code,
                "class_not_running"
            );
        }
    }

    #[test]
    fn attendance_only_from_the_session_date_on() {
        // rule ATT-1
        let session = d(2026, 4, 7);
        let r = check_session_held(d(2026, 4, 6), session).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("ATT-1"), "session_not_held"));
        assert!(check_session_held(session, session).is_ok());
        assert!(check_session_held(d(2026, 4, 8), session).is_ok());
    }

    #[test]
    fn only_paid_trainees_take_part() {
        // rule ATT-1, ATT-2
        assert!(check_takes_part(EnrolmentStatus::Paid, "ATT-2").is_ok());
        assert!(check_takes_part(EnrolmentStatus::Notified, "ATT-1").is_ok());
        let r = check_takes_part(EnrolmentStatus::Confirmed, "ATT-2").unwrap_err();
        assert_eq!((r.rule, r.code), (Some("ATT-2"), "not_taking_part"));
    }

    #[test]
    fn who_records_files_and_decides() {
        // rule ATT-1, ATT-2
        assert!(may_record_attendance(Role::TrainingOfficer, false));
        assert!(may_record_attendance(Role::Teacher, true));
        assert!(!may_record_attendance(Role::Teacher, false));
        assert!(!may_record_attendance(Role::OrgReviewer, false));
        assert!(may_decide_leave(Role::Teacher, true));
        assert!(may_file_leave(Role::Trainee, false, true));
        assert!(!may_file_leave(Role::Trainee, true, false));
        assert!(may_file_leave(Role::OrgFiller, true, false));
        assert!(!may_file_leave(Role::OrgFiller, false, false));
        assert!(may_file_leave(Role::TrainingHead, false, false));
        assert!(!may_file_leave(Role::Teacher, false, false));
        assert!(!may_file_leave(Role::Finance, false, false));
    }
}
