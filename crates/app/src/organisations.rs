//! Member organisations and their registration approval (PPL-4): register,
//! read, change and move through `pending → approved ⇄ suspended` or
//! `rejected`. Organisation accounts see only their own (ACC-2).

use chrono::{DateTime, Utc};
use guild_domain::organisation::{
    CreditCode, OrgAction, OrgKind, OrgStatus, org_transition, validate_org_name,
};
use guild_domain::person::validate_phone;
pub use guild_domain::roles::ORG_MANAGERS;
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::organisations::{OrganisationFilter, OrganisationRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::stored_id;
use crate::inputs::{check_version, field};
use crate::{Page, PageRequest};

/// An organisation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationView {
    /// The organisation id.
    pub id: Uuid,
    /// Registered name.
    pub name: String,
    /// Kind of organisation.
    pub kind: OrgKind,
    /// Unified social credit code (统一社会信用代码), GB 32100.
    pub credit_code: Option<String>,
    /// Region (for statistics).
    pub region: Option<String>,
    /// Contact person.
    pub contact_name: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// `pending` until the association approves the registration (PPL-4).
    pub status: OrgStatus,
    /// The reason given for the last rejection or suspension.
    pub status_reason: Option<String>,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When the organisation was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<OrganisationRow> for OrganisationView {
    type Error = AppError;
    fn try_from(r: OrganisationRow) -> AppResult<Self> {
        const T: &str = "organisations";
        Ok(OrganisationView {
            id: stored_id(T, &r.id)?,
            name: r.name,
            kind: stored(T, &r.kind)?,
            credit_code: r.credit_code,
            region: r.region,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            address: r.address,
            status: stored(T, &r.status)?,
            status_reason: r.status_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new organisation (registered as `pending`).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Shenzhen Gas Co.", "kind": "member_company", "credit_code": "91350100M000100Y43", "region": "Futian"})))]
pub struct CreateOrganisation {
    /// Registered name, 2 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 128))]
    pub name: String,
    /// Kind of organisation.
    pub kind: OrgKind,
    /// Unified social credit code, 18 characters with a valid check character.
    #[cfg_attr(feature = "openapi", schema(min_length = 18, max_length = 18))]
    pub credit_code: Option<String>,
    /// Region (for statistics).
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub region: Option<String>,
    /// Contact person.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub contact_name: Option<String>,
    /// Contact phone.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub contact_phone: Option<String>,
    /// Address.
    #[validate(length(min = 1, max = 256))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub address: Option<String>,
}

/// Changes to an organisation; omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    /// Registered name.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 128))]
    pub name: Option<String>,
    /// Region.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub region: Option<String>,
    /// Contact person.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub contact_name: Option<String>,
    /// Contact phone.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub contact_phone: Option<String>,
    /// Address.
    #[validate(length(min = 1, max = 256))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub address: Option<String>,
}

/// Filters of the organisation list.
#[derive(Debug, Clone, Default)]
pub struct ListOrganisations {
    /// Only this kind.
    pub kind: Option<OrgKind>,
    /// Only this status.
    pub status: Option<OrgStatus>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Loads an organisation the caller may see, or 404 (ACC-2).
pub fn visible(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<OrganisationRow> {
    let id = id.to_string();
    if !ctx.caller()?.can_see_organisation(Some(&id)) {
        return Err(AppError::NotFound("organisation"));
    }
    guild_store::organisations::find(conn, &id)?.ok_or(AppError::NotFound("organisation"))
}

fn credit_code(raw: Option<&str>) -> AppResult<Option<String>> {
    Ok(raw
        .map(CreditCode::parse)
        .transpose()?
        .map(CreditCode::into_string))
}

fn phone(raw: Option<&str>) -> AppResult<Option<String>> {
    raw.map(|p| field("contact_phone", validate_phone(p)))
        .transpose()
}

impl crate::events::Record for OrganisationView {
    const ENTITY: &'static str = "organisation";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        Some(self.id)
    }
}

/// The organisations the caller may see; organisation users only their own.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListOrganisations,
    page: PageRequest,
) -> AppResult<Page<OrganisationView>> {
    let filter = OrganisationFilter {
        kind: q.kind.map(|k| k.as_str().to_owned()),
        status: q.status.map(|s| s.as_str().to_owned()),
        only_id: ctx.caller()?.organisation_scope(),
        name_contains: q.name,
    };
    guild_store::organisations::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(OrganisationView::try_from)
}

/// One organisation the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<OrganisationView> {
    visible(ctx, conn, id)?.try_into()
}

/// Registers an organisation as `pending` (PPL-4). A credit code already
/// registered answers 409 `already_exists`.
pub fn create(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateOrganisation,
) -> AppResult<OrganisationView> {
    let name = validate_org_name(&body.name)?;
    let credit_code = credit_code(body.credit_code.as_deref())?;
    let contact_phone = phone(body.contact_phone.as_deref())?;
    if let Some(code) = &credit_code
        && guild_store::organisations::find_by_credit_code(conn, code)?.is_some()
    {
        return Err(AppError::Exists(
            "an organisation with this credit code is already registered".to_owned(),
        ));
    }
    let now = ctx.now.naive_utc();
    let row = OrganisationRow {
        id: Uuid::now_v7().to_string(),
        name,
        kind: body.kind.as_str().to_owned(),
        credit_code,
        region: body.region.map(|v| v.trim().to_owned()),
        contact_name: body.contact_name.map(|v| v.trim().to_owned()),
        contact_phone,
        address: body.address.map(|v| v.trim().to_owned()),
        status: OrgStatus::Pending.as_str().to_owned(),
        status_reason: None,
        version: 1,
        created_by: Some(ctx.caller()?.id.clone()),
        created_at: now,
        updated_at: now,
    };
    guild_store::organisations::insert(conn, &row)
        .or_taken(|| AppError::Exists("the organisation already exists".to_owned()))?;
    let view = OrganisationView::try_from(row)?;
    ctx.emit(conn, Event::change(ev::ORGANISATION_CREATED, None, &view)?)?;
    Ok(view)
}

/// Changes an organisation's details; omitted fields stay (API-5: a stale
/// `expected` version answers 412).
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected: Option<i32>,
    body: UpdateOrganisation,
) -> AppResult<OrganisationView> {
    let name = body.name.as_deref().map(validate_org_name).transpose()?;
    let contact_phone = phone(body.contact_phone.as_deref())?;
    guild_store::locks::lock_row(conn, Locked::Organisations, &id.to_string())?;
    let mut row = visible(ctx, conn, id)?;
    check_version(expected, row.version)?;
    let before = OrganisationView::try_from(row.clone())?;
    if let Some(v) = name {
        row.name = v;
    }
    if let Some(v) = body.region {
        row.region = Some(v.trim().to_owned());
    }
    if let Some(v) = body.contact_name {
        row.contact_name = Some(v.trim().to_owned());
    }
    if let Some(v) = contact_phone {
        row.contact_phone = Some(v);
    }
    if let Some(v) = body.address {
        row.address = Some(v.trim().to_owned());
    }
    save(ctx, conn, ev::ORGANISATION_UPDATED, row, before)
}

/// Moves an organisation through its registration states (PPL-4): approve,
/// reject or suspend (with `reason`), reinstate.
pub fn transition(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: OrgAction,
    reason: Option<String>,
) -> AppResult<OrganisationView> {
    guild_store::locks::lock_row(conn, Locked::Organisations, &id.to_string())?;
    let mut row = visible(ctx, conn, id)?;
    let before = OrganisationView::try_from(row.clone())?;
    let next = org_transition(before.status, action)?;
    row.status = next.as_str().to_owned();
    row.status_reason = reason;
    let kind = match action {
        OrgAction::Approve => ev::ORGANISATION_APPROVED,
        OrgAction::Reject => ev::ORGANISATION_REJECTED,
        OrgAction::Suspend => ev::ORGANISATION_SUSPENDED,
        OrgAction::Reinstate => ev::ORGANISATION_REINSTATED,
    };
    save(ctx, conn, kind, row, before)
}

/// Bumps the version, writes the row and emits the change.
fn save(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    mut row: OrganisationRow,
    before: OrganisationView,
) -> AppResult<OrganisationView> {
    guild_store::organisations::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = OrganisationView::try_from(row)?;
    ctx.emit(conn, Event::change(kind, Some(&before), &after)?)?;
    Ok(after)
}
