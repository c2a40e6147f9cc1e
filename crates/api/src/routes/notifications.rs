//! Each account's inbox of notices: class notices (ENR-1), returned enrolments
//! and waiting-list promotions (CLS-3). Every authenticated role reads its own.

use actix_web::{HttpResponse, get, post, web};
use guild_app::notifications as app;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::notifications::NotificationView;

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext};
use crate::openapi::{ActionErrors, ListErrors, ReadErrors};
use crate::state::AppState;

/// Filters for the inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: only unread notifications.
    pub unread: Option<bool>,
}

/// The caller's notifications, oldest first; `unread=true` for the unread ones.
#[utoipa::path(
    operation_id = "list_notifications",
    tag = "notifications",
    params(NotificationQuery),
    responses((status = 200, description = "OK", body = Paged<NotificationView>), ListErrors)
)]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<NotificationQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let unread = q.unread.unwrap_or(false);
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, unread, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Read one of the caller's notifications.
#[utoipa::path(
    operation_id = "get_notification",
    tag = "notifications",
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "OK", body = NotificationView), ReadErrors)
)]
#[get("/notifications/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Mark one of the caller's notifications read. Reading it again is fine and
/// keeps the time it was first read. (Not audited: a read mark is the
/// reader's own inbox state, not a change of business data.)
#[utoipa::path(
    operation_id = "read_notification",
    tag = "notifications",
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "Marked read", body = NotificationView), ActionErrors)
)]
#[post("/notifications/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::mark_read(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get).service(read);
}
