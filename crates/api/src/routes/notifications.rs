//! Each account's inbox of notices: class notices (ENR-1), returned enrolments
//! and waiting-list promotions (CLS-3). Every authenticated role reads its own.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use guild_domain::Role;
use guild_store::DbConn;
use guild_store::notifications::{NotificationFilter, NotificationRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged};
use crate::openapi::{ActionErrors, ListErrors, ReadErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// A notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    /// The notification id.
    pub id: Uuid,
    /// What it is about: `class_notice` (time and place of a class, ENR-1),
    /// `enrolment_rejected` (returned with a reason), `waitlist_promoted`
    /// (a seat became free, CLS-3); later issues add more kinds.
    #[schema(example = "class_notice")]
    pub kind: String,
    /// A one-line title.
    pub title: String,
    /// The text.
    pub body: String,
    /// The kind of entity it is about, e.g. `enrolment`.
    pub entity_type: String,
    /// That entity's id.
    pub entity_id: Uuid,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When the recipient first read it (`null` while unread).
    pub read_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for NotificationView {
    type Error = ApiError;
    fn try_from(r: NotificationRow) -> ApiResult<Self> {
        Ok(NotificationView {
            id: stored_uuid("notifications", &r.id)?,
            kind: r.kind,
            title: r.title,
            body: r.body,
            entity_type: r.entity_type,
            entity_id: stored_uuid("notifications", &r.entity_id)?,
            created_at: r.created_at.and_utc(),
            read_at: r.read_at.map(|t| t.and_utc()),
        })
    }
}

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

/// Loads a notification of the caller, or 404 exactly like an unknown id. The
/// administrator may read any single notification (support), but lists and
/// marks only their own.
fn visible_notification(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
    reading: bool,
) -> ApiResult<NotificationRow> {
    guild_store::notifications::find(conn, id)?
        .filter(|n| n.recipient_user_id == caller.id || (reading && caller.role == Role::Admin))
        .ok_or_else(|| ApiError::not_found("notification"))
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
    let filter = NotificationFilter {
        recipient_user_id: user.id.clone(),
        unread_only: q.unread.unwrap_or(false),
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::notifications::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, NotificationView::try_from)?))
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
    let id = id.into_inner().to_string();
    let row = state
        .run(move |s| s.store.read(|c| visible_notification(c, &user, &id, true)))
        .await?;
    Ok(HttpResponse::Ok().json(NotificationView::try_from(row)?))
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
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let row = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                visible_notification(c, &user, &id, false)?;
                guild_store::notifications::mark_read(c, &id, now.naive_utc())?;
                visible_notification(c, &user, &id, false)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotificationView::try_from(row)?))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get).service(read);
}
