//! Bulk enrolment from a CSV file (ENR-1): an organisation uploads up to 5,000
//! people for one class; the whole file is checked first and then written in
//! one transaction — all rows or none.
//!
//! The file: UTF-8 (an optional byte-order mark is ignored), comma-separated,
//! fields quoted with `"` per RFC 4180 (`""` is a quote inside a quoted
//! field), CRLF or LF line ends. The first row is the header naming the
//! columns `name, gender, id_type, id_number, phone, category` in any order;
//! `id_type`, `phone` and `category` may be left out or empty (`id_type` then
//! means `resident_id`). Blank lines are skipped but counted, so row numbers
//! match a spreadsheet's: the header is row 1.
//!
//! This is the HTTP side; the file is checked and written by
//! [`guild_app::enrolments::bulk`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt;
use guild_app::enrolments::bulk;
use guild_domain::roles::BULK_ENROLLERS;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub use guild_app::enrolments::bulk::BulkResult;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::RequestContext;
use crate::openapi::CreateErrors;
use crate::state::AppState;

/// The largest file accepted: 2 MiB (5,000 rows fit easily).
pub const BULK_BODY_LIMIT: usize = crate::extract::LARGEST_BODY_LIMIT;

/// Options of a bulk upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BulkQuery {
    /// Submit every enrolment at once instead of leaving drafts (default `false`).
    pub submit: Option<bool>,
}

/// Reads the body up to [`BULK_BODY_LIMIT`] bytes (413 beyond).
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> ApiResult<Vec<u8>> {
    let too_large = || {
        ApiError::http(
            ErrorCode::PayloadTooLarge,
            format!("the file may be at most {BULK_BODY_LIMIT} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BULK_BODY_LIMIT) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            bulk::file_problem("unreadable", format!("the file could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > BULK_BODY_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Enrol many people of the caller's organisation in a class from a CSV file
/// (ENR-1; organisation filler or reviewer). The whole file is checked first:
/// every bad row is reported in `errors` with its row number (the header is
/// row 1) as `row N: column`, and then nothing is written. Otherwise every row
/// is written in one transaction: a row links to the organisation's existing
/// person with that ID number or creates one (PPL-3); a person of another
/// organisation, a duplicate inside the file, a person already enrolled
/// (ENR-5) or banned (ENR-4) is a row error. At most 5,000 rows and 2 MiB.
#[utoipa::path(
    operation_id = "bulk_enrol_class",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Class id"), BulkQuery),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "UTF-8 CSV (RFC 4180), header `name,gender,id_type,id_number,phone,category`, at most 5,000 data rows and 2 MiB",
        example = "name,gender,id_type,id_number,phone,category\n张三,male,resident_id,11010519491231002X,13800138000,operations_staff\n"
    ),
    responses((status = 201, description = "Every row enrolled", body = BulkResult), CreateErrors)
)]
#[post("/classes/{id}/enrolments/bulk")]
pub async fn bulk_enrol(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<BulkQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    user.require(BULK_ENROLLERS)?;
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(ApiError::http(
            ErrorCode::UnsupportedMediaType,
            "send the file as text/csv",
        ));
    }
    let body = read_body(&req, payload).await?;
    let submit = q.into_inner().submit.unwrap_or(false);
    let id = id.into_inner();
    let result = state
        .tx(user, ctx, move |ctx, c| {
            let file = bulk::check_file(&body)?;
            bulk::enrol(ctx, c, id, submit, file)
        })
        .await?;
    Ok(HttpResponse::Created().json(result))
}
