//! Recording continuing-education credits for an activity (CED-3, CED-4,
//! seed 004 art. 19) and listing what an activity recorded.
//!
//! An upload records, per person, the activity's credits in bulk: up to
//! 5,000 rows. A person already credited for the activity is skipped and
//! reported (`already_recorded`; the database also holds
//! `UNIQUE (activity_id, person_id)`).
//!
//! Who: the activity's provider, through its `provider` accounts, while the
//! provider is accredited (a suspended or withdrawn provider is refused with
//! `provider_not_active`, CED-4, even for activities it recorded before); or,
//! for an employer's own activity, the employer's filler or reviewer. The
//! activity must be `registered` (CED-3: employer training only after the
//! authority registered it).
//!
//! The upload is checked as a whole first (all or nothing): every bad row is
//! reported as a field error named `credits[i].field` (`i` is the 0-based
//! index in the array) and nothing is written. Rows name a person by
//! `person_id` or by ID document (`id_type`, default `resident_id`, and
//! `id_number`); the person must already be on the register (PPL-1). An
//! employer records only its own staff: anyone else answers as unknown
//! (ACC-2). A person named twice in one upload is a row error.
//!
//! Each valid row becomes one credit record holding, as they are at the time
//! of recording: the activity's source, subject category, credits, hours and
//! fee; the date earned (the activity's date unless given, never before it
//! nor in the future, and its year is the credit's year); the exam result
//! where the activity had an exam (a failed exam earns nothing: the row is
//! reported as `exam_failed`, not recorded; credits from a passed exam are
//! `exam_based`, CED-2); the person's organisation and occupation; the
//! region — the person's organisation's region, else the activity's — so the
//! credit counts where the person's yearly requirement is set (CED-2); the
//! row's evidence references, else the activity's; who recorded it and when.
//! People without a skill registration yet (CED-1) are credited all the same:
//! the learning happened, and the obligation is what the certificate starts.
//! Credits go through `guild_store::ce_credits::insert_credits`, which keeps
//! the yearly roll-up in the same transaction. One event per upload.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::ce::{
    ActivityStatus, BULK_CREDITS_MAX, CreditOutcome, ProviderStatus, SkipReason,
    check_activity_open, check_provider_may_record, credit_outcome, earned_on,
};
use guild_domain::error::FieldError;
use guild_domain::organisation::{OrgStatus, org_accepts_accounts};
use guild_domain::person::{mask_id_number, normalize_id_number};
use guild_domain::{Fen, IdType, Refusal, Role};
use guild_store::DbConn;
use guild_store::ce_activities::{ActivityCreditRow, CeActivityRow};
use guild_store::ce_credits::CeCreditRow;
use guild_store::people::PersonRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ce::activities::{self, check_evidence, evidence_of};
use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, kinds};
use crate::ids::{stored_id, stored_opt};
use crate::{Page, PageRequest};

/// One participant of an upload: a person (by `person_id`, or by `id_type`
/// and `id_number`) and their result.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreditUploadRow {
    /// The person's id; or give `id_number`.
    pub person_id: Option<Uuid>,
    /// The person's ID document type with `id_number` (default `resident_id`).
    pub id_type: Option<IdType>,
    /// The person's ID document number; or give `person_id`.
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub id_number: Option<String>,
    /// The exam score, 0 to 100, where the activity had an exam.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub exam_score: Option<i32>,
    /// Whether the person passed the activity's exam: required when it had
    /// one, refused when it had none. A failed exam earns no credits.
    pub exam_passed: Option<bool>,
    /// When the person earned the credits (default: the activity's date);
    /// never before the activity nor in the future. Its year is the credit's year.
    pub earned_on: Option<NaiveDate>,
    /// This person's evidence references (certificate photo, test record), at
    /// most 20; the activity's evidence when left out.
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub evidence: Option<Vec<String>>,
}

/// An upload of credits for one activity (CED-3).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"credits": [
    {"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "exam_passed": true, "exam_score": 86},
    {"id_number": "11010519491231002X", "exam_passed": false, "exam_score": 41}
]})))]
pub struct CreditUpload {
    /// The participants, 1 to 5,000.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 5000))]
    pub credits: Vec<CreditUploadRow>,
}

/// A row of an upload that became a credit record.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedCredit {
    /// The row's 0-based index in `credits`.
    pub index: usize,
    /// The credited person.
    pub person_id: Uuid,
    /// The new credit record.
    pub credit_id: Uuid,
    /// The year it counts for.
    pub year: i32,
    /// The credits.
    pub credits: i32,
    /// Whether they come from a passed exam (CED-2).
    pub exam_based: bool,
}

/// A valid row of an upload that recorded nothing, and why.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedCreditRow {
    /// The row's 0-based index in `credits`.
    pub index: usize,
    /// The person.
    pub person_id: Uuid,
    /// `already_recorded` (the person already has credits for this activity:
    /// never counted twice) or `exam_failed` (no credits without passing the exam).
    pub code: String,
}

/// What an upload recorded (CED-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditUploadResult {
    /// The activity.
    pub activity_id: Uuid,
    /// How many credit records were written.
    pub recorded: usize,
    /// The records written, in row order.
    pub credits: Vec<RecordedCredit>,
    /// The rows that recorded nothing, in row order.
    pub skipped: Vec<SkippedCreditRow>,
}

/// One credit recorded for an activity, with its person.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityCreditView {
    /// The credit record id.
    pub id: Uuid,
    /// The activity.
    pub activity_id: Uuid,
    /// The person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The person's ID number, masked except for association staff and the authority (PPL-3).
    pub id_number: String,
    /// Whether `id_number` is masked.
    pub id_number_masked: bool,
    /// The year it counts for.
    pub year: i32,
    /// When it was earned.
    pub earned_on: NaiveDate,
    /// The credits.
    pub credits: i32,
    /// The hours.
    pub hours: i32,
    /// The fee paid, in fen.
    pub fee_fen: Fen,
    /// Whether the credits come from a passed exam (CED-2).
    pub exam_based: bool,
    /// The exam score, if any.
    pub exam_score: Option<i32>,
    /// Whether the exam was passed, where there was one.
    pub exam_passed: Option<bool>,
    /// The person's organisation when recorded.
    pub organisation_id: Option<Uuid>,
    /// The person's occupation when recorded.
    pub occupation: Option<String>,
    /// The region the credit counts in.
    pub region: Option<String>,
    /// Evidence references.
    pub evidence: Vec<String>,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

impl ActivityCreditView {
    /// The record of a stored credit as `caller` sees it (ID numbers masked
    /// except for association staff and the authority, PPL-3).
    pub fn of(caller: &Caller, r: ActivityCreditRow) -> AppResult<Self> {
        let c = r.credit;
        let id = |v: &str| stored_id("ce_credits", v);
        let full = caller.role.sees_full_id_numbers();
        Ok(ActivityCreditView {
            id: id(&c.id)?,
            activity_id: id(&c.activity_id)?,
            person_id: id(&c.person_id)?,
            person_name: r.person_name,
            id_number: if full {
                r.person_id_number
            } else {
                mask_id_number(&r.person_id_number)
            },
            id_number_masked: !full,
            year: c.year,
            earned_on: c.earned_on,
            credits: c.credits,
            hours: c.hours,
            fee_fen: Fen::from_stored(c.fee_fen),
            exam_based: c.exam_based,
            exam_score: c.exam_score,
            exam_passed: c.exam_passed,
            organisation_id: stored_opt("ce_credits", c.organisation_id.as_deref())?,
            occupation: c.occupation,
            region: c.region,
            evidence: evidence_of("ce_credits", &c.evidence_json)?,
            recorded_by: id(&c.recorded_by)?,
            recorded_at: c.recorded_at.and_utc(),
        })
    }
}

/// How a row names its person.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PersonKey {
    Id(String),
    Document(String, String),
}

/// A row that passed the checks that need no database.
#[derive(Debug, Clone)]
struct CheckedRow {
    key: PersonKey,
    outcome: CreditOutcome,
    exam_score: Option<i32>,
    exam_passed: Option<bool>,
    earned_on: NaiveDate,
    evidence: Option<Vec<String>>,
}

/// A checked row with the person it names.
type NamedRow<'a> = (usize, &'a PersonRow, CheckedRow);

fn problem(
    index: usize,
    field: &str,
    code: &'static str,
    message: impl Into<String>,
) -> FieldError {
    FieldError::new(format!("credits[{index}].{field}"), code, message)
}

/// Who a row names, from its `person_id` or its ID document (no database).
fn person_key(index: usize, row: &CreditUploadRow) -> Result<PersonKey, FieldError> {
    match (&row.person_id, &row.id_number) {
        (Some(id), None) if row.id_type.is_none() => Ok(PersonKey::Id(id.to_string())),
        (None, Some(number)) => {
            let id_type = row.id_type.unwrap_or(IdType::ResidentId);
            normalize_id_number(id_type, number)
                .map(|n| PersonKey::Document(id_type.as_str().to_owned(), n))
                .map_err(|e| problem(index, "id_number", e.code, e.message))
        }
        (Some(_), _) => Err(problem(
            index,
            "person_id",
            "person_ambiguous",
            "name the person by person_id or by id_number, not both",
        )),
        (None, None) => Err(problem(
            index,
            "person_id",
            "person_required",
            "name the person by person_id or by id_number",
        )),
    }
}

/// Checks one row against the activity (no database): who it names, the exam
/// result, the date and the evidence.
fn check_row(
    index: usize,
    row: &CreditUploadRow,
    activity: &CeActivityRow,
    today: NaiveDate,
    problems: &mut Vec<FieldError>,
) -> Option<CheckedRow> {
    let before = problems.len();
    let key = person_key(index, row).map_err(|p| problems.push(p)).ok();
    let outcome = credit_outcome(activity.has_exam, row.exam_passed, row.exam_score)
        .map_err(|e| problems.push(problem(index, &e.field, e.code, e.message)))
        .ok();
    let earned = earned_on(activity.held_on, row.earned_on, today)
        .map_err(|e| problems.push(problem(index, &e.field, e.code, e.message)))
        .ok();
    let evidence = match &row.evidence {
        None => None,
        Some(refs) => match check_evidence(&format!("credits[{index}].evidence"), refs) {
            Ok(v) => Some(v),
            Err(p) => {
                problems.extend(p);
                None
            }
        },
    };
    if problems.len() > before {
        return None;
    }
    Some(CheckedRow {
        key: key?,
        outcome: outcome?,
        exam_score: row.exam_score,
        exam_passed: row.exam_passed,
        earned_on: earned?,
        evidence,
    })
}

/// CED-3, CED-4: may the caller record credits for this activity now? The
/// activity's provider through its provider accounts while accredited; an
/// employer's activity through the employer's filler or reviewer while the
/// employer is approved; and only a registered activity.
fn check_recorder(conn: &mut DbConn, caller: &Caller, activity: &CeActivityRow) -> AppResult<()> {
    match &activity.provider_id {
        Some(provider_id) => {
            if caller.role != Role::Provider {
                return Err(AppError::Forbidden);
            }
            let provider = guild_store::ce_providers::find(conn, provider_id)?
                .ok_or_else(|| AppError::Internal("activity without its provider".to_owned()))?;
            check_provider_may_record(stored::<ProviderStatus>("ce_providers", &provider.status)?)?;
        }
        None => {
            if !caller.role.is_org_account() {
                return Err(AppError::Forbidden);
            }
            let org = guild_store::organisations::find(conn, &activity.organisation_id)?
                .ok_or(AppError::NotFound("activity"))?;
            org_accepts_accounts(stored::<OrgStatus>("organisations", &org.status)?)?;
        }
    }
    check_activity_open(stored::<ActivityStatus>("ce_activities", &activity.status)?)?;
    Ok(())
}

/// Step 1: locks the activity the caller may see (404 like an unknown id,
/// ACC-2) and checks that the caller may record for it now.
fn load_for_recording(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<CeActivityRow> {
    let activity = guild_store::ce_activities::lock(conn, id)?
        .filter(|a| caller.can_see_organisation(Some(&a.organisation_id)))
        .ok_or(AppError::NotFound("activity"))?;
    check_recorder(conn, caller, &activity)?;
    Ok(activity)
}

/// Step 2: 422 `credits_count` unless the upload holds 1 to
/// [`BULK_CREDITS_MAX`] rows.
fn check_count(upload: &CreditUpload) -> AppResult<()> {
    if upload.credits.is_empty() || upload.credits.len() > BULK_CREDITS_MAX {
        return Err(AppError::field(
            "credits",
            "credits_count",
            format!("an upload holds 1 to {BULK_CREDITS_MAX} rows"),
        ));
    }
    Ok(())
}

/// The people the rows name, found in two batched lookups.
struct Named {
    by_id: HashMap<String, PersonRow>,
    by_number: HashMap<(String, String), PersonRow>,
}

impl Named {
    /// Step 3: looks up everyone the checked rows name.
    fn load(conn: &mut DbConn, checked: &[Option<CheckedRow>]) -> AppResult<Self> {
        let ids: Vec<String> = checked
            .iter()
            .flatten()
            .filter_map(|r| match &r.key {
                PersonKey::Id(id) => Some(id.clone()),
                PersonKey::Document(..) => None,
            })
            .collect();
        let numbers: Vec<String> = checked
            .iter()
            .flatten()
            .filter_map(|r| match &r.key {
                PersonKey::Document(_, n) => Some(n.clone()),
                PersonKey::Id(_) => None,
            })
            .collect();
        Ok(Named {
            by_id: guild_store::ce_activities::people_by_ids(conn, &ids)?,
            by_number: guild_store::ce_activities::people_by_id_numbers(conn, &numbers)?,
        })
    }

    /// Step 4: the person of each checked row. An employer records its own
    /// staff only (ACC-2), a provider anyone's; unknown people and people
    /// named twice are row errors.
    fn resolve(
        &self,
        activity: &CeActivityRow,
        checked: Vec<Option<CheckedRow>>,
        problems: &mut Vec<FieldError>,
    ) -> Vec<NamedRow<'_>> {
        let employer = activity
            .provider_id
            .is_none()
            .then_some(&activity.organisation_id);
        let mut first_row_of: HashMap<String, usize> = HashMap::new();
        let mut rows = Vec::new();
        for (i, row) in checked.into_iter().enumerate() {
            let Some(row) = row else { continue };
            let (person, field) = match &row.key {
                PersonKey::Id(id) => (self.by_id.get(id), "person_id"),
                PersonKey::Document(t, n) => {
                    (self.by_number.get(&(t.clone(), n.clone())), "id_number")
                }
            };
            let person = person
                .filter(|p| employer.is_none_or(|org| p.organisation_id.as_ref() == Some(org)));
            let Some(person) = person else {
                problems.push(problem(
                    i,
                    field,
                    "unknown_person",
                    if employer.is_some() {
                        "no person of your organisation is on the register with this identity"
                    } else {
                        "no person is on the register with this identity; enter the person first"
                    },
                ));
                continue;
            };
            if let Some(first) = first_row_of.get(&person.id) {
                problems.push(problem(
                    i,
                    field,
                    "duplicate_person",
                    format!("the same person is named in row credits[{first}]"),
                ));
                continue;
            }
            first_row_of.insert(person.id.clone(), i);
            rows.push((i, person, row));
        }
        rows
    }
}

/// What step 5 makes of the named rows: the credits to write and the answer.
#[derive(Default)]
struct Planned {
    new_rows: Vec<CeCreditRow>,
    recorded: Vec<RecordedCredit>,
    skipped: Vec<SkippedCreditRow>,
}

/// Step 5: turns each named row into a credit record, or a skipped row when
/// the person already has credits for the activity or failed its exam.
fn plan_credits(
    ctx: &Ctx,
    conn: &mut DbConn,
    activity: &CeActivityRow,
    rows: Vec<NamedRow<'_>>,
) -> AppResult<Planned> {
    let credited: HashSet<String> =
        guild_store::ce_activities::credited_people(conn, &activity.id)?;
    let org_ids: Vec<String> = rows
        .iter()
        .filter_map(|(_, p, _)| p.organisation_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let regions = guild_store::ce_activities::organisation_regions(conn, &org_ids)?;
    let recorded_by = ctx.caller()?.id.clone();
    let mut planned = Planned::default();
    for (index, person, row) in rows {
        let person_id = stored_id("people", &person.id)?;
        let skip = if credited.contains(&person.id) {
            Some(SkipReason::AlreadyRecorded)
        } else if row.outcome == CreditOutcome::ExamFailed {
            Some(SkipReason::ExamFailed)
        } else {
            None
        };
        if let Some(reason) = skip {
            planned.skipped.push(SkippedCreditRow {
                index,
                person_id,
                code: reason.code().to_owned(),
            });
            continue;
        }
        let exam_based = row.outcome == (CreditOutcome::Earned { exam_based: true });
        let region = person
            .organisation_id
            .as_ref()
            .and_then(|o| regions.get(o).cloned())
            .unwrap_or_else(|| activity.region.clone());
        let credit = credit_row(
            ctx,
            activity,
            person,
            &row,
            exam_based,
            region,
            &recorded_by,
        )?;
        planned.recorded.push(RecordedCredit {
            index,
            person_id,
            credit_id: stored_id("ce_credits", &credit.id)?,
            year: credit.year,
            credits: activity.credits,
            exam_based,
        });
        planned.new_rows.push(credit);
    }
    Ok(planned)
}

/// The credit record of one row, holding the activity's and the person's
/// facts as they are now.
fn credit_row(
    ctx: &Ctx,
    activity: &CeActivityRow,
    person: &PersonRow,
    row: &CheckedRow,
    exam_based: bool,
    region: String,
    recorded_by: &str,
) -> AppResult<CeCreditRow> {
    let evidence_json = match &row.evidence {
        Some(refs) => serde_json::to_string(refs).map_err(|e| AppError::Internal(e.to_string()))?,
        None => activity.evidence_json.clone(),
    };
    Ok(CeCreditRow {
        id: Uuid::now_v7().to_string(),
        activity_id: activity.id.clone(),
        person_id: person.id.clone(),
        year: row.earned_on.year(),
        earned_on: row.earned_on,
        source: activity.source.clone(),
        subject_category: activity.subject_category.clone(),
        credits: activity.credits,
        hours: activity.hours,
        fee_fen: activity.fee_fen,
        exam_based,
        exam_score: row.exam_score,
        exam_passed: row.exam_passed,
        provider_id: activity.provider_id.clone(),
        organisation_id: person.organisation_id.clone(),
        occupation: person.occupation.clone(),
        region: Some(region),
        evidence_json,
        recorded_by: recorded_by.to_owned(),
        recorded_at: ctx.now.naive_utc(),
    })
}

/// The row index of a `credits[i].field` name, for sorting problems by row.
fn row_index(field: &str) -> usize {
    field
        .strip_prefix("credits[")
        .and_then(|s| s.split(']').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Records an upload of credits for activity `activity_id` (CED-3, CED-4);
/// see the module docs. One `ce_credit.recorded` event per upload.
pub fn record(
    ctx: &Ctx,
    conn: &mut DbConn,
    activity_id: Uuid,
    upload: CreditUpload,
) -> AppResult<CreditUploadResult> {
    let caller = ctx.caller()?;
    let activity = load_for_recording(conn, caller, &activity_id.to_string())?;
    check_count(&upload)?;
    let today = ctx.today();
    let mut problems = Vec::new();
    let checked: Vec<Option<CheckedRow>> = upload
        .credits
        .iter()
        .enumerate()
        .map(|(i, row)| check_row(i, row, &activity, today, &mut problems))
        .collect();
    let named = Named::load(conn, &checked)?;
    let rows = named.resolve(&activity, checked, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| row_index(&p.field));
        return Err(AppError::Invalid(problems));
    }
    let planned = plan_credits(ctx, conn, &activity, rows)?;
    guild_store::ce_credits::insert_credits(conn, &planned.new_rows, ctx.now.naive_utc()).or_taken(|| AppError::Refused(Refusal::rule(
                    "CED-3",
                    "credit_already_recorded",
                    "credits for one of these people were recorded at the same moment; send the upload again",
                )))?;
    let result = CreditUploadResult {
        activity_id: stored_id("ce_activities", &activity.id)?,
        recorded: planned.recorded.len(),
        credits: planned.recorded,
        skipped: planned.skipped,
    };
    let event = Event::new(
        kinds::CE_CREDIT_RECORDED,
        "ce_activity",
        &activity.id,
        None::<&()>,
        Some(&result),
    )?
    .in_organisation(Some(&activity.organisation_id));
    ctx.emit(conn, event)?;
    Ok(result)
}

/// The credits recorded for an activity the caller may see, in recording
/// order, with each person.
pub fn list_for_activity(
    ctx: &Ctx,
    conn: &mut DbConn,
    activity_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<ActivityCreditView>> {
    let caller = ctx.caller()?;
    let activity = activities::visible(conn, caller, &activity_id.to_string())?;
    guild_store::ce_activities::credits_of_activity(
        conn,
        &activity.id,
        page.after.as_deref(),
        page.limit,
    )?
    .try_map(|r| ActivityCreditView::of(caller, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_sort_by_their_row() {
        // rule CED-3: errors are reported in row order
        assert_eq!(row_index("credits[12].person_id"), 12);
        assert_eq!(row_index("credits[0].evidence[3]"), 0);
        assert_eq!(row_index("credits"), 0);
        let p = problem(7, "exam_passed", "exam_result_required", "m");
        assert_eq!(p.field, "credits[7].exam_passed");
    }
}
