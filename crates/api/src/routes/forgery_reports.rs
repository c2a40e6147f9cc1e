//! Reports of forged or fake certificates (CRT-7, seed 000 §6(3)5: 伪造或使用假证…
//! 记入行业不良行为记录，并向社会公示).
//!
//! - `POST /forgery-reports` (training officer, training head, admin): a
//!   report names the person and/or the organisation that forged or used the
//!   fake certificate, the number it claimed (if any), what happened and the
//!   evidence. In one transaction it lists an entry in the public misconduct
//!   register (offence `certificate_forgery`, listed from today, no end) and
//!   keeps the report with the evidence for the association.
//! - The register entry is public on `GET /public/misconduct`: the person's
//!   name partly masked, the organisation's name, the offence and the claimed
//!   number — never an ID number. The report itself (unmasked names,
//!   description, evidence) is read by association staff and the authority only.
//!
//! The entry is recorded against exactly whom the report names: a person
//! reported alone is listed without their employer, so an organisation is
//! never listed publicly for a forgery nobody reported it for.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use guild_domain::certificate_request::{
    FORGERY_READERS, FORGERY_REPORTERS, check_forgery_subject, forgery_summary,
};
use guild_domain::discipline::{RegisterEntryStatus, RegisterOffence};
use guild_domain::{Role, local_date};
use guild_store::DbConn;
use guild_store::forgery_reports::{ForgeryFilter, ForgeryReportRow};
use guild_store::sanctions::MisconductEntryRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, validate};
use crate::openapi::{CreateErrors, ListErrors, ReadErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Who reads forgery reports: [`FORGERY_READERS`] and the authority (read-only everything, SPEC §1).
fn readers() -> Vec<Role> {
    let mut roles = FORGERY_READERS.to_vec();
    roles.push(Role::Authority);
    roles
}

/// A report of a forged or fake certificate (CRT-7).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForgeryReportView {
    /// The report id.
    pub id: Uuid,
    /// The person who forged or used the fake certificate.
    pub person_id: Option<Uuid>,
    /// The person's name (in full: the report is internal).
    pub person_name: Option<String>,
    /// The organisation that forged or used it.
    pub organisation_id: Option<Uuid>,
    /// The organisation's name.
    pub organisation_name: Option<String>,
    /// The certificate number the fake claimed, if any.
    pub claimed_number: Option<String>,
    /// A genuine certificate that was copied or altered, if any.
    pub certificate_id: Option<Uuid>,
    /// What happened.
    pub description: String,
    /// Where the evidence is kept (file number, photo reference, ...).
    pub evidence_reference: String,
    /// The entry listed in the public misconduct register.
    pub misconduct_entry_id: Uuid,
    /// Who reported it.
    pub reported_by: Uuid,
    /// When.
    pub reported_at: DateTime<Utc>,
}

impl ForgeryReportView {
    fn of(conn: &mut DbConn, r: ForgeryReportRow) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("forgery_reports", v);
        let opt = |v: &Option<String>| v.as_deref().map(id).transpose();
        let person_name = match &r.person_id {
            Some(p) => guild_store::people::find(conn, p)?.map(|p| p.name),
            None => None,
        };
        let organisation_name = match &r.organisation_id {
            Some(o) => guild_store::organisations::find(conn, o)?.map(|o| o.name),
            None => None,
        };
        Ok(ForgeryReportView {
            id: id(&r.id)?,
            person_id: opt(&r.person_id)?,
            person_name,
            organisation_id: opt(&r.organisation_id)?,
            organisation_name,
            claimed_number: r.claimed_number,
            certificate_id: opt(&r.certificate_id)?,
            description: r.description,
            evidence_reference: r.evidence_reference,
            misconduct_entry_id: id(&r.misconduct_entry_id)?,
            reported_by: id(&r.reported_by)?,
            reported_at: r.reported_at.and_utc(),
        })
    }
}

/// A new forgery report (CRT-7).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "claimed_number": "GA2025009999", "description": "Showed a printed certificate with a number the association never issued at a site inspection", "evidence_reference": "Inspection report 2026-041, photos 1-3"}))]
pub struct CreateForgeryReport {
    /// The person who forged or used the fake certificate (this and/or `organisation_id`).
    pub person_id: Option<Uuid>,
    /// The organisation that forged or used it (this and/or `person_id`).
    pub organisation_id: Option<Uuid>,
    /// The certificate number the fake claimed.
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub claimed_number: Option<String>,
    /// A genuine certificate that was copied or altered.
    pub certificate_id: Option<Uuid>,
    /// What happened.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub description: String,
    /// Where the evidence is kept.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub evidence_reference: String,
}

/// Filters for the report list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ForgeryReportQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only reports about this person.
    pub person_id: Option<Uuid>,
    /// Only reports about this organisation.
    pub organisation_id: Option<Uuid>,
}

fn required(field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        Err(ApiError::field(
            field,
            "required",
            format!("{field} must not be blank"),
        ))
    } else {
        Ok(v.to_owned())
    }
}

/// Records a report and its register entry in one transaction (CRT-7). The
/// named person, organisation and certificate must exist (422
/// `unknown_person` / `unknown_organisation` / `unknown_certificate`).
fn report_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    body: CreateForgeryReport,
    tz: chrono_tz::Tz,
) -> ApiResult<ForgeryReportView> {
    let person_id = body.person_id.map(|p| p.to_string());
    let organisation_id = body.organisation_id.map(|o| o.to_string());
    let certificate_id = body.certificate_id.map(|c| c.to_string());
    if let Some(p) = &person_id
        && guild_store::people::find(conn, p)?.is_none()
    {
        return Err(ApiError::field(
            "person_id",
            "unknown_person",
            "no person has this id",
        ));
    }
    if let Some(o) = &organisation_id
        && guild_store::organisations::find(conn, o)?.is_none()
    {
        return Err(ApiError::field(
            "organisation_id",
            "unknown_organisation",
            "no organisation has this id",
        ));
    }
    if let Some(c) = &certificate_id
        && guild_store::certificates::find(conn, c)?.is_none()
    {
        return Err(ApiError::field(
            "certificate_id",
            "unknown_certificate",
            "no certificate has this id",
        ));
    }
    let claimed_number = body
        .claimed_number
        .as_deref()
        .map(|n| required("claimed_number", n))
        .transpose()?;
    let at = actor.at.naive_utc();
    let entry = MisconductEntryRow {
        id: Uuid::now_v7().to_string(),
        person_id: person_id.clone(),
        organisation_id: organisation_id.clone(),
        offence: RegisterOffence::CertificateForgery.as_str().to_owned(),
        sanction_summary: forgery_summary(claimed_number.as_deref()),
        starts_on: local_date(actor.at, tz),
        ends_on: None,
        sanction_id: None,
        status: RegisterEntryStatus::Listed.as_str().to_owned(),
        withdrawal_reason: None,
        withdrawn_at: None,
        published_at: at,
    };
    guild_store::sanctions::insert_misconduct_entry(conn, &entry)?;
    let row = ForgeryReportRow {
        id: Uuid::now_v7().to_string(),
        person_id,
        organisation_id,
        claimed_number,
        certificate_id,
        description: required("description", &body.description)?,
        evidence_reference: required("evidence_reference", &body.evidence_reference)?,
        misconduct_entry_id: entry.id.clone(),
        reported_by: user.id.clone(),
        reported_at: at,
    };
    guild_store::forgery_reports::insert(conn, &row)?;
    let view = ForgeryReportView::of(conn, row)?;
    let id = view.id.to_string();
    // Kept out of the organisation's own audit view: the evidence is internal
    // (the public sees the register entry).
    audit::record::<(), _>(
        conn,
        actor,
        Change {
            action: "forgery_report.create",
            entity_type: "forgery_report",
            entity_id: &id,
            organisation_id: None,
            before: None,
            after: Some(&view),
        },
    )?;
    Ok(view)
}

/// Report a forged or fake certificate (CRT-7: training officer, training
/// head or admin). Name the person and/or the organisation
/// (`forgery_subject_required`); the case is listed at once in the public
/// misconduct register (`GET /public/misconduct`, offence
/// `certificate_forgery`) with the person's name partly masked and the
/// organisation's name.
#[utoipa::path(
    operation_id = "create_forgery_report",
    tag = "certificate-requests",
    request_body = CreateForgeryReport,
    responses((status = 201, description = "Recorded and listed in the misconduct register", body = ForgeryReportView), CreateErrors)
)]
#[post("/forgery-reports")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateForgeryReport>,
) -> ApiResult<HttpResponse> {
    user.require(FORGERY_REPORTERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    check_forgery_subject(body.person_id.is_some(), body.organisation_id.is_some())?;
    required("description", &body.description)?;
    required("evidence_reference", &body.evidence_reference)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| report_in_tx(c, &Actor::new(&user, &ctx, now), &user, body, tz))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/forgery-reports/{}", view.id)))
        .json(view))
}

/// List forgery reports, oldest first (association staff and the authority).
#[utoipa::path(
    operation_id = "list_forgery_reports",
    tag = "certificate-requests",
    params(ForgeryReportQuery),
    responses((status = 200, description = "OK", body = Paged<ForgeryReportView>), ListErrors)
)]
#[get("/forgery-reports")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ForgeryReportQuery>,
) -> ApiResult<HttpResponse> {
    user.require(&readers())?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ForgeryFilter {
        person_id: q.person_id.map(|v| v.to_string()),
        organisation_id: q.organisation_id.map(|v| v.to_string()),
    };
    let paged = state
        .run(move |s| {
            s.store.read(|c| {
                let rows = guild_store::forgery_reports::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?;
                Paged::try_from_page(rows, |r| ForgeryReportView::of(c, r))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Read one forgery report (association staff and the authority).
#[utoipa::path(
    operation_id = "get_forgery_report",
    tag = "certificate-requests",
    params(("id" = Uuid, Path, description = "Forgery report id")),
    responses((status = 200, description = "OK", body = ForgeryReportView), ReadErrors)
)]
#[get("/forgery-reports/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(&readers())?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = guild_store::forgery_reports::find(c, &id)?
                    .ok_or_else(|| ApiError::not_found("forgery report"))?;
                ForgeryReportView::of(c, row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(get);
}
