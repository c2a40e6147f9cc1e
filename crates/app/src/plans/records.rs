//! The records and inputs of annual training plans (PLN-1), and the field
//! checks that turn an input into what a use case accepts.

use chrono::{DateTime, Utc};
use guild_domain::error::FieldError;
use guild_domain::plan::{PlanItem, PlanItemSpec, PlanStatus, validate_items, validate_year};
use guild_store::plans::{PlanRow, PlanVersionRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppError, AppResult, stored};
use crate::ids::stored_id;

/// An annual training plan (PLN-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanView {
    /// The plan id.
    pub id: Uuid,
    /// The year the plan is for (one plan per year).
    pub year: i32,
    /// Title.
    pub title: String,
    /// Notes for readers of the plan.
    pub notes: Option<String>,
    /// The planned programs: current content (of the draft, or of the latest version).
    pub items: Vec<PlanItem>,
    /// `draft` (never public) or `published`.
    pub status: PlanStatus,
    /// Number of the latest published version; 0 while a draft.
    pub latest_version: i32,
    /// When version 1 was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version of the record (send as `If-Match`); not the plan version.
    pub version: i32,
    /// The account that created the draft.
    pub created_by: Uuid,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

/// The items stored as JSON in `table`.
pub(crate) fn stored_items(table: &'static str, json: &str) -> AppResult<Vec<PlanItem>> {
    serde_json::from_str(json)
        .map_err(|e| AppError::Internal(format!("corrupt items_json in {table}: {e}")))
}

/// The items as stored.
pub(crate) fn items_json(items: &[PlanItem]) -> AppResult<String> {
    serde_json::to_string(items)
        .map_err(|e| AppError::Internal(format!("cannot encode plan items: {e}")))
}

impl TryFrom<PlanRow> for PlanView {
    type Error = AppError;
    fn try_from(r: PlanRow) -> AppResult<Self> {
        const T: &str = "plans";
        Ok(PlanView {
            id: stored_id(T, &r.id)?,
            year: r.year,
            title: r.title,
            notes: r.notes,
            items: stored_items(T, &r.items_json)?,
            status: stored(T, &r.status)?,
            latest_version: r.latest_version,
            published_at: r.published_at.map(|t| t.and_utc()),
            version: r.version,
            created_by: stored_id(T, &r.created_by)?,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// One published version of a plan: a snapshot of its content (PLN-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanVersionView {
    /// The version id.
    pub id: Uuid,
    /// The plan.
    pub plan_id: Uuid,
    /// 1 for the first publication, then one more per amendment.
    pub number: i32,
    /// Title of this version.
    pub title: String,
    /// Notes of this version.
    pub notes: Option<String>,
    /// Items of this version.
    pub items: Vec<PlanItem>,
    /// What the amendment changed and why; `null` for version 1.
    pub change_note: Option<String>,
    /// The account that published this version.
    pub published_by: Uuid,
    /// When this version was published.
    pub published_at: DateTime<Utc>,
}

impl TryFrom<PlanVersionRow> for PlanVersionView {
    type Error = AppError;
    fn try_from(r: PlanVersionRow) -> AppResult<Self> {
        const T: &str = "plan_versions";
        Ok(PlanVersionView {
            id: stored_id(T, &r.id)?,
            plan_id: stored_id(T, &r.plan_id)?,
            number: r.number,
            title: r.title,
            notes: r.notes,
            items: stored_items(T, &r.items_json)?,
            change_note: r.change_note,
            published_by: stored_id(T, &r.published_by)?,
            published_at: r.published_at.and_utc(),
        })
    }
}

/// One line of a plan: a program and how many classes of it are planned.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"program_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "planned_classes": 4, "months": [3, 6, 9, 11], "note": "one class per quarter"})))]
pub struct PlanItemInput {
    /// An existing program; a retired program cannot be added (PRG-1).
    pub program_id: Uuid,
    /// Classes planned for the year, 1 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub planned_classes: i64,
    /// Months (1 to 12) the classes are planned in; order and repeats do not matter.
    pub months: Option<Vec<i64>>,
    /// A note, up to 1000 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub note: Option<String>,
}

impl PlanItemInput {
    fn spec(&self) -> PlanItemSpec {
        PlanItemSpec {
            program_id: self.program_id,
            planned_classes: self.planned_classes,
            months: self.months.clone(),
            note: self.note.clone(),
        }
    }
}

/// A new draft plan.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"year": 2027, "title": "2027 annual training plan", "items": []})))]
pub struct CreatePlan {
    /// The year, 2000 to 2100; not one that has already ended.
    #[cfg_attr(feature = "openapi", schema(minimum = 2000, maximum = 2100))]
    pub year: i64,
    /// Title, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Notes, up to 4000 characters.
    #[validate(length(max = 4000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub notes: Option<String>,
    /// The planned programs (may be empty while drafting; at most 200).
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub items: Option<Vec<PlanItemInput>>,
}

/// Changes to a draft plan; omitted fields stay as they are, `items` replaces
/// the whole list, an empty `notes` clears them.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    /// Title, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    /// Notes, up to 4000 characters; `""` clears them.
    #[validate(length(max = 4000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub notes: Option<String>,
    /// The planned programs (replaces the list).
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub items: Option<Vec<PlanItemInput>>,
}

/// An amendment of a published plan: the new items (and optionally title and
/// notes) with a note saying what changed.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{"program_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "planned_classes": 6}], "change_note": "two more classes: demand from member companies"})))]
pub struct AmendPlan {
    /// New title; omitted keeps the current one.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    /// New notes; omitted keeps the current ones, `""` clears them.
    #[validate(length(max = 4000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub notes: Option<String>,
    /// The complete new list of items (at least one).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 200))]
    pub items: Vec<PlanItemInput>,
    /// What changed and why, 1 to 1000 characters (e.g. "class frequency adjusted to demand").
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub change_note: String,
}

/// Filters of the plan list.
#[derive(Debug, Clone, Default)]
pub struct ListPlans {
    /// Only the plan of this year.
    pub year: Option<i32>,
    /// Only this status.
    pub status: Option<PlanStatus>,
}

/// A draft plan whose fields passed the checks of PLN-1 ([`CreatePlan::check`]).
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub(crate) year: i32,
    pub(crate) title: String,
    pub(crate) notes: Option<String>,
    pub(crate) items: Vec<PlanItem>,
}

/// Checked changes of a draft plan ([`UpdatePlan::check`]).
#[derive(Debug, Clone)]
pub struct PlanChanges {
    pub(crate) title: Option<String>,
    /// `Some(None)` clears the notes.
    pub(crate) notes: Option<Option<String>>,
    pub(crate) items: Option<Vec<PlanItem>>,
}

/// A checked amendment of a published plan ([`AmendPlan::check`]).
#[derive(Debug, Clone)]
pub struct Amendment {
    pub(crate) title: Option<String>,
    /// `Some(None)` clears the notes.
    pub(crate) notes: Option<Option<String>>,
    pub(crate) items: Vec<PlanItem>,
    pub(crate) change_note: String,
}

/// A title of spaces only (an empty one is already refused by the length rule).
fn blank_title(title: &str) -> Option<FieldError> {
    (!title.is_empty() && title.trim().is_empty())
        .then(|| FieldError::new("title", "length", "must not be blank"))
}

/// Trimmed notes; an empty text means none.
fn clean_notes(notes: String) -> Option<String> {
    Some(notes.trim().to_owned()).filter(|n| !n.is_empty())
}

/// Validates `inputs` into `problems`, returning the items when they are fine.
fn items_of(inputs: &[PlanItemInput], problems: &mut Vec<FieldError>) -> Vec<PlanItem> {
    let specs: Vec<PlanItemSpec> = inputs.iter().map(PlanItemInput::spec).collect();
    validate_items(&specs).unwrap_or_else(|errors| {
        problems.extend(errors);
        Vec::new()
    })
}

fn done<T>(problems: Vec<FieldError>, value: T) -> Result<T, Vec<FieldError>> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems)
    }
}

impl CreatePlan {
    /// PLN-1's field checks beyond the `validator` limits: a title that is
    /// not blank, a year from 2000 to 2100, valid items. Every problem is
    /// reported, in that order.
    pub fn check(self) -> Result<NewPlan, Vec<FieldError>> {
        let mut problems: Vec<FieldError> = blank_title(&self.title).into_iter().collect();
        // An invalid year is reported; the placeholder is never used.
        let year = validate_year(self.year).unwrap_or_else(|e| {
            problems.push(e);
            0
        });
        let items = items_of(self.items.as_deref().unwrap_or_default(), &mut problems);
        let plan = NewPlan {
            year,
            title: self.title.trim().to_owned(),
            notes: self.notes.and_then(clean_notes),
            items,
        };
        done(problems, plan)
    }
}

impl UpdatePlan {
    /// PLN-1's field checks beyond the `validator` limits: a title that is
    /// not blank and valid items, every problem reported.
    pub fn check(self) -> Result<PlanChanges, Vec<FieldError>> {
        let mut problems: Vec<FieldError> = self
            .title
            .as_deref()
            .and_then(blank_title)
            .into_iter()
            .collect();
        let items = self
            .items
            .as_deref()
            .map(|inputs| items_of(inputs, &mut problems));
        let changes = PlanChanges {
            title: self.title.map(|t| t.trim().to_owned()),
            notes: self.notes.map(clean_notes),
            items,
        };
        done(problems, changes)
    }
}

impl AmendPlan {
    /// PLN-1's field checks beyond the `validator` limits: a title that is
    /// not blank, a change note that says something, valid items; every
    /// problem reported, in that order.
    pub fn check(self) -> Result<Amendment, Vec<FieldError>> {
        let mut problems: Vec<FieldError> = self
            .title
            .as_deref()
            .and_then(blank_title)
            .into_iter()
            .collect();
        if self.change_note.trim().is_empty() {
            problems.push(FieldError::new(
                "change_note",
                "length",
                "say what the amendment changes",
            ));
        }
        let items = items_of(&self.items, &mut problems);
        let amendment = Amendment {
            title: self.title.map(|t| t.trim().to_owned()),
            notes: self.notes.map(clean_notes),
            items,
            change_note: self.change_note.trim().to_owned(),
        };
        done(problems, amendment)
    }
}
