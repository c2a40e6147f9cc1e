//! Substitutions of the enrolled person (DEF-3, seed 000 §6(3)3(1): 变更参培人员).
//!
//! The organisation files, no later than the day before the class starts in
//! the association's time zone, to put another person of its own on an
//! enrolment; training staff approve or reject. On approval the enrolment's
//! person changes and the substitution keeps the old person, the new person,
//! who filed, who decided and when; the change of the enrolment is audited
//! with before and after. The payment stays with the enrolment (ENR-3).
//!
//! Decisions where the SPEC is silent: only the organisation files (not an
//! individual, not staff on its behalf), and the filer may be its filler or its
//! reviewer without a reviewer step (the reviewer's ENR-2 attestation on the
//! enrolment is kept as given); the new person is checked again on approval
//! (ENR-4, ENR-5), which may come after the class started (the filing time is
//! what counts); one pending substitution per enrolment, and none while a
//! deferral of it is open; a `notified` enrolment's class notice is sent
//! again so the new person gets the time and place.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use guild_domain::class::ClassStatus;
use guild_domain::deferral::{
    DeferralStatus, SUBSTITUTION_DECIDERS, SUBSTITUTION_FILERS, SubstitutionAction,
    SubstitutionStatus, check_class_not_closed, check_new_person, check_substitutable,
    check_substitution_in_time, other_request_pending, substitution_allowed_actions,
    substitution_decision_notice, substitution_exists, substitution_transition,
};
use guild_domain::enrolment::{EnrolmentStatus, already_enrolled};
use guild_domain::local_date;
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use guild_store::people::PersonRow;
use guild_store::substitutions::{SubstitutionFilter, SubstitutionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments as service;

/// Notification kinds written by substitutions.
pub mod kinds {
    /// The association approved a substitution (DEF-3).
    pub const SUBSTITUTION_APPROVED: &str = "substitution_approved";
    /// The association rejected a substitution (DEF-3).
    pub const SUBSTITUTION_REJECTED: &str = "substitution_rejected";
}

/// A substitution of the enrolled person (DEF-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubstitutionView {
    /// The substitution id.
    pub id: Uuid,
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The organisation that filed it.
    pub organisation_id: Option<Uuid>,
    /// The person enrolled when it was filed.
    pub old_person_id: Uuid,
    /// Their name.
    pub old_person_name: String,
    /// The person who takes the place.
    pub new_person_id: Uuid,
    /// Their name.
    pub new_person_name: String,
    /// Why.
    pub reason: String,
    /// `submitted`, `approved` or `rejected`.
    pub status: SubstitutionStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The account that filed it.
    pub filed_by: Uuid,
    /// When it was filed: the time the DEF-3 deadline is checked against.
    pub filed_at: DateTime<Utc>,
    /// Who approved or rejected it.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a rejection.
    pub decision_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl SubstitutionView {
    fn from_parts(
        r: SubstitutionRow,
        class_id: &str,
        names: &[(String, String)],
    ) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("substitutions", v);
        let name = |person: &str| {
            names
                .iter()
                .find(|(p, _)| p == person)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        };
        let status: SubstitutionStatus = parse_stored("substitutions", &r.status)?;
        Ok(SubstitutionView {
            id: id(&r.id)?,
            enrolment_id: id(&r.enrolment_id)?,
            class_id: id(class_id)?,
            organisation_id: r.organisation_id.as_deref().map(id).transpose()?,
            old_person_id: id(&r.old_person_id)?,
            old_person_name: name(&r.old_person_id),
            new_person_id: id(&r.new_person_id)?,
            new_person_name: name(&r.new_person_id),
            reason: r.reason,
            status,
            allowed_actions: substitution_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: id(&r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: r.decided_by.as_deref().map(id).transpose()?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A substitution request (DEF-3).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "new_person_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "reason": "Li Si changed jobs; Zhang San takes the place"}))]
pub struct CreateSubstitution {
    /// The organisation's enrolment, live and not deferred or `no_show`.
    pub enrolment_id: Uuid,
    /// A person of the same organisation, not banned (ENR-4) and not already
    /// enrolled in the class (ENR-5).
    pub new_person_id: Uuid,
    /// Why.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Filters for the substitution list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubstitutionQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<SubstitutionStatus>,
    /// Only substitutions of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}

/// Whether `caller` may see a substitution (ACC-2): organisation accounts
/// their organisation's, a trainee those where they are the old or the new
/// person, association staff and the authority all.
fn can_see(caller: &AuthUser, row: &SubstitutionRow) -> bool {
    use guild_app::ids::fact;
    caller.sees(
        &guild_domain::access::Owner::of_person(
            fact(Some(&row.old_person_id)),
            fact(row.organisation_id.as_deref()),
        )
        .with_person(fact(Some(&row.new_person_id))),
    )
}

/// Loads a substitution the caller may see, with its enrolment, or 404 like an unknown id.
fn visible_substitution(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<(SubstitutionRow, EnrolmentRow)> {
    let not_found = || ApiError::not_found("substitution");
    let row = guild_store::substitutions::find(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or_else(not_found)?;
    let enrolment =
        guild_store::enrolments::find(conn, &row.enrolment_id)?.ok_or_else(not_found)?;
    Ok((row, enrolment))
}

fn view_of(conn: &mut DbConn, row: SubstitutionRow, class_id: &str) -> ApiResult<SubstitutionView> {
    let names = guild_store::enrolments::person_names(
        conn,
        &[row.old_person_id.clone(), row.new_person_id.clone()],
    )?;
    SubstitutionView::from_parts(row, class_id, &names)
}

fn class_status(class: &ClassRow) -> ApiResult<ClassStatus> {
    parse_stored("classes", &class.status)
}

fn audit_substitution(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&SubstitutionView>,
    after: &SubstitutionView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "substitution",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before,
            after: Some(after),
        },
    )
}

/// The new person, who must belong to the enrolment's organisation (404
/// otherwise, like an unknown id: ACC-2).
fn new_person(
    conn: &mut DbConn,
    enrolment: &EnrolmentRow,
    person_id: &str,
) -> ApiResult<PersonRow> {
    guild_store::people::find(conn, person_id)?
        .filter(|p| {
            enrolment.organisation_id.is_some() && p.organisation_id == enrolment.organisation_id
        })
        .ok_or_else(|| ApiError::not_found("person"))
}

/// ENR-4 and ENR-5 for the person taking the place: not banned from the
/// program, not already holding a live enrolment in the class.
fn check_new_person_may_join(
    conn: &mut DbConn,
    class: &ClassRow,
    person_id: &str,
    actor: &Actor<'_>,
    tz: Tz,
) -> ApiResult<()> {
    service::check_not_banned_now(conn, person_id, &class.program_id, local_date(actor.at, tz))?;
    if let Some(existing) = guild_store::enrolments::find_live(conn, &class.id, person_id)? {
        return Err(ApiError::Refused(already_enrolled(&existing.id)));
    }
    Ok(())
}

/// Files a substitution in one transaction (DEF-3). Checks, in order: the
/// enrolment is the organisation's own (404) and the new person too (404);
/// the new person differs (422 `same_person`); the class is not over or
/// cancelled; the enrolment is live and not deferred or `no_show`; the
/// association's local date is before the class start (`substitution_too_late`);
/// the new person is not banned (ENR-4) nor enrolled in the class (409
/// ENR-5); no substitution is pending (409 `substitution_exists`, also a
/// partial unique index) and no deferral is open (409 `request_pending`).
fn create_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    body: CreateSubstitution,
    tz: Tz,
) -> ApiResult<SubstitutionView> {
    let enrolment = service::visible(conn, &user.caller(), &body.enrolment_id.to_string())?;
    let person = new_person(conn, &enrolment, &body.new_person_id.to_string())?;
    check_new_person(&enrolment.person_id, &person.id)?;
    let (status, _) = service::status_of(&enrolment)?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    check_class_not_closed(class_status(&class)?, "DEF-3")?;
    check_substitutable(status)?;
    check_substitution_in_time(local_date(actor.at, tz), class.start_date)?;
    check_new_person_may_join(conn, &class, &person.id, actor, tz)?;
    if let Some(pending) = guild_store::substitutions::for_enrolment_with_status(
        conn,
        &enrolment.id,
        SubstitutionStatus::Submitted.as_str(),
    )? {
        return Err(ApiError::Refused(substitution_exists(&pending.id)));
    }
    if let Some(open) =
        guild_store::deferrals::for_enrolment_in(conn, &enrolment.id, &DeferralStatus::open())?
    {
        return Err(ApiError::Refused(other_request_pending(
            "DEF-3", "deferral", &open.id,
        )));
    }
    let now = actor.at.naive_utc();
    let row = SubstitutionRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        old_person_id: enrolment.person_id.clone(),
        new_person_id: person.id,
        reason: body.reason.trim().to_owned(),
        status: SubstitutionStatus::Submitted.as_str().to_owned(),
        filed_by: user.id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::substitutions::insert(conn, &row).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Refused(substitution_exists("filed concurrently"))
        } else {
            e.into()
        }
    })?;
    let view = view_of(conn, row, &enrolment.class_id)?;
    audit_substitution(conn, actor, "substitution.file", None, &view)?;
    Ok(view)
}

/// Moves the enrolment to the new person (DEF-3), audited as
/// `enrolment.substitute` with before and after. The partial unique index of
/// ENR-5 is the last line of defence against the new person being enrolled
/// in the class concurrently: answered as 409 `already_enrolled`.
fn move_enrolment(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    mut enrolment: EnrolmentRow,
    new_person_id: &str,
) -> ApiResult<EnrolmentRow> {
    let before = service::view_of(conn, enrolment.clone(), false)?;
    enrolment.person_id = new_person_id.to_owned();
    guild_store::enrolments::update(conn, &mut enrolment, actor.at.naive_utc()).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Refused(already_enrolled("entered concurrently"))
        } else {
            e.into()
        }
    })?;
    let after = service::view_of(conn, enrolment.clone(), true)?;
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action: "enrolment.substitute",
            entity_type: "enrolment",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok(enrolment)
}

/// Approves or rejects a substitution in one transaction (DEF-3). Approval
/// checks again that the class is not over or cancelled, the enrolment is
/// still substitutable and the new person may join (ENR-4, ENR-5), then moves
/// the enrolment to the new person; a `notified` enrolment's class notice is
/// sent again (to the organisation and the new person). The organisation and
/// both people are notified of the decision.
fn decide_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    action: SubstitutionAction,
    reason: Option<String>,
    tz: Tz,
) -> ApiResult<SubstitutionView> {
    guild_store::locks::lock_row(conn, Locked::Substitutions, id)?;
    let (mut row, enrolment) = visible_substitution(conn, user, id)?;
    let before = view_of(conn, row.clone(), &enrolment.class_id)?;
    let next = substitution_transition(before.status, action)?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    let moved = if action == SubstitutionAction::Approve {
        check_class_not_closed(class_status(&class)?, "DEF-3")?;
        let (status, _) = service::status_of(&enrolment)?;
        check_substitutable(status)?;
        check_new_person_may_join(conn, &class, &row.new_person_id, actor, tz)?;
        let moved = move_enrolment(conn, actor, enrolment.clone(), &row.new_person_id)?;
        if status == EnrolmentStatus::Notified {
            let notice = service::seats::send_class_notice(conn, &moved, &class)?;
            actor.ctx().deliver(conn, "enrolment", &moved.id, &notice)?;
        }
        Some(moved)
    } else {
        None
    };
    row.status = next.as_str().to_owned();
    row.decided_by = Some(user.id.clone());
    row.decided_at = Some(actor.at.naive_utc());
    row.decision_reason = reason.clone();
    guild_store::substitutions::update(conn, &mut row, actor.at.naive_utc())?;
    let mut to = Vec::new();
    for person in [&row.old_person_id, &row.new_person_id] {
        to.extend(guild_store::notifications::enrolment_recipients(
            conn,
            row.organisation_id.as_deref(),
            person,
        )?);
    }
    to.sort();
    to.dedup();
    let kind = if moved.is_some() {
        kinds::SUBSTITUTION_APPROVED
    } else {
        kinds::SUBSTITUTION_REJECTED
    };
    service::notify(
        conn,
        &to,
        kind,
        substitution_decision_notice(
            &class.title,
            &before.old_person_name,
            &before.new_person_name,
            moved.is_some(),
            reason.as_deref(),
        ),
        &enrolment.id,
        actor.at,
    )?;
    let after = view_of(conn, row, &enrolment.class_id)?;
    audit_substitution(
        conn,
        actor,
        &format!("substitution.{action}"),
        Some(&before),
        &after,
    )?;
    Ok(after)
}

/// List substitutions, oldest first: organisations see their own (ACC-2),
/// trainees those naming them, association staff and the authority all.
#[utoipa::path(
    operation_id = "list_substitutions",
    tag = "substitutions",
    params(SubstitutionQuery),
    responses((status = 200, description = "OK", body = Paged<SubstitutionView>), ListErrors)
)]
#[get("/substitutions")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SubstitutionQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = SubstitutionFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        ..SubstitutionFilter::default()
    };
    // ACC-2: a caller who sees no one's data lists nothing.
    let scope = guild_app::scope::person_data_filter(&user.caller());
    filter.only_organisation = scope.only_organisation;
    filter.only_person = scope.only_person;
    let (rows, names) = state
        .run(move |s| {
            s.store.read(|c| {
                let rows = guild_store::substitutions::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?;
                let people: Vec<String> = rows
                    .items
                    .iter()
                    .flat_map(|(r, _)| [r.old_person_id.clone(), r.new_person_id.clone()])
                    .collect();
                let names = guild_store::enrolments::person_names(c, &people)?;
                Ok((rows, names))
            })
        })
        .await?;
    Ok(
        HttpResponse::Ok().json(Paged::try_from_page(rows, |(r, class_id)| {
            SubstitutionView::from_parts(r, &class_id, &names)
        })?),
    )
}

/// File a substitution (DEF-3): the organisation puts another of its people
/// on an enrolment, no later than the day before the class starts in the
/// association's time zone (`substitution_too_late`). By the enrolment's
/// organisation (filler or reviewer). The new person must belong to the same
/// organisation (404 otherwise), not be banned (ENR-4) and not be enrolled in
/// the class already (409, ENR-5).
#[utoipa::path(
    operation_id = "create_substitution",
    tag = "substitutions",
    request_body = CreateSubstitution,
    responses((status = 201, description = "Filed; waits for the association", body = SubstitutionView), CreateErrors)
)]
#[post("/substitutions")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateSubstitution>,
) -> ApiResult<HttpResponse> {
    user.require(SUBSTITUTION_FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| create_in_tx(c, &Actor::new(&user, &ctx, now), &user, body, tz))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/substitutions/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one substitution.
#[utoipa::path(
    operation_id = "get_substitution",
    tag = "substitutions",
    params(("id" = Uuid, Path, description = "Substitution id")),
    responses((status = 200, description = "OK", body = SubstitutionView), ReadErrors)
)]
#[get("/substitutions/{id}")]
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
                let (row, enrolment) = visible_substitution(c, &user, &id)?;
                view_of(c, row, &enrolment.class_id)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: SubstitutionAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(SUBSTITUTION_DECIDERS)?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                decide_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &id,
                    action,
                    reason,
                    tz,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a substitution (DEF-3; training staff): the enrolment moves to
/// the new person, who is checked again (ENR-4, ENR-5); the payment stays with
/// the enrolment.
#[utoipa::path(
    operation_id = "approve_substitution",
    tag = "substitutions",
    params(("id" = Uuid, Path, description = "Substitution id")),
    responses((status = 200, description = "Approved; the enrolment names the new person", body = SubstitutionView), ActionErrors)
)]
#[post("/substitutions/{id}/approve")]
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
        SubstitutionAction::Approve,
        None,
    )
    .await
}

/// Reject a substitution with a reason (DEF-3; training staff).
#[utoipa::path(
    operation_id = "reject_substitution",
    tag = "substitutions",
    params(("id" = Uuid, Path, description = "Substitution id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = SubstitutionView), ActionErrors)
)]
#[post("/substitutions/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(SUBSTITUTION_DECIDERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        SubstitutionAction::Reject,
        Some(reason),
    )
    .await
}

/// Registers the substitution endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(approve)
        .service(reject);
}
