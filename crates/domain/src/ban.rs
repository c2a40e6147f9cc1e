//! Bans from training and exams (DSC-4, DSC-5), checked by enrolment (ENR-4)
//! and, later, by exam registration (EXM-2).

use chrono::NaiveDate;

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::wire::{StateMachine, wire_enum};

wire_enum! {
    /// What a ban covers (DSC-4).
    pub enum BanScope("ban_scope") {
        /// One program's training and exams (e.g. DSC-2 impersonation).
        Program => "program",
        /// All association training and exams (e.g. DSC-3 serious misconduct).
        All => "all",
    }
}

wire_enum! {
    /// Where a ban stands on a given day (derived from its dates and withdrawal).
    pub enum BanStatus("ban_status") {
        /// Starts later.
        Upcoming => "upcoming",
        /// In force today.
        Active => "active",
        /// Its end date has passed.
        Ended => "ended",
        /// Withdrawn by a training head (DSC-5).
        Withdrawn => "withdrawn",
    }
}

wire_enum! {
    /// Action on a ban.
    pub enum BanAction("ban_action") {
        /// Withdraw the ban with a reason (DSC-5: training head only).
        Withdraw => "withdraw",
    }
}

const BAN_MACHINE: StateMachine<BanStatus, BanAction> = StateMachine {
    entity: "ban",
    rule: Some("DSC-5"),
    edges: &[
        (
            BanStatus::Upcoming,
            BanAction::Withdraw,
            BanStatus::Withdrawn,
        ),
        (BanStatus::Active, BanAction::Withdraw, BanStatus::Withdrawn),
    ],
};

/// Applies `action` to a ban in `from` (DSC-5): only a ban that is not over
/// and not already withdrawn can be withdrawn.
pub fn ban_transition(from: BanStatus, action: BanAction) -> Result<BanStatus, InvalidTransition> {
    BAN_MACHINE.apply(from, action)
}

/// A ban as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// The ban's id (named in refusals, ENR-4).
    pub id: String,
    /// What it covers.
    pub scope: BanScope,
    /// The program of a `program` ban.
    pub program_id: Option<String>,
    /// First day of the ban (inclusive).
    pub starts_on: NaiveDate,
    /// Last day of the ban (inclusive).
    pub ends_on: NaiveDate,
    /// Whether a training head withdrew it (DSC-5).
    pub withdrawn: bool,
}

impl Ban {
    /// The ban's status on `today` (the association's local date).
    pub fn status(&self, today: NaiveDate) -> BanStatus {
        if self.withdrawn {
            BanStatus::Withdrawn
        } else if today < self.starts_on {
            BanStatus::Upcoming
        } else if today > self.ends_on {
            BanStatus::Ended
        } else {
            BanStatus::Active
        }
    }

    /// Whether the ban is in force on `today`: `starts_on <= today <= ends_on`
    /// and not withdrawn (DSC-4).
    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.status(today) == BanStatus::Active
    }

    /// Whether the ban covers `program_id`: scope `all`, or scope `program`
    /// naming that program (DSC-4).
    pub fn covers(&self, program_id: &str) -> bool {
        match self.scope {
            BanScope::All => true,
            BanScope::Program => self.program_id.as_deref() == Some(program_id),
        }
    }

    /// The refusal of an enrolment blocked by this ban (ENR-4: which ban and until when).
    pub fn refusal(&self) -> Refusal {
        let scope = match self.scope {
            BanScope::All => "all association training and exams".to_owned(),
            BanScope::Program => "this program".to_owned(),
        };
        Refusal::rule(
            "ENR-4",
            "person_banned",
            format!(
                "the person is banned from {scope} (ban {}, scope {}) until {}",
                self.id,
                self.scope,
                self.ends_on.format("%Y-%m-%d")
            ),
        )
    }
}

/// The first ban that blocks an enrolment in a class of `program_id` on `today`
/// (ENR-4, DSC-4): active and covering the program.
pub fn blocking_ban<'a>(bans: &'a [Ban], program_id: &str, today: NaiveDate) -> Option<&'a Ban> {
    bans.iter()
        .filter(|b| b.is_active(today) && b.covers(program_id))
        .max_by_key(|b| b.ends_on)
}

/// ENR-4: refuses when a ban blocks the enrolment, naming the ban and its end.
pub fn check_not_banned(bans: &[Ban], program_id: &str, today: NaiveDate) -> Result<(), Refusal> {
    match blocking_ban(bans, program_id, today) {
        Some(ban) => Err(ban.refusal()),
        None => Ok(()),
    }
}

/// Checks the fields of a new ban (DSC-4): a `program` ban names its program,
/// an `all` ban names none, and it starts no later than it ends.
pub fn validate_ban(
    scope: BanScope,
    has_program: bool,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    match (scope, has_program) {
        (BanScope::Program, false) => errors.push(FieldError::new(
            "program_id",
            "required",
            "a program ban names its program",
        )),
        (BanScope::All, true) => errors.push(FieldError::new(
            "program_id",
            "not_allowed",
            "a ban of scope all covers every program; leave program_id out",
        )),
        _ => {}
    }
    if starts_on > ends_on {
        errors.push(FieldError::new(
            "ends_on",
            "before_start",
            "the ban must end on or after its first day",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn ban(scope: BanScope, program: Option<&str>) -> Ban {
        Ban {
            id: "b1".into(),
            scope,
            program_id: program.map(str::to_owned),
            starts_on: d(3, 1),
            ends_on: d(3, 31),
            withdrawn: false,
        }
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(BanScope, BanStatus, BanAction);
    }

    #[test]
    fn ban_is_active_between_its_dates_inclusive_dsc_4() {
        // rule DSC-4: a ban has a start and an end
        let b = ban(BanScope::All, None);
        assert_eq!(b.status(d(2, 28)), BanStatus::Upcoming);
        assert_eq!(b.status(d(3, 1)), BanStatus::Active);
        assert_eq!(b.status(d(3, 31)), BanStatus::Active);
        assert_eq!(b.status(d(4, 1)), BanStatus::Ended);
        let w = Ban {
            withdrawn: true,
            ..b
        };
        assert_eq!(w.status(d(3, 15)), BanStatus::Withdrawn);
        assert!(!w.is_active(d(3, 15)));
    }

    #[test]
    fn blocking_ban_by_scope_enr_4() {
        // rule ENR-4: refused in the banned scope only
        let bans = vec![ban(BanScope::Program, Some("p1"))];
        assert!(blocking_ban(&bans, "p1", d(3, 10)).is_some());
        assert!(blocking_ban(&bans, "p2", d(3, 10)).is_none());
        assert!(blocking_ban(&bans, "p1", d(4, 1)).is_none());
        let all = vec![ban(BanScope::All, None)];
        assert!(blocking_ban(&all, "p2", d(3, 10)).is_some());
        assert!(blocking_ban(&[], "p2", d(3, 10)).is_none());
    }

    #[test]
    fn refusal_names_the_ban_and_its_end_enr_4() {
        // rule ENR-4: the API says which ban and until when
        let r = check_not_banned(&[ban(BanScope::All, None)], "p", d(3, 2)).unwrap_err();
        assert_eq!((r.code, r.rule), ("person_banned", Some("ENR-4")));
        assert!(r.detail.contains("ban b1"), "{}", r.detail);
        assert!(r.detail.contains("scope all"), "{}", r.detail);
        assert!(r.detail.contains("until 2026-03-31"), "{}", r.detail);
    }

    #[test]
    fn the_latest_ending_ban_is_named() {
        let mut long = ban(BanScope::All, None);
        long.id = "long".into();
        long.ends_on = d(12, 31);
        let bans = vec![ban(BanScope::All, None), long];
        assert_eq!(blocking_ban(&bans, "p", d(3, 5)).unwrap().id, "long");
    }

    #[test]
    fn new_ban_fields_dsc_4() {
        // rule DSC-4: scope, start and end
        assert!(validate_ban(BanScope::Program, true, d(3, 1), d(3, 1)).is_ok());
        assert!(validate_ban(BanScope::All, false, d(3, 1), d(4, 1)).is_ok());
        let e = validate_ban(BanScope::Program, false, d(3, 2), d(3, 1)).unwrap_err();
        let fields: Vec<_> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["program_id", "ends_on"]);
        assert!(validate_ban(BanScope::All, true, d(3, 1), d(4, 1)).is_err());
    }

    #[test]
    fn withdrawal_dsc_5() {
        // rule DSC-5
        assert_machine(
            BanStatus::ALL,
            BanAction::ALL,
            BAN_MACHINE.edges,
            ban_transition,
            |s| BAN_MACHINE.allowed(s),
            "ban",
            Some("DSC-5"),
        );
    }
}
