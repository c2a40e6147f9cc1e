//! The CE register's read side and the yearly requirement (CED-1, CED-2,
//! CED-5).
//!
//! - `GET /ce/requirements`, `GET|PUT /ce/requirements/{region}` (CED-2): the
//!   yearly thresholds per region. A region without its own row uses the
//!   defaults 60 / 10 / 40 and an exam-based minimum of 0 (seed 004 art. 20
//!   names no number for the exam part; see
//!   [`guild_domain::ce_compliance`]). Association staff and the authority
//!   read them; the authority and the admin set them (audited, versioned,
//!   `If-Match`).
//! - `GET /ce/compliance/{person_id}?year=` (CED-5): one person's year —
//!   total, public, professional and exam-based credits, hours and fees, the
//!   requirement applied, whether it is met and what is missing per category,
//!   and the obligation (CED-1: none without a skill certificate date, not
//!   yet in the certificate year). It reads the yearly roll-up
//!   `ce_person_years` (primary-key lookups only), never the credits, so it
//!   stays fast however many credits exist. The person themself (their
//!   trainee account), their current organisation, association staff and the
//!   authority see it; anyone else gets 404 (ACC-2).
//! - `GET /ce/compliance?year=&behind=true` (CED-5): an organisation's current
//!   staff, each with their year, optionally only those behind — under
//!   obligation and not meeting the requirement, staff without a single
//!   credit that year included (they are the furthest behind).
//! - `GET /ce/credits` (CED-5): the register. A trainee sees their own
//!   credits; an organisation its current staff's and those of activities it
//!   recorded itself; a provider those of its own activities; association
//!   staff and the authority all.
//!
//! The requirement that applies to a person's year is that of the region the
//! year's credits were recorded under (the person's organisation's region at
//! the time, see `routes::ce_credits`), else their current organisation's
//! region, else the defaults. The year is a calendar year; `year` defaults to
//! the current one in the association's time zone.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::ce::SubjectCategory;
use guild_domain::ce_compliance::{
    Missing, Obligation, ObligationStatus, Requirement, Tally, check_requirement, obligation,
    standing,
};
use guild_domain::{Fen, Role, local_date};
use guild_store::DbConn;
use guild_store::ce_credits::{CeCreditRow, CePersonYearRow, CreditFilter};
use guild_store::ce_requirements::CeRequirementRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Owner, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ListErrors, ReadErrors, UpdateErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::ce::activities::evidence_of;

/// Who reads the requirements: association staff and the authority.
pub const REQUIREMENT_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
];

/// Who sets a region's requirement (CED-2): the authority and the admin.
pub const REQUIREMENT_WRITERS: &[Role] = &[Role::Admin, Role::Authority];

/// Who reads compliance (CED-5): association staff, the authority,
/// organisations (their staff) and trainees (themselves).
pub const COMPLIANCE_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
];

/// Who reads credit records (CED-5): the compliance readers and providers
/// (the credits of their own activities).
pub const CREDIT_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
    Role::Provider,
];

pub use guild_app::ce::{YEAR_MAX, YEAR_MIN};
/// The longest region name.
pub const REGION_MAX: usize = 100;

/// Checks a `year` query value, or takes the current year in the
/// association's time zone.
pub fn year_or_current(year: Option<i32>, now: DateTime<Utc>, tz: chrono_tz::Tz) -> ApiResult<i32> {
    match year {
        None => Ok(local_date(now, tz).year()),
        Some(y) if (YEAR_MIN..=YEAR_MAX).contains(&y) => Ok(y),
        Some(_) => Err(ApiError::field(
            "year",
            "out_of_range",
            format!("a calendar year from {YEAR_MIN} to {YEAR_MAX}"),
        )),
    }
}

/// A yearly requirement (CED-2): a region's own, or the defaults.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequirementView {
    /// The region; `null` for the defaults themselves.
    pub region: Option<String>,
    /// Whether these are the defaults (the region has no requirement of its own).
    pub is_default: bool,
    /// Credits needed in the year, all categories together.
    pub total_credits: i32,
    /// Credits needed in public subjects.
    pub public_credits: i32,
    /// Credits needed in professional subjects.
    pub professional_credits: i32,
    /// Professional credits needed from subject exams (part of `professional_credits`).
    pub exam_credits: i32,
    /// Optimistic-concurrency version of the region's own row (API-5); `null` for defaults.
    pub version: Option<i32>,
    /// Who last set it; `null` for defaults.
    pub updated_by: Option<Uuid>,
    /// When it was last set; `null` for defaults.
    pub updated_at: Option<DateTime<Utc>>,
}

impl RequirementView {
    fn defaults(region: Option<String>) -> Self {
        let d = Requirement::DEFAULT;
        RequirementView {
            region,
            is_default: true,
            total_credits: d.total,
            public_credits: d.public,
            professional_credits: d.professional,
            exam_credits: d.exam,
            version: None,
            updated_by: None,
            updated_at: None,
        }
    }

    fn of(r: &CeRequirementRow) -> ApiResult<Self> {
        Ok(RequirementView {
            region: Some(r.region.clone()),
            is_default: false,
            total_credits: r.total_credits,
            public_credits: r.public_credits,
            professional_credits: r.professional_credits,
            exam_credits: r.exam_credits,
            version: Some(r.version),
            updated_by: Some(stored_uuid("ce_requirements", &r.updated_by)?),
            updated_at: Some(r.updated_at.and_utc()),
        })
    }

    fn requirement(&self) -> Requirement {
        Requirement {
            total: self.total_credits,
            public: self.public_credits,
            professional: self.professional_credits,
            exam: self.exam_credits,
        }
    }
}

/// The defaults and every region with its own requirement (CED-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequirementList {
    /// What a region without its own requirement uses.
    pub defaults: RequirementView,
    /// The regions with their own requirement, by name (one row per region;
    /// the list is as long as there are regions, so it is not paged).
    pub regions: Vec<RequirementView>,
}

/// A region's yearly requirement (CED-2). Every threshold is required; the
/// exam-based credits are part of the professional ones, and public plus
/// professional may not exceed the total.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"total_credits": 60, "public_credits": 10, "professional_credits": 40, "exam_credits": 10}))]
pub struct SetRequirement {
    /// Credits needed in the year, all categories together.
    #[validate(range(min = 0, max = 600))]
    #[schema(minimum = 0, maximum = 600)]
    pub total_credits: i32,
    /// Credits needed in public subjects.
    #[validate(range(min = 0, max = 600))]
    #[schema(minimum = 0, maximum = 600)]
    pub public_credits: i32,
    /// Credits needed in professional subjects.
    #[validate(range(min = 0, max = 600))]
    #[schema(minimum = 0, maximum = 600)]
    pub professional_credits: i32,
    /// Professional credits needed from subject exams.
    #[validate(range(min = 0, max = 600))]
    #[schema(minimum = 0, maximum = 600)]
    pub exam_credits: i32,
}

/// Credits of a year by category.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct CreditTotals {
    /// All credits.
    pub total: i32,
    /// Public-subject credits.
    pub public: i32,
    /// Professional-subject credits.
    pub professional: i32,
    /// Professional credits earned by passing a subject exam.
    pub exam: i32,
}

/// What is still missing per category; 0 where the category is met.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct MissingCredits {
    /// Credits short of the yearly total.
    pub total: i32,
    /// Public credits short of the public minimum.
    pub public: i32,
    /// Professional credits short of the professional minimum.
    pub professional: i32,
    /// Exam-based professional credits short of the exam minimum.
    pub exam: i32,
}

impl From<Missing> for MissingCredits {
    fn from(m: Missing) -> Self {
        MissingCredits {
            total: m.total,
            public: m.public,
            professional: m.professional,
            exam: m.exam,
        }
    }
}

/// Whether the requirement applied to the person that year (CED-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObligationView {
    /// `no_certificate` (no skill certificate date on file: not under
    /// obligation), `not_yet_required` (the certificate year or earlier) or
    /// `required`.
    pub status: ObligationStatus,
    /// The first year the requirement applies: the year after the certificate year.
    pub first_year: Option<i32>,
    /// The skill certificate's issue date on the person record (PPL-1).
    pub certificate_issued_on: Option<NaiveDate>,
}

/// A person's CE year (CED-5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplianceView {
    /// The person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The person's current organisation.
    pub organisation_id: Option<Uuid>,
    /// The person's occupation (工种).
    pub occupation: Option<String>,
    /// The calendar year.
    pub year: i32,
    /// The year's credits by category.
    pub credits: CreditTotals,
    /// The year's hours.
    pub hours: i32,
    /// The year's fees, in fen.
    pub fee_fen: Fen,
    /// How many credit records the year holds.
    pub records: i32,
    /// The requirement applied (the region's own or the defaults).
    pub requirement: RequirementView,
    /// Whether the credits meet the requirement.
    pub met: bool,
    /// What is missing per category.
    pub missing: MissingCredits,
    /// The fewest further credits that would close every shortfall.
    pub credits_needed: i32,
    /// Whether the requirement applies that year (CED-1).
    pub obligation: ObligationView,
    /// Under obligation and not met: behind for the year.
    pub behind: bool,
    /// Whether the year is over (in the association's time zone); `met` of a
    /// running year tells how far the person got so far.
    pub year_over: bool,
}

/// What a compliance answer needs of a person.
struct PersonFacts<'a> {
    person_id: &'a str,
    name: String,
    organisation_id: Option<&'a str>,
    occupation: Option<String>,
    certificate_issued_on: Option<NaiveDate>,
}

/// The requirement of `region` from the regions' own rows, else the defaults.
fn requirement_of(
    regions: &HashMap<String, CeRequirementRow>,
    region: Option<&str>,
) -> ApiResult<RequirementView> {
    match region.and_then(|r| regions.get(r)) {
        Some(row) => RequirementView::of(row),
        None => Ok(RequirementView::defaults(region.map(str::to_owned))),
    }
}

fn compliance_view(
    person: PersonFacts<'_>,
    year: i32,
    year_row: Option<&CePersonYearRow>,
    requirement: RequirementView,
    current_year: i32,
) -> ApiResult<ComplianceView> {
    let tally = year_row.map_or(Tally::default(), |r| Tally {
        total: r.total_credits,
        public: r.public_credits,
        professional: r.professional_credits,
        exam: r.exam_credits,
    });
    let ob: Obligation = obligation(person.certificate_issued_on, year);
    let s = standing(&requirement.requirement(), &tally, &ob);
    Ok(ComplianceView {
        person_id: stored_uuid("people", person.person_id)?,
        person_name: person.name,
        organisation_id: person
            .organisation_id
            .map(|o| stored_uuid("people", o))
            .transpose()?,
        occupation: person.occupation,
        year,
        credits: CreditTotals {
            total: tally.total,
            public: tally.public,
            professional: tally.professional,
            exam: tally.exam,
        },
        hours: year_row.map_or(0, |r| r.hours),
        fee_fen: Fen::from_stored(year_row.map_or(0, |r| r.fee_fen)),
        records: year_row.map_or(0, |r| r.records),
        requirement,
        met: s.met,
        missing: s.missing.into(),
        credits_needed: s.missing.credits_needed(),
        obligation: ObligationView {
            status: ob.status,
            first_year: ob.first_year,
            certificate_issued_on: person.certificate_issued_on,
        },
        behind: s.behind,
        year_over: year < current_year,
    })
}

fn person_compliance(
    conn: &mut DbConn,
    caller: &AuthUser,
    person_id: &str,
    year: i32,
    current_year: i32,
) -> ApiResult<ComplianceView> {
    let person = guild_store::people::find(conn, person_id)?
        // CED-5, ACC-2: themself, their organisation, association staff and the authority.
        .filter(|p| {
            caller.sees(&Owner::of_person(
                access::id(&p.id),
                access::opt_id(p.organisation_id.as_deref()),
            ))
        })
        .ok_or_else(|| ApiError::not_found("person"))?;
    let year_row = guild_store::ce_credits::find_person_year(conn, &person.id, year)?;
    let region = match year_row.as_ref().and_then(|r| r.region.clone()) {
        Some(r) => Some(r),
        None => match person.organisation_id.as_deref() {
            Some(org) => guild_store::organisations::find(conn, org)?.and_then(|o| o.region),
            None => None,
        },
    };
    let requirement = match region.as_deref() {
        Some(r) => match guild_store::ce_requirements::find(conn, r)? {
            Some(row) => RequirementView::of(&row)?,
            None => RequirementView::defaults(Some(r.to_owned())),
        },
        None => RequirementView::defaults(None),
    };
    compliance_view(
        PersonFacts {
            person_id: &person.id,
            name: person.name.clone(),
            organisation_id: person.organisation_id.as_deref(),
            occupation: person.occupation.clone(),
            certificate_issued_on: person.skill_certificate_issued_on,
        },
        year,
        year_row.as_ref(),
        requirement,
        current_year,
    )
}

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
    let person_id = person_id.into_inner().to_string();
    let q = q.into_inner();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            let year = year_or_current(q.year, now, tz)?;
            let current = local_date(now, tz).year();
            s.store
                .read(|c| person_compliance(c, &user, &person_id, year, current))
        })
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

/// How many staff are read per batch while filtering the behind.
const STAFF_BATCH: i64 = 200;

fn staff_compliance(
    conn: &mut DbConn,
    organisation_id: &str,
    year: i32,
    behind_only: bool,
    after: Option<String>,
    limit: i64,
    current_year: i32,
) -> ApiResult<guild_store::Page<ComplianceView>> {
    let want = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    let Some(org) = guild_store::organisations::find(conn, organisation_id)? else {
        return Ok(guild_store::page_of(
            Vec::new(),
            limit,
            |_: &ComplianceView| String::new(),
        ));
    };
    let regions = guild_store::ce_requirements::by_region(conn)?;
    let mut out: Vec<ComplianceView> = Vec::new();
    let mut after = after;
    loop {
        let batch = guild_store::ce_credits::staff_years(
            conn,
            organisation_id,
            year,
            after.as_deref(),
            STAFF_BATCH,
        )?;
        let done = i64::try_from(batch.len()).unwrap_or(0) < STAFF_BATCH;
        after = batch.last().map(|s| s.person_id.clone());
        for s in batch {
            let region = s
                .year_row
                .as_ref()
                .and_then(|r| r.region.as_deref())
                .or(org.region.as_deref());
            let requirement = requirement_of(&regions, region)?;
            let view = compliance_view(
                PersonFacts {
                    person_id: &s.person_id,
                    name: s.name,
                    organisation_id: Some(organisation_id),
                    occupation: s.occupation,
                    certificate_issued_on: s.skill_certificate_issued_on,
                },
                year,
                s.year_row.as_ref(),
                requirement,
                current_year,
            )?;
            if !behind_only || view.behind {
                out.push(view);
                if out.len() >= want {
                    break;
                }
            }
        }
        if done || out.len() >= want {
            break;
        }
    }
    Ok(guild_store::page_of(out, limit, |v| {
        v.person_id.to_string()
    }))
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
    user.require(COMPLIANCE_READERS)?;
    if user.role == Role::Trainee {
        return Err(ApiError::forbidden());
    }
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let wanted = q.organisation_id.map(|o| o.to_string());
    let organisation = match user.scope() {
        Scope::All => Some(wanted.ok_or_else(|| {
            ApiError::field(
                "organisation_id",
                "required",
                "name the organisation whose staff to list",
            )
        })?),
        Scope::Organisation(own) => {
            let own = own.to_string();
            match wanted {
                Some(w) if w != own => None,
                _ => Some(own),
            }
        }
        Scope::Provider(_) | Scope::Person(_) | Scope::Teacher(_) | Scope::Nothing => None,
    };
    let behind_only = q.behind.unwrap_or(false);
    let rows = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            let year = year_or_current(q.year, now, tz)?;
            let current = local_date(now, tz).year();
            s.store.read(|c| match organisation.as_deref() {
                Some(org) if !org.is_empty() => {
                    staff_compliance(c, org, year, behind_only, page.after, page.limit, current)
                }
                _ => Ok(guild_store::page_of(
                    Vec::new(),
                    page.limit,
                    |_: &ComplianceView| String::new(),
                )),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |v| v)))
}

/// One credit record of the register (CED-3, CED-5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditRecordView {
    /// The credit record id.
    pub id: Uuid,
    /// The activity it was earned in.
    pub activity_id: Uuid,
    /// The person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The calendar year it counts for.
    pub year: i32,
    /// When it was earned.
    pub earned_on: NaiveDate,
    /// The activity's source (online course, workshop, ...).
    pub source: String,
    /// `public` or `professional`.
    pub subject_category: SubjectCategory,
    /// The credits.
    pub credits: i32,
    /// The hours.
    pub hours: i32,
    /// The fee, in fen.
    pub fee_fen: Fen,
    /// Whether the credits come from a passed subject exam (CED-2).
    pub exam_based: bool,
    /// The exam score, where there was an exam.
    pub exam_score: Option<i32>,
    /// Whether the exam was passed, where there was one.
    pub exam_passed: Option<bool>,
    /// The provider that ran the activity (`null` for employer-organised CE).
    pub provider_id: Option<Uuid>,
    /// The person's organisation when recorded.
    pub organisation_id: Option<Uuid>,
    /// The person's occupation when recorded.
    pub occupation: Option<String>,
    /// The region the credit counts in.
    pub region: Option<String>,
    /// Evidence references (photos, videos).
    pub evidence: Vec<String>,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

impl CreditRecordView {
    fn of(c: CeCreditRow, person_name: String) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("ce_credits", v);
        let opt = |v: &Option<String>| v.as_deref().map(id).transpose();
        Ok(CreditRecordView {
            id: id(&c.id)?,
            activity_id: id(&c.activity_id)?,
            person_id: id(&c.person_id)?,
            person_name,
            year: c.year,
            earned_on: c.earned_on,
            subject_category: parse_stored("ce_credits", &c.subject_category)?,
            source: c.source,
            credits: c.credits,
            hours: c.hours,
            fee_fen: Fen::from_stored(c.fee_fen),
            exam_based: c.exam_based,
            exam_score: c.exam_score,
            exam_passed: c.exam_passed,
            provider_id: opt(&c.provider_id)?,
            organisation_id: opt(&c.organisation_id)?,
            occupation: c.occupation,
            region: c.region,
            evidence: evidence_of("ce_credits", &c.evidence_json)?,
            recorded_by: id(&c.recorded_by)?,
            recorded_at: c.recorded_at.and_utc(),
        })
    }
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
    if let Some(y) = q.year
        && !(YEAR_MIN..=YEAR_MAX).contains(&y)
    {
        return Err(ApiError::field(
            "year",
            "out_of_range",
            format!("a calendar year from {YEAR_MIN} to {YEAR_MAX}"),
        ));
    }
    let mut filter = CreditFilter {
        person_id: q.person_id.map(|v| v.to_string()),
        year: q.year,
        activity_id: q.activity_id.map(|v| v.to_string()),
        provider_id: q.provider_id.map(|v| v.to_string()),
        subject_category: q.subject_category.map(|v| v.as_str().to_owned()),
        ..CreditFilter::default()
    };
    match user.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Provider(o) => filter.only_activities_of = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Teacher(_) | Scope::Nothing => filter.only_person = Some(access::no_id()),
    }
    let paged = state
        .run(move |s| {
            s.store.read(|c| {
                let rows =
                    guild_store::ce_credits::list(c, &filter, page.after.as_deref(), page.limit)?;
                let ids: Vec<String> = rows.items.iter().map(|r| r.person_id.clone()).collect();
                let people = guild_store::ce_activities::people_by_ids(c, &ids)?;
                Paged::try_from_page(rows, |r| {
                    let name = people
                        .get(&r.person_id)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    CreditRecordView::of(r, name)
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
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
    let list = state
        .run(move |s| {
            s.store.read(|c| {
                let regions = guild_store::ce_requirements::list(c)?
                    .iter()
                    .map(RequirementView::of)
                    .collect::<ApiResult<Vec<_>>>()?;
                Ok::<_, ApiError>(RequirementList {
                    defaults: RequirementView::defaults(None),
                    regions,
                })
            })
        })
        .await?;
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
        .run(move |s| {
            s.store
                .read(|c| match guild_store::ce_requirements::find(c, &region)? {
                    Some(row) => RequirementView::of(&row),
                    None => Ok(RequirementView::defaults(Some(region.clone()))),
                })
        })
        .await?;
    let mut response = HttpResponse::Ok();
    if let Some(v) = view.version {
        response.insert_header(etag(v));
    }
    Ok(response.json(view))
}

fn set_requirement_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    region: &str,
    body: &SetRequirement,
    if_match: IfMatch,
) -> ApiResult<(RequirementView, bool)> {
    let at = actor.at.naive_utc();
    let by = actor.user.map(|u| u.id.clone()).unwrap_or_default();
    let existing = guild_store::ce_requirements::find(conn, region)?;
    let (before, row, created) = match existing {
        Some(mut row) => {
            if_match.check(row.version)?;
            let before = RequirementView::of(&row)?;
            row.total_credits = body.total_credits;
            row.public_credits = body.public_credits;
            row.professional_credits = body.professional_credits;
            row.exam_credits = body.exam_credits;
            row.updated_by = by;
            guild_store::ce_requirements::update(conn, &mut row, at)?;
            (before, row, false)
        }
        None => {
            if if_match.0.is_some() {
                return Err(ApiError::version_mismatch());
            }
            let before = RequirementView::defaults(Some(region.to_owned()));
            let row = CeRequirementRow {
                region: region.to_owned(),
                total_credits: body.total_credits,
                public_credits: body.public_credits,
                professional_credits: body.professional_credits,
                exam_credits: body.exam_credits,
                version: 1,
                updated_by: by,
                updated_at: at,
            };
            guild_store::ce_requirements::insert(conn, &row).map_err(|e| {
                if e.is_unique_violation() {
                    ApiError::version_mismatch()
                } else {
                    e.into()
                }
            })?;
            (before, row, true)
        }
    };
    let after = RequirementView::of(&row)?;
    audit::record(
        conn,
        actor,
        Change {
            action: "ce_requirement.set",
            entity_type: "ce_requirement",
            entity_id: region,
            organisation_id: None,
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok((after, created))
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
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                set_requirement_in_tx(c, &Actor::new(&user, &ctx, now), &region, &body, if_match)
            })
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
