//! Exams: sittings, eligibility, retakes and results (EXM-1 to EXM-5).
//!
//! - A class has exam sittings: `first`, and later `retake` sittings.
//! - Only eligible trainees are registered (EXM-2): paid (`paid`/`notified`),
//!   not `no_show` (DEF-4), fewer than two unexcused absences (ATT-3), not
//!   disqualified in this class (DSC-1, DSC-2), not banned from this
//!   program's exams (DSC-4). [`eligibility`] lists every reason at once.
//! - A trainee who failed the first attempt may take one retake (EXM-3),
//!   free of charge except for `skill_level` programs, where it carries the
//!   program's exam fee (EXM-4). `attempt` counts the registrations.
//! - Scores are 0–100 per part; the trainee passes when every part the
//!   program's exam has reaches its pass mark (EXM-1). Results are published
//!   per class, and only once every registration has its result (EXM-5).
//!
//! # The `exam_registrations` row
//!
//! One row per (sitting, enrolment) (unique). `attempt` is 1 for the first
//! sitting and 2 for the one retake; `charged` says whether the retake carried
//! the exam fee (EXM-4, a `charge`/`exam_fee` ledger entry written in the same
//! transaction). `status` is a [`RegistrationStatus`]: `registered` until a
//! result is complete, then `completed`; `disqualified` when exam discipline
//! (DSC-1 second cheating offence, DSC-2 impersonation) disqualifies the
//! trainee: that writer sets `theory_score`/`practical_score` to 0 for the
//! parts the exam has and `passed = false`; results entry then keeps those
//! zeros. `passed` is `None` until every part the exam has is scored.
//! `result_entered_by/at` name the last result entry; a result entered after
//! the class's last publication stays hidden from trainees and organisations
//! until the class's results are published again.

use chrono::NaiveDate;
use serde::Serialize;

use crate::enrolment::EnrolmentStatus;
use crate::error::{FieldError, Refusal};
use crate::money::Fen;
use crate::program::ExamComponents;
use crate::wire::wire_enum;

/// The highest score of a part (scores are out of 100).
pub const MAX_SCORE: i64 = 100;

wire_enum! {
    /// The kind of an exam sitting (EXM-3).
    pub enum SittingKind("sitting_kind") {
        /// The class's regular exam.
        First => "first",
        /// A retake for trainees who failed the first attempt (EXM-3, EXM-4).
        Retake => "retake",
    }
}

wire_enum! {
    /// Where a sitting stands. Sittings are scheduled; discipline and results
    /// are recorded against their registrations.
    pub enum SittingStatus("sitting_status") {
        /// Scheduled: takes registrations, incidents and results.
        Scheduled => "scheduled",
    }
}

wire_enum! {
    /// Where an exam registration stands (EXM-1, DSC-1, DSC-2).
    pub enum RegistrationStatus("registration_status") {
        /// Registered; the result is not complete yet.
        Registered => "registered",
        /// Disqualified by exam discipline: every part scores 0, not passed.
        Disqualified => "disqualified",
        /// Every part the exam has is scored; `passed` is set.
        Completed => "completed",
    }
}

/// Why a trainee may not sit an exam (EXM-2): a stable code, the rule and a
/// human detail. The same shape lists the reasons of `GET
/// /enrolments/{id}/eligibility` and of refused registrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ineligibility {
    /// Stable machine code, e.g. `too_many_absences`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "too_many_absences"))]
    pub code: &'static str,
    /// The SPEC rule, e.g. `ATT-3`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "ATT-3"))]
    pub rule: &'static str,
    /// What it means for this trainee.
    pub detail: String,
}

impl From<Refusal> for Ineligibility {
    fn from(r: Refusal) -> Self {
        Ineligibility {
            code: r.code,
            rule: r.rule.unwrap_or("EXM-2"),
            detail: r.detail,
        }
    }
}

impl From<Ineligibility> for Refusal {
    fn from(i: Ineligibility) -> Self {
        Refusal::rule(i.rule, i.code, i.detail)
    }
}

/// What decides a trainee's exam eligibility in one class (EXM-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityFacts {
    /// The enrolment's status.
    pub status: EnrolmentStatus,
    /// The dates of the unexcused absences in the class (ATT-3).
    pub absent_on: Vec<NaiveDate>,
    /// Whether a registration of this enrolment was disqualified (DSC-1, DSC-2).
    pub disqualified: bool,
    /// The refusal of a ban covering this program's exams today (DSC-4, ENR-4).
    pub ban: Option<Refusal>,
}

/// EXM-2: every reason the trainee may not be registered for an exam of the
/// class, in a fixed order (payment, no-show, attendance, disqualification,
/// ban); empty when eligible.
pub fn eligibility(facts: &EligibilityFacts) -> Vec<Ineligibility> {
    let mut reasons = Vec::new();
    match facts.status {
        s if s.is_paid_up() => {}
        EnrolmentStatus::NoShow => reasons.push(Ineligibility {
            code: "no_show",
            rule: "DEF-4",
            detail: "the trainee did not attend the class and filed no deferral in time (no_show)"
                .to_owned(),
        }),
        other => reasons.push(Ineligibility {
            code: "not_paid",
            rule: "EXM-2",
            detail: format!(
                "the enrolment is {other}: only a paid trainee (paid or notified) takes part in the exam"
            ),
        }),
    }
    if let Some(r) = crate::attendance::absence_refusal(&facts.absent_on) {
        reasons.push(r.into());
    }
    if facts.disqualified {
        reasons.push(Ineligibility {
            code: "disqualified",
            rule: "EXM-2",
            detail: "the trainee was disqualified in an exam of this class (exam discipline)"
                .to_owned(),
        });
    }
    if let Some(ban) = &facts.ban {
        reasons.push(Ineligibility {
            code: ban.code,
            rule: "DSC-4",
            detail: ban.detail.clone(),
        });
    }
    reasons
}

/// An earlier registration of the same enrolment, as the retake rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousAttempt {
    /// Its status.
    pub status: RegistrationStatus,
    /// Whether it passed (`None`: no complete result yet).
    pub passed: Option<bool>,
}

fn retake_refusal(detail: impl Into<String>) -> Ineligibility {
    Ineligibility {
        code: "retake_not_allowed",
        rule: "EXM-3",
        detail: detail.into(),
    }
}

/// EXM-3: the attempt number of a new registration for a sitting of `kind`,
/// given the enrolment's earlier registrations. A first sitting takes a
/// trainee who has no attempt yet (code `already_registered` otherwise). A
/// retake takes exactly one earlier attempt that has a result and failed;
/// someone who never sat, who passed, whose first result is not in, or who
/// already used the one retake is refused (code `retake_not_allowed`).
pub fn next_attempt(kind: SittingKind, previous: &[PreviousAttempt]) -> Result<i32, Ineligibility> {
    match kind {
        SittingKind::First => {
            if previous.is_empty() {
                Ok(1)
            } else {
                Err(Ineligibility {
                    code: "already_registered",
                    rule: "EXM-3",
                    detail: "the trainee is already registered for an exam of this class; \
                             after a failed first attempt register for a retake sitting"
                        .to_owned(),
                })
            }
        }
        SittingKind::Retake => match previous {
            [] => Err(retake_refusal(
                "the trainee never sat the first exam: a retake follows a failed first attempt",
            )),
            [first] => match first.passed {
                Some(false) => Ok(2),
                Some(true) => Err(retake_refusal(
                    "the trainee passed: there is nothing to retake",
                )),
                None => Err(retake_refusal(
                    "the first attempt has no result yet: a retake follows a failed first attempt",
                )),
            },
            _ => Err(retake_refusal(
                "the trainee already took the one retake allowed after a failed first attempt",
            )),
        },
    }
}

/// EXM-3, EXM-4: what a registration with `attempt` costs. The first attempt
/// is covered by the enrolment's exam fee; the one retake is free, except for
/// a `skill_level` program, where it carries the program's exam fee again
/// (`None` when nothing is charged, also for a zero fee).
pub fn retake_charge(attempt: i32, skill_level: bool, exam_fee: Fen) -> Option<Fen> {
    (attempt > 1 && skill_level && !exam_fee.is_zero()).then_some(exam_fee)
}

/// A score of one part, 0 to 100 (EXM-1); `field` names it in the error.
pub fn check_score(field: &str, value: i64) -> Result<u8, FieldError> {
    if (0..=MAX_SCORE).contains(&value) {
        u8::try_from(value)
            .map_err(|_| FieldError::new(field, "score_range", "a score is 0 to 100"))
    } else {
        Err(FieldError::new(field, "score_range", "a score is 0 to 100"))
    }
}

/// A stored result: scores per part, whether it passed, and the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExamResult {
    /// The theory score.
    pub theory: Option<u8>,
    /// The practical score.
    pub practical: Option<u8>,
    /// `None` until every part the exam has is scored.
    pub passed: Option<bool>,
    /// `completed` once `passed` is known (or `disqualified`, unchanged).
    pub status: RegistrationStatus,
}

/// EXM-1: merges newly entered scores into a registration's result and
/// decides `passed` from the program's exam components. Parts not sent keep
/// their earlier score (parts may be entered separately, e.g. theory by the
/// officer and practical by the teacher). A score for a part the exam does not
/// have is refused (field code `no_such_part`). `passed` is set once every
/// part the exam has is scored: every part reaches its pass mark. A
/// disqualified registration keeps score 0 and `passed = false`, whatever is
/// sent (DSC-1, DSC-2).
pub fn enter_result(
    exam: &ExamComponents,
    current: ExamResult,
    theory: Option<u8>,
    practical: Option<u8>,
    field_prefix: &str,
) -> Result<ExamResult, Vec<FieldError>> {
    let mut errors = Vec::new();
    if theory.is_some() && exam.theory.is_none() {
        errors.push(FieldError::new(
            format!("{field_prefix}.theory_score"),
            "no_such_part",
            "the program's exam has no theory part",
        ));
    }
    if practical.is_some() && exam.practical.is_none() {
        errors.push(FieldError::new(
            format!("{field_prefix}.practical_score"),
            "no_such_part",
            "the program's exam has no practical part",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if current.status == RegistrationStatus::Disqualified {
        return Ok(disqualified_result(exam));
    }
    let theory = theory.or(current.theory);
    let practical = practical.or(current.practical);
    let complete = (exam.theory.is_none() || theory.is_some())
        && (exam.practical.is_none() || practical.is_some());
    let passed = complete.then(|| exam.passes(theory, practical));
    Ok(ExamResult {
        theory,
        practical,
        passed,
        status: if complete {
            RegistrationStatus::Completed
        } else {
            RegistrationStatus::Registered
        },
    })
}

/// The result of a disqualified registration (DSC-1, DSC-2): 0 for every part
/// the exam has, not passed.
pub fn disqualified_result(exam: &ExamComponents) -> ExamResult {
    ExamResult {
        theory: exam.theory.map(|_| 0),
        practical: exam.practical.map(|_| 0),
        passed: Some(false),
        status: RegistrationStatus::Disqualified,
    }
}

/// EXM-5: a sitting examines what the class taught, so it is never dated
/// before the class's first day (`sitting_before_class`). It may fall on any
/// day from the start on, including after the class ends (retakes come later).
pub fn check_sitting_date(held_on: NaiveDate, class_start: NaiveDate) -> Result<(), Refusal> {
    if held_on < class_start {
        Err(Refusal::rule(
            "EXM-5",
            "sitting_before_class",
            format!("the class starts on {class_start}; its exam cannot be held on {held_on}"),
        ))
    } else {
        Ok(())
    }
}

/// EXM-5: scores are entered for a sitting that has taken place: refused while
/// the sitting's date is still ahead in the association's time zone
/// (`sitting_not_held`). On the sitting's own day they are accepted, since the
/// practical part is often marked on the spot.
pub fn check_sitting_held(today: NaiveDate, held_on: NaiveDate) -> Result<(), Refusal> {
    if held_on > today {
        Err(Refusal::rule(
            "EXM-5",
            "sitting_not_held",
            format!(
                "the sitting is on {held_on}; results are entered from that day on (today is \
                 {today})"
            ),
        ))
    } else {
        Ok(())
    }
}

/// Whether a registration has its result for publishing (EXM-5): a complete
/// result (`passed` known), or a disqualification.
pub fn has_result(status: RegistrationStatus, passed: Option<bool>) -> bool {
    status == RegistrationStatus::Disqualified || passed.is_some()
}

/// EXM-5: a class's results are published only when the class has
/// registrations (`no_results`) and every registration of every sitting has
/// its result (`results_incomplete`, naming how many are missing).
pub fn check_publishable(registrations: usize, missing: usize) -> Result<(), Refusal> {
    if registrations == 0 {
        return Err(Refusal::rule(
            "EXM-5",
            "no_results",
            "no trainee of this class is registered for an exam: there are no results to publish",
        ));
    }
    if missing > 0 {
        return Err(Refusal::rule(
            "EXM-5",
            "results_incomplete",
            format!(
                "{missing} of {registrations} exam registrations of this class have no result yet; \
                 enter every result before publishing"
            ),
        ));
    }
    Ok(())
}

/// EXM-5: publishing again is only useful when results were entered after the
/// last publication (e.g. of a retake); otherwise 409 `results_already_published`.
pub fn check_something_to_publish(
    already_published: bool,
    entered_since: usize,
) -> Result<(), Refusal> {
    if already_published && entered_since == 0 {
        Err(Refusal::rule(
            "EXM-5",
            "results_already_published",
            "the class's results are already published and none was entered since",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{PracticalPart, TheoryMode, TheoryPart};
    use crate::wire::testing::assert_wire_enums;

    fn exam(mode: TheoryMode, theory: Option<u8>, practical: Option<u8>) -> ExamComponents {
        ExamComponents {
            theory: theory.map(|pass_mark| TheoryPart { mode, pass_mark }),
            practical: practical.map(|pass_mark| PracticalPart { pass_mark }),
        }
    }

    fn fresh() -> ExamResult {
        ExamResult {
            theory: None,
            practical: None,
            passed: None,
            status: RegistrationStatus::Registered,
        }
    }

    #[test]
    fn sittings_fall_within_the_class_and_scores_follow_them_exm_5() {
        // rule EXM-5
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let r = check_sitting_date(day(4, 5), day(4, 6)).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("EXM-5"), "sitting_before_class"));
        assert!(check_sitting_date(day(4, 6), day(4, 6)).is_ok());
        assert!(check_sitting_date(day(5, 9), day(4, 6)).is_ok());
        let r = check_sitting_held(day(4, 8), day(4, 9)).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("EXM-5"), "sitting_not_held"));
        assert!(check_sitting_held(day(4, 9), day(4, 9)).is_ok());
        assert!(check_sitting_held(day(4, 10), day(4, 9)).is_ok());
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(SittingKind, SittingStatus, RegistrationStatus);
    }

    #[test]
    fn every_reason_is_listed() {
        // rule EXM-2, ATT-3, DEF-4, DSC-4
        let d = |day| NaiveDate::from_ymd_opt(2026, 4, day).unwrap();
        let ok = EligibilityFacts {
            status: EnrolmentStatus::Notified,
            absent_on: vec![d(6)],
            disqualified: false,
            ban: None,
        };
        assert!(eligibility(&ok).is_empty());
        let all = EligibilityFacts {
            status: EnrolmentStatus::Confirmed,
            absent_on: vec![d(6), d(7)],
            disqualified: true,
            ban: Some(Refusal::rule(
                "ENR-4",
                "person_banned",
                "banned until 2027-01-01",
            )),
        };
        let codes: Vec<_> = eligibility(&all).iter().map(|r| (r.code, r.rule)).collect();
        assert_eq!(
            codes,
            vec![
                ("not_paid", "EXM-2"),
                ("too_many_absences", "ATT-3"),
                ("disqualified", "EXM-2"),
                ("person_banned", "DSC-4"),
            ]
        );
        let no_show = EligibilityFacts {
            status: EnrolmentStatus::NoShow,
            ..ok
        };
        assert_eq!(eligibility(&no_show)[0].code, "no_show");
    }

    #[test]
    fn one_retake_after_a_failed_first_attempt() {
        // rule EXM-3
        let failed = PreviousAttempt {
            status: RegistrationStatus::Completed,
            passed: Some(false),
        };
        let passed = PreviousAttempt {
            passed: Some(true),
            ..failed
        };
        let pending = PreviousAttempt {
            status: RegistrationStatus::Registered,
            passed: None,
        };
        assert_eq!(next_attempt(SittingKind::First, &[]), Ok(1));
        assert_eq!(
            next_attempt(SittingKind::First, &[failed])
                .unwrap_err()
                .code,
            "already_registered"
        );
        assert_eq!(next_attempt(SittingKind::Retake, &[failed]), Ok(2));
        for previous in [&[][..], &[passed], &[pending], &[failed, failed]] {
            let r = next_attempt(SittingKind::Retake, previous).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("retake_not_allowed", "EXM-3"),
                "{previous:?}"
            );
        }
    }

    #[test]
    fn retake_is_free_except_for_skill_level_programs() {
        // rule EXM-3, EXM-4
        let fee = Fen::from_stored(30_000);
        assert_eq!(retake_charge(1, true, fee), None);
        assert_eq!(retake_charge(2, false, fee), None);
        assert_eq!(retake_charge(2, true, fee), Some(fee));
        assert_eq!(retake_charge(2, true, Fen::from_stored(0)), None);
    }

    #[test]
    fn pass_needs_every_part_at_its_pass_mark() {
        // rule EXM-1: open- and closed-book theory plus practical
        for mode in [TheoryMode::OpenBook, TheoryMode::ClosedBook] {
            let e = exam(mode, Some(60), Some(70));
            let r = enter_result(&e, fresh(), Some(60), Some(70), "r").unwrap();
            assert_eq!(
                (r.passed, r.status),
                (Some(true), RegistrationStatus::Completed)
            );
            let r = enter_result(&e, fresh(), Some(59), Some(90), "r").unwrap();
            assert_eq!(r.passed, Some(false));
            let r = enter_result(&e, fresh(), Some(95), Some(69), "r").unwrap();
            assert_eq!(r.passed, Some(false));
            // Entered per part: theory first, then practical.
            let half = enter_result(&e, fresh(), Some(80), None, "r").unwrap();
            assert_eq!(
                (half.passed, half.status),
                (None, RegistrationStatus::Registered)
            );
            let full = enter_result(&e, half, None, Some(75), "r").unwrap();
            assert_eq!(
                (full.theory, full.practical, full.passed),
                (Some(80), Some(75), Some(true))
            );
        }
        let theory_only = exam(TheoryMode::ClosedBook, Some(60), None);
        let errs =
            enter_result(&theory_only, fresh(), Some(70), Some(70), "results[0]").unwrap_err();
        assert_eq!(errs[0].field, "results[0].practical_score");
        assert_eq!(errs[0].code, "no_such_part");
        assert_eq!(
            enter_result(&theory_only, fresh(), Some(70), None, "r")
                .unwrap()
                .passed,
            Some(true)
        );
    }

    #[test]
    fn disqualified_keeps_zero() {
        // rule EXM-1 with DSC-1/DSC-2: a disqualified registration stays at 0, not passed
        let e = exam(TheoryMode::OpenBook, Some(60), Some(60));
        let current = disqualified_result(&e);
        let r = enter_result(&e, current, Some(99), Some(99), "r").unwrap();
        assert_eq!(r, current);
        assert_eq!(
            (r.theory, r.practical, r.passed),
            (Some(0), Some(0), Some(false))
        );
    }

    #[test]
    fn scores_are_0_to_100() {
        // rule EXM-1
        assert_eq!(check_score("s", 0), Ok(0));
        assert_eq!(check_score("s", 100), Ok(100));
        assert_eq!(check_score("s", 101).unwrap_err().code, "score_range");
        assert_eq!(check_score("s", -1).unwrap_err().code, "score_range");
    }

    #[test]
    fn publishing_needs_every_result() {
        // rule EXM-5
        assert_eq!(check_publishable(0, 0).unwrap_err().code, "no_results");
        let r = check_publishable(3, 1).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("EXM-5"), "results_incomplete"));
        assert!(check_publishable(3, 0).is_ok());
        assert!(has_result(RegistrationStatus::Disqualified, None));
        assert!(has_result(RegistrationStatus::Completed, Some(false)));
        assert!(!has_result(RegistrationStatus::Registered, None));
        assert!(check_something_to_publish(false, 0).is_ok());
        assert!(check_something_to_publish(true, 2).is_ok());
        assert_eq!(
            check_something_to_publish(true, 0).unwrap_err().code,
            "results_already_published"
        );
    }
}
