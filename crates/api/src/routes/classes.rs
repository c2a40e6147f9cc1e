//! Classes (开班): one run of a program with dates, place, capacity, class
//! head, teachers and a schedule of sessions; their states and the
//! preparation checklist (CLS-1 to CLS-3): the HTTP side. The use cases are
//! in [`guild_app::classes`].
//!
//! Classes are association data: every authenticated role reads them (member
//! companies choose classes to enrol in), except that a `teacher` sees only the
//! classes where they are class head or one of the teachers. Training staff
//! (administrator, training officer, training head) create, change and move
//! them through their states and work through the checklist.

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::classes as app;
use guild_domain::class::{ClassAction, ClassStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::classes::{
    AddChecklistItem, CLASS_MANAGERS, CancelClass, CheckItem, ChecklistItemView, ChecklistView,
    ClassSummary, ClassTeacher, ClassView, CreateClass, SessionInput, SessionView, UpdateClass,
};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_classes)
        .service(create_class)
        .service(get_class)
        .service(update_class)
        .service(open_class)
        .service(start_class)
        .service(finish_class)
        .service(cancel_class)
        .service(get_checklist)
        .service(add_checklist_item)
        .service(check_item)
        .service(uncheck_item);
}

/// Filters for the class list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClassQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only classes starting in this year.
    pub year: Option<i32>,
    /// Only classes of this program.
    pub program_id: Option<Uuid>,
    /// Only classes in this status.
    pub status: Option<ClassStatus>,
}

/// List classes (every authenticated role; a teacher sees only the classes
/// where they are class head or teacher). Seats are counted live (CLS-3).
#[utoipa::path(
    operation_id = "list_classes",
    tag = "classes",
    params(ClassQuery),
    responses((status = 200, description = "OK", body = Paged<ClassSummary>), ListErrors)
)]
#[get("/classes")]
pub async fn list_classes(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ClassQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListClasses {
        year: q.year,
        program_id: q.program_id,
        status: q.status,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Schedule a class (training staff, CLS-1). The program must be active; the
/// class head and teachers need an appointment covering the class's dates
/// (TCH-1); sessions lie within the dates. The class starts `planned` with the
/// default preparation checklist (CLS-2).
#[utoipa::path(
    operation_id = "create_class",
    tag = "classes",
    request_body = CreateClass,
    responses((status = 201, description = "Created, planned", body = ClassView), CreateErrors)
)]
#[post("/classes")]
pub async fn create_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateClass>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::create(ctx, c, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/classes/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one class with its sessions, teachers and seats (CLS-1, CLS-3).
#[utoipa::path(
    operation_id = "get_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = ClassView), ReadErrors)
)]
#[get("/classes/{id}")]
pub async fn get_class(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change a planned or open class (training staff). Honours `If-Match`
/// (API-5). `teacher_user_ids` and `sessions` replace the whole list; the
/// capacity cannot drop below the seats taken (CLS-3, 409
/// `capacity_below_seats`); new teachers and new dates are checked against
/// the appointments (TCH-1). The program cannot be changed.
#[utoipa::path(
    operation_id = "update_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateClass,
    responses((status = 200, description = "OK", body = ClassView), UpdateErrors)
)]
#[patch("/classes/{id}")]
pub async fn update_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateClass>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    validate(&*body)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::update(ctx, c, id, if_match.0, body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Runs a class action (training staff; CLS-1) on the locked class.
async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ClassAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::transition(ctx, c, id, action, reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Open a planned class for enrolment (CLS-1).
#[utoipa::path(
    operation_id = "open_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Opened", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/open")]
pub async fn open_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ClassAction::Open, None).await
}

/// Start an open class (CLS-1, CLS-2): refused with `checklist_incomplete`
/// (naming the unchecked mandatory items) and before the start date in the
/// association's time zone (`class_not_started`).
#[utoipa::path(
    operation_id = "start_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Started", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/start")]
pub async fn start_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ClassAction::Start, None).await
}

/// Finish a running class, not before its end date (CLS-1, `class_not_ended`).
#[utoipa::path(
    operation_id = "finish_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Finished", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/finish")]
pub async fn finish_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ClassAction::Finish, None).await
}

/// Cancel a class that has not finished, with a reason (CLS-1).
#[utoipa::path(
    operation_id = "cancel_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    request_body = CancelClass,
    responses((status = 200, description = "Cancelled", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/cancel")]
pub async fn cancel_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CancelClass>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "length", "give a reason"));
    }
    let (id, action) = (id.into_inner(), ClassAction::Cancel);
    transition(state, ctx, user, id, action, Some(reason)).await
}

/// Read a class's preparation checklist (training staff, CLS-2).
#[utoipa::path(
    operation_id = "get_class_checklist",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = ChecklistView), ReadErrors)
)]
#[get("/classes/{id}/checklist")]
pub async fn get_checklist(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    let id = id.into_inner();
    let view = state
        .read(user, move |ctx, c| app::checklist(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Add a custom item to a planned or open class's checklist (training staff, CLS-2).
#[utoipa::path(
    operation_id = "add_class_checklist_item",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    request_body = AddChecklistItem,
    responses((status = 201, description = "Added", body = ChecklistItemView), CreateErrors)
)]
#[post("/classes/{id}/checklist")]
pub async fn add_checklist_item(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<AddChecklistItem>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    validate(&*body)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let view = state
        .tx(user, ctx, move |ctx, c| {
            app::add_checklist_item(ctx, c, id, body)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Check off a checklist item, recording who and when (training staff, CLS-2;
/// only while the class is planned or open).
#[utoipa::path(
    operation_id = "check_class_checklist_item",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id"), ("item_id" = Uuid, Path, description = "Checklist item id")),
    request_body = CheckItem,
    responses((status = 200, description = "Checked", body = ChecklistItemView), ActionErrors)
)]
#[post("/classes/{id}/checklist/{item_id}/check")]
pub async fn check_item(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<CheckItem>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    user.require(CLASS_MANAGERS)?;
    let (ids, body) = (path.into_inner(), body.into_inner());
    let view = state
        .tx(user, ctx, move |ctx, c| app::check_item(ctx, c, ids, body))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Undo a check (training staff, CLS-2; only while the class is planned or open).
#[utoipa::path(
    operation_id = "uncheck_class_checklist_item",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id"), ("item_id" = Uuid, Path, description = "Checklist item id")),
    responses((status = 200, description = "Unchecked", body = ChecklistItemView), ActionErrors)
)]
#[post("/classes/{id}/checklist/{item_id}/uncheck")]
pub async fn uncheck_item(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    let ids = path.into_inner();
    let view = state
        .tx(user, ctx, move |ctx, c| app::uncheck_item(ctx, c, ids))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
