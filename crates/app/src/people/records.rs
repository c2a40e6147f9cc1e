//! The records and inputs of people (PPL-1 to PPL-3).

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::person::mask_id_number;
use guild_domain::{Gender, IdType, SkillLevel, TraineeCategory};
use guild_store::people::PersonRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Caller;
use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// A person. `id_number` is masked (`440301********1234`) except for association
/// staff, the authority and the person themself (PPL-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonView {
    /// The person id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Kind of ID document.
    pub id_type: IdType,
    /// The ID number, masked unless the caller may see it in full.
    #[cfg_attr(feature = "openapi", schema(example = "440301********1234"))]
    pub id_number: String,
    /// Whether `id_number` is masked in this response.
    pub id_number_masked: bool,
    /// Phone number.
    pub phone: Option<String>,
    /// The employer, if any.
    pub organisation_id: Option<Uuid>,
    /// Trainee category (PPL-2).
    pub category: Option<TraineeCategory>,
    /// Occupation (工种), for skilled talent.
    pub occupation: Option<String>,
    /// Skill level, for skilled talent.
    pub skill_level: Option<SkillLevel>,
    /// Vocational certificate number.
    pub skill_certificate_number: Option<String>,
    /// Vocational certificate issue date (CE obligations start here, CED-1).
    pub skill_certificate_issued_on: Option<NaiveDate>,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl PersonView {
    /// The view of `row` for `caller`, masking the ID number unless allowed
    /// (PPL-3): association staff, the authority and the person themself see
    /// it in full. Snapshots for the audit log and events are taken with no
    /// caller, so they are masked, because organisations read them.
    pub fn for_caller(row: PersonRow, caller: Option<&Caller>) -> AppResult<Self> {
        let full = caller.is_some_and(|c| {
            c.role.sees_full_id_numbers() || c.person_id.as_deref() == Some(&row.id)
        });
        Ok(PersonView {
            id: stored_id("people", &row.id)?,
            name: row.name,
            gender: stored("people", &row.gender)?,
            id_type: stored("people", &row.id_type)?,
            id_number: if full {
                row.id_number
            } else {
                mask_id_number(&row.id_number)
            },
            id_number_masked: !full,
            phone: row.phone,
            organisation_id: stored_opt("people", row.organisation_id.as_deref())?,
            category: optional(row.category.as_deref())?,
            occupation: row.occupation,
            skill_level: optional(row.skill_level.as_deref())?,
            skill_certificate_number: row.skill_certificate_number,
            skill_certificate_issued_on: row.skill_certificate_issued_on,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new person.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "张三", "gender": "male", "id_type": "resident_id", "id_number": "440308199901101512", "phone": "13800138000", "category": "operations_staff"})))]
pub struct CreatePerson {
    /// Full name, 1 to 64 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Kind of ID document.
    pub id_type: IdType,
    /// The ID number; a resident ID is checked against GB 11643 (check digit, birth date).
    #[cfg_attr(feature = "openapi", schema(min_length = 5, max_length = 32))]
    pub id_number: String,
    /// Phone number.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub phone: Option<String>,
    /// The employer. Organisation users may only give their own (it is the default for them).
    pub organisation_id: Option<Uuid>,
    /// Trainee category (PPL-2).
    pub category: Option<TraineeCategory>,
    /// Occupation (工种).
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub occupation: Option<String>,
    /// Skill level.
    pub skill_level: Option<SkillLevel>,
    /// Vocational certificate number.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub skill_certificate_number: Option<String>,
    /// Vocational certificate issue date.
    pub skill_certificate_issued_on: Option<NaiveDate>,
}

/// Changes to a person; omitted fields stay as they are. The ID document can
/// only be corrected by association staff.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePerson {
    /// Full name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub name: Option<String>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Move the person to this organisation, e.g. after a change of employer
    /// (association staff only). This is how a person registered with one
    /// organisation becomes visible to another (PPL-3, ACC-2).
    pub organisation_id: Option<Uuid>,
    /// Kind of ID document (association staff only).
    pub id_type: Option<IdType>,
    /// ID number (association staff only).
    #[cfg_attr(feature = "openapi", schema(min_length = 5, max_length = 32))]
    pub id_number: Option<String>,
    /// Phone number.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub phone: Option<String>,
    /// Trainee category.
    pub category: Option<TraineeCategory>,
    /// Occupation.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub occupation: Option<String>,
    /// Skill level.
    pub skill_level: Option<SkillLevel>,
    /// Vocational certificate number.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub skill_certificate_number: Option<String>,
    /// Vocational certificate issue date.
    pub skill_certificate_issued_on: Option<NaiveDate>,
}

/// A stored optional enum column of `people`.
fn optional<T: std::str::FromStr>(value: Option<&str>) -> AppResult<Option<T>> {
    value.map(|v| stored("people", v)).transpose()
}
