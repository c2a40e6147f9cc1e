//! Recording continuing-education credits for an activity (CED-3, CED-4,
//! seed 004 art. 19) and listing what an activity recorded.
//!
//! `POST /ce/activities/{id}/credits` records, per person, the activity's
//! credits in bulk: up to 5,000 rows in one JSON body (at most 2 MiB). It is
//! how providers' own systems and partner online platforms upload courses
//! and tests (art. 15): each authenticates as its provider account and may
//! send an `Idempotency-Key`, so a retried upload replays the first answer
//! instead of counting twice (API-5). Without a key a repeated upload counts
//! nothing twice either: a person already credited for the activity is
//! skipped and reported (`already_recorded`; the database also holds
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
//! the yearly roll-up in the same transaction. One audit event per upload.

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures_util::StreamExt;
use guild_domain::ce::{
    ActivityStatus, BULK_CREDITS_MAX, CreditOutcome, ProviderStatus, SkipReason,
    check_activity_open, check_provider_may_record, credit_outcome, earned_on,
};
use guild_domain::organisation::{OrgStatus, org_accepts_accounts};
use guild_domain::person::{mask_id_number, normalize_id_number};
use guild_domain::{Fen, IdType, Refusal, Role, local_date};
use guild_store::DbConn;
use guild_store::ce_activities::{ActivityCreditRow, CeActivityRow};
use guild_store::ce_credits::CeCreditRow;
use guild_store::people::PersonRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldProblem};
use crate::extract::{
    LARGEST_BODY_LIMIT, PageParams, Paged, RequestContext, json_body_error, parse_stored,
};
use crate::openapi::{CreateErrors, ReadErrors};
use crate::routes::ce_activities::{ACTIVITY_RECORDERS, check_evidence, evidence_of};
use crate::routes::ce_providers::PROVIDER_READERS;
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// The largest upload accepted: 2 MiB (5,000 rows fit easily).
pub const CREDITS_BODY_LIMIT: usize = LARGEST_BODY_LIMIT;

/// One participant of an upload: a person (by `person_id`, or by `id_type`
/// and `id_number`) and their result.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditUploadRow {
    /// The person's id; or give `id_number`.
    pub person_id: Option<Uuid>,
    /// The person's ID document type with `id_number` (default `resident_id`).
    pub id_type: Option<IdType>,
    /// The person's ID document number; or give `person_id`.
    #[schema(max_length = 32)]
    pub id_number: Option<String>,
    /// The exam score, 0 to 100, where the activity had an exam.
    #[schema(minimum = 0, maximum = 100)]
    pub exam_score: Option<i32>,
    /// Whether the person passed the activity's exam: required when it had
    /// one, refused when it had none. A failed exam earns no credits.
    pub exam_passed: Option<bool>,
    /// When the person earned the credits (default: the activity's date);
    /// never before the activity nor in the future. Its year is the credit's year.
    pub earned_on: Option<NaiveDate>,
    /// This person's evidence references (certificate photo, test record), at
    /// most 20; the activity's evidence when left out.
    #[schema(max_items = 20)]
    pub evidence: Option<Vec<String>>,
}

/// An upload of credits for one activity (CED-3).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"credits": [
    {"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "exam_passed": true, "exam_score": 86},
    {"id_number": "11010519491231002X", "exam_passed": false, "exam_score": 41}
]}))]
pub struct CreditUpload {
    /// The participants, 1 to 5,000.
    #[schema(min_items = 1, max_items = 5000)]
    pub credits: Vec<CreditUploadRow>,
}

/// A row of an upload that became a credit record.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    fn of(caller: &AuthUser, r: ActivityCreditRow) -> ApiResult<Self> {
        let c = r.credit;
        let id = |v: &str| stored_uuid("ce_credits", v);
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
            organisation_id: c.organisation_id.as_deref().map(id).transpose()?,
            occupation: c.occupation,
            region: c.region,
            evidence: evidence_of("ce_credits", &c.evidence_json)?,
            recorded_by: id(&c.recorded_by)?,
            recorded_at: c.recorded_at.and_utc(),
        })
    }
}

/// Paging of an activity's credits.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityCreditQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
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

fn problem(index: usize, field: &str, code: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: format!("credits[{index}].{field}"),
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Checks one row against the activity (no database): who it names, the exam
/// result, the date and the evidence.
fn check_row(
    index: usize,
    row: &CreditUploadRow,
    activity: &CeActivityRow,
    today: NaiveDate,
    problems: &mut Vec<FieldProblem>,
) -> Option<CheckedRow> {
    let before = problems.len();
    let key = match (&row.person_id, &row.id_number) {
        (Some(id), None) if row.id_type.is_none() => Some(PersonKey::Id(id.to_string())),
        (None, Some(number)) => {
            let id_type = row.id_type.unwrap_or(IdType::ResidentId);
            match normalize_id_number(id_type, number) {
                Ok(n) => Some(PersonKey::Document(id_type.as_str().to_owned(), n)),
                Err(e) => {
                    problems.push(problem(index, "id_number", e.code, e.message));
                    None
                }
            }
        }
        (Some(_), _) => {
            problems.push(problem(
                index,
                "person_id",
                "person_ambiguous",
                "name the person by person_id or by id_number, not both",
            ));
            None
        }
        (None, None) => {
            problems.push(problem(
                index,
                "person_id",
                "person_required",
                "name the person by person_id or by id_number",
            ));
            None
        }
    };
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
fn check_recorder(conn: &mut DbConn, caller: &AuthUser, activity: &CeActivityRow) -> ApiResult<()> {
    match &activity.provider_id {
        Some(provider_id) => {
            if caller.role != Role::Provider {
                return Err(ApiError::forbidden());
            }
            let provider = guild_store::ce_providers::find(conn, provider_id)?
                .ok_or_else(|| ApiError::Internal("activity without its provider".to_owned()))?;
            check_provider_may_record(parse_stored::<ProviderStatus>(
                "ce_providers",
                &provider.status,
            )?)?;
        }
        None => {
            if !caller.role.is_org_account() {
                return Err(ApiError::forbidden());
            }
            let org = guild_store::organisations::find(conn, &activity.organisation_id)?
                .ok_or_else(|| ApiError::not_found("activity"))?;
            org_accepts_accounts(parse_stored::<OrgStatus>("organisations", &org.status)?)?;
        }
    }
    check_activity_open(parse_stored::<ActivityStatus>(
        "ce_activities",
        &activity.status,
    )?)?;
    Ok(())
}

/// Records an upload in the caller's write transaction; see the module docs.
fn record_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    caller: &AuthUser,
    activity_id: &str,
    upload: CreditUpload,
    today: NaiveDate,
) -> ApiResult<CreditUploadResult> {
    let activity = guild_store::ce_activities::lock(conn, activity_id)?
        .filter(|a| caller.can_see_organisation(Some(&a.organisation_id)))
        .ok_or_else(|| ApiError::not_found("activity"))?;
    check_recorder(conn, caller, &activity)?;
    if upload.credits.is_empty() || upload.credits.len() > BULK_CREDITS_MAX {
        return Err(ApiError::field(
            "credits",
            "credits_count",
            format!("an upload holds 1 to {BULK_CREDITS_MAX} rows"),
        ));
    }
    let mut problems = Vec::new();
    let checked: Vec<Option<CheckedRow>> = upload
        .credits
        .iter()
        .enumerate()
        .map(|(i, row)| check_row(i, row, &activity, today, &mut problems))
        .collect();
    // Who the rows name, found in two batched lookups.
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
    let by_id = guild_store::ce_activities::people_by_ids(conn, &ids)?;
    let by_number = guild_store::ce_activities::people_by_id_numbers(conn, &numbers)?;
    // An employer records its own staff only (ACC-2); a provider anyone's.
    let employer = activity
        .provider_id
        .is_none()
        .then_some(&activity.organisation_id);
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<(usize, &PersonRow, CheckedRow)> = Vec::new();
    for (i, row) in checked.into_iter().enumerate() {
        let Some(row) = row else { continue };
        let (person, field) = match &row.key {
            PersonKey::Id(id) => (by_id.get(id), "person_id"),
            PersonKey::Document(t, n) => (by_number.get(&(t.clone(), n.clone())), "id_number"),
        };
        let person =
            person.filter(|p| employer.is_none_or(|org| p.organisation_id.as_ref() == Some(org)));
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
    if !problems.is_empty() {
        problems.sort_by_key(|p| row_index(&p.field));
        return Err(ApiError::Validation(problems));
    }
    let credited: HashSet<String> =
        guild_store::ce_activities::credited_people(conn, &activity.id)?;
    let org_ids: Vec<String> = rows
        .iter()
        .filter_map(|(_, p, _)| p.organisation_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let regions = guild_store::ce_activities::organisation_regions(conn, &org_ids)?;
    let at = actor.at.naive_utc();
    let mut new_rows = Vec::new();
    let mut recorded = Vec::new();
    let mut skipped = Vec::new();
    for (index, person, row) in rows {
        let person_id = stored_uuid("people", &person.id)?;
        let skip = if credited.contains(&person.id) {
            Some(SkipReason::AlreadyRecorded)
        } else if row.outcome == CreditOutcome::ExamFailed {
            Some(SkipReason::ExamFailed)
        } else {
            None
        };
        if let Some(reason) = skip {
            skipped.push(SkippedCreditRow {
                index,
                person_id,
                code: reason.code().to_owned(),
            });
            continue;
        }
        let exam_based = row.outcome == (CreditOutcome::Earned { exam_based: true });
        let evidence_json = match &row.evidence {
            Some(refs) => {
                serde_json::to_string(refs).map_err(|e| ApiError::Internal(e.to_string()))?
            }
            None => activity.evidence_json.clone(),
        };
        let id = Uuid::now_v7();
        let region = person
            .organisation_id
            .as_ref()
            .and_then(|o| regions.get(o).cloned())
            .unwrap_or_else(|| activity.region.clone());
        new_rows.push(CeCreditRow {
            id: id.to_string(),
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
            recorded_by: caller.id.clone(),
            recorded_at: at,
        });
        recorded.push(RecordedCredit {
            index,
            person_id,
            credit_id: id,
            year: row.earned_on.year(),
            credits: activity.credits,
            exam_based,
        });
    }
    guild_store::ce_credits::insert_credits(conn, &new_rows, at).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Refused(Refusal::rule(
                "CED-3",
                "credit_already_recorded",
                "credits for one of these people were recorded at the same moment; send the upload again",
            ))
        } else {
            e.into()
        }
    })?;
    let result = CreditUploadResult {
        activity_id: stored_uuid("ce_activities", &activity.id)?,
        recorded: recorded.len(),
        credits: recorded,
        skipped,
    };
    audit::record::<(), _>(
        conn,
        actor,
        Change {
            action: "ce_activity.record_credits",
            entity_type: "ce_activity",
            entity_id: &activity.id,
            organisation_id: Some(&activity.organisation_id),
            before: None,
            after: Some(&result),
        },
    )?;
    Ok(result)
}

/// The row index of a `credits[i].field` name, for sorting problems by row.
fn row_index(field: &str) -> usize {
    field
        .strip_prefix("credits[")
        .and_then(|s| s.split(']').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Reads a JSON body of at most [`CREDITS_BODY_LIMIT`] bytes (415 unless
/// JSON, 413 beyond the limit, 400/422 when it does not parse).
async fn read_upload(req: &HttpRequest, mut payload: web::Payload) -> ApiResult<CreditUpload> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::http(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ));
    }
    let too_large = || {
        ApiError::http(
            ErrorCode::PayloadTooLarge,
            format!("the body may be at most {CREDITS_BODY_LIMIT} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > CREDITS_BODY_LIMIT) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(CREDITS_BODY_LIMIT));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::http(
                ErrorCode::MalformedJson,
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > CREDITS_BODY_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| json_body_error(&e))
}

/// Record credits for an activity's participants, in bulk (CED-3): the
/// activity's accredited provider (CED-4) or, for an employer's registered
/// activity, the employer. Up to 5,000 rows, checked as a whole: any bad row
/// answers 422 with `credits[i].field` errors and nothing is recorded. People
/// already credited for the activity and failed exams are reported in
/// `skipped`. Send an `Idempotency-Key` so a retried upload is answered from
/// the first one.
#[utoipa::path(
    operation_id = "record_ce_credits",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried upload replay the first answer (API-5)")),
    request_body(content = CreditUpload, description = "Up to 5,000 rows, at most 2 MiB"),
    responses((status = 200, description = "Recorded; rows that recorded nothing are in `skipped`", body = CreditUploadResult), CreateErrors)
)]
#[post("/ce/activities/{id}/credits")]
pub async fn record(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    user.require(ACTIVITY_RECORDERS)?;
    let upload = read_upload(&req, payload).await?;
    let activity_id = id.into_inner().to_string();
    let result = state
        .run(move |s| {
            let now = s.clock.now();
            let today = local_date(now, s.config.time_zone);
            s.store.write(|c| {
                record_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &activity_id,
                    upload,
                    today,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The credits recorded for an activity, with each person (its recording
/// organisation, association staff and the authority; ID numbers masked
/// except for association staff and the authority, PPL-3).
#[utoipa::path(
    operation_id = "list_ce_activity_credits",
    tag = "ce",
    params(("id" = Uuid, Path, description = "Activity id"), ActivityCreditQuery),
    responses((status = 200, description = "OK (in recording order)", body = Paged<ActivityCreditView>), ReadErrors)
)]
#[get("/ce/activities/{id}/credits")]
pub async fn list_for_activity(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<ActivityCreditQuery>,
) -> ApiResult<HttpResponse> {
    user.require(PROVIDER_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let id = id.into_inner().to_string();
    let caller = user.clone();
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                let activity = crate::routes::ce_activities::visible_activity(c, &caller, &id)?;
                Ok(guild_store::ce_activities::credits_of_activity(
                    c,
                    &activity.id,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        ActivityCreditView::of(&user, r)
    })?))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record).service(list_for_activity);
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
