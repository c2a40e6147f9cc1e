//! The enrolment chain (ENR-1 to ENR-5) and the class waiting list (CLS-3):
//! the HTTP side. The use cases are in [`guild_app::enrolments`]; the fee
//! ledger's endpoints in [`crate::routes::enrolments_ledger`]; the CSV upload
//! in [`crate::routes::enrolments_bulk`].

use actix_web::{HttpResponse, get, post, web};
use guild_app::enrolments::{self as app, ListEnrolments};
use guild_domain::enrolment::{EnrolmentAction, EnrolmentStatus, action_roles};
use guild_domain::roles::ENROLMENT_CREATORS;
pub use guild_domain::roles::TRAINING_STAFF;
use guild_domain::roles::WAITING_LIST_READERS;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::enrolments::{
    CreateEnrolment, EnrolmentView, NotifiedCount, OrgAttestation, WaitingEntry, WaitingList,
};

use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::{enrolments_bulk, enrolments_ledger};
use crate::state::AppState;
use guild_app::inputs::Reason;

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
    let filter = ListEnrolments {
        class_id: q.class_id,
        status: q.status,
        person_id: q.person_id,
        organisation_id: q.organisation_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
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
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateEnrolment>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_CREATORS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::create(ctx, c, body))
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
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Runs one step of the chain after the role check (403 first).
async fn act(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: EnrolmentAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(action))?;
    let view = state
        .tx(user, req, move |ctx, c| {
            app::act(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

action_endpoint! {
    /// Submit a draft or a returned enrolment (ENR-1): to the organisation's
    /// reviewer, or for individuals straight to the association. The class must
    /// take enrolments and the person must not be banned (ENR-4).
    submit: "/enrolments/{id}/submit", "submit_enrolment", tag "enrolments", id "Enrolment id",
    act(EnrolmentAction::Submit) -> EnrolmentView, "Submitted"
}

action_endpoint! {
    /// Approve a submitted enrolment as the organisation's reviewer (ENR-2): the
    /// approval attests that the person data is true, accurate and complete, and
    /// is recorded with the reviewer's identity.
    approve: "/enrolments/{id}/approve", "approve_enrolment", tag "enrolments", id "Enrolment id",
    act(EnrolmentAction::Approve) -> EnrolmentView, "Approved by the organisation"
}

action_endpoint! {
    /// Confirm an enrolment as the association (ENR-1): a seat when the class has
    /// one, charging the program's fees (ENR-3); `waitlisted` when it is full
    /// (CLS-3). Concurrent confirmations never overfill the class.
    confirm: "/enrolments/{id}/confirm", "confirm_enrolment", tag "enrolments", id "Enrolment id",
    act(EnrolmentAction::Confirm) -> EnrolmentView, "Confirmed, or waitlisted when the class is full"
}

action_endpoint! {
    /// Withdraw an enrolment before payment (ENR-1). A seat it held goes at once to
    /// the first enrolment on the waiting list (CLS-3).
    cancel: "/enrolments/{id}/cancel", "cancel_enrolment", tag "enrolments", id "Enrolment id",
    act(EnrolmentAction::Cancel) -> EnrolmentView, "Cancelled"
}

action_endpoint! {
    /// Send the class notice (time and place) of a paid enrolment to its
    /// organisation and the trainee (ENR-1).
    notify: "/enrolments/{id}/notify", "notify_enrolment", tag "enrolments", id "Enrolment id",
    act(EnrolmentAction::Notify) -> EnrolmentView, "Notified"
}

action_endpoint! {
    /// Record that a paid trainee did not come (DEF-4): `paid | notified →
    /// no_show`, by training staff once the class has started (`in_progress` or
    /// `finished`; otherwise 422 `class_not_started`) and only when no deferral
    /// of the enrolment waits for a decision (409 `deferral_pending`).
    /// Attendance is recorded in a later issue; for now this action records the
    /// absence. A `no_show` gets no further class and no refund.
    no_show: "/enrolments/{id}/no-show", "no_show_enrolment", tag "enrolments", id "Enrolment id",
    act(EnrolmentAction::NoShow) -> EnrolmentView, "Recorded as no_show"
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
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = Some(body.into_inner().reason.trim().to_owned());
    act(
        state,
        req,
        user,
        id.into_inner(),
        EnrolmentAction::Reject,
        reason,
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
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(TRAINING_STAFF)?;
    let class_id = id.into_inner();
    let count = state
        .tx(user, req, move |ctx, c| app::notify_class(ctx, c, class_id))
        .await?;
    Ok(HttpResponse::Ok().json(count))
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
    user.require(WAITING_LIST_READERS)?;
    let class_id = id.into_inner();
    let answer = state
        .read(user, move |ctx, c| app::waiting_list(ctx, c, class_id))
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
