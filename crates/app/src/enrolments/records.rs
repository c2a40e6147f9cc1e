//! The records and inputs of the enrolment chain, as the API shows and takes them.

use chrono::{DateTime, NaiveDateTime, Utc};
use guild_domain::enrolment::{
    Channel, EnrolmentStatus, ORG_ATTESTATION, enrolment_allowed_actions,
};
use guild_domain::fees::Balance;
use guild_store::enrolments::EnrolmentRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// The reviewer's attestation recorded by `approve` (ENR-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgAttestation {
    /// The reviewer's account.
    pub reviewer_id: Uuid,
    /// When the reviewer approved.
    pub attested_at: DateTime<Utc>,
    /// What the approval attests.
    pub statement: String,
}

/// An enrolment of a person in a class.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentView {
    /// The enrolment id.
    pub id: Uuid,
    /// The class.
    pub class_id: Uuid,
    /// The person enrolled.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The organisation that submitted it (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// `organisation` (two-level approval) or `individual` (skips the organisation step).
    pub channel: Channel,
    /// Where it is in the chain (ENR-1).
    pub status: EnrolmentStatus,
    /// The actions its state allows (API-4); `pay` happens through `POST
    /// /enrolments/{id}/payments`. `no_show` (DEF-4) is not listed: it also
    /// needs the class to have started.
    pub allowed_actions: Vec<String>,
    /// ENR-3: whether the trainee may take part (the fee is paid).
    pub is_paid_up: bool,
    /// When it was (last) submitted; the waiting list is in this order (CLS-3).
    pub submitted_at: Option<DateTime<Utc>>,
    /// The reviewer who approved it (ENR-2).
    pub org_approved_by: Option<Uuid>,
    /// When the reviewer approved it.
    pub org_approved_at: Option<DateTime<Utc>>,
    /// The reviewer's attestation that the person data is true, accurate and complete (ENR-2).
    pub org_attestation: Option<OrgAttestation>,
    /// The association officer who confirmed it (or put it on the waiting list).
    pub confirmed_by: Option<Uuid>,
    /// When it got its seat.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When it was put on the waiting list (CLS-3).
    pub waitlisted_at: Option<DateTime<Utc>>,
    /// When the fee was fully paid (ENR-3).
    pub paid_at: Option<DateTime<Utc>>,
    /// When the class notice was sent.
    pub notified_at: Option<DateTime<Utc>>,
    /// Who last rejected it.
    pub rejected_by: Option<Uuid>,
    /// When it was last rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// The reason of the last rejection.
    pub rejection_reason: Option<String>,
    /// The enrolment it was transferred from (DEF-2).
    pub transferred_from_id: Option<Uuid>,
    /// The account that entered it.
    pub created_by: Uuid,
    /// The fee balance, derived from the ledger (ENR-3); present when one enrolment is read.
    pub balance: Option<Balance>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was entered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl EnrolmentView {
    /// The record of a stored enrolment.
    pub fn from_row(
        r: EnrolmentRow,
        person_name: String,
        balance: Option<Balance>,
    ) -> AppResult<Self> {
        const T: &str = "enrolments";
        let at = |v: Option<NaiveDateTime>| v.map(|t| t.and_utc());
        let status: EnrolmentStatus = stored(T, &r.status)?;
        let channel: Channel = stored(T, &r.channel)?;
        let org_approved_by = stored_opt(T, r.org_approved_by.as_deref())?;
        let org_attestation = match (org_approved_by, r.org_approved_at) {
            (Some(reviewer_id), Some(when)) => Some(OrgAttestation {
                reviewer_id,
                attested_at: when.and_utc(),
                statement: ORG_ATTESTATION.to_owned(),
            }),
            _ => None,
        };
        Ok(EnrolmentView {
            id: stored_id(T, &r.id)?,
            class_id: stored_id(T, &r.class_id)?,
            person_id: stored_id(T, &r.person_id)?,
            person_name,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            channel,
            status,
            allowed_actions: enrolment_allowed_actions(channel, status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            is_paid_up: status.is_paid_up(),
            submitted_at: at(r.submitted_at),
            org_approved_by,
            org_approved_at: at(r.org_approved_at),
            org_attestation,
            confirmed_by: stored_opt(T, r.confirmed_by.as_deref())?,
            confirmed_at: at(r.confirmed_at),
            waitlisted_at: at(r.waitlisted_at),
            paid_at: at(r.paid_at),
            notified_at: at(r.notified_at),
            rejected_by: stored_opt(T, r.rejected_by.as_deref())?,
            rejected_at: at(r.rejected_at),
            rejection_reason: r.rejection_reason,
            transferred_from_id: stored_opt(T, r.transferred_from_id.as_deref())?,
            created_by: stored_id(T, &r.created_by)?,
            balance,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new enrolment.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"class_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "person_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "submit": true})))]
pub struct CreateEnrolment {
    /// The class (must be `planned` or `open`, ENR-1).
    pub class_id: Uuid,
    /// The person: of the caller's organisation (organisation accounts), the
    /// caller themself (trainees), anyone (training staff).
    pub person_id: Uuid,
    /// Training staff entering on an organisation's behalf name it (channel
    /// `organisation`); omitted means an individual enrolment. Organisation
    /// accounts may only name their own; trainees none.
    pub organisation_id: Option<Uuid>,
    /// Submit at once instead of leaving a draft (default `false`).
    pub submit: Option<bool>,
}

/// One place on a class's waiting list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingEntry {
    /// 1 for the first to get a freed seat.
    pub position: usize,
    /// The waiting enrolment.
    pub enrolment: EnrolmentView,
}

/// A class's waiting list (CLS-3), in order of submission.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingList {
    /// The class.
    pub class_id: Uuid,
    /// Its capacity.
    pub capacity: i32,
    /// Seats taken now (confirmed, paid, notified).
    pub seats_taken: i64,
    /// How many enrolments wait in all.
    pub waiting: usize,
    /// The entries the caller may see (organisation accounts: their own, with
    /// their position in the whole list).
    pub items: Vec<WaitingEntry>,
}

/// How many enrolments got their class notice.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifiedCount {
    /// The class.
    pub class_id: Uuid,
    /// Paid enrolments moved to `notified` by this call.
    pub notified: usize,
}
