//! Refunds: amounts, eligibility and the four-step approval (REF-1 to REF-4).
//!
//! - REF-1: when the association cancels a class and no later class of the
//!   same program can take the trainees that calendar year, the training
//!   department files a `class_cancelled` refund of everything paid (training
//!   fee and exam fee) for every enrolment that holds money.
//! - REF-2: a trainee who could not attend for their own reasons gets the
//!   training fee back, never the exam fee (`personal`), only after an
//!   approved deferral filed before the class started (DEF-1) and only within
//!   one year of filing it ([`personal_refund_deadline`]).
//! - REF-3: every refund walks `submitted → training_confirmed →
//!   finance_confirmed → leader_approved → paid`, each step by its own role
//!   ([`action_roles`]); the role whose step is due may instead reject it with
//!   a reason ([`due_roles`]).
//! - REF-4: a refund never exceeds the money held for the enrolment and not
//!   yet refunded ([`payment_entries`] re-checks it at payment under a row
//!   lock), and at most one refund per enrolment is open, i.e. neither
//!   rejected nor paid (a partial unique index; [`refund_in_progress`]).
//!
//! No refund for a `no_show` (DEF-4, [`check_refundable_status`]).

use chrono::{Datelike, NaiveDate};

use crate::class::ClassStatus;
use crate::deferral::{ClassFacts, PlannedEntry};
use crate::enrolment::{Channel, EnrolmentStatus};
use crate::error::{InvalidTransition, Refusal};
use crate::fees::{Balance, Entry, FeeItem, LedgerKind};
use crate::money::Fen;
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

/// The longest payment reference (bank voucher number) of a paid refund.
pub const PAYMENT_REFERENCE_MAX: usize = 200;

wire_enum! {
    /// Why money is paid back.
    pub enum RefundKind("refund_kind") {
        /// The association cancelled the class and no later class of the
        /// program takes the trainees that year: everything paid (REF-1).
        ClassCancelled => "class_cancelled",
        /// The trainee could not attend for their own reasons after an in-time
        /// deferral: the training fee only, never the exam fee (REF-2).
        Personal => "personal",
    }
}

wire_enum! {
    /// Where a refund stands in its approval (REF-3).
    pub enum RefundStatus("refund_status") {
        /// Filed by the payer (REF-2) or the training department (REF-1).
        Submitted => "submitted",
        /// The training department confirmed the facts.
        TrainingConfirmed => "training_confirmed",
        /// Finance confirmed the amount against the ledger.
        FinanceConfirmed => "finance_confirmed",
        /// The association's leadership approved it.
        LeaderApproved => "leader_approved",
        /// Finance paid the money back; the ledger has the refund entry. Final.
        Paid => "paid",
        /// Rejected with a reason at one of the steps. Final.
        Rejected => "rejected",
    }
}

wire_enum! {
    /// A step of the refund approval: `POST /refunds/{id}/{action}` (the path
    /// spells it with a hyphen: `confirm-training`).
    pub enum RefundAction("refund_action") {
        /// The training department confirms (REF-3 step 1).
        ConfirmTraining => "confirm_training",
        /// Finance confirms (REF-3 step 2).
        ConfirmFinance => "confirm_finance",
        /// The leadership approves (REF-3 step 3).
        Approve => "approve",
        /// Finance pays, with the payment reference (REF-3 step 4).
        Pay => "pay",
        /// The role whose step is due rejects, with a reason (REF-3).
        Reject => "reject",
    }
}

const REFUND_MACHINE: StateMachine<RefundStatus, RefundAction> = StateMachine {
    entity: "refund",
    rule: Some("REF-3"),
    edges: &[
        (
            RefundStatus::Submitted,
            RefundAction::ConfirmTraining,
            RefundStatus::TrainingConfirmed,
        ),
        (
            RefundStatus::Submitted,
            RefundAction::Reject,
            RefundStatus::Rejected,
        ),
        (
            RefundStatus::TrainingConfirmed,
            RefundAction::ConfirmFinance,
            RefundStatus::FinanceConfirmed,
        ),
        (
            RefundStatus::TrainingConfirmed,
            RefundAction::Reject,
            RefundStatus::Rejected,
        ),
        (
            RefundStatus::FinanceConfirmed,
            RefundAction::Approve,
            RefundStatus::LeaderApproved,
        ),
        (
            RefundStatus::FinanceConfirmed,
            RefundAction::Reject,
            RefundStatus::Rejected,
        ),
        (
            RefundStatus::LeaderApproved,
            RefundAction::Pay,
            RefundStatus::Paid,
        ),
        (
            RefundStatus::LeaderApproved,
            RefundAction::Reject,
            RefundStatus::Rejected,
        ),
    ],
};

/// Applies `action` to a refund in `from` (REF-3, API-4): the four steps in
/// order; `reject` from any step that is not final.
pub fn refund_transition(
    from: RefundStatus,
    action: RefundAction,
) -> Result<RefundStatus, InvalidTransition> {
    REFUND_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a refund in `from`.
pub fn refund_allowed_actions(from: RefundStatus) -> Vec<&'static str> {
    REFUND_MACHINE.allowed(from)
}

impl RefundStatus {
    /// Whether the refund is still in progress (REF-4): every status but
    /// `rejected` and `paid`. The database allows one open refund per
    /// enrolment. A paid refund is over: what it paid back is in the ledger,
    /// and a later refund can only pay what is still held (e.g. the exam fee a
    /// personal refund leaves, when the class is then cancelled, REF-1), which
    /// [`payment_entries`] re-checks under the enrolment's row lock.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Rejected | Self::Paid)
    }
}

const TRAINING: &[Role] = &[Role::TrainingOfficer, Role::TrainingHead];
const FINANCE: &[Role] = &[Role::Finance];
const LEADER: &[Role] = &[Role::Leader];

/// Every role that may reject at some step (the step that is due decides, see [`due_roles`]).
pub const REJECTERS: &[Role] = &[
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
];

/// Who takes each step (REF-3: "each step is a different role"): the training
/// department confirms (officer or head), finance confirms and later pays,
/// the leadership approves. The administrator is deliberately not among
/// them: money leaves the association only through the four departments.
/// For `reject` this is every role that may reject at some step.
pub fn action_roles(action: RefundAction) -> &'static [Role] {
    match action {
        RefundAction::ConfirmTraining => TRAINING,
        RefundAction::ConfirmFinance | RefundAction::Pay => FINANCE,
        RefundAction::Approve => LEADER,
        RefundAction::Reject => REJECTERS,
    }
}

/// The roles whose step is due in `status` (REF-3): only they may reject it
/// there. Empty for the final states.
pub fn due_roles(status: RefundStatus) -> &'static [Role] {
    match status {
        RefundStatus::Submitted => TRAINING,
        RefundStatus::TrainingConfirmed | RefundStatus::LeaderApproved => FINANCE,
        RefundStatus::FinanceConfirmed => LEADER,
        RefundStatus::Paid | RefundStatus::Rejected => &[],
    }
}

/// Who requests a personal refund (REF-2, REF-3 "submitted (payer)"): the
/// paying organisation's filler or reviewer, or the individual trainee.
pub const REQUESTERS: &[Role] = &[Role::OrgFiller, Role::OrgReviewer, Role::Trainee];

/// Who files the refunds of a cancelled class (REF-1: the training department).
pub const CLASS_REFUND_FILERS: &[Role] = &[Role::TrainingOfficer, Role::TrainingHead];

/// Whether `role` is the payer of this enrolment (REF-2): organisation
/// accounts for their own organisation's enrolments, a trainee for their own
/// individual enrolment (an organisation paid for an organisation enrolment,
/// so its trainee does not request the money).
pub fn may_request(role: Role, channel: Channel, own_organisation: bool, own_person: bool) -> bool {
    match role {
        Role::OrgFiller | Role::OrgReviewer => channel == Channel::Organisation && own_organisation,
        Role::Trainee => channel == Channel::Individual && own_person,
        _ => false,
    }
}

/// DEF-4: a `no_show` never gets a refund (`no_show_no_refund`).
pub fn check_refundable_status(status: EnrolmentStatus) -> Result<(), Refusal> {
    if status == EnrolmentStatus::NoShow {
        Err(Refusal::rule(
            "DEF-4",
            "no_show_no_refund",
            "the trainee did not attend and filed no deferral in time (no_show): nothing is refunded",
        ))
    } else {
        Ok(())
    }
}

/// REF-2 without a deferral (`refund_requires_deferral`).
pub fn refund_requires_deferral(detail: impl Into<String>) -> Refusal {
    Refusal::rule("REF-2", "refund_requires_deferral", detail)
}

/// The last day on which a personal refund may be requested (REF-2: "within
/// one year of that deferral").
///
/// "Within one year" is read in the trainee's favour: up to and including the
/// same calendar date one year after the local date (association time zone)
/// on which the deferral was filed. Filed on 2026-03-02, the last day is
/// 2027-03-02 (365 days later: accepted; 2027-03-03, 366 days later, is
/// refused). A deferral filed on 29 February runs until 1 March of the next
/// year; a year that spans a 29 February has 366 days, so there the 366th day
/// is still the same calendar date and accepted.
pub fn personal_refund_deadline(filed_on: NaiveDate) -> NaiveDate {
    let year = filed_on.year() + 1;
    NaiveDate::from_ymd_opt(year, filed_on.month(), filed_on.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(filed_on)
}

/// REF-2 timing, all dates local to the association: the deferral must have
/// been filed before the class started, i.e. no later than the day before its
/// start date (DEF-1; otherwise `refund_requires_deferral`), and the request
/// comes no later than [`personal_refund_deadline`] (`refund_too_late`).
pub fn check_personal_in_time(
    filed_on: NaiveDate,
    class_start: NaiveDate,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if filed_on >= class_start {
        return Err(refund_requires_deferral(format!(
            "the deferral was filed on {filed_on}, not before the class started ({class_start}); \
             a personal refund needs a deferral filed in time (DEF-1)"
        )));
    }
    let deadline = personal_refund_deadline(filed_on);
    if today > deadline {
        return Err(Refusal::rule(
            "REF-2",
            "refund_too_late",
            format!(
                "a personal refund is requested within one year of the deferral (filed on \
                 {filed_on}): the last day was {deadline}; today is {today}"
            ),
        ));
    }
    Ok(())
}

/// The money held for an enrolment, split by what it pays for (REF-1, REF-2).
///
/// The money held ([`Balance::held`]: paid and brought over, less refunded and
/// carried out) is assigned to the fee items still charged (charges less
/// reversals) in the order training fee, exam fee, card fee; what is held
/// beyond the charges is `other`. Assigning the training fee first is the
/// reading that favours the trainee in a REF-2 refund of a partly paid fee.
/// Every paid refund reverses the charges it pays back ([`payment_entries`]),
/// so the split stays right after a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refundable {
    /// Held for the training fee.
    pub training_fee: Fen,
    /// Held for the exam fee.
    pub exam_fee: Fen,
    /// Held for a certificate card.
    pub card_fee: Fen,
    /// Held beyond the charges.
    pub other: Fen,
}

impl Refundable {
    /// Splits the money held by the entries of one enrolment.
    pub fn of(entries: &[Entry]) -> Refundable {
        let mut left = Balance::of(entries).held().get();
        let mut take = |item: FeeItem| {
            let part = net_charge(entries, item).get().min(left);
            left -= part;
            Fen::from_stored(part)
        };
        let training_fee = take(FeeItem::TrainingFee);
        let exam_fee = take(FeeItem::ExamFee);
        let card_fee = take(FeeItem::CardFee);
        Refundable {
            training_fee,
            exam_fee,
            card_fee,
            other: Fen::from_stored(left),
        }
    }

    /// Everything held (REF-1: the full amount paid).
    pub fn total(&self) -> Fen {
        self.training_fee
            .plus(self.exam_fee)
            .plus(self.card_fee)
            .plus(self.other)
    }

    /// What a refund of `kind` may pay back: everything for REF-1, the
    /// training fee part only for REF-2.
    pub fn for_kind(&self, kind: RefundKind) -> Fen {
        match kind {
            RefundKind::ClassCancelled => self.total(),
            RefundKind::Personal => self.training_fee,
        }
    }

    /// The parts, in the order they are paid back.
    fn parts(&self, kind: RefundKind) -> Vec<(FeeItem, Fen)> {
        match kind {
            RefundKind::Personal => vec![(FeeItem::TrainingFee, self.training_fee)],
            RefundKind::ClassCancelled => vec![
                (FeeItem::TrainingFee, self.training_fee),
                (FeeItem::ExamFee, self.exam_fee),
                (FeeItem::CardFee, self.card_fee),
                (FeeItem::Other, self.other),
            ],
        }
    }
}

/// What is still charged for `item`: its charges less their reversals (never below zero).
fn net_charge(entries: &[Entry], item: FeeItem) -> Fen {
    let sum: i64 = entries
        .iter()
        .filter(|e| e.item == item)
        .map(|e| match e.kind {
            LedgerKind::Charge => e.amount.get(),
            LedgerKind::ChargeReversal => -e.amount.get(),
            _ => 0,
        })
        .sum();
    Fen::from_stored(sum.max(0))
}

/// The amount of a new refund of `kind` (REF-1, REF-2), or `nothing_to_refund`
/// when nothing of that kind is held (e.g. the money moved to a later class
/// with a DEF-2 transfer, or the program charges no training fee). `rule` is
/// the rule of the request.
pub fn refund_amount(
    entries: &[Entry],
    kind: RefundKind,
    rule: &'static str,
) -> Result<Fen, Refusal> {
    let amount = Refundable::of(entries).for_kind(kind);
    if amount.is_zero() {
        Err(Refusal::rule(
            rule,
            "nothing_to_refund",
            match kind {
                RefundKind::Personal => {
                    "no training fee is held for this enrolment (nothing was paid, or the \
                     money moved to a later class)"
                }
                RefundKind::ClassCancelled => "no money is held for this enrolment",
            },
        ))
    } else {
        Ok(amount)
    }
}

/// The ledger entries that pay a refund of `amount` (REF-4), planned against
/// the ledger as it stands at payment (read under the enrolment's row lock).
///
/// Refused with `refund_exceeds_paid` when `amount` is more than what of that
/// kind is still held and not refunded. Otherwise, per fee item the refund
/// covers (REF-2: the training fee; REF-1: training fee, exam fee, card fee),
/// a `refund` entry of the part of `amount` that item holds (filled in that
/// order) and a `charge_reversal` of what is still charged for it: the
/// enrolment is closed by the payment, so nothing of those items stays owed
/// (a partly paid enrolment of a cancelled class owes nothing afterwards; the
/// exam fee of a personal refund stays charged and held). Money held beyond
/// the charges (item `other`, REF-1 only) is refunded last, with nothing to
/// reverse.
pub fn payment_entries(
    entries: &[Entry],
    kind: RefundKind,
    amount: Fen,
) -> Result<Vec<PlannedEntry>, Refusal> {
    let refundable = Refundable::of(entries);
    let available = refundable.for_kind(kind);
    if amount > available || amount.is_zero() {
        return Err(Refusal::rule(
            "REF-4",
            "refund_exceeds_paid",
            format!(
                "the refund of {amount} fen is more than the {available} fen paid and not yet \
                 refunded for this enrolment"
            ),
        ));
    }
    let mut left = amount.get();
    let mut out = Vec::new();
    for (item, part) in refundable.parts(kind) {
        let take = part.get().min(left);
        left -= take;
        if take > 0 {
            out.push((LedgerKind::Refund, item, Fen::from_stored(take)));
        }
        let charged = net_charge(entries, item);
        if item != FeeItem::Other && !charged.is_zero() {
            out.push((LedgerKind::ChargeReversal, item, charged));
        }
    }
    Ok(out)
}

/// REF-4: a second live refund for one enrolment (409 `refund_in_progress`).
pub fn refund_in_progress(existing: &str) -> Refusal {
    Refusal::rule(
        "REF-4",
        "refund_in_progress",
        format!("the enrolment already has a refund in progress ({existing})"),
    )
}

/// REF-1: the refunds of a class are filed only once it is `cancelled`
/// (`class_not_cancelled`).
pub fn check_class_cancelled(status: ClassStatus) -> Result<(), Refusal> {
    if status == ClassStatus::Cancelled {
        Ok(())
    } else {
        Err(Refusal::rule(
            "REF-1",
            "class_not_cancelled",
            format!("the class is {status}; only a cancelled class's fees are refunded in full"),
        ))
    }
}

/// REF-1: refuses (`later_class_available`, naming it) when a class of the
/// same program starts later than the cancelled one in the same calendar year
/// and can still take the trainees, i.e. is planned or open — the classes a
/// deferred trainee may join (DEF-2). A later class that is cancelled, already
/// running or over takes nobody, so it does not stop the refunds.
/// `candidates` are `(id, facts)` pairs; the earliest blocking one is named.
pub fn check_no_later_class(
    cancelled: &ClassFacts<'_>,
    candidates: &[(&str, ClassFacts<'_>)],
) -> Result<(), Refusal> {
    let blocking = candidates
        .iter()
        .filter(|(_, c)| {
            c.program_id == cancelled.program_id
                && c.start_date > cancelled.start_date
                && c.start_date.year() == cancelled.start_date.year()
                && matches!(c.status, ClassStatus::Planned | ClassStatus::Open)
        })
        .min_by_key(|(id, c)| (c.start_date, *id));
    match blocking {
        None => Ok(()),
        Some((id, c)) => Err(Refusal::rule(
            "REF-1",
            "later_class_available",
            format!(
                "class {id} of the same program starts on {} this year; the trainees may \
                 join it (DEF-2) instead of a refund",
                c.start_date
            ),
        )),
    }
}

/// Why an enrolment of a cancelled class gets no refund in the REF-1 batch.
pub fn class_refund_skip(status: EnrolmentStatus, held: Fen) -> Option<&'static str> {
    if status == EnrolmentStatus::NoShow {
        Some("no_show_no_refund")
    } else if held.is_zero() {
        Some("nothing_to_refund")
    } else {
        None
    }
}

/// The enrolment status a paid refund leaves (REF-1, REF-2): `cancelled` —
/// the trainee will not take part, and the enrolment can no longer move to a
/// later class (DEF-2) with money that was paid back.
pub fn status_after_refund(_status: EnrolmentStatus) -> EnrolmentStatus {
    EnrolmentStatus::Cancelled
}

/// The notice of a paid refund, to the payer (REF-3).
pub fn paid_notice(class_title: &str, person_name: &str, amount: Fen) -> (String, String) {
    (
        format!("Refund paid: {class_title}"),
        format!(
            "The refund of {}.{:02} CNY for {person_name} in {class_title} has been paid.",
            amount.get() / 100,
            amount.get() % 100
        ),
    )
}

/// The notice of a rejected refund, to the payer (REF-3).
pub fn rejected_notice(class_title: &str, person_name: &str, reason: &str) -> (String, String) {
    (
        format!("Refund rejected: {class_title}"),
        format!("The refund for {person_name} in {class_title} was rejected: {reason}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn e(kind: LedgerKind, item: FeeItem, amount: i64) -> Entry {
        Entry {
            kind,
            item,
            amount: fen(amount),
        }
    }

    fn paid_up() -> Vec<Entry> {
        use FeeItem::*;
        use LedgerKind::*;
        vec![
            e(Charge, TrainingFee, 120_000),
            e(Charge, ExamFee, 30_000),
            e(Payment, Other, 150_000),
        ]
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(RefundKind, RefundStatus, RefundAction);
    }

    #[test]
    fn four_steps_in_order_ref_3() {
        // rule REF-3
        assert_machine(
            RefundStatus::ALL,
            RefundAction::ALL,
            REFUND_MACHINE.edges,
            refund_transition,
            refund_allowed_actions,
            "refund",
            Some("REF-3"),
        );
        let e = refund_transition(RefundStatus::Submitted, RefundAction::Approve).unwrap_err();
        assert_eq!(e.allowed, vec!["confirm_training", "reject"]);
        assert!(refund_allowed_actions(RefundStatus::Paid).is_empty());
        assert!(refund_allowed_actions(RefundStatus::Rejected).is_empty());
        assert!(!RefundStatus::Paid.is_open());
        assert!(!RefundStatus::Rejected.is_open());
        assert!(RefundStatus::Submitted.is_open());
        assert!(RefundStatus::LeaderApproved.is_open());
    }

    #[test]
    fn each_step_has_its_own_role_ref_3() {
        // rule REF-3: training → finance → leader → finance; no admin shortcut
        use Role::*;
        assert_eq!(
            action_roles(RefundAction::ConfirmTraining),
            &[TrainingOfficer, TrainingHead]
        );
        assert_eq!(action_roles(RefundAction::ConfirmFinance), &[Finance]);
        assert_eq!(action_roles(RefundAction::Approve), &[Leader]);
        assert_eq!(action_roles(RefundAction::Pay), &[Finance]);
        for a in RefundAction::ALL {
            assert!(!action_roles(*a).contains(&Admin), "{a}");
        }
        // Reject belongs to the role of the step that is due.
        for s in RefundStatus::ALL {
            let step = RefundAction::ALL
                .iter()
                .copied()
                .find(|a| *a != RefundAction::Reject && refund_transition(*s, *a).is_ok());
            match step {
                Some(a) => assert_eq!(due_roles(*s), action_roles(a), "{s}"),
                None => assert!(due_roles(*s).is_empty(), "{s}"),
            }
        }
    }

    #[test]
    fn the_payer_requests_ref_2() {
        // rule REF-2, REF-3: submitted (payer)
        use Role::*;
        assert!(may_request(OrgFiller, Channel::Organisation, true, false));
        assert!(may_request(OrgReviewer, Channel::Organisation, true, false));
        assert!(!may_request(
            OrgReviewer,
            Channel::Organisation,
            false,
            false
        ));
        assert!(!may_request(OrgReviewer, Channel::Individual, true, true));
        assert!(may_request(Trainee, Channel::Individual, false, true));
        assert!(!may_request(Trainee, Channel::Organisation, false, true));
        assert!(!may_request(Trainee, Channel::Individual, false, false));
        for r in [Admin, TrainingOfficer, TrainingHead, Finance, Leader] {
            assert!(!may_request(r, Channel::Individual, true, true), "{r}");
        }
        assert_eq!(REQUESTERS, &[OrgFiller, OrgReviewer, Trainee]);
    }

    #[test]
    fn within_one_year_of_the_deferral_ref_2() {
        // rule REF-2: up to and including the same calendar date a year later
        let filed = d(2026, 3, 2);
        let start = d(2026, 4, 6);
        assert_eq!(personal_refund_deadline(filed), d(2027, 3, 2));
        assert!(check_personal_in_time(filed, start, d(2026, 3, 3)).is_ok());
        // 365 days later: accepted; 366 days later: refused
        assert_eq!((d(2027, 3, 2) - filed).num_days(), 365);
        assert!(check_personal_in_time(filed, start, d(2027, 3, 2)).is_ok());
        let r = check_personal_in_time(filed, start, d(2027, 3, 3)).unwrap_err();
        assert_eq!((r.code, r.rule), ("refund_too_late", Some("REF-2")));
        assert!(r.detail.contains("2027-03-02"), "{}", r.detail);
        // 29 February runs until 1 March.
        assert_eq!(personal_refund_deadline(d(2028, 2, 29)), d(2029, 3, 1));
        // A year over a leap day has 366 days, all of them within.
        assert_eq!(personal_refund_deadline(d(2027, 3, 1)), d(2028, 3, 1));
    }

    #[test]
    fn the_deferral_must_precede_the_start_ref_2() {
        // rule REF-2 with DEF-1: filed no later than the day before the start
        let start = d(2026, 4, 6);
        assert!(check_personal_in_time(d(2026, 4, 5), start, d(2026, 5, 1)).is_ok());
        for filed in [d(2026, 4, 6), d(2026, 4, 7)] {
            let r = check_personal_in_time(filed, start, d(2026, 5, 1)).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("refund_requires_deferral", Some("REF-2"))
            );
        }
    }

    #[test]
    fn no_show_gets_nothing_def_4() {
        // rule DEF-4
        let r = check_refundable_status(EnrolmentStatus::NoShow).unwrap_err();
        assert_eq!((r.code, r.rule), ("no_show_no_refund", Some("DEF-4")));
        assert!(check_refundable_status(EnrolmentStatus::Deferred).is_ok());
        assert_eq!(
            class_refund_skip(EnrolmentStatus::NoShow, fen(1)),
            Some("no_show_no_refund")
        );
        assert_eq!(
            class_refund_skip(EnrolmentStatus::Paid, Fen::ZERO),
            Some("nothing_to_refund")
        );
        assert_eq!(class_refund_skip(EnrolmentStatus::Paid, fen(1)), None);
    }

    #[test]
    fn amounts_training_fee_only_or_everything_ref_1_ref_2() {
        // rule REF-2: the exam fee is excluded; rule REF-1: everything paid
        let entries = paid_up();
        let r = Refundable::of(&entries);
        assert_eq!(
            r,
            Refundable {
                training_fee: fen(120_000),
                exam_fee: fen(30_000),
                card_fee: Fen::ZERO,
                other: Fen::ZERO
            }
        );
        assert_eq!(
            refund_amount(&entries, RefundKind::Personal, "REF-2"),
            Ok(fen(120_000))
        );
        assert_eq!(
            refund_amount(&entries, RefundKind::ClassCancelled, "REF-1"),
            Ok(fen(150_000))
        );
        // Partly paid: the training fee is covered first.
        use FeeItem::*;
        use LedgerKind::*;
        let partly = [
            e(Charge, TrainingFee, 120_000),
            e(Charge, ExamFee, 30_000),
            e(Payment, Other, 100_000),
        ];
        assert_eq!(
            refund_amount(&partly, RefundKind::Personal, "REF-2"),
            Ok(fen(100_000))
        );
        assert_eq!(
            refund_amount(&partly, RefundKind::ClassCancelled, "REF-1"),
            Ok(fen(100_000))
        );
    }

    #[test]
    fn a_transferred_enrolment_has_nothing_to_refund_ref_2() {
        // rule REF-2 with DEF-2: the money moved to the later class
        use FeeItem::*;
        use LedgerKind::*;
        let mut entries = paid_up();
        entries.extend([
            e(TransferOut, Other, 150_000),
            e(ChargeReversal, TrainingFee, 120_000),
            e(ChargeReversal, ExamFee, 30_000),
        ]);
        let r = refund_amount(&entries, RefundKind::Personal, "REF-2").unwrap_err();
        assert_eq!((r.code, r.rule), ("nothing_to_refund", Some("REF-2")));
        // A program without training fee has nothing for a personal refund.
        let exam_only = [e(Charge, ExamFee, 30_000), e(Payment, Other, 30_000)];
        assert!(refund_amount(&exam_only, RefundKind::Personal, "REF-2").is_err());
        assert_eq!(
            refund_amount(&exam_only, RefundKind::ClassCancelled, "REF-1"),
            Ok(fen(30_000))
        );
    }

    #[test]
    fn a_paid_personal_refund_leaves_the_exam_fee_to_a_class_refund_ref_1() {
        // rule REF-1: a personal refund (REF-2) paid back the training fee;
        // when the class is then cancelled, the exam fee still held comes back
        // too, and the paid refund is not "in progress" (REF-4).
        use FeeItem::*;
        use LedgerKind::*;
        let mut entries = paid_up();
        let personal = payment_entries(&entries, RefundKind::Personal, fen(120_000)).unwrap();
        entries.extend(
            personal
                .iter()
                .map(|&(kind, item, amount)| Entry { kind, item, amount }),
        );
        assert!(!RefundStatus::Paid.is_open());
        assert_eq!(
            class_refund_skip(EnrolmentStatus::Cancelled, Refundable::of(&entries).total()),
            None
        );
        let amount = refund_amount(&entries, RefundKind::ClassCancelled, "REF-1").unwrap();
        assert_eq!(amount, fen(30_000));
        assert_eq!(
            payment_entries(&entries, RefundKind::ClassCancelled, amount).unwrap(),
            vec![
                (Refund, ExamFee, fen(30_000)),
                (ChargeReversal, ExamFee, fen(30_000))
            ]
        );
    }

    #[test]
    fn payment_never_exceeds_what_is_held_ref_4() {
        // rule REF-4
        use FeeItem::*;
        use LedgerKind::*;
        let entries = paid_up();
        let plan = payment_entries(&entries, RefundKind::Personal, fen(120_000)).unwrap();
        assert_eq!(
            plan,
            vec![
                (Refund, TrainingFee, fen(120_000)),
                (ChargeReversal, TrainingFee, fen(120_000))
            ]
        );
        let r = payment_entries(&entries, RefundKind::Personal, fen(120_001)).unwrap_err();
        assert_eq!((r.code, r.rule), ("refund_exceeds_paid", Some("REF-4")));
        // After the refund is written, nothing more of the training fee is held,
        // nothing is owed, and the exam fee stays held.
        let mut after = entries.clone();
        after.extend(
            plan.iter()
                .map(|&(kind, item, amount)| Entry { kind, item, amount }),
        );
        let b = Balance::of(&after);
        assert_eq!((b.due, b.held()), (Fen::ZERO, fen(30_000)));
        assert_eq!(
            payment_entries(&after, RefundKind::Personal, fen(1))
                .unwrap_err()
                .code,
            "refund_exceeds_paid"
        );
        // REF-1: everything, per item, with extra money held as `other`.
        let mut extra = paid_up();
        extra.push(e(TransferIn, Other, 500));
        let plan = payment_entries(&extra, RefundKind::ClassCancelled, fen(150_500)).unwrap();
        assert_eq!(
            plan,
            vec![
                (Refund, TrainingFee, fen(120_000)),
                (ChargeReversal, TrainingFee, fen(120_000)),
                (Refund, ExamFee, fen(30_000)),
                (ChargeReversal, ExamFee, fen(30_000)),
                (Refund, Other, fen(500)),
            ]
        );
        let mut after = extra.clone();
        after.extend(
            plan.iter()
                .map(|&(kind, item, amount)| Entry { kind, item, amount }),
        );
        let b = Balance::of(&after);
        assert_eq!(
            (b.due, b.held(), b.credit),
            (Fen::ZERO, Fen::ZERO, Fen::ZERO)
        );
        // A partly paid enrolment of a cancelled class gets its money back and owes nothing.
        let partly = [
            e(Charge, TrainingFee, 120_000),
            e(Charge, ExamFee, 30_000),
            e(Payment, Other, 50_000),
        ];
        let plan = payment_entries(&partly, RefundKind::ClassCancelled, fen(50_000)).unwrap();
        assert_eq!(
            plan,
            vec![
                (Refund, TrainingFee, fen(50_000)),
                (ChargeReversal, TrainingFee, fen(120_000)),
                (ChargeReversal, ExamFee, fen(30_000)),
            ]
        );
        let mut after = partly.to_vec();
        after.extend(
            plan.iter()
                .map(|&(kind, item, amount)| Entry { kind, item, amount }),
        );
        let b = Balance::of(&after);
        assert_eq!(
            (b.due, b.held(), b.credit),
            (Fen::ZERO, Fen::ZERO, Fen::ZERO)
        );
        // Money that left meanwhile (a transfer) makes the payment fail.
        let mut moved = paid_up();
        moved.push(e(TransferOut, Other, 150_000));
        assert_eq!(
            payment_entries(&moved, RefundKind::ClassCancelled, fen(150_000))
                .unwrap_err()
                .code,
            "refund_exceeds_paid"
        );
        let r = refund_in_progress("r1");
        assert_eq!((r.code, r.rule), ("refund_in_progress", Some("REF-4")));
        assert!(r.detail.contains("r1"));
    }

    #[test]
    fn cancelled_class_without_later_class_ref_1() {
        // rule REF-1
        assert!(check_class_cancelled(ClassStatus::Cancelled).is_ok());
        for s in [
            ClassStatus::Planned,
            ClassStatus::Open,
            ClassStatus::InProgress,
            ClassStatus::Finished,
        ] {
            let r = check_class_cancelled(s).unwrap_err();
            assert_eq!((r.code, r.rule), ("class_not_cancelled", Some("REF-1")));
        }
        let cancelled = ClassFacts {
            program_id: "p1",
            start_date: d(2026, 4, 6),
            status: ClassStatus::Cancelled,
        };
        let later = ClassFacts {
            program_id: "p1",
            start_date: d(2026, 9, 1),
            status: ClassStatus::Open,
        };
        let r = check_no_later_class(&cancelled, &[("c2", later)]).unwrap_err();
        assert_eq!((r.code, r.rule), ("later_class_available", Some("REF-1")));
        assert!(r.detail.contains("c2") && r.detail.contains("2026-09-01"));
        let planned = ClassFacts {
            status: ClassStatus::Planned,
            ..later
        };
        assert!(check_no_later_class(&cancelled, &[("c2", planned)]).is_err());
        let not_blocking = [
            (
                "other program",
                ClassFacts {
                    program_id: "p2",
                    ..later
                },
            ),
            (
                "next year",
                ClassFacts {
                    start_date: d(2027, 1, 4),
                    ..later
                },
            ),
            (
                "same day",
                ClassFacts {
                    start_date: d(2026, 4, 6),
                    ..later
                },
            ),
            (
                "earlier",
                ClassFacts {
                    start_date: d(2026, 3, 1),
                    ..later
                },
            ),
            (
                "cancelled too",
                ClassFacts {
                    status: ClassStatus::Cancelled,
                    ..later
                },
            ),
            (
                "already over",
                ClassFacts {
                    status: ClassStatus::Finished,
                    ..later
                },
            ),
        ];
        assert!(check_no_later_class(&cancelled, &not_blocking).is_ok());
        assert!(check_no_later_class(&cancelled, &[]).is_ok());
    }

    #[test]
    fn refunded_enrolments_are_closed_and_notices_name_the_money() {
        // rule REF-3
        assert_eq!(
            status_after_refund(EnrolmentStatus::Deferred),
            EnrolmentStatus::Cancelled
        );
        let (t, b) = paid_notice("C1", "Wang", fen(120_050));
        assert!(t.contains("C1") && b.contains("1200.50 CNY") && b.contains("Wang"));
        let (t, b) = rejected_notice("C1", "Wang", "no letter");
        assert!(t.starts_with("Refund rejected") && b.contains("no letter"));
    }
}
