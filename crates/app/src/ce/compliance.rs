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
//! the time, see `app::ce::credits`), else their current organisation's
//! region, else the defaults. The year is a calendar year; `year` defaults to
//! the current one in the association's time zone.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::Fen;
use guild_domain::access::{Owner, Scope};
use guild_domain::ce::SubjectCategory;
use guild_domain::ce_compliance::{
    Missing, Obligation, ObligationStatus, Requirement, Tally, obligation, standing,
};
use guild_store::DbConn;
use guild_store::ce_credits::{CeCreditRow, CePersonYearRow, CreditFilter};
use guild_store::ce_requirements::CeRequirementRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::access::{id, no_id, opt_id};
use crate::ce::activities::evidence_of;
use crate::ce::{check_year, year_or_current};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::inputs::check_version;
use crate::{Page, PageRequest};

/// A yearly requirement (CED-2): a region's own, or the defaults.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The defaults, as used by `region` (or as such).
    pub fn defaults(region: Option<String>) -> Self {
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

    /// The record of a region's own requirement.
    pub fn of(r: &CeRequirementRow) -> AppResult<Self> {
        Ok(RequirementView {
            region: Some(r.region.clone()),
            is_default: false,
            total_credits: r.total_credits,
            public_credits: r.public_credits,
            professional_credits: r.professional_credits,
            exam_credits: r.exam_credits,
            version: Some(r.version),
            updated_by: Some(stored_id("ce_requirements", &r.updated_by)?),
            updated_at: Some(r.updated_at.and_utc()),
        })
    }

    /// The thresholds as the domain rule takes them.
    pub fn requirement(&self) -> Requirement {
        Requirement {
            total: self.total_credits,
            public: self.public_credits,
            professional: self.professional_credits,
            exam: self.exam_credits,
        }
    }
}

/// The defaults and every region with its own requirement (CED-2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"total_credits": 60, "public_credits": 10, "professional_credits": 40, "exam_credits": 10})))]
pub struct SetRequirement {
    /// Credits needed in the year, all categories together.
    #[validate(range(min = 0, max = 600))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 600))]
    pub total_credits: i32,
    /// Credits needed in public subjects.
    #[validate(range(min = 0, max = 600))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 600))]
    pub public_credits: i32,
    /// Credits needed in professional subjects.
    #[validate(range(min = 0, max = 600))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 600))]
    pub professional_credits: i32,
    /// Professional credits needed from subject exams.
    #[validate(range(min = 0, max = 600))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 600))]
    pub exam_credits: i32,
}

/// Credits of a year by category.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
) -> AppResult<RequirementView> {
    match region.and_then(|r| regions.get(r)) {
        Some(row) => RequirementView::of(row),
        None => Ok(RequirementView::defaults(region.map(str::to_owned))),
    }
}

/// A person's year against its requirement (CED-1, CED-2, CED-5).
fn compliance_view(
    person: PersonFacts<'_>,
    year: i32,
    year_row: Option<&CePersonYearRow>,
    requirement: RequirementView,
    current_year: i32,
) -> AppResult<ComplianceView> {
    let tally = year_row.map_or(Tally::default(), |r| Tally {
        total: r.total_credits,
        public: r.public_credits,
        professional: r.professional_credits,
        exam: r.exam_credits,
    });
    let ob: Obligation = obligation(person.certificate_issued_on, year);
    let s = standing(&requirement.requirement(), &tally, &ob);
    Ok(ComplianceView {
        person_id: stored_id("people", person.person_id)?,
        person_name: person.name,
        organisation_id: stored_opt("people", person.organisation_id)?,
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

/// One credit record of the register (CED-3, CED-5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The record of a stored credit of the person named `person_name`.
    fn of(c: CeCreditRow, person_name: String) -> AppResult<Self> {
        const T: &str = "ce_credits";
        Ok(CreditRecordView {
            id: stored_id(T, &c.id)?,
            activity_id: stored_id(T, &c.activity_id)?,
            person_id: stored_id(T, &c.person_id)?,
            person_name,
            year: c.year,
            earned_on: c.earned_on,
            subject_category: stored(T, &c.subject_category)?,
            source: c.source,
            credits: c.credits,
            hours: c.hours,
            fee_fen: Fen::from_stored(c.fee_fen),
            exam_based: c.exam_based,
            exam_score: c.exam_score,
            exam_passed: c.exam_passed,
            provider_id: stored_opt(T, c.provider_id.as_deref())?,
            organisation_id: stored_opt(T, c.organisation_id.as_deref())?,
            occupation: c.occupation,
            region: c.region,
            evidence: evidence_of(T, &c.evidence_json)?,
            recorded_by: stored_id(T, &c.recorded_by)?,
            recorded_at: c.recorded_at.and_utc(),
        })
    }
}

/// One person's CE year (CED-5): `year` (default the current one). The
/// person themself, their organisation, association staff and the
/// authority; 404 for anyone else (ACC-2).
pub fn person(
    ctx: &Ctx,
    conn: &mut DbConn,
    person_id: Uuid,
    year: Option<i32>,
) -> AppResult<ComplianceView> {
    let year = year_or_current(ctx, year)?;
    let caller = ctx.caller()?;
    let person = guild_store::people::find(conn, &person_id.to_string())?
        .filter(|p| {
            caller.sees(&Owner::of_person(
                id(&p.id),
                opt_id(p.organisation_id.as_deref()),
            ))
        })
        .ok_or(AppError::NotFound("person"))?;
    person_year(conn, &person, year, ctx.today().year())
}

/// One person's CE year (CED-1, CED-2, CED-5) without a visibility check:
/// for [`person`] after its check, and for the scheduler's CE reminder
/// (CED-2), which runs for no caller. `current_year` is this year in the
/// association's time zone.
pub fn person_year(
    conn: &mut DbConn,
    person: &guild_store::people::PersonRow,
    year: i32,
    current_year: i32,
) -> AppResult<ComplianceView> {
    let year_row = guild_store::ce_credits::find_person_year(conn, &person.id, year)?;
    let region = match year_row.as_ref().and_then(|r| r.region.clone()) {
        Some(r) => Some(r),
        None => match person.organisation_id.as_deref() {
            Some(org) => guild_store::organisations::find(conn, org)?.and_then(|o| o.region),
            None => None,
        },
    };
    let requirement = match region.as_deref() {
        Some(r) => requirement(conn, r)?,
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

/// Filters of an organisation's compliance list.
#[derive(Debug, Clone, Default)]
pub struct ListCompliance {
    /// The calendar year (default the current one).
    pub year: Option<i32>,
    /// Only the staff behind for the year.
    pub behind: bool,
    /// The organisation (required for association staff and the authority).
    pub organisation_id: Option<Uuid>,
}

/// An organisation's staff and their CE year (CED-5), in person-id order.
/// An organisation's accounts see their own current staff (another
/// organisation's id gives an empty list); association staff and the
/// authority name the organisation (422 `required` otherwise).
pub fn staff(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListCompliance,
    page: PageRequest,
) -> AppResult<Page<ComplianceView>> {
    let wanted = q.organisation_id.map(|o| o.to_string());
    let organisation = match ctx.caller()?.scope() {
        Scope::All => Some(wanted.ok_or_else(|| {
            AppError::field(
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
    let year = year_or_current(ctx, q.year)?;
    match organisation.as_deref() {
        Some(org) if !org.is_empty() => staff_compliance(
            conn,
            org,
            year,
            q.behind,
            page.after,
            page.limit,
            ctx.today().year(),
        ),
        _ => Ok(Page::empty()),
    }
}

/// How many staff are read per batch while filtering the behind.
const STAFF_BATCH: i64 = 200;

/// One page of an organisation's staff with their year, the behind only
/// when `behind_only`; read in batches so filtering never loads them all.
fn staff_compliance(
    conn: &mut DbConn,
    organisation_id: &str,
    year: i32,
    behind_only: bool,
    after: Option<String>,
    limit: i64,
    current_year: i32,
) -> AppResult<guild_store::Page<ComplianceView>> {
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

/// Filters of the credit register.
#[derive(Debug, Clone, Default)]
pub struct ListCredits {
    /// Only this person's credits.
    pub person_id: Option<Uuid>,
    /// Only this calendar year's.
    pub year: Option<i32>,
    /// Only this activity's.
    pub activity_id: Option<Uuid>,
    /// Only this provider's activities'.
    pub provider_id: Option<Uuid>,
    /// Only `public` or only `professional` credits.
    pub subject_category: Option<SubjectCategory>,
}

/// The credit register (CED-5), in recording order, confined to what the
/// caller sees (ACC-2). A credit of a missing person is corrupt data.
pub fn credits(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListCredits,
    page: PageRequest,
) -> AppResult<Page<CreditRecordView>> {
    check_year(q.year)?;
    let mut filter = CreditFilter {
        person_id: q.person_id.map(|v| v.to_string()),
        year: q.year,
        activity_id: q.activity_id.map(|v| v.to_string()),
        provider_id: q.provider_id.map(|v| v.to_string()),
        subject_category: q.subject_category.map(|v| v.as_str().to_owned()),
        ..CreditFilter::default()
    };
    match ctx.caller()?.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.only_organisation = Some(o.to_string()),
        Scope::Provider(o) => filter.only_activities_of = Some(o.to_string()),
        Scope::Person(p) => filter.only_person = Some(p.to_string()),
        Scope::Teacher(_) | Scope::Nothing => filter.only_person = Some(no_id()),
    }
    let rows = guild_store::ce_credits::list(conn, &filter, page.after.as_deref(), page.limit)?;
    let ids: Vec<String> = rows.items.iter().map(|r| r.person_id.clone()).collect();
    let people = guild_store::ce_activities::people_by_ids(conn, &ids)?;
    rows.try_map(|r| {
        let name = people
            .get(&r.person_id)
            .map(|p| p.name.clone())
            .ok_or_else(|| {
                AppError::Internal(format!("a credit names the missing person {}", r.person_id))
            })?;
        CreditRecordView::of(r, name)
    })
}

/// The defaults and every region's own requirement (CED-2).
pub fn requirements(conn: &mut DbConn) -> AppResult<RequirementList> {
    let regions = guild_store::ce_requirements::list(conn)?
        .iter()
        .map(RequirementView::of)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(RequirementList {
        defaults: RequirementView::defaults(None),
        regions,
    })
}

/// The requirement of one region: its own, or the defaults it uses.
pub fn requirement(conn: &mut DbConn, region: &str) -> AppResult<RequirementView> {
    match guild_store::ce_requirements::find(conn, region)? {
        Some(row) => RequirementView::of(&row),
        None => Ok(RequirementView::defaults(Some(region.to_owned()))),
    }
}

/// Sets a region's yearly requirement (CED-2; the thresholds were checked
/// to fit together): replaces its own (API-5: a stale `expected` version
/// answers 412) or creates it (`true`; naming a version of a requirement
/// that does not exist yet answers 412).
pub fn set_requirement(
    ctx: &Ctx,
    conn: &mut DbConn,
    region: &str,
    expected: Option<i32>,
    body: &SetRequirement,
) -> AppResult<(RequirementView, bool)> {
    let at = ctx.now.naive_utc();
    let by = ctx.caller()?.id.clone();
    let (before, row, created) = match guild_store::ce_requirements::find(conn, region)? {
        Some(mut row) => {
            check_version(expected, row.version)?;
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
            if expected.is_some() {
                return Err(AppError::Stale);
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
            guild_store::ce_requirements::insert(conn, &row).or_taken(|| AppError::Stale)?;
            (before, row, true)
        }
    };
    let after = RequirementView::of(&row)?;
    ctx.emit(
        conn,
        Event::new(
            ev::CE_REQUIREMENT_SET,
            "ce_requirement",
            region,
            Some(&before),
            Some(&after),
        )?,
    )?;
    Ok((after, created))
}
