//! The CE register's read side and the yearly requirement (CED-1, CED-2,
//! CED-5): the HTTP side. The use cases are in
//! [`guild_app::ce::compliance`].

use actix_web::{HttpResponse, get, put, web};
use guild_app::ce::compliance as app;
use guild_domain::ce::SubjectCategory;
use guild_domain::ce_compliance::{Requirement, check_requirement};
use guild_domain::roles::COMPLIANCE_LISTERS;
pub use guild_domain::roles::{
    COMPLIANCE_READERS, CREDIT_READERS, REQUIREMENT_READERS, REQUIREMENT_WRITERS,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use guild_app::ce::compliance::{
    ComplianceView, CreditRecordView, CreditTotals, MissingCredits, ObligationView,
    RequirementList, RequirementView, SetRequirement,
};
pub use guild_app::ce::{YEAR_MAX, YEAR_MIN};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, validate};
use crate::openapi::{ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// The longest region name.
pub const REGION_MAX: usize = 100;

/// The year to answer for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    /// The calendar year (default: the current year in the association's time zone).
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
}

/// One person's CE year (CED-5): credits by category, hours and fees, the
/// requirement of their region, whether it is met and what is missing, and
/// whether it applied that year (CED-1). The person themself, their
/// organisation, association staff and the authority; 404 for anyone else.
#[utoipa::path(
    operation_id = "get_ce_compliance",
    tag = "ce",
    params(("person_id" = Uuid, Path, description = "Person id"), YearQuery),
    responses((status = 200, description = "The person's year", body = ComplianceView), ReadErrors)
)]
#[get("/ce/compliance/{person_id}")]
pub async fn get_compliance(
    state: web::Data<AppState>,
    user: AuthUser,
    person_id: web::Path<Uuid>,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    user.require(COMPLIANCE_READERS)?;
    let person_id = person_id.into_inner();
    let year = q.into_inner().year;
    let view = state
        .read(user, move |ctx, c| app::person(ctx, c, person_id, year))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Filters of an organisation's compliance list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplianceQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// The calendar year (default: the current year in the association's time zone).
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
    /// `true`: only the staff behind for the year (under obligation, not met).
    pub behind: Option<bool>,
    /// The organisation: required for association staff and the authority;
    /// an organisation's own accounts always see their own staff (another
    /// organisation's id gives an empty list).
    pub organisation_id: Option<Uuid>,
}

/// An organisation's staff and their CE year (CED-5), in person-id order:
/// with `behind=true` only those behind — under obligation (CED-1) and not
/// meeting their region's requirement (CED-2), staff without any credit that
/// year included. An organisation's accounts see their own current staff;
/// association staff and the authority name the organisation.
#[utoipa::path(
    operation_id = "list_ce_compliance",
    tag = "ce",
    params(ComplianceQuery),
    responses((status = 200, description = "The staff's years", body = Paged<ComplianceView>), ListErrors)
)]
#[get("/ce/compliance")]
pub async fn list_compliance(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ComplianceQuery>,
) -> ApiResult<HttpResponse> {
    user.require(COMPLIANCE_LISTERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListCompliance {
        year: q.year,
        behind: q.behind.unwrap_or(false),
        organisation_id: q.organisation_id,
    };
    let rows = state
        .read(user, move |ctx, c| app::staff(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// Filters of the credit register.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CreditQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this person's credits.
    pub person_id: Option<Uuid>,
    /// Only this calendar year's.
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
    /// Only this activity's.
    pub activity_id: Option<Uuid>,
    /// Only this provider's activities'.
    pub provider_id: Option<Uuid>,
    /// Only `public` or only `professional` credits.
    pub subject_category: Option<SubjectCategory>,
}

/// The credit register (CED-5), in recording order: a trainee sees their own
/// credits, an organisation its current staff's and those of the activities
/// it recorded, a provider those of its own activities, association staff
/// and the authority all.
#[utoipa::path(
    operation_id = "list_ce_credits",
    tag = "ce",
    params(CreditQuery),
    responses((status = 200, description = "The credit records", body = Paged<CreditRecordView>), ListErrors)
)]
#[get("/ce/credits")]
pub async fn list_credits(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CreditQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CREDIT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = app::ListCredits {
        person_id: q.person_id,
        year: q.year,
        activity_id: q.activity_id,
        provider_id: q.provider_id,
        subject_category: q.subject_category,
    };
    let rows = state
        .read(user, move |ctx, c| app::credits(ctx, c, filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// The defaults and every region's own requirement (CED-2).
#[utoipa::path(
    operation_id = "list_ce_requirements",
    tag = "ce",
    responses((status = 200, description = "The defaults and the regions' own requirements", body = RequirementList), ListErrors)
)]
#[get("/ce/requirements")]
pub async fn list_requirements(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<HttpResponse> {
    user.require(REQUIREMENT_READERS)?;
    let list = state.read(user, move |_, c| app::requirements(c)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Checks a region named in the path: not blank, no surrounding spaces, at
/// most [`REGION_MAX`] characters.
fn checked_region(raw: &str) -> ApiResult<String> {
    if raw.trim().is_empty() || raw.trim() != raw || raw.chars().count() > REGION_MAX {
        return Err(ApiError::field(
            "region",
            "invalid_region",
            format!("a region name of 1 to {REGION_MAX} characters without surrounding spaces"),
        ));
    }
    Ok(raw.to_owned())
}

/// The requirement of one region (CED-2): its own, or the defaults it uses
/// (`is_default: true`) when it has none.
#[utoipa::path(
    operation_id = "get_ce_requirement",
    tag = "ce",
    params(("region" = String, Path, description = "Region name, as on organisations")),
    responses((status = 200, description = "The region's requirement", body = RequirementView), ReadErrors)
)]
#[get("/ce/requirements/{region}")]
pub async fn get_requirement(
    state: web::Data<AppState>,
    user: AuthUser,
    region: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require(REQUIREMENT_READERS)?;
    let region = checked_region(&region.into_inner())?;
    let view = state
        .read(user, move |_, c| app::requirement(c, &region))
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(v) = view.version {
        response.insert_header(etag(v));
    }
    Ok(response.json(view))
}

/// Set a region's yearly requirement (CED-2): the authority or the admin.
/// Creates the region's own requirement (201) or replaces it (200; send
/// `If-Match` with its version to guard against a concurrent change, API-5).
/// The thresholds must fit together: exam-based within professional, public
/// plus professional within the total (422 otherwise). Audited.
#[utoipa::path(
    operation_id = "set_ce_requirement",
    tag = "ce",
    params(("region" = String, Path, description = "Region name, as on organisations")),
    request_body = SetRequirement,
    responses(
        (status = 200, description = "Replaced", body = RequirementView),
        (status = 201, description = "Created: the region had used the defaults", body = RequirementView),
        UpdateErrors
    )
)]
#[put("/ce/requirements/{region}")]
pub async fn set_requirement(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    if_match: IfMatch,
    region: web::Path<String>,
    body: web::Json<SetRequirement>,
) -> ApiResult<HttpResponse> {
    user.require(REQUIREMENT_WRITERS)?;
    let region = checked_region(&region.into_inner())?;
    validate(&*body)?;
    let body = body.into_inner();
    let wanted = Requirement {
        total: body.total_credits,
        public: body.public_credits,
        professional: body.professional_credits,
        exam: body.exam_credits,
    };
    check_requirement(&wanted)
        .map_err(|errors| ApiError::Validation(errors.into_iter().map(Into::into).collect()))?;
    let (view, created) = state
        .tx(user, ctx, move |ctx, c| {
            app::set_requirement(ctx, c, &region, if_match.0, &body)
        })
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    response.insert_header(etag(view.version.unwrap_or(1)));
    Ok(response.json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_requirements)
        .service(get_requirement)
        .service(set_requirement)
        .service(list_compliance)
        .service(get_compliance)
        .service(list_credits);
}
