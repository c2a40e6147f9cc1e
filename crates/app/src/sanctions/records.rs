//! The records and inputs of exam discipline (DSC-1 to DSC-5) and of the
//! public misconduct register, each built from its rows in one function.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::ban::BanScope;
use guild_domain::discipline::{
    Offence, Outcome, RegisterEntryStatus, RegisterOffence, SanctionStatus,
    sanction_allowed_actions,
};
use guild_domain::person::mask_name;
use guild_store::bans::BanRow;
use guild_store::sanctions::{EntryWithNames, SanctionRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::error::{AppResult, stored};
use crate::ids::{stored_id, stored_opt};

/// The ban imposed with a sanction (DSC-2, DSC-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SanctionBan {
    /// The ban id (see `/bans/{id}`; named in ENR-4 refusals).
    pub id: Uuid,
    /// `program` (DSC-2) or `all` (DSC-3).
    pub scope: BanScope,
    /// The program of a `program` ban.
    pub program_id: Option<Uuid>,
    /// First day (inclusive).
    pub starts_on: NaiveDate,
    /// Last day (inclusive): the day before the same date one (DSC-2) or three (DSC-3) years later.
    pub ends_on: NaiveDate,
    /// When it was withdrawn with the sanction (DSC-5).
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl SanctionBan {
    /// The record of a sanction's stored ban.
    fn of(b: &BanRow) -> AppResult<Self> {
        Ok(SanctionBan {
            id: stored_id("sanctions", &b.id)?,
            scope: stored("bans", &b.scope)?,
            program_id: stored_opt("sanctions", b.program_id.as_deref())?,
            starts_on: b.starts_on,
            ends_on: b.ends_on,
            withdrawn_at: b.withdrawn_at.map(|t| t.and_utc()),
        })
    }
}

/// An exam sanction (DSC-5: the incident, the invigilator, the evidence reference and the rule applied).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SanctionView {
    /// The sanction id.
    pub id: Uuid,
    /// The sitting where the incident happened.
    pub sitting_id: Uuid,
    /// The examinee's registration for that sitting.
    pub registration_id: Uuid,
    /// The examinee.
    pub person_id: Uuid,
    /// The examinee's name.
    pub person_name: String,
    /// The organisation that sent the examinee (the employer notified under DSC-3).
    pub organisation_id: Option<Uuid>,
    /// What the examinee did.
    pub offence: Offence,
    /// What was decided.
    pub outcome: Outcome,
    /// The rule applied: `DSC-1`, `DSC-2` or `DSC-3`.
    pub rule: String,
    /// Whether the examinee was disqualified from the sitting with score zero.
    pub score_zero: bool,
    /// The incident as the invigilator describes it.
    pub description: String,
    /// Where the evidence is kept (video file, photo, seized device tag).
    pub evidence_reference: String,
    /// The invigilator who recorded it.
    pub invigilator_user_id: Uuid,
    /// When the incident happened.
    pub occurred_at: DateTime<Utc>,
    /// The ban imposed with it.
    pub ban: Option<SanctionBan>,
    /// When the employer organisation was notified (DSC-3).
    pub employer_notified_at: Option<DateTime<Utc>>,
    /// `active` or `withdrawn`.
    pub status: SanctionStatus,
    /// The training head who withdrew it (DSC-5).
    pub withdrawn_by: Option<Uuid>,
    /// When.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Why.
    pub withdrawal_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The actions its state allows.
    pub allowed_actions: Vec<String>,
}

impl SanctionView {
    /// The record of a stored sanction with its ban and its person's name.
    pub(super) fn from_parts(
        r: SanctionRow,
        ban: Option<&BanRow>,
        person_name: String,
    ) -> AppResult<Self> {
        let id = |v: &str| stored_id("sanctions", v);
        let opt = |v: Option<&str>| stored_opt("sanctions", v);
        let outcome: Outcome = stored("sanctions", &r.outcome)?;
        let status: SanctionStatus = stored("sanctions", &r.status)?;
        Ok(SanctionView {
            id: id(&r.id)?,
            sitting_id: id(&r.sitting_id)?,
            registration_id: id(&r.registration_id)?,
            person_id: id(&r.person_id)?,
            person_name,
            organisation_id: opt(r.organisation_id.as_deref())?,
            offence: stored("sanctions", &r.offence)?,
            outcome,
            rule: r.rule,
            score_zero: outcome.disqualifies(),
            description: r.description,
            evidence_reference: r.evidence_reference,
            invigilator_user_id: id(&r.invigilator_user_id)?,
            occurred_at: r.occurred_at.and_utc(),
            ban: ban.map(SanctionBan::of).transpose()?,
            employer_notified_at: r.employer_notified_at.map(|t| t.and_utc()),
            status,
            withdrawn_by: opt(r.withdrawn_by.as_deref())?,
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
            withdrawal_reason: r.withdrawal_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            allowed_actions: sanction_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// An incident recorded by an invigilator during a sitting (DSC-5).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"registration_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "offence": "cheating", "description": "Copied from the neighbour's answer sheet in the theory part", "evidence_reference": "CCTV room 3, 09:42-09:47"})))]
pub struct RecordIncident {
    /// The examinee's registration for this sitting.
    pub registration_id: Uuid,
    /// `cheating` (DSC-1), `impersonation` (DSC-2) or `serious_misconduct` (DSC-3).
    pub offence: Offence,
    /// What happened.
    #[validate(length(min = 1, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub description: String,
    /// Where the evidence is kept (DSC-5).
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub evidence_reference: String,
    /// When it happened, on the sitting's day and not in the future; default now.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// The filters of the sanction list the client asked for.
#[derive(Debug, Clone, Default)]
pub struct ListSanctions {
    /// Only sanctions of this sitting.
    pub sitting_id: Option<Uuid>,
    /// Only this person's sanctions.
    pub person_id: Option<Uuid>,
    /// Only sanctions with this status.
    pub status: Option<SanctionStatus>,
    /// Only sanctions for this offence.
    pub offence: Option<Offence>,
}

/// The filters of the public misconduct register.
#[derive(Debug, Clone, Default)]
pub struct ListMisconduct {
    /// Only entries with this status.
    pub status: Option<RegisterEntryStatus>,
    /// Only entries for this offence.
    pub offence: Option<RegisterOffence>,
}

/// Whom a register entry is about.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegisterSubject {
    /// A person (exam misconduct, DSC-3; a forged certificate, CRT-7).
    Person,
    /// An organisation (a forged certificate, CRT-7).
    Organisation,
}

/// An entry of the public misconduct register (不良行为专栏). Never carries an
/// ID number or a person id.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MisconductEntryView {
    /// The entry id.
    pub id: Uuid,
    /// Whether the entry is about a person or an organisation.
    pub subject: RegisterSubject,
    /// The person's name, partly masked (PPL-3); absent for an organisation.
    pub person_name: Option<String>,
    /// The organisation (the person's employer, or the organisation itself).
    pub organisation_name: Option<String>,
    /// What was done.
    pub offence: RegisterOffence,
    /// The sanction, e.g. the ban and its dates.
    pub sanction_summary: String,
    /// First day of the sanction.
    pub starts_on: NaiveDate,
    /// Last day of the sanction, if it ends.
    pub ends_on: Option<NaiveDate>,
    /// `listed` or `withdrawn` (DSC-5: a withdrawn case stays, marked).
    pub status: RegisterEntryStatus,
    /// Why the sanction was withdrawn.
    pub withdrawal_reason: Option<String>,
    /// When it was withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// When it was listed.
    pub published_at: DateTime<Utc>,
}

impl MisconductEntryView {
    /// The public record of a stored entry with its names.
    pub(super) fn of(e: EntryWithNames) -> AppResult<Self> {
        let r = e.entry;
        Ok(MisconductEntryView {
            id: stored_id("misconduct_entries", &r.id)?,
            subject: if r.person_id.is_some() {
                RegisterSubject::Person
            } else {
                RegisterSubject::Organisation
            },
            person_name: e.person_name.as_deref().map(mask_name),
            organisation_name: e.organisation_name,
            offence: stored("misconduct_entries", &r.offence)?,
            sanction_summary: r.sanction_summary,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status: stored("misconduct_entries", &r.status)?,
            withdrawal_reason: r.withdrawal_reason,
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
            published_at: r.published_at.and_utc(),
        })
    }
}
