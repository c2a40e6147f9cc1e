//! Whether a person met the yearly continuing-education requirement (SPEC
//! §10, seed 004 art. 3 and 20).
//!
//! - CED-1: skilled talent start CE once they hold a vocational
//!   qualification, skill level or special-ability certificate (art. 3); the
//!   person record carries its issue date (PPL-1). The certificate year
//!   itself is **not** required: the obligation starts on 1 January of the
//!   following year ([`obligation`]). The spec is silent on the first year; a
//!   person certified in December cannot earn 60 credits in a few weeks, and
//!   pro-rating would make the rule hard to read for the person it binds, so
//!   the first full calendar year is the first one that counts. Credits
//!   earned before that are still recorded and shown. A person without a
//!   certificate date on file is not under obligation.
//! - CED-2: each calendar year at least 60 credits, of which at least 10 in
//!   public and at least 40 in professional subjects, and a configurable
//!   minimum of the professional credits from subject exams (art. 20 "部分学分须
//!   通过专项知识考试取得"). Every threshold is configuration per region
//!   ([`Requirement`]); a region without its own row uses
//!   [`Requirement::DEFAULT`]. The seed names no number for the exam-based
//!   part, so the default is 0: nobody is held behind by a number no authority
//!   set, and a region sets its own ([`check_requirement`]).
//! - CED-5: the answer per person and year names each category's shortfall
//!   ([`assess`], [`Missing`]) and the fewest credits that would still close
//!   them all ([`Missing::credits_needed`]).

use chrono::{Datelike, NaiveDate};

use crate::error::FieldError;
use crate::wire::wire_enum;

/// The highest threshold a region may set for any category (a typo guard:
/// ten times the default yearly total).
pub const THRESHOLD_MAX: i32 = 600;

/// One region's yearly CE requirement (CED-2), in credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// Credits needed in the year, all categories together.
    pub total: i32,
    /// Credits needed in public subjects.
    pub public: i32,
    /// Credits needed in professional subjects.
    pub professional: i32,
    /// Professional credits needed from subject exams (part of `professional`).
    pub exam: i32,
}

impl Requirement {
    /// The defaults of seed 004 art. 20: 60 in all, 10 public, 40
    /// professional; no exam-based number unless a region sets one.
    pub const DEFAULT: Requirement = Requirement {
        total: 60,
        public: 10,
        professional: 40,
        exam: 0,
    };
}

impl Default for Requirement {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// CED-2: a region's thresholds must be meetable and make sense together:
/// each between 0 and [`THRESHOLD_MAX`], the exam-based credits a part of the
/// professional ones, and public plus professional within the total (the
/// total is then the binding number, never silently raised by the parts).
pub fn check_requirement(r: &Requirement) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    for (field, value) in [
        ("total_credits", r.total),
        ("public_credits", r.public),
        ("professional_credits", r.professional),
        ("exam_credits", r.exam),
    ] {
        if !(0..=THRESHOLD_MAX).contains(&value) {
            errors.push(FieldError::new(
                field,
                "out_of_range",
                format!("must be between 0 and {THRESHOLD_MAX} credits"),
            ));
        }
    }
    if errors.is_empty() {
        if r.exam > r.professional {
            errors.push(FieldError::new(
                "exam_credits",
                "exceeds_professional",
                "exam-based credits are professional credits: at most professional_credits",
            ));
        }
        if r.public.saturating_add(r.professional) > r.total {
            errors.push(FieldError::new(
                "total_credits",
                "below_parts",
                "must be at least public_credits + professional_credits",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A person's credits of one year, summed by category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// All credits.
    pub total: i32,
    /// Credits in public subjects.
    pub public: i32,
    /// Credits in professional subjects.
    pub professional: i32,
    /// Professional credits earned by passing a subject exam.
    pub exam: i32,
}

/// What is still missing per category (0 where the category is met).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Missing {
    /// Credits short of the yearly total.
    pub total: i32,
    /// Public credits short of the public minimum.
    pub public: i32,
    /// Professional credits short of the professional minimum.
    pub professional: i32,
    /// Exam-based professional credits short of the exam minimum.
    pub exam: i32,
}

impl Missing {
    /// Whether nothing is missing.
    pub fn is_nothing(&self) -> bool {
        *self == Missing::default()
    }

    /// The fewest further credits that would close every shortfall: exam
    /// credits are professional credits, and both categories count towards
    /// the total.
    pub fn credits_needed(&self) -> i32 {
        let by_parts = self.public + self.professional.max(self.exam);
        self.total.max(by_parts)
    }
}

/// CED-2/CED-5: what `tally` lacks against `requirement`.
pub fn assess(requirement: &Requirement, tally: &Tally) -> Missing {
    let short = |need: i32, have: i32| need.saturating_sub(have).max(0);
    Missing {
        total: short(requirement.total, tally.total),
        public: short(requirement.public, tally.public),
        professional: short(requirement.professional, tally.professional),
        exam: short(requirement.exam, tally.exam),
    }
}

wire_enum! {
    /// Whether a person had to earn the requirement in a year (CED-1).
    pub enum ObligationStatus("obligation_status") {
        /// No skill certificate date on file: not under the CE obligation.
        NoCertificate => "no_certificate",
        /// The year is the certificate year or earlier: not required yet.
        NotYetRequired => "not_yet_required",
        /// The year is after the certificate year: the requirement applies.
        Required => "required",
    }
}

/// A person's CE obligation in one year (CED-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obligation {
    /// Whether the requirement applies that year.
    pub status: ObligationStatus,
    /// The first calendar year the requirement applies, when known.
    pub first_year: Option<i32>,
}

impl Obligation {
    /// Whether the requirement applies that year.
    pub fn is_required(&self) -> bool {
        self.status == ObligationStatus::Required
    }
}

/// CED-1: the first year the requirement applies to a person whose skill
/// certificate was issued on `certificate_issued_on` — the calendar year
/// after the certificate year.
pub fn first_required_year(certificate_issued_on: NaiveDate) -> i32 {
    certificate_issued_on.year().saturating_add(1)
}

/// CED-1: whether the requirement applies in `year` to a person whose skill
/// certificate was issued on `certificate_issued_on` (none on file: never).
pub fn obligation(certificate_issued_on: Option<NaiveDate>, year: i32) -> Obligation {
    match certificate_issued_on {
        None => Obligation {
            status: ObligationStatus::NoCertificate,
            first_year: None,
        },
        Some(issued) => {
            let first = first_required_year(issued);
            Obligation {
                status: if year >= first {
                    ObligationStatus::Required
                } else {
                    ObligationStatus::NotYetRequired
                },
                first_year: Some(first),
            }
        }
    }
}

/// A person's standing in one year (CED-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Whether the credits meet the requirement (regardless of obligation).
    pub met: bool,
    /// Whether the person is under obligation that year and has not met it:
    /// "behind" in an organisation's list.
    pub behind: bool,
    /// The shortfall per category.
    pub missing: Missing,
}

/// CED-1/CED-2/CED-5: a person's standing in a year from their credits, the
/// requirement of their region and their obligation.
pub fn standing(requirement: &Requirement, tally: &Tally, obligation: &Obligation) -> Standing {
    let missing = assess(requirement, tally);
    let met = missing.is_nothing();
    Standing {
        met,
        behind: obligation.is_required() && !met,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    fn tally(public: i32, professional: i32, exam: i32) -> Tally {
        Tally {
            total: public + professional,
            public,
            professional,
            exam,
        }
    }

    #[test]
    fn defaults_are_those_of_seed_004() {
        // rule CED-2: 60 in all, 10 public, 40 professional
        let d = Requirement::default();
        assert_eq!((d.total, d.public, d.professional, d.exam), (60, 10, 40, 0));
        assert!(check_requirement(&d).is_ok());
    }

    #[test]
    fn fifty_five_credits_miss_five_of_the_total() {
        // rule CED-2, CED-5: 12 public + 43 professional = 55
        let m = assess(&Requirement::DEFAULT, &tally(12, 43, 0));
        assert_eq!(
            m,
            Missing {
                total: 5,
                public: 0,
                professional: 0,
                exam: 0
            }
        );
        assert_eq!(m.credits_needed(), 5);
        let s = standing(
            &Requirement::DEFAULT,
            &tally(12, 43, 0),
            &obligation(NaiveDate::from_ymd_opt(2020, 5, 1), 2026),
        );
        assert!(!s.met);
        assert!(s.behind);
    }

    #[test]
    fn sixty_credits_with_eight_public_miss_two_public() {
        // rule CED-2, CED-5: the total is met, the public minimum is not
        let m = assess(&Requirement::DEFAULT, &tally(8, 52, 0));
        assert_eq!(
            m,
            Missing {
                total: 0,
                public: 2,
                professional: 0,
                exam: 0
            }
        );
        assert_eq!(m.credits_needed(), 2);
    }

    #[test]
    fn sixty_credits_in_the_right_mix_meet_the_requirement() {
        // rule CED-2
        let s = standing(
            &Requirement::DEFAULT,
            &tally(10, 50, 0),
            &obligation(NaiveDate::from_ymd_opt(2020, 5, 1), 2026),
        );
        assert!(s.met);
        assert!(!s.behind);
        assert!(s.missing.is_nothing());
    }

    #[test]
    fn the_exam_based_minimum_is_part_of_the_professional_credits() {
        // rule CED-2: a region asking 20 exam-based credits
        let r = Requirement {
            exam: 20,
            ..Requirement::DEFAULT
        };
        let m = assess(&r, &tally(10, 50, 15));
        assert_eq!(m.exam, 5);
        assert_eq!(m.total, 0);
        assert_eq!(m.credits_needed(), 5);
        // 35 professional of which 30 from exams: professional short 5, exam met
        let m = assess(&r, &tally(25, 35, 30));
        assert_eq!((m.professional, m.exam, m.credits_needed()), (5, 0, 5));
        // exam credits count towards professional: the larger shortfall is needed
        let m = assess(&r, &tally(10, 30, 0));
        assert_eq!((m.total, m.professional, m.exam), (20, 10, 20));
        assert_eq!(m.credits_needed(), 20);
    }

    #[test]
    fn credits_needed_adds_public_and_professional_shortfalls() {
        // rule CED-5: 0 public, 30 professional: 10 public + 10 professional,
        // and the total asks 30 more
        let m = assess(&Requirement::DEFAULT, &tally(0, 30, 0));
        assert_eq!((m.total, m.public, m.professional), (30, 10, 10));
        assert_eq!(m.credits_needed(), 30);
        let r = Requirement {
            total: 50,
            ..Requirement::DEFAULT
        };
        let m = assess(&r, &tally(0, 30, 0));
        assert_eq!(m.credits_needed(), 20);
    }

    #[test]
    fn more_than_required_never_goes_negative() {
        // rule CED-5
        let m = assess(&Requirement::DEFAULT, &tally(100, 100, 100));
        assert!(m.is_nothing());
    }

    #[test]
    fn region_thresholds_must_fit_together() {
        // rule CED-2
        let bad_exam = Requirement {
            exam: 41,
            ..Requirement::DEFAULT
        };
        let e = check_requirement(&bad_exam).unwrap_err();
        assert_eq!(e[0].field, "exam_credits");
        let bad_total = Requirement {
            total: 45,
            ..Requirement::DEFAULT
        };
        let e = check_requirement(&bad_total).unwrap_err();
        assert_eq!(e[0].field, "total_credits");
        let negative = Requirement {
            public: -1,
            ..Requirement::DEFAULT
        };
        assert_eq!(
            check_requirement(&negative).unwrap_err()[0].code,
            "out_of_range"
        );
        let huge = Requirement {
            total: THRESHOLD_MAX + 1,
            ..Requirement::DEFAULT
        };
        assert!(check_requirement(&huge).is_err());
        let zero = Requirement {
            total: 0,
            public: 0,
            professional: 0,
            exam: 0,
        };
        assert!(check_requirement(&zero).is_ok());
    }

    #[test]
    fn the_obligation_starts_the_year_after_the_certificate() {
        // rule CED-1: the certificate year itself is not required
        let issued = NaiveDate::from_ymd_opt(2025, 12, 20);
        assert_eq!(
            obligation(issued, 2025).status,
            ObligationStatus::NotYetRequired
        );
        assert_eq!(
            obligation(issued, 2024).status,
            ObligationStatus::NotYetRequired
        );
        let o = obligation(issued, 2026);
        assert!(o.is_required());
        assert_eq!(o.first_year, Some(2026));
        let jan = NaiveDate::from_ymd_opt(2025, 1, 1);
        assert_eq!(
            obligation(jan, 2025).status,
            ObligationStatus::NotYetRequired
        );
    }

    #[test]
    fn without_a_certificate_nobody_is_behind() {
        // rule CED-1
        let o = obligation(None, 2026);
        assert_eq!(o.status, ObligationStatus::NoCertificate);
        assert_eq!(o.first_year, None);
        let s = standing(&Requirement::DEFAULT, &Tally::default(), &o);
        assert!(!s.met);
        assert!(!s.behind);
        assert_eq!(s.missing.total, 60);
        let before = standing(
            &Requirement::DEFAULT,
            &Tally::default(),
            &obligation(NaiveDate::from_ymd_opt(2026, 3, 1), 2026),
        );
        assert!(!before.behind);
    }

    #[test]
    fn obligation_status_names_are_stable() {
        assert_wire_enums!(ObligationStatus);
    }
}
