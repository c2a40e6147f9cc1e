//! Training programs (PRG-1): what a kind of training costs, how its exam is
//! made up (EXM-1), which certificate it leads to and for how long.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::money::Fen;
use crate::person::TraineeCategory;
use crate::wire::{StateMachine, wire_enum};

wire_enum! {
    /// How the theory part of an exam is taken (PRG-1, EXM-1).
    pub enum TheoryMode("theory_mode") {
        /// Open-book (开卷).
        OpenBook => "open_book",
        /// Closed-book (闭卷).
        ClosedBook => "closed_book",
    }
}

wire_enum! {
    /// Whether a program is offered (PRG-1).
    pub enum ProgramStatus("program_status") {
        /// Offered: plans and classes may use it.
        Active => "active",
        /// No longer offered; kept for history (classes, certificates).
        Retired => "retired",
    }
}

wire_enum! {
    /// Action on a program's status (PRG-1).
    pub enum ProgramAction("program_action") {
        /// Stop offering the program.
        Retire => "retire",
        /// Offer a retired program again.
        Reinstate => "reinstate",
    }
}

const PROGRAM_MACHINE: StateMachine<ProgramStatus, ProgramAction> = StateMachine {
    entity: "program",
    rule: Some("PRG-1"),
    edges: &[
        (
            ProgramStatus::Active,
            ProgramAction::Retire,
            ProgramStatus::Retired,
        ),
        (
            ProgramStatus::Retired,
            ProgramAction::Reinstate,
            ProgramStatus::Active,
        ),
    ],
};

/// Applies `action` to a program in status `from` (PRG-1): active ⇄ retired.
pub fn program_transition(
    from: ProgramStatus,
    action: ProgramAction,
) -> Result<ProgramStatus, InvalidTransition> {
    PROGRAM_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a program in status `from` (PRG-1).
pub fn program_allowed_actions(from: ProgramStatus) -> Vec<&'static str> {
    PROGRAM_MACHINE.allowed(from)
}

/// Only an active program takes new classes or new entries in an annual plan
/// (PRG-1); a retired one stays readable for history.
pub fn program_is_offered(status: ProgramStatus) -> Result<(), Refusal> {
    match status {
        ProgramStatus::Active => Ok(()),
        ProgramStatus::Retired => Err(Refusal::rule(
            "PRG-1",
            "program_retired",
            "the program is retired; reinstate it first",
        )),
    }
}

/// The certificate validity when none is given: 3 years (PRG-1, CRT-1).
pub const DEFAULT_VALIDITY_YEARS: u8 = 3;
/// Shortest accepted certificate validity, in years.
pub const MIN_VALIDITY_YEARS: i64 = 1;
/// Longest accepted certificate validity, in years.
pub const MAX_VALIDITY_YEARS: i64 = 10;
/// Highest pass mark (marks are out of 100).
pub const MAX_PASS_MARK: i64 = 100;

/// The theory part of an exam: open- or closed-book, with its pass mark (EXM-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TheoryPart {
    /// Open-book or closed-book.
    pub mode: TheoryMode,
    /// The lowest passing mark, 0 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 60))]
    pub pass_mark: u8,
}

/// The practical part of an exam with its pass mark (EXM-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PracticalPart {
    /// The lowest passing mark, 0 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 60))]
    pub pass_mark: u8,
}

/// The parts of a program's exam (PRG-1): theory and/or practical, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExamComponents {
    /// The theory part, when the exam has one.
    pub theory: Option<TheoryPart>,
    /// The practical part, when the exam has one.
    pub practical: Option<PracticalPart>,
}

impl ExamComponents {
    /// Exam components with at least one part (PRG-1); field `exam`, code
    /// `exam_components_missing` otherwise.
    pub fn new(
        theory: Option<TheoryPart>,
        practical: Option<PracticalPart>,
    ) -> Result<Self, FieldError> {
        if theory.is_none() && practical.is_none() {
            return Err(FieldError::new(
                "exam",
                "exam_components_missing",
                "an exam needs a theory part, a practical part or both",
            ));
        }
        Ok(Self { theory, practical })
    }

    /// EXM-1: a trainee passes when every part the exam has reaches its pass
    /// mark. A missing score for a required part fails; a score for a part the
    /// exam does not have is ignored.
    pub fn passes(&self, theory: Option<u8>, practical: Option<u8>) -> bool {
        let part_ok = |required: Option<u8>, score: Option<u8>| match required {
            None => true,
            Some(mark) => score.is_some_and(|s| s >= mark),
        };
        part_ok(self.theory.map(|t| t.pass_mark), theory)
            && part_ok(self.practical.map(|p| p.pass_mark), practical)
    }
}

/// A program code: 2 to 32 characters of `A-Z`, `0-9` and `-` (PRG-1).
/// Input is trimmed and upper-cased, so `gas-safety-1` becomes `GAS-SAFETY-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgramCode(String);

impl ProgramCode {
    /// Parses a code; field `code`, code `program_code_format` when it does not fit.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        let ok = (2..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(code))
        } else {
            Err(FieldError::new(
                "code",
                "program_code_format",
                "a program code has 2 to 32 characters: letters A-Z, digits and '-'",
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the value, returning the code.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The theory part as submitted: the pass mark not yet checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TheorySpec {
    /// Open-book or closed-book.
    pub mode: TheoryMode,
    /// The submitted pass mark.
    pub pass_mark: i64,
}

/// A program as submitted, before validation (PRG-1). Numbers are wide so that
/// out-of-range values reach [`ProgramSpec::validate`] and are reported per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The program code.
    pub code: String,
    /// The program name.
    pub name: String,
    /// A description.
    pub description: Option<String>,
    /// The trainee categories the program is for.
    pub target_categories: Vec<TraineeCategory>,
    /// Training fee in fen.
    pub training_fee_fen: i64,
    /// Exam fee in fen.
    pub exam_fee_fen: i64,
    /// The theory part, if any.
    pub theory: Option<TheorySpec>,
    /// The practical part's pass mark, if the exam has a practical part.
    pub practical_pass_mark: Option<i64>,
    /// Whether this is a skill-level program (no free retake, EXM-4).
    pub skill_level: bool,
    /// The name of the certificate the program leads to.
    pub certificate_name: String,
    /// Validity of the certificate in years; `None` means the default of 3.
    pub validity_years: Option<i64>,
}

/// A validated program (PRG-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The unique code.
    pub code: ProgramCode,
    /// The name, trimmed.
    pub name: String,
    /// The description, trimmed; `None` when empty.
    pub description: Option<String>,
    /// Target trainee categories: non-empty, no duplicates, in submitted order.
    pub target_categories: Vec<TraineeCategory>,
    /// Training fee.
    pub training_fee: Fen,
    /// Exam fee (also the fee of a `skill_level` retake, EXM-4).
    pub exam_fee: Fen,
    /// The exam's parts.
    pub exam: ExamComponents,
    /// A skill-level program has no free retake (EXM-4).
    pub skill_level: bool,
    /// The certificate's name, trimmed.
    pub certificate_name: String,
    /// Validity of the certificate in years, 1 to 10.
    pub validity_years: u8,
}

/// Trims `raw` and checks it has `min..=max` characters and no control characters.
fn text(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = raw.trim();
    let len = value.chars().count();
    if !(min..=max).contains(&len) {
        errors.push(FieldError::new(
            field,
            "length",
            format!("must be {min} to {max} characters long"),
        ));
        None
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.push(FieldError::new(
            field,
            "control_characters",
            "must not contain control characters",
        ));
        None
    } else {
        Some(value.to_owned())
    }
}

fn fee(field: &str, fen: i64, errors: &mut Vec<FieldError>) -> Option<Fen> {
    Fen::new(fen)
        .map_err(|mut e| {
            e.field = field.to_owned();
            errors.push(e);
        })
        .ok()
}

fn pass_mark(field: &str, mark: i64, errors: &mut Vec<FieldError>) -> Option<u8> {
    match u8::try_from(mark) {
        Ok(m) if i64::from(m) <= MAX_PASS_MARK => Some(m),
        _ => {
            errors.push(FieldError::new(
                field,
                "pass_mark_out_of_range",
                "a pass mark is 0 to 100",
            ));
            None
        }
    }
}

impl ProgramSpec {
    /// Checks every field of the program at once (PRG-1) and returns either the
    /// validated program or every problem found, each naming its field:
    /// `code`, `name`, `description`, `target_categories`, `training_fee_fen`,
    /// `exam_fee_fen`, `exam`, `exam.theory.pass_mark`, `exam.practical.pass_mark`,
    /// `certificate_name`, `validity_years`.
    pub fn validate(&self) -> Result<Program, Vec<FieldError>> {
        let mut errors = Vec::new();
        let code = ProgramCode::parse(&self.code)
            .map_err(|e| errors.push(e))
            .ok();
        let name = text("name", &self.name, 2, 128, &mut errors);
        let description = match &self.description {
            Some(d) if d.trim().is_empty() => Some(None),
            Some(d) => text("description", d, 1, 4000, &mut errors).map(Some),
            None => Some(None),
        };
        let target_categories = self.categories(&mut errors);
        let training_fee = fee("training_fee_fen", self.training_fee_fen, &mut errors);
        let exam_fee = fee("exam_fee_fen", self.exam_fee_fen, &mut errors);
        let exam = self.exam(&mut errors);
        let certificate_name = text(
            "certificate_name",
            &self.certificate_name,
            1,
            128,
            &mut errors,
        );
        let validity_years = self.validity_years(&mut errors);
        match (
            code,
            name,
            description,
            target_categories,
            training_fee,
            exam_fee,
            exam,
            certificate_name,
            validity_years,
        ) {
            (
                Some(code),
                Some(name),
                Some(description),
                Some(target_categories),
                Some(training_fee),
                Some(exam_fee),
                Some(exam),
                Some(certificate_name),
                Some(validity_years),
            ) if errors.is_empty() => Ok(Program {
                code,
                name,
                description,
                target_categories,
                training_fee,
                exam_fee,
                exam,
                skill_level: self.skill_level,
                certificate_name,
                validity_years,
            }),
            _ => Err(errors),
        }
    }

    /// The exam parts: each pass mark checked, and at least one part.
    fn exam(&self, errors: &mut Vec<FieldError>) -> Option<ExamComponents> {
        let theory = self.theory.map(|t| {
            pass_mark("exam.theory.pass_mark", t.pass_mark, errors).map(|pass_mark| TheoryPart {
                mode: t.mode,
                pass_mark,
            })
        });
        let practical = self.practical_pass_mark.map(|m| {
            pass_mark("exam.practical.pass_mark", m, errors)
                .map(|pass_mark| PracticalPart { pass_mark })
        });
        match (theory, practical) {
            (Some(None), _) | (_, Some(None)) => None,
            (t, p) => ExamComponents::new(t.flatten(), p.flatten())
                .map_err(|e| errors.push(e))
                .ok(),
        }
    }

    /// The validity in years (default [`DEFAULT_VALIDITY_YEARS`]).
    fn validity_years(&self, errors: &mut Vec<FieldError>) -> Option<u8> {
        match self.validity_years {
            None => Some(DEFAULT_VALIDITY_YEARS),
            Some(y) if (MIN_VALIDITY_YEARS..=MAX_VALIDITY_YEARS).contains(&y) => {
                u8::try_from(y).ok()
            }
            Some(_) => {
                errors.push(FieldError::new(
                "validity_years",
                "validity_out_of_range",
                format!(
                    "a certificate is valid for {MIN_VALIDITY_YEARS} to {MAX_VALIDITY_YEARS} years"
                ),
            ));
                None
            }
        }
    }

    fn categories(&self, errors: &mut Vec<FieldError>) -> Option<Vec<TraineeCategory>> {
        if self.target_categories.is_empty() {
            errors.push(FieldError::new(
                "target_categories",
                "target_categories_empty",
                "name at least one trainee category the program is for",
            ));
            return None;
        }
        let mut seen = Vec::with_capacity(self.target_categories.len());
        for &c in &self.target_categories {
            if seen.contains(&c) {
                errors.push(FieldError::new(
                    "target_categories",
                    "target_categories_duplicate",
                    format!("{c} is listed more than once"),
                ));
                return None;
            }
            seen.push(c);
        }
        Some(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn spec() -> ProgramSpec {
        ProgramSpec {
            code: " gas-safety-1 ".into(),
            name: "Gas safety for managers".into(),
            description: Some("  ".into()),
            target_categories: vec![TraineeCategory::SafetyManager],
            training_fee_fen: 120_000,
            exam_fee_fen: 30_050,
            theory: Some(TheorySpec {
                mode: TheoryMode::ClosedBook,
                pass_mark: 60,
            }),
            practical_pass_mark: None,
            skill_level: false,
            certificate_name: "Safety manager certificate".into(),
            validity_years: None,
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn program_enums_wire_names() {
        assert_wire_enums!(TheoryMode, ProgramStatus, ProgramAction);
    }

    #[test]
    fn a_valid_spec_is_normalised_prg_1() {
        // rule PRG-1: code upper-cased, default validity 3 years, fees in fen
        let p = spec().validate().unwrap();
        assert_eq!(p.code.as_str(), "GAS-SAFETY-1");
        assert_eq!(p.description, None);
        assert_eq!(p.validity_years, DEFAULT_VALIDITY_YEARS);
        assert_eq!(p.training_fee.get(), 120_000);
        assert_eq!(p.exam_fee.get(), 30_050);
        assert_eq!(
            p.exam.theory,
            Some(TheoryPart {
                mode: TheoryMode::ClosedBook,
                pass_mark: 60
            })
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once_prg_1() {
        // rule PRG-1
        let bad = ProgramSpec {
            code: "x".into(),
            name: " ".into(),
            description: Some("d".repeat(4001)),
            target_categories: vec![],
            training_fee_fen: -1,
            exam_fee_fen: crate::money::MAX_FEN + 1,
            theory: Some(TheorySpec {
                mode: TheoryMode::OpenBook,
                pass_mark: 101,
            }),
            practical_pass_mark: Some(-1),
            skill_level: true,
            certificate_name: String::new(),
            validity_years: Some(11),
        };
        let errors = bad.validate().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                ("code", "program_code_format"),
                ("name", "length"),
                ("description", "length"),
                ("target_categories", "target_categories_empty"),
                ("training_fee_fen", "amount_out_of_range"),
                ("exam_fee_fen", "amount_out_of_range"),
                ("exam.theory.pass_mark", "pass_mark_out_of_range"),
                ("exam.practical.pass_mark", "pass_mark_out_of_range"),
                ("certificate_name", "length"),
                ("validity_years", "validity_out_of_range"),
            ]
        );
    }

    #[test]
    fn an_exam_needs_at_least_one_part_prg_1() {
        // rule PRG-1
        let mut s = spec();
        s.theory = None;
        assert_eq!(
            fields(&s.validate().unwrap_err()),
            [("exam", "exam_components_missing")]
        );
        s.practical_pass_mark = Some(0);
        assert!(s.validate().unwrap().exam.theory.is_none());
    }

    #[test]
    fn categories_must_not_repeat_and_validity_has_bounds() {
        // rule PRG-1
        let mut s = spec();
        s.target_categories = vec![
            TraineeCategory::SafetyManager,
            TraineeCategory::SafetyManager,
        ];
        assert_eq!(
            fields(&s.validate().unwrap_err()),
            [("target_categories", "target_categories_duplicate")]
        );
        let mut s = spec();
        for (years, ok) in [(0, false), (1, true), (10, true), (11, false)] {
            s.validity_years = Some(years);
            assert_eq!(s.validate().is_ok(), ok, "{years}");
        }
        s.validity_years = None;
        for (mark, ok) in [(0, true), (100, true), (101, false), (-1, false)] {
            s.theory = Some(TheorySpec {
                mode: TheoryMode::OpenBook,
                pass_mark: mark,
            });
            assert_eq!(s.validate().is_ok(), ok, "{mark}");
        }
    }

    #[test]
    fn program_codes() {
        assert_eq!(ProgramCode::parse("ab").unwrap().as_str(), "AB");
        assert!(ProgramCode::parse(&"A".repeat(32)).is_ok());
        for bad in ["A", &"A".repeat(33), "A B", "A_B", "燃气"] {
            assert!(ProgramCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passing_needs_every_required_part_exm_1() {
        // rule EXM-1: every required part reaches its pass mark
        let both = ExamComponents::new(
            Some(TheoryPart {
                mode: TheoryMode::ClosedBook,
                pass_mark: 60,
            }),
            Some(PracticalPart { pass_mark: 70 }),
        )
        .unwrap();
        assert!(both.passes(Some(60), Some(70)));
        assert!(both.passes(Some(100), Some(100)));
        assert!(!both.passes(Some(59), Some(100)));
        assert!(!both.passes(Some(100), Some(69)));
        assert!(!both.passes(Some(100), None));
        assert!(!both.passes(None, None));
        let theory_only = ExamComponents::new(
            Some(TheoryPart {
                mode: TheoryMode::OpenBook,
                pass_mark: 60,
            }),
            None,
        )
        .unwrap();
        assert!(theory_only.passes(Some(60), None));
        assert!(
            theory_only.passes(Some(60), Some(0)),
            "practical score ignored"
        );
        assert!(!theory_only.passes(None, Some(100)));
        let practical_only =
            ExamComponents::new(None, Some(PracticalPart { pass_mark: 0 })).unwrap();
        assert!(practical_only.passes(None, Some(0)));
        assert!(!practical_only.passes(Some(100), None));
        assert!(ExamComponents::new(None, None).is_err());
    }

    #[test]
    fn program_machine_prg_1() {
        // rule PRG-1: active ⇄ retired
        use ProgramAction::*;
        use ProgramStatus::*;
        assert_machine(
            ProgramStatus::ALL,
            ProgramAction::ALL,
            &[(Active, Retire, Retired), (Retired, Reinstate, Active)],
            program_transition,
            program_allowed_actions,
            "program",
            Some("PRG-1"),
        );
        assert!(program_is_offered(Active).is_ok());
        assert_eq!(program_is_offered(Retired).unwrap_err().rule, Some("PRG-1"));
    }
}
