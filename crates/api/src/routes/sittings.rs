//! Exam sittings, registration, results, publishing and retakes (EXM-1 to
//! EXM-5).
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

use std::collections::HashSet;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use guild_domain::Role;
use guild_domain::class::{ClassStatus, format_session_time, parse_session_time, validate_place};
use guild_domain::exam::{
    ExamResult, Ineligibility, PreviousAttempt, RegistrationStatus, SittingKind, SittingStatus,
    check_publishable, check_score, check_sitting_date, check_sitting_held,
    check_something_to_publish, enter_result, has_result, next_attempt, retake_charge,
};
use guild_domain::fees::{FeeItem, LedgerKind};
use guild_domain::{FieldError, Refusal, local_date};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::exams::{ExamRegistrationRow, SittingRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, ClassRows};
use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, CLASS_RECORD_READERS};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldProblem, Problem, problem_response};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::attendance::eligibility_of;
use crate::routes::programs::ProgramView;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments as service;

/// Training staff: schedule sittings, register trainees, publish results.
pub const SITTING_MANAGERS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// Who enters results (EXM-5): training staff, and the class's head and teachers.
pub const RESULT_ENTERERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Teacher,
];

/// An exam sitting of a class.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SittingView {
    /// The sitting id.
    pub id: Uuid,
    /// The class.
    pub class_id: Uuid,
    /// The class's program (its exam components decide `passed`, EXM-1).
    pub program_id: Uuid,
    /// `first` or `retake` (EXM-3).
    pub kind: SittingKind,
    /// The day.
    pub held_on: NaiveDate,
    /// Start time `HH:MM` (association time zone).
    pub starts_at: String,
    /// Where.
    pub place: String,
    /// `scheduled`.
    pub status: SittingStatus,
    /// How many trainees are registered.
    pub registrations: i64,
    /// Who scheduled it.
    pub created_by: Uuid,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new sitting (training staff).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"class_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "kind": "first", "held_on": "2026-04-09", "starts_at": "09:00", "place": "Exam hall 2"}))]
pub struct CreateSitting {
    /// A class that is not cancelled.
    pub class_id: Uuid,
    /// `first` or `retake`.
    pub kind: SittingKind,
    /// The day.
    pub held_on: NaiveDate,
    /// Start time `HH:MM` (24-hour clock).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub starts_at: String,
    /// Where, 2 to 200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub place: String,
}

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

/// Trainees to register for a sitting (EXM-2).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enrolment_ids": ["0193a5f0-6a2b-7c8d-9e0f-112233445566"]}))]
pub struct RegisterTrainees {
    /// 1 to 500 enrolments of the sitting's class (duplicates count once).
    #[validate(length(min = 1, max = 500))]
    #[schema(min_items = 1, max_items = 500)]
    pub enrolment_ids: Vec<Uuid>,
}

/// A trainee's registration for a sitting, with the result (EXM-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationView {
    /// The registration id (results are entered against it).
    pub id: Uuid,
    /// The sitting.
    pub sitting_id: Uuid,
    /// The trainee's enrolment.
    pub enrolment_id: Uuid,
    /// The trainee.
    pub person_id: Uuid,
    /// The trainee's name.
    pub person_name: String,
    /// The enrolment's organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// 1 for the first sitting, 2 for the retake (EXM-3).
    pub attempt: i32,
    /// Whether registering charged the exam fee (a `skill_level` retake, EXM-4).
    pub charged: bool,
    /// `registered`, `completed` or `disqualified`.
    pub status: RegistrationStatus,
    /// Theory score 0–100.
    pub theory_score: Option<i32>,
    /// Practical score 0–100.
    pub practical_score: Option<i32>,
    /// Whether every part reached its pass mark (EXM-1); `null` until every part is scored.
    pub passed: Option<bool>,
    /// Who entered the result last.
    pub result_entered_by: Option<Uuid>,
    /// When the result was entered last.
    pub result_entered_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: i32,
}

/// A trainee not registered, with every reason (EXM-2, EXM-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedRegistration {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// Why, each with its rule (e.g. ATT-3).
    pub reasons: Vec<Ineligibility>,
}

/// What a registration request did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationOutcome {
    /// The new registrations.
    pub registered: Vec<RegistrationView>,
    /// The trainees refused, with their reasons.
    pub refused: Vec<RefusedRegistration>,
}

/// One registration's scores (EXM-1). Parts not sent keep their earlier score.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultInput {
    /// A registration of this sitting.
    pub registration_id: Uuid,
    /// Theory score 0–100 (only when the exam has a theory part).
    #[schema(minimum = 0, maximum = 100)]
    pub theory_score: Option<i64>,
    /// Practical score 0–100 (only when the exam has a practical part).
    #[schema(minimum = 0, maximum = 100)]
    pub practical_score: Option<i64>,
}

/// Results of a sitting (EXM-1, EXM-5).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"results": [{"registration_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "theory_score": 78, "practical_score": 85}]}))]
pub struct EnterResults {
    /// 1 to 1000 registrations, each at most once.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_items = 1, max_items = 1000)]
    pub results: Vec<ResultInput>,
}

/// One result of a class (EXM-5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultView {
    /// The registration and its result.
    #[serde(flatten)]
    pub registration: RegistrationView,
    /// `first` or `retake`.
    pub sitting_kind: SittingKind,
    /// The sitting's day.
    pub held_on: NaiveDate,
    /// Whether this result is published (visible to the trainee and the organisation).
    pub published: bool,
}

/// A class's exam results (EXM-5).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassResults {
    /// The class.
    pub class_id: Uuid,
    /// When the results were last published (the archive clock, ARC-2, runs from it).
    pub published_at: Option<DateTime<Utc>>,
    /// Who published them last.
    pub published_by: Option<Uuid>,
    /// The results the caller may see: association staff, the authority and
    /// the class's teachers all (also unpublished ones); organisations their
    /// own trainees' and trainees their own, published ones only.
    pub results: Vec<ResultView>,
}

fn uuid_of(table: &'static str, v: &str) -> ApiResult<Uuid> {
    stored_uuid(table, v)
}

fn sitting_view(conn: &mut DbConn, r: SittingRow) -> ApiResult<SittingView> {
    let class = service::class_of(conn, &r.class_id)?;
    let registrations = guild_store::exams::registration_count(conn, &r.id)?;
    Ok(SittingView {
        id: uuid_of("sittings", &r.id)?,
        class_id: uuid_of("sittings", &r.class_id)?,
        program_id: uuid_of("classes", &class.program_id)?,
        kind: parse_stored("sittings", &r.kind)?,
        held_on: r.held_on,
        starts_at: format_session_time(r.starts_at),
        place: r.place,
        status: parse_stored("sittings", &r.status)?,
        registrations,
        created_by: uuid_of("sittings", &r.created_by)?,
        version: r.version,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

fn registration_view(
    conn: &mut DbConn,
    r: &ExamRegistrationRow,
    enrolment: &EnrolmentRow,
) -> ApiResult<RegistrationView> {
    let t = "exam_registrations";
    let name = guild_store::people::find(conn, &r.person_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(RegistrationView {
        id: uuid_of(t, &r.id)?,
        sitting_id: uuid_of(t, &r.sitting_id)?,
        enrolment_id: uuid_of(t, &r.enrolment_id)?,
        person_id: uuid_of(t, &r.person_id)?,
        person_name: name,
        organisation_id: enrolment
            .organisation_id
            .as_deref()
            .map(|o| uuid_of(t, o))
            .transpose()?,
        attempt: r.attempt,
        charged: r.charged,
        status: parse_stored(t, &r.status)?,
        theory_score: r.theory_score,
        practical_score: r.practical_score,
        passed: r.passed,
        result_entered_by: r
            .result_entered_by
            .as_deref()
            .map(|u| uuid_of(t, u))
            .transpose()?,
        result_entered_at: r.result_entered_at.map(|x| x.and_utc()),
        version: r.version,
    })
}

fn find_sitting(conn: &mut DbConn, id: &str) -> ApiResult<SittingRow> {
    guild_store::exams::find(conn, id)?.ok_or_else(|| ApiError::not_found("sitting"))
}

fn program_exam(conn: &mut DbConn, class: &ClassRow) -> ApiResult<ProgramView> {
    let row = guild_store::programs::find(conn, &class.program_id)?
        .ok_or_else(|| ApiError::Internal(format!("class {} names a missing program", class.id)))?;
    Ok(ProgramView::try_from(row)?)
}

fn create_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    body: CreateSitting,
    starts_at: chrono::NaiveTime,
    place: String,
) -> ApiResult<SittingView> {
    let class = service::class_of(conn, &body.class_id.to_string())?;
    let status: ClassStatus = parse_stored("classes", &class.status)?;
    if status == ClassStatus::Cancelled {
        return Err(ApiError::Refused(Refusal::rule(
            "CLS-1",
            "class_cancelled",
            "the class is cancelled: it has no exam",
        )));
    }
    check_sitting_date(body.held_on, class.start_date)?;
    let now = actor.at.naive_utc();
    let row = SittingRow {
        id: Uuid::now_v7().to_string(),
        class_id: class.id.clone(),
        kind: body.kind.as_str().to_owned(),
        held_on: body.held_on,
        starts_at,
        place,
        status: SittingStatus::Scheduled.as_str().to_owned(),
        version: 1,
        created_by: user.id.clone(),
        created_at: now,
        updated_at: now,
    };
    guild_store::exams::insert(conn, &row)?;
    let view = sitting_view(conn, row)?;
    let id = view.id.to_string();
    audit::record::<(), _>(
        conn,
        actor,
        Change {
            action: "sitting.create",
            entity_type: "sitting",
            entity_id: &id,
            organisation_id: None,
            before: None,
            after: Some(&view),
        },
    )?;
    Ok(view)
}

fn refused(enrolment_id: Uuid, reasons: Vec<Ineligibility>) -> RefusedRegistration {
    RefusedRegistration {
        enrolment_id,
        reasons,
    }
}

/// Registers trainees for a sitting in one transaction (EXM-2 to EXM-4),
/// under the class lock. For each enrolment (in request order, duplicates
/// once): it must be of the sitting's class (`not_in_class`) and not yet
/// registered for this sitting (`already_registered`); every eligibility
/// reason is collected ([`eligibility_of`]: ATT-3, not paid, no-show,
/// disqualified, banned), then the attempt rule (EXM-3: `already_registered`
/// for a first sitting after an attempt, `retake_not_allowed`). An eligible
/// trainee gets a registration with `attempt` = earlier attempts + 1; a
/// retake of a `skill_level` program adds the exam fee as a charge to the
/// enrolment's ledger and is `charged` (EXM-4). Nothing is written for a
/// refused trainee.
fn register_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    sitting_id: &str,
    ids: Vec<Uuid>,
    tz: Tz,
) -> ApiResult<(RegistrationOutcome, Vec<usize>)> {
    let sitting = find_sitting(conn, sitting_id)?;
    let class = guild_store::classes::lock(conn, &sitting.class_id)?
        .ok_or_else(|| ApiError::not_found("class"))?;
    let kind: SittingKind = parse_stored("sittings", &sitting.kind)?;
    let program = program_exam(conn, &class)?;
    let today = local_date(actor.at, tz);
    let now = actor.at.naive_utc();
    let mut outcome = RegistrationOutcome {
        registered: Vec::new(),
        refused: Vec::new(),
    };
    let mut refused_at = Vec::new();
    let mut seen = HashSet::new();
    for (i, id) in ids.into_iter().enumerate() {
        if !seen.insert(id) {
            continue;
        }
        let key = id.to_string();
        let Some(enrolment) =
            guild_store::enrolments::find(conn, &key)?.filter(|e| e.class_id == class.id)
        else {
            outcome.refused.push(refused(
                id,
                vec![Ineligibility {
                    code: "not_in_class",
                    rule: "EXM-2",
                    detail: "no enrolment of the sitting's class has this id".to_owned(),
                }],
            ));
            refused_at.push(i);
            continue;
        };
        let previous = guild_store::exams::registrations_for_enrolment(conn, &enrolment.id)?;
        if previous.iter().any(|r| r.sitting_id == sitting.id) {
            outcome.refused.push(refused(
                id,
                vec![Ineligibility {
                    code: "already_registered",
                    rule: "EXM-2",
                    detail: "the trainee is already registered for this sitting".to_owned(),
                }],
            ));
            refused_at.push(i);
            continue;
        }
        let mut reasons = eligibility_of(conn, &enrolment, &class.program_id, today)?;
        let attempts = previous
            .iter()
            .map(|r| {
                Ok(PreviousAttempt {
                    status: parse_stored("exam_registrations", &r.status)?,
                    passed: r.passed,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let attempt = match next_attempt(kind, &attempts) {
            Ok(a) => a,
            Err(r) => {
                reasons.push(r);
                0
            }
        };
        if !reasons.is_empty() {
            outcome.refused.push(refused(id, reasons));
            refused_at.push(i);
            continue;
        }
        let charge = retake_charge(attempt, program.skill_level, program.exam_fee_fen);
        let row = ExamRegistrationRow {
            id: Uuid::now_v7().to_string(),
            sitting_id: sitting.id.clone(),
            enrolment_id: enrolment.id.clone(),
            person_id: enrolment.person_id.clone(),
            attempt,
            charged: charge.is_some(),
            status: RegistrationStatus::Registered.as_str().to_owned(),
            theory_score: None,
            practical_score: None,
            passed: None,
            result_entered_by: None,
            result_entered_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        guild_store::exams::insert_registration(conn, &row).map_err(|e| {
            if e.is_unique_violation() {
                ApiError::Refused(Refusal::rule(
                    "EXM-2",
                    "already_registered",
                    "the trainee was registered concurrently",
                ))
            } else {
                e.into()
            }
        })?;
        if let Some(fee) = charge {
            let mut entry = service::ledger_entry(
                &enrolment.id,
                LedgerKind::Charge,
                FeeItem::ExamFee,
                fee,
                &user.id,
                actor.at,
            );
            entry.reference = Some(row.id.clone());
            entry.note = Some(format!("{} retake exam fee (EXM-4)", program.code));
            guild_store::ledger::insert(conn, &entry)?;
        }
        let view = registration_view(conn, &row, &enrolment)?;
        audit::record::<(), _>(
            conn,
            actor,
            Change {
                action: "exam_registration.create",
                entity_type: "exam_registration",
                entity_id: &row.id,
                organisation_id: enrolment.organisation_id.as_deref(),
                before: None,
                after: Some(&view),
            },
        )?;
        outcome.registered.push(view);
    }
    Ok((outcome, refused_at))
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

/// Enters results in one transaction (EXM-1): see [`enter_results`].
fn results_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    sitting_id: &str,
    body: EnterResults,
    tz: Tz,
) -> ApiResult<Vec<RegistrationView>> {
    let sitting = find_sitting(conn, sitting_id)?;
    let class = service::class_of(conn, &sitting.class_id)?;
    if !user.sees(&access::class_owner(conn, &class, user)?) {
        return Err(ApiError::forbidden());
    }
    check_sitting_held(local_date(actor.at, tz), sitting.held_on)?;
    let exam = program_exam(conn, &class)?.exam;
    let mut problems: Vec<FieldProblem> = Vec::new();
    let mut seen = HashSet::new();
    let mut plan = Vec::new();
    for (i, input) in body.results.iter().enumerate() {
        let prefix = format!("results[{i}]");
        let key = input.registration_id.to_string();
        if !seen.insert(key.clone()) {
            problems.push(
                FieldError::new(
                    format!("{prefix}.registration_id"),
                    "duplicate",
                    "each registration at most once",
                )
                .into(),
            );
            continue;
        }
        let Some(row) = guild_store::exams::find_registration(conn, &key)?
            .filter(|r| r.sitting_id == sitting.id)
        else {
            problems.push(
                FieldError::new(
                    format!("{prefix}.registration_id"),
                    "not_in_sitting",
                    "no registration of this sitting has this id",
                )
                .into(),
            );
            continue;
        };
        let score = |part: &str, v: Option<i64>| {
            v.map(|v| check_score(&format!("{prefix}.{part}"), v))
                .transpose()
        };
        let (theory, practical) = match (
            score("theory_score", input.theory_score),
            score("practical_score", input.practical_score),
        ) {
            (Ok(t), Ok(p)) => (t, p),
            (t, p) => {
                problems.extend(t.err().into_iter().chain(p.err()).map(FieldProblem::from));
                continue;
            }
        };
        let stored = |v: Option<i32>| v.and_then(|s| u8::try_from(s).ok());
        let current = ExamResult {
            theory: stored(row.theory_score),
            practical: stored(row.practical_score),
            passed: row.passed,
            status: parse_stored("exam_registrations", &row.status)?,
        };
        match enter_result(&exam, current, theory, practical, &prefix) {
            Ok(result) => plan.push((row, result)),
            Err(errs) => problems.extend(errs.into_iter().map(FieldProblem::from)),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let now = actor.at.naive_utc();
    let mut out = Vec::new();
    for (mut row, result) in plan {
        let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
            .ok_or_else(|| ApiError::Internal("registration without enrolment".to_owned()))?;
        let before = registration_view(conn, &row, &enrolment)?;
        row.theory_score = result.theory.map(i32::from);
        row.practical_score = result.practical.map(i32::from);
        row.passed = result.passed;
        row.status = result.status.as_str().to_owned();
        row.result_entered_by = Some(user.id.clone());
        row.result_entered_at = Some(now);
        guild_store::exams::update_registration(conn, &mut row, now)?;
        let after = registration_view(conn, &row, &enrolment)?;
        audit::record(
            conn,
            actor,
            Change {
                action: "exam_registration.result",
                entity_type: "exam_registration",
                entity_id: &row.id,
                organisation_id: enrolment.organisation_id.as_deref(),
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        out.push(after);
    }
    Ok(out)
}

/// Whether a result is published: the class's results were published at or
/// after the result was entered (EXM-5).
fn is_published(
    published_at: Option<NaiveDateTime>,
    row: &ExamRegistrationRow,
    status: RegistrationStatus,
) -> bool {
    match published_at {
        None => false,
        Some(at) => has_result(status, row.passed) && row.result_entered_at.is_none_or(|t| t <= at),
    }
}

fn results_of(conn: &mut DbConn, user: &AuthUser, class: &ClassRow) -> ApiResult<ClassResults> {
    let visible = ClassRows::of(conn, class, user)?.ok_or_else(ApiError::forbidden)?;
    let sees_unpublished = user.role.is_association_staff()
        || user.role == Role::Authority
        || user.role == Role::Teacher;
    let published = guild_store::exams::results_published(conn, &class.id)?;
    let published_at = published.as_ref().map(|(at, _)| *at);
    let mut results = Vec::new();
    for (row, sitting) in guild_store::exams::registrations_for_class(conn, &class.id)? {
        let Some(enrolment) = guild_store::enrolments::find(conn, &row.enrolment_id)? else {
            continue;
        };
        if !visible.sees(&enrolment) {
            continue;
        }
        let status: RegistrationStatus = parse_stored("exam_registrations", &row.status)?;
        let is_public = is_published(published_at, &row, status);
        if !is_public && !sees_unpublished {
            continue;
        }
        results.push(ResultView {
            registration: registration_view(conn, &row, &enrolment)?,
            sitting_kind: parse_stored("sittings", &sitting.kind)?,
            held_on: sitting.held_on,
            published: is_public,
        });
    }
    Ok(ClassResults {
        class_id: uuid_of("classes", &class.id)?,
        published_at: published_at.map(|t| t.and_utc()),
        published_by: published
            .and_then(|(_, by)| by)
            .map(|b| uuid_of("classes", &b))
            .transpose()?,
        results,
    })
}

/// Publishes a class's results in one transaction (EXM-5): see [`publish_results`].
fn publish_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    class_id: &str,
) -> ApiResult<ClassResults> {
    let class =
        guild_store::classes::lock(conn, class_id)?.ok_or_else(|| ApiError::not_found("class"))?;
    let rows = guild_store::exams::registrations_for_class(conn, &class.id)?;
    let mut missing = 0;
    for (r, _) in &rows {
        let status: RegistrationStatus = parse_stored("exam_registrations", &r.status)?;
        if !has_result(status, r.passed) {
            missing += 1;
        }
    }
    check_publishable(rows.len(), missing)?;
    let before = guild_store::exams::results_published(conn, &class.id)?;
    let entered_since = before.as_ref().map_or(rows.len(), |(at, _)| {
        rows.iter()
            .filter(|(r, _)| r.result_entered_at.is_some_and(|t| t > *at))
            .count()
    });
    check_something_to_publish(before.is_some(), entered_since).map_err(ApiError::Refused)?;
    let now = actor.at.naive_utc();
    guild_store::exams::set_results_published(conn, &class.id, now, &user.id)?;
    // ARC-1, ARC-2: the first publication opens the class's archive and starts its clock.
    crate::routes::archives::open_for_class(conn, actor, &class.id, actor.at)?;
    let snapshot = |at: Option<NaiveDateTime>, by: Option<String>| serde_json::json!({"results_published_at": at.map(|t| t.and_utc()), "results_published_by": by});
    let (old_at, old_by) = before.map_or((None, None), |(at, by)| (Some(at), by));
    audit::record(
        conn,
        actor,
        Change {
            action: "class.results_publish",
            entity_type: "class",
            entity_id: &class.id,
            organisation_id: None,
            before: Some(&snapshot(old_at, old_by)),
            after: Some(&snapshot(Some(now), Some(user.id.clone()))),
        },
    )?;
    results_of(conn, user, &class)
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
    let class_id = q.class_id.map(|c| c.to_string());
    let paged = state
        .run(move |s| {
            s.store.read(|c| {
                let rows = guild_store::exams::list(
                    c,
                    class_id.as_deref(),
                    page.after.as_deref(),
                    page.limit,
                )?;
                Paged::try_from_page(rows, |r| sitting_view(c, r))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
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
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateSitting>,
) -> ApiResult<HttpResponse> {
    user.require(SITTING_MANAGERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let starts_at = parse_session_time("starts_at", &body.starts_at)?;
    let place = validate_place(&body.place)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                create_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    body,
                    starts_at,
                    place,
                )
            })
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
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = find_sitting(c, &id)?;
                sitting_view(c, row)
            })
        })
        .await?;
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
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RegisterTrainees>,
) -> ApiResult<HttpResponse> {
    user.require(SITTING_MANAGERS)?;
    validate(&*body)?;
    let id = id.into_inner().to_string();
    let ids = body.into_inner().enrolment_ids;
    let (outcome, refused_at) = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| register_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, ids, tz))
        })
        .await?;
    if outcome.registered.is_empty() {
        return Ok(all_refused(&outcome, &refused_at));
    }
    Ok(HttpResponse::Created().json(outcome))
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
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<EnterResults>,
) -> ApiResult<HttpResponse> {
    user.require(RESULT_ENTERERS)?;
    validate(&*body)?;
    let id = id.into_inner().to_string();
    let body = body.into_inner();
    let views = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| results_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, body, tz))
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
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(SITTING_MANAGERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store
                .write(|c| publish_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id))
        })
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
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let class = service::class_of(c, &id)?;
                results_of(c, &user, &class)
            })
        })
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
