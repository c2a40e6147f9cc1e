//! Webhooks (API-8): the HTTP side. The use cases are in
//! [`guild_app::webhooks`]; the dispatcher is [`crate::workers::webhooks`].
//! Admins, organisation reviewers, CE providers and the authority subscribe
//! (what each receives is `guild_domain::webhook::receives`); other roles get 403.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use guild_app::webhooks as app;
use guild_domain::roles::WEBHOOK_SUBSCRIBERS;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::webhooks::{
    CreateWebhook, DeliveryView, EventTypeView, UpdateWebhook, WebhookView, WebhookWithSecret,
};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{PageParams, Paged, RequestContext, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;

/// A page of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WebhookPageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The event kinds a webhook can subscribe to (the published catalogue),
/// each with what it means and the schema of its payload's `data`.
#[utoipa::path(
    operation_id = "list_webhook_event_types",
    tag = "webhooks",
    responses((status = 200, description = "OK", body = Vec<EventTypeView>), ListErrors)
)]
#[get("/webhooks/event-types")]
pub async fn event_types(user: AuthUser) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    Ok(HttpResponse::Ok().json(app::event_types()))
}

/// The caller's webhook subscriptions (an admin's: all), oldest first.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    params(WebhookPageQuery),
    responses((status = 200, description = "OK", body = Paged<WebhookView>), ListErrors)
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<WebhookPageQuery>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .read(user, move |ctx, c| app::list(ctx, c, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Subscribe to events: a URL (HTTPS, public host) and the kinds wanted. The
/// answer carries the signing secret (`whsec_…`), shown this once.
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body = CreateWebhook,
    responses((status = 201, description = "Created; with its secret", body = WebhookWithSecret), CreateErrors)
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let settings = state.config.webhooks.clone();
    let view = state
        .tx(user, req, move |ctx, c| {
            app::create(ctx, c, &settings, body)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", view.webhook.id)))
        .json(view))
}

/// Read one subscription (its owner, or an admin).
#[utoipa::path(
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "OK", body = WebhookView), ReadErrors)
)]
#[get("/webhooks/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |ctx, c| app::get(ctx, c, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change a subscription: URL, kinds, description, enabled. Enabling a
/// subscription the server disabled starts it afresh.
#[utoipa::path(
    operation_id = "update_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    request_body = UpdateWebhook,
    responses((status = 200, description = "OK", body = WebhookView), ActionErrors)
)]
#[patch("/webhooks/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateWebhook>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    validate(&*body)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let settings = state.config.webhooks.clone();
    let view = state
        .tx(user, req, move |ctx, c| {
            app::update(ctx, c, &settings, id, body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// End a subscription; its pending deliveries are not sent.
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"), ActionErrors)
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let id = id.into_inner();
    state
        .tx(user, req, move |ctx, c| app::delete(ctx, c, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret. The new one is shown this once; the old one
/// keeps signing too (two signatures in `webhook-signature`) for 24 hours.
#[utoipa::path(
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "Rotated; with the new secret", body = WebhookWithSecret), ActionErrors)
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::rotate_secret(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The delivery log of a subscription, newest first: status, attempts, the
/// last response code and an excerpt of its body, and timings.
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id"), WebhookPageQuery),
    responses((status = 200, description = "OK", body = Paged<DeliveryView>), ReadErrors)
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<WebhookPageQuery>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let id = id.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .read(user, move |ctx, c| app::deliveries(ctx, c, id, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Send a delivery again (same event id and body), now.
#[utoipa::path(
    operation_id = "redeliver_webhook_delivery",
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "Webhook id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses((status = 202, description = "Queued", body = DeliveryView), ActionErrors)
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let (id, delivery_id) = path.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| {
            app::redeliver(ctx, c, id, delivery_id)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// Send a test event (`webhook.ping`) to this subscription only.
#[utoipa::path(
    operation_id = "ping_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses((status = 202, description = "Queued", body = DeliveryView), ActionErrors)
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(WEBHOOK_SUBSCRIBERS)?;
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::ping(ctx, c, id))
        .await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// Registers this module's endpoints under `/api/v1` (the catalogue before
/// `/webhooks/{id}`, which would take `event-types` for an id).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(event_types)
        .service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(remove)
        .service(rotate_secret)
        .service(deliveries)
        .service(redeliver)
        .service(ping);
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_event_type_names_a_schema_of_the_document() {
        // rule API-8: the catalogue names the payload schema of each kind
        let doc = crate::openapi_document();
        let schemas = doc.components.expect("components").schemas;
        let missing: Vec<_> = guild_app::webhooks::event_types()
            .into_iter()
            .filter(|t| !schemas.contains_key(&t.schema))
            .map(|t| format!("{} -> {}", t.kind, t.schema))
            .collect();
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
