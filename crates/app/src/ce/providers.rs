//! Continuing-education providers (继续教育基地, CED-4, seed 004 ch. 3).
//!
//! - An organisation applies, through one of its `provider` accounts or its
//!   `org_reviewer` (seed 004 art. 9: colleges, training bodies, companies and
//!   associations may all apply), with evidence of each of the five
//!   conditions of art. 9; an application lacking any is refused naming the
//!   missing ones (422 `provider_condition_missing`, CED-4). The organisation
//!   must be approved (PPL-4) and may hold one live (applied, accredited or
//!   suspended) provider at a time (409 `provider_exists`).
//! - The authority alone decides: `accredit`, `reject`, `suspend`,
//!   `reinstate`, `withdraw` (a reason for reject, suspend and withdraw).
//! - The provider keeps its published scope, content, fee items and
//!   standards current (seed 004 art. 10).
//! - The public list shows accredited providers only, with what art. 10
//!   makes public. The evidence of the conditions is not published.
//!
//! Every change is an event against the provider's organisation (API-6, API-8).

use chrono::{DateTime, Utc};
use guild_domain::ce::{
    ProviderAction, ProviderCondition, ProviderStatus, check_conditions, check_provider_editable,
    check_provider_may_record, provider_allowed_actions, provider_transition,
};
use guild_domain::organisation::{OrgStatus, org_accepts_accounts, validate_org_name};
use guild_domain::person::validate_phone;
use guild_domain::{Fen, Refusal};
use guild_store::DbConn;
use guild_store::ce_providers::{CeProviderRow, ProviderFilter};
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ce::PROVIDER_APPLICANTS;
use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds};
use crate::ids::stored_id;
use crate::inputs::check_version;
use crate::{Page, PageRequest};

/// Evidence for each of the five conditions of seed 004 art. 9 (CED-4): a
/// description or a reference to the documents (file names, archive numbers,
/// links). Every one is required; a missing or blank one is refused naming it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionEvidence {
    /// (一) Teaching premises, facilities and equipment.
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub teaching_facilities: Option<String>,
    /// (二) Teachers and management staff.
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub teaching_staff: Option<String>,
    /// (三) Teaching plan, management rules and other rules.
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub plans_and_rules: Option<String>,
    /// (四) Capacity to complete the CE tasks and assure teaching quality.
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub quality_assurance: Option<String>,
    /// (五) Compliance with laws and regulations.
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub legal_compliance: Option<String>,
}

impl ConditionEvidence {
    fn get(&self, c: ProviderCondition) -> Option<&str> {
        match c {
            ProviderCondition::TeachingFacilities => self.teaching_facilities.as_deref(),
            ProviderCondition::TeachingStaff => self.teaching_staff.as_deref(),
            ProviderCondition::PlansAndRules => self.plans_and_rules.as_deref(),
            ProviderCondition::QualityAssurance => self.quality_assurance.as_deref(),
            ProviderCondition::LegalCompliance => self.legal_compliance.as_deref(),
        }
    }

    /// The conditions with non-blank evidence.
    fn provided(&self) -> Vec<ProviderCondition> {
        ProviderCondition::ALL
            .iter()
            .copied()
            .filter(|&c| self.get(c).is_some_and(|e| !e.trim().is_empty()))
            .collect()
    }

    /// The evidence, trimmed.
    fn trimmed(self) -> Self {
        let t = |v: Option<String>| v.map(|s| s.trim().to_owned());
        ConditionEvidence {
            teaching_facilities: t(self.teaching_facilities),
            teaching_staff: t(self.teaching_staff),
            plans_and_rules: t(self.plans_and_rules),
            quality_assurance: t(self.quality_assurance),
            legal_compliance: t(self.legal_compliance),
        }
    }
}

/// One published fee item (seed 004 art. 10: 收费项目及标准).
#[derive(Debug, Clone, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderFeeItem {
    /// What is charged for, e.g. "Offline class, per day".
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// The amount in fen.
    pub amount_fen: Fen,
}

/// A provider (继续教育基地) and its accreditation (CED-4).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderView {
    /// The provider id.
    pub id: Uuid,
    /// The organisation behind it.
    pub organisation_id: Uuid,
    /// The name it is published under.
    pub name: String,
    /// The region whose authority accredits it (seed 004 art. 6).
    pub region: String,
    /// Where it stands with the authority.
    pub status: ProviderStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The evidence of the five conditions of art. 9.
    pub conditions: ConditionEvidence,
    /// The scope of its CE (occupations, levels).
    pub scope: String,
    /// The content it teaches.
    pub content: String,
    /// Its fee items.
    pub fee_items: Vec<ProviderFeeItem>,
    /// Its teaching and service standards.
    pub standards: String,
    /// A contact phone.
    pub contact_phone: Option<String>,
    /// The reason given with the last rejection, suspension or withdrawal.
    pub status_reason: Option<String>,
    /// Who applied.
    pub applied_by: Uuid,
    /// Who at the authority took the last decision.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When it applied.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn fee_items_of(json: &str) -> AppResult<Vec<ProviderFeeItem>> {
    serde_json::from_str(json)
        .map_err(|e| AppError::Internal(format!("corrupt fee items in ce_providers: {e}")))
}

impl TryFrom<CeProviderRow> for ProviderView {
    type Error = AppError;
    fn try_from(r: CeProviderRow) -> AppResult<Self> {
        let id = |v: &str| stored_id("ce_providers", v);
        let status: ProviderStatus = stored("ce_providers", &r.status)?;
        let conditions: ConditionEvidence = serde_json::from_str(&r.conditions_json)
            .map_err(|e| AppError::Internal(format!("corrupt conditions in ce_providers: {e}")))?;
        Ok(ProviderView {
            id: id(&r.id)?,
            organisation_id: id(&r.organisation_id)?,
            name: r.name,
            region: r.region,
            status,
            allowed_actions: provider_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            conditions,
            scope: r.scope,
            content: r.content,
            fee_items: fee_items_of(&r.fee_items_json)?,
            standards: r.standards,
            contact_phone: r.contact_phone,
            status_reason: r.status_reason,
            applied_by: id(&r.applied_by)?,
            decided_by: r.decided_by.as_deref().map(id).transpose()?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// An accredited provider as the public sees it (seed 004 art. 10).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicProviderView {
    /// The provider id.
    pub id: Uuid,
    /// The name it is published under.
    pub name: String,
    /// Its region.
    pub region: String,
    /// The scope of its CE.
    pub scope: String,
    /// The content it teaches.
    pub content: String,
    /// Its fee items.
    pub fee_items: Vec<ProviderFeeItem>,
    /// Its standards.
    pub standards: String,
    /// A contact phone.
    pub contact_phone: Option<String>,
}

impl TryFrom<CeProviderRow> for PublicProviderView {
    type Error = AppError;
    fn try_from(r: CeProviderRow) -> AppResult<Self> {
        Ok(PublicProviderView {
            id: stored_id("ce_providers", &r.id)?,
            fee_items: fee_items_of(&r.fee_items_json)?,
            name: r.name,
            region: r.region,
            scope: r.scope,
            content: r.content,
            standards: r.standards,
            contact_phone: r.contact_phone,
        })
    }
}

/// An application to become a provider (CED-4).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "Jinhua Gas Skills Centre", "region": "Wucheng",
    "conditions": {
        "teaching_facilities": "Two classrooms (80 seats), training yard with pipe rigs; lease no. JH-2026-014",
        "teaching_staff": "12 teachers (6 senior technicians), 3 administrators; staff list attached",
        "plans_and_rules": "Teaching plan 2026, management rules v3",
        "quality_assurance": "Delivered 40 classes in 2025, 96% pass rate; quality manual",
        "legal_compliance": "Business licence 91330700MA2EXAMPLE; no violations on record"
    },
    "scope": "Gas pipeline operators, levels 1 to 5", "content": "Safety regulations, new pipe materials, leak detection",
    "fee_items": [{"name": "Offline class, per day", "amount_fen": 30000}],
    "standards": "Classes of at most 40; every session taught by a certified teacher"
})))]
pub struct CreateProvider {
    /// The name to publish, 2 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 128))]
    pub name: String,
    /// The region whose authority accredits it.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub region: String,
    /// Evidence of each of the five conditions of seed 004 art. 9.
    #[validate(nested)]
    pub conditions: ConditionEvidence,
    /// The scope of its CE (occupations, levels).
    #[validate(length(min = 1, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub scope: String,
    /// The content it teaches.
    #[validate(length(min = 1, max = 4000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4000))]
    pub content: String,
    /// Its fee items (at most 50; may be empty for free CE).
    #[validate(length(max = 50), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub fee_items: Vec<ProviderFeeItem>,
    /// Its teaching and service standards.
    #[validate(length(min = 1, max = 4000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4000))]
    pub standards: String,
    /// A contact phone.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub contact_phone: Option<String>,
}

/// Changes to a provider's published information (seed 004 art. 10);
/// omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"fee_items": [{"name": "Offline class, per day", "amount_fen": 28000}]})))]
pub struct UpdateProvider {
    /// The name to publish.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 128))]
    pub name: Option<String>,
    /// The scope of its CE.
    #[validate(length(min = 1, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub scope: Option<String>,
    /// The content it teaches.
    #[validate(length(min = 1, max = 4000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4000))]
    pub content: Option<String>,
    /// Its fee items, replacing the published list.
    #[validate(length(max = 50), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub fee_items: Option<Vec<ProviderFeeItem>>,
    /// Its standards.
    #[validate(length(min = 1, max = 4000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4000))]
    pub standards: Option<String>,
    /// A contact phone.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub contact_phone: Option<String>,
}

/// The filters of the provider lists.
#[derive(Debug, Clone, Default)]
pub struct ListProviders {
    /// Only this status.
    pub status: Option<ProviderStatus>,
    /// Only this region.
    pub region: Option<String>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Loads a provider the caller may see, or 404 exactly like an unknown id (ACC-2).
pub fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<CeProviderRow> {
    guild_store::ce_providers::find(conn, id)?
        .filter(|p| caller.can_see_organisation(Some(&p.organisation_id)))
        .ok_or(AppError::NotFound("provider"))
}

/// CED-4: the accredited provider a `provider` account records for: its
/// organisation's live provider, refused with `provider_not_active` unless
/// accredited (suspended, withdrawn, only applied, or none at all).
pub fn recording_provider(conn: &mut DbConn, caller: &Caller) -> AppResult<CeProviderRow> {
    let org = caller.organisation_id.as_deref().unwrap_or("");
    let Some(row) = guild_store::ce_providers::live_of_organisation(conn, org)? else {
        return Err(Refusal::rule(
            "CED-4",
            "provider_not_active",
            "your organisation is not an accredited provider",
        )
        .into());
    };
    check_provider_may_record(stored("ce_providers", &row.status)?)?;
    Ok(row)
}

fn parse_phone(raw: Option<&str>) -> AppResult<Option<String>> {
    raw.map(|p| {
        validate_phone(p).map_err(|mut e| {
            e.field = "contact_phone".to_owned();
            AppError::from(e)
        })
    })
    .transpose()
}

fn fee_items_json(items: &[ProviderFeeItem]) -> AppResult<String> {
    let items: Vec<ProviderFeeItem> = items
        .iter()
        .map(|i| ProviderFeeItem {
            name: i.name.trim().to_owned(),
            amount_fen: i.amount_fen,
        })
        .collect();
    serde_json::to_string(&items).map_err(|e| AppError::Internal(e.to_string()))
}

impl crate::events::Record for ProviderView {
    const ENTITY: &'static str = "ce_provider";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        Some(self.organisation_id)
    }
}

fn provider_exists() -> AppError {
    AppError::Refused(Refusal::rule(
        "CED-4",
        "provider_exists",
        "the organisation already has a provider application or accreditation",
    ))
}

/// Applies to become a provider (CED-4): the caller's organisation, with
/// evidence of each of the five conditions of seed 004 art. 9; it waits as
/// `applied` for the authority. The organisation must accept accounts and
/// hold no live provider (409 `provider_exists`, also a unique index).
pub fn create(ctx: &Ctx, conn: &mut DbConn, body: CreateProvider) -> AppResult<ProviderView> {
    let name = validate_org_name(&body.name)?;
    let contact_phone = parse_phone(body.contact_phone.as_deref())?;
    check_conditions(&body.conditions.provided())?;
    let conditions_json = serde_json::to_string(&body.conditions.trimmed())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let fee_items_json = fee_items_json(&body.fee_items)?;
    let caller = ctx.caller()?;
    let org_id = caller.organisation_id.clone().unwrap_or_default();
    let org = guild_store::organisations::find(conn, &org_id)?
        .ok_or(AppError::NotFound("organisation"))?;
    org_accepts_accounts(stored::<OrgStatus>("organisations", &org.status)?)?;
    if guild_store::ce_providers::live_of_organisation(conn, &org_id)?.is_some() {
        return Err(provider_exists());
    }
    let at = ctx.now.naive_utc();
    let row = CeProviderRow {
        id: Uuid::now_v7().to_string(),
        organisation_id: org_id,
        name,
        region: body.region.trim().to_owned(),
        status: ProviderStatus::Applied.as_str().to_owned(),
        conditions_json,
        scope: body.scope.trim().to_owned(),
        content: body.content.trim().to_owned(),
        fee_items_json,
        standards: body.standards.trim().to_owned(),
        contact_phone,
        status_reason: None,
        applied_by: caller.id.clone(),
        decided_by: None,
        decided_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    guild_store::ce_providers::insert(conn, &row).or_taken(provider_exists)?;
    let view = ProviderView::try_from(row)?;
    ctx.emit(
        conn,
        Event::change(kinds::CE_PROVIDER_APPLIED, None, &view)?,
    )?;
    Ok(view)
}

/// Lists providers in application order: association staff and the
/// authority see all, organisation and provider accounts their own
/// organisation's (ACC-2).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListProviders,
    page: PageRequest,
) -> AppResult<Page<ProviderView>> {
    let filter = ProviderFilter {
        status: q.status.map(|s| s.as_str().to_owned()),
        region: q.region,
        name_contains: q.name,
        only_organisation: ctx.caller()?.organisation_scope(),
    };
    guild_store::ce_providers::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(ProviderView::try_from)
}

/// One provider the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ProviderView> {
    ProviderView::try_from(visible(conn, ctx.caller()?, &id.to_string())?)
}

/// Updates a provider's published information (seed 004 art. 10): its own
/// provider accounts or reviewer (403 for other readers), while the
/// application or accreditation is live; honours the version the client
/// read (API-5).
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
    body: UpdateProvider,
) -> AppResult<ProviderView> {
    let name = body.name.as_deref().map(validate_org_name).transpose()?;
    let contact_phone = parse_phone(body.contact_phone.as_deref())?;
    let fee_items = body.fee_items.as_deref().map(fee_items_json).transpose()?;
    let id = id.to_string();
    let caller = ctx.caller()?;
    guild_store::locks::lock_row(conn, Locked::CeProviders, &id)?;
    let mut row = visible(conn, caller, &id)?;
    caller.require(PROVIDER_APPLICANTS)?;
    check_version(expected_version, row.version)?;
    let before = ProviderView::try_from(row.clone())?;
    check_provider_editable(before.status)?;
    if let Some(v) = name {
        row.name = v;
    }
    if let Some(v) = body.scope {
        row.scope = v.trim().to_owned();
    }
    if let Some(v) = body.content {
        row.content = v.trim().to_owned();
    }
    if let Some(v) = fee_items {
        row.fee_items_json = v;
    }
    if let Some(v) = body.standards {
        row.standards = v.trim().to_owned();
    }
    if let Some(v) = contact_phone {
        row.contact_phone = Some(v);
    }
    guild_store::ce_providers::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = ProviderView::try_from(row)?;
    ctx.emit(
        conn,
        Event::change(kinds::CE_PROVIDER_UPDATED, Some(&before), &after)?,
    )?;
    Ok(after)
}

/// The event kind of the authority's decision `action`.
fn decision_kind(action: ProviderAction) -> EventKind {
    match action {
        ProviderAction::Accredit => kinds::CE_PROVIDER_ACCREDITED,
        ProviderAction::Reject => kinds::CE_PROVIDER_REJECTED,
        ProviderAction::Suspend => kinds::CE_PROVIDER_SUSPENDED,
        ProviderAction::Reinstate => kinds::CE_PROVIDER_REINSTATED,
        ProviderAction::Withdraw => kinds::CE_PROVIDER_WITHDRAWN,
    }
}

/// Applies the authority's decision (CED-4): accredit, reject, suspend,
/// reinstate or withdraw; the reason is kept for the actions that need one.
pub fn decide(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: ProviderAction,
    reason: Option<String>,
) -> AppResult<ProviderView> {
    let id = id.to_string();
    let caller = ctx.caller()?;
    guild_store::locks::lock_row(conn, Locked::CeProviders, &id)?;
    let mut row = visible(conn, caller, &id)?;
    let before = ProviderView::try_from(row.clone())?;
    let next = provider_transition(before.status, action)?;
    let at = ctx.now.naive_utc();
    row.status = next.as_str().to_owned();
    row.status_reason = if action.needs_reason() {
        reason.map(|r| r.trim().to_owned())
    } else {
        None
    };
    row.decided_by = Some(caller.id.clone());
    row.decided_at = Some(at);
    guild_store::ce_providers::update(conn, &mut row, at)?;
    let after = ProviderView::try_from(row)?;
    ctx.emit(
        conn,
        Event::change(decision_kind(action), Some(&before), &after)?,
    )?;
    Ok(after)
}

/// The accredited providers with what seed 004 art. 10 makes public, in
/// application order. No caller needed.
pub fn list_public(
    conn: &mut DbConn,
    q: ListProviders,
    page: PageRequest,
) -> AppResult<Page<PublicProviderView>> {
    let filter = ProviderFilter {
        status: Some(guild_store::ce_providers::ACCREDITED.to_owned()),
        region: q.region,
        name_contains: q.name,
        only_organisation: None,
    };
    guild_store::ce_providers::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(PublicProviderView::try_from)
}
