//! Continuing-education activities (CED-3, seed 004 art. 15, 16 and 19).
//!
//! - An accredited provider records an activity it ran (any source; a
//!   provider that is only applied, suspended or withdrawn is refused with
//!   `provider_not_active`, CED-4), or an employer — its `org_filler` or
//!   `org_reviewer` — records training it organised for its staff
//!   (`employer_training`, `work_as_training`, `skills_volunteering`,
//!   `other_approved` only: `source_not_for_employers`). Online learning and a
//!   provider's classes and workshops count at once (`registered`); every
//!   other source waits as `pending_registration` until the authority
//!   registers or rejects it: seed 004 art. 16(2) to (5).
//! - The activity's year is the calendar year of `held_on`; its region is the
//!   one given, else the provider's region, else the employer's region.
//! - Providers and employers see their own activities (ACC-2, CED-5),
//!   association staff and the authority all.
//!
//! Credits for an activity are recorded through [`crate::ce::credits`].

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::ce::{
    ActivityAction, ActivityStatus, CeSource, EVIDENCE_REF_MAX, EVIDENCE_REFS_MAX, Recorder,
    SubjectCategory, activity_allowed_actions, activity_transition, check_source_for,
    initial_activity_status,
};
use guild_domain::error::FieldError;
use guild_domain::organisation::{OrgStatus, org_accepts_accounts};
use guild_domain::{Fen, Role};
use guild_store::DbConn;
use guild_store::ce_activities::{ActivityFilter, CeActivityRow};
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ce::providers::recording_provider;
use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, kinds};
use crate::ids::{stored_id, stored_opt};
use crate::{Page, PageRequest};

/// A CE activity (CED-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityView {
    /// The activity id.
    pub id: Uuid,
    /// The provider that ran it; `null` for an employer's own activity.
    pub provider_id: Option<Uuid>,
    /// The organisation that recorded it: the provider's, or the employer.
    pub organisation_id: Uuid,
    /// Where the credits come from.
    pub source: CeSource,
    /// What it was.
    pub title: String,
    /// Public or professional subjects.
    pub subject_category: SubjectCategory,
    /// Credits each participant earns.
    pub credits: i32,
    /// Hours each participant spent.
    pub hours: i32,
    /// The fee each participant paid, in fen (for statistics, CED-6).
    pub fee_fen: Fen,
    /// When it took place (or started).
    pub held_on: NaiveDate,
    /// The calendar year of `held_on`.
    pub year: i32,
    /// Whether it ended with an exam: participants then earn credits only by passing.
    pub has_exam: bool,
    /// The region where it took place.
    pub region: String,
    /// References to its evidence: photos, videos, sign-in sheets (seed 004 art. 19).
    pub evidence: Vec<String>,
    /// Whether credits may be recorded yet.
    pub status: ActivityStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The authority's reason when it refused the activity.
    pub review_reason: Option<String>,
    /// Who at the authority registered or refused it.
    pub reviewed_by: Option<Uuid>,
    /// When.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub created_by: Uuid,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<CeActivityRow> for ActivityView {
    type Error = AppError;
    fn try_from(r: CeActivityRow) -> AppResult<Self> {
        let id = |v: &str| stored_id("ce_activities", v);
        let status: ActivityStatus = stored("ce_activities", &r.status)?;
        Ok(ActivityView {
            id: id(&r.id)?,
            provider_id: stored_opt("ce_activities", r.provider_id.as_deref())?,
            organisation_id: id(&r.organisation_id)?,
            source: stored("ce_activities", &r.source)?,
            title: r.title,
            subject_category: stored("ce_activities", &r.subject_category)?,
            credits: r.credits,
            hours: r.hours,
            fee_fen: Fen::from_stored(r.fee_fen),
            held_on: r.held_on,
            year: r.year,
            has_exam: r.has_exam,
            region: r.region,
            evidence: evidence_of("ce_activities", &r.evidence_json)?,
            status,
            allowed_actions: activity_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            review_reason: r.review_reason,
            reviewed_by: stored_opt("ce_activities", r.reviewed_by.as_deref())?,
            reviewed_at: r.reviewed_at.map(|t| t.and_utc()),
            created_by: id(&r.created_by)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A new activity (CED-3).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "source": "offline_class", "title": "New PE pipe welding techniques", "subject_category": "professional",
    "credits": 12, "hours": 16, "fee_fen": 60000, "held_on": "2026-03-10", "has_exam": true,
    "evidence": ["photos/2026-03-10-class.jpg", "video/2026-03-10.mp4"]
})))]
pub struct CreateActivity {
    /// Where the credits come from; employers record only `employer_training`,
    /// `work_as_training`, `skills_volunteering` and `other_approved`.
    pub source: CeSource,
    /// What it was, 1 to 200 characters.
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Public or professional subjects (seed 004 art. 13).
    pub subject_category: SubjectCategory,
    /// Credits each participant earns, 1 to 200.
    #[validate(range(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 200))]
    pub credits: i32,
    /// Hours each participant spends, 0 to 2000 (default 0).
    #[validate(range(min = 0, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 2000))]
    #[serde(default)]
    pub hours: i32,
    /// The fee each participant pays, in fen (default 0).
    #[serde(default)]
    pub fee_fen: Fen,
    /// When it takes place (or starts); its year is the activity's year.
    pub held_on: NaiveDate,
    /// Whether it ends with an exam (default `false`).
    #[serde(default)]
    pub has_exam: bool,
    /// Where it takes place; defaults to the provider's region, else the employer's.
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub region: Option<String>,
    /// References to its evidence (photos, videos, sign-in sheets), at most 20 of 1 to 500 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub evidence: Vec<String>,
}

/// The filters of the activity list.
#[derive(Debug, Clone, Default)]
pub struct ListActivities {
    /// Only this status.
    pub status: Option<ActivityStatus>,
    /// Only this source.
    pub source: Option<CeSource>,
    /// Only this subject category.
    pub subject_category: Option<SubjectCategory>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only this provider's.
    pub provider_id: Option<Uuid>,
    /// Only this recording organisation's.
    pub organisation_id: Option<Uuid>,
    /// Only this region.
    pub region: Option<String>,
}

/// Reads a stored JSON list of evidence references.
pub fn evidence_of(table: &'static str, json: &str) -> AppResult<Vec<String>> {
    serde_json::from_str(json)
        .map_err(|e| AppError::Internal(format!("corrupt evidence in {table}: {e}")))
}

/// Checks a list of evidence references (CED-3): at most
/// [`EVIDENCE_REFS_MAX`], each 1 to [`EVIDENCE_REF_MAX`] characters; returns
/// them trimmed. Problems name `field[i]`.
pub fn check_evidence(field: &str, refs: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut problems = Vec::new();
    if refs.len() > EVIDENCE_REFS_MAX {
        problems.push(FieldError::new(
            field,
            "too_many_evidence_refs",
            format!("at most {EVIDENCE_REFS_MAX} evidence references"),
        ));
    }
    let mut out = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let r = r.trim();
        if r.is_empty() || r.chars().count() > EVIDENCE_REF_MAX || r.chars().any(char::is_control) {
            problems.push(FieldError::new(
                format!("{field}[{i}]"),
                "evidence_ref_format",
                format!(
                    "an evidence reference has 1 to {EVIDENCE_REF_MAX} characters, no control characters"
                ),
            ));
        }
        out.push(r.to_owned());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Loads an activity the caller may see, or 404 exactly like an unknown id
/// (ACC-2): its recording organisation, association staff and the authority.
pub fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<CeActivityRow> {
    guild_store::ce_activities::find(conn, id)?
        .filter(|a| caller.can_see_organisation(Some(&a.organisation_id)))
        .ok_or(AppError::NotFound("activity"))
}

impl crate::events::Record for ActivityView {
    const ENTITY: &'static str = "ce_activity";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        Some(self.organisation_id)
    }
}

/// Who records an activity: the caller's accredited provider (CED-4), or its
/// approved organisation as employer. Returns the recorder, the provider, the
/// recording organisation and its default region.
fn recorder_of(
    conn: &mut DbConn,
    caller: &Caller,
) -> AppResult<(Recorder, Option<String>, String, Option<String>)> {
    if caller.role == Role::Provider {
        let p = recording_provider(conn, caller)?;
        return Ok((
            Recorder::Provider,
            Some(p.id),
            p.organisation_id,
            Some(p.region),
        ));
    }
    let org_id = caller.organisation_id.clone().unwrap_or_default();
    let org = guild_store::organisations::find(conn, &org_id)?
        .ok_or(AppError::NotFound("organisation"))?;
    org_accepts_accounts(stored::<OrgStatus>("organisations", &org.status)?)?;
    Ok((Recorder::Employer, None, org.id, org.region))
}

/// Records an activity (CED-3): an accredited provider for an activity it
/// ran, or an employer for training it organised (then
/// `pending_registration` until the authority registers it).
pub fn create(ctx: &Ctx, conn: &mut DbConn, body: CreateActivity) -> AppResult<ActivityView> {
    let title = body.title.trim().to_owned();
    if title.is_empty() {
        return Err(AppError::field(
            "title",
            "length",
            "must be 1 to 200 characters long",
        ));
    }
    let evidence = check_evidence("evidence", &body.evidence).map_err(AppError::Invalid)?;
    let evidence_json =
        serde_json::to_string(&evidence).map_err(|e| AppError::Internal(e.to_string()))?;
    let caller = ctx.caller()?;
    let (recorder, provider_id, organisation_id, default_region) = recorder_of(conn, caller)?;
    check_source_for(recorder, body.source)?;
    let region = body
        .region
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .or(default_region)
        .ok_or_else(|| {
            AppError::field(
                "region",
                "region_required",
                "your organisation has no region on record: give the activity's region",
            )
        })?;
    let at = ctx.now.naive_utc();
    let row = CeActivityRow {
        id: Uuid::now_v7().to_string(),
        provider_id,
        organisation_id,
        source: body.source.as_str().to_owned(),
        title,
        subject_category: body.subject_category.as_str().to_owned(),
        credits: body.credits,
        hours: body.hours,
        fee_fen: body.fee_fen.get(),
        held_on: body.held_on,
        year: body.held_on.year(),
        has_exam: body.has_exam,
        region,
        evidence_json,
        status: initial_activity_status(body.source).as_str().to_owned(),
        review_reason: None,
        reviewed_by: None,
        reviewed_at: None,
        created_by: caller.id.clone(),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    guild_store::ce_activities::insert(conn, &row)?;
    let view = ActivityView::try_from(row)?;
    ctx.emit(
        conn,
        Event::change(kinds::CE_ACTIVITY_CREATED, None, &view)?,
    )?;
    Ok(view)
}

/// Lists activities in recording order: providers and employers their own
/// (CED-5, ACC-2), association staff and the authority all.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListActivities,
    page: PageRequest,
) -> AppResult<Page<ActivityView>> {
    let filter = ActivityFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        source: q.source.map(|v| v.as_str().to_owned()),
        subject_category: q.subject_category.map(|v| v.as_str().to_owned()),
        year: q.year,
        provider_id: q.provider_id.map(|v| v.to_string()),
        organisation_id: q.organisation_id.map(|v| v.to_string()),
        region: q.region,
        only_organisation: ctx.caller()?.organisation_scope(),
    };
    guild_store::ce_activities::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(ActivityView::try_from)
}

/// One activity the caller may see.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ActivityView> {
    ActivityView::try_from(visible(conn, ctx.caller()?, &id.to_string())?)
}

/// Applies the authority's decision on an activity (CED-3): `register` (its
/// credits may then be recorded) or `reject` with a reason (it earns none).
pub fn review(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: ActivityAction,
    reason: Option<String>,
) -> AppResult<ActivityView> {
    let id = id.to_string();
    let caller = ctx.caller()?;
    guild_store::locks::lock_row(conn, Locked::CeActivities, &id)?;
    let mut row = visible(conn, caller, &id)?;
    let before = ActivityView::try_from(row.clone())?;
    let next = activity_transition(before.status, action)?;
    let at = ctx.now.naive_utc();
    row.status = next.as_str().to_owned();
    row.review_reason = reason.map(|r| r.trim().to_owned());
    row.reviewed_by = Some(caller.id.clone());
    row.reviewed_at = Some(at);
    guild_store::ce_activities::update(conn, &mut row, at)?;
    let after = ActivityView::try_from(row)?;
    let kind = match action {
        ActivityAction::Register => kinds::CE_ACTIVITY_REGISTERED,
        ActivityAction::Reject => kinds::CE_ACTIVITY_REJECTED,
    };
    ctx.emit(conn, Event::change(kind, Some(&before), &after)?)?;
    Ok(after)
}
