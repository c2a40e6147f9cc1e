//! Organisation account change requests (ACC-3, ACC-4): when a company's
//! filler or reviewer changes, the company files a request (变更函); the new
//! account exists only once an association officer approves it, and the
//! account it replaces is disabled at the same moment.

use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::account::UserStatus;
use guild_domain::organisation::{
    AccountChangeAction, AccountChangeStatus, OrgStatus, account_change_transition,
    check_org_account_role, org_accepts_accounts,
};
use guild_store::DbConn;
use guild_store::account_changes::{AccountChangeFilter, AccountChangeRow};
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::users::{NewUser, end_all_sessions, insert_new};
use crate::{Page, PageRequest};

/// An account change request.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    type Error = AppError;
    fn try_from(r: AccountChangeRow) -> AppResult<Self> {
        const T: &str = "account_changes";
        Ok(AccountChangeView {
            id: stored_id(T, &r.id)?,
            organisation_id: stored_id(T, &r.organisation_id)?,
            role: stored(T, &r.role)?,
            username: r.username,
            display_name: r.display_name,
            replaces_user_id: stored_opt(T, r.replaces_user_id.as_deref())?,
            reason: r.reason,
            status: stored(T, &r.status)?,
            submitted_by: stored_id(T, &r.submitted_by)?,
            decided_by: stored_opt(T, r.decided_by.as_deref())?,
            decided_at: r.decided_at.map(|d| d.and_utc()),
            decision_reason: r.decision_reason,
            created_user_id: stored_opt(T, r.created_user_id.as_deref())?,
            version: r.version,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// A request for a new filler or reviewer account.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"role": "org_filler", "username": "acme.wang", "display_name": "Wang Fang", "password": "Wang-Fang-2026", "replaces_user_id": null, "reason": "Li Hua left the company"})))]
pub struct CreateAccountChange {
    /// `org_filler` or `org_reviewer` (ACC-3).
    pub role: Role,
    /// The new account's user name.
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 64))]
    pub username: String,
    /// The new account's display name.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub display_name: String,
    /// The new account's initial password (stored only as a hash).
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
    /// The account of the same organisation the new one replaces.
    pub replaces_user_id: Option<Uuid>,
    /// Why (the content of the change letter).
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// Filters of the request list.
#[derive(Debug, Clone, Default)]
pub struct ListAccountChanges {
    /// Only this organisation's requests.
    pub organisation_id: Option<Uuid>,
    /// Only requests in this status.
    pub status: Option<AccountChangeStatus>,
}

/// Loads a request the caller may see (its organisation's), or 404 (ACC-2).
fn visible(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<AccountChangeRow> {
    let caller = ctx.caller()?;
    guild_store::account_changes::find(conn, &id.to_string())?
        .filter(|r| caller.can_see_organisation(Some(&r.organisation_id)))
        .ok_or(AppError::NotFound("account change"))
}

/// 404 unless the caller may see the organisation: asked before the input is
/// checked, so another organisation's id answers like an unknown one (ACC-2).
pub fn check_organisation(ctx: &Ctx, conn: &mut DbConn, organisation_id: Uuid) -> AppResult<()> {
    crate::organisations::visible(ctx, conn, organisation_id).map(|_| ())
}

/// Files a request for a new filler or reviewer account (ACC-4) with a
/// validated `username` and a hashed password. The organisation must accept
/// accounts, a replaced account must be one of its filler or reviewer
/// accounts, and the user name must be free (also among pending requests).
pub fn create(
    ctx: &Ctx,
    conn: &mut DbConn,
    organisation_id: Uuid,
    body: CreateAccountChange,
    username: String,
    password_hash: String,
) -> AppResult<AccountChangeView> {
    let org = crate::organisations::visible(ctx, conn, organisation_id)?;
    org_accepts_accounts(stored::<OrgStatus>("organisations", &org.status)?)?;
    if let Some(old) = &body.replaces_user_id {
        let old = guild_store::users::find(conn, &old.to_string())?
            .filter(|u| u.organisation_id.as_deref() == Some(&org.id))
            .ok_or_else(|| {
                AppError::field(
                    "replaces_user_id",
                    "unknown",
                    "no such account in this organisation",
                )
            })?;
        check_org_account_role(stored("users", &old.role)?)?;
    }
    if guild_store::users::find_by_username(conn, &username)?.is_some()
        || guild_store::account_changes::pending_username_exists(conn, &username)?
    {
        return Err(AppError::Exists(format!(
            "the user name {username:?} is taken"
        )));
    }
    let now = ctx.now.naive_utc();
    let row = AccountChangeRow {
        id: Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        role: body.role.as_str().to_owned(),
        username,
        display_name: body.display_name.trim().to_owned(),
        password_hash,
        replaces_user_id: body.replaces_user_id.map(|u| u.to_string()),
        reason: body.reason.trim().to_owned(),
        status: AccountChangeStatus::Submitted.as_str().to_owned(),
        submitted_by: ctx.caller()?.id.clone(),
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        created_user_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::account_changes::insert(conn, &row)?;
    let view = AccountChangeView::try_from(row)?;
    let event = Event::new::<(), _>(
        ev::ACCOUNT_CHANGE_SUBMITTED,
        "account_change",
        view.id,
        None,
        Some(&view),
    )?
    .in_organisation(Some(&org.id));
    ctx.emit(conn, event)?;
    Ok(view)
}

/// The requests the caller may see: all for association staff, the own
/// organisation's for its users (another organisation's: none).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListAccountChanges,
    page: PageRequest,
) -> AppResult<Page<AccountChangeView>> {
    let Some(organisation_id) = ctx.caller()?.organisation_filter(q.organisation_id) else {
        return Ok(Page::empty());
    };
    let filter = AccountChangeFilter {
        organisation_id,
        status: q.status.map(|s| s.as_str().to_owned()),
    };
    guild_store::account_changes::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(AccountChangeView::try_from)
}

/// One request the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<AccountChangeView> {
    visible(ctx, conn, id)?.try_into()
}

/// Approves (ACC-4: the new account becomes active and the replaced one is
/// disabled, in one transaction) or rejects (with `reason`) a request.
pub fn decide(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: AccountChangeAction,
    reason: Option<String>,
) -> AppResult<AccountChangeView> {
    guild_store::locks::lock_row(conn, Locked::AccountChanges, &id.to_string())?;
    let mut row = visible(ctx, conn, id)?;
    let before = AccountChangeView::try_from(row.clone())?;
    let next = account_change_transition(before.status, action)?;
    if action == AccountChangeAction::Approve {
        row.created_user_id = Some(open_account(conn, &row, before.role, ctx.now)?);
        if let Some(old) = &row.replaces_user_id {
            disable_replaced(conn, old, ctx.now)?;
        }
    }
    row.status = next.as_str().to_owned();
    row.decided_by = Some(ctx.caller()?.id.clone());
    row.decided_at = Some(ctx.now.naive_utc());
    row.decision_reason = reason;
    guild_store::account_changes::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = AccountChangeView::try_from(row)?;
    let kind = match action {
        AccountChangeAction::Approve => ev::ACCOUNT_CHANGE_APPROVED,
        AccountChangeAction::Reject => ev::ACCOUNT_CHANGE_REJECTED,
    };
    let event = Event::new(kind, "account_change", id, Some(&before), Some(&after))?
        .in_organisation(Some(after.organisation_id));
    ctx.emit(conn, event)?;
    Ok(after)
}

/// Creates the requested account, if its organisation still accepts
/// accounts; answers its id.
fn open_account(
    conn: &mut DbConn,
    row: &AccountChangeRow,
    role: Role,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let org = guild_store::organisations::find(conn, &row.organisation_id)?
        .ok_or(AppError::NotFound("organisation"))?;
    org_accepts_accounts(stored::<OrgStatus>("organisations", &org.status)?)?;
    let created = insert_new(
        conn,
        NewUser {
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            password_hash: row.password_hash.clone(),
            role,
            organisation_id: Some(row.organisation_id.clone()),
            person_id: None,
        },
        now,
    )?;
    Ok(created.id)
}

/// Disables the replaced account and ends its sessions (ACC-4).
fn disable_replaced(conn: &mut DbConn, user_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    end_all_sessions(conn, user_id, now)?;
    let mut old = guild_store::users::find(conn, user_id)?.ok_or(AppError::NotFound("user"))?;
    old.status = UserStatus::Disabled.as_str().to_owned();
    guild_store::users::update(conn, &mut old, now.naive_utc())?;
    Ok(())
}
