//! Accounts, managed by the administrator (SPEC §1, ACC-1). Organisation
//! users read the accounts of their own organisation (ACC-2). Passwords
//! arrive here already hashed: hashing is bounded work the HTTP layer
//! schedules (ACC-5).

use chrono::{DateTime, Utc};
use guild_domain::Refusal;
use guild_domain::Role;
use guild_domain::account::{UserAction, UserStatus, user_transition};
use guild_domain::codes;
use guild_domain::organisation::{OrgStatus, org_accepts_accounts};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::users::{UserFilter, UserRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::inputs::check_version;
use crate::{Page, PageRequest};

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// The account id.
    pub id: Uuid,
    /// Unique lower-case login name.
    pub username: String,
    /// The name shown to others.
    pub display_name: String,
    /// The account's role.
    pub role: Role,
    /// The organisation of organisation and provider accounts.
    pub organisation_id: Option<Uuid>,
    /// The person record of a trainee or teacher account.
    pub person_id: Option<Uuid>,
    /// `active` or `disabled`.
    pub status: UserStatus,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserView {
    type Error = AppError;
    fn try_from(r: UserRow) -> AppResult<Self> {
        const T: &str = "users";
        Ok(UserView {
            id: stored_id(T, &r.id)?,
            username: r.username,
            display_name: r.display_name,
            role: stored(T, &r.role)?,
            organisation_id: stored_opt(T, r.organisation_id.as_deref())?,
            person_id: stored_opt(T, r.person_id.as_deref())?,
            status: stored(T, &r.status)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new account.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"username": "acme.filler", "display_name": "Li Hua", "password": "Filler-2026-ok", "role": "org_filler", "organisation_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566"})))]
pub struct CreateUser {
    /// 3 to 64 characters: lower-case letters, digits, `.`, `_`, `-`.
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 64))]
    pub username: String,
    /// The name shown to others.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub display_name: String,
    /// The initial password (10 to 128 characters, a letter and a digit).
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
    /// The role.
    pub role: Role,
    /// Required for `org_filler`, `org_reviewer` and `provider`; must be an approved organisation.
    pub organisation_id: Option<Uuid>,
    /// The person record, for `trainee` and `teacher` accounts.
    pub person_id: Option<Uuid>,
}

/// Changes to an account.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// The name shown to others.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub display_name: Option<String>,
}

/// A new password set by the administrator.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The new password (10 to 128 characters, a letter and a digit).
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub new_password: String,
}

/// Filters of the account list.
#[derive(Debug, Clone, Default)]
pub struct ListUsers {
    /// Only accounts of this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Only accounts in this status.
    pub status: Option<UserStatus>,
}

/// The parts of a new account.
#[derive(Debug)]
pub struct NewUser {
    /// Validated user name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Argon2id hash.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Organisation id.
    pub organisation_id: Option<String>,
    /// Person id.
    pub person_id: Option<String>,
}

/// Loads an account the caller may see, or 404 (ACC-2).
pub fn visible(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<UserRow> {
    let caller = ctx.caller()?;
    guild_store::users::find(conn, &id.to_string())?
        .filter(|u| caller.can_see_organisation(u.organisation_id.as_deref()))
        .ok_or(AppError::NotFound("user"))
}

/// Loads an account by id, or 404.
fn find(conn: &mut DbConn, id: &str) -> AppResult<UserRow> {
    guild_store::users::find(conn, id)?.ok_or(AppError::NotFound("user"))
}

/// Checks that the organisation and person an account points at fit its role.
pub fn check_account_links(
    conn: &mut DbConn,
    role: Role,
    organisation_id: Option<&Uuid>,
    person_id: Option<&Uuid>,
) -> AppResult<()> {
    match (role.needs_organisation(), organisation_id) {
        (true, None) => {
            return Err(AppError::field(
                "organisation_id",
                "required",
                format!("a {role} account belongs to an organisation"),
            ));
        }
        (false, Some(_)) => {
            return Err(AppError::field(
                "organisation_id",
                "not_allowed",
                format!("a {role} account has no organisation"),
            ));
        }
        (true, Some(org)) => {
            let org =
                guild_store::organisations::find(conn, &org.to_string())?.ok_or_else(|| {
                    AppError::field("organisation_id", "unknown", "no such organisation")
                })?;
            org_accepts_accounts(stored::<OrgStatus>("organisations", &org.status)?)?;
        }
        (false, None) => {}
    }
    if let Some(person) = person_id {
        guild_store::people::find(conn, &person.to_string())?
            .ok_or_else(|| AppError::field("person_id", "unknown", "no such person"))?;
    }
    Ok(())
}

/// Whether the database holds any account at all.
pub fn any_account(conn: &mut DbConn) -> AppResult<bool> {
    Ok(guild_store::users::count(conn)? > 0)
}

/// Creates the first administrator (`admin`) with password hash `hash`, unless
/// an account exists by now (another instance got there first): whether it
/// was created. Run under the exclusive write lock.
pub fn create_first_admin(conn: &mut DbConn, hash: String, now: DateTime<Utc>) -> AppResult<bool> {
    if any_account(conn)? {
        return Ok(false);
    }
    insert_new(
        conn,
        NewUser {
            username: "admin".to_owned(),
            display_name: "Administrator".to_owned(),
            password_hash: hash,
            role: Role::Admin,
            organisation_id: None,
            person_id: None,
        },
        now,
    )?;
    Ok(true)
}

/// Inserts an active account, answering 409 when the user name is taken.
pub fn insert_new(conn: &mut DbConn, new: NewUser, now: DateTime<Utc>) -> AppResult<UserRow> {
    if guild_store::users::find_by_username(conn, &new.username)?.is_some() {
        return Err(AppError::Exists(format!(
            "the user name {:?} is taken",
            new.username
        )));
    }
    let row = UserRow {
        id: Uuid::now_v7().to_string(),
        username: new.username,
        display_name: new.display_name,
        password_hash: new.password_hash,
        role: new.role.as_str().to_owned(),
        organisation_id: new.organisation_id,
        person_id: new.person_id,
        status: UserStatus::Active.as_str().to_owned(),
        token_version: 0,
        version: 1,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    guild_store::users::insert(conn, &row)
        .or_taken(|| AppError::Exists("the user name is taken".to_owned()))?;
    Ok(row)
}

/// Ends every session of an account (ACC-1): its refresh tokens are revoked
/// and its token version bumped, so its access tokens stop working too.
pub fn end_all_sessions(conn: &mut DbConn, user_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    guild_store::sessions::revoke_all_for_user(conn, user_id, now.naive_utc())?;
    let mut row = find(conn, user_id)?;
    row.token_version += 1;
    guild_store::users::update(conn, &mut row, now.naive_utc())?;
    Ok(())
}

/// The event of a change to an account (in its organisation).
fn event<B: Serialize, A: Serialize>(
    kind: EventKind,
    view: &UserView,
    before: Option<&B>,
    after: Option<&A>,
) -> AppResult<Event> {
    Ok(Event::new(kind, "user", view.id, before, after)?.in_organisation(view.organisation_id))
}

/// The accounts the caller may see: all for the administrator, the own
/// organisation's for organisation users (another organisation's: none).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListUsers,
    page: PageRequest,
) -> AppResult<Page<UserView>> {
    let Some(organisation_id) = ctx.caller()?.organisation_filter(q.organisation_id) else {
        return Ok(Page::empty());
    };
    let filter = UserFilter {
        organisation_id,
        role: q.role.map(|r| r.as_str().to_owned()),
        status: q.status.map(|s| s.as_str().to_owned()),
    };
    guild_store::users::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(UserView::try_from)
}

/// One account the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<UserView> {
    visible(ctx, conn, id)?.try_into()
}

/// Creates an account with a validated `username` and a hashed password.
pub fn create(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateUser,
    username: String,
    password_hash: String,
) -> AppResult<UserView> {
    check_account_links(
        conn,
        body.role,
        body.organisation_id.as_ref(),
        body.person_id.as_ref(),
    )?;
    let row = insert_new(
        conn,
        NewUser {
            username,
            display_name: body.display_name.trim().to_owned(),
            password_hash,
            role: body.role,
            organisation_id: body.organisation_id.map(|o| o.to_string()),
            person_id: body.person_id.map(|p| p.to_string()),
        },
        ctx.now,
    )?;
    let view = UserView::try_from(row)?;
    ctx.emit(
        conn,
        event::<(), _>(ev::USER_CREATED, &view, None, Some(&view))?,
    )?;
    Ok(view)
}

/// Changes an account's display name (API-5: `expected` version).
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected: Option<i32>,
    body: UpdateUser,
) -> AppResult<UserView> {
    guild_store::locks::lock_row(conn, Locked::Users, &id.to_string())?;
    let mut row = visible(ctx, conn, id)?;
    check_version(expected, row.version)?;
    let before = UserView::try_from(row.clone())?;
    if let Some(name) = body.display_name {
        row.display_name = name.trim().to_owned();
    }
    guild_store::users::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = UserView::try_from(row)?;
    ctx.emit(
        conn,
        event(ev::USER_UPDATED, &before, Some(&before), Some(&after))?,
    )?;
    Ok(after)
}

/// Disables or enables an account. Disabling ends its sessions at once; an
/// administrator cannot disable their own account (`cannot_disable_self`).
pub fn transition(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: UserAction,
) -> AppResult<UserView> {
    if action == UserAction::Disable && id.to_string() == ctx.caller()?.id {
        return Err(Refusal::new(
            codes::CANNOT_DISABLE_SELF,
            None,
            "an administrator cannot disable their own account",
        )
        .into());
    }
    let before = UserView::try_from(visible(ctx, conn, id)?)?;
    let next = user_transition(before.status, action)?;
    if action == UserAction::Disable {
        end_all_sessions(conn, &id.to_string(), ctx.now)?;
    }
    let mut row = find(conn, &id.to_string())?;
    row.status = next.as_str().to_owned();
    guild_store::users::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = UserView::try_from(row)?;
    let kind = match action {
        UserAction::Disable => ev::USER_DISABLED,
        UserAction::Enable => ev::USER_ENABLED,
    };
    ctx.emit(conn, event(kind, &before, Some(&before), Some(&after))?)?;
    Ok(after)
}

/// Forgets every counted login and password-change attempt of an account
/// (ACC-5); its status and sessions are unchanged.
pub fn unlock(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<UserView> {
    let row = visible(ctx, conn, id)?;
    let cleared = guild_store::sessions::clear_account_attempts(conn, &row.username)?;
    let view = UserView::try_from(row)?;
    let after = serde_json::json!({"cleared_attempts": cleared});
    ctx.emit(
        conn,
        event::<(), _>(ev::USER_UNLOCKED, &view, None, Some(&after))?,
    )?;
    Ok(view)
}

/// Sets a new password hash for an account; its sessions end. The target
/// was checked visible (and the password against its user name) before the
/// hash was computed.
pub fn reset_password(ctx: &Ctx, conn: &mut DbConn, id: Uuid, hash: String) -> AppResult<()> {
    end_all_sessions(conn, &id.to_string(), ctx.now)?;
    let mut row = find(conn, &id.to_string())?;
    row.password_hash = hash;
    guild_store::users::update(conn, &mut row, ctx.now.naive_utc())?;
    let event = Event::new::<(), ()>(ev::USER_PASSWORD_RESET, "user", id, None, None)?
        .in_organisation(row.organisation_id.as_deref());
    ctx.emit(conn, event)
}
