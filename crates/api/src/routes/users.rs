//! Accounts, managed by the administrator (SPEC §1). Organisation users can read
//! the accounts of their own organisation (ACC-2).

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::account::{
    UserAction, UserStatus, user_transition, validate_password, validate_username,
};
use guild_domain::organisation::{OrgStatus, org_accepts_accounts};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::users::{UserFilter, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::auth::end_all_sessions;
use crate::state::AppState;

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
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

/// Parses a stored UUID column.
pub fn stored_uuid(table: &'static str, value: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(value)
        .map_err(|_| ApiError::Internal(format!("corrupt id in {table}: {value:?}")))
}

impl TryFrom<UserRow> for UserView {
    type Error = ApiError;
    fn try_from(r: UserRow) -> ApiResult<Self> {
        Ok(UserView {
            id: stored_uuid("users", &r.id)?,
            username: r.username,
            display_name: r.display_name,
            role: parse_stored("users", &r.role)?,
            organisation_id: r
                .organisation_id
                .as_deref()
                .map(|v| stored_uuid("users", v))
                .transpose()?,
            person_id: r
                .person_id
                .as_deref()
                .map(|v| stored_uuid("users", v))
                .transpose()?,
            status: parse_stored("users", &r.status)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "acme.filler", "display_name": "Li Hua", "password": "Filler-2026-ok", "role": "org_filler", "organisation_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566"}))]
pub struct CreateUser {
    /// 3 to 64 characters: lower-case letters, digits, `.`, `_`, `-`.
    #[schema(min_length = 3, max_length = 64)]
    pub username: String,
    /// The name shown to others.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: String,
    /// The initial password (10 to 128 characters, a letter and a digit).
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// The role.
    pub role: Role,
    /// Required for `org_filler`, `org_reviewer` and `provider`; must be an approved organisation.
    pub organisation_id: Option<Uuid>,
    /// The person record, for `trainee` and `teacher` accounts.
    pub person_id: Option<Uuid>,
}

/// Changes to an account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// The name shown to others.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub display_name: Option<String>,
}

/// A new password set by the administrator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The new password (10 to 128 characters, a letter and a digit).
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Filters for the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts of this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Only accounts in this status.
    pub status: Option<UserStatus>,
}

const USER_READERS: &[Role] = &[Role::Admin, Role::OrgFiller, Role::OrgReviewer];

/// Loads an account the caller may see, or 404 (ACC-2).
fn visible_user(conn: &mut DbConn, caller: &AuthUser, id: &Uuid) -> ApiResult<UserRow> {
    guild_store::users::find(conn, &id.to_string())?
        .filter(|u| caller.can_see_organisation(u.organisation_id.as_deref()))
        .ok_or_else(|| ApiError::not_found("user"))
}

/// Checks that the organisation and person an account points at fit its role.
pub fn check_account_links(
    conn: &mut DbConn,
    role: Role,
    organisation_id: Option<&Uuid>,
    person_id: Option<&Uuid>,
) -> ApiResult<()> {
    match (role.needs_organisation(), organisation_id) {
        (true, None) => {
            return Err(ApiError::field(
                "organisation_id",
                "required",
                format!("a {role} account belongs to an organisation"),
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::field(
                "organisation_id",
                "not_allowed",
                format!("a {role} account has no organisation"),
            ));
        }
        (true, Some(org)) => {
            let org =
                guild_store::organisations::find(conn, &org.to_string())?.ok_or_else(|| {
                    ApiError::field("organisation_id", "unknown", "no such organisation")
                })?;
            org_accepts_accounts(parse_stored::<OrgStatus>("organisations", &org.status)?)?;
        }
        (false, None) => {}
    }
    if let Some(person) = person_id {
        guild_store::people::find(conn, &person.to_string())?
            .ok_or_else(|| ApiError::field("person_id", "unknown", "no such person"))?;
    }
    Ok(())
}

/// List accounts: all for the administrator, the own organisation's for organisation users.
#[utoipa::path(
    operation_id = "list_users",
    tag = "users", params(UserQuery), responses((status = 200,
            description = "OK", body = Paged<UserView>), ListErrors))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<UserQuery>,
) -> ApiResult<HttpResponse> {
    user.require(USER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = UserFilter {
        organisation_id: q.organisation_id.map(|o| o.to_string()),
        role: q.role.map(|r| r.as_str().to_owned()),
        status: q.status.map(|s| s.as_str().to_owned()),
    };
    if let Some(own) = user.organisation_scope() {
        if q.organisation_id.is_some_and(|o| o.to_string() != own) {
            return Ok(HttpResponse::Ok().json(Paged::<UserView> {
                items: vec![],
                next_cursor: None,
            }));
        }
        filter.organisation_id = Some(own);
    }
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::users::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, UserView::try_from)?))
}

/// Create an account (administrator).
#[utoipa::path(
    operation_id = "create_user",
    tag = "users",
    request_body = CreateUser,
    responses((status = 201, description = "Created", body = UserView), CreateErrors)
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    validate(&*body)?;
    let body = body.into_inner();
    let username = validate_username(&body.username)?;
    validate_password(&body.password, &username)?;
    let password = body.password.clone();
    let hash = state.run(move |s| s.passwords.hash(&password)).await?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                check_account_links(
                    c,
                    body.role,
                    body.organisation_id.as_ref(),
                    body.person_id.as_ref(),
                )?;
                let row = new_user_row(
                    c,
                    NewUser {
                        username,
                        display_name: body.display_name.trim().to_owned(),
                        password_hash: hash,
                        role: body.role,
                        organisation_id: body.organisation_id.map(|o| o.to_string()),
                        person_id: body.person_id.map(|p| p.to_string()),
                    },
                    now,
                )?;
                let view = UserView::try_from(row)?;
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "user.create",
                        entity_type: "user",
                        entity_id: &view.id.to_string(),
                        organisation_id: view.organisation_id.map(|o| o.to_string()).as_deref(),
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// The parts of a new account.
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

/// Inserts an active account, answering 409 when the user name is taken.
pub fn new_user_row(conn: &mut DbConn, new: NewUser, now: DateTime<Utc>) -> ApiResult<UserRow> {
    if guild_store::users::find_by_username(conn, &new.username)?.is_some() {
        return Err(ApiError::exists(format!(
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
    guild_store::users::insert(conn, &row).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::exists("the user name is taken")
        } else {
            e.into()
        }
    })?;
    Ok(row)
}

/// Read one account.
#[utoipa::path(
    operation_id = "get_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "OK", body = UserView), ReadErrors)
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(USER_READERS)?;
    let id = id.into_inner();
    let row = state
        .run(move |s| s.store.read(|c| visible_user(c, &user, &id)))
        .await?;
    let view = UserView::try_from(row)?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change an account's display name (administrator). Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateUser,
    responses((status = 200,
            description = "OK", body = UserView), UpdateErrors)
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateUser>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::Users, &id.to_string())?;
                let mut row = visible_user(c, &user, &id)?;
                if_match.check(row.version)?;
                let before = UserView::try_from(row.clone())?;
                if let Some(name) = body.display_name {
                    row.display_name = name.trim().to_owned();
                }
                guild_store::users::update(c, &mut row, now.naive_utc())?;
                let after = UserView::try_from(row)?;
                audit::record(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "user.update",
                        entity_type: "user",
                        entity_id: &id.to_string(),
                        organisation_id: before.organisation_id.map(|o| o.to_string()).as_deref(),
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

async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: UserAction,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    if action == UserAction::Disable && id.to_string() == user.id {
        return Err(ApiError::Refused(guild_domain::Refusal::new(
            "cannot_disable_self",
            None,
            "an administrator cannot disable their own account",
        )));
    }
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let row = visible_user(c, &user, &id)?;
                let before = UserView::try_from(row)?;
                let next = user_transition(before.status, action)?;
                if action == UserAction::Disable {
                    end_all_sessions(c, &id.to_string(), now)?;
                }
                let mut row = guild_store::users::find(c, &id.to_string())?
                    .ok_or_else(|| ApiError::not_found("user"))?;
                row.status = next.as_str().to_owned();
                guild_store::users::update(c, &mut row, now.naive_utc())?;
                let after = UserView::try_from(row)?;
                audit::record(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: &format!("user.{action}"),
                        entity_type: "user",
                        entity_id: &id.to_string(),
                        organisation_id: before.organisation_id.map(|o| o.to_string()).as_deref(),
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

/// Disable an account: it can no longer log in and its sessions end at once.
#[utoipa::path(
    operation_id = "disable_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "OK", body = UserView), ActionErrors)
)]
#[post("/users/{id}/disable")]
pub async fn disable(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), UserAction::Disable).await
}

/// Unlock an account's logins (ACC-5): forgets every counted login and
/// password-change attempt of the account, from every address, so the login
/// throttle no longer holds it back (for example after strangers guessed its
/// password from many addresses). The account's status and sessions are
/// unchanged; limits on the guessing addresses themselves still apply.
#[utoipa::path(
    operation_id = "unlock_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "Unlocked", body = UserView), ActionErrors)
)]
#[post("/users/{id}/unlock")]
pub async fn unlock(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let id = id.into_inner();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let row = visible_user(c, &user, &id)?;
                let cleared = guild_store::sessions::clear_account_attempts(c, &row.username)?;
                let view = UserView::try_from(row)?;
                audit::record::<(), serde_json::Value>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "user.unlock",
                        entity_type: "user",
                        entity_id: &id.to_string(),
                        organisation_id: view.organisation_id.map(|o| o.to_string()).as_deref(),
                        before: None,
                        after: Some(&serde_json::json!({"cleared_attempts": cleared})),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Enable a disabled account.
#[utoipa::path(
    operation_id = "enable_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200,
            description = "OK", body = UserView), ActionErrors)
)]
#[post("/users/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), UserAction::Enable).await
}

/// Set a new password for an account (administrator); its sessions end.
#[utoipa::path(
    operation_id = "reset_user_password",
    tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = ResetPassword,
    responses((status = 204, description = "Password set"), ActionErrors)
)]
#[post("/users/{id}/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ResetPassword>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let id = id.into_inner();
    let body = body.into_inner();
    state
        .run(move |s| {
            let now = s.clock.now();
            let target = s.store.read(|c| visible_user(c, &user, &id))?;
            validate_password(&body.new_password, &target.username).map_err(|mut e| {
                e.field = "new_password".to_owned();
                ApiError::from(e)
            })?;
            let hash = s.passwords.hash(&body.new_password)?;
            s.store.write(|c| {
                end_all_sessions(c, &id.to_string(), now)?;
                let mut row = guild_store::users::find(c, &id.to_string())?
                    .ok_or_else(|| ApiError::not_found("user"))?;
                row.password_hash = hash;
                guild_store::users::update(c, &mut row, now.naive_utc())?;
                audit::record::<(), ()>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "user.reset_password",
                        entity_type: "user",
                        entity_id: &id.to_string(),
                        organisation_id: row.organisation_id.as_deref(),
                        before: None,
                        after: None,
                    },
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
