//! The association board's terms and part-time teacher appointments
//! (TCH-1, TCH-2).
//!
//! Teachers are appointed for one board term (seed 000 §5: 聘期四年，与协会理事会
//! 届期一致，一届一聘). A term is data: a name and its first and last day. An
//! appointment is stored as `appointed` or `dismissed`; whether it has `ended`
//! is computed from the term and today's date in the association's time zone,
//! so nothing has to run when a term ends.

use chrono::{Months, NaiveDate};

use crate::account::UserStatus;
use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::notice::NoticeText;
use crate::person::validate_name;
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

/// The shortest board term accepted, in years (TCH-1).
pub const MIN_TERM_YEARS: u32 = 1;
/// The longest board term accepted, in years (TCH-1). SPEC says a term is 4
/// years; terms are data, so a shortened or slightly extended term (a board
/// elected late) is accepted, but nothing beyond 5 years.
pub const MAX_TERM_YEARS: u32 = 5;

/// Validates a term name (TCH-1): trimmed, 2–64 characters, no control
/// characters (field `name`, code `name_format`).
pub fn validate_term_name(raw: &str) -> Result<String, FieldError> {
    validate_name(raw, 2, 64, "the term name must have 2 to 64 characters")
}

/// The day on which a term of `years` starting on `starts_on` ends (its last
/// day): `2026-01-01` + 4 years → `2029-12-31`.
fn last_day_after_years(starts_on: NaiveDate, years: u32) -> Option<NaiveDate> {
    starts_on
        .checked_add_months(Months::new(years * 12))
        .and_then(|d| d.pred_opt())
}

/// Checks a term's dates (TCH-1): `starts_on` and `ends_on` are the first and
/// last day of the term, both included, and the term lasts between
/// [`MIN_TERM_YEARS`] and [`MAX_TERM_YEARS`] years: `ends_on` is on or after
/// the last day of a 1-year term and on or before the last day of a 5-year
/// term from `starts_on`. A regular 4-year term is `2026-01-01`–`2029-12-31`.
pub fn check_term_dates(starts_on: NaiveDate, ends_on: NaiveDate) -> Result<(), Refusal> {
    let shortest = last_day_after_years(starts_on, MIN_TERM_YEARS);
    let longest = last_day_after_years(starts_on, MAX_TERM_YEARS);
    match (shortest, longest) {
        (Some(min), Some(max)) if (min..=max).contains(&ends_on) => Ok(()),
        _ => Err(Refusal::rule(
            "TCH-1",
            "term_length",
            format!(
                "a board term lasts {MIN_TERM_YEARS} to {MAX_TERM_YEARS} years (normally 4): \
                 a term starting on {starts_on} must end between {} and {}",
                shortest.map_or_else(|| "?".to_owned(), |d| d.to_string()),
                longest.map_or_else(|| "?".to_owned(), |d| d.to_string()),
            ),
        )),
    }
}

wire_enum! {
    /// Status of a teacher appointment (TCH-1, TCH-2). Only `appointed` and
    /// `dismissed` are stored; `ended` is computed when the term is over.
    pub enum AppointmentStatus("appointment_status") {
        /// Appointed for the term; valid until the term's last day.
        Appointed => "appointed",
        /// The term is over (the day after its last day, association time zone).
        Ended => "ended",
        /// Dismissed before the end of the term (TCH-2).
        Dismissed => "dismissed",
    }
}

wire_enum! {
    /// Action on a teacher appointment (TCH-2).
    pub enum AppointmentAction("appointment_action") {
        /// Dismiss the teacher; the dismissal is listed publicly.
        Dismiss => "dismiss",
    }
}

const APPOINTMENT_MACHINE: StateMachine<AppointmentStatus, AppointmentAction> = StateMachine {
    entity: "teacher_appointment",
    rule: Some("TCH-2"),
    edges: &[(
        AppointmentStatus::Appointed,
        AppointmentAction::Dismiss,
        AppointmentStatus::Dismissed,
    )],
};

/// Applies `action` to an appointment whose status (as computed by
/// [`appointment_status`]) is `from` (TCH-2): only a running appointment can
/// be dismissed; an ended or dismissed one cannot.
pub fn appointment_transition(
    from: AppointmentStatus,
    action: AppointmentAction,
) -> Result<AppointmentStatus, InvalidTransition> {
    APPOINTMENT_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on an appointment in status `from`.
pub fn appointment_allowed_actions(from: AppointmentStatus) -> Vec<&'static str> {
    APPOINTMENT_MACHINE.allowed(from)
}

/// The status of an appointment on `today` (the association's local date),
/// TCH-1: appointments end with the term. A dismissed appointment stays
/// `dismissed`; otherwise it is `appointed` up to and including the term's
/// last day (also before the term has begun: the appointment is made) and
/// `ended` from the day after.
pub fn appointment_status(
    stored: AppointmentStatus,
    term_ends_on: NaiveDate,
    today: NaiveDate,
) -> AppointmentStatus {
    match stored {
        AppointmentStatus::Dismissed => AppointmentStatus::Dismissed,
        _ if today > term_ends_on => AppointmentStatus::Ended,
        _ => AppointmentStatus::Appointed,
    }
}

/// Only an active account with the role `teacher` can be appointed (TCH-1,
/// code `not_a_teacher`).
pub fn check_appointable(role: Role, status: UserStatus) -> Result<(), Refusal> {
    if role != Role::Teacher {
        return Err(Refusal::rule(
            "TCH-1",
            "not_a_teacher",
            format!("only a teacher account can be appointed; this account is a {role}"),
        ));
    }
    if status != UserStatus::Active {
        return Err(Refusal::rule(
            "TCH-1",
            "not_a_teacher",
            "the teacher's account is disabled; enable it first",
        ));
    }
    Ok(())
}

/// Appointments are made for a term that has not ended yet (TCH-1, code
/// `term_ended`): a teacher appointed for a past term could never teach.
pub fn check_term_not_ended(
    term_name: &str,
    term_ends_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if today > term_ends_on {
        Err(Refusal::rule(
            "TCH-1",
            "term_ended",
            format!(
                "the term {term_name} ended on {term_ends_on}; appoint for a current or future term"
            ),
        ))
    } else {
        Ok(())
    }
}

/// What the rule TCH-1 needs to know about one of a teacher's appointments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermAppointment {
    /// The stored status (`appointed` or `dismissed`).
    pub status: AppointmentStatus,
    /// The term's first day.
    pub term_starts_on: NaiveDate,
    /// The term's last day.
    pub term_ends_on: NaiveDate,
}

/// A teacher can be class head or class teacher of a class running from
/// `class_start` to `class_end` only with an appointment that is not dismissed
/// and whose term covers the class's dates (TCH-1, code `teacher_not_appointed`).
/// `who` names the teacher in the refusal.
pub fn check_can_teach(
    who: &str,
    appointments: &[TermAppointment],
    class_start: NaiveDate,
    class_end: NaiveDate,
) -> Result<(), Refusal> {
    let covered = appointments.iter().any(|a| {
        a.status != AppointmentStatus::Dismissed
            && a.term_starts_on <= class_start
            && class_end <= a.term_ends_on
    });
    if covered {
        Ok(())
    } else {
        Err(Refusal::rule(
            "TCH-1",
            "teacher_not_appointed",
            format!(
                "{who} has no current teacher appointment for a term covering \
                 {class_start} to {class_end}; appoint them first"
            ),
        ))
    }
}

/// Normalises the subjects a teacher is appointed for: trimmed, empty entries
/// and duplicates dropped, each at most 100 characters, at most 20 (field
/// `subjects`, code `subjects_format`).
pub fn normalize_subjects(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for s in raw {
        let s = s.trim();
        if s.is_empty() || out.iter().any(|o| o == s) {
            continue;
        }
        if s.chars().count() > 100 || s.chars().any(char::is_control) {
            return Err(FieldError::new(
                "subjects",
                "subjects_format",
                "each subject has at most 100 characters and no control characters",
            ));
        }
        out.push(s.to_owned());
    }
    if out.len() > 20 {
        return Err(FieldError::new(
            "subjects",
            "subjects_format",
            "at most 20 subjects",
        ));
    }
    Ok(out)
}

/// The public notice of a dismissal (TCH-2, seed 000 §5: 在协会网站公示). It
/// names the teacher (display name only, nothing else personal), the term and
/// the reason as given by the association.
pub fn dismissal_notice(teacher_name: &str, term_name: &str, reason: &str) -> NoticeText {
    NoticeText {
        title: format!("Dismissal of part-time teacher {teacher_name}"),
        body: format!(
            "The association has ended the appointment of {teacher_name} as a part-time \
             teacher for the board term {term_name}. Reason: {reason}"
        ),
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
    fn appointment_enums_wire_names() {
        assert_wire_enums!(AppointmentStatus, AppointmentAction);
    }

    #[test]
    fn term_lasts_one_to_five_years_tch_1() {
        // rule TCH-1: the regular term is 4 years
        assert!(check_term_dates(d(2026, 1, 1), d(2029, 12, 31)).is_ok());
        // edges: exactly 1 year and exactly 5 years
        assert!(check_term_dates(d(2026, 1, 1), d(2026, 12, 31)).is_ok());
        assert!(check_term_dates(d(2026, 1, 1), d(2030, 12, 31)).is_ok());
        for (s, e) in [
            (d(2026, 1, 1), d(2026, 12, 30)),
            (d(2026, 1, 1), d(2031, 1, 1)),
            (d(2026, 1, 1), d(2025, 12, 31)),
            (d(2026, 1, 1), d(2026, 1, 1)),
        ] {
            let r = check_term_dates(s, e).unwrap_err();
            assert_eq!((r.code, r.rule), ("term_length", Some("TCH-1")), "{s}..{e}");
        }
        // a term starting on 29 February
        assert!(check_term_dates(d(2028, 2, 29), d(2032, 2, 28)).is_ok());
    }

    #[test]
    fn term_names() {
        assert_eq!(validate_term_name(" 第五届 ").unwrap(), "第五届");
        assert!(validate_term_name("x").is_err());
    }

    #[test]
    fn appointments_end_with_the_term_tch_1() {
        // rule TCH-1: appointed up to the term's last day, ended the day after
        use AppointmentStatus::*;
        let end = d(2029, 12, 31);
        assert_eq!(appointment_status(Appointed, end, d(2026, 1, 1)), Appointed);
        assert_eq!(appointment_status(Appointed, end, end), Appointed);
        assert_eq!(appointment_status(Appointed, end, d(2030, 1, 1)), Ended);
        assert_eq!(appointment_status(Dismissed, end, d(2027, 1, 1)), Dismissed);
        assert_eq!(appointment_status(Dismissed, end, d(2031, 1, 1)), Dismissed);
        // before the term begins the appointment is made
        assert_eq!(appointment_status(Appointed, end, d(2025, 6, 1)), Appointed);
    }

    #[test]
    fn only_active_teacher_accounts_are_appointed_tch_1() {
        // rule TCH-1
        assert!(check_appointable(Role::Teacher, UserStatus::Active).is_ok());
        for (role, status) in [
            (Role::Teacher, UserStatus::Disabled),
            (Role::TrainingOfficer, UserStatus::Active),
            (Role::Trainee, UserStatus::Active),
        ] {
            let r = check_appointable(role, status).unwrap_err();
            assert_eq!((r.code, r.rule), ("not_a_teacher", Some("TCH-1")));
        }
    }

    #[test]
    fn no_appointments_for_ended_terms_tch_1() {
        // rule TCH-1
        let end = d(2029, 12, 31);
        assert!(check_term_not_ended("T", end, end).is_ok());
        let r = check_term_not_ended("T", end, d(2030, 1, 1)).unwrap_err();
        assert_eq!((r.code, r.rule), ("term_ended", Some("TCH-1")));
    }

    #[test]
    fn appointment_machine_tch_2() {
        // rule TCH-2: only a running appointment can be dismissed
        use AppointmentAction::*;
        use AppointmentStatus::*;
        assert_machine(
            AppointmentStatus::ALL,
            AppointmentAction::ALL,
            &[(Appointed, Dismiss, Dismissed)],
            appointment_transition,
            appointment_allowed_actions,
            "teacher_appointment",
            Some("TCH-2"),
        );
    }

    #[test]
    fn teaching_needs_a_covering_appointment_tch_1() {
        // rule TCH-1
        let term = TermAppointment {
            status: AppointmentStatus::Appointed,
            term_starts_on: d(2026, 1, 1),
            term_ends_on: d(2029, 12, 31),
        };
        assert!(check_can_teach("T", &[term], d(2026, 1, 1), d(2029, 12, 31)).is_ok());
        assert!(check_can_teach("T", &[term], d(2027, 3, 1), d(2027, 3, 5)).is_ok());
        for (s, e) in [
            (d(2025, 12, 31), d(2026, 1, 3)),
            (d(2029, 12, 30), d(2030, 1, 2)),
        ] {
            let r = check_can_teach("Teacher Li", &[term], s, e).unwrap_err();
            assert_eq!((r.code, r.rule), ("teacher_not_appointed", Some("TCH-1")));
            assert!(r.detail.contains("Teacher Li"));
        }
        assert!(check_can_teach("T", &[], d(2027, 3, 1), d(2027, 3, 5)).is_err());
        let dismissed = TermAppointment {
            status: AppointmentStatus::Dismissed,
            ..term
        };
        assert!(check_can_teach("T", &[dismissed], d(2027, 3, 1), d(2027, 3, 5)).is_err());
        // another term's appointment helps
        let next = TermAppointment {
            status: AppointmentStatus::Appointed,
            term_starts_on: d(2030, 1, 1),
            term_ends_on: d(2033, 12, 31),
        };
        assert!(check_can_teach("T", &[dismissed, next], d(2030, 3, 1), d(2030, 3, 5)).is_ok());
    }

    #[test]
    fn subjects_are_trimmed_and_deduplicated() {
        let raw = vec![
            " Gas safety ".to_owned(),
            String::new(),
            "Gas safety".to_owned(),
        ];
        assert_eq!(normalize_subjects(&raw).unwrap(), ["Gas safety"]);
        let many: Vec<String> = (0..21).map(|i| format!("s{i}")).collect();
        assert_eq!(
            normalize_subjects(&many).unwrap_err().code,
            "subjects_format"
        );
        assert!(normalize_subjects(&["x".repeat(101)]).is_err());
    }

    #[test]
    fn dismissal_notice_names_teacher_term_and_reason_tch_2() {
        // rule TCH-2
        let n = dismissal_notice("Li Lei", "Fifth board term", "violated regulations");
        assert!(n.title.contains("Li Lei"));
        assert!(n.body.contains("Fifth board term"));
        assert!(n.body.contains("violated regulations"));
    }
}
