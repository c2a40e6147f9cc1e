//! Recording continuing-education credits for an activity (CED-3, CED-4,
//! seed 004 art. 19) and listing what an activity recorded: the HTTP side. The use cases are in
//! [`guild_app::ce::credits`].
//!
//! `POST /ce/activities/{id}/credits` records, per person, the activity's
//! credits in bulk: up to 5,000 rows in one JSON body (at most 2 MiB). It is
//! how providers' own systems and partner online platforms upload courses
//! and tests (art. 15): each authenticates as its provider account and may
//! send an `Idempotency-Key`, so a retried upload replays the first answer
//! instead of counting twice (API-5). Without a key a repeated upload counts
//! nothing twice either: a person already credited for the activity is
//! skipped and reported (`already_recorded`; the database also holds
//! `UNIQUE (activity_id, person_id)`).
//!
//! Who: the activity's provider, through its `provider` accounts, while the
//! provider is accredited (a suspended or withdrawn provider is refused with
//! `provider_not_active`, CED-4, even for activities it recorded before); or,
//! for an employer's own activity, the employer's filler or reviewer. The
//! activity must be `registered` (CED-3: employer training only after the
//! authority registered it).
//!
//! The upload is checked as a whole first (all or nothing): every bad row is
//! reported as a field error named `credits[i].field` (`i` is the 0-based
//! index in the array) and nothing is written. Rows name a person by
//! `person_id` or by ID document (`id_type`, default `resident_id`, and
//! `id_number`); the person must already be on the register (PPL-1). An
//! employer records only its own staff: anyone else answers as unknown
//! (ACC-2). A person named twice in one upload is a row error.
//!
//! Each valid row becomes one credit record holding, as they are at the time
//! of recording: the activity's source, subject category, credits, hours and
//! fee; the date earned (the activity's date unless given, never before it
//! nor in the future, and its year is the credit's year); the exam result
//! where the activity had an exam (a failed exam earns nothing: the row is
//! reported as `exam_failed`, not recorded; credits from a passed exam are
//! `exam_based`, CED-2); the person's organisation and occupation; the
//! region — the person's organisation's region, else the activity's — so the
//! credit counts where the person's yearly requirement is set (CED-2); the
//! row's evidence references, else the activity's; who recorded it and when.
//! People without a skill registration yet (CED-1) are credited all the same:
//! the learning happened, and the obligation is what the certificate starts.
//! Credits go through `guild_store::ce_credits::insert_credits`, which keeps
//! the yearly roll-up in the same transaction. One audit event per upload.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use guild_app::ce::credits as app;
use guild_app::ce::{ACTIVITY_RECORDERS, PROVIDER_READERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::ce::credits::{
    ActivityCreditView, CreditUpload, CreditUploadResult, CreditUploadRow, RecordedCredit,
    SkippedCreditRow,
};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{
    LARGEST_BODY_LIMIT, PageParams, Paged, RequestContext, json_body_error, read_limited, too_large,
};
use crate::openapi::{CreateErrors, ReadErrors};
use crate::state::AppState;

/// The largest upload accepted: 2 MiB (5,000 rows fit easily).
pub const CREDITS_BODY_LIMIT: usize = LARGEST_BODY_LIMIT;

/// Paging of an activity's credits.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityCreditQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Reads a JSON body of at most [`CREDITS_BODY_LIMIT`] bytes (415 unless
/// JSON, 413 beyond the limit, 400/422 when it does not parse).
async fn read_upload(req: &HttpRequest, payload: web::Payload) -> ApiResult<CreditUpload> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::http(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > CREDITS_BODY_LIMIT) {
        return Err(too_large(CREDITS_BODY_LIMIT));
    }
    let body = read_limited(payload, CREDITS_BODY_LIMIT, declared.unwrap_or(0)).await?;
    serde_json::from_slice(&body).map_err(|e| json_body_error(&e))
}

/// Record credits for an activity's participants, in bulk (CED-3): the
/// activity's accredited provider (CED-4) or, for an employer's registered
/// activity, the employer. Up to 5,000 rows, checked as a whole: any bad row
/// answers 422 with `credits[i].field` errors and nothing is recorded. People
/// already credited for the activity and failed exams are reported in
/// `skipped`. Send an `Idempotency-Key` so a retried upload is answered from
/// the first one.
#[utoipa::path(
    operation_id = "record_ce_credits",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried upload replay the first answer (API-5)")),
    request_body(content = CreditUpload, description = "Up to 5,000 rows, at most 2 MiB"),
    responses((status = 200, description = "Recorded; rows that recorded nothing are in `skipped`", body = CreditUploadResult), CreateErrors)
)]
#[post("/ce/activities/{id}/credits")]
pub async fn record(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    user.require(ACTIVITY_RECORDERS)?;
    let upload = read_upload(&req, payload).await?;
    let id = id.into_inner();
    let result = state
        .tx(user, ctx, move |ctx, c| app::record(ctx, c, id, upload))
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The credits recorded for an activity, with each person (its recording
/// organisation, association staff and the authority; ID numbers masked
/// except for association staff and the authority, PPL-3).
#[utoipa::path(
    operation_id = "list_ce_activity_credits",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id"), ActivityCreditQuery),
    responses((status = 200, description = "OK (in recording order)", body = Paged<ActivityCreditView>), ReadErrors)
)]
#[get("/ce/activities/{id}/credits")]
pub async fn list_for_activity(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<ActivityCreditQuery>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let id = id.into_inner();
    let rows = state
        .read(user, move |ctx, c| app::list_for_activity(ctx, c, id, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record).service(list_for_activity);
}
