//! Continuing-education providers (继续教育基地, CED-4, seed 004 ch. 3).
//!
//! - `POST /ce/providers`: an organisation applies, through one of its
//!   `provider` accounts or its `org_reviewer` (seed 004 art. 9: colleges,
//!   training bodies, companies and associations may all apply), with
//!   evidence of each of the five conditions of art. 9; an application
//!   lacking any is refused naming the missing ones (422
//!   `provider_condition_missing`, CED-4). The organisation must be approved
//!   (PPL-4) and may hold one live (applied, accredited or suspended)
//!   provider at a time (409 `provider_exists`).
//! - The authority alone decides: `accredit`, `reject`, `suspend`,
//!   `reinstate`, `withdraw` (a reason for reject, suspend and withdraw). The
//!   association's administrator does not: accreditation is the HR
//!   authority's power (seed 004 art. 6).
//! - `PATCH /ce/providers/{id}`: the provider keeps its published scope,
//!   content, fee items and standards current (seed 004 art. 10), with
//!   `If-Match`.
//! - `GET /public/providers`: accredited providers only, with what art. 10
//!   makes public. The evidence of the conditions is not published.
//!
//! Every change is audited against the provider's organisation (API-6).

use actix_web::{HttpResponse, get, patch, post, web};
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
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{
    ActionErrors, CreateErrors, ListErrors, PublicErrors, ReadErrors, UpdateErrors,
};
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;

pub use guild_app::ce::{PROVIDER_APPLICANTS, PROVIDER_DECIDERS, PROVIDER_READERS};

/// Evidence for each of the five conditions of seed 004 art. 9 (CED-4): a
/// description or a reference to the documents (file names, archive numbers,
/// links). Every one is required; a missing or blank one is refused naming it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionEvidence {
    /// (一) Teaching premises, facilities and equipment.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub teaching_facilities: Option<String>,
    /// (二) Teachers and management staff.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub teaching_staff: Option<String>,
    /// (三) Teaching plan, management rules and other rules.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub plans_and_rules: Option<String>,
    /// (四) Capacity to complete the CE tasks and assure teaching quality.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub quality_assurance: Option<String>,
    /// (五) Compliance with laws and regulations.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
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
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderFeeItem {
    /// What is charged for, e.g. "Offline class, per day".
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The amount in fen.
    pub amount_fen: Fen,
}

/// A provider (继续教育基地) and its accreditation (CED-4).
#[derive(Debug, Clone, Serialize, ToSchema)]
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

fn fee_items_of(json: &str) -> ApiResult<Vec<ProviderFeeItem>> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("corrupt fee items in ce_providers: {e}")))
}

impl TryFrom<CeProviderRow> for ProviderView {
    type Error = ApiError;
    fn try_from(r: CeProviderRow) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("ce_providers", v);
        let status: ProviderStatus = parse_stored("ce_providers", &r.status)?;
        let conditions: ConditionEvidence = serde_json::from_str(&r.conditions_json)
            .map_err(|e| ApiError::Internal(format!("corrupt conditions in ce_providers: {e}")))?;
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    type Error = ApiError;
    fn try_from(r: CeProviderRow) -> ApiResult<Self> {
        Ok(PublicProviderView {
            id: stored_uuid("ce_providers", &r.id)?,
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
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
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
}))]
pub struct CreateProvider {
    /// The name to publish, 2 to 128 characters.
    #[schema(min_length = 2, max_length = 128)]
    pub name: String,
    /// The region whose authority accredits it.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub region: String,
    /// Evidence of each of the five conditions of seed 004 art. 9.
    #[validate(nested)]
    pub conditions: ConditionEvidence,
    /// The scope of its CE (occupations, levels).
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub scope: String,
    /// The content it teaches.
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub content: String,
    /// Its fee items (at most 50; may be empty for free CE).
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub fee_items: Vec<ProviderFeeItem>,
    /// Its teaching and service standards.
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub standards: String,
    /// A contact phone.
    #[schema(max_length = 32)]
    pub contact_phone: Option<String>,
}

/// Changes to a provider's published information (seed 004 art. 10);
/// omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fee_items": [{"name": "Offline class, per day", "amount_fen": 28000}]}))]
pub struct UpdateProvider {
    /// The name to publish.
    #[schema(min_length = 2, max_length = 128)]
    pub name: Option<String>,
    /// The scope of its CE.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub scope: Option<String>,
    /// The content it teaches.
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub content: Option<String>,
    /// Its fee items, replacing the published list.
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub fee_items: Option<Vec<ProviderFeeItem>>,
    /// Its standards.
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub standards: Option<String>,
    /// A contact phone.
    #[schema(max_length = 32)]
    pub contact_phone: Option<String>,
}

/// Filters for the provider list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProviderQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ProviderStatus>,
    /// Only this region.
    pub region: Option<String>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Filters for the public provider list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicProviderQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Loads a provider the caller may see, or 404 exactly like an unknown id (ACC-2).
pub fn visible_provider(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<CeProviderRow> {
    guild_store::ce_providers::find(conn, id)?
        .filter(|p| caller.can_see_organisation(Some(&p.organisation_id)))
        .ok_or_else(|| ApiError::not_found("provider"))
}

/// CED-4: the accredited provider a `provider` account records for: its
/// organisation's live provider, refused with `provider_not_active` unless
/// accredited (suspended, withdrawn, only applied, or none at all).
pub fn recording_provider(conn: &mut DbConn, caller: &AuthUser) -> ApiResult<CeProviderRow> {
    let org = caller.organisation_id.as_deref().unwrap_or("");
    let Some(row) = guild_store::ce_providers::live_of_organisation(conn, org)? else {
        return Err(Refusal::rule(
            "CED-4",
            "provider_not_active",
            "your organisation is not an accredited provider",
        )
        .into());
    };
    check_provider_may_record(parse_stored("ce_providers", &row.status)?)?;
    Ok(row)
}

fn parse_phone(raw: Option<&str>) -> ApiResult<Option<String>> {
    raw.map(|p| {
        validate_phone(p).map_err(|mut e| {
            e.field = "contact_phone".to_owned();
            ApiError::from(e)
        })
    })
    .transpose()
}

fn fee_items_json(items: &[ProviderFeeItem]) -> ApiResult<String> {
    let items: Vec<ProviderFeeItem> = items
        .iter()
        .map(|i| ProviderFeeItem {
            name: i.name.trim().to_owned(),
            amount_fen: i.amount_fen,
        })
        .collect();
    serde_json::to_string(&items).map_err(|e| ApiError::Internal(e.to_string()))
}

fn audit_provider(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&ProviderView>,
    after: &ProviderView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.to_string();
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "ce_provider",
            entity_id: &id,
            organisation_id: Some(&org),
            before,
            after: Some(after),
        },
    )
}

fn provider_response(status: actix_web::http::StatusCode, view: &ProviderView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(view.version))
        .json(view)
}

/// Apply to become a provider (CED-4). The caller's organisation applies,
/// with evidence of each of the five conditions of seed 004 art. 9; it waits
/// as `applied` for the authority.
#[utoipa::path(
    operation_id = "create_ce_provider",
    tag = "ce",
    request_body = CreateProvider,
    responses((status = 201, description = "Applied, awaiting the authority", body = ProviderView), CreateErrors)
)]
#[post("/ce/providers")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateProvider>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_APPLICANTS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let name = validate_org_name(&body.name)?;
    let contact_phone = parse_phone(body.contact_phone.as_deref())?;
    check_conditions(&body.conditions.provided())?;
    let conditions_json = serde_json::to_string(&body.conditions.trimmed())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let fee_items_json = fee_items_json(&body.fee_items)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let org_id = user.organisation_id.clone().unwrap_or_default();
                let org = guild_store::organisations::find(c, &org_id)?
                    .ok_or_else(|| ApiError::not_found("organisation"))?;
                org_accepts_accounts(parse_stored::<OrgStatus>("organisations", &org.status)?)?;
                let exists = || {
                    ApiError::Refused(Refusal::rule(
                        "CED-4",
                        "provider_exists",
                        "the organisation already has a provider application or accreditation",
                    ))
                };
                if guild_store::ce_providers::live_of_organisation(c, &org_id)?.is_some() {
                    return Err(exists());
                }
                let at = now.naive_utc();
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
                    applied_by: user.id.clone(),
                    decided_by: None,
                    decided_at: None,
                    version: 1,
                    created_at: at,
                    updated_at: at,
                };
                guild_store::ce_providers::insert(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        exists()
                    } else {
                        e.into()
                    }
                })?;
                let view = ProviderView::try_from(row)?;
                audit_provider(
                    c,
                    &Actor::new(&user, &ctx, now),
                    "ce_provider.apply",
                    None,
                    &view,
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/ce/providers/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List providers: association staff and the authority see all, organisation
/// and provider accounts their own organisation's (ACC-2).
#[utoipa::path(
    operation_id = "list_ce_providers",
    tag = "ce",
    params(ProviderQuery),
    responses((status = 200, description = "OK (in application order)", body = Paged<ProviderView>), ListErrors)
)]
#[get("/ce/providers")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ProviderQuery>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ProviderFilter {
        status: q.status.map(|s| s.as_str().to_owned()),
        region: q.region,
        name_contains: q.name,
        only_organisation: user.organisation_scope(),
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::ce_providers::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, ProviderView::try_from)?))
}

/// Read one provider.
#[utoipa::path(
    operation_id = "get_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    responses((status = 200, description = "OK", body = ProviderView), ReadErrors)
)]
#[get("/ce/providers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let id = id.into_inner().to_string();
    let row = state
        .run(move |s| s.store.read(|c| visible_provider(c, &user, &id)))
        .await?;
    let view = ProviderView::try_from(row)?;
    Ok(provider_response(actix_web::http::StatusCode::OK, &view))
}

/// Update a provider's published information (seed 004 art. 10): its own
/// provider accounts or reviewer, while the application or accreditation is
/// live. Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateProvider,
    responses((status = 200, description = "OK", body = ProviderView), UpdateErrors)
)]
#[patch("/ce/providers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateProvider>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    validate(&*body)?;
    let id = id.into_inner().to_string();
    let body = body.into_inner();
    let name = body.name.as_deref().map(validate_org_name).transpose()?;
    let contact_phone = parse_phone(body.contact_phone.as_deref())?;
    let fee_items = body.fee_items.as_deref().map(fee_items_json).transpose()?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::CeProviders, &id)?;
                let mut row = visible_provider(c, &user, &id)?;
                user.require(PROVIDER_APPLICANTS)?;
                if_match.check(row.version)?;
                let before = ProviderView::try_from(row.clone())?;
                check_provider_editable(before.status).map_err(ApiError::Refused)?;
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
                guild_store::ce_providers::update(c, &mut row, now.naive_utc())?;
                let after = ProviderView::try_from(row)?;
                audit_provider(
                    c,
                    &Actor::new(&user, &ctx, now),
                    "ce_provider.update",
                    Some(&before),
                    &after,
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(provider_response(actix_web::http::StatusCode::OK, &view))
}

/// Applies the authority's decision (CED-4) in one transaction.
async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ProviderAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_DECIDERS)?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::CeProviders, &id)?;
                let mut row = visible_provider(c, &user, &id)?;
                let before = ProviderView::try_from(row.clone())?;
                let next = provider_transition(before.status, action)?;
                row.status = next.as_str().to_owned();
                row.status_reason = if action.needs_reason() {
                    reason.map(|r| r.trim().to_owned())
                } else {
                    None
                };
                row.decided_by = Some(user.id.clone());
                row.decided_at = Some(now.naive_utc());
                guild_store::ce_providers::update(c, &mut row, now.naive_utc())?;
                let after = ProviderView::try_from(row)?;
                audit_provider(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &format!("ce_provider.{action}"),
                    Some(&before),
                    &after,
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(provider_response(actix_web::http::StatusCode::OK, &view))
}

/// Accredit an application (authority, CED-4): the provider is published and may record credits.
#[utoipa::path(
    operation_id = "accredit_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    responses((status = 200, description = "Accredited", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/accredit")]
pub async fn accredit(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Accredit,
        None,
    )
    .await
}

/// Reject an application with a reason (authority, CED-4).
#[utoipa::path(
    operation_id = "reject_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Reject,
        reason,
    )
    .await
}

/// Suspend an accredited provider with a reason (authority, CED-4): it leaves
/// the public list and cannot record credits until reinstated.
#[utoipa::path(
    operation_id = "suspend_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    request_body = Reason,
    responses((status = 200, description = "Suspended", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/suspend")]
pub async fn suspend(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Suspend,
        reason,
    )
    .await
}

/// Lift a suspension (authority, CED-4).
#[utoipa::path(
    operation_id = "reinstate_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    responses((status = 200, description = "Accredited again", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Reinstate,
        None,
    )
    .await
}

/// Withdraw an accreditation for good, with a reason (authority, CED-4, seed
/// 004 art. 12 and 34). The organisation may apply again later.
#[utoipa::path(
    operation_id = "withdraw_ce_provider",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Provider id")),
    request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = ProviderView), ActionErrors)
)]
#[post("/ce/providers/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason);
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        ProviderAction::Withdraw,
        reason,
    )
    .await
}

/// The accredited providers with their published scope, content, fee items
/// and standards (CED-4, seed 004 art. 10). No login needed.
#[utoipa::path(
    operation_id = "list_public_providers",
    tag = "public",
    security(()),
    params(PublicProviderQuery),
    responses((status = 200, description = "OK (in application order)", body = Paged<PublicProviderView>), PublicErrors)
)]
#[get("/public/providers")]
pub async fn list_public(
    state: web::Data<AppState>,
    q: web::Query<PublicProviderQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ProviderFilter {
        status: Some(guild_store::ce_providers::ACCREDITED.to_owned()),
        region: q.region,
        name_contains: q.name,
        only_organisation: None,
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::ce_providers::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, PublicProviderView::try_from)?))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(accredit)
        .service(reject)
        .service(suspend)
        .service(reinstate)
        .service(withdraw)
        .service(list_public);
}
