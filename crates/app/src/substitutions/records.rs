//! The records and inputs of substitutions (DEF-3), as the API shows and takes them.

use chrono::{DateTime, Utc};
use guild_domain::deferral::{SubstitutionStatus, substitution_allowed_actions};
use guild_store::substitutions::SubstitutionRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppError, AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// A substitution of the enrolled person (DEF-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubstitutionView {
    /// The substitution id.
    pub id: Uuid,
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The organisation that filed it.
    pub organisation_id: Option<Uuid>,
    /// The person enrolled when it was filed.
    pub old_person_id: Uuid,
    /// Their name.
    pub old_person_name: String,
    /// The person who takes the place.
    pub new_person_id: Uuid,
    /// Their name.
    pub new_person_name: String,
    /// Why.
    pub reason: String,
    /// `submitted`, `approved` or `rejected`.
    pub status: SubstitutionStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The account that filed it.
    pub filed_by: Uuid,
    /// When it was filed: the time the DEF-3 deadline is checked against.
    pub filed_at: DateTime<Utc>,
    /// Who approved or rejected it.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a rejection.
    pub decision_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl SubstitutionView {
    /// The record of a stored substitution, with its class and the names of
    /// both people (`(person id, name)` pairs); a missing name is corrupt data.
    pub fn from_parts(
        r: SubstitutionRow,
        class_id: &str,
        names: &[(String, String)],
    ) -> AppResult<Self> {
        const T: &str = "substitutions";
        let name = |person: &str| {
            names
                .iter()
                .find(|(p, _)| p == person)
                .map(|(_, n)| n.clone())
                .ok_or_else(|| AppError::Internal(format!("{T} names the missing person {person}")))
        };
        let status: SubstitutionStatus = stored(T, &r.status)?;
        Ok(SubstitutionView {
            id: stored_id(T, &r.id)?,
            enrolment_id: stored_id(T, &r.enrolment_id)?,
            class_id: stored_id(T, class_id)?,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            old_person_id: stored_id(T, &r.old_person_id)?,
            old_person_name: name(&r.old_person_id)?,
            new_person_id: stored_id(T, &r.new_person_id)?,
            new_person_name: name(&r.new_person_id)?,
            reason: r.reason,
            status,
            allowed_actions: substitution_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: stored_id(T, &r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: stored_opt(T, r.decided_by.as_deref())?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A substitution request (DEF-3).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "new_person_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "reason": "Li Si changed jobs; Zhang San takes the place"})))]
pub struct CreateSubstitution {
    /// The organisation's enrolment, live and not deferred or `no_show`.
    pub enrolment_id: Uuid,
    /// A person of the same organisation, not banned (ENR-4) and not already
    /// enrolled in the class (ENR-5).
    pub new_person_id: Uuid,
    /// Why.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// Filters of the substitution list.
#[derive(Debug, Clone, Default)]
pub struct ListSubstitutions {
    /// Only this status.
    pub status: Option<SubstitutionStatus>,
    /// Only substitutions of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}
