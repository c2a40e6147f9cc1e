//! Bans from training and exams (DSC-4, DSC-5), checked by enrolment (ENR-4).
//!
//! Bans are association data: association staff and the authority read them;
//! the administrator and the training head impose them (later issues create
//! them from exam sanctions, DSC-2 and DSC-3); only a training head withdraws
//! one, with a reason (DSC-5). Organisation accounts, teachers, trainees and
//! providers get 403: an enrolment refused by a ban already names the ban and
//! its end date (ENR-4).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::ban::{Ban, BanAction, BanScope, BanStatus, ban_transition, validate_ban};
use guild_domain::{Role, local_date};
use guild_store::DbConn;
use guild_store::bans::{BanFilter, BanRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{PageParams, Paged, RequestContext, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments::ban_of;

/// Roles that read bans: association staff and the authority.
const BAN_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
];

/// Roles that impose bans by hand (DSC-4).
const BAN_WRITERS: &[Role] = &[Role::Admin, Role::TrainingHead];

/// The rule recorded on a ban imposed through this endpoint; sanctions record DSC-2 or DSC-3.
const MANUAL_BAN_RULE: &str = "DSC-4";

/// A ban.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BanView {
    /// The ban id (named in ENR-4 refusals).
    pub id: Uuid,
    /// The person banned.
    pub person_id: Uuid,
    /// `program` or `all`.
    pub scope: BanScope,
    /// The program of a `program` ban.
    pub program_id: Option<Uuid>,
    /// First day (inclusive, association time zone).
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// Where it stands today.
    pub status: BanStatus,
    /// Why.
    pub reason: String,
    /// The rule applied (`DSC-2`, `DSC-3`, or `DSC-4` for a ban imposed by hand).
    pub rule: String,
    /// The exam sanction it came from, if any.
    pub sanction_id: Option<Uuid>,
    /// Who imposed it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was withdrawn (DSC-5).
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// The training head who withdrew it.
    pub withdrawn_by: Option<Uuid>,
    /// Why it was withdrawn.
    pub withdrawal_reason: Option<String>,
    /// The actions its state allows.
    pub allowed_actions: Vec<String>,
}

impl BanView {
    fn of(r: BanRow, today: NaiveDate) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("bans", v);
        let ban: Ban = ban_of(&r)?;
        let status = ban.status(today);
        Ok(BanView {
            id: id(&r.id)?,
            person_id: id(&r.person_id)?,
            scope: ban.scope,
            program_id: r.program_id.as_deref().map(id).transpose()?,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status,
            reason: r.reason,
            rule: r.rule,
            sanction_id: r.sanction_id.as_deref().map(id).transpose()?,
            created_by: id(&r.created_by)?,
            created_at: r.created_at.and_utc(),
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
            withdrawn_by: r.withdrawn_by.as_deref().map(id).transpose()?,
            withdrawal_reason: r.withdrawal_reason,
            allowed_actions: BanAction::ALL
                .iter()
                .filter(|a| ban_transition(status, **a).is_ok())
                .map(|a| a.as_str().to_owned())
                .collect(),
        })
    }
}

/// A new ban (DSC-4).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "scope": "all", "starts_on": "2026-03-01", "ends_on": "2029-02-28", "reason": "threatened an invigilator (DSC-3)"}))]
pub struct CreateBan {
    /// The person to ban.
    pub person_id: Uuid,
    /// `program` (one program) or `all`.
    pub scope: BanScope,
    /// The program of a `program` ban; must be left out for `all`.
    pub program_id: Option<Uuid>,
    /// First day (inclusive).
    pub starts_on: NaiveDate,
    /// Last day (inclusive), not before `starts_on`.
    pub ends_on: NaiveDate,
    /// Why, with the incident it answers.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Filters for the ban list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BanQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this person's bans.
    pub person_id: Option<Uuid>,
    /// `true`: only bans in force today; `false`: only those that are not.
    pub active: Option<bool>,
}

fn find_ban(conn: &mut DbConn, id: &str) -> ApiResult<BanRow> {
    guild_store::bans::find(conn, id)?.ok_or_else(|| ApiError::not_found("ban"))
}

/// List bans (association staff), oldest first.
#[utoipa::path(
    operation_id = "list_bans",
    tag = "bans",
    params(BanQuery),
    responses((status = 200, description = "OK", body = Paged<BanView>), ListErrors)
)]
#[get("/bans")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<BanQuery>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let (rows, today) = state
        .run(move |s| {
            let today = local_date(s.clock.now(), s.config.time_zone);
            let filter = BanFilter {
                person_id: q.person_id.map(|p| p.to_string()),
                active_on: (q.active == Some(true)).then_some(today),
                inactive_on: (q.active == Some(false)).then_some(today),
            };
            let rows = s.store.read(|c| {
                Ok::<_, ApiError>(guild_store::bans::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })?;
            Ok((rows, today))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| BanView::of(r, today))?))
}

/// Impose a ban (admin, training head; DSC-4): scope, start and end. While it
/// is in force the person cannot be enrolled in its scope (ENR-4).
#[utoipa::path(
    operation_id = "create_ban",
    tag = "bans",
    request_body = CreateBan,
    responses((status = 201, description = "Created", body = BanView), CreateErrors)
)]
#[post("/bans")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateBan>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_WRITERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    validate_ban(
        body.scope,
        body.program_id.is_some(),
        body.starts_on,
        body.ends_on,
    )
    .map_err(|errors| ApiError::Validation(errors.into_iter().map(FieldProblem::from).collect()))?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = local_date(now, s.config.time_zone);
            s.store.write(|c| {
                let person_id = body.person_id.to_string();
                guild_store::people::find(c, &person_id)?
                    .ok_or_else(|| ApiError::field("person_id", "unknown", "no such person"))?;
                if let Some(p) = body.program_id {
                    guild_store::programs::find(c, &p.to_string())?.ok_or_else(|| {
                        ApiError::field("program_id", "unknown", "no such program")
                    })?;
                }
                let row = BanRow {
                    id: Uuid::now_v7().to_string(),
                    person_id,
                    scope: body.scope.as_str().to_owned(),
                    program_id: body.program_id.map(|p| p.to_string()),
                    starts_on: body.starts_on,
                    ends_on: body.ends_on,
                    reason: body.reason.trim().to_owned(),
                    rule: MANUAL_BAN_RULE.to_owned(),
                    sanction_id: None,
                    created_by: user.id.clone(),
                    created_at: now.naive_utc(),
                    withdrawn_at: None,
                    withdrawn_by: None,
                    withdrawal_reason: None,
                };
                guild_store::bans::insert(c, &row)?;
                let view = BanView::of(row, today)?;
                let id = view.id.to_string();
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "ban.create",
                        entity_type: "ban",
                        entity_id: &id,
                        organisation_id: None,
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/bans/{}", view.id)))
        .json(view))
}

/// Read one ban (association staff).
#[utoipa::path(
    operation_id = "get_ban",
    tag = "bans",
    params(("id" = Uuid, Path, description = "Ban id")),
    responses((status = 200, description = "OK", body = BanView), ReadErrors)
)]
#[get("/bans/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(BAN_READERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let today = local_date(s.clock.now(), s.config.time_zone);
            s.store.read(|c| BanView::of(find_ban(c, &id)?, today))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Withdraw a ban with a reason (training head only, DSC-5); the person can be
/// enrolled again at once.
#[utoipa::path(
    operation_id = "withdraw_ban",
    tag = "bans",
    params(("id" = Uuid, Path, description = "Ban id")),
    request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = BanView), ActionErrors)
)]
#[post("/bans/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::TrainingHead])?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = local_date(now, s.config.time_zone);
            s.store.write(|c| {
                let row = find_ban(c, &id)?;
                let before = BanView::of(row, today)?;
                ban_transition(before.status, BanAction::Withdraw)?;
                if !guild_store::bans::withdraw(c, &id, &user.id, &reason, now.naive_utc())? {
                    return Err(ApiError::version_mismatch());
                }
                let after = BanView::of(find_ban(c, &id)?, today)?;
                audit::record(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "ban.withdraw",
                        entity_type: "ban",
                        entity_id: &id,
                        organisation_id: None,
                        before: Some(&before),
                        after: Some(&after),
                    },
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(withdraw);
}
