//! The continuing-education register's write side (SPEC §10, seed 004
//! chapters 3 to 5 and 7): providers (继续教育基地), activities and the
//! recording of credits.
//!
//! - CED-4: an organisation applies to become a provider with evidence of each
//!   of the five conditions of seed 004 art. 9 ([`ProviderCondition`],
//!   [`check_conditions`]); the authority accredits or rejects the
//!   application, and suspends, reinstates or withdraws an accredited provider
//!   ([`provider_transition`]), with a reason for every refusal
//!   ([`ProviderAction::needs_reason`]). Only an accredited provider records
//!   activities and credits ([`check_provider_may_record`]).
//! - CED-3: the sources of credits ([`CeSource`], seed 004 art. 15 and 16),
//!   the subject categories ([`SubjectCategory`], art. 13), who may record
//!   which source ([`check_source_for`]) and which activities must first be
//!   registered with the authority ([`CeSource::needs_registration`],
//!   [`activity_transition`]). A credit holds the exam result where the
//!   activity had an exam; only a passed exam earns credits
//!   ([`credit_outcome`]).
//! - CED-1: the obligation starts with the skill certificate (PPL-1). Credits
//!   of a person who has no skill registration yet are still accepted: the
//!   learning happened, and the register should hold it when the certificate
//!   is entered later; it is the yearly requirement, not the record, that
//!   starts with the certificate.

use chrono::NaiveDate;

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::wire::{StateMachine, wire_enum};

/// The most credit rows one upload may carry (CED-3 bulk recording).
pub const BULK_CREDITS_MAX: usize = 5_000;
/// The most evidence references (photos, videos) one activity or credit may carry (CED-3).
pub const EVIDENCE_REFS_MAX: usize = 20;
/// The longest evidence reference (a file name, URL or archive number).
pub const EVIDENCE_REF_MAX: usize = 500;

wire_enum! {
    /// The five conditions a provider must meet at the same time (seed 004
    /// art. 9, CED-4); the application carries evidence of each.
    pub enum ProviderCondition("provider_condition") {
        /// (一) Teaching premises, facilities and equipment fit for the CE it takes on.
        TeachingFacilities => "teaching_facilities",
        /// (二) Teachers and management staff fit for the CE it takes on.
        TeachingStaff => "teaching_staff",
        /// (三) A complete teaching plan, management rules and other rules.
        PlansAndRules => "plans_and_rules",
        /// (四) Able to complete the CE tasks it takes on and assure teaching quality.
        QualityAssurance => "quality_assurance",
        /// (五) Complies with the relevant laws and regulations.
        LegalCompliance => "legal_compliance",
    }
}

/// The conditions among [`ProviderCondition::ALL`] that `provided` lacks, in
/// the order of art. 9.
pub fn missing_conditions(provided: &[ProviderCondition]) -> Vec<ProviderCondition> {
    ProviderCondition::ALL
        .iter()
        .copied()
        .filter(|c| !provided.contains(c))
        .collect()
}

/// CED-4: an application must carry evidence of every one of the five
/// conditions of seed 004 art. 9 ("必须同时符合"); `provided` lists the
/// conditions with non-blank evidence. The refusal names each missing one.
pub fn check_conditions(provided: &[ProviderCondition]) -> Result<(), Refusal> {
    let missing = missing_conditions(provided);
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
    Err(Refusal::rule(
        "CED-4",
        "provider_condition_missing",
        format!(
            "a provider must meet all five conditions of art. 9; evidence is missing for: {}",
            names.join(", ")
        ),
    ))
}

wire_enum! {
    /// Where a provider stands with the authority (CED-4).
    pub enum ProviderStatus("provider_status") {
        /// Applied with evidence of the five conditions; awaiting the authority.
        Applied => "applied",
        /// Accredited: published on the public list; records activities and credits.
        Accredited => "accredited",
        /// The authority refused the application, with a reason. Final; the
        /// organisation may apply again.
        Rejected => "rejected",
        /// Suspended by the authority with a reason: off the public list and
        /// unable to record credits until reinstated.
        Suspended => "suspended",
        /// Withdrawn (撤销) by the authority with a reason. Final.
        Withdrawn => "withdrawn",
    }
}

impl ProviderStatus {
    /// Whether the application or accreditation is still live: one live
    /// provider per organisation (the partial unique index
    /// `ce_providers_one_live_per_organisation`).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Applied | Self::Accredited | Self::Suspended)
    }
}

wire_enum! {
    /// The authority's decisions on a provider: `POST /ce/providers/{id}/{action}` (CED-4).
    pub enum ProviderAction("provider_action") {
        /// Accredit an application.
        Accredit => "accredit",
        /// Refuse an application, with a reason.
        Reject => "reject",
        /// Suspend an accredited provider, with a reason.
        Suspend => "suspend",
        /// Lift a suspension.
        Reinstate => "reinstate",
        /// Withdraw the accreditation for good, with a reason.
        Withdraw => "withdraw",
    }
}

impl ProviderAction {
    /// Whether the action must give the provider a reason: every refusal or
    /// sanction (reject, suspend, withdraw) does; accrediting and reinstating
    /// do not.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Reject | Self::Suspend | Self::Withdraw)
    }
}

const PROVIDER_MACHINE: StateMachine<ProviderStatus, ProviderAction> = StateMachine {
    entity: "ce_provider",
    rule: Some("CED-4"),
    edges: &[
        (
            ProviderStatus::Applied,
            ProviderAction::Accredit,
            ProviderStatus::Accredited,
        ),
        (
            ProviderStatus::Applied,
            ProviderAction::Reject,
            ProviderStatus::Rejected,
        ),
        (
            ProviderStatus::Accredited,
            ProviderAction::Suspend,
            ProviderStatus::Suspended,
        ),
        (
            ProviderStatus::Accredited,
            ProviderAction::Withdraw,
            ProviderStatus::Withdrawn,
        ),
        (
            ProviderStatus::Suspended,
            ProviderAction::Reinstate,
            ProviderStatus::Accredited,
        ),
        (
            ProviderStatus::Suspended,
            ProviderAction::Withdraw,
            ProviderStatus::Withdrawn,
        ),
    ],
};

/// Applies the authority's `action` to a provider in `from` (CED-4, API-4):
/// applied → accredited | rejected; accredited ⇄ suspended; accredited or
/// suspended → withdrawn.
pub fn provider_transition(
    from: ProviderStatus,
    action: ProviderAction,
) -> Result<ProviderStatus, InvalidTransition> {
    PROVIDER_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a provider in `from`.
pub fn provider_allowed_actions(from: ProviderStatus) -> Vec<&'static str> {
    PROVIDER_MACHINE.allowed(from)
}

/// CED-4: only an accredited provider records activities and credits; a
/// provider that applied, was rejected, is suspended or was withdrawn is
/// refused with `provider_not_active`.
pub fn check_provider_may_record(status: ProviderStatus) -> Result<(), Refusal> {
    if status == ProviderStatus::Accredited {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CED-4",
            "provider_not_active",
            format!(
                "the provider is {status}; only an accredited provider may record activities and credits"
            ),
        ))
    }
}

/// CED-4: a provider whose application was rejected or whose accreditation
/// was withdrawn no longer edits its published information.
pub fn check_provider_editable(status: ProviderStatus) -> Result<(), Refusal> {
    if status.is_live() {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CED-4",
            "provider_closed",
            format!("the provider is {status}; apply again to publish new information"),
        ))
    }
}

wire_enum! {
    /// Where a credit comes from (CED-3, seed 004 art. 15 and 16).
    pub enum CeSource("ce_source") {
        /// Online course on the provincial CE platform (art. 15).
        OnlineCourse => "online_course",
        /// Online test on the provincial CE platform (art. 15).
        OnlineTest => "online_test",
        /// Learning on another partner online platform (art. 15 "其他战略合作在线学习平台").
        PartnerPlatform => "partner_platform",
        /// Training, study or advanced class of the authority or a provider (art. 16(1)).
        OfflineClass => "offline_class",
        /// Skills training, process innovation or technical exchange workshop (art. 16(1)).
        Workshop => "workshop",
        /// Skills competition recognised by the authority (art. 16(2) 技能比武).
        Competition => "competition",
        /// Exchange lecture recognised by the authority (art. 16(2) 交流讲座).
        Lecture => "lecture",
        /// Technical study visit recognised by the authority (art. 16(2) 技术访学).
        TechnicalVisit => "technical_visit",
        /// Technical-education teaching research recognised by the authority (art. 16(2) 技工教育教研).
        TeachingResearch => "teaching_research",
        /// Employer-organised CE, alone or with a provider, registered with the authority (art. 16(3)).
        EmployerTraining => "employer_training",
        /// Work-as-training (以工代训), registered on the platform (art. 16(4)).
        WorkAsTraining => "work_as_training",
        /// Skills volunteering (技能志愿服务), registered on the platform (art. 16(4)).
        SkillsVolunteering => "skills_volunteering",
        /// Any other form reviewed and registered (art. 16(5)).
        OtherApproved => "other_approved",
    }
}

impl CeSource {
    /// Online learning (art. 15); everything else is offline (art. 16).
    pub fn is_online(self) -> bool {
        matches!(
            self,
            Self::OnlineCourse | Self::OnlineTest | Self::PartnerPlatform
        )
    }

    /// CED-3: whether an activity of this source counts only once the
    /// authority has registered it. Online learning (art. 15) and the classes
    /// and workshops of an accredited provider (art. 16(1)) count at once;
    /// art. 16(2) asks for activities "recognised by the authority", and
    /// 16(3) to (5) for a registration (备案) first.
    pub fn needs_registration(self) -> bool {
        !matches!(
            self,
            Self::OnlineCourse
                | Self::OnlineTest
                | Self::PartnerPlatform
                | Self::OfflineClass
                | Self::Workshop
        )
    }

    /// Sources an employer (not a provider) records for its own staff: its own
    /// training, work-as-training, skills volunteering and other approved
    /// forms (art. 16(3) to (5)). Courses, tests, classes, competitions and the
    /// like are run by the authority or a provider.
    pub fn employer_may_record(self) -> bool {
        matches!(
            self,
            Self::EmployerTraining
                | Self::WorkAsTraining
                | Self::SkillsVolunteering
                | Self::OtherApproved
        )
    }
}

wire_enum! {
    /// Subject category of CE content (seed 004 art. 13, CED-2).
    pub enum SubjectCategory("subject_category") {
        /// Public subjects: law, policy, theory, professional ethics, technical information.
        Public => "public",
        /// Professional subjects: new theory, knowledge, technology, processes of the trade.
        Professional => "professional",
    }
}

/// Who records an activity and its credits (CED-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorder {
    /// An accredited provider (继续教育基地), including partner platforms.
    Provider,
    /// An employer recording CE it organised for its staff.
    Employer,
}

/// CED-3: an employer may record only the sources it organises itself
/// ([`CeSource::employer_may_record`]); a provider may record any source.
pub fn check_source_for(recorder: Recorder, source: CeSource) -> Result<(), Refusal> {
    if recorder == Recorder::Provider || source.employer_may_record() {
        Ok(())
    } else {
        Err(Refusal::rule(
            "CED-3",
            "source_not_for_employers",
            format!(
                "an employer records only employer_training, work_as_training, skills_volunteering \
                 or other_approved; {source} activities are recorded by the provider that ran them"
            ),
        ))
    }
}

wire_enum! {
    /// Where a CE activity stands (CED-3).
    pub enum ActivityStatus("ce_activity_status") {
        /// Waiting for the authority to register it; no credits yet.
        PendingRegistration => "pending_registration",
        /// Counts: credits may be recorded.
        Registered => "registered",
        /// The authority refused to register it, with a reason. Final.
        Rejected => "rejected",
    }
}

wire_enum! {
    /// The authority's decision on an activity waiting for registration:
    /// `POST /ce/activities/{id}/{action}` (CED-3).
    pub enum ActivityAction("ce_activity_action") {
        /// Register the activity: credits may then be recorded.
        Register => "register",
        /// Refuse it, with a reason.
        Reject => "reject",
    }
}

const ACTIVITY_MACHINE: StateMachine<ActivityStatus, ActivityAction> = StateMachine {
    entity: "ce_activity",
    rule: Some("CED-3"),
    edges: &[
        (
            ActivityStatus::PendingRegistration,
            ActivityAction::Register,
            ActivityStatus::Registered,
        ),
        (
            ActivityStatus::PendingRegistration,
            ActivityAction::Reject,
            ActivityStatus::Rejected,
        ),
    ],
};

/// Applies the authority's `action` to an activity in `from` (CED-3, API-4).
pub fn activity_transition(
    from: ActivityStatus,
    action: ActivityAction,
) -> Result<ActivityStatus, InvalidTransition> {
    ACTIVITY_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on an activity in `from`.
pub fn activity_allowed_actions(from: ActivityStatus) -> Vec<&'static str> {
    ACTIVITY_MACHINE.allowed(from)
}

/// The status a new activity of `source` starts in (CED-3).
pub fn initial_activity_status(source: CeSource) -> ActivityStatus {
    if source.needs_registration() {
        ActivityStatus::PendingRegistration
    } else {
        ActivityStatus::Registered
    }
}

/// CED-3: credits are recorded only for a registered activity.
pub fn check_activity_open(status: ActivityStatus) -> Result<(), Refusal> {
    match status {
        ActivityStatus::Registered => Ok(()),
        ActivityStatus::PendingRegistration => Err(Refusal::rule(
            "CED-3",
            "activity_not_registered",
            "the activity must first be registered with the authority; credits can be recorded after that",
        )),
        ActivityStatus::Rejected => Err(Refusal::rule(
            "CED-3",
            "activity_rejected",
            "the authority refused to register this activity; it earns no credits",
        )),
    }
}

/// What one participant of an activity gets (CED-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditOutcome {
    /// The activity's credits; `exam_based` when earned by passing its exam
    /// (CED-2 counts exam credits apart).
    Earned {
        /// Whether the credits come from a passed exam.
        exam_based: bool,
    },
    /// The participant failed the activity's exam: no credits (seed 004
    /// art. 20: exam credits are obtained by passing). Reported, not recorded.
    ExamFailed,
}

/// The highest exam score accepted.
pub const EXAM_SCORE_MAX: i32 = 100;

/// CED-3: the credit a participant earns given the activity's exam and the
/// participant's result. An activity with an exam needs `exam_passed` for
/// every participant; a failed exam earns nothing. An activity without an
/// exam takes no exam result. A score is 0 to 100. Field errors name
/// `exam_passed` or `exam_score`; the caller prefixes the row.
pub fn credit_outcome(
    has_exam: bool,
    exam_passed: Option<bool>,
    exam_score: Option<i32>,
) -> Result<CreditOutcome, FieldError> {
    if let Some(score) = exam_score
        && !(0..=EXAM_SCORE_MAX).contains(&score)
    {
        return Err(FieldError::new(
            "exam_score",
            "exam_score_range",
            format!("an exam score is 0 to {EXAM_SCORE_MAX}"),
        ));
    }
    if !has_exam {
        if exam_passed.is_some() || exam_score.is_some() {
            let field = if exam_passed.is_some() {
                "exam_passed"
            } else {
                "exam_score"
            };
            return Err(FieldError::new(
                field,
                "activity_has_no_exam",
                "the activity has no exam; leave the exam result out",
            ));
        }
        return Ok(CreditOutcome::Earned { exam_based: false });
    }
    match exam_passed {
        None => Err(FieldError::new(
            "exam_passed",
            "exam_result_required",
            "the activity has an exam: say whether the participant passed it",
        )),
        Some(true) => Ok(CreditOutcome::Earned { exam_based: true }),
        Some(false) => Ok(CreditOutcome::ExamFailed),
    }
}

/// CED-3: the date a participant earned the credits: the activity's date
/// unless given (a course taken online on a later day). It may not precede
/// the activity nor lie after `today` (the association's local date): the
/// register holds learning that happened. Its year is the credit's year.
pub fn earned_on(
    held_on: NaiveDate,
    given: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, FieldError> {
    let date = given.unwrap_or(held_on);
    if date < held_on {
        return Err(FieldError::new(
            "earned_on",
            "earned_before_activity",
            format!("credits cannot be earned before the activity ({held_on})"),
        ));
    }
    if date > today {
        return Err(FieldError::new(
            "earned_on",
            "earned_in_future",
            format!(
                "credits are recorded once earned; {date} is after today ({today}){}",
                if given.is_none() {
                    ": record them on or after the activity's date"
                } else {
                    ""
                }
            ),
        ));
    }
    Ok(date)
}

/// Why a valid row of an upload recorded nothing (reported back, CED-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The person already has credits for this activity: never counted twice.
    AlreadyRecorded,
    /// The person failed the activity's exam ([`CreditOutcome::ExamFailed`]).
    ExamFailed,
}

impl SkipReason {
    /// The stable code reported for the row.
    pub fn code(self) -> &'static str {
        match self {
            Self::AlreadyRecorded => "already_recorded",
            Self::ExamFailed => "exam_failed",
        }
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
        assert_wire_enums!(
            ProviderCondition,
            ProviderStatus,
            ProviderAction,
            CeSource,
            SubjectCategory,
            ActivityStatus,
            ActivityAction
        );
        assert_eq!(ProviderCondition::ALL.len(), 5);
        assert_eq!(CeSource::ALL.len(), 13);
    }

    #[test]
    fn an_application_needs_all_five_conditions_ced_4() {
        // rule CED-4: seed 004 art. 9 "必须同时符合下列条件"
        assert!(check_conditions(ProviderCondition::ALL).is_ok());
        let r = check_conditions(&[
            ProviderCondition::TeachingFacilities,
            ProviderCondition::PlansAndRules,
            ProviderCondition::LegalCompliance,
        ])
        .unwrap_err();
        assert_eq!(
            (r.code, r.rule),
            ("provider_condition_missing", Some("CED-4"))
        );
        assert!(
            r.detail.ends_with("teaching_staff, quality_assurance"),
            "{}",
            r.detail
        );
        assert_eq!(missing_conditions(&[]), ProviderCondition::ALL);
    }

    #[test]
    fn provider_state_machine_ced_4() {
        // rule CED-4: the authority accredits, suspends or withdraws
        use ProviderAction::*;
        use ProviderStatus::*;
        assert_machine(
            ProviderStatus::ALL,
            ProviderAction::ALL,
            &[
                (Applied, Accredit, Accredited),
                (Applied, Reject, Rejected),
                (Accredited, Suspend, Suspended),
                (Accredited, Withdraw, Withdrawn),
                (Suspended, Reinstate, Accredited),
                (Suspended, Withdraw, Withdrawn),
            ],
            provider_transition,
            provider_allowed_actions,
            "ce_provider",
            Some("CED-4"),
        );
        assert_eq!(
            ProviderStatus::ALL
                .iter()
                .filter(|s| s.is_live())
                .copied()
                .collect::<Vec<_>>(),
            [Applied, Accredited, Suspended]
        );
        assert_eq!(
            ProviderAction::ALL
                .iter()
                .filter(|a| a.needs_reason())
                .copied()
                .collect::<Vec<_>>(),
            [Reject, Suspend, Withdraw]
        );
    }

    #[test]
    fn only_an_accredited_provider_records_ced_4() {
        // rule CED-4: a suspended provider cannot record credits
        assert!(check_provider_may_record(ProviderStatus::Accredited).is_ok());
        for s in [
            ProviderStatus::Applied,
            ProviderStatus::Rejected,
            ProviderStatus::Suspended,
            ProviderStatus::Withdrawn,
        ] {
            let r = check_provider_may_record(s).unwrap_err();
            assert_eq!((r.code, r.rule), ("provider_not_active", Some("CED-4")));
            assert!(r.detail.contains(s.as_str()));
        }
        assert!(check_provider_editable(ProviderStatus::Suspended).is_ok());
        let r = check_provider_editable(ProviderStatus::Withdrawn).unwrap_err();
        assert_eq!((r.code, r.rule), ("provider_closed", Some("CED-4")));
    }

    #[test]
    fn sources_registration_and_employers_ced_3() {
        // rule CED-3: online learning and provider classes count at once;
        // art. 16(2)-(5) activities need the authority first
        use CeSource::*;
        let immediate: Vec<_> = CeSource::ALL
            .iter()
            .copied()
            .filter(|s| !s.needs_registration())
            .collect();
        assert_eq!(
            immediate,
            [
                OnlineCourse,
                OnlineTest,
                PartnerPlatform,
                OfflineClass,
                Workshop
            ]
        );
        assert_eq!(
            initial_activity_status(EmployerTraining),
            ActivityStatus::PendingRegistration
        );
        assert_eq!(
            initial_activity_status(OnlineCourse),
            ActivityStatus::Registered
        );
        let online: Vec<_> = CeSource::ALL
            .iter()
            .copied()
            .filter(|s| s.is_online())
            .collect();
        assert_eq!(online, [OnlineCourse, OnlineTest, PartnerPlatform]);
        for &s in CeSource::ALL {
            assert!(check_source_for(Recorder::Provider, s).is_ok());
        }
        for s in [
            EmployerTraining,
            WorkAsTraining,
            SkillsVolunteering,
            OtherApproved,
        ] {
            assert!(check_source_for(Recorder::Employer, s).is_ok());
        }
        let r = check_source_for(Recorder::Employer, OnlineCourse).unwrap_err();
        assert_eq!(
            (r.code, r.rule),
            ("source_not_for_employers", Some("CED-3"))
        );
    }

    #[test]
    fn activity_registration_ced_3() {
        // rule CED-3: employer training registered with the authority
        use ActivityAction::*;
        use ActivityStatus::*;
        assert_machine(
            ActivityStatus::ALL,
            ActivityAction::ALL,
            &[
                (PendingRegistration, Register, Registered),
                (PendingRegistration, Reject, Rejected),
            ],
            activity_transition,
            activity_allowed_actions,
            "ce_activity",
            Some("CED-3"),
        );
        assert!(check_activity_open(Registered).is_ok());
        let r = check_activity_open(PendingRegistration).unwrap_err();
        assert_eq!((r.code, r.rule), ("activity_not_registered", Some("CED-3")));
        let r = check_activity_open(Rejected).unwrap_err();
        assert_eq!((r.code, r.rule), ("activity_rejected", Some("CED-3")));
    }

    #[test]
    fn exam_results_decide_exam_credits_ced_3() {
        // rule CED-3: exam result where there was an exam; CED-2 exam-based credits
        assert_eq!(
            credit_outcome(false, None, None),
            Ok(CreditOutcome::Earned { exam_based: false })
        );
        assert_eq!(
            credit_outcome(true, Some(true), Some(85)),
            Ok(CreditOutcome::Earned { exam_based: true })
        );
        assert_eq!(
            credit_outcome(true, Some(false), Some(40)),
            Ok(CreditOutcome::ExamFailed)
        );
        let e = credit_outcome(true, None, Some(70)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("exam_passed", "exam_result_required")
        );
        let e = credit_outcome(false, Some(true), None).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("exam_passed", "activity_has_no_exam")
        );
        let e = credit_outcome(false, None, Some(60)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("exam_score", "activity_has_no_exam")
        );
        for bad in [-1, 101] {
            let e = credit_outcome(true, Some(true), Some(bad)).unwrap_err();
            assert_eq!(e.code, "exam_score_range");
        }
        assert_eq!(SkipReason::ExamFailed.code(), "exam_failed");
        assert_eq!(SkipReason::AlreadyRecorded.code(), "already_recorded");
    }

    #[test]
    fn credits_are_earned_on_or_after_the_activity_and_not_in_the_future_ced_3() {
        // rule CED-3: the date of each credit record
        let held = d(2026, 3, 10);
        let today = d(2026, 4, 1);
        assert_eq!(earned_on(held, None, today), Ok(held));
        assert_eq!(
            earned_on(held, Some(d(2026, 3, 20)), today),
            Ok(d(2026, 3, 20))
        );
        assert_eq!(earned_on(held, Some(today), today), Ok(today));
        let e = earned_on(held, Some(d(2026, 3, 9)), today).unwrap_err();
        assert_eq!(e.code, "earned_before_activity");
        let e = earned_on(held, Some(d(2026, 4, 2)), today).unwrap_err();
        assert_eq!(e.code, "earned_in_future");
        let e = earned_on(d(2026, 5, 1), None, today).unwrap_err();
        assert_eq!(e.code, "earned_in_future");
    }
}
