//! The records and inputs of exam sittings, registrations and results
//! (EXM-1 to EXM-5), as the API shows and takes them.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::exam::{Ineligibility, RegistrationStatus, SittingKind, SittingStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

/// An exam sitting of a class.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SittingView {
    /// The sitting id.
    pub id: Uuid,
    /// The class.
    pub class_id: Uuid,
    /// The class's program (its exam components decide `passed`, EXM-1).
    pub program_id: Uuid,
    /// `first` or `retake` (EXM-3).
    pub kind: SittingKind,
    /// The day.
    pub held_on: NaiveDate,
    /// Start time `HH:MM` (association time zone).
    pub starts_at: String,
    /// Where.
    pub place: String,
    /// `scheduled`.
    pub status: SittingStatus,
    /// How many trainees are registered.
    pub registrations: i64,
    /// Who scheduled it.
    pub created_by: Uuid,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new sitting (training staff).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"class_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "kind": "first", "held_on": "2026-04-09", "starts_at": "09:00", "place": "Exam hall 2"})))]
pub struct CreateSitting {
    /// A class that is not cancelled.
    pub class_id: Uuid,
    /// `first` or `retake`.
    pub kind: SittingKind,
    /// The day.
    pub held_on: NaiveDate,
    /// Start time `HH:MM` (24-hour clock).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")
    )]
    pub starts_at: String,
    /// Where, 2 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 200))]
    pub place: String,
}

/// Trainees to register for a sitting (EXM-2).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"enrolment_ids": ["0193a5f0-6a2b-7c8d-9e0f-112233445566"]})))]
pub struct RegisterTrainees {
    /// 1 to 500 enrolments of the sitting's class (duplicates count once).
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 500))]
    pub enrolment_ids: Vec<Uuid>,
}

/// A trainee's registration for a sitting, with the result (EXM-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationView {
    /// The registration id (results are entered against it).
    pub id: Uuid,
    /// The sitting.
    pub sitting_id: Uuid,
    /// The trainee's enrolment.
    pub enrolment_id: Uuid,
    /// The trainee.
    pub person_id: Uuid,
    /// The trainee's name.
    pub person_name: String,
    /// The enrolment's organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// 1 for the first sitting, 2 for the retake (EXM-3).
    pub attempt: i32,
    /// Whether registering charged the exam fee (a `skill_level` retake, EXM-4).
    pub charged: bool,
    /// `registered`, `completed` or `disqualified`.
    pub status: RegistrationStatus,
    /// Theory score 0–100.
    pub theory_score: Option<i32>,
    /// Practical score 0–100.
    pub practical_score: Option<i32>,
    /// Whether every part reached its pass mark (EXM-1); `null` until every part is scored.
    pub passed: Option<bool>,
    /// Who entered the result last.
    pub result_entered_by: Option<Uuid>,
    /// When the result was entered last.
    pub result_entered_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: i32,
}

/// A trainee not registered, with every reason (EXM-2, EXM-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusedRegistration {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// Why, each with its rule (e.g. ATT-3).
    pub reasons: Vec<Ineligibility>,
}

/// What a registration request did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationOutcome {
    /// The new registrations.
    pub registered: Vec<RegistrationView>,
    /// The trainees refused, with their reasons.
    pub refused: Vec<RefusedRegistration>,
}

/// One registration's scores (EXM-1). Parts not sent keep their earlier score.
#[derive(Debug, Clone, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResultInput {
    /// A registration of this sitting.
    pub registration_id: Uuid,
    /// Theory score 0–100 (only when the exam has a theory part).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub theory_score: Option<i64>,
    /// Practical score 0–100 (only when the exam has a practical part).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub practical_score: Option<i64>,
}

/// Results of a sitting (EXM-1, EXM-5).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"results": [{"registration_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "theory_score": 78, "practical_score": 85}]})))]
pub struct EnterResults {
    /// 1 to 1000 registrations, each at most once.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub results: Vec<ResultInput>,
}

/// One result of a class (EXM-5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultView {
    /// The registration and its result.
    #[serde(flatten)]
    pub registration: RegistrationView,
    /// `first` or `retake`.
    pub sitting_kind: SittingKind,
    /// The sitting's day.
    pub held_on: NaiveDate,
    /// Whether this result is published (visible to the trainee and the organisation).
    pub published: bool,
}

/// A class's exam results (EXM-5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassResults {
    /// The class.
    pub class_id: Uuid,
    /// When the results were last published (the archive clock, ARC-2, runs from it).
    pub published_at: Option<DateTime<Utc>>,
    /// Who published them last.
    pub published_by: Option<Uuid>,
    /// The results the caller may see: association staff, the authority and
    /// the class's teachers all (also unpublished ones); organisations their
    /// own trainees' and trainees their own, published ones only.
    pub results: Vec<ResultView>,
}
