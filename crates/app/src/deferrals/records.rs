//! The records and inputs of deferrals (DEF-1, DEF-2), as the API shows and takes them.

use chrono::{DateTime, Utc};
use guild_domain::deferral::{DeferralStatus, deferral_allowed_actions};
use guild_store::deferrals::DeferralRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::enrolments::EnrolmentView;
use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// A deferral of an enrolment (DEF-1, DEF-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeferralView {
    /// The deferral id.
    pub id: Uuid,
    /// The deferred enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The enrolled person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The enrolment's organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// The document reference of the stamped request letter (DEF-1).
    pub letter_reference: String,
    /// Why the trainee cannot attend.
    pub reason: String,
    /// `submitted`, `approved`, `rejected` or `transferred`.
    pub status: DeferralStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The account that filed it.
    pub filed_by: Uuid,
    /// When it was filed: the time the DEF-1 deadline is checked against.
    pub filed_at: DateTime<Utc>,
    /// The training head who decided.
    pub decided_by: Option<Uuid>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a rejection.
    pub decision_reason: Option<String>,
    /// The enrolment in the later class (DEF-2).
    pub transferred_to_id: Option<Uuid>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl DeferralView {
    /// The record of a stored deferral, with its enrolment's class and person.
    pub fn from_parts(
        r: DeferralRow,
        class_id: &str,
        person_id: &str,
        person_name: String,
    ) -> AppResult<Self> {
        const T: &str = "deferrals";
        let status: DeferralStatus = stored(T, &r.status)?;
        Ok(DeferralView {
            id: stored_id(T, &r.id)?,
            enrolment_id: stored_id(T, &r.enrolment_id)?,
            class_id: stored_id(T, class_id)?,
            person_id: stored_id(T, person_id)?,
            person_name,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            letter_reference: r.letter_reference,
            reason: r.reason,
            status,
            allowed_actions: deferral_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: stored_id(T, &r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: stored_opt(T, r.decided_by.as_deref())?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            transferred_to_id: stored_opt(T, r.transferred_to_id.as_deref())?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A deferral request (DEF-1).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "letter_reference": "SGC-HR-2026-031", "reason": "The trainee is on an emergency repair assignment"})))]
pub struct CreateDeferral {
    /// The enrolment, `paid` or `notified` (an unpaid one is simply cancelled).
    pub enrolment_id: Uuid,
    /// The document reference of the stamped request letter (required).
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub letter_reference: String,
    /// Why the trainee cannot attend.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// The later class a deferred trainee joins (DEF-2).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"class_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211"})))]
pub struct TransferDeferral {
    /// A planned or open class of the same program, starting later in the same
    /// calendar year, with a free seat.
    pub class_id: Uuid,
}

/// What a transfer produced (DEF-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferOutcome {
    /// The deferral, now `transferred`.
    pub deferral: DeferralView,
    /// The new enrolment in the later class: `paid`, with the fee carried over (due 0).
    pub enrolment: EnrolmentView,
}

/// Filters of the deferral list.
#[derive(Debug, Clone, Default)]
pub struct ListDeferrals {
    /// Only this status.
    pub status: Option<DeferralStatus>,
    /// Only deferrals of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}
