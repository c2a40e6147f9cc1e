//! Annual training plans (PLN-1): drafted for a year, published, then amended
//! with a version history; the public sees the latest published version.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::program::ProgramStatus;
use crate::wire::{StateMachine, wire_enum};

wire_enum! {
    /// Status of an annual plan (PLN-1).
    pub enum PlanStatus("plan_status") {
        /// Being drafted by the training department; never public.
        Draft => "draft",
        /// Published and public; changed only by amendments.
        Published => "published",
    }
}

wire_enum! {
    /// Action on an annual plan (PLN-1).
    pub enum PlanAction("plan_action") {
        /// Publish a draft as version 1.
        Publish => "publish",
        /// Publish a new version of a published plan.
        Amend => "amend",
    }
}

const PLAN_MACHINE: StateMachine<PlanStatus, PlanAction> = StateMachine {
    entity: "plan",
    rule: Some("PLN-1"),
    edges: &[
        (
            PlanStatus::Draft,
            PlanAction::Publish,
            PlanStatus::Published,
        ),
        (
            PlanStatus::Published,
            PlanAction::Amend,
            PlanStatus::Published,
        ),
    ],
};

/// Applies `action` to a plan in status `from` (PLN-1): a draft is published
/// once; a published plan is amended any number of times.
pub fn plan_transition(
    from: PlanStatus,
    action: PlanAction,
) -> Result<PlanStatus, InvalidTransition> {
    PLAN_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a plan in status `from` (PLN-1).
pub fn plan_allowed_actions(from: PlanStatus) -> Vec<&'static str> {
    PLAN_MACHINE.allowed(from)
}

/// PLN-1: only a draft is edited in place; a published plan changes through an
/// amendment, which keeps the published history.
pub fn plan_is_editable(status: PlanStatus) -> Result<(), Refusal> {
    match status {
        PlanStatus::Draft => Ok(()),
        PlanStatus::Published => Err(Refusal::rule(
            "PLN-1",
            "plan_published",
            "a published plan is not edited in place; file an amendment \
             (POST /api/v1/plans/{id}/amendments) so the change is versioned",
        )),
    }
}

/// The first year a plan may be made for.
pub const MIN_PLAN_YEAR: i64 = 2000;
/// The last year a plan may be made for.
pub const MAX_PLAN_YEAR: i64 = 2100;
/// The most items a plan may list.
pub const MAX_PLAN_ITEMS: usize = 200;
/// The most classes one item may plan.
pub const MAX_PLANNED_CLASSES: i64 = 100;

/// A plan year, 2000 to 2100; field `year`, code `year_out_of_range` otherwise.
pub fn validate_year(year: i64) -> Result<i32, FieldError> {
    if (MIN_PLAN_YEAR..=MAX_PLAN_YEAR).contains(&year) {
        i32::try_from(year).map_err(|_| year_error())
    } else {
        Err(year_error())
    }
}

fn year_error() -> FieldError {
    FieldError::new(
        "year",
        "year_out_of_range",
        format!("a plan year is {MIN_PLAN_YEAR} to {MAX_PLAN_YEAR}"),
    )
}

/// PLN-1: a plan is drafted — normally in December of the year before — and
/// published for a year that has not ended yet. Drafting at any other time is
/// allowed (plans are late, or made years ahead); only a year that is already
/// over in the association's time zone is refused (`today` is the association's
/// local date). The same holds for publishing, editing and amending: the plan of
/// a past year is history.
pub fn plan_year_is_open(year: i32, today: NaiveDate) -> Result<(), Refusal> {
    if year < today.year() {
        Err(Refusal::rule(
            "PLN-1",
            "plan_year_past",
            format!(
                "the year {year} has already ended (today is {today}); plans are made for the \
                 current or a later year"
            ),
        ))
    } else {
        Ok(())
    }
}

/// One line of a plan as stored and shown: a program, how many classes of it
/// are planned, in which months (PLN-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanItem {
    /// The program.
    pub program_id: Uuid,
    /// Classes planned for the year, 1 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100, example = 4))]
    pub planned_classes: u8,
    /// The months (1 to 12, ascending) classes are planned in; empty when not yet scheduled.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = json!([3, 6, 9, 11])))]
    pub months: Vec<u8>,
    /// A note for readers of the plan.
    pub note: Option<String>,
}

/// One line of a plan as submitted, before validation. Numbers are wide so that
/// out-of-range values are reported per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItemSpec {
    /// The program.
    pub program_id: Uuid,
    /// Classes planned.
    pub planned_classes: i64,
    /// Months, any order, repeats allowed (they are merged).
    pub months: Option<Vec<i64>>,
    /// A note.
    pub note: Option<String>,
}

/// Checks every item at once (PLN-1); fields are named `items[i].planned_classes`,
/// `items[i].months`, `items[i].note`, `items[i].program_id` (a program listed twice),
/// or `items` (too many). Months are sorted and repeats merged; an empty note is none.
pub fn validate_items(items: &[PlanItemSpec]) -> Result<Vec<PlanItem>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if items.len() > MAX_PLAN_ITEMS {
        errors.push(FieldError::new(
            "items",
            "too_many_items",
            format!("a plan lists at most {MAX_PLAN_ITEMS} items"),
        ));
        return Err(errors);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        if !seen.insert(item.program_id) {
            errors.push(FieldError::new(
                field("program_id"),
                "duplicate_program",
                "the program is already listed in an earlier item",
            ));
        }
        let planned = match u8::try_from(item.planned_classes) {
            Ok(n) if (1..=MAX_PLANNED_CLASSES).contains(&i64::from(n)) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    field("planned_classes"),
                    "planned_classes_out_of_range",
                    format!("plan 1 to {MAX_PLANNED_CLASSES} classes per program"),
                ));
                None
            }
        };
        let mut months = Vec::new();
        for &m in item.months.as_deref().unwrap_or_default() {
            match u8::try_from(m) {
                Ok(m @ 1..=12) => months.push(m),
                _ => {
                    errors.push(FieldError::new(
                        field("months"),
                        "month_out_of_range",
                        "months are 1 to 12",
                    ));
                    break;
                }
            }
        }
        months.sort_unstable();
        months.dedup();
        let note = match item.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) if n.chars().count() > 1000 => {
                errors.push(FieldError::new(
                    field("note"),
                    "length",
                    "must be at most 1000 characters long",
                ));
                None
            }
            Some(n) => Some(n.to_owned()),
        };
        if let Some(planned_classes) = planned {
            out.push(PlanItem {
                program_id: item.program_id,
                planned_classes,
                months,
                note,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// PLN-1 with PRG-1: every item names an existing program (`known` maps the
/// programs found to their status), and a retired program can only stay in a
/// plan that already listed it (`already_listed`), never be added to one.
pub fn check_item_programs(
    items: &[PlanItem],
    known: &HashMap<Uuid, ProgramStatus>,
    already_listed: &[PlanItem],
) -> Vec<FieldError> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let field = format!("items[{i}].program_id");
            match known.get(&item.program_id) {
                None => Some(FieldError::new(field, "unknown_program", "no such program")),
                Some(ProgramStatus::Retired)
                    if !already_listed
                        .iter()
                        .any(|p| p.program_id == item.program_id) =>
                {
                    Some(FieldError::new(
                        field,
                        "program_retired",
                        "the program is retired; a plan cannot add it (PRG-1)",
                    ))
                }
                Some(_) => None,
            }
        })
        .collect()
}

/// PLN-1: a plan is published (or amended) with at least one item.
pub fn plan_is_publishable(items: &[PlanItem]) -> Result<(), Refusal> {
    if items.is_empty() {
        Err(Refusal::rule(
            "PLN-1",
            "plan_empty",
            "a plan is published with at least one item",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn item(program: Uuid, planned: i64, months: Option<Vec<i64>>) -> PlanItemSpec {
        PlanItemSpec {
            program_id: program,
            planned_classes: planned,
            months,
            note: Some("  ".into()),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn plan_enums_wire_names() {
        assert_wire_enums!(PlanStatus, PlanAction);
    }

    #[test]
    fn plan_machine_pln_1() {
        // rule PLN-1: draft → published, then amendments
        use PlanAction::*;
        use PlanStatus::*;
        assert_machine(
            PlanStatus::ALL,
            PlanAction::ALL,
            &[(Draft, Publish, Published), (Published, Amend, Published)],
            plan_transition,
            plan_allowed_actions,
            "plan",
            Some("PLN-1"),
        );
        assert!(plan_is_editable(Draft).is_ok());
        let r = plan_is_editable(Published).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("PLN-1"), "plan_published"));
    }

    #[test]
    fn years_have_bounds_and_past_years_are_refused_pln_1() {
        // rule PLN-1: drafting is normally in December of Y-1, but any date is
        // accepted as long as year Y has not ended
        assert!(validate_year(1999).is_err());
        assert_eq!(validate_year(2000).unwrap(), 2000);
        assert_eq!(validate_year(2100).unwrap(), 2100);
        assert!(validate_year(2101).is_err());
        assert!(plan_year_is_open(2027, date(2026, 12, 1)).is_ok());
        assert!(plan_year_is_open(2027, date(2026, 3, 2)).is_ok());
        assert!(plan_year_is_open(2026, date(2026, 12, 31)).is_ok());
        let r = plan_year_is_open(2026, date(2027, 1, 1)).unwrap_err();
        assert_eq!((r.rule, r.code), (Some("PLN-1"), "plan_year_past"));
    }

    #[test]
    fn items_are_normalised_pln_1() {
        // rule PLN-1
        let p = Uuid::now_v7();
        let items = validate_items(&[item(p, 4, Some(vec![11, 3, 3, 6]))]).unwrap();
        assert_eq!(
            items,
            [PlanItem {
                program_id: p,
                planned_classes: 4,
                months: vec![3, 6, 11],
                note: None
            }]
        );
        assert!(
            validate_items(&[item(p, 1, None)]).unwrap()[0]
                .months
                .is_empty()
        );
        assert!(validate_items(&[item(p, 100, Some(vec![1, 12]))]).is_ok());
    }

    #[test]
    fn every_bad_item_field_is_reported_pln_1() {
        // rule PLN-1
        let p = Uuid::now_v7();
        let mut long = item(Uuid::now_v7(), 1, None);
        long.note = Some("n".repeat(1001));
        let errors = validate_items(&[
            item(p, 0, Some(vec![13])),
            item(p, 101, Some(vec![0])),
            long,
        ])
        .unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("items[0].planned_classes", "planned_classes_out_of_range"),
                ("items[0].months", "month_out_of_range"),
                ("items[1].program_id", "duplicate_program"),
                ("items[1].planned_classes", "planned_classes_out_of_range"),
                ("items[1].months", "month_out_of_range"),
                ("items[2].note", "length"),
            ]
        );
        let many: Vec<_> = (0..=MAX_PLAN_ITEMS)
            .map(|_| item(Uuid::now_v7(), 1, None))
            .collect();
        assert_eq!(validate_items(&many).unwrap_err()[0].code, "too_many_items");
    }

    #[test]
    fn items_name_existing_programs_and_retired_ones_only_stay_pln_1() {
        // rule PLN-1, PRG-1
        let active = Uuid::now_v7();
        let retired = Uuid::now_v7();
        let unknown = Uuid::now_v7();
        let known = HashMap::from([
            (active, ProgramStatus::Active),
            (retired, ProgramStatus::Retired),
        ]);
        let items = validate_items(&[
            item(active, 1, None),
            item(retired, 1, None),
            item(unknown, 1, None),
        ])
        .unwrap();
        let errors = check_item_programs(&items, &known, &[]);
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("items[1].program_id", "program_retired"),
                ("items[2].program_id", "unknown_program")
            ]
        );
        let errors = check_item_programs(&items[..2], &known, &items[1..2]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(plan_is_publishable(&items).is_ok());
        assert_eq!(plan_is_publishable(&[]).unwrap_err().code, "plan_empty");
    }
}
