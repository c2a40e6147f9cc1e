//! `/healthz` and `/readyz`.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::openapi::{HealthErrors, ReadyErrors};
use crate::state::AppState;

/// Liveness or readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
    /// The database backend, on `/readyz`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(
    operation_id = "healthz",
    tag = "system", security(()), responses((status = 200,
            description = "OK", body = Health), HealthErrors))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// How long `/readyz` may take to find out: well within a probe's usual 1 s.
const READY_BUDGET: Duration = Duration::from_millis(700);

/// The database can be reached and written to.
///
/// Commits a one-row write, so read-only database files, a read-only or standby
/// server and a full disk answer `503`, as does a database that does not answer
/// within 0.7 s.
#[utoipa::path(
    operation_id = "readyz",
    tag = "system", security(()), responses((status = 200,
            description = "OK", body = Health), ReadyErrors))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let backend = state.store.backend().name();
    state
        .run(|s| {
            s.store
                .check_writable(READY_BUDGET)
                .map_err(|e| ApiError::Unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ready",
        database: Some(backend),
    }))
}
