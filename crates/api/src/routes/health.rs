//! `/healthz` and `/readyz`.

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

/// The database answers.
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
                .ping()
                .map_err(|e| ApiError::Unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ready",
        database: Some(backend),
    }))
}
