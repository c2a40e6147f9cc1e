//! Exam sittings, registration, results, publishing and retakes (EXM-1 to
//! EXM-5): the HTTP side. The use cases, and the rules they follow, are in
//! [`guild_app::sittings`].
//!
//! - `POST /sittings` schedules a `first` or `retake` sitting of a class
//!   (training staff). Sittings are association data: every role but CE
//!   providers may read them (time and place of the exam).
//! - `POST /sittings/{id}/registrations` registers eligible trainees only
//!   (EXM-2, the same reasons as `GET /enrolments/{id}/eligibility`) and
//!   answers which were registered and, for each one refused, every reason.
//!   A retake takes a trainee whose one first attempt failed (EXM-3); for a
//!   `skill_level` program it charges the exam fee again in the same
//!   transaction (EXM-4, a `charge`/`exam_fee` ledger entry).
//! - `POST /sittings/{id}/results` enters scores per part; `passed` is decided
//!   by the domain from the program's exam components (EXM-1).
//! - `POST /classes/{id}/results/publish` publishes a class's results once
//!   every registration of every sitting has its result (EXM-5). It sets
//!   `classes.results_published_at/by`: the archive clock (ARC-2, 5 working
//!   days) runs from that time. Trainees and organisations see a result only
//!   once published: a result entered (or corrected) after the last
//!   publication stays hidden until the class's results are published again
//!   (e.g. the retake's).

use actix_web::{HttpResponse, get, post, web};
use guild_app::sittings as app;
use guild_domain::class::{parse_session_time, validate_place};
pub use guild_domain::roles::{RESULT_ENTERERS, SITTING_MANAGERS};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::sittings::{
    ClassResults, CreateSitting, EnterResults, RefusedRegistration, RegisterTrainees,
    RegistrationOutcome, RegistrationView, ResultInput, ResultView, SittingView,
};

use crate::auth::{AuthUser, CLASS_RECORD_READERS};
use crate::error::{ApiResult, ErrorCode, FieldProblem, Problem, problem_response};
use crate::extract::{PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::state::AppState;

/// Filters for the sitting list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SittingQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this class's sittings.
    pub class_id: Option<Uuid>,
}

/// The 422 answer when every trainee was refused: the first reason names the
/// problem (`code`, `rule`); `errors` lists every reason per enrolment
/// (`enrolment_ids[i]`).
fn all_refused(outcome: &RegistrationOutcome, at: &[usize]) -> HttpResponse {
    let first = outcome.refused.first().and_then(|r| r.reasons.first());
    let (code, rule, detail) = first.map_or(("rule_violation", "EXM-2", String::new()), |f| {
        (f.code, f.rule, f.detail.clone())
    });
    let errors = outcome
        .refused
        .iter()
        .zip(at)
        .flat_map(|(r, i)| {
            r.reasons.iter().map(move |reason| FieldProblem {
                field: format!("enrolment_ids[{i}]"),
                code: reason.code.to_owned(),
                message: format!("{}: {}", reason.rule, reason.detail),
            })
        })
        .collect();
    problem_response(&Problem {
        type_uri: format!("urn:guild:problem:{code}"),
        title: ErrorCode::RuleViolation.title().to_owned(),
        status: 422,
        detail: Some(format!("no trainee was registered: {detail}")),
        code: code.to_owned(),
        rule: Some(rule.to_owned()),
        errors: Some(errors),
        allowed_actions: None,
        reason: None,
        request_id: None,
    })
}

/// List exam sittings, oldest first (optionally of one class). Sittings are
/// association data: their time and place are visible to every role but CE
/// providers.
#[utoipa::path(
    operation_id = "list_sittings",
    tag = "sittings",
    params(SittingQuery),
    responses((status = 200, description = "OK", body = Paged<SittingView>), ListErrors)
)]
#[get("/sittings")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SittingQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let class_id = q.class_id;
    let rows = state
        .read(user, move |_, c| app::list(c, class_id, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Schedule an exam sitting of a class (training staff): `first`, or a
/// `retake` for trainees who failed the first attempt (EXM-3). A cancelled
/// class has no exam (`class_cancelled`); a sitting is never dated before the
/// class's start date (`sitting_before_class`, EXM-5).
#[utoipa::path(
    operation_id = "create_sitting",
    tag = "sittings",
    request_body = CreateSitting,
    responses((status = 201, description = "Scheduled", body = SittingView), CreateErrors)
)]
#[post("/sittings")]
pub async fn create(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    body: web::Json<CreateSitting>,
) -> ApiResult<HttpResponse> {
    user.require(SITTING_MANAGERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let starts_at = parse_session_time("starts_at", &body.starts_at)?;
    let place = validate_place(&body.place)?;
    let view = state
        .tx(user, req, move |ctx, c| {
            app::create(ctx, c, body, starts_at, place)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/sittings/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one exam sitting.
#[utoipa::path(
    operation_id = "get_sitting",
    tag = "sittings",
    params(("id" = Uuid, Path, description = "Sitting id")),
    responses((status = 200, description = "OK", body = SittingView), ReadErrors)
)]
#[get("/sittings/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let id = id.into_inner();
    let view = state.read(user, move |_, c| app::get(c, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Register trainees for a sitting (training staff). Only eligible trainees
/// are registered (EXM-2): paid (`paid`/`notified`), not `no_show`, fewer
/// than two unexcused absences (ATT-3), not disqualified in this class, not
/// banned from this program's exams (DSC-4). A `retake` sitting takes a
/// trainee whose one first attempt failed, once (EXM-3,
/// `retake_not_allowed`); it is free, except for a `skill_level` program,
/// where the program's exam fee is charged to the enrolment's ledger in the
/// same transaction and the registration is `charged` (EXM-4). Answers 201
/// with the registered and, for each one refused, every reason with its
/// rule; when every trainee is refused, 422 naming the first reason's code
/// and rule, with `errors` listing each (`enrolment_ids[i]`).
#[utoipa::path(
    operation_id = "register_for_sitting",
    tag = "sittings",
    params(("id" = Uuid, Path, description = "Sitting id")),
    request_body = RegisterTrainees,
    responses((status = 201, description = "At least one trainee registered; the others with their reasons", body = RegistrationOutcome), ActionErrors)
)]
#[post("/sittings/{id}/registrations")]
pub async fn register(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RegisterTrainees>,
) -> ApiResult<HttpResponse> {
    user.require(SITTING_MANAGERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let ids = body.into_inner().enrolment_ids;
    let done = state
        .tx(user, req, move |ctx, c| app::register(ctx, c, id, ids))
        .await?;
    if done.outcome.registered.is_empty() {
        return Ok(all_refused(&done.outcome, &done.refused_at));
    }
    Ok(HttpResponse::Created().json(done.outcome))
}

/// Enter results of a sitting per part (EXM-1, EXM-5): by training staff or
/// the class's head and teachers. Scores are 0–100; a part the program's exam
/// does not have is refused (`no_such_part`); parts not sent keep their
/// earlier score, so the theory and practical parts may be entered
/// separately. `passed` is decided once every part is scored: every part
/// reaches its pass mark (EXM-1). A disqualified registration keeps score 0
/// and `passed = false` whatever is sent. A result entered after the class's
/// results were published stays hidden from trainees and organisations until
/// they are published again. Results are entered from the sitting's date on,
/// in the association's time zone (`sitting_not_held`, EXM-5).
#[utoipa::path(
    operation_id = "enter_sitting_results",
    tag = "sittings",
    params(("id" = Uuid, Path, description = "Sitting id")),
    request_body = EnterResults,
    responses((status = 200, description = "Entered: the registrations with their results", body = Vec<RegistrationView>), ActionErrors)
)]
#[post("/sittings/{id}/results")]
pub async fn enter_results(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<EnterResults>,
) -> ApiResult<HttpResponse> {
    user.require(RESULT_ENTERERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let views = state
        .tx(user, req, move |ctx, c| {
            app::enter_results(ctx, c, id, body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Publish a class's exam results (EXM-5, training staff): only when every
/// registration of every sitting of the class has its result
/// (`results_incomplete`; `no_results` when nobody is registered). Sets the
/// class's `results_published_at/by`; the archive clock (ARC-2) runs from
/// that time. Results then become visible to the trainees and their
/// organisations. Publishing again (e.g. after a retake) needs results
/// entered since the last publication (409 `results_already_published`).
#[utoipa::path(
    operation_id = "publish_class_results",
    tag = "sittings",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Published", body = ClassResults), ActionErrors)
)]
#[post("/classes/{id}/results/publish")]
pub async fn publish_results(
    state: web::Data<AppState>,
    req: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(SITTING_MANAGERS)?;
    let id = id.into_inner();
    let view = state
        .tx(user, req, move |ctx, c| app::publish(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Read a class's exam results (EXM-5). Association staff, the authority and
/// the class's head and teachers see every result, also unpublished ones
/// (`published: false`); organisation accounts see their own trainees' and
/// trainees their own, only once published; other teachers 403.
#[utoipa::path(
    operation_id = "get_class_results",
    tag = "sittings",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = ClassResults), ReadErrors)
)]
#[get("/classes/{id}/results")]
pub async fn class_results(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let id = id.into_inner();
    let view = state
        .read(user, move |ctx, c| app::class_results(ctx, c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(register)
        .service(enter_results)
        .service(publish_results)
        .service(class_results);
}
