//! People (PPL-1 to PPL-3): validated ID numbers, one record per ID, masked in
//! responses. The HTTP side; the use cases are in [`guild_app::people`].

use actix_web::{HttpResponse, get, patch, post, web};
use guild_app::people as app;
use guild_domain::person::normalize_id_number;
use guild_domain::{IdType, TraineeCategory};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub use guild_app::people::{CreatePerson, PersonView, UpdatePerson};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// Filters for the people list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PersonQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only people of this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only this category.
    pub category: Option<TraineeCategory>,
    /// Exact ID number (with `id_type`, default `resident_id`).
    pub id_number: Option<String>,
    /// The document type `id_number` refers to.
    pub id_type: Option<IdType>,
    /// Name contains this text.
    pub name: Option<String>,
}

/// List people. Organisation users see their own organisation's (ACC-2); trainees themselves.
#[utoipa::path(
    operation_id = "list_people",
    tag = "people", params(PersonQuery), responses((status = 200,
            description = "OK", body = Paged<PersonView>), ListErrors))]
#[get("/people")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<PersonQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let id_type = q.id_type.unwrap_or(IdType::ResidentId);
    let id_number = q
        .id_number
        .as_deref()
        .map(|n| {
            normalize_id_number(id_type, n).map_err(|e| {
                ApiError::http(ErrorCode::InvalidQuery, format!("id_number: {}", e.message))
            })
        })
        .transpose()?;
    let filter = app::ListPeople {
        organisation_id: q.organisation_id,
        category: q.category,
        id_type: q.id_type.or(id_number.as_ref().map(|_| id_type)),
        id_number,
        name: q.name,
    };
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Enter a person (PPL-1). An ID number that is already registered links to the
/// existing record instead of creating a duplicate (PPL-3): the answer is `200`
/// with that record when the caller may see it. When it belongs to another
/// organisation the answer is `409 person_exists_elsewhere` and reveals nothing
/// of the record — protecting the person's data takes precedence; association
/// staff can move the person.
#[utoipa::path(
    operation_id = "create_person",
    tag = "people",
    request_body = CreatePerson,
    responses(
        (status = 201, description = "Created", body = PersonView),
        (status = 200, description = "The ID number was already registered: the existing person", body = PersonView),
        CreateErrors
    )
)]
#[post("/people")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreatePerson>,
) -> ApiResult<HttpResponse> {
    user.require(app::PEOPLE_WRITERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let (view, created) = state
        .tx(user, ctx, move |ctx, c| app::create(ctx, c, body))
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header(("Location", format!("/api/v1/people/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one person.
#[utoipa::path(
    operation_id = "get_person",
    tag = "people", params(("id" = Uuid, Path, description = "Person id")), responses((status = 200,
            description = "OK", body = PersonView), ReadErrors))]
#[get("/people/{id}")]
pub async fn get(
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

/// Change a person's data. Honours `If-Match` (API-5).
#[utoipa::path(
    operation_id = "update_person",
    tag = "people",
    params(("id" = Uuid, Path, description = "Person id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdatePerson,
    responses((status = 200,
            description = "OK", body = PersonView), UpdateErrors)
)]
#[patch("/people/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdatePerson>,
) -> ApiResult<HttpResponse> {
    user.require(app::PEOPLE_WRITERS)?;
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
