//! The enrolment chain (ENR-1 to ENR-5) and the class waiting list (CLS-3).
//!
//! Organisation submissions go `draft → submitted → org_approved → confirmed →
//! paid → notified`; individuals skip `org_approved`. Every step is an action
//! endpoint guarded by role (403) and state (409 with the allowed actions). The
//! transactions live in [`crate::routes::enrolments_service`]; the fee ledger in
//! [`crate::routes::enrolments_ledger`]; the CSV upload in
//! [`crate::routes::enrolments_bulk`].

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_domain::enrolment::{
    Channel, EnrolmentAction, EnrolmentStatus, ORG_ATTESTATION, already_enrolled,
    enrolment_allowed_actions,
};
use guild_domain::fees::Balance;
use guild_domain::local_date;
use guild_store::DbConn;
use guild_store::enrolments::{EnrolmentFilter, EnrolmentRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::enrolments_service as service;
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::routes::{deferrals, enrolments_bulk, enrolments_ledger};
use crate::state::AppState;

/// Training staff: confirm enrolments, send class notices (ENR-1).
pub const TRAINING_STAFF: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// Roles that may create enrolments: organisation accounts for their own
/// organisation's people, trainees for themselves, training staff on behalf.
const ENROLMENT_CREATORS: &[Role] = &[
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
];

/// The reviewer's attestation recorded by `approve` (ENR-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgAttestation {
    /// The reviewer's account.
    pub reviewer_id: Uuid,
    /// When the reviewer approved.
    pub attested_at: DateTime<Utc>,
    /// What the approval attests.
    pub statement: String,
}

/// An enrolment of a person in a class.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrolmentView {
    /// The enrolment id.
    pub id: Uuid,
    /// The class.
    pub class_id: Uuid,
    /// The person enrolled.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The organisation that submitted it (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// `organisation` (two-level approval) or `individual` (skips the organisation step).
    pub channel: Channel,
    /// Where it is in the chain (ENR-1).
    pub status: EnrolmentStatus,
    /// The actions its state allows (API-4); `pay` happens through `POST
    /// /enrolments/{id}/payments`. `no_show` (DEF-4) is not listed: it also
    /// needs the class to have started.
    pub allowed_actions: Vec<String>,
    /// ENR-3: whether the trainee may take part (the fee is paid).
    pub is_paid_up: bool,
    /// When it was (last) submitted; the waiting list is in this order (CLS-3).
    pub submitted_at: Option<DateTime<Utc>>,
    /// The reviewer who approved it (ENR-2).
    pub org_approved_by: Option<Uuid>,
    /// When the reviewer approved it.
    pub org_approved_at: Option<DateTime<Utc>>,
    /// The reviewer's attestation that the person data is true, accurate and complete (ENR-2).
    pub org_attestation: Option<OrgAttestation>,
    /// The association officer who confirmed it (or put it on the waiting list).
    pub confirmed_by: Option<Uuid>,
    /// When it got its seat.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When it was put on the waiting list (CLS-3).
    pub waitlisted_at: Option<DateTime<Utc>>,
    /// When the fee was fully paid (ENR-3).
    pub paid_at: Option<DateTime<Utc>>,
    /// When the class notice was sent.
    pub notified_at: Option<DateTime<Utc>>,
    /// Who last rejected it.
    pub rejected_by: Option<Uuid>,
    /// When it was last rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// The reason of the last rejection.
    pub rejection_reason: Option<String>,
    /// The enrolment it was transferred from (DEF-2).
    pub transferred_from_id: Option<Uuid>,
    /// The account that entered it.
    pub created_by: Uuid,
    /// The fee balance, derived from the ledger (ENR-3); present when one enrolment is read.
    pub balance: Option<Balance>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was entered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl EnrolmentView {
    /// The view of a stored enrolment.
    pub fn from_row(
        r: EnrolmentRow,
        person_name: String,
        balance: Option<Balance>,
    ) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("enrolments", v);
        let at = |v: Option<chrono::NaiveDateTime>| v.map(|t| t.and_utc());
        let status: EnrolmentStatus = parse_stored("enrolments", &r.status)?;
        let channel: Channel = parse_stored("enrolments", &r.channel)?;
        let org_approved_by = r.org_approved_by.as_deref().map(id).transpose()?;
        let org_attestation = match (org_approved_by, r.org_approved_at) {
            (Some(reviewer_id), Some(when)) => Some(OrgAttestation {
                reviewer_id,
                attested_at: when.and_utc(),
                statement: ORG_ATTESTATION.to_owned(),
            }),
            _ => None,
        };
        Ok(EnrolmentView {
            id: id(&r.id)?,
            class_id: id(&r.class_id)?,
            person_id: id(&r.person_id)?,
            person_name,
            organisation_id: r.organisation_id.as_deref().map(id).transpose()?,
            channel,
            status,
            allowed_actions: enrolment_allowed_actions(channel, status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            is_paid_up: status.is_paid_up(),
            submitted_at: at(r.submitted_at),
            org_approved_by,
            org_approved_at: at(r.org_approved_at),
            org_attestation,
            confirmed_by: r.confirmed_by.as_deref().map(id).transpose()?,
            confirmed_at: at(r.confirmed_at),
            waitlisted_at: at(r.waitlisted_at),
            paid_at: at(r.paid_at),
            notified_at: at(r.notified_at),
            rejected_by: r.rejected_by.as_deref().map(id).transpose()?,
            rejected_at: at(r.rejected_at),
            rejection_reason: r.rejection_reason,
            transferred_from_id: r.transferred_from_id.as_deref().map(id).transpose()?,
            created_by: id(&r.created_by)?,
            balance,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new enrolment.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"class_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "person_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "submit": true}))]
pub struct CreateEnrolment {
    /// The class (must be `planned` or `open`, ENR-1).
    pub class_id: Uuid,
    /// The person: of the caller's organisation (organisation accounts), the
    /// caller themself (trainees), anyone (training staff).
    pub person_id: Uuid,
    /// Training staff entering on an organisation's behalf name it (channel
    /// `organisation`); omitted means an individual enrolment. Organisation
    /// accounts may only name their own; trainees none.
    pub organisation_id: Option<Uuid>,
    /// Submit at once instead of leaving a draft (default `false`).
    pub submit: Option<bool>,
}

/// Filters for the enrolment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this class.
    pub class_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<EnrolmentStatus>,
    /// Only this person.
    pub person_id: Option<Uuid>,
    /// Only this organisation's (organisation accounts always see only their own).
    pub organisation_id: Option<Uuid>,
}

/// One place on a class's waiting list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingEntry {
    /// 1 for the first to get a freed seat.
    pub position: usize,
    /// The waiting enrolment.
    pub enrolment: EnrolmentView,
}

/// A class's waiting list (CLS-3), in order of submission.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingList {
    /// The class.
    pub class_id: Uuid,
    /// Its capacity.
    pub capacity: i32,
    /// Seats taken now (confirmed, paid, notified).
    pub seats_taken: i64,
    /// How many enrolments wait in all.
    pub waiting: usize,
    /// The entries the caller may see (organisation accounts: their own, with
    /// their position in the whole list).
    pub items: Vec<WaitingEntry>,
}

/// How many enrolments got their class notice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotifiedCount {
    /// The class.
    pub class_id: Uuid,
    /// Paid enrolments moved to `notified` by this call.
    pub notified: usize,
}

/// Who a new enrolment is for and through which channel, decided from the caller's role.
struct NewEnrolment {
    class_id: String,
    person_id: String,
    organisation_id: Option<String>,
    channel: Channel,
    submit: bool,
}

fn resolve_channel(user: &AuthUser, body: CreateEnrolment) -> ApiResult<NewEnrolment> {
    let not_own = || {
        ApiError::Validation(vec![FieldProblem {
            field: "organisation_id".to_owned(),
            code: "not_own_organisation".to_owned(),
            message: "organisation accounts enrol people of their own organisation only".to_owned(),
        }])
    };
    let (organisation_id, channel) = match user.role {
        Role::OrgFiller | Role::OrgReviewer => {
            let own = user
                .organisation_id
                .clone()
                .ok_or_else(ApiError::forbidden)?;
            if body.organisation_id.is_some_and(|o| o.to_string() != own) {
                return Err(not_own());
            }
            (Some(own), Channel::Organisation)
        }
        Role::Trainee => {
            if body.organisation_id.is_some() {
                return Err(ApiError::field(
                    "organisation_id",
                    "not_allowed",
                    "a trainee enrols as an individual; leave organisation_id out",
                ));
            }
            if user.person_id.as_deref() != Some(body.person_id.to_string().as_str()) {
                return Err(ApiError::not_found("person"));
            }
            (None, Channel::Individual)
        }
        _ => match body.organisation_id {
            Some(o) => (Some(o.to_string()), Channel::Organisation),
            None => (None, Channel::Individual),
        },
    };
    Ok(NewEnrolment {
        class_id: body.class_id.to_string(),
        person_id: body.person_id.to_string(),
        organisation_id,
        channel,
        submit: body.submit.unwrap_or(false),
    })
}

/// Creates the enrolment in one transaction: the person must be the caller's
/// to enrol, the class must take enrolments (ENR-1), the person must not
/// already be enrolled (ENR-5, 409) nor banned (ENR-4, 422).
fn create_in_tx(
    c: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    new: NewEnrolment,
    tz: chrono_tz::Tz,
) -> ApiResult<EnrolmentView> {
    let person = guild_store::people::find(c, &new.person_id)?
        .ok_or_else(|| ApiError::not_found("person"))?;
    match (user.role, &new.organisation_id) {
        (Role::OrgFiller | Role::OrgReviewer, own) => {
            if person.organisation_id.as_ref() != own.as_ref() {
                return Err(ApiError::not_found("person"));
            }
        }
        (Role::Trainee, _) => {}
        (_, Some(org)) => {
            guild_store::organisations::find(c, org)?.ok_or_else(|| {
                ApiError::field("organisation_id", "unknown", "no such organisation")
            })?;
            if person.organisation_id.as_ref() != Some(org) {
                return Err(ApiError::field(
                    "person_id",
                    "person_not_in_organisation",
                    "the person does not belong to the named organisation",
                ));
            }
        }
        (_, None) => {}
    }
    let class = guild_store::classes::find(c, &new.class_id)?
        .ok_or_else(|| ApiError::not_found("class"))?;
    service::check_class_open(&class)?;
    if let Some(existing) = guild_store::enrolments::find_live(c, &new.class_id, &new.person_id)? {
        return Err(ApiError::Conflict(already_enrolled(&existing.id)));
    }
    service::check_not_banned_now(
        c,
        &new.person_id,
        &class.program_id,
        local_date(actor.at, tz),
    )?;
    let now = actor.at.naive_utc();
    let status = if new.submit {
        EnrolmentStatus::Submitted
    } else {
        EnrolmentStatus::Draft
    };
    let row = EnrolmentRow {
        id: Uuid::now_v7().to_string(),
        class_id: new.class_id,
        person_id: new.person_id,
        organisation_id: new.organisation_id,
        channel: new.channel.as_str().to_owned(),
        status: status.as_str().to_owned(),
        submitted_at: new.submit.then_some(now),
        org_approved_by: None,
        org_approved_at: None,
        confirmed_by: None,
        confirmed_at: None,
        waitlisted_at: None,
        paid_at: None,
        notified_at: None,
        rejected_by: None,
        rejected_at: None,
        rejection_reason: None,
        transferred_from_id: None,
        created_by: user.id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    insert_enrolment(c, &row)?;
    let view = EnrolmentView::from_row(row, person.name, Some(Balance::default()))?;
    audit_create(c, actor, &view)?;
    Ok(view)
}

/// Inserts an enrolment; the partial unique index `enrolments_one_live_per_class`
/// is the last line of defence of ENR-5, answered as 409 `already_enrolled`.
pub fn insert_enrolment(c: &mut DbConn, row: &EnrolmentRow) -> ApiResult<()> {
    guild_store::enrolments::insert(c, row).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Conflict(already_enrolled("entered concurrently"))
        } else {
            e.into()
        }
    })
}

/// Audits the creation of an enrolment.
pub fn audit_create(c: &mut DbConn, actor: &Actor<'_>, view: &EnrolmentView) -> ApiResult<()> {
    let id = view.id.to_string();
    let org = view.organisation_id.map(|o| o.to_string());
    audit::record::<(), _>(
        c,
        actor,
        Change {
            action: "enrolment.create",
            entity_type: "enrolment",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before: None,
            after: Some(view),
        },
    )
}

/// List enrolments, oldest first. Organisation accounts see their
/// organisation's (ACC-2), trainees their own, association staff all.
#[utoipa::path(
    operation_id = "list_enrolments",
    tag = "enrolments",
    params(EnrolmentQuery),
    responses((status = 200, description = "OK", body = Paged<EnrolmentView>), ListErrors)
)]
#[get("/enrolments")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<EnrolmentQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = EnrolmentFilter {
        class_id: q.class_id.map(|v| v.to_string()),
        status: q.status.map(|v| v.as_str().to_owned()),
        person_id: q.person_id.map(|v| v.to_string()),
        organisation_id: q.organisation_id.map(|v| v.to_string()),
        ..EnrolmentFilter::default()
    };
    match user.role {
        Role::OrgFiller | Role::OrgReviewer => {
            filter.only_organisation = Some(user.organisation_id.clone().unwrap_or_default());
        }
        Role::Trainee => filter.only_person = Some(user.person_id.clone().unwrap_or_default()),
        _ => {}
    }
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::enrolments::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(
        HttpResponse::Ok().json(Paged::try_from_page(rows, |(r, name)| {
            EnrolmentView::from_row(r, name, None)
        })?),
    )
}

/// Enrol a person in a class (ENR-1). Organisation accounts enrol people of
/// their own organisation (channel `organisation`); a trainee enrols themself
/// (channel `individual`); training staff may enter either on someone's behalf.
/// Refused when the class does not take enrolments (ENR-1), the person is
/// already enrolled (409, ENR-5) or banned (ENR-4, naming the ban and its end).
#[utoipa::path(
    operation_id = "create_enrolment",
    tag = "enrolments",
    request_body = CreateEnrolment,
    responses((status = 201, description = "Created as a draft, or submitted", body = EnrolmentView), CreateErrors)
)]
#[post("/enrolments")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateEnrolment>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_CREATORS)?;
    validate(&*body)?;
    let new = resolve_channel(&user, body.into_inner())?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| create_in_tx(c, &Actor::new(&user, &ctx, now), &user, new, tz))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/enrolments/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one enrolment with its fee balance (ENR-3).
#[utoipa::path(
    operation_id = "get_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "OK", body = EnrolmentView), ReadErrors)
)]
#[get("/enrolments/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = service::visible_enrolment(c, &user, &id)?;
                service::view_of(c, row, true)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Runs one action in a write transaction after the role check (403 first).
async fn act(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: EnrolmentAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(guild_domain::enrolment::action_roles(action))?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                let actor = Actor::new(&user, &ctx, now);
                match action {
                    EnrolmentAction::Submit => service::submit(c, &actor, &user, &id, tz),
                    EnrolmentAction::Approve => service::approve(c, &actor, &user, &id),
                    EnrolmentAction::Confirm => service::confirm(c, &actor, &user, &id, tz),
                    EnrolmentAction::Reject => {
                        service::reject(c, &actor, &user, &id, reason.unwrap_or_default())
                    }
                    EnrolmentAction::Cancel => service::cancel(c, &actor, &user, &id, tz),
                    EnrolmentAction::Notify => service::notify_one(c, &actor, &user, &id),
                    EnrolmentAction::NoShow => deferrals::no_show(c, &actor, &user, &id),
                    EnrolmentAction::Pay => Err(ApiError::Internal(
                        "pay happens through recorded payments".to_owned(),
                    )),
                }
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Submit a draft or a returned enrolment (ENR-1): to the organisation's
/// reviewer, or for individuals straight to the association. The class must
/// take enrolments and the person must not be banned (ENR-4).
#[utoipa::path(
    operation_id = "submit_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "Submitted", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::Submit,
        None,
    )
    .await
}

/// Approve a submitted enrolment as the organisation's reviewer (ENR-2): the
/// approval attests that the person data is true, accurate and complete, and
/// is recorded with the reviewer's identity.
#[utoipa::path(
    operation_id = "approve_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "Approved by the organisation", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::Approve,
        None,
    )
    .await
}

/// Confirm an enrolment as the association (ENR-1): a seat when the class has
/// one, charging the program's fees (ENR-3); `waitlisted` when it is full
/// (CLS-3). Concurrent confirmations never overfill the class.
#[utoipa::path(
    operation_id = "confirm_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "Confirmed, or waitlisted when the class is full", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::Confirm,
        None,
    )
    .await
}

/// Return an enrolment to the submitter with a reason (ENR-1); it can be
/// corrected and submitted again. The submitter's side is notified.
#[utoipa::path(
    operation_id = "reject_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    request_body = Reason,
    responses((status = 200, description = "Returned to the submitter", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::Reject,
        Some(body.into_inner().reason.trim().to_owned()),
    )
    .await
}

/// Withdraw an enrolment before payment (ENR-1). A seat it held goes at once to
/// the first enrolment on the waiting list (CLS-3).
#[utoipa::path(
    operation_id = "cancel_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "Cancelled", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::Cancel,
        None,
    )
    .await
}

/// Send the class notice (time and place) of a paid enrolment to its
/// organisation and the trainee (ENR-1).
#[utoipa::path(
    operation_id = "notify_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "Notified", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/notify")]
pub async fn notify(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::Notify,
        None,
    )
    .await
}

/// Record that a paid trainee did not come (DEF-4): `paid | notified →
/// no_show`, by training staff once the class has started (`in_progress` or
/// `finished`; otherwise 422 `class_not_started`) and only when no deferral
/// of the enrolment waits for a decision (409 `deferral_pending`).
/// Attendance is recorded in a later issue; for now this action records the
/// absence. A `no_show` gets no further class and no refund.
#[utoipa::path(
    operation_id = "no_show_enrolment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "Recorded as no_show", body = EnrolmentView), ActionErrors)
)]
#[post("/enrolments/{id}/no-show")]
pub async fn no_show(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    act(
        state,
        ctx,
        user,
        id.into_inner(),
        EnrolmentAction::NoShow,
        None,
    )
    .await
}

/// Send the class notice to every paid enrolment of a class at once (ENR-1).
#[utoipa::path(
    operation_id = "notify_class_enrolments",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "How many enrolments were notified", body = NotifiedCount), ActionErrors)
)]
#[post("/classes/{id}/notify")]
pub async fn notify_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(TRAINING_STAFF)?;
    let class_id = id.into_inner();
    let notified = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                service::notify_class(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &class_id.to_string(),
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotifiedCount { class_id, notified }))
}

/// The waiting list of a class in order of submission (CLS-3). Association
/// staff see every entry; organisation accounts only their own, with their
/// position in the whole list. Not paginated: one class's list is short.
#[utoipa::path(
    operation_id = "get_class_waiting_list",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = WaitingList), ReadErrors)
)]
#[get("/classes/{id}/waiting-list")]
pub async fn waiting_list(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(&[
        Role::Admin,
        Role::TrainingOfficer,
        Role::TrainingHead,
        Role::Finance,
        Role::Leader,
        Role::Authority,
        Role::OrgFiller,
        Role::OrgReviewer,
    ])?;
    let class_id = id.into_inner();
    let answer = state
        .run(move |s| {
            s.store.read(|c| {
                let key = class_id.to_string();
                let class = service::class_of(c, &key)?;
                let seats_taken = guild_store::classes::seats_taken(c, &key)?;
                let rows = guild_store::enrolments::waiting_list(c, &key, None)?;
                let waiting = rows.len();
                let mut items = Vec::new();
                for (i, row) in rows.into_iter().enumerate() {
                    if service::can_see(&user, &row) {
                        items.push(WaitingEntry {
                            position: i + 1,
                            enrolment: service::view_of(c, row, false)?,
                        });
                    }
                }
                Ok(WaitingList {
                    class_id,
                    capacity: class.capacity,
                    seats_taken,
                    waiting,
                    items,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Registers the enrolment endpoints (chain, ledger, bulk upload, waiting list) under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(submit)
        .service(approve)
        .service(confirm)
        .service(reject)
        .service(cancel)
        .service(notify)
        .service(no_show)
        .service(enrolments_ledger::get_ledger)
        .service(enrolments_ledger::record_payment)
        .service(notify_class)
        .service(waiting_list)
        .service(enrolments_bulk::bulk_enrol);
}
