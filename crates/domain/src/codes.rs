//! Every business refusal code once (API-2): its kind, the SPEC rule it is
//! raised under and a one-line meaning.
//!
//! A [`Refusal`](crate::Refusal) carries one of these codes. The kind decides
//! the HTTP status in exactly one place, the API's error mapping:
//! [`Kind::Conflict`] answers 409, [`Kind::Unprocessable`] 422 and
//! [`Kind::Forbidden`] 403. The OpenAPI document lists the catalogue as the
//! values of `Problem.code`, so SDK users can switch on them.
//!
//! The `rule` of an entry is the rule the code is (primarily) raised under; a
//! code raised under several rules says so in its meaning, and the refusal
//! still carries its own rule at run time.
//!
//! Every code also has a constant of the same name in upper case, e.g.
//! [`REFUND_IN_PROGRESS`], for call sites that prefer a name to a literal.

/// How a refusal answers: which HTTP status its code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The request conflicts with existing data or a concurrent change (409).
    Conflict,
    /// A business rule refuses the request as sent (422).
    Unprocessable,
    /// A business rule forbids the caller this request (403).
    Forbidden,
}

impl Kind {
    /// The wire name of the kind: `conflict`, `unprocessable` or `forbidden`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Conflict => "conflict",
            Kind::Unprocessable => "unprocessable",
            Kind::Forbidden => "forbidden",
        }
    }
}

/// One refusal code of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The stable machine code, `snake_case`, e.g. `refund_in_progress`.
    pub code: &'static str,
    /// Which status it answers with.
    pub kind: Kind,
    /// The SPEC rule it is raised under, e.g. `REF-4` (`None`: no rule).
    pub rule: Option<&'static str>,
    /// What it means, in one line.
    pub meaning: &'static str,
}

/// Finds the catalogue entry of `code`.
pub fn lookup(code: &str) -> Option<&'static Code> {
    CATALOGUE
        .binary_search_by(|c| c.code.cmp(code))
        .ok()
        .map(|i| &CATALOGUE[i])
}

macro_rules! catalogue {
    ($( $name:ident = $code:literal, $kind:ident, $rule:expr, $meaning:literal; )*) => {
        $(
            #[doc = $meaning]
            pub const $name: &str = $code;
        )*

        /// Every refusal code, sorted by code.
        pub const CATALOGUE: &[Code] = &[$(
            Code { code: $name, kind: Kind::$kind, rule: $rule, meaning: $meaning },
        )*];

        /// The constant name of each code, to check they match.
        #[cfg(test)]
        const NAMES: &[(&str, &str)] = &[$((stringify!($name), $code),)*];
    };
}

catalogue! {
    ACCOUNT_CHANGE_ROLE = "account_change_role", Unprocessable, Some("ACC-3"),
        "An account change only asks for an org_filler or an org_reviewer account.";
    ACTIVITY_NOT_REGISTERED = "activity_not_registered", Unprocessable, Some("CED-3"),
        "Credits are recorded only for a CE activity the authority has registered.";
    ACTIVITY_REJECTED = "activity_rejected", Unprocessable, Some("CED-3"),
        "The authority refused to register the CE activity: it earns no credits.";
    ALREADY_APPOINTED = "already_appointed", Conflict, Some("TCH-1"),
        "The teacher is already appointed for this term: one appointment per term.";
    ALREADY_DEFERRED = "already_deferred", Unprocessable, Some("DEF-1"),
        "The enrolment is already deferred or transferred.";
    ALREADY_ENROLLED = "already_enrolled", Conflict, Some("ENR-5"),
        "The person already has an enrolment in this class.";
    ALREADY_REGISTERED = "already_registered", Unprocessable, Some("EXM-2"),
        "The trainee is already registered for this sitting (EXM-2), or for a first sitting of the class after an earlier attempt (EXM-3).";
    ARCHIVE_DOCUMENTS_MISSING = "archive_documents_missing", Unprocessable, Some("ARC-1"),
        "The archive is completed only once every required document is attached.";
    ATTENDANCE_STATUS_REQUIRED = "attendance_status_required", Unprocessable, Some("ATT-1"),
        "Without an approved leave for the session, attendance is present or absent.";
    CANNOT_DISABLE_SELF = "cannot_disable_self", Unprocessable, None,
        "An administrator cannot disable their own account.";
    CAPACITY_BELOW_SEATS = "capacity_below_seats", Conflict, Some("CLS-3"),
        "The capacity of a class is not lowered below the seats already taken.";
    CE_COMPLETED_IN_FUTURE = "ce_completed_in_future", Unprocessable, Some("CRT-4"),
        "Continuing education is not completed after today.";
    CE_OUTSIDE_PERIOD = "ce_outside_period", Unprocessable, Some("CRT-4"),
        "Continuing education renews a certificate only when completed within its current period.";
    CERTIFICATE_LAPSED = "certificate_lapsed", Unprocessable, Some("CRT-4"),
        "The certificate lapsed without continuing education and is void: not renewed (CRT-4), only cancelled (CRT-5).";
    CERTIFICATE_NOT_ACTIVE = "certificate_not_active", Unprocessable, Some("CRT-5"),
        "The certificate is superseded or revoked: not reissued, changed or cancelled (CRT-5), nor renewed with continuing education (CRT-4).";
    CERTIFICATE_NOT_VALID = "certificate_not_valid", Conflict, Some("CRT-3"),
        "A signed credential is issued only for a certificate that is valid now.";
    CHECKLIST_INCOMPLETE = "checklist_incomplete", Unprocessable, Some("CLS-2"),
        "A class starts only once every mandatory checklist item is checked.";
    CLASS_CANCELLED = "class_cancelled", Unprocessable, Some("CLS-1"),
        "The class is cancelled: it has no exam sitting.";
    CLASS_CLOSED = "class_closed", Unprocessable, Some("DEF-1"),
        "The class is finished or cancelled: it takes no deferral (DEF-1), substitution (DEF-3) or leave request (ATT-2).";
    CLASS_FULL = "class_full", Conflict, Some("CLS-3"),
        "Every seat of the class is taken: no promotion from the waiting list, no transfer into it.";
    CLASS_NOT_CANCELLED = "class_not_cancelled", Conflict, Some("REF-1"),
        "Only a cancelled class's fees are refunded in full.";
    CLASS_NOT_EDITABLE = "class_not_editable", Conflict, Some("CLS-1"),
        "Only a planned or open class is changed.";
    CLASS_NOT_ENDED = "class_not_ended", Unprocessable, Some("CLS-1"),
        "A class finishes on or after its end date.";
    CLASS_NOT_OPEN_FOR_ENROLMENT = "class_not_open_for_enrolment", Unprocessable, Some("ENR-1"),
        "Enrolments are taken only while the class is planned or open.";
    CLASS_NOT_RUNNING = "class_not_running", Unprocessable, Some("ATT-1"),
        "Attendance is recorded for a class in progress or finished.";
    CLASS_NOT_STARTED = "class_not_started", Unprocessable, Some("CLS-1"),
        "The class has not started: it starts on or after its start date (CLS-1), and marks no no-show before (DEF-4).";
    CREDIT_ALREADY_RECORDED = "credit_already_recorded", Conflict, Some("CED-3"),
        "Credits for one of these people were recorded at the same moment; send the upload again.";
    DEFERRAL_EXISTS = "deferral_exists", Conflict, Some("DEF-1"),
        "The enrolment already has an open deferral.";
    DEFERRAL_PENDING = "deferral_pending", Conflict, Some("DEF-4"),
        "A deferral of the enrolment waits for a decision: the trainee is not a no-show until it is decided.";
    DEFERRAL_REQUIRES_PAYMENT = "deferral_requires_payment", Unprocessable, Some("DEF-1"),
        "Only a paid enrolment is deferred; an unpaid one is withdrawn instead.";
    DEFERRAL_TOO_LATE = "deferral_too_late", Unprocessable, Some("DEF-1"),
        "A deferral is filed no later than the day before the class starts.";
    DISQUALIFIED = "disqualified", Unprocessable, Some("EXM-2"),
        "The trainee was disqualified in an exam of this class and is not registered again.";
    DOCUMENT_GENERATED = "document_generated", Unprocessable, Some("ARC-1"),
        "The archive document is generated by the system, not attached.";
    ENROLMENT_NO_SHOW = "enrolment_no_show", Unprocessable, Some("DEF-4"),
        "The trainee is a no-show: the enrolment is never deferred nor transferred.";
    ENROLMENT_NOT_DEFERRED = "enrolment_not_deferred", Conflict, Some("DEF-4"),
        "Only a deferred enrolment moves to a later class.";
    ENROLMENT_NOT_SUBSTITUTABLE = "enrolment_not_substitutable", Unprocessable, Some("DEF-3"),
        "Only a live enrolment, neither deferred nor a no-show, moves to another person.";
    EXCUSE_WITHOUT_LEAVE = "excuse_without_leave", Unprocessable, Some("ATT-1"),
        "A trainee is excused only with an approved leave request for the session.";
    INCIDENT_NOT_ON_SITTING_DAY = "incident_not_on_sitting_day", Unprocessable, Some("DSC-5"),
        "An exam incident happened during the sitting, on its day.";
    LATER_CLASS_AVAILABLE = "later_class_available", Unprocessable, Some("REF-1"),
        "A later class of the same program starts this year: the trainees join it (DEF-2) instead of a refund.";
    LEAVE_REQUEST_EXISTS = "leave_request_exists", Conflict, Some("ATT-2"),
        "A leave request for this session is already filed.";
    LEAVE_TOO_LATE = "leave_too_late", Unprocessable, Some("ATT-2"),
        "A leave request reaches the class head at least one day before the session.";
    NO_FEE_LEDGER = "no_fee_ledger", Unprocessable, Some("CRT-5"),
        "The certificate was not issued through an enrolment: a physical card has no ledger for its fee.";
    NO_RESULTS = "no_results", Unprocessable, Some("EXM-5"),
        "No trainee of the class is registered for an exam: there are no results to publish.";
    NO_SHOW = "no_show", Unprocessable, Some("DEF-4"),
        "The trainee is a no-show of the class and is not registered for its exam.";
    NO_SHOW_NO_REFUND = "no_show_no_refund", Unprocessable, Some("DEF-4"),
        "The trainee is a no-show: nothing is refunded.";
    NOT_A_TEACHER = "not_a_teacher", Unprocessable, Some("TCH-1"),
        "Only an enabled teacher account is appointed.";
    NOT_IN_CLASS = "not_in_class", Unprocessable, Some("EXM-2"),
        "No enrolment of the sitting's class has this id.";
    NOT_PAID = "not_paid", Unprocessable, Some("EXM-2"),
        "Only a paid trainee (paid or notified) is registered for the exam.";
    NOT_TAKING_PART = "not_taking_part", Unprocessable, Some("ATT-2"),
        "Only a paid trainee takes part in the class: files leave (ATT-2) and has attendance recorded (ATT-1).";
    NOTHING_TO_REFUND = "nothing_to_refund", Unprocessable, Some("REF-2"),
        "No fee is held for the enrolment: there is nothing to refund (REF-2; REF-1 for a cancelled class).";
    ORGANISATION_NOT_APPROVED = "organisation_not_approved", Unprocessable, Some("PPL-4"),
        "The organisation is not approved: it has no active accounts (PPL-4) and takes no certificate (CRT-5).";
    OVERPAYMENT = "overpayment", Unprocessable, Some("ENR-3"),
        "A payment is more than the amount still due.";
    PAYMENT_AMOUNT_ZERO = "payment_amount_zero", Unprocessable, Some("ENR-3"),
        "A payment is more than 0 fen.";
    PAYMENTS_RECORDED = "payments_recorded", Conflict, Some("ENR-3"),
        "Money was paid for the enrolment: it is not withdrawn until the money is refunded.";
    PERSON_BANNED = "person_banned", Unprocessable, Some("ENR-4"),
        "An active ban of the person covers the program (ENR-4; DSC-4 as an exam eligibility reason).";
    PERSON_EXISTS_ELSEWHERE = "person_exists_elsewhere", Conflict, Some("PPL-3"),
        "A person with this ID number is registered with another organisation.";
    PLAN_EMPTY = "plan_empty", Unprocessable, Some("PLN-1"),
        "A plan is published with at least one item.";
    PLAN_PUBLISHED = "plan_published", Conflict, Some("PLN-1"),
        "A published plan is not edited in place; file an amendment.";
    PLAN_YEAR_PAST = "plan_year_past", Unprocessable, Some("PLN-1"),
        "Plans are made for the current or a later year.";
    PROGRAM_RETIRED = "program_retired", Unprocessable, Some("PRG-1"),
        "The program is retired; reinstate it first.";
    PROVIDER_CLOSED = "provider_closed", Conflict, Some("CED-4"),
        "The CE provider was rejected or withdrawn: it no longer edits its published information.";
    PROVIDER_CONDITION_MISSING = "provider_condition_missing", Unprocessable, Some("CED-4"),
        "A CE provider shows evidence for every one of the five conditions.";
    PROVIDER_EXISTS = "provider_exists", Conflict, Some("CED-4"),
        "The organisation already has a CE provider application or accreditation.";
    PROVIDER_NOT_ACTIVE = "provider_not_active", Unprocessable, Some("CED-4"),
        "Only an accredited CE provider records activities and credits.";
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid", Conflict, Some("REF-4"),
        "The refund is more than the money paid and not yet refunded.";
    REFUND_IN_PROGRESS = "refund_in_progress", Conflict, Some("REF-4"),
        "The enrolment already has a refund in progress.";
    REFUND_REQUIRES_DEFERRAL = "refund_requires_deferral", Unprocessable, Some("REF-2"),
        "A personal refund needs an approved deferral filed before the class started.";
    REFUND_TOO_LATE = "refund_too_late", Unprocessable, Some("REF-2"),
        "A personal refund is requested within one year of the deferral.";
    REQUEST_OPEN = "request_open", Conflict, Some("CRT-5"),
        "The certificate already has an open reissue, change or cancellation request.";
    REQUEST_PENDING = "request_pending", Conflict, Some("DEF-1"),
        "The enrolment has an open substitution or deferral, decided first (DEF-1 for a deferral, DEF-3 for a substitution).";
    RESULTS_ALREADY_PUBLISHED = "results_already_published", Conflict, Some("EXM-5"),
        "The class's results are already published and none was entered since.";
    RESULTS_INCOMPLETE = "results_incomplete", Unprocessable, Some("EXM-5"),
        "Results are published once every exam registration of the class has one.";
    RESULTS_NOT_PUBLISHED = "results_not_published", Unprocessable, Some("CRT-1"),
        "Certificates are issued once the class's results are published.";
    RETAKE_NOT_ALLOWED = "retake_not_allowed", Unprocessable, Some("EXM-3"),
        "One retake is allowed, after a failed first attempt with a result.";
    ROTATION_IN_PROGRESS = "rotation_in_progress", Conflict, Some("CRT-3"),
        "Another rotation of the signing key happened at the same time.";
    SESSION_NOT_HELD = "session_not_held", Unprocessable, Some("ATT-1"),
        "Attendance is recorded from the session's day on.";
    SITTING_BEFORE_CLASS = "sitting_before_class", Unprocessable, Some("EXM-5"),
        "An exam sitting is not held before its class starts.";
    SITTING_NOT_HELD = "sitting_not_held", Unprocessable, Some("EXM-5"),
        "Results are entered from the sitting's day on.";
    SOURCE_NOT_FOR_EMPLOYERS = "source_not_for_employers", Unprocessable, Some("CED-3"),
        "An employer records only the kinds of CE activity an employer runs.";
    SUBSTITUTION_EXISTS = "substitution_exists", Conflict, Some("DEF-3"),
        "The enrolment already has a pending substitution.";
    SUBSTITUTION_TOO_LATE = "substitution_too_late", Unprocessable, Some("DEF-3"),
        "A substitution is filed no later than the day before the class starts.";
    TEACHER_NOT_APPOINTED = "teacher_not_appointed", Unprocessable, Some("TCH-1"),
        "The teacher has no current appointment for a term covering the class.";
    TERM_ENDED = "term_ended", Unprocessable, Some("TCH-1"),
        "Teachers are appointed for a current or future term.";
    TERM_LENGTH = "term_length", Unprocessable, Some("TCH-1"),
        "A board term lasts one to five years.";
    TOO_MANY_ABSENCES = "too_many_absences", Unprocessable, Some("ATT-3"),
        "Two or more unexcused absences remove exam eligibility for the class.";
    TRANSFER_CLASS_NOT_OPEN = "transfer_class_not_open", Unprocessable, Some("DEF-2"),
        "A deferred trainee joins only a planned or open class.";
    TRANSFER_NOT_LATER = "transfer_not_later", Unprocessable, Some("DEF-2"),
        "A deferred trainee joins a class starting later than the original one.";
    TRANSFER_OTHER_PROGRAM = "transfer_other_program", Unprocessable, Some("DEF-2"),
        "A deferred trainee joins a class of the same program.";
    TRANSFER_OTHER_YEAR = "transfer_other_year", Unprocessable, Some("DEF-2"),
        "A deferral carries over within the calendar year of the original class.";
    WAITING_LIST_ORDER = "waiting_list_order", Conflict, Some("CLS-3"),
        "Enrolments submitted earlier wait for a seat first: the waiting list keeps the order of submission.";
    WARNING_RELIED_ON = "warning_relied_on", Conflict, Some("DSC-1"),
        "A later disqualification in the same sitting counted this warning; withdraw that first.";
    WEBHOOK_EVENT_TYPE_UNKNOWN = "webhook_event_type_unknown", Unprocessable, Some("API-8"),
        "A webhook subscribes to `*` or to kinds of the published event catalogue (GET /api/v1/webhooks/event-types).";
    WEBHOOK_URL_INVALID = "webhook_url_invalid", Unprocessable, Some("API-8"),
        "A webhook URL is an absolute http(s) URL without user information or fragment, whose host resolves.";
    WEBHOOK_URL_NOT_HTTPS = "webhook_url_not_https", Unprocessable, Some("API-8"),
        "Webhook URLs must use HTTPS.";
    WEBHOOK_URL_PRIVATE = "webhook_url_private", Unprocessable, Some("API-8"),
        "Webhooks only reach public hosts: loopback, private, link-local and unique-local addresses are refused.";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_snake_case(s: &str) -> bool {
        !s.is_empty()
            && s.split('_').all(|part| {
                part.starts_with(|c: char| c.is_ascii_lowercase())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    }

    /// `ABC-1`: three capitals, a hyphen and a number without leading zero.
    fn is_rule_id(s: &str) -> bool {
        let Some((prefix, number)) = s.split_once('-') else {
            return false;
        };
        prefix.len() == 3
            && prefix.chars().all(|c| c.is_ascii_uppercase())
            && !number.is_empty()
            && !number.starts_with('0')
            && number.chars().all(|c| c.is_ascii_digit())
    }

    #[test]
    fn codes_are_unique_and_sorted() {
        for pair in CATALOGUE.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "not strictly sorted: {} then {}",
                pair[0].code,
                pair[1].code
            );
        }
    }

    #[test]
    fn codes_are_snake_case_and_named_after_themselves() {
        for c in CATALOGUE {
            assert!(is_snake_case(c.code), "not snake_case: {:?}", c.code);
        }
        assert_eq!(NAMES.len(), CATALOGUE.len());
        for (name, code) in NAMES {
            assert_eq!(*name, code.to_ascii_uppercase(), "constant of {code}");
        }
    }

    #[test]
    fn meanings_are_one_sentence_lines() {
        for c in CATALOGUE {
            let m = c.meaning;
            assert!(!m.trim().is_empty(), "{}: empty meaning", c.code);
            assert_eq!(m.trim(), m, "{}: meaning has outer spaces", c.code);
            assert!(!m.contains('\n'), "{}: meaning is one line", c.code);
            assert!(
                m.starts_with(|ch: char| ch.is_uppercase()) && m.ends_with('.'),
                "{}: meaning is a sentence: {m:?}",
                c.code
            );
        }
    }

    #[test]
    fn rule_ids_are_well_formed() {
        // rule API-2: refusals name the SPEC rule
        for c in CATALOGUE {
            if let Some(rule) = c.rule {
                assert!(is_rule_id(rule), "{}: bad rule ID {rule:?}", c.code);
            }
        }
        assert!(is_rule_id("REF-4") && is_rule_id("API-5") && is_rule_id("DEF-10"));
        for bad in [
            "REF4", "REF-", "REF-04", "ref-4", "REFS-4", "RE-4", "REF-4a",
        ] {
            assert!(!is_rule_id(bad), "{bad}");
        }
    }

    #[test]
    fn lookup_finds_every_code_and_nothing_else() {
        for c in CATALOGUE {
            assert_eq!(lookup(c.code), Some(c));
        }
        assert_eq!(
            lookup(REFUND_IN_PROGRESS).map(|c| c.kind),
            Some(Kind::Conflict)
        );
        assert_eq!(
            lookup(DEFERRAL_TOO_LATE).map(|c| (c.kind, c.rule)),
            Some((Kind::Unprocessable, Some("DEF-1")))
        );
        for unknown in ["", "rule_violation", "not_a_code", "REFUND_IN_PROGRESS"] {
            assert_eq!(lookup(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn kinds_have_wire_names() {
        assert_eq!(Kind::Conflict.as_str(), "conflict");
        assert_eq!(Kind::Unprocessable.as_str(), "unprocessable");
        assert_eq!(Kind::Forbidden.as_str(), "forbidden");
    }
}
