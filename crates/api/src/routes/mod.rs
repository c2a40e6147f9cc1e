//! HTTP handlers, one module per resource. Every handler carries `#[utoipa::path]`
//! and is registered with `.service(...)`, so a route cannot exist without a spec entry.

/// An action endpoint without a body, `POST <path>` on a resource's `{id}`:
/// the thin handler around the resource's one generic helper
/// `$helper(state, req, user, id, action, None)`. Each action keeps its own
/// operation in the OpenAPI document (`operation_id`, summary, answer). The
/// calling module imports `actix_web::post`, which utoipa reads by name.
macro_rules! action_endpoint {
    (
        $(#[doc = $doc:tt])*
        $name:ident: $path:tt, $op:tt, tag $tag:tt, id $id_doc:tt,
        $helper:ident($action:expr) -> $record:ty, $answer:tt
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            operation_id = $op,
            tag = $tag,
            params(("id" = Uuid, Path, description = $id_doc)),
            responses((status = 200, description = $answer, body = $record), ActionErrors)
        )]
        #[post($path)]
        pub async fn $name(
            state: actix_web::web::Data<AppState>,
            req: RequestContext,
            user: AuthUser,
            id: actix_web::web::Path<Uuid>,
        ) -> ApiResult<actix_web::HttpResponse> {
            $helper(state, req, user, id.into_inner(), $action, None).await
        }
    };
}

pub mod account_changes;
pub mod archives;
pub mod attendance;
pub mod audit_events;
pub mod auth;
pub mod bans;
pub mod ce_activities;
pub mod ce_compliance;
pub mod ce_credits;
pub mod ce_providers;
pub mod ce_statistics;
pub mod certificate_requests;
pub mod certificates;
pub mod classes;
pub mod deferrals;
pub mod enrolments;
pub mod enrolments_bulk;
pub mod enrolments_ledger;
pub mod forgery_reports;
pub mod health;
pub mod notices;
pub mod notifications;
pub mod organisations;
pub mod people;
pub mod plans;
pub mod programs;
pub mod refunds;
pub mod sanctions;
pub mod signing;
pub mod sittings;
pub mod substitutions;
pub mod teachers;
pub mod users;
pub mod verification;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api/v1` endpoint.
pub fn api_v1(cfg: &mut ServiceConfig) {
    cfg.service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::change_password)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(users::disable)
        .service(users::enable)
        .service(users::unlock)
        .service(users::reset_password)
        .service(organisations::list)
        .service(organisations::create)
        .service(organisations::get)
        .service(organisations::update)
        .service(organisations::approve)
        .service(organisations::reject)
        .service(organisations::suspend)
        .service(organisations::reinstate)
        .service(account_changes::create)
        .service(account_changes::list)
        .service(account_changes::get)
        .service(account_changes::approve)
        .service(account_changes::reject)
        .service(people::list)
        .service(people::create)
        .service(people::get)
        .service(people::update)
        .service(audit_events::list);
    // Training (SPEC §3, §4, §11): each module registers its own endpoints.
    cfg.configure(programs::configure)
        .configure(plans::configure)
        .configure(teachers::configure)
        .configure(notices::configure)
        .configure(classes::configure)
        .configure(enrolments::configure)
        .configure(notifications::configure)
        .configure(bans::configure)
        .configure(deferrals::configure)
        .configure(substitutions::configure);
    // Refunds, attendance, exams and discipline (SPEC §5 to §8).
    cfg.configure(refunds::configure)
        .configure(attendance::configure)
        .configure(sittings::configure)
        .configure(sanctions::configure);
    // Certificates and archives (SPEC §9, §12).
    cfg.configure(verification::configure)
        .configure(certificates::configure)
        .configure(signing::configure)
        .configure(certificate_requests::configure)
        .configure(forgery_reports::configure)
        .configure(archives::configure);
    // The continuing-education register (SPEC §10).
    cfg.configure(ce_providers::configure)
        .configure(ce_activities::configure)
        .configure(ce_credits::configure)
        .configure(ce_compliance::configure)
        .configure(ce_statistics::configure);
    // Webhooks on the event outbox (API-8).
    cfg.configure(webhooks::configure);
}
