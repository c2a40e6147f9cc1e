//! The enrolment chain (ENR-1 to ENR-5), its capacity decision (CLS-3) and the
//! class notice (ENR-1).

use chrono::{NaiveDate, NaiveTime};

use crate::class::ClassStatus;
use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::person::{
    Gender, IdType, TraineeCategory, normalize_id_number, validate_person_name, validate_phone,
};
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

wire_enum! {
    /// Where an enrolment is in its chain (ENR-1). Organisation submissions go
    /// `draft → submitted → org_approved → confirmed → paid → notified`;
    /// individuals skip `org_approved`. A full class puts confirmations on the
    /// waiting list (CLS-3).
    pub enum EnrolmentStatus("enrolment_status") {
        /// Entered, not yet submitted.
        Draft => "draft",
        /// Submitted by the filler (or the individual).
        Submitted => "submitted",
        /// Approved by the organisation's reviewer (ENR-2).
        OrgApproved => "org_approved",
        /// Confirmed by an association officer; holds a seat.
        Confirmed => "confirmed",
        /// Confirmed but the class was full: waits for a seat (CLS-3).
        Waitlisted => "waitlisted",
        /// The fee is paid (ENR-3); holds a seat.
        Paid => "paid",
        /// The class notice was sent (ENR-1); holds a seat.
        Notified => "notified",
        /// Returned to the submitter with a reason; can be corrected and resubmitted.
        Rejected => "rejected",
        /// Withdrawn before payment.
        Cancelled => "cancelled",
        /// An approved deferral (DEF-1): waits to join a later class.
        Deferred => "deferred",
        /// Moved to a later class (DEF-2); the new enrolment carries the payment.
        Transferred => "transferred",
        /// Paid, did not come and filed no deferral in time (DEF-4).
        NoShow => "no_show",
    }
}

impl EnrolmentStatus {
    /// Whether the enrolment occupies one of the class's seats (CLS-3).
    pub fn holds_seat(self) -> bool {
        matches!(self, Self::Confirmed | Self::Paid | Self::Notified)
    }

    /// Whether a payment settles a later charge without moving the enrolment
    /// (ENR-3): once fully paid, a retake's exam fee (EXM-4) or a certificate
    /// card fee (CRT-5) is charged to the same ledger and paid there, while
    /// the enrolment stays `paid` or `notified`.
    pub fn pays_later_charges(self) -> bool {
        matches!(self, Self::Paid | Self::Notified)
    }

    /// Whether the enrolment still counts as the person's enrolment in its
    /// class (ENR-5); matches the database's partial unique index.
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Cancelled | Self::Transferred)
    }

    /// The statuses that hold a seat, as stored.
    pub fn seat_holding() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| s.holds_seat())
            .map(|s| s.as_str())
            .collect()
    }

    /// Whether the trainee may take part in the class (ENR-3: only once paid):
    /// `paid` or `notified`.
    pub fn is_paid_up(self) -> bool {
        matches!(self, Self::Paid | Self::Notified)
    }
}

wire_enum! {
    /// Who submitted the enrolment.
    pub enum Channel("enrolment_channel") {
        /// A member organisation's filler (two-level approval, ACC-3).
        Organisation => "organisation",
        /// An individual enrolling themself (skips the organisation step).
        Individual => "individual",
    }
}

wire_enum! {
    /// A step of the enrolment chain (ENR-1). Each is an action endpoint
    /// `POST /enrolments/{id}/{action}`, except `pay`, which happens when
    /// recorded payments (`POST /enrolments/{id}/payments`) cover the fee.
    pub enum EnrolmentAction("enrolment_action") {
        /// Send the entry to the reviewer (organisation) or the association (individual).
        Submit => "submit",
        /// The organisation's reviewer attests the data (ENR-2).
        Approve => "approve",
        /// The association checks the data and gives a seat, or a waiting-list place (CLS-3).
        Confirm => "confirm",
        /// Return to the submitter with a reason.
        Reject => "reject",
        /// Withdraw the enrolment.
        Cancel => "cancel",
        /// The fee is fully paid (ENR-3).
        Pay => "pay",
        /// The class notice is sent (ENR-1).
        Notify => "notify",
        /// The paid trainee did not come and filed no deferral in time (DEF-4):
        /// recorded by training staff once the class has started
        /// (`POST /enrolments/{id}/no-show`). It is not one of the chain's
        /// allowed actions: whether it is allowed depends on the class.
        NoShow => "no_show",
    }
}

use EnrolmentAction as A;
use EnrolmentStatus as S;

/// The organisation chain: `draft → submitted → org_approved → confirmed →
/// paid → notified` (ENR-1, ACC-3). A confirmation of a full class ends in
/// `waitlisted` instead (CLS-3, see [`seat_decision`]); a freed seat confirms
/// the first waiting enrolment.
const ORGANISATION_CHAIN: StateMachine<EnrolmentStatus, EnrolmentAction> = StateMachine {
    entity: "enrolment",
    rule: Some("ENR-1"),
    edges: &[
        (S::Draft, A::Submit, S::Submitted),
        (S::Draft, A::Cancel, S::Cancelled),
        (S::Submitted, A::Approve, S::OrgApproved),
        (S::Submitted, A::Reject, S::Rejected),
        (S::Submitted, A::Cancel, S::Cancelled),
        (S::OrgApproved, A::Confirm, S::Confirmed),
        (S::OrgApproved, A::Reject, S::Rejected),
        (S::OrgApproved, A::Cancel, S::Cancelled),
        (S::Waitlisted, A::Confirm, S::Confirmed),
        (S::Waitlisted, A::Reject, S::Rejected),
        (S::Waitlisted, A::Cancel, S::Cancelled),
        (S::Confirmed, A::Pay, S::Paid),
        (S::Confirmed, A::Cancel, S::Cancelled),
        (S::Paid, A::Notify, S::Notified),
        (S::Rejected, A::Submit, S::Submitted),
        (S::Rejected, A::Cancel, S::Cancelled),
    ],
};

/// The individual chain: like the organisation chain without `org_approved`
/// (ENR-1: individuals skip the organisation step).
const INDIVIDUAL_CHAIN: StateMachine<EnrolmentStatus, EnrolmentAction> = StateMachine {
    entity: "enrolment",
    rule: Some("ENR-1"),
    edges: &[
        (S::Draft, A::Submit, S::Submitted),
        (S::Draft, A::Cancel, S::Cancelled),
        (S::Submitted, A::Confirm, S::Confirmed),
        (S::Submitted, A::Reject, S::Rejected),
        (S::Submitted, A::Cancel, S::Cancelled),
        (S::Waitlisted, A::Confirm, S::Confirmed),
        (S::Waitlisted, A::Reject, S::Rejected),
        (S::Waitlisted, A::Cancel, S::Cancelled),
        (S::Confirmed, A::Pay, S::Paid),
        (S::Confirmed, A::Cancel, S::Cancelled),
        (S::Paid, A::Notify, S::Notified),
        (S::Rejected, A::Submit, S::Submitted),
        (S::Rejected, A::Cancel, S::Cancelled),
    ],
};

const fn chain(channel: Channel) -> &'static StateMachine<EnrolmentStatus, EnrolmentAction> {
    match channel {
        Channel::Organisation => &ORGANISATION_CHAIN,
        Channel::Individual => &INDIVIDUAL_CHAIN,
    }
}

/// The no-show edges (DEF-4): a paid-up enrolment (`paid` or `notified`)
/// whose trainee did not come becomes `no_show`. Kept apart from the chains
/// because it is allowed only once the class has started.
const NO_SHOW_EDGES: StateMachine<EnrolmentStatus, EnrolmentAction> = StateMachine {
    entity: "enrolment",
    rule: Some("DEF-4"),
    edges: &[
        (S::Paid, A::NoShow, S::NoShow),
        (S::Notified, A::NoShow, S::NoShow),
    ],
};

/// DEF-4, API-4: `paid | notified → no_show`. Any other status is refused
/// with the actions the chain allows from it.
pub fn no_show_transition(
    channel: Channel,
    from: EnrolmentStatus,
) -> Result<EnrolmentStatus, InvalidTransition> {
    NO_SHOW_EDGES.apply(from, A::NoShow).map_err(|mut e| {
        e.allowed = enrolment_allowed_actions(channel, from);
        e
    })
}

/// Applies `action` to an enrolment of `channel` in status `from` (ENR-1, API-4).
/// `confirm` answers `confirmed`; whether the class has a seat is decided
/// separately by [`seat_decision`] (CLS-3).
pub fn enrolment_transition(
    channel: Channel,
    from: EnrolmentStatus,
    action: EnrolmentAction,
) -> Result<EnrolmentStatus, InvalidTransition> {
    chain(channel).apply(from, action)
}

/// Wire names of the actions allowed on an enrolment of `channel` in status `from`.
pub fn enrolment_allowed_actions(channel: Channel, from: EnrolmentStatus) -> Vec<&'static str> {
    chain(channel).allowed(from)
}

/// The roles that may take `action` at all (checked before the enrolment is
/// loaded, answering 403). Ownership is checked by [`may_act`].
///
/// - submit, cancel: the organisation's filler and reviewer, the trainee, and
///   training staff acting on someone's behalf;
/// - approve: only the organisation's reviewer (ENR-2, ACC-3);
/// - confirm, notify, no_show: training staff (admin, training officer, training head);
/// - reject: the organisation's reviewer or training staff;
/// - pay: finance (ENR-3).
pub fn action_roles(action: EnrolmentAction) -> &'static [Role] {
    use Role::*;
    match action {
        A::Submit | A::Cancel => &[
            OrgFiller,
            OrgReviewer,
            Trainee,
            Admin,
            TrainingOfficer,
            TrainingHead,
        ],
        A::Approve => &[OrgReviewer],
        A::Confirm | A::Notify | A::NoShow => &[Admin, TrainingOfficer, TrainingHead],
        A::Reject => &[OrgReviewer, Admin, TrainingOfficer, TrainingHead],
        A::Pay => &[Finance],
    }
}

/// Whether `role` may take `action` on this particular enrolment: organisation
/// accounts only on their own organisation's submissions (ACC-2), a trainee
/// only on their own individual enrolment, association roles on any.
pub fn may_act(
    role: Role,
    action: EnrolmentAction,
    channel: Channel,
    own_organisation: bool,
    own_person: bool,
) -> bool {
    if !action_roles(action).contains(&role) {
        return false;
    }
    match role {
        Role::OrgFiller | Role::OrgReviewer => channel == Channel::Organisation && own_organisation,
        Role::Trainee => channel == Channel::Individual && own_person,
        _ => true,
    }
}

/// The statement the reviewer's approval records (ENR-2, seed 000 §6(2)2).
pub const ORG_ATTESTATION: &str =
    "The organisation's reviewer attests that the person data is true, accurate and complete.";

/// ENR-1: enrolments are created, submitted and confirmed only while the class
/// is `planned` or `open`.
pub fn check_class_open_for_enrolment(status: ClassStatus) -> Result<(), Refusal> {
    if matches!(status, ClassStatus::Planned | ClassStatus::Open) {
        Ok(())
    } else {
        Err(Refusal::rule(
            "ENR-1",
            "class_not_open_for_enrolment",
            format!("the class is {status}; enrolments are taken only while it is planned or open"),
        ))
    }
}

/// ENR-5: the same person cannot hold two live enrolments in one class.
pub fn already_enrolled(existing_id: &str) -> Refusal {
    Refusal::rule(
        "ENR-5",
        "already_enrolled",
        format!("the person already has an enrolment in this class ({existing_id})"),
    )
}

/// The outcome of a confirmation (CLS-3): a seat while fewer than `capacity`
/// seats are taken, otherwise the waiting list.
pub fn seat_decision(seats_taken: i64, capacity: i32) -> EnrolmentStatus {
    if seats_taken < i64::from(capacity) {
        EnrolmentStatus::Confirmed
    } else {
        EnrolmentStatus::Waitlisted
    }
}

/// CLS-3: a waiting enrolment is confirmed only when a seat is free and it is
/// first in the waiting list (`ahead` = waiting enrolments submitted before it).
pub fn check_promotion(seats_taken: i64, capacity: i32, ahead: usize) -> Result<(), Refusal> {
    if seats_taken >= i64::from(capacity) {
        return Err(Refusal::rule(
            "CLS-3",
            "class_full",
            format!(
                "all {capacity} seats are taken; the enrolment stays on the waiting list \
                 until a seat is freed"
            ),
        ));
    }
    if ahead > 0 {
        return Err(Refusal::rule(
            "CLS-3",
            "waiting_list_order",
            format!(
                "{ahead} enrolment(s) were submitted earlier and wait for a seat first \
                 (the waiting list is kept in order of submission)"
            ),
        ));
    }
    Ok(())
}

/// What the class notice tells (ENR-1: time and place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassNoticeFacts<'a> {
    /// The class title.
    pub title: &'a str,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where it takes place.
    pub place: &'a str,
    /// The first session's date and start time, if the schedule is known.
    pub first_session: Option<(NaiveDate, NaiveTime)>,
}

/// The title and body of the class notice sent to the organisation and the
/// trainee (ENR-1, seed 000 §6(2)3: 通知参培单位/个人具体开班信息（时间、地点）).
pub fn class_notice(facts: &ClassNoticeFacts<'_>, person_name: &str) -> (String, String) {
    let title = format!("Class notice: {}", facts.title);
    let mut body = format!(
        "{person_name} is enrolled in {}, from {} to {}, at {}.",
        facts.title,
        facts.start_date.format("%Y-%m-%d"),
        facts.end_date.format("%Y-%m-%d"),
        facts.place
    );
    if let Some((date, time)) = facts.first_session {
        body.push_str(&format!(
            " The first session starts on {} at {}.",
            date.format("%Y-%m-%d"),
            time.format("%H:%M")
        ));
    }
    (title, body)
}

/// The notice of a rejection, sent back to the submitter (ENR-1).
pub fn rejection_notice(class_title: &str, person_name: &str, reason: &str) -> (String, String) {
    (
        format!("Enrolment returned: {class_title}"),
        format!(
            "The enrolment of {person_name} in {class_title} was returned: {reason}. \
             Correct it and submit it again, or withdraw it."
        ),
    )
}

/// The notice that a waiting enrolment got a seat (CLS-3).
pub fn promotion_notice(class_title: &str, person_name: &str) -> (String, String) {
    (
        format!("Seat confirmed: {class_title}"),
        format!(
            "A seat became free in {class_title}: the enrolment of {person_name} moved from \
             the waiting list to confirmed. The fee is now due."
        ),
    )
}

/// The most data rows one bulk upload may hold (ENR-1 bulk enrolment).
pub const BULK_MAX_ROWS: usize = 5_000;

/// The columns of a bulk enrolment file, in any order; `id_type`, `phone` and
/// `category` may be left empty (`id_type` then means `resident_id`).
pub const BULK_COLUMNS: [&str; 6] = [
    "name",
    "gender",
    "id_type",
    "id_number",
    "phone",
    "category",
];

/// One person of a bulk enrolment file, checked (PPL-1, PPL-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPerson {
    /// The name, trimmed.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Kind of ID document (default `resident_id`).
    pub id_type: IdType,
    /// The normalised ID number (GB 11643 checked for resident IDs).
    pub id_number: String,
    /// The phone number, if given.
    pub phone: Option<String>,
    /// The trainee category, if given.
    pub category: Option<TraineeCategory>,
}

/// The raw cells of one row of a bulk file, by column.
#[derive(Debug, Clone, Copy, Default)]
pub struct BulkCells<'a> {
    /// `name`.
    pub name: &'a str,
    /// `gender`.
    pub gender: &'a str,
    /// `id_type`.
    pub id_type: &'a str,
    /// `id_number`.
    pub id_number: &'a str,
    /// `phone`.
    pub phone: &'a str,
    /// `category`.
    pub category: &'a str,
}

/// Checks one row of a bulk enrolment file, reporting every bad cell (PPL-1,
/// PPL-2); the field of each error is the column name.
pub fn parse_bulk_person(cells: BulkCells<'_>) -> Result<BulkPerson, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = validate_person_name(cells.name)
        .map_err(|e| errors.push(e))
        .ok();
    let gender = enum_cell::<Gender>("gender", cells.gender, false, &mut errors);
    let id_type = enum_cell::<IdType>("id_type", cells.id_type, true, &mut errors)
        .map(|t| t.unwrap_or(IdType::ResidentId));
    let id_number = match id_type {
        Some(t) if !cells.id_number.trim().is_empty() => normalize_id_number(t, cells.id_number)
            .map_err(|e| errors.push(e))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new(
                "id_number",
                "required",
                "the ID number is required",
            ));
            None
        }
        None => None,
    };
    let phone = if cells.phone.trim().is_empty() {
        Some(None)
    } else {
        validate_phone(cells.phone)
            .map(Some)
            .map_err(|e| errors.push(e))
            .ok()
    };
    let category = enum_cell::<TraineeCategory>("category", cells.category, true, &mut errors);
    match (name, gender, id_type, id_number, phone, category) {
        (
            Some(name),
            Some(Some(gender)),
            Some(id_type),
            Some(id_number),
            Some(phone),
            Some(category),
        ) if errors.is_empty() => Ok(BulkPerson {
            name,
            gender,
            id_type,
            id_number,
            phone,
            category,
        }),
        _ => Err(errors),
    }
}

/// Parses an enum cell; `Some(None)` for an allowed empty cell, `None` after recording an error.
fn enum_cell<T: std::str::FromStr<Err = crate::error::UnknownValue>>(
    field: &str,
    raw: &str,
    optional: bool,
    errors: &mut Vec<FieldError>,
) -> Option<Option<T>> {
    let raw = raw.trim();
    if raw.is_empty() {
        if optional {
            return Some(None);
        }
        errors.push(FieldError::new(
            field,
            "required",
            format!("the {field} is required"),
        ));
        return None;
    }
    match raw.parse::<T>() {
        Ok(v) => Some(Some(v)),
        Err(e) => {
            errors.push(FieldError::new(
                field,
                "unknown_value",
                format!("{:?} is not one of: {}", e.value, e.expected.join(", ")),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    #[test]
    fn wire_names() {
        assert_wire_enums!(EnrolmentStatus, Channel, EnrolmentAction);
    }

    #[test]
    fn seats_are_held_from_confirmation_to_notice() {
        // rule CLS-3
        assert_eq!(
            EnrolmentStatus::seat_holding(),
            vec!["confirmed", "paid", "notified"]
        );
        assert!(!EnrolmentStatus::Waitlisted.holds_seat());
        assert!(!EnrolmentStatus::Deferred.holds_seat());
    }

    #[test]
    fn later_charges_are_paid_on_paid_enrolments_only() {
        // rule ENR-3 (with EXM-4 and CRT-5): a retake fee or card fee is paid
        // on the same ledger without moving the enrolment
        let payable: Vec<_> = EnrolmentStatus::ALL
            .iter()
            .filter(|s| s.pays_later_charges())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(payable, vec!["paid", "notified"]);
    }

    #[test]
    fn cancelled_and_transferred_enrolments_are_not_live() {
        // rule ENR-5
        for s in EnrolmentStatus::ALL {
            assert_eq!(
                s.is_live(),
                !matches!(s, EnrolmentStatus::Cancelled | EnrolmentStatus::Transferred)
            );
        }
    }

    #[test]
    fn only_paid_enrolments_take_part() {
        // rule ENR-3
        let paid: Vec<_> = EnrolmentStatus::ALL
            .iter()
            .filter(|s| s.is_paid_up())
            .collect();
        assert_eq!(paid, [&S::Paid, &S::Notified]);
    }

    #[test]
    fn organisation_chain_enr_1() {
        // rule ENR-1: draft → submitted → org_approved → confirmed → paid → notified
        assert_machine(
            EnrolmentStatus::ALL,
            EnrolmentAction::ALL,
            ORGANISATION_CHAIN.edges,
            |f, a| enrolment_transition(Channel::Organisation, f, a),
            |f| enrolment_allowed_actions(Channel::Organisation, f),
            "enrolment",
            Some("ENR-1"),
        );
        let mut s = S::Draft;
        for a in [A::Submit, A::Approve, A::Confirm, A::Pay, A::Notify] {
            s = enrolment_transition(Channel::Organisation, s, a).unwrap();
        }
        assert_eq!(s, S::Notified);
        // The association cannot confirm before the reviewer approved (ACC-3).
        let e = enrolment_transition(Channel::Organisation, S::Submitted, A::Confirm).unwrap_err();
        assert_eq!(e.allowed, vec!["approve", "reject", "cancel"]);
    }

    #[test]
    fn individual_chain_skips_the_organisation_step_enr_1() {
        // rule ENR-1: individuals skip org_approved
        assert_machine(
            EnrolmentStatus::ALL,
            EnrolmentAction::ALL,
            INDIVIDUAL_CHAIN.edges,
            |f, a| enrolment_transition(Channel::Individual, f, a),
            |f| enrolment_allowed_actions(Channel::Individual, f),
            "enrolment",
            Some("ENR-1"),
        );
        assert_eq!(
            enrolment_transition(Channel::Individual, S::Submitted, A::Confirm),
            Ok(S::Confirmed)
        );
        assert!(enrolment_transition(Channel::Individual, S::Submitted, A::Approve).is_err());
    }

    #[test]
    fn rejected_enrolments_return_to_the_submitter_enr_1() {
        // rule ENR-1: a rejection returns it; it can be corrected and resubmitted
        for ch in Channel::ALL {
            assert_eq!(
                enrolment_transition(*ch, S::Rejected, A::Submit),
                Ok(S::Submitted)
            );
        }
        // Paid enrolments are not withdrawn by cancel (refunds are their own workflow).
        assert!(enrolment_transition(Channel::Organisation, S::Paid, A::Cancel).is_err());
    }

    #[test]
    fn paid_trainees_who_did_not_come_are_no_show_def_4() {
        // rule DEF-4: only paid-up enrolments; never through the chain itself
        for ch in Channel::ALL {
            assert_eq!(no_show_transition(*ch, S::Paid), Ok(S::NoShow));
            assert_eq!(no_show_transition(*ch, S::Notified), Ok(S::NoShow));
            assert!(enrolment_transition(*ch, S::Paid, A::NoShow).is_err());
            for from in S::ALL.iter().filter(|s| !s.is_paid_up()) {
                let e = no_show_transition(*ch, *from).unwrap_err();
                assert_eq!(
                    (e.entity, e.action, e.rule),
                    ("enrolment", "no_show", Some("DEF-4"))
                );
                assert_eq!(e.allowed, enrolment_allowed_actions(*ch, *from), "{from}");
            }
        }
        for r in Role::ALL {
            assert_eq!(
                may_act(*r, A::NoShow, Channel::Organisation, true, true),
                r.is_training_staff()
            );
        }
    }

    #[test]
    fn roles_per_action() {
        use Role::*;
        // rule ENR-2: only the organisation's reviewer approves
        assert_eq!(action_roles(A::Approve), &[OrgReviewer]);
        assert!(!may_act(
            TrainingOfficer,
            A::Approve,
            Channel::Organisation,
            false,
            false
        ));
        assert!(may_act(
            OrgReviewer,
            A::Approve,
            Channel::Organisation,
            true,
            false
        ));
        // rule ACC-2: never another organisation's
        assert!(!may_act(
            OrgReviewer,
            A::Approve,
            Channel::Organisation,
            false,
            false
        ));
        // rule ENR-1: the association confirms and notifies, finance records payment
        for r in Role::ALL {
            assert_eq!(
                may_act(*r, A::Confirm, Channel::Individual, false, false),
                r.is_training_staff()
            );
            assert_eq!(
                may_act(*r, A::Pay, Channel::Organisation, true, true),
                *r == Finance
            );
        }
        // A trainee acts on their own individual enrolment only.
        assert!(may_act(
            Trainee,
            A::Cancel,
            Channel::Individual,
            false,
            true
        ));
        assert!(!may_act(
            Trainee,
            A::Cancel,
            Channel::Organisation,
            false,
            true
        ));
        assert!(!may_act(
            Trainee,
            A::Submit,
            Channel::Individual,
            false,
            false
        ));
    }

    #[test]
    fn class_must_take_enrolments_enr_1() {
        // rule ENR-1
        assert!(check_class_open_for_enrolment(ClassStatus::Open).is_ok());
        assert!(check_class_open_for_enrolment(ClassStatus::Planned).is_ok());
        for s in ClassStatus::ALL
            .iter()
            .filter(|s| !matches!(s, ClassStatus::Open | ClassStatus::Planned))
        {
            let r = check_class_open_for_enrolment(*s).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("class_not_open_for_enrolment", Some("ENR-1"))
            );
        }
    }

    #[test]
    fn capacity_and_waiting_list_cls_3() {
        // rule CLS-3
        assert_eq!(seat_decision(0, 1), S::Confirmed);
        assert_eq!(seat_decision(1, 2), S::Confirmed);
        assert_eq!(seat_decision(2, 2), S::Waitlisted);
        assert_eq!(seat_decision(3, 2), S::Waitlisted);
        assert!(check_promotion(1, 2, 0).is_ok());
        assert_eq!(check_promotion(2, 2, 0).unwrap_err().code, "class_full");
        assert_eq!(
            check_promotion(1, 2, 1).unwrap_err().code,
            "waiting_list_order"
        );
    }

    #[test]
    fn already_enrolled_enr_5() {
        // rule ENR-5
        let r = already_enrolled("e1");
        assert_eq!((r.code, r.rule), ("already_enrolled", Some("ENR-5")));
        assert!(r.detail.contains("e1"));
    }

    #[test]
    fn class_notice_names_time_and_place_enr_1() {
        // rule ENR-1: the notice carries the class time and place
        let d = |day| NaiveDate::from_ymd_opt(2026, 4, day).unwrap();
        let mut facts = ClassNoticeFacts {
            title: "Gas safety 2026-1",
            start_date: d(6),
            end_date: d(8),
            place: "Futian training centre",
            first_session: None,
        };
        let (title, body) = class_notice(&facts, "Wang Wu");
        assert_eq!(title, "Class notice: Gas safety 2026-1");
        assert!(body.contains("from 2026-04-06 to 2026-04-08"), "{body}");
        assert!(body.contains("Futian training centre"), "{body}");
        facts.first_session = Some((d(6), NaiveTime::from_hms_opt(8, 30, 0).unwrap()));
        let (_, body) = class_notice(&facts, "Wang Wu");
        assert!(body.contains("2026-04-06 at 08:30"), "{body}");
        let (t, b) = rejection_notice("C", "P", "wrong phone");
        assert!(t.contains('C') && b.contains("wrong phone"));
        assert!(promotion_notice("C", "P").1.contains("waiting list"));
    }

    #[test]
    fn bulk_rows_report_every_bad_cell() {
        // rule PPL-1, PPL-2: each row is checked like a person entered by hand
        let ok = parse_bulk_person(BulkCells {
            name: " 张三 ",
            gender: "male",
            id_type: "",
            id_number: "11010519491231002x",
            phone: "",
            category: "operations_staff",
        })
        .unwrap();
        assert_eq!(ok.name, "张三");
        assert_eq!(ok.id_type, IdType::ResidentId);
        assert_eq!(ok.id_number, "11010519491231002X");
        assert_eq!(ok.phone, None);
        assert_eq!(ok.category, Some(TraineeCategory::OperationsStaff));
        let errors = parse_bulk_person(BulkCells {
            name: "",
            gender: "x",
            id_type: "resident_id",
            id_number: "110105194912310021",
            phone: "12",
            category: "boss",
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "gender", "id_number", "phone", "category"]);
        let errors = parse_bulk_person(BulkCells {
            name: "A",
            gender: "",
            id_type: "visa",
            id_number: "",
            ..BulkCells::default()
        })
        .unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [("gender", "required"), ("id_type", "unknown_value")]
        );
        let errors = parse_bulk_person(BulkCells {
            name: "A",
            gender: "female",
            ..BulkCells::default()
        })
        .unwrap_err();
        assert_eq!(errors[0].field, "id_number");
    }
}
