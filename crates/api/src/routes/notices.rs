//! Public notices (TCH-2; later certificate changes, CRT-6): what the
//! association publishes on its web site. Readable without a token. A notice
//! holds a title and a text naming people by name only, never an ID number or
//! any other personal data.

use actix_web::{HttpResponse, get, web};
use guild_domain::notice::NoticeKind;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

pub use guild_app::notices::NoticeView;

use crate::error::ApiResult;
use crate::extract::{PageParams, Paged};
use crate::openapi::PublicErrors;
use crate::state::AppState;

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_public);
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
    let rows = state
        .public(move |c| guild_app::notices::list_public(c, q.kind, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}
