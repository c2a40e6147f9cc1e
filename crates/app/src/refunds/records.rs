//! The records and inputs of refunds (REF-1 to REF-4), as the API shows and takes them.

use chrono::{DateTime, NaiveDateTime, Utc};
use guild_domain::Fen;
use guild_domain::refund::{RefundKind, RefundStatus, refund_allowed_actions};
use guild_store::refunds::RefundRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// A refund of an enrolment's fees (REF-1 to REF-4).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundView {
    /// The refund id.
    pub id: Uuid,
    /// The refunded enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The enrolled person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The paying organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// `class_cancelled` (REF-1: everything paid) or `personal` (REF-2: the training fee only).
    pub kind: RefundKind,
    /// The amount to pay back, in fen, derived from the ledger when filed.
    pub amount_fen: Fen,
    /// The deferral a personal refund rests on (REF-2).
    pub deferral_id: Option<Uuid>,
    /// Why the money is paid back.
    pub reason: String,
    /// Where the refund stands (REF-3).
    pub status: RefundStatus,
    /// The actions its state allows (API-4), as wire names: `confirm_training`
    /// is `POST /refunds/{id}/confirm-training`.
    pub allowed_actions: Vec<String>,
    /// Who filed it.
    pub requested_by: Uuid,
    /// When it was filed.
    pub requested_at: DateTime<Utc>,
    /// Who in the training department confirmed it.
    pub training_confirmed_by: Option<Uuid>,
    /// When.
    pub training_confirmed_at: Option<DateTime<Utc>>,
    /// Who in finance confirmed it.
    pub finance_confirmed_by: Option<Uuid>,
    /// When.
    pub finance_confirmed_at: Option<DateTime<Utc>>,
    /// Who in the leadership approved it.
    pub leader_approved_by: Option<Uuid>,
    /// When.
    pub leader_approved_at: Option<DateTime<Utc>>,
    /// Who in finance paid it.
    pub paid_by: Option<Uuid>,
    /// When.
    pub paid_at: Option<DateTime<Utc>>,
    /// The bank or voucher reference of the payment.
    pub payment_reference: Option<String>,
    /// Who rejected it.
    pub rejected_by: Option<Uuid>,
    /// When.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl RefundView {
    /// The record of a stored refund, with its enrolment's class and person.
    pub fn from_parts(
        r: RefundRow,
        class_id: &str,
        person_id: &str,
        person_name: String,
    ) -> AppResult<Self> {
        const T: &str = "refunds";
        let at = |v: Option<NaiveDateTime>| v.map(|t| t.and_utc());
        let status: RefundStatus = stored(T, &r.status)?;
        Ok(RefundView {
            id: stored_id(T, &r.id)?,
            enrolment_id: stored_id(T, &r.enrolment_id)?,
            class_id: stored_id(T, class_id)?,
            person_id: stored_id(T, person_id)?,
            person_name,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            kind: stored(T, &r.kind)?,
            amount_fen: Fen::from_stored(r.amount_fen),
            deferral_id: stored_opt(T, r.deferral_id.as_deref())?,
            reason: r.reason,
            status,
            allowed_actions: refund_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            requested_by: stored_id(T, &r.requested_by)?,
            requested_at: r.requested_at.and_utc(),
            training_confirmed_by: stored_opt(T, r.training_confirmed_by.as_deref())?,
            training_confirmed_at: at(r.training_confirmed_at),
            finance_confirmed_by: stored_opt(T, r.finance_confirmed_by.as_deref())?,
            finance_confirmed_at: at(r.finance_confirmed_at),
            leader_approved_by: stored_opt(T, r.leader_approved_by.as_deref())?,
            leader_approved_at: at(r.leader_approved_at),
            paid_by: stored_opt(T, r.paid_by.as_deref())?,
            paid_at: at(r.paid_at),
            payment_reference: r.payment_reference,
            rejected_by: stored_opt(T, r.rejected_by.as_deref())?,
            rejected_at: at(r.rejected_at),
            rejection_reason: r.rejection_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A personal refund request (REF-2).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "reason": "The trainee left the company"})))]
pub struct CreateRefund {
    /// The enrolment, with an approved deferral filed before its class started.
    pub enrolment_id: Uuid,
    /// Why the trainee could not attend (resignation, job change, ...).
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// The payment of a refund (REF-3 last step).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"payment_reference": "BOC-2026-000123"})))]
pub struct PayRefund {
    /// The bank transfer or voucher reference.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub payment_reference: String,
}

/// An enrolment of a cancelled class that got no refund (REF-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedEnrolment {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// Why: `nothing_to_refund` (no money held), `no_show_no_refund` (DEF-4)
    /// or `refund_in_progress` (it already has an open refund, REF-4).
    pub code: String,
}

/// What filing a cancelled class's refunds produced (REF-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassRefunds {
    /// The cancelled class.
    pub class_id: Uuid,
    /// The refunds filed, `submitted`, one per enrolment holding money.
    pub refund_ids: Vec<Uuid>,
    /// The enrolments that got none, and why.
    pub skipped: Vec<SkippedEnrolment>,
}

/// Filters of the refund list.
#[derive(Debug, Clone, Default)]
pub struct ListRefunds {
    /// Only this status.
    pub status: Option<RefundStatus>,
    /// Only this kind.
    pub kind: Option<RefundKind>,
    /// Only refunds of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}
