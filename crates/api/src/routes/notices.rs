//! Public notices (TCH-2; later certificate changes, CRT-6): what the
//! association publishes on its web site. Readable without a token. A notice
//! holds a title and a text naming people by name only, never an ID number or
//! any other personal data.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use guild_domain::notice::{NoticeKind, NoticeText};
use guild_store::DbConn;
use guild_store::notices::NoticeRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, parse_stored};
use crate::openapi::PublicErrors;
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_public);
}

/// A public notice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeView {
    /// The notice id.
    pub id: Uuid,
    /// What the notice announces.
    pub kind: NoticeKind,
    /// One line, for lists.
    pub title: String,
    /// The full text.
    pub body: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

impl TryFrom<NoticeRow> for NoticeView {
    type Error = ApiError;
    fn try_from(r: NoticeRow) -> ApiResult<Self> {
        Ok(NoticeView {
            id: stored_uuid("notices", &r.id)?,
            kind: parse_stored("notices", &r.kind)?,
            title: r.title,
            body: r.body,
            published_at: r.published_at.and_utc(),
        })
    }
}

/// Filters for the public notice list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only notices of this kind.
    pub kind: Option<NoticeKind>,
}

/// Publishes a notice inside the caller's write transaction, so the notice
/// exists exactly when the change it announces does (TCH-2). `entity_type` and
/// `entity_id` name what it is about; they are kept for the association and
/// never shown publicly.
pub fn publish(
    conn: &mut DbConn,
    kind: NoticeKind,
    text: NoticeText,
    entity_type: &str,
    entity_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<NoticeRow> {
    let row = NoticeRow {
        id: Uuid::now_v7().to_string(),
        kind: kind.as_str().to_owned(),
        title: text.title,
        body: text.body,
        entity_type: entity_type.to_owned(),
        entity_id: entity_id.to_owned(),
        published_at: at.naive_utc(),
    };
    guild_store::notices::insert(conn, &row)?;
    Ok(row)
}

/// List public notices, oldest first (no token needed): teacher dismissals
/// (TCH-2) and, later, certificate changes and cancellations.
#[utoipa::path(
    operation_id = "list_public_notices",
    tag = "public",
    security(()),
    params(NoticeQuery),
    responses((status = 200, description = "OK", body = Paged<NoticeView>), PublicErrors)
)]
#[get("/public/notices")]
pub async fn list_public(
    state: web::Data<AppState>,
    q: web::Query<NoticeQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let kind = q.kind.map(|k| k.as_str().to_owned());
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::notices::list(
                    c,
                    kind.as_deref(),
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, NoticeView::try_from)?))
}
