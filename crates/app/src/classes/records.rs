//! The records and inputs of classes and their checklist (CLS-1 to CLS-3).

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::class::{ChecklistItemState, ClassStatus};
use guild_store::classes::ChecklistItemRow;
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppError, AppResult};
use crate::ids::{stored_id, stored_opt};

/// A teacher of a class, by account.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassTeacher {
    /// The teacher's account.
    pub user_id: Uuid,
    /// The teacher's display name.
    pub name: String,
}

/// One session of a class's schedule.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// The session id.
    pub id: Uuid,
    /// The day.
    pub session_date: NaiveDate,
    /// Start time, `HH:MM` (association time zone).
    #[cfg_attr(feature = "openapi", schema(example = "09:00"))]
    pub starts_at: String,
    /// End time, `HH:MM`.
    #[cfg_attr(feature = "openapi", schema(example = "12:00"))]
    pub ends_at: String,
    /// What is taught.
    pub topic: String,
    /// Who teaches it.
    pub teacher: Option<ClassTeacher>,
}

/// A class with its schedule, teachers and seats.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassView {
    /// The class id.
    pub id: Uuid,
    /// The program this class runs.
    pub program_id: Uuid,
    /// Unique code, e.g. `GAS-SAFETY-2027-01`.
    pub code: String,
    /// Title.
    pub title: String,
    /// The year of the start date (the plan year).
    pub year: i32,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where it is held.
    pub place: String,
    /// Seats (CLS-3).
    pub capacity: i32,
    /// Seats held by confirmed, paid or notified enrolments (CLS-3).
    pub seats_taken: i64,
    /// `capacity - seats_taken` (never below 0).
    pub seats_left: i64,
    /// The class head (班主任).
    pub class_head: Option<ClassTeacher>,
    /// The teachers.
    pub teachers: Vec<ClassTeacher>,
    /// The schedule, in time order.
    pub sessions: Vec<SessionView>,
    /// Where the class is in its life (CLS-1).
    pub status: ClassStatus,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A class in a list: without its schedule and teacher list (read one class for those).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassSummary {
    /// The class id.
    pub id: Uuid,
    /// The program this class runs.
    pub program_id: Uuid,
    /// Unique code.
    pub code: String,
    /// Title.
    pub title: String,
    /// The year of the start date.
    pub year: i32,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where it is held.
    pub place: String,
    /// Seats (CLS-3).
    pub capacity: i32,
    /// Seats held by confirmed, paid or notified enrolments.
    pub seats_taken: i64,
    /// `capacity - seats_taken` (never below 0).
    pub seats_left: i64,
    /// The class head's account.
    pub class_head_user_id: Option<Uuid>,
    /// Where the class is in its life (CLS-1).
    pub status: ClassStatus,
    /// Optimistic-concurrency version.
    pub version: i32,
}

/// One session as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// The day; within the class's dates.
    pub session_date: NaiveDate,
    /// Start time `HH:MM` (24-hour clock).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")
    )]
    pub starts_at: String,
    /// End time `HH:MM`, after the start.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "12:00")
    )]
    pub ends_at: String,
    /// What is taught, 1 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub topic: String,
    /// Who teaches it: the class head or one of the class's teachers.
    pub teacher_user_id: Option<Uuid>,
}

/// A new class (CLS-1). It starts `planned`, with the default preparation checklist.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "program_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566",
    "code": "GAS-SAFETY-2027-01",
    "title": "Gas safety for operations staff, class 1",
    "start_date": "2027-03-01",
    "end_date": "2027-03-03",
    "place": "Training centre, room 301",
    "capacity": 40,
    "sessions": [{"session_date": "2027-03-01", "starts_at": "09:00", "ends_at": "12:00", "topic": "Regulations"}]
})))]
pub struct CreateClass {
    /// An active program.
    pub program_id: Uuid,
    /// Unique code, 2 to 40 letters, digits and `-` (upper-cased).
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 40))]
    pub code: String,
    /// Title, 2 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 200))]
    pub title: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day, not before the first.
    pub end_date: NaiveDate,
    /// Where it is held, 2 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 200))]
    pub place: String,
    /// Seats, 1 to 1000.
    #[validate(range(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub capacity: i32,
    /// The class head (班主任): a teacher with an appointment covering the class's dates (TCH-1).
    pub class_head_user_id: Option<Uuid>,
    /// The teachers: each with an appointment covering the class's dates (TCH-1).
    #[validate(length(max = 50))]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub teacher_user_ids: Option<Vec<Uuid>>,
    /// The schedule.
    #[validate(length(max = 500))]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub sessions: Option<Vec<SessionInput>>,
}

/// Changes to a planned or open class; omitted fields stay as they are.
/// `teacher_user_ids` and `sessions` replace the whole list.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateClass {
    /// Unique code.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 40))]
    pub code: Option<String>,
    /// Title.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 200))]
    pub title: Option<String>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Last day.
    pub end_date: Option<NaiveDate>,
    /// Where it is held.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 200))]
    pub place: Option<String>,
    /// Seats, 1 to 1000; not below the seats taken (CLS-3).
    #[validate(range(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub capacity: Option<i32>,
    /// The class head; `null` removes the class head.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>, nullable))]
    pub class_head_user_id: Option<Option<Uuid>>,
    /// The teachers (replaces the list).
    #[validate(length(max = 50))]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub teacher_user_ids: Option<Vec<Uuid>>,
    /// The schedule (replaces the whole schedule).
    #[validate(length(max = 500))]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub sessions: Option<Vec<SessionInput>>,
}

/// Tells an explicit `null` (`Some(None)`) from an omitted field (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The reason for a cancellation.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelClass {
    /// Why the class is cancelled (shown to the enrolled organisations).
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// One item of the preparation checklist (CLS-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistItemView {
    /// The item id.
    pub id: Uuid,
    /// Its place in the list (1 = first).
    pub position: i32,
    /// What is to be done.
    pub label: String,
    /// Whether the class cannot start while it is unchecked (CLS-2).
    pub mandatory: bool,
    /// `checked` or `unchecked`.
    pub state: ChecklistItemState,
    /// Who checked it off.
    pub checked_by: Option<Uuid>,
    /// When it was checked off.
    pub checked_at: Option<DateTime<Utc>>,
    /// A note made when checking it off.
    pub note: Option<String>,
}

impl TryFrom<ChecklistItemRow> for ChecklistItemView {
    type Error = AppError;
    fn try_from(r: ChecklistItemRow) -> AppResult<Self> {
        let state = item_state(&r);
        Ok(ChecklistItemView {
            id: stored_id("checklist_items", &r.id)?,
            position: r.position,
            label: r.label,
            mandatory: r.mandatory,
            state,
            checked_by: stored_opt("checklist_items", r.checked_by.as_deref())?,
            checked_at: r.checked_at.map(|t| t.and_utc()),
            note: r.note,
        })
    }
}

/// Whether a stored checklist item is checked off.
pub(super) fn item_state(r: &ChecklistItemRow) -> ChecklistItemState {
    if r.checked_at.is_some() {
        ChecklistItemState::Checked
    } else {
        ChecklistItemState::Unchecked
    }
}

/// A class's preparation checklist (培训项目实施作业单, CLS-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistView {
    /// The class.
    pub class_id: Uuid,
    /// Whether every mandatory item is checked (the class may start, CLS-2).
    pub complete: bool,
    /// The items in order.
    pub items: Vec<ChecklistItemView>,
}

/// A custom checklist item.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"label": "Interpreter booked", "mandatory": false})))]
pub struct AddChecklistItem {
    /// What is to be done, 2 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 200))]
    pub label: String,
    /// Whether the class cannot start while it is unchecked.
    pub mandatory: bool,
}

/// Checking an item off.
#[derive(Debug, Default, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckItem {
    /// An optional note, e.g. where the signed agreement is filed.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_null_is_told_apart_from_an_omitted_field() {
        let omitted: UpdateClass = serde_json::from_str("{}").unwrap();
        assert_eq!(omitted.class_head_user_id, None);
        let cleared: UpdateClass = serde_json::from_str(r#"{"class_head_user_id": null}"#).unwrap();
        assert_eq!(cleared.class_head_user_id, Some(None));
    }

    #[test]
    fn capacity_bounds_match_the_domain() {
        // rule CLS-1: the request's range mirrors the domain's bounds
        use guild_domain::class::{MAX_CAPACITY, MIN_CAPACITY};
        assert_eq!((MIN_CAPACITY, MAX_CAPACITY), (1, 1000));
    }
}
