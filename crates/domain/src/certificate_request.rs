//! Reissue, change and cancellation of certificates (CRT-5, CRT-6) and the
//! forgery reports that go to the misconduct register (CRT-7).
//!
//! - CRT-5: the holder's organisation (its reviewer, SPEC §1: "file
//!   deferral/substitution/refund/certificate requests") or the holder
//!   (a trainee account of the certificate's person) files a request
//!   ([`may_file`]); the association's training department decides it
//!   ([`DECIDERS`]). A request walks `submitted → approved | rejected |
//!   withdrawn` ([`request_transition`]); one request per certificate is open
//!   at a time (a partial unique index). Approval of a reissue or change
//!   issues a new certificate (new number and QR code) and the old one becomes
//!   `superseded` at once; approval of a cancellation makes it `revoked`.
//! - Which certificates may be asked for ([`check_requestable`]): a
//!   superseded or revoked certificate is finished (`certificate_not_active`);
//!   a `lapsed` one is void (CRT-4) and cannot be reissued or changed
//!   (`certificate_lapsed`), but may still be cancelled.
//! - A physical card costs the card fee ([`card_fee`]), charged to the
//!   certificate's enrolment ledger on approval only, so nobody pays for a
//!   request the association rejects or the filer withdraws.
//! - CRT-6: approved changes and cancellations are published as public
//!   notices ([`change_notice`], [`cancellation_notice`]) naming the
//!   certificate number and the holder's name partly masked, never an ID number.
//! - CRT-7: a reported forgery or use of a fake certificate is listed in the
//!   public misconduct register against the person and/or the organisation
//!   ([`check_forgery_subject`], [`forgery_summary`]).

use chrono::NaiveDate;

use crate::certificate::{CertificateRequestKind, CertificateRequestStatus, CertificateStatus};
use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::money::Fen;
use crate::notice::NoticeText;
use crate::organisation::OrgStatus;
use crate::person::mask_name;
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

/// The longest reason of a request, rejection or forgery description.
pub const TEXT_MAX: usize = 1000;

wire_enum! {
    /// A decision on a certificate request: `POST /certificate-requests/{id}/{action}`.
    pub enum CertificateRequestAction("certificate_request_action") {
        /// The association approves: a new certificate, or the old one revoked (CRT-5).
        Approve => "approve",
        /// The association rejects, with a reason (CRT-5).
        Reject => "reject",
        /// The filer takes the request back before a decision.
        Withdraw => "withdraw",
    }
}

const REQUEST_MACHINE: StateMachine<CertificateRequestStatus, CertificateRequestAction> =
    StateMachine {
        entity: "certificate_request",
        rule: Some("CRT-5"),
        edges: &[
            (
                CertificateRequestStatus::Submitted,
                CertificateRequestAction::Approve,
                CertificateRequestStatus::Approved,
            ),
            (
                CertificateRequestStatus::Submitted,
                CertificateRequestAction::Reject,
                CertificateRequestStatus::Rejected,
            ),
            (
                CertificateRequestStatus::Submitted,
                CertificateRequestAction::Withdraw,
                CertificateRequestStatus::Withdrawn,
            ),
        ],
    };

/// Applies `action` to a request in `from` (CRT-5, API-4): only a `submitted`
/// request is decided or withdrawn; the other states are final.
pub fn request_transition(
    from: CertificateRequestStatus,
    action: CertificateRequestAction,
) -> Result<CertificateRequestStatus, InvalidTransition> {
    REQUEST_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a request in `from`.
pub fn request_allowed_actions(from: CertificateRequestStatus) -> Vec<&'static str> {
    REQUEST_MACHINE.allowed(from)
}

/// Who files requests (CRT-5): the organisation's reviewer and the holder.
///
/// The organisation's filler is not among them: SPEC §1 gives filing
/// certificate requests to the reviewer (企业培训负责人), and a request can
/// cost the card fee, so it goes out under the reviewer's authority (ACC-3)
/// rather than as a draft the reviewer would have to pass on.
pub const FILERS: &[Role] = &[Role::OrgReviewer, Role::Trainee];

/// Who decides requests (CRT-5: "approved by the association"; SPEC §1: the
/// training department issues certificates).
pub const DECIDERS: &[Role] = &[Role::TrainingOfficer, Role::TrainingHead];

/// Who reports forgeries (CRT-7): the training department and the administrator.
pub const FORGERY_REPORTERS: &[Role] = &[Role::TrainingOfficer, Role::TrainingHead, Role::Admin];

/// Who reads forgery reports: association staff (the reports hold unmasked
/// names and evidence; the public sees the register entry only).
pub const FORGERY_READERS: &[Role] = &[
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Admin,
    Role::Leader,
];

/// Whether `role` may file a request for a certificate (CRT-5): a reviewer of
/// the holder's organisation (`own_organisation`), or the holder
/// (`own_person`). 404 for the others is the caller's business (ACC-2).
pub fn may_file(role: Role, own_organisation: bool, own_person: bool) -> bool {
    match role {
        Role::OrgReviewer => own_organisation,
        Role::Trainee => own_person,
        _ => false,
    }
}

/// Whether a certificate in `status` may be asked for with `kind` (CRT-5).
///
/// `superseded` and `revoked` are finished: `certificate_not_active` (ask for
/// the certificate that replaced it instead). `lapsed` is void (CRT-4): a
/// reissue or change would hand out a fresh card for a certificate that no
/// longer certifies anything (`certificate_lapsed`); cancelling it is allowed,
/// it only takes it off the record. `valid` and `expired` (within the CE grace
/// window, still renewable) may be asked for with any kind; a replacement
/// keeps the validity period, so it shows the same status.
pub fn check_requestable(
    kind: CertificateRequestKind,
    status: CertificateStatus,
    number: &str,
) -> Result<(), Refusal> {
    match status {
        CertificateStatus::Superseded | CertificateStatus::Revoked => Err(Refusal::rule(
            "CRT-5",
            "certificate_not_active",
            format!(
                "certificate {number} is {status}: it can no longer be reissued, changed or cancelled"
            ),
        )),
        CertificateStatus::Lapsed if kind != CertificateRequestKind::Cancellation => {
            Err(Refusal::rule(
                "CRT-5",
                "certificate_lapsed",
                format!(
                    "certificate {number} lapsed without continuing education (CRT-4): it is void \
                     and cannot be reissued or changed, only cancelled"
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The card fee of a request (CRT-5): `fee` for a reissue or change with a
/// physical card, nothing without one. A cancellation produces no certificate,
/// so asking for a card with it is a mistake (`card_not_for_cancellation`).
pub fn card_fee(
    kind: CertificateRequestKind,
    physical_card: bool,
    fee: Fen,
) -> Result<Fen, FieldError> {
    match (kind, physical_card) {
        (CertificateRequestKind::Cancellation, true) => Err(FieldError::new(
            "physical_card",
            "card_not_for_cancellation",
            "a cancellation issues no new certificate, so there is no card to make",
        )),
        (_, true) => Ok(fee),
        (_, false) => Ok(Fen::ZERO),
    }
}

/// What a change asks for (CRT-5: "name or employer").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeAsked<'a> {
    /// The new holder name, if the name changes.
    pub new_holder_name: Option<&'a str>,
    /// The new employer, if the employer changes.
    pub new_organisation_id: Option<&'a str>,
}

/// Checks the change fields against the kind and the certificate (CRT-5): a
/// change names a new holder name and/or a new employer, at least one of them
/// different from the certificate's (`nothing_to_change`); a reissue or
/// cancellation names neither (`only_for_change`).
pub fn check_change_fields(
    kind: CertificateRequestKind,
    asked: ChangeAsked<'_>,
    current_name: &str,
    current_organisation_id: Option<&str>,
) -> Result<(), FieldError> {
    if kind != CertificateRequestKind::Change {
        for (field, given) in [
            ("new_holder_name", asked.new_holder_name.is_some()),
            ("new_organisation_id", asked.new_organisation_id.is_some()),
        ] {
            if given {
                return Err(FieldError::new(
                    field,
                    "only_for_change",
                    format!("{field} belongs to a change request, not a {kind}"),
                ));
            }
        }
        return Ok(());
    }
    let name_changes = asked
        .new_holder_name
        .is_some_and(|n| n.trim() != current_name.trim());
    let org_changes = asked
        .new_organisation_id
        .is_some_and(|o| Some(o) != current_organisation_id);
    if name_changes || org_changes {
        Ok(())
    } else {
        Err(FieldError::new(
            if asked.new_holder_name.is_some() || asked.new_organisation_id.is_none() {
                "new_holder_name"
            } else {
                "new_organisation_id"
            },
            "nothing_to_change",
            "a change names a new holder name or a new employer that differs from the certificate's",
        ))
    }
}

/// A change of employer moves the certificate to an approved organisation
/// only (CRT-5, as PPL-4 for accounts): `organisation_not_approved`.
pub fn check_new_employer(status: OrgStatus) -> Result<(), Refusal> {
    if status == OrgStatus::Approved {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CRT-5",
            "organisation_not_approved",
            format!(
                "the new employer is {status}; a certificate moves to an approved organisation only"
            ),
        ))
    }
}

/// The facts a public notice of an approved request names (CRT-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeFacts<'a> {
    /// The old certificate's number.
    pub number: &'a str,
    /// The holder's name on the old certificate (masked in the notice).
    pub holder_name: &'a str,
    /// The certificate's name or program.
    pub program: &'a str,
    /// The day of the decision, local to the association.
    pub decided_on: NaiveDate,
}

/// The public notice of an approved change (CRT-6): the old number, the
/// holder's name partly masked, what changed, and the number that replaces
/// it. A new name is shown masked too; a new employer by its name
/// (organisations are named publicly, like the misconduct register does).
pub fn change_notice(
    facts: NoticeFacts<'_>,
    new_number: &str,
    new_holder_name: Option<&str>,
    new_employer: Option<&str>,
) -> NoticeText {
    let mut changed = Vec::new();
    if let Some(name) = new_holder_name {
        changed.push(format!("holder name now {}", mask_name(name)));
    }
    if let Some(org) = new_employer {
        changed.push(format!("employer now {org}"));
    }
    NoticeText {
        title: format!("Certificate {} changed", facts.number),
        body: format!(
            "Certificate {} ({}) held by {} was changed on {} ({}). It is replaced by \
             certificate {new_number}; the old certificate and its QR code are no longer valid.",
            facts.number,
            facts.program,
            mask_name(facts.holder_name),
            facts.decided_on,
            changed.join("; "),
        ),
    }
}

/// The public notice of an approved cancellation (CRT-6).
pub fn cancellation_notice(facts: NoticeFacts<'_>) -> NoticeText {
    NoticeText {
        title: format!("Certificate {} cancelled", facts.number),
        body: format!(
            "Certificate {} ({}) held by {} was cancelled on {}. It and its QR code are no \
             longer valid.",
            facts.number,
            facts.program,
            mask_name(facts.holder_name),
            facts.decided_on,
        ),
    }
}

/// The notification to the filer and holder of a decided request: `(title, body)`.
pub fn decision_message(
    kind: CertificateRequestKind,
    number: &str,
    status: CertificateRequestStatus,
    new_number: Option<&str>,
    reason: Option<&str>,
) -> (String, String) {
    let what = match kind {
        CertificateRequestKind::Reissue => "reissue",
        CertificateRequestKind::Change => "change",
        CertificateRequestKind::Cancellation => "cancellation",
    };
    let title = format!("Certificate {number}: {what} request {status}");
    let body = match (status, new_number, reason) {
        (CertificateRequestStatus::Approved, Some(new), _) => format!(
            "The {what} of certificate {number} was approved. The new certificate is {new}; \
             the old one is no longer valid."
        ),
        (CertificateRequestStatus::Approved, None, _) => {
            format!("The {what} of certificate {number} was approved: it is no longer valid.")
        }
        (_, _, Some(reason)) => {
            format!("The {what} request for certificate {number} was {status}: {reason}")
        }
        _ => format!("The {what} request for certificate {number} was {status}."),
    };
    (title, body)
}

/// CRT-7: a forgery report names the person and/or the organisation it is
/// recorded against (`forgery_subject_required`).
pub fn check_forgery_subject(person: bool, organisation: bool) -> Result<(), FieldError> {
    if person || organisation {
        Ok(())
    } else {
        Err(FieldError::new(
            "person_id",
            "forgery_subject_required",
            "name the person and/or the organisation that forged or used the fake certificate",
        ))
    }
}

/// The register text of a forgery (CRT-7), naming the claimed number when
/// one was given (a made-up number is not personal data).
pub fn forgery_summary(claimed_number: Option<&str>) -> String {
    match claimed_number {
        Some(n) => format!("Forged or fake certificate used (claimed number {n})"),
        None => "Forged or fake certificate used".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};
    use CertificateRequestAction as A;
    use CertificateRequestKind as K;
    use CertificateRequestStatus as S;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(CertificateRequestAction);
    }

    #[test]
    fn only_a_submitted_request_is_decided_or_withdrawn() {
        // rule CRT-5, API-4
        assert_machine(
            S::ALL,
            A::ALL,
            &[
                (S::Submitted, A::Approve, S::Approved),
                (S::Submitted, A::Reject, S::Rejected),
                (S::Submitted, A::Withdraw, S::Withdrawn),
            ],
            request_transition,
            request_allowed_actions,
            "certificate_request",
            Some("CRT-5"),
        );
    }

    #[test]
    fn the_reviewer_or_the_holder_files() {
        // rule CRT-5
        assert!(may_file(Role::OrgReviewer, true, false));
        assert!(!may_file(Role::OrgReviewer, false, false));
        assert!(!may_file(Role::OrgFiller, true, false));
        assert!(may_file(Role::Trainee, false, true));
        assert!(!may_file(Role::Trainee, true, false));
        assert!(!may_file(Role::TrainingOfficer, true, true));
        assert!(FILERS.contains(&Role::OrgReviewer) && !FILERS.contains(&Role::OrgFiller));
        assert_eq!(DECIDERS, &[Role::TrainingOfficer, Role::TrainingHead]);
    }

    #[test]
    fn finished_and_void_certificates_are_refused() {
        // rule CRT-5
        for kind in K::ALL.iter().copied() {
            for status in [CertificateStatus::Superseded, CertificateStatus::Revoked] {
                let r = check_requestable(kind, status, "GA2026000001").unwrap_err();
                assert_eq!((r.code, r.rule), ("certificate_not_active", Some("CRT-5")));
            }
            assert!(check_requestable(kind, CertificateStatus::Valid, "GA2026000001").is_ok());
            assert!(check_requestable(kind, CertificateStatus::Expired, "GA2026000001").is_ok());
        }
        for kind in [K::Reissue, K::Change] {
            let r = check_requestable(kind, CertificateStatus::Lapsed, "GA2026000001").unwrap_err();
            assert_eq!((r.code, r.rule), ("certificate_lapsed", Some("CRT-5")));
        }
        assert!(check_requestable(K::Cancellation, CertificateStatus::Lapsed, "GA1").is_ok());
    }

    #[test]
    fn a_card_costs_the_fee_only_with_a_new_certificate() {
        // rule CRT-5
        let fee = Fen::from_stored(2000);
        assert_eq!(card_fee(K::Reissue, true, fee).unwrap(), fee);
        assert_eq!(card_fee(K::Change, true, fee).unwrap(), fee);
        assert_eq!(card_fee(K::Reissue, false, fee).unwrap(), Fen::ZERO);
        assert_eq!(card_fee(K::Cancellation, false, fee).unwrap(), Fen::ZERO);
        let e = card_fee(K::Cancellation, true, fee).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("physical_card", "card_not_for_cancellation")
        );
    }

    #[test]
    fn a_change_names_something_new() {
        // rule CRT-5
        let ask = |name, org| ChangeAsked {
            new_holder_name: name,
            new_organisation_id: org,
        };
        let ok =
            |name, org| check_change_fields(K::Change, ask(name, org), "Zhang Anna", Some("o1"));
        assert!(ok(Some("Zhang Annie"), None).is_ok());
        assert!(ok(None, Some("o2")).is_ok());
        assert!(ok(Some("Zhang Anna"), Some("o2")).is_ok());
        assert_eq!(ok(None, None).unwrap_err().code, "nothing_to_change");
        assert_eq!(
            ok(Some(" Zhang Anna "), None).unwrap_err().code,
            "nothing_to_change"
        );
        let e = ok(None, Some("o1")).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("new_organisation_id", "nothing_to_change")
        );
        let e = check_change_fields(K::Reissue, ask(None, Some("o2")), "A", None).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("new_organisation_id", "only_for_change")
        );
        let e = check_change_fields(K::Cancellation, ask(Some("B"), None), "A", None).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("new_holder_name", "only_for_change")
        );
        assert!(check_change_fields(K::Reissue, ask(None, None), "A", None).is_ok());
    }

    #[test]
    fn the_new_employer_must_be_approved() {
        // rule CRT-5
        assert!(check_new_employer(OrgStatus::Approved).is_ok());
        for s in [
            OrgStatus::Pending,
            OrgStatus::Rejected,
            OrgStatus::Suspended,
        ] {
            let r = check_new_employer(s).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("organisation_not_approved", Some("CRT-5"))
            );
        }
    }

    #[test]
    fn notices_mask_the_holder_and_name_the_numbers() {
        // rule CRT-6
        let facts = NoticeFacts {
            number: "GA2026000001",
            holder_name: "Zhang Anna",
            program: "Gas operations certificate",
            decided_on: d(2026, 4, 20),
        };
        let n = change_notice(facts, "GA2026000004", Some("Zhang Annie"), Some("Beta Gas"));
        assert_eq!(n.title, "Certificate GA2026000001 changed");
        assert!(n.body.contains("GA2026000004"), "{}", n.body);
        assert!(n.body.contains(&mask_name("Zhang Anna")), "{}", n.body);
        assert!(n.body.contains(&mask_name("Zhang Annie")), "{}", n.body);
        assert!(n.body.contains("Beta Gas"), "{}", n.body);
        assert!(!n.body.contains("Zhang Anna"), "{}", n.body);
        let n = cancellation_notice(facts);
        assert_eq!(n.title, "Certificate GA2026000001 cancelled");
        assert!(
            n.body.contains("2026-04-20") && !n.body.contains("Anna"),
            "{}",
            n.body
        );
    }

    #[test]
    fn decision_messages_say_what_happened() {
        let (t, b) = decision_message(K::Reissue, "GA1", S::Approved, Some("GA2"), None);
        assert_eq!(t, "Certificate GA1: reissue request approved");
        assert!(b.contains("GA2"));
        let (_, b) = decision_message(K::Change, "GA1", S::Rejected, None, Some("no proof"));
        assert!(b.ends_with("rejected: no proof"), "{b}");
    }

    #[test]
    fn forgery_needs_a_subject() {
        // rule CRT-7
        assert!(check_forgery_subject(true, false).is_ok());
        assert!(check_forgery_subject(false, true).is_ok());
        assert_eq!(
            check_forgery_subject(false, false).unwrap_err().code,
            "forgery_subject_required"
        );
        assert_eq!(
            forgery_summary(Some("GA2025999999")),
            "Forged or fake certificate used (claimed number GA2025999999)"
        );
        assert_eq!(forgery_summary(None), "Forged or fake certificate used");
    }
}
