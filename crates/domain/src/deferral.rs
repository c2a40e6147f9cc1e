//! Deferral, substitution and no-show (DEF-1 to DEF-4, seed 000 §6(3)3).
//!
//! - A deferral (延期) is filed for a paid enrolment, with the stamped request
//!   letter's document reference, no later than the day before the class
//!   starts in the association's time zone (DEF-1). A training head approves
//!   it: the enrolment becomes `deferred` and gives up its seat. The trainee
//!   then transfers to a later class of the same program starting in the same
//!   calendar year without paying again (DEF-2): the money and the charges
//!   move in the ledger.
//! - A substitution (变更参培人员) puts another person of the same organisation
//!   on the enrolment, filed by the organisation by the same deadline (DEF-3).
//! - A paid trainee who did not come and filed no deferral in time is a
//!   `no_show` once the class has started: no further class, no refund (DEF-4).

use chrono::{Datelike, NaiveDate};

use crate::class::ClassStatus;
use crate::enrolment::{Channel, EnrolmentStatus};
use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::fees::{Balance, Entry, FeeItem, LedgerKind};
use crate::money::Fen;
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

/// The longest document reference of a stamped request letter (DEF-1).
pub const LETTER_REFERENCE_MAX: usize = 200;

wire_enum! {
    /// Where a deferral stands (DEF-1, DEF-2): `submitted → approved →
    /// transferred`, or `submitted → rejected`.
    pub enum DeferralStatus("deferral_status") {
        /// Filed; waits for a training head.
        Submitted => "submitted",
        /// Approved: the enrolment is `deferred` and may move to a later class.
        Approved => "approved",
        /// Rejected with a reason; the enrolment stays as it was.
        Rejected => "rejected",
        /// The trainee moved to a later class (DEF-2); closed.
        Transferred => "transferred",
    }
}

impl DeferralStatus {
    /// Whether the deferral is still open (submitted, or approved and not yet
    /// transferred): an enrolment has at most one open deferral (DEF-1).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Approved)
    }

    /// The open statuses, as stored.
    pub fn open() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect()
    }
}

wire_enum! {
    /// An action on a deferral: `POST /deferrals/{id}/{action}`.
    pub enum DeferralAction("deferral_action") {
        /// A training head agrees (DEF-1): the enrolment is deferred and its seat freed.
        Approve => "approve",
        /// A training head refuses, with a reason (DEF-1).
        Reject => "reject",
        /// Move the deferred trainee to a later class of the same program (DEF-2).
        Transfer => "transfer",
    }
}

const DEFERRAL_MACHINE: StateMachine<DeferralStatus, DeferralAction> = StateMachine {
    entity: "deferral",
    rule: Some("DEF-1"),
    edges: &[
        (
            DeferralStatus::Submitted,
            DeferralAction::Approve,
            DeferralStatus::Approved,
        ),
        (
            DeferralStatus::Submitted,
            DeferralAction::Reject,
            DeferralStatus::Rejected,
        ),
        (
            DeferralStatus::Approved,
            DeferralAction::Transfer,
            DeferralStatus::Transferred,
        ),
    ],
};

/// Applies `action` to a deferral in `from` (DEF-1, DEF-2, API-4): only a
/// submitted deferral is decided, only an approved one is transferred.
pub fn deferral_transition(
    from: DeferralStatus,
    action: DeferralAction,
) -> Result<DeferralStatus, InvalidTransition> {
    DEFERRAL_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a deferral in `from`.
pub fn deferral_allowed_actions(from: DeferralStatus) -> Vec<&'static str> {
    DEFERRAL_MACHINE.allowed(from)
}

wire_enum! {
    /// Where a substitution stands (DEF-3): `submitted → approved | rejected`.
    pub enum SubstitutionStatus("substitution_status") {
        /// Filed by the organisation; waits for the association.
        Submitted => "submitted",
        /// Approved: the enrolment moved to the new person.
        Approved => "approved",
        /// Rejected with a reason; the enrolment keeps its person.
        Rejected => "rejected",
    }
}

wire_enum! {
    /// An action on a substitution: `POST /substitutions/{id}/{action}`.
    pub enum SubstitutionAction("substitution_action") {
        /// The association agrees: the enrolment moves to the new person (DEF-3).
        Approve => "approve",
        /// The association refuses, with a reason.
        Reject => "reject",
    }
}

const SUBSTITUTION_MACHINE: StateMachine<SubstitutionStatus, SubstitutionAction> = StateMachine {
    entity: "substitution",
    rule: Some("DEF-3"),
    edges: &[
        (
            SubstitutionStatus::Submitted,
            SubstitutionAction::Approve,
            SubstitutionStatus::Approved,
        ),
        (
            SubstitutionStatus::Submitted,
            SubstitutionAction::Reject,
            SubstitutionStatus::Rejected,
        ),
    ],
};

/// Applies `action` to a substitution in `from` (DEF-3, API-4).
pub fn substitution_transition(
    from: SubstitutionStatus,
    action: SubstitutionAction,
) -> Result<SubstitutionStatus, InvalidTransition> {
    SUBSTITUTION_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a substitution in `from`.
pub fn substitution_allowed_actions(from: SubstitutionStatus) -> Vec<&'static str> {
    SUBSTITUTION_MACHINE.allowed(from)
}

/// Who may file a deferral or transfer a deferred trainee (DEF-1, DEF-2): the
/// enrolment's organisation (filler or reviewer), the individual trainee, and
/// training staff on their behalf. Ownership is checked by [`may_file`].
pub const DEFERRAL_FILERS: &[Role] = &[
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
];

/// Who approves or rejects a deferral (DEF-1: "a training head approves"; the
/// administrator may do everything).
pub const DEFERRAL_DECIDERS: &[Role] = &[Role::TrainingHead, Role::Admin];

/// Who files a substitution (DEF-3: the organisation, its filler or reviewer).
pub const SUBSTITUTION_FILERS: &[Role] = &[Role::OrgFiller, Role::OrgReviewer];

/// Who approves or rejects a substitution (DEF-3): training staff.
pub const SUBSTITUTION_DECIDERS: &[Role] =
    &[Role::TrainingOfficer, Role::TrainingHead, Role::Admin];

/// Whether `role` may file a deferral (or transfer) for this enrolment:
/// organisation accounts for their own organisation's enrolments (ACC-2), a
/// trainee for their own individual enrolment, training staff for any.
pub fn may_file(role: Role, channel: Channel, own_organisation: bool, own_person: bool) -> bool {
    if !DEFERRAL_FILERS.contains(&role) {
        return false;
    }
    match role {
        Role::OrgFiller | Role::OrgReviewer => channel == Channel::Organisation && own_organisation,
        Role::Trainee => channel == Channel::Individual && own_person,
        _ => true,
    }
}

/// The filing deadline shared by DEF-1 and DEF-3: the association's local date
/// at filing must be before the class's start date, i.e. filed no later than
/// 23:59:59 of the day before the start.
fn check_before_start(
    rule: &'static str,
    code: &'static str,
    what: &str,
    today: NaiveDate,
    start_date: NaiveDate,
) -> Result<(), Refusal> {
    if today < start_date {
        Ok(())
    } else {
        Err(Refusal::rule(
            rule,
            code,
            format!(
                "a {what} must be filed no later than the day before the class starts \
                 ({start_date}, association time); today is {today}"
            ),
        ))
    }
}

/// DEF-1: a deferral is filed no later than the day before the class start
/// date (`today` is the association's local date of the filing).
pub fn check_deferral_in_time(today: NaiveDate, start_date: NaiveDate) -> Result<(), Refusal> {
    check_before_start("DEF-1", "deferral_too_late", "deferral", today, start_date)
}

/// DEF-3: a substitution is filed no later than the day before the class start date.
pub fn check_substitution_in_time(today: NaiveDate, start_date: NaiveDate) -> Result<(), Refusal> {
    check_before_start(
        "DEF-3",
        "substitution_too_late",
        "substitution",
        today,
        start_date,
    )
}

/// The refusal for an enrolment that is a `no_show` (DEF-4): no further class
/// is arranged and no refund is made.
fn no_show_refusal() -> Refusal {
    Refusal::rule(
        "DEF-4",
        "enrolment_no_show",
        "the trainee did not attend and filed no deferral in time (no_show): \
         no further class is arranged and nothing is refunded",
    )
}

/// DEF-1: only a paid enrolment (`paid` or `notified`) is deferred; an unpaid
/// one is simply withdrawn (`POST /enrolments/{id}/cancel`). A `no_show` is
/// never deferred (DEF-4); a deferred or transferred one already was.
pub fn check_deferrable(status: EnrolmentStatus) -> Result<(), Refusal> {
    match status {
        EnrolmentStatus::Paid | EnrolmentStatus::Notified => Ok(()),
        EnrolmentStatus::NoShow => Err(no_show_refusal()),
        EnrolmentStatus::Deferred | EnrolmentStatus::Transferred => Err(Refusal::rule(
            "DEF-1",
            "already_deferred",
            format!("the enrolment is already {status}"),
        )),
        other => Err(Refusal::rule(
            "DEF-1",
            "deferral_requires_payment",
            format!(
                "the enrolment is {other}: only a paid enrolment is deferred; \
                 an unpaid one is simply withdrawn (cancel)"
            ),
        )),
    }
}

/// The enrolment status an approved deferral leaves (DEF-1): `deferred`,
/// which holds no seat. The enrolment must still be paid up.
pub fn status_after_deferral(status: EnrolmentStatus) -> Result<EnrolmentStatus, Refusal> {
    check_deferrable(status).map(|()| EnrolmentStatus::Deferred)
}

/// DEF-2, DEF-4: only a `deferred` enrolment moves to a later class; a
/// `no_show` or an enrolment that was never deferred is never transferred.
pub fn status_after_transfer(status: EnrolmentStatus) -> Result<EnrolmentStatus, Refusal> {
    match status {
        EnrolmentStatus::Deferred => Ok(EnrolmentStatus::Transferred),
        EnrolmentStatus::NoShow => Err(no_show_refusal()),
        other => Err(Refusal::rule(
            "DEF-4",
            "enrolment_not_deferred",
            format!("the enrolment is {other}: only a deferred enrolment moves to a later class"),
        )),
    }
}

/// A class that is over or cancelled takes no deferral or substitution
/// (`rule` names the request's rule; code `class_closed`). A cancelled class's
/// paid enrolments are refunded instead (REF-1).
pub fn check_class_not_closed(status: ClassStatus, rule: &'static str) -> Result<(), Refusal> {
    match status {
        ClassStatus::Cancelled | ClassStatus::Finished => Err(Refusal::rule(
            rule,
            "class_closed",
            format!("the class is {status}"),
        )),
        _ => Ok(()),
    }
}

/// What the transfer rule needs to know about a class (DEF-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassFacts<'a> {
    /// The class's program.
    pub program_id: &'a str,
    /// Its first day.
    pub start_date: NaiveDate,
    /// Its status.
    pub status: ClassStatus,
}

/// DEF-2: the class a deferred trainee joins must be of the same program
/// (`transfer_other_program`), start later than the original class
/// (`transfer_not_later`), in the same calendar year as the original class's
/// start (`transfer_other_year`), and still take enrolments, i.e. be planned
/// or open (`transfer_class_not_open`).
pub fn check_transfer_target(
    original: &ClassFacts<'_>,
    target: &ClassFacts<'_>,
) -> Result<(), Refusal> {
    if target.program_id != original.program_id {
        return Err(Refusal::rule(
            "DEF-2",
            "transfer_other_program",
            "a deferred trainee joins a later class of the same program",
        ));
    }
    if target.start_date <= original.start_date {
        return Err(Refusal::rule(
            "DEF-2",
            "transfer_not_later",
            format!(
                "the class starts on {}, not later than the original class ({})",
                target.start_date, original.start_date
            ),
        ));
    }
    if target.start_date.year() != original.start_date.year() {
        return Err(Refusal::rule(
            "DEF-2",
            "transfer_other_year",
            format!(
                "the class starts in {}; a deferral carries over within {} only",
                target.start_date.year(),
                original.start_date.year()
            ),
        ));
    }
    if !matches!(target.status, ClassStatus::Planned | ClassStatus::Open) {
        return Err(Refusal::rule(
            "DEF-2",
            "transfer_class_not_open",
            format!(
                "the class is {}; a trainee joins only a planned or open class",
                target.status
            ),
        ));
    }
    Ok(())
}

/// CLS-3: a transferred trainee takes a seat at once, so the later class must
/// have one free (`class_full`); there is no waiting list for transfers.
pub fn check_transfer_seat(seats_taken: i64, capacity: i32) -> Result<(), Refusal> {
    if seats_taken < i64::from(capacity) {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CLS-3",
            "class_full",
            format!("all {capacity} seats of the later class are taken; choose another class"),
        ))
    }
}

/// One ledger entry to write (amount always more than zero).
pub type PlannedEntry = (LedgerKind, FeeItem, Fen);

/// The ledger entries of a transfer (DEF-2: "without paying again").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransferEntries {
    /// On the old enrolment: a `transfer_out` of the money it holds and a
    /// `charge_reversal` of each of its charges, so it owes and holds nothing.
    pub old: Vec<PlannedEntry>,
    /// On the new enrolment: the same charges and a `transfer_in` of the same
    /// money, so it owes what the old one owed (0 for a paid enrolment).
    pub new: Vec<PlannedEntry>,
}

/// Plans the ledger entries that move an enrolment's money and charges to the
/// enrolment in the later class (DEF-2, ENR-3). The charges are carried over
/// per fee item as they stand (charges less reversals), not re-read from the
/// program, so a fee change in between never makes the trainee pay again.
/// Zero amounts are skipped (a free program writes nothing).
pub fn transfer_entries(old: &[Entry]) -> TransferEntries {
    let mut charges: Vec<(FeeItem, i64)> = Vec::new();
    for e in old {
        let sign = match e.kind {
            LedgerKind::Charge => 1,
            LedgerKind::ChargeReversal => -1,
            _ => continue,
        };
        match charges.iter_mut().find(|(item, _)| *item == e.item) {
            Some((_, sum)) => *sum += sign * e.amount.get(),
            None => charges.push((e.item, sign * e.amount.get())),
        }
    }
    let charges: Vec<(FeeItem, Fen)> = charges
        .into_iter()
        .filter(|(_, sum)| *sum > 0)
        .map(|(item, sum)| (item, Fen::from_stored(sum)))
        .collect();
    let held = Balance::of(old).held();
    let mut plan = TransferEntries::default();
    if !held.is_zero() {
        plan.old
            .push((LedgerKind::TransferOut, FeeItem::Other, held));
    }
    for (item, amount) in &charges {
        plan.old.push((LedgerKind::ChargeReversal, *item, *amount));
        plan.new.push((LedgerKind::Charge, *item, *amount));
    }
    if !held.is_zero() {
        plan.new
            .push((LedgerKind::TransferIn, FeeItem::Other, held));
    }
    plan
}

/// DEF-3: the enrolment must still be live and not yet deferred or a
/// `no_show` (`enrolment_not_substitutable`); cancelled and transferred
/// enrolments are not live.
pub fn check_substitutable(status: EnrolmentStatus) -> Result<(), Refusal> {
    if status.is_live() && !matches!(status, EnrolmentStatus::Deferred | EnrolmentStatus::NoShow) {
        Ok(())
    } else {
        Err(Refusal::rule(
            "DEF-3",
            "enrolment_not_substitutable",
            format!(
                "the enrolment is {status}; only a live enrolment before its class moves to another person"
            ),
        ))
    }
}

/// DEF-3: the new person must differ from the enrolled one (field `new_person_id`).
pub fn check_new_person(old_person_id: &str, new_person_id: &str) -> Result<(), FieldError> {
    if old_person_id == new_person_id {
        Err(FieldError::new(
            "new_person_id",
            "same_person",
            "the person is already the one enrolled",
        ))
    } else {
        Ok(())
    }
}

/// DEF-4: a trainee is marked `no_show` only once the class has started
/// (`in_progress` or `finished`; code `class_not_started`).
pub fn check_class_started(status: ClassStatus) -> Result<(), Refusal> {
    if matches!(status, ClassStatus::InProgress | ClassStatus::Finished) {
        Ok(())
    } else {
        Err(Refusal::rule(
            "DEF-4",
            "class_not_started",
            format!("the class is {status}; absence is recorded once the class has started"),
        ))
    }
}

/// DEF-4: a trainee whose deferral still waits for a decision is not a
/// `no_show` (code `deferral_pending`): the training head decides first.
pub fn deferral_pending(deferral_id: &str) -> Refusal {
    Refusal::rule(
        "DEF-4",
        "deferral_pending",
        format!("deferral {deferral_id} waits for a training head's decision"),
    )
}

/// DEF-1: one open deferral per enrolment (code `deferral_exists`).
pub fn deferral_exists(deferral_id: &str) -> Refusal {
    Refusal::rule(
        "DEF-1",
        "deferral_exists",
        format!("the enrolment already has an open deferral ({deferral_id})"),
    )
}

/// DEF-3: one pending substitution per enrolment (code `substitution_exists`).
pub fn substitution_exists(substitution_id: &str) -> Refusal {
    Refusal::rule(
        "DEF-3",
        "substitution_exists",
        format!("the enrolment already has a pending substitution ({substitution_id})"),
    )
}

/// A deferral and a substitution of the same enrolment exclude each other
/// while either is open (`rule` names the request being refused; code
/// `request_pending`): the organisation withdraws the person or replaces them,
/// not both.
pub fn other_request_pending(rule: &'static str, what: &str, id: &str) -> Refusal {
    Refusal::rule(
        rule,
        "request_pending",
        format!("the enrolment has an open {what} ({id}); it is decided first"),
    )
}

/// The notice of a deferral decision, to the organisation and the trainee (DEF-1).
pub fn deferral_decision_notice(
    class_title: &str,
    person_name: &str,
    approved: bool,
    reason: Option<&str>,
) -> (String, String) {
    if approved {
        (
            format!("Deferral approved: {class_title}"),
            format!(
                "The deferral of {person_name} from {class_title} was approved. The trainee may \
                 join a later class of the same program this year without paying again."
            ),
        )
    } else {
        (
            format!("Deferral rejected: {class_title}"),
            format!(
                "The deferral of {person_name} from {class_title} was rejected: {}.",
                reason.unwrap_or("no reason given")
            ),
        )
    }
}

/// The notice that a deferred trainee moved to a later class (DEF-2).
pub fn transfer_notice(from_title: &str, to_title: &str, person_name: &str) -> (String, String) {
    (
        format!("Transferred to {to_title}"),
        format!(
            "{person_name} moved from {from_title} to {to_title}. The fee already paid \
             carries over: nothing more is due."
        ),
    )
}

/// The notice of a substitution decision, to the organisation and both people (DEF-3).
pub fn substitution_decision_notice(
    class_title: &str,
    old_name: &str,
    new_name: &str,
    approved: bool,
    reason: Option<&str>,
) -> (String, String) {
    if approved {
        (
            format!("Substitution approved: {class_title}"),
            format!("{new_name} takes the place of {old_name} in {class_title}."),
        )
    } else {
        (
            format!("Substitution rejected: {class_title}"),
            format!(
                "{new_name} does not take the place of {old_name} in {class_title}: {}.",
                reason.unwrap_or("no reason given")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn entry(kind: LedgerKind, item: FeeItem, amount: i64) -> Entry {
        Entry {
            kind,
            item,
            amount: fen(amount),
        }
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(
            DeferralStatus,
            DeferralAction,
            SubstitutionStatus,
            SubstitutionAction
        );
    }

    #[test]
    fn deferral_machine_def_1_def_2() {
        // rule DEF-1: submitted → approved | rejected; rule DEF-2: approved → transferred
        assert_machine(
            DeferralStatus::ALL,
            DeferralAction::ALL,
            DEFERRAL_MACHINE.edges,
            deferral_transition,
            deferral_allowed_actions,
            "deferral",
            Some("DEF-1"),
        );
        assert_eq!(DeferralStatus::open(), vec!["submitted", "approved"]);
        let e =
            deferral_transition(DeferralStatus::Rejected, DeferralAction::Transfer).unwrap_err();
        assert!(e.allowed.is_empty());
    }

    #[test]
    fn substitution_machine_def_3() {
        // rule DEF-3
        assert_machine(
            SubstitutionStatus::ALL,
            SubstitutionAction::ALL,
            SUBSTITUTION_MACHINE.edges,
            substitution_transition,
            substitution_allowed_actions,
            "substitution",
            Some("DEF-3"),
        );
    }

    #[test]
    fn who_files_and_decides_def_1_def_3() {
        use Role::*;
        // rule DEF-1: the organisation, the individual, or staff on their behalf
        assert!(may_file(OrgFiller, Channel::Organisation, true, false));
        assert!(may_file(OrgReviewer, Channel::Organisation, true, false));
        assert!(!may_file(OrgReviewer, Channel::Organisation, false, false));
        assert!(!may_file(OrgReviewer, Channel::Individual, true, false));
        assert!(may_file(Trainee, Channel::Individual, false, true));
        assert!(!may_file(Trainee, Channel::Organisation, false, true));
        assert!(!may_file(Trainee, Channel::Individual, false, false));
        assert!(may_file(
            TrainingOfficer,
            Channel::Organisation,
            false,
            false
        ));
        for r in [Finance, Leader, Teacher, Provider, Authority] {
            assert!(!may_file(r, Channel::Individual, true, true), "{r}");
        }
        // rule DEF-1: a training head approves
        assert_eq!(DEFERRAL_DECIDERS, &[TrainingHead, Admin]);
        assert!(!DEFERRAL_DECIDERS.contains(&TrainingOfficer));
        // rule DEF-3: the organisation files; training staff decide
        assert_eq!(SUBSTITUTION_FILERS, &[OrgFiller, OrgReviewer]);
        for r in Role::ALL {
            assert_eq!(SUBSTITUTION_DECIDERS.contains(r), r.is_training_staff());
        }
    }

    #[test]
    fn filed_no_later_than_the_day_before_the_start_def_1_def_3() {
        // rule DEF-1, DEF-3: the local date of filing must be before the start date
        let start = d(4, 6);
        assert!(check_deferral_in_time(d(4, 5), start).is_ok());
        assert!(check_deferral_in_time(d(1, 1), start).is_ok());
        let r = check_deferral_in_time(d(4, 6), start).unwrap_err();
        assert_eq!((r.code, r.rule), ("deferral_too_late", Some("DEF-1")));
        assert!(r.detail.contains("2026-04-06"), "{}", r.detail);
        assert!(check_deferral_in_time(d(4, 7), start).is_err());
        assert!(check_substitution_in_time(d(4, 5), start).is_ok());
        let r = check_substitution_in_time(d(4, 6), start).unwrap_err();
        assert_eq!((r.code, r.rule), ("substitution_too_late", Some("DEF-3")));
    }

    #[test]
    fn only_paid_enrolments_are_deferred_def_1() {
        // rule DEF-1: paid or notified; an unpaid one is simply cancelled
        use EnrolmentStatus as S;
        for s in [S::Paid, S::Notified] {
            assert!(check_deferrable(s).is_ok());
            assert_eq!(status_after_deferral(s), Ok(S::Deferred));
        }
        for s in [
            S::Draft,
            S::Submitted,
            S::OrgApproved,
            S::Confirmed,
            S::Waitlisted,
            S::Rejected,
            S::Cancelled,
        ] {
            let r = check_deferrable(s).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("deferral_requires_payment", Some("DEF-1")),
                "{s}"
            );
        }
        for s in [S::Deferred, S::Transferred] {
            assert_eq!(check_deferrable(s).unwrap_err().code, "already_deferred");
        }
        // rule DEF-4: a no_show is never deferred
        let r = check_deferrable(S::NoShow).unwrap_err();
        assert_eq!((r.code, r.rule), ("enrolment_no_show", Some("DEF-4")));
    }

    #[test]
    fn only_deferred_enrolments_are_transferred_def_4() {
        // rule DEF-2, DEF-4: no_show and undeferred enrolments never move
        use EnrolmentStatus as S;
        assert_eq!(status_after_transfer(S::Deferred), Ok(S::Transferred));
        let r = status_after_transfer(S::NoShow).unwrap_err();
        assert_eq!((r.code, r.rule), ("enrolment_no_show", Some("DEF-4")));
        for s in S::ALL
            .iter()
            .filter(|s| !matches!(s, S::Deferred | S::NoShow))
        {
            let r = status_after_transfer(*s).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("enrolment_not_deferred", Some("DEF-4")),
                "{s}"
            );
        }
    }

    #[test]
    fn closed_classes_take_no_requests() {
        // rule DEF-1, DEF-3
        for s in [
            ClassStatus::Planned,
            ClassStatus::Open,
            ClassStatus::InProgress,
        ] {
            assert!(check_class_not_closed(s, "DEF-1").is_ok());
        }
        let r = check_class_not_closed(ClassStatus::Cancelled, "DEF-3").unwrap_err();
        assert_eq!((r.code, r.rule), ("class_closed", Some("DEF-3")));
        assert!(check_class_not_closed(ClassStatus::Finished, "DEF-1").is_err());
    }

    #[test]
    fn transfer_target_same_program_later_same_year_def_2() {
        // rule DEF-2
        let original = ClassFacts {
            program_id: "p1",
            start_date: d(4, 6),
            status: ClassStatus::InProgress,
        };
        let ok = ClassFacts {
            program_id: "p1",
            start_date: d(9, 1),
            status: ClassStatus::Open,
        };
        assert!(check_transfer_target(&original, &ok).is_ok());
        assert!(
            check_transfer_target(
                &original,
                &ClassFacts {
                    status: ClassStatus::Planned,
                    ..ok
                }
            )
            .is_ok()
        );
        let code = |t: ClassFacts<'_>| {
            let r = check_transfer_target(&original, &t).unwrap_err();
            assert_eq!(r.rule, Some("DEF-2"));
            r.code
        };
        assert_eq!(
            code(ClassFacts {
                program_id: "p2",
                ..ok
            }),
            "transfer_other_program"
        );
        assert_eq!(
            code(ClassFacts {
                start_date: d(4, 6),
                ..ok
            }),
            "transfer_not_later"
        );
        assert_eq!(
            code(ClassFacts {
                start_date: d(4, 1),
                ..ok
            }),
            "transfer_not_later"
        );
        assert_eq!(
            code(ClassFacts {
                start_date: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
                ..ok
            }),
            "transfer_other_year"
        );
        // The very next day counts as later.
        assert!(
            check_transfer_target(
                &original,
                &ClassFacts {
                    start_date: d(4, 7),
                    ..ok
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn transfer_target_must_take_enrolments_def_2() {
        // rule DEF-2
        let original = ClassFacts {
            program_id: "p1",
            start_date: d(4, 6),
            status: ClassStatus::Open,
        };
        for s in [
            ClassStatus::InProgress,
            ClassStatus::Finished,
            ClassStatus::Cancelled,
        ] {
            let t = ClassFacts {
                program_id: "p1",
                start_date: d(12, 31),
                status: s,
            };
            assert_eq!(
                check_transfer_target(&original, &t).unwrap_err().code,
                "transfer_class_not_open"
            );
        }
    }

    #[test]
    fn transfers_need_a_free_seat_cls_3() {
        // rule CLS-3
        assert!(check_transfer_seat(9, 10).is_ok());
        let r = check_transfer_seat(10, 10).unwrap_err();
        assert_eq!((r.code, r.rule), ("class_full", Some("CLS-3")));
    }

    #[test]
    fn transfer_moves_money_and_charges_def_2() {
        // rule DEF-2: without paying again; nothing looks owed on either side
        use FeeItem::*;
        use LedgerKind::*;
        let old = [
            entry(Charge, TrainingFee, 120_000),
            entry(Charge, ExamFee, 30_000),
            entry(Payment, Other, 100_000),
            entry(Payment, Other, 50_000),
        ];
        let plan = transfer_entries(&old);
        assert_eq!(
            plan.old,
            vec![
                (TransferOut, Other, fen(150_000)),
                (ChargeReversal, TrainingFee, fen(120_000)),
                (ChargeReversal, ExamFee, fen(30_000)),
            ]
        );
        assert_eq!(
            plan.new,
            vec![
                (Charge, TrainingFee, fen(120_000)),
                (Charge, ExamFee, fen(30_000)),
                (TransferIn, Other, fen(150_000)),
            ]
        );
        let as_entries = |v: &[PlannedEntry]| -> Vec<Entry> {
            v.iter()
                .map(|&(kind, item, amount)| Entry { kind, item, amount })
                .collect()
        };
        let mut after_old = old.to_vec();
        after_old.extend(as_entries(&plan.old));
        let b = Balance::of(&after_old);
        assert_eq!(
            (b.due, b.credit, b.held()),
            (Fen::ZERO, Fen::ZERO, Fen::ZERO)
        );
        let b = Balance::of(&as_entries(&plan.new));
        assert_eq!((b.due, b.credit), (Fen::ZERO, Fen::ZERO));
        assert_eq!(b.held(), fen(150_000));
        // A second transfer carries the same amounts on (charges less reversals).
        let again = transfer_entries(&as_entries(&plan.new));
        assert_eq!(again.new, plan.new);
        // A free program writes nothing.
        assert_eq!(transfer_entries(&[]), TransferEntries::default());
    }

    #[test]
    fn substitutable_enrolments_def_3() {
        // rule DEF-3: live and not deferred / no_show
        use EnrolmentStatus as S;
        for s in S::ALL {
            let ok = !matches!(s, S::Cancelled | S::Transferred | S::Deferred | S::NoShow);
            match check_substitutable(*s) {
                Ok(()) => assert!(ok, "{s}"),
                Err(r) => {
                    assert!(!ok, "{s}");
                    assert_eq!(
                        (r.code, r.rule),
                        ("enrolment_not_substitutable", Some("DEF-3"))
                    );
                }
            }
        }
        assert!(check_new_person("a", "b").is_ok());
        assert_eq!(check_new_person("a", "a").unwrap_err().code, "same_person");
    }

    #[test]
    fn no_show_only_after_the_start_def_4() {
        // rule DEF-4
        for s in [ClassStatus::InProgress, ClassStatus::Finished] {
            assert!(check_class_started(s).is_ok());
        }
        for s in [
            ClassStatus::Planned,
            ClassStatus::Open,
            ClassStatus::Cancelled,
        ] {
            let r = check_class_started(s).unwrap_err();
            assert_eq!((r.code, r.rule), ("class_not_started", Some("DEF-4")));
        }
        let r = deferral_pending("d1");
        assert_eq!((r.code, r.rule), ("deferral_pending", Some("DEF-4")));
        assert!(r.detail.contains("d1"));
    }

    #[test]
    fn conflicts_name_the_open_request() {
        // rule DEF-1, DEF-3
        let r = deferral_exists("d1");
        assert_eq!((r.code, r.rule), ("deferral_exists", Some("DEF-1")));
        let r = substitution_exists("s1");
        assert_eq!((r.code, r.rule), ("substitution_exists", Some("DEF-3")));
        let r = other_request_pending("DEF-3", "deferral", "d1");
        assert_eq!((r.code, r.rule), ("request_pending", Some("DEF-3")));
        assert!(r.detail.contains("deferral (d1)"));
    }

    #[test]
    fn decision_notices_name_the_people() {
        let (t, b) = deferral_decision_notice("C1", "Wang", true, None);
        assert!(t.contains("approved") && b.contains("Wang") && b.contains("without paying again"));
        let (t, b) = deferral_decision_notice("C1", "Wang", false, Some("no letter"));
        assert!(t.contains("rejected") && b.contains("no letter"));
        let (t, b) = transfer_notice("C1", "C2", "Wang");
        assert!(
            t.contains("C2") && b.contains("from C1 to C2") && b.contains("nothing more is due")
        );
        let (_, b) = substitution_decision_notice("C1", "Old", "New", true, None);
        assert_eq!(b, "New takes the place of Old in C1.");
        let (t, _) = substitution_decision_notice("C1", "Old", "New", false, Some("x"));
        assert!(t.starts_with("Substitution rejected"));
    }
}
