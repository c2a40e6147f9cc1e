//! Classes, their states and the preparation checklist (CLS-1 to CLS-3).
//!
//! A class (开班) is one run of a program: dates, place, capacity, class head,
//! teachers and a schedule of sessions (CLS-1). Before it starts, the training
//! officer works through the preparation checklist (培训项目实施作业单, seed 000
//! §6(3)1); a class with unchecked mandatory items cannot start (CLS-2). It
//! never holds more seats than its capacity (CLS-3).

use chrono::{NaiveDate, NaiveTime};

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::person::validate_name;
use crate::wire::{StateMachine, wire_enum};

/// The smallest capacity of a class (CLS-1).
pub const MIN_CAPACITY: i32 = 1;
/// The largest capacity of a class (CLS-1).
pub const MAX_CAPACITY: i32 = 1000;

wire_enum! {
    /// Where a class is in its life (CLS-1): `planned → open → in_progress →
    /// finished`, or `cancelled` from any state before `finished`.
    pub enum ClassStatus("class_status") {
        /// Scheduled; not yet taking enrolments.
        Planned => "planned",
        /// Open for enrolment.
        Open => "open",
        /// Running: the class has started.
        InProgress => "in_progress",
        /// Over.
        Finished => "finished",
        /// Cancelled, with a reason.
        Cancelled => "cancelled",
    }
}

wire_enum! {
    /// Action on a class (CLS-1).
    pub enum ClassAction("class_action") {
        /// Open a planned class for enrolment.
        Open => "open",
        /// Start an open class (CLS-2: checklist complete, start date reached).
        Start => "start",
        /// Finish a running class (not before its end date).
        Finish => "finish",
        /// Cancel a class that has not finished, with a reason.
        Cancel => "cancel",
    }
}

const CLASS_MACHINE: StateMachine<ClassStatus, ClassAction> = StateMachine {
    entity: "class",
    rule: Some("CLS-1"),
    edges: &[
        (ClassStatus::Planned, ClassAction::Open, ClassStatus::Open),
        (
            ClassStatus::Planned,
            ClassAction::Cancel,
            ClassStatus::Cancelled,
        ),
        (
            ClassStatus::Open,
            ClassAction::Start,
            ClassStatus::InProgress,
        ),
        (
            ClassStatus::Open,
            ClassAction::Cancel,
            ClassStatus::Cancelled,
        ),
        (
            ClassStatus::InProgress,
            ClassAction::Finish,
            ClassStatus::Finished,
        ),
        (
            ClassStatus::InProgress,
            ClassAction::Cancel,
            ClassStatus::Cancelled,
        ),
    ],
};

/// Applies `action` to a class in status `from` (CLS-1).
pub fn class_transition(
    from: ClassStatus,
    action: ClassAction,
) -> Result<ClassStatus, InvalidTransition> {
    CLASS_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a class in status `from` (CLS-1).
pub fn class_allowed_actions(from: ClassStatus) -> Vec<&'static str> {
    CLASS_MACHINE.allowed(from)
}

/// The details, schedule and checklist of a class can be changed only while it
/// is `planned` or `open` (CLS-1, CLS-2; code `class_not_editable`).
pub fn check_editable(status: ClassStatus) -> Result<(), Refusal> {
    if matches!(status, ClassStatus::Planned | ClassStatus::Open) {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CLS-1",
            "class_not_editable",
            format!("the class is {status}; only a planned or open class can be changed"),
        ))
    }
}

/// What the start rule needs to know about one checklist item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistState {
    /// The item's label.
    pub label: String,
    /// Whether the class may not start while it is unchecked.
    pub mandatory: bool,
    /// Whether it has been checked off.
    pub checked: bool,
}

/// A class can start (CLS-2) only when every mandatory checklist item is
/// checked (code `checklist_incomplete`, naming the unchecked items) and not
/// before its start date in the association's time zone (CLS-1, code
/// `class_not_started`). The checklist is checked first: it is what the
/// officer can do something about.
pub fn check_start(
    checklist: &[ChecklistState],
    start_date: NaiveDate,
    today: NaiveDate,
) -> Result<(), Refusal> {
    let unchecked: Vec<&str> = checklist
        .iter()
        .filter(|i| i.mandatory && !i.checked)
        .map(|i| i.label.as_str())
        .collect();
    if !unchecked.is_empty() {
        return Err(Refusal::rule(
            "CLS-2",
            "checklist_incomplete",
            format!(
                "the class cannot start: {} mandatory checklist item{} unchecked: {}",
                unchecked.len(),
                if unchecked.len() == 1 { " is" } else { "s are" },
                unchecked.join("; ")
            ),
        ));
    }
    if today < start_date {
        return Err(Refusal::rule(
            "CLS-1",
            "class_not_started",
            format!("the class starts on {start_date}; it cannot start on {today}"),
        ));
    }
    Ok(())
}

/// A class can finish only on or after its end date in the association's time
/// zone (CLS-1, code `class_not_ended`).
pub fn check_finish(end_date: NaiveDate, today: NaiveDate) -> Result<(), Refusal> {
    if today < end_date {
        Err(Refusal::rule(
            "CLS-1",
            "class_not_ended",
            format!("the class ends on {end_date}; it cannot finish on {today}"),
        ))
    } else {
        Ok(())
    }
}

/// The capacity may not drop below the seats already taken (CLS-3, code
/// `capacity_below_seats`).
pub fn check_capacity(capacity: i32, seats_taken: i64) -> Result<(), Refusal> {
    if i64::from(capacity) < seats_taken {
        Err(Refusal::rule(
            "CLS-3",
            "capacity_below_seats",
            format!(
                "{seats_taken} seats are already taken; the capacity cannot be lowered to {capacity}"
            ),
        ))
    } else {
        Ok(())
    }
}

/// Validates a class code (CLS-1): trimmed and upper-cased, 2–40 characters of
/// `A–Z`, `0–9` and `-` (like program codes), normally the program code plus
/// the year and a number, e.g. `GAS-SAFETY-2027-01` (field `code`, code
/// `class_code_format`).
pub fn normalize_class_code(raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    let ok = (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new(
            "code",
            "class_code_format",
            "a class code has 2 to 40 letters A-Z, digits and '-', e.g. GAS-SAFETY-2027-01",
        ))
    }
}

/// Validates a class title (field `title`, code `title_format`): trimmed, 2–200
/// characters, no control characters.
pub fn validate_class_title(raw: &str) -> Result<String, FieldError> {
    validate_text("title", raw, 2, 200, "title_format")
}

/// Validates a class's place (field `place`, code `place_format`): trimmed,
/// 2–200 characters, no control characters.
pub fn validate_place(raw: &str) -> Result<String, FieldError> {
    validate_text("place", raw, 2, 200, "place_format")
}

fn validate_text(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
    code: &'static str,
) -> Result<String, FieldError> {
    validate_name(
        raw,
        min,
        max,
        &format!("must have {min} to {max} characters and no control characters"),
    )
    .map_err(|e| FieldError::new(field, code, e.message))
}

/// A class's first day must not be after its last (field `end_date`, code
/// `date_order`).
pub fn check_class_dates(start_date: NaiveDate, end_date: NaiveDate) -> Result<(), FieldError> {
    if start_date <= end_date {
        Ok(())
    } else {
        Err(FieldError::new(
            "end_date",
            "date_order",
            "the end date must not be before the start date",
        ))
    }
}

/// Parses a session time written `HH:MM` (24-hour clock).
pub fn parse_session_time(field: &str, raw: &str) -> Result<NaiveTime, FieldError> {
    let well_formed = raw.len() == 5 && raw.as_bytes()[2] == b':';
    well_formed
        .then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| {
            FieldError::new(
                field,
                "time_format",
                "a time is written HH:MM on the 24-hour clock, e.g. 09:00",
            )
        })
}

/// Formats a session time as `HH:MM`.
pub fn format_session_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// One session of a class's schedule, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSlot {
    /// The day.
    pub date: NaiveDate,
    /// Start time (local).
    pub starts_at: NaiveTime,
    /// End time (local).
    pub ends_at: NaiveTime,
}

/// Checks a class's schedule (CLS-1): every session lies within the class's
/// dates and starts before it ends, and sessions of the same day do not
/// overlap. Problems name the session as `sessions[i].field`.
pub fn check_schedule(
    sessions: &[SessionSlot],
    start_date: NaiveDate,
    end_date: NaiveDate,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        if s.date < start_date || s.date > end_date {
            errors.push(FieldError::new(
                format!("sessions[{i}].session_date"),
                "session_outside_class",
                format!("the session must be between {start_date} and {end_date}"),
            ));
        }
        if s.starts_at >= s.ends_at {
            errors.push(FieldError::new(
                format!("sessions[{i}].ends_at"),
                "time_order",
                "a session must end after it starts",
            ));
            continue;
        }
        let overlaps = sessions[..i].iter().any(|o| {
            o.date == s.date
                && o.starts_at < o.ends_at
                && o.starts_at < s.ends_at
                && s.starts_at < o.ends_at
        });
        if overlaps {
            errors.push(FieldError::new(
                format!("sessions[{i}].starts_at"),
                "session_overlap",
                "the session overlaps an earlier session on the same day",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates a session topic (field `sessions[i].topic`): 1–200 characters.
pub fn validate_topic(index: usize, raw: &str) -> Result<String, FieldError> {
    validate_name(raw, 1, 200, "a topic has 1 to 200 characters").map_err(|e| {
        FieldError::new(
            format!("sessions[{index}].topic"),
            "topic_format",
            e.message,
        )
    })
}

/// Validates a checklist item label (field `label`, code `label_format`):
/// trimmed, 2–200 characters.
pub fn validate_checklist_label(raw: &str) -> Result<String, FieldError> {
    validate_text("label", raw, 2, 200, "label_format")
}

/// The preparation checklist every new class starts with (CLS-2,
/// 培训项目实施作业单, after the preparation steps of seed 000 §6(3)): label and
/// whether it is mandatory before the class starts. Items for the exam and the
/// certificates are prepared during the class, so they do not block the start.
/// Officers add class-specific items as needed.
pub const DEFAULT_CHECKLIST: &[(&str, bool)] = &[
    ("Training agreement signed (培训协议签订)", true),
    ("Class notice drafted and sent (开班通知)", true),
    ("Timetable fixed (课程表)", true),
    ("Venue booked and inspected (培训场地)", true),
    ("Teachers and class head confirmed (授课教师及班主任)", true),
    ("Teaching materials prepared (教材讲义)", true),
    (
        "Sign-in and attendance sheets printed (签到表、考勤表)",
        true,
    ),
    (
        "Practical training equipment and safety gear ready (实操设备及防护用品)",
        false,
    ),
    ("Theory exam papers prepared (理论考试试卷)", false),
    ("Practical exam set up (实操考核场地及设备)", false),
    (
        "Certificates and certificate receipt sheet prepared (证书及领取签收表)",
        false,
    ),
];

wire_enum! {
    /// Whether a checklist item has been done (CLS-2).
    pub enum ChecklistItemState("checklist_item_state") {
        /// Not yet done.
        Unchecked => "unchecked",
        /// Done: checked off with who and when.
        Checked => "checked",
    }
}

wire_enum! {
    /// Action on a checklist item (CLS-2).
    pub enum ChecklistAction("checklist_action") {
        /// Check the item off.
        Check => "check",
        /// Undo a check.
        Uncheck => "uncheck",
    }
}

const CHECKLIST_MACHINE: StateMachine<ChecklistItemState, ChecklistAction> = StateMachine {
    entity: "checklist_item",
    rule: Some("CLS-2"),
    edges: &[
        (
            ChecklistItemState::Unchecked,
            ChecklistAction::Check,
            ChecklistItemState::Checked,
        ),
        (
            ChecklistItemState::Checked,
            ChecklistAction::Uncheck,
            ChecklistItemState::Unchecked,
        ),
    ],
};

/// Applies `action` to a checklist item (CLS-2): an unchecked item can be
/// checked, a checked one unchecked; anything else answers with the allowed action.
pub fn checklist_transition(
    from: ChecklistItemState,
    action: ChecklistAction,
) -> Result<ChecklistItemState, InvalidTransition> {
    CHECKLIST_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a checklist item in state `from`.
pub fn checklist_allowed_actions(from: ChecklistItemState) -> Vec<&'static str> {
    CHECKLIST_MACHINE.allowed(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn class_enums_wire_names() {
        assert_wire_enums!(
            ClassStatus,
            ClassAction,
            ChecklistItemState,
            ChecklistAction
        );
    }

    #[test]
    fn class_state_machine_cls_1() {
        // rule CLS-1: planned → open → in_progress → finished, cancel before finished
        use ClassAction::*;
        use ClassStatus::*;
        assert_machine(
            ClassStatus::ALL,
            ClassAction::ALL,
            &[
                (Planned, ClassAction::Open, ClassStatus::Open),
                (Planned, Cancel, Cancelled),
                (ClassStatus::Open, Start, InProgress),
                (ClassStatus::Open, Cancel, Cancelled),
                (InProgress, Finish, Finished),
                (InProgress, Cancel, Cancelled),
            ],
            class_transition,
            class_allowed_actions,
            "class",
            Some("CLS-1"),
        );
        assert!(class_allowed_actions(Finished).is_empty());
        assert!(class_allowed_actions(Cancelled).is_empty());
    }

    #[test]
    fn only_planned_or_open_classes_change_cls_1() {
        // rule CLS-1
        for &s in ClassStatus::ALL {
            let r = check_editable(s);
            if matches!(s, ClassStatus::Planned | ClassStatus::Open) {
                assert!(r.is_ok());
            } else {
                assert_eq!(r.unwrap_err().code, "class_not_editable");
            }
        }
    }

    fn item(label: &str, mandatory: bool, checked: bool) -> ChecklistState {
        ChecklistState {
            label: label.to_owned(),
            mandatory,
            checked,
        }
    }

    #[test]
    fn start_needs_every_mandatory_item_cls_2() {
        // rule CLS-2: the refusal names the unchecked mandatory items
        let start = d(2026, 4, 1);
        let list = vec![
            item("Venue booked", true, false),
            item("Exam papers", false, false),
            item("Teachers confirmed", true, true),
            item("Timetable fixed", true, false),
        ];
        let r = check_start(&list, start, start).unwrap_err();
        assert_eq!((r.code, r.rule), ("checklist_incomplete", Some("CLS-2")));
        assert!(r.detail.contains("Venue booked"));
        assert!(r.detail.contains("Timetable fixed"));
        assert!(!r.detail.contains("Exam papers"));
        assert!(!r.detail.contains("Teachers confirmed"));
        let done: Vec<_> = list
            .into_iter()
            .map(|mut i| {
                i.checked |= i.mandatory;
                i
            })
            .collect();
        assert!(check_start(&done, start, start).is_ok());
        assert!(check_start(&[], start, start).is_ok());
    }

    #[test]
    fn start_not_before_the_start_date_cls_1() {
        // rule CLS-1: the day before is refused, the start day and later allowed
        let start = d(2026, 4, 1);
        let r = check_start(&[], start, d(2026, 3, 31)).unwrap_err();
        assert_eq!((r.code, r.rule), ("class_not_started", Some("CLS-1")));
        assert!(check_start(&[], start, start).is_ok());
        assert!(check_start(&[], start, d(2026, 4, 2)).is_ok());
    }

    #[test]
    fn finish_not_before_the_end_date_cls_1() {
        // rule CLS-1
        let end = d(2026, 4, 5);
        assert_eq!(
            check_finish(end, d(2026, 4, 4)).unwrap_err().code,
            "class_not_ended"
        );
        assert!(check_finish(end, end).is_ok());
    }

    #[test]
    fn capacity_not_below_seats_cls_3() {
        // rule CLS-3
        assert!(check_capacity(10, 10).is_ok());
        assert!(check_capacity(10, 0).is_ok());
        let r = check_capacity(9, 10).unwrap_err();
        assert_eq!((r.code, r.rule), ("capacity_below_seats", Some("CLS-3")));
    }

    #[test]
    fn class_codes() {
        assert_eq!(
            normalize_class_code(" gas-safety-2027-01 ").unwrap(),
            "GAS-SAFETY-2027-01"
        );
        assert!(normalize_class_code("AB").is_ok());
        assert!(normalize_class_code(&"A".repeat(40)).is_ok());
        for bad in ["A", "", &"A".repeat(41), "GAS 2027", "GAS_2027", "燃气-01"] {
            assert_eq!(
                normalize_class_code(bad).unwrap_err().code,
                "class_code_format",
                "{bad}"
            );
        }
    }

    #[test]
    fn titles_places_labels() {
        assert_eq!(validate_class_title(" Gas safety ").unwrap(), "Gas safety");
        assert_eq!(validate_class_title("x").unwrap_err().field, "title");
        assert_eq!(validate_place("\t").unwrap_err().field, "place");
        assert_eq!(
            validate_checklist_label("a").unwrap_err().code,
            "label_format"
        );
        assert_eq!(
            validate_topic(3, "").unwrap_err().field,
            "sessions[3].topic"
        );
        assert!(check_class_dates(d(2026, 4, 1), d(2026, 4, 1)).is_ok());
        assert_eq!(
            check_class_dates(d(2026, 4, 2), d(2026, 4, 1))
                .unwrap_err()
                .field,
            "end_date"
        );
    }

    #[test]
    fn session_times_are_hh_mm() {
        assert_eq!(parse_session_time("x", "09:30").unwrap(), t(9, 30));
        assert_eq!(parse_session_time("x", "23:59").unwrap(), t(23, 59));
        for bad in ["9:30", "24:00", "09:60", "09:30:00", "0930", "", "ab:cd"] {
            assert_eq!(
                parse_session_time("x", bad).unwrap_err().code,
                "time_format",
                "{bad}"
            );
        }
        assert_eq!(format_session_time(t(8, 5)), "08:05");
    }

    #[test]
    fn schedule_within_class_dates_cls_1() {
        // rule CLS-1
        let (start, end) = (d(2026, 4, 1), d(2026, 4, 3));
        let slot = |date, a, b| SessionSlot {
            date,
            starts_at: a,
            ends_at: b,
        };
        let good = vec![
            slot(start, t(9, 0), t(12, 0)),
            slot(start, t(12, 0), t(17, 0)),
            slot(end, t(9, 0), t(12, 0)),
        ];
        assert!(check_schedule(&good, start, end).is_ok());
        let bad = vec![
            slot(d(2026, 3, 31), t(9, 0), t(12, 0)),
            slot(start, t(12, 0), t(12, 0)),
            slot(d(2026, 4, 2), t(9, 0), t(12, 0)),
            slot(d(2026, 4, 2), t(11, 0), t(13, 0)),
            slot(d(2026, 4, 4), t(9, 0), t(10, 0)),
        ];
        let errors = check_schedule(&bad, start, end).unwrap_err();
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("sessions[0].session_date", "session_outside_class"),
                ("sessions[1].ends_at", "time_order"),
                ("sessions[3].starts_at", "session_overlap"),
                ("sessions[4].session_date", "session_outside_class"),
            ]
        );
    }

    #[test]
    fn default_checklist_cls_2() {
        // rule CLS-2: a sensible default, with the preparation steps mandatory
        assert!(DEFAULT_CHECKLIST.len() >= 8);
        assert!(DEFAULT_CHECKLIST.iter().any(|(_, m)| *m));
        assert!(DEFAULT_CHECKLIST.iter().any(|(_, m)| !*m));
        for (label, _) in DEFAULT_CHECKLIST {
            assert!(validate_checklist_label(label).is_ok(), "{label}");
        }
    }

    #[test]
    fn checklist_machine_cls_2() {
        // rule CLS-2
        use ChecklistAction::*;
        use ChecklistItemState::*;
        assert_machine(
            ChecklistItemState::ALL,
            ChecklistAction::ALL,
            &[(Unchecked, Check, Checked), (Checked, Uncheck, Unchecked)],
            checklist_transition,
            checklist_allowed_actions,
            "checklist_item",
            Some("CLS-2"),
        );
    }
}
