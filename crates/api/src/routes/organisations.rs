//! Member organisations and their registration approval (PPL-4).

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::organisation::{
    CreditCode, OrgAction, OrgKind, OrgStatus, org_transition, validate_org_name,
};
use guild_domain::person::validate_phone;
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::organisations::{OrganisationFilter, OrganisationRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Association roles that register and approve organisations.
pub const ORG_MANAGERS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// An organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    type Error = ApiError;
    fn try_from(r: OrganisationRow) -> ApiResult<Self> {
        Ok(OrganisationView {
            id: stored_uuid("organisations", &r.id)?,
            name: r.name,
            kind: parse_stored("organisations", &r.kind)?,
            credit_code: r.credit_code,
            region: r.region,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            address: r.address,
            status: parse_stored("organisations", &r.status)?,
            status_reason: r.status_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new organisation (registered as `pending`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Shenzhen Gas Co.", "kind": "member_company", "credit_code": "91350100M000100Y43", "region": "Futian"}))]
pub struct CreateOrganisation {
    /// Registered name, 2 to 128 characters.
    #[schema(min_length = 2, max_length = 128)]
    pub name: String,
    /// Kind of organisation.
    pub kind: OrgKind,
    /// Unified social credit code, 18 characters with a valid check character.
    #[schema(min_length = 18, max_length = 18)]
    pub credit_code: Option<String>,
    /// Region (for statistics).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub region: Option<String>,
    /// Contact person.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub contact_name: Option<String>,
    /// Contact phone.
    #[schema(max_length = 32)]
    pub contact_phone: Option<String>,
    /// Address.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub address: Option<String>,
}

/// Changes to an organisation; omitted fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    /// Registered name.
    #[schema(min_length = 2, max_length = 128)]
    pub name: Option<String>,
    /// Region.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub region: Option<String>,
    /// Contact person.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub contact_name: Option<String>,
    /// Contact phone.
    #[schema(max_length = 32)]
    pub contact_phone: Option<String>,
    /// Address.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub address: Option<String>,
}

pub use guild_app::inputs::Reason;

/// Filters for the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganisationQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this kind.
    pub kind: Option<OrgKind>,
    /// Only this status.
    pub status: Option<OrgStatus>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// Loads an organisation the caller may see, or 404 (ACC-2).
pub fn visible_organisation(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &Uuid,
) -> ApiResult<OrganisationRow> {
    let id = id.to_string();
    if !caller.can_see_organisation(Some(&id)) {
        return Err(ApiError::not_found("organisation"));
    }
    guild_store::organisations::find(conn, &id)?.ok_or_else(|| ApiError::not_found("organisation"))
}

fn parse_credit_code(raw: Option<&str>) -> ApiResult<Option<String>> {
    Ok(raw
        .map(CreditCode::parse)
        .transpose()?
        .map(CreditCode::into_string))
}

fn parse_phone(field: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
    raw.map(|p| {
        validate_phone(p).map_err(|mut e| {
            e.field = field.to_owned();
            ApiError::from(e)
        })
    })
    .transpose()
}

/// List organisations. Organisation users see only their own (ACC-2).
#[utoipa::path(
    operation_id = "list_organisations",
    tag = "organisations", params(OrganisationQuery), responses((status = 200,
            description = "OK", body = Paged<OrganisationView>), ListErrors))]
#[get("/organisations")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<OrganisationQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = OrganisationFilter {
        kind: q.kind.map(|k| k.as_str().to_owned()),
        status: q.status.map(|s| s.as_str().to_owned()),
        only_id: user.organisation_scope(),
        name_contains: q.name,
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::organisations::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, OrganisationView::try_from)?))
}

/// Register an organisation; it stays `pending` until approved (PPL-4).
#[utoipa::path(
    operation_id = "create_organisation",
    tag = "organisations",
    request_body = CreateOrganisation,
    responses((status = 201, description = "Registered, pending approval", body = OrganisationView), CreateErrors)
)]
#[post("/organisations")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateOrganisation>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let name = validate_org_name(&body.name)?;
    let credit_code = parse_credit_code(body.credit_code.as_deref())?;
    let contact_phone = parse_phone("contact_phone", body.contact_phone.as_deref())?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                if let Some(code) = &credit_code
                    && guild_store::organisations::find_by_credit_code(c, code)?.is_some()
                {
                    return Err(ApiError::exists(
                        "an organisation with this credit code is already registered",
                    ));
                }
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
                    created_by: Some(user.id.clone()),
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                guild_store::organisations::insert(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        ApiError::exists("the organisation already exists")
                    } else {
                        e.into()
                    }
                })?;
                let view = OrganisationView::try_from(row)?;
                let id = view.id.to_string();
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "organisation.create",
                        entity_type: "organisation",
                        entity_id: &id,
                        organisation_id: Some(&id),
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organisations/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one organisation.
#[utoipa::path(
    operation_id = "get_organisation",
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 200,
            description = "OK", body = OrganisationView), ReadErrors)
)]
#[get("/organisations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |s| s.store.read(|c| visible_organisation(c, &user, &id)))
        .await?;
    let view = OrganisationView::try_from(row)?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change an organisation's details (association staff). Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_organisation",
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateOrganisation,
    responses((status = 200,
            description = "OK", body = OrganisationView), UpdateErrors)
)]
#[patch("/organisations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateOrganisation>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let name = body.name.as_deref().map(validate_org_name).transpose()?;
    let contact_phone = parse_phone("contact_phone", body.contact_phone.as_deref())?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::Organisations, &id.to_string())?;
                let mut row = visible_organisation(c, &user, &id)?;
                if_match.check(row.version)?;
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
                save(c, &user, &ctx, now, "organisation.update", row, before)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Bumps the version, writes the row and audits the change.
fn save(
    c: &mut DbConn,
    user: &AuthUser,
    ctx: &RequestContext,
    now: DateTime<Utc>,
    action: &str,
    mut row: OrganisationRow,
    before: OrganisationView,
) -> ApiResult<OrganisationView> {
    guild_store::organisations::update(c, &mut row, now.naive_utc())?;
    let after = OrganisationView::try_from(row)?;
    let id = after.id.to_string();
    audit::record(
        c,
        &Actor::new(user, ctx, now),
        Change {
            action,
            entity_type: "organisation",
            entity_id: &id,
            organisation_id: Some(&id),
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: OrgAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::Organisations, &id.to_string())?;
                let mut row = visible_organisation(c, &user, &id)?;
                let before = OrganisationView::try_from(row.clone())?;
                let next = org_transition(before.status, action)?;
                row.status = next.as_str().to_owned();
                row.status_reason = reason;
                save(
                    c,
                    &user,
                    &ctx,
                    now,
                    &format!("organisation.{action}"),
                    row,
                    before,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a pending registration (PPL-4); its accounts can then be created.
#[utoipa::path(
    operation_id = "approve_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), OrgAction::Approve, None).await
}

/// Reject a pending registration with a reason (PPL-4).
#[utoipa::path(
    operation_id = "reject_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), request_body = Reason, responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        OrgAction::Reject,
        Some(body.into_inner().reason),
    )
    .await
}

/// Suspend an approved organisation with a reason: no new accounts can be attached.
#[utoipa::path(
    operation_id = "suspend_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), request_body = Reason, responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/suspend")]
pub async fn suspend(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        OrgAction::Suspend,
        Some(body.into_inner().reason),
    )
    .await
}

/// Lift a suspension.
#[utoipa::path(
    operation_id = "reinstate_organisation",
    tag = "organisations", params(("id" = Uuid, Path, description = "Organisation id")), responses((status = 200,
            description = "OK", body = OrganisationView), ActionErrors))]
#[post("/organisations/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        OrgAction::Reinstate,
        None,
    )
    .await
}
