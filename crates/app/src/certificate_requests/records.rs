//! The records and inputs of certificate requests (CRT-5), as the API shows
//! and takes them.

use chrono::{DateTime, Utc};
use guild_domain::Fen;
use guild_domain::certificate::{CertificateRequestKind, CertificateRequestStatus};
use guild_domain::certificate_request::request_allowed_actions;
use guild_store::certificate_requests::CertificateRequestRow;
use guild_store::certificates::CertificateRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// A request to reissue, change or cancel a certificate (CRT-5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateRequestView {
    /// The request id.
    pub id: Uuid,
    /// The certificate asked about.
    pub certificate_id: Uuid,
    /// Its number.
    pub certificate_number: String,
    /// The holder's name on it.
    pub holder_name: String,
    /// `reissue` (补办), `change` (变更) or `cancellation` (注销).
    pub kind: CertificateRequestKind,
    /// The certificate's organisation, whose accounts see the request
    /// (`null` for an individual's certificate).
    pub organisation_id: Option<Uuid>,
    /// The holder.
    pub person_id: Uuid,
    /// Why the request is made (card lost, name changed, left the trade, ...).
    pub reason: String,
    /// A change: the holder's new name.
    pub new_holder_name: Option<String>,
    /// A change: the holder's new employer.
    pub new_organisation_id: Option<Uuid>,
    /// Whether a physical card is asked for (reissue or change).
    pub physical_card: bool,
    /// The card fee in fen, charged to the enrolment ledger on approval (0 without a card).
    pub card_fee_fen: Fen,
    /// Where the request stands.
    pub status: CertificateRequestStatus,
    /// The actions its state allows (API-4): `approve`, `reject`, `withdraw`.
    pub allowed_actions: Vec<String>,
    /// Who filed it.
    pub filed_by: Uuid,
    /// When it was filed.
    pub filed_at: DateTime<Utc>,
    /// Who approved, rejected or withdrew it.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a rejection.
    pub decision_reason: Option<String>,
    /// The certificate an approved reissue or change issued.
    pub new_certificate_id: Option<Uuid>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl CertificateRequestView {
    /// The record of a stored request about the certificate numbered
    /// `number`, held by `holder_name`.
    pub fn of(r: CertificateRequestRow, number: String, holder_name: String) -> AppResult<Self> {
        let id = |v: &str| stored_id("certificate_requests", v);
        let opt = |v: &Option<String>| stored_opt("certificate_requests", v.as_deref());
        let status: CertificateRequestStatus = stored("certificate_requests", &r.status)?;
        Ok(CertificateRequestView {
            id: id(&r.id)?,
            certificate_id: id(&r.certificate_id)?,
            certificate_number: number,
            holder_name,
            kind: stored("certificate_requests", &r.kind)?,
            organisation_id: opt(&r.organisation_id)?,
            person_id: id(&r.person_id)?,
            reason: r.reason,
            new_holder_name: r.new_holder_name,
            new_organisation_id: opt(&r.new_organisation_id)?,
            physical_card: r.physical_card,
            card_fee_fen: Fen::from_stored(r.card_fee_fen),
            status,
            allowed_actions: request_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: id(&r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: opt(&r.decided_by)?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            new_certificate_id: opt(&r.new_certificate_id)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new request (CRT-5).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"certificate_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "kind": "reissue", "reason": "The card was lost", "physical_card": true})))]
pub struct CreateCertificateRequest {
    /// The certificate (active; of the caller's organisation, or the caller's own).
    pub certificate_id: Uuid,
    /// `reissue`, `change` or `cancellation`.
    pub kind: CertificateRequestKind,
    /// Why.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
    /// Ask for a physical card (reissue or change only); costs the card fee.
    #[serde(default)]
    pub physical_card: bool,
    /// A change: the holder's new name (1 to 64 characters).
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub new_holder_name: Option<String>,
    /// A change: the holder's new employer (an approved organisation).
    pub new_organisation_id: Option<Uuid>,
}

/// What the audit log keeps of a certificate a request changed or issued
/// (never the verification code: the log is readable by the organisation and
/// the code is the QR code's secret).
#[derive(Debug, Serialize)]
pub(crate) struct CertificateSnapshot<'a> {
    id: &'a str,
    number: &'a str,
    person_id: &'a str,
    organisation_id: Option<&'a str>,
    holder_name: &'a str,
    valid_until: chrono::NaiveDate,
    status: &'a str,
    replaces_id: Option<&'a str>,
    superseded_by_id: Option<&'a str>,
    end_reason: Option<&'a str>,
}

impl<'a> CertificateSnapshot<'a> {
    pub(crate) fn of(c: &'a CertificateRow) -> Self {
        CertificateSnapshot {
            id: &c.id,
            number: &c.number,
            person_id: &c.person_id,
            organisation_id: c.organisation_id.as_deref(),
            holder_name: &c.holder_name,
            valid_until: c.valid_until,
            status: &c.status,
            replaces_id: c.replaces_id.as_deref(),
            superseded_by_id: c.superseded_by_id.as_deref(),
            end_reason: c.end_reason.as_deref(),
        }
    }
}
