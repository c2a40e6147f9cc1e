//! Organisation account change requests (ACC-3, ACC-4): when a company's filler or
//! reviewer changes, the company files a request (变更函); the new account exists
//! only once an association officer approves it, and the account it replaces is
//! disabled at the same moment.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::account::{validate_password, validate_username};
use guild_domain::organisation::{
    AccountChangeAction, AccountChangeStatus, OrgStatus, account_change_transition,
    check_org_account_role, org_accepts_accounts,
};
use guild_store::DbConn;
use guild_store::account_changes::{AccountChangeFilter, AccountChangeRow};
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::auth::end_all_sessions;
use crate::routes::organisations::{ORG_MANAGERS, Reason, visible_organisation};
use crate::routes::users::{NewUser, new_user_row, stored_uuid};
use crate::state::AppState;

/// An account change request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountChangeView {
    /// The request id.
    pub id: Uuid,
    /// The organisation asking.
    pub organisation_id: Uuid,
    /// `org_filler` or `org_reviewer`.
    pub role: Role,
    /// The new account's user name.
    pub username: String,
    /// The new account's display name.
    pub display_name: String,
    /// The account the new one replaces (disabled on approval).
    pub replaces_user_id: Option<Uuid>,
    /// Why the change is asked for.
    pub reason: String,
    /// `submitted`, `approved` or `rejected`.
    pub status: AccountChangeStatus,
    /// Who filed it.
    pub submitted_by: Uuid,
    /// Who decided.
    pub decided_by: Option<Uuid>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason given for a rejection.
    pub decision_reason: Option<String>,
    /// The account created on approval.
    pub created_user_id: Option<Uuid>,
    /// Version.
    pub version: i32,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<AccountChangeRow> for AccountChangeView {
    type Error = ApiError;
    fn try_from(r: AccountChangeRow) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("account_changes", v);
        Ok(AccountChangeView {
            id: id(&r.id)?,
            organisation_id: id(&r.organisation_id)?,
            role: parse_stored("account_changes", &r.role)?,
            username: r.username,
            display_name: r.display_name,
            replaces_user_id: r.replaces_user_id.as_deref().map(id).transpose()?,
            reason: r.reason,
            status: parse_stored("account_changes", &r.status)?,
            submitted_by: id(&r.submitted_by)?,
            decided_by: r.decided_by.as_deref().map(id).transpose()?,
            decided_at: r.decided_at.map(|d| d.and_utc()),
            decision_reason: r.decision_reason,
            created_user_id: r.created_user_id.as_deref().map(id).transpose()?,
            version: r.version,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// A request for a new filler or reviewer account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "org_filler", "username": "acme.wang", "display_name": "Wang Fang", "password": "Wang-Fang-2026", "replaces_user_id": null, "reason": "Li Hua left the company"}))]
pub struct CreateAccountChange {
    /// `org_filler` or `org_reviewer` (ACC-3).
    pub role: Role,
    /// The new account's user name.
    #[schema(min_length = 3, max_length = 64)]
    pub username: String,
    /// The new account's display name.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: String,
    /// The new account's initial password (stored only as a hash).
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// The account of the same organisation the new one replaces.
    pub replaces_user_id: Option<Uuid>,
    /// Why (the content of the change letter).
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Filters for the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountChangeQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this organisation's requests.
    pub organisation_id: Option<Uuid>,
    /// Only requests in this status.
    pub status: Option<AccountChangeStatus>,
}

fn visible_change(conn: &mut DbConn, caller: &AuthUser, id: &Uuid) -> ApiResult<AccountChangeRow> {
    let row = guild_store::account_changes::find(conn, &id.to_string())?
        .ok_or_else(|| ApiError::not_found("account change"))?;
    if caller.can_see_organisation(Some(&row.organisation_id)) {
        Ok(row)
    } else {
        Err(ApiError::not_found("account change"))
    }
}

/// File a request to add or replace a filler or reviewer account (ACC-4).
#[utoipa::path(
    operation_id = "create_account_change",
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id")),
    request_body = CreateAccountChange,
    responses((status = 201, description = "Submitted", body = AccountChangeView), CreateErrors)
)]
#[post("/organisations/{id}/account-changes")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CreateAccountChange>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin, Role::OrgFiller, Role::OrgReviewer])?;
    let org_id = id.into_inner();
    let caller = user.clone();
    // Resolve visibility first so another organisation's id answers 404, not 422 (ACC-2).
    state
        .run(move |s| {
            s.store
                .read(|c| visible_organisation(c, &caller, &org_id).map(|_| ()))
        })
        .await?;
    validate(&*body)?;
    let body = body.into_inner();
    check_org_account_role(body.role)?;
    let username = validate_username(&body.username)?;
    validate_password(&body.password, &username)?;
    let password = body.password.clone();
    let hash = state.run(move |s| s.passwords.hash(&password)).await?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let org = visible_organisation(c, &user, &org_id)?;
                org_accepts_accounts(parse_stored::<OrgStatus>("organisations", &org.status)?)?;
                if let Some(old) = &body.replaces_user_id {
                    let old = guild_store::users::find(c, &old.to_string())?
                        .filter(|u| u.organisation_id.as_deref() == Some(&org.id))
                        .ok_or_else(|| {
                            ApiError::field(
                                "replaces_user_id",
                                "unknown",
                                "no such account in this organisation",
                            )
                        })?;
                    check_org_account_role(parse_stored("users", &old.role)?)?;
                }
                if guild_store::users::find_by_username(c, &username)?.is_some()
                    || guild_store::account_changes::pending_username_exists(c, &username)?
                {
                    return Err(ApiError::exists(format!(
                        "the user name {username:?} is taken"
                    )));
                }
                let row = AccountChangeRow {
                    id: Uuid::now_v7().to_string(),
                    organisation_id: org.id.clone(),
                    role: body.role.as_str().to_owned(),
                    username,
                    display_name: body.display_name.trim().to_owned(),
                    password_hash: hash,
                    replaces_user_id: body.replaces_user_id.map(|u| u.to_string()),
                    reason: body.reason.trim().to_owned(),
                    status: AccountChangeStatus::Submitted.as_str().to_owned(),
                    submitted_by: user.id.clone(),
                    decided_by: None,
                    decided_at: None,
                    decision_reason: None,
                    created_user_id: None,
                    version: 1,
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                guild_store::account_changes::insert(c, &row)?;
                let view = AccountChangeView::try_from(row)?;
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "account_change.submit",
                        entity_type: "account_change",
                        entity_id: &view.id.to_string(),
                        organisation_id: Some(&org.id),
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/account-changes/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List account change requests: all for association staff, the own organisation's for its users.
#[utoipa::path(
    operation_id = "list_account_changes",
    tag = "organisations", params(AccountChangeQuery), responses((status = 200,
            description = "OK", body = Paged<AccountChangeView>), ListErrors))]
#[get("/account-changes")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AccountChangeQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&[
        Role::Admin,
        Role::TrainingOfficer,
        Role::TrainingHead,
        Role::OrgFiller,
        Role::OrgReviewer,
    ])?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = AccountChangeFilter {
        organisation_id: q.organisation_id.map(|o| o.to_string()),
        status: q.status.map(|s| s.as_str().to_owned()),
    };
    if let Some(own) = user.organisation_scope() {
        if filter.organisation_id.as_ref().is_some_and(|o| *o != own) {
            return Ok(HttpResponse::Ok().json(Paged::<AccountChangeView> {
                items: vec![],
                next_cursor: None,
            }));
        }
        filter.organisation_id = Some(own);
    }
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::account_changes::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, AccountChangeView::try_from)?))
}

/// Read one account change request.
#[utoipa::path(
    operation_id = "get_account_change",
    tag = "organisations", params(("id" = Uuid, Path, description = "Request id")), responses((status = 200,
            description = "OK", body = AccountChangeView), ReadErrors))]
#[get("/account-changes/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(&[
        Role::Admin,
        Role::TrainingOfficer,
        Role::TrainingHead,
        Role::OrgFiller,
        Role::OrgReviewer,
    ])?;
    let id = id.into_inner();
    let row = state
        .run(move |s| s.store.read(|c| visible_change(c, &user, &id)))
        .await?;
    let view = AccountChangeView::try_from(row)?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: AccountChangeAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(ORG_MANAGERS)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::AccountChanges, &id.to_string())?;
                let mut row = visible_change(c, &user, &id)?;
                let before = AccountChangeView::try_from(row.clone())?;
                let next = account_change_transition(before.status, action)?;
                if action == AccountChangeAction::Approve {
                    let org = guild_store::organisations::find(c, &row.organisation_id)?
                        .ok_or_else(|| ApiError::not_found("organisation"))?;
                    org_accepts_accounts(parse_stored::<OrgStatus>("organisations", &org.status)?)?;
                    let created = new_user_row(
                        c,
                        NewUser {
                            username: row.username.clone(),
                            display_name: row.display_name.clone(),
                            password_hash: row.password_hash.clone(),
                            role: before.role,
                            organisation_id: Some(row.organisation_id.clone()),
                            person_id: None,
                        },
                        now,
                    )?;
                    row.created_user_id = Some(created.id);
                    if let Some(old) = &row.replaces_user_id {
                        disable_replaced(c, old, now)?;
                    }
                }
                row.status = next.as_str().to_owned();
                row.decided_by = Some(user.id.clone());
                row.decided_at = Some(now.naive_utc());
                row.decision_reason = reason;
                guild_store::account_changes::update(c, &mut row, now.naive_utc())?;
                let after = AccountChangeView::try_from(row)?;
                audit::record(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: &format!("account_change.{action}"),
                        entity_type: "account_change",
                        entity_id: &id.to_string(),
                        organisation_id: Some(&after.organisation_id.to_string()),
                        before: Some(&before),
                        after: Some(&after),
                    },
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Disables the replaced account and ends its sessions (ACC-4).
fn disable_replaced(c: &mut DbConn, user_id: &str, now: DateTime<Utc>) -> ApiResult<()> {
    end_all_sessions(c, user_id, now)?;
    let mut old =
        guild_store::users::find(c, user_id)?.ok_or_else(|| ApiError::not_found("user"))?;
    old.status = guild_domain::account::UserStatus::Disabled
        .as_str()
        .to_owned();
    guild_store::users::update(c, &mut old, now.naive_utc())?;
    Ok(())
}

/// Approve a request (ACC-4): the new account becomes active and the replaced one is disabled.
#[utoipa::path(
    operation_id = "approve_account_change",
    tag = "organisations", params(("id" = Uuid, Path, description = "Request id")), responses((status = 200,
            description = "OK", body = AccountChangeView), ActionErrors))]
#[post("/account-changes/{id}/approve")]
pub async fn approve(
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
        AccountChangeAction::Approve,
        None,
    )
    .await
}

/// Reject a request with a reason (ACC-4).
#[utoipa::path(
    operation_id = "reject_account_change",
    tag = "organisations", params(("id" = Uuid, Path, description = "Request id")), request_body = Reason, responses((status = 200,
            description = "OK", body = AccountChangeView), ActionErrors))]
#[post("/account-changes/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        AccountChangeAction::Reject,
        Some(body.into_inner().reason),
    )
    .await
}
