//! Results of sittings: entering them (EXM-1), publishing a class's (EXM-5)
//! and reading them.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use guild_domain::access::Scope;
use guild_domain::error::FieldError;
use guild_domain::exam::{
    ExamResult, RegistrationStatus, check_publishable, check_score, check_sitting_held,
    check_something_to_publish, enter_result, has_result,
};
use guild_domain::program::ExamComponents;
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::exams::{ExamRegistrationRow, SittingRow};
use uuid::Uuid;

use super::records::{ClassResults, EnterResults, RegistrationView, ResultInput, ResultView};
use super::{find_sitting, program_exam, registration_view};
use crate::access::{ClassRows, class_owner};
use crate::ctx::{Caller, Ctx};
use crate::enrolments;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::{stored_id, stored_opt};

/// Enters results of a sitting per part (EXM-1, EXM-5): by training staff or
/// the class's head and teachers (403 for other teachers); from the
/// sitting's date on (`sitting_not_held`). Every offending entry is reported
/// (422 per field) before anything is written. Each registration emits
/// `exam_registration.result_recorded` with before and after.
pub fn enter_results(
    ctx: &Ctx,
    conn: &mut DbConn,
    sitting_id: Uuid,
    body: EnterResults,
) -> AppResult<Vec<RegistrationView>> {
    let caller = ctx.caller()?;
    let sitting = find_sitting(conn, &sitting_id.to_string())?;
    let class = enrolments::class_of(conn, &sitting.class_id)?;
    if !caller.sees(&class_owner(conn, &class, caller)?) {
        return Err(AppError::Forbidden);
    }
    check_sitting_held(ctx.today(), sitting.held_on)?;
    let exam = program_exam(conn, &class)?.exam;
    let plan = plan_results(conn, &sitting, &exam, &body.results)?;
    let now = ctx.now.naive_utc();
    let mut out = Vec::new();
    for (mut row, result) in plan {
        let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
            .ok_or_else(|| AppError::Internal("registration without enrolment".to_owned()))?;
        let before = registration_view(conn, &row, &enrolment)?;
        row.theory_score = result.theory.map(i32::from);
        row.practical_score = result.practical.map(i32::from);
        row.passed = result.passed;
        row.status = result.status.as_str().to_owned();
        row.result_entered_by = Some(caller.id.clone());
        row.result_entered_at = Some(now);
        guild_store::exams::update_registration(conn, &mut row, now)?;
        let after = registration_view(conn, &row, &enrolment)?;
        let event = Event::new(
            ev::EXAM_REGISTRATION_RESULT_RECORDED,
            "exam_registration",
            &row.id,
            Some(&before),
            Some(&after),
        )?
        .in_organisation(enrolment.organisation_id.as_deref());
        ctx.emit(conn, event)?;
        out.push(after);
    }
    Ok(out)
}

/// EXM-1: each entry names a registration of the sitting, at most once, with
/// scores 0–100 of parts the exam has; the result each one gets.
fn plan_results(
    conn: &mut DbConn,
    sitting: &SittingRow,
    exam: &ExamComponents,
    results: &[ResultInput],
) -> AppResult<Vec<(ExamRegistrationRow, ExamResult)>> {
    let mut problems: Vec<FieldError> = Vec::new();
    let mut seen = HashSet::new();
    let mut plan = Vec::new();
    for (i, input) in results.iter().enumerate() {
        let prefix = format!("results[{i}]");
        let key = input.registration_id.to_string();
        if !seen.insert(key.clone()) {
            problems.push(FieldError::new(
                format!("{prefix}.registration_id"),
                "duplicate",
                "each registration at most once",
            ));
            continue;
        }
        let Some(row) = guild_store::exams::find_registration(conn, &key)?
            .filter(|r| r.sitting_id == sitting.id)
        else {
            problems.push(FieldError::new(
                format!("{prefix}.registration_id"),
                "not_in_sitting",
                "no registration of this sitting has this id",
            ));
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
                problems.extend(t.err().into_iter().chain(p.err()));
                continue;
            }
        };
        let kept = |v: Option<i32>| v.and_then(|s| u8::try_from(s).ok());
        let current = ExamResult {
            theory: kept(row.theory_score),
            practical: kept(row.practical_score),
            passed: row.passed,
            status: stored("exam_registrations", &row.status)?,
        };
        match enter_result(exam, current, theory, practical, &prefix) {
            Ok(result) => plan.push((row, result)),
            Err(errs) => problems.extend(errs),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    Ok(plan)
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

/// A class's exam results as `caller` may see them (EXM-5, ACC-2): those who
/// see the whole class (association staff, the authority, its teachers) also
/// the unpublished ones; organisations and trainees only their published ones.
fn results_of(conn: &mut DbConn, caller: &Caller, class: &ClassRow) -> AppResult<ClassResults> {
    let visible = ClassRows::of(conn, class, caller)?.ok_or(AppError::Forbidden)?;
    let sees_unpublished = matches!(caller.scope(), Scope::All | Scope::Teacher(_));
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
        let status: RegistrationStatus = stored("exam_registrations", &row.status)?;
        let is_public = is_published(published_at, &row, status);
        if !is_public && !sees_unpublished {
            continue;
        }
        results.push(ResultView {
            registration: registration_view(conn, &row, &enrolment)?,
            sitting_kind: stored("sittings", &sitting.kind)?,
            held_on: sitting.held_on,
            published: is_public,
        });
    }
    Ok(ClassResults {
        class_id: stored_id("classes", &class.id)?,
        published_at: published_at.map(|t| t.and_utc()),
        published_by: stored_opt("classes", published.and_then(|(_, by)| by).as_deref())?,
        results,
    })
}

/// A class's exam results (EXM-5); other teachers 403.
pub fn class_results(ctx: &Ctx, conn: &mut DbConn, class_id: Uuid) -> AppResult<ClassResults> {
    let class = enrolments::class_of(conn, &class_id.to_string())?;
    results_of(conn, ctx.caller()?, &class)
}

/// Publishes a class's results (EXM-5) under the class lock: only when every
/// registration has its result (`results_incomplete`, `no_results`), and
/// again only with results entered since (409 `results_already_published`).
/// The first publication opens the class's archive (ARC-1, ARC-2). Emits
/// `class.results_published` with the publication before and after.
pub fn publish(ctx: &Ctx, conn: &mut DbConn, class_id: Uuid) -> AppResult<ClassResults> {
    let caller = ctx.caller()?;
    let class = guild_store::classes::lock(conn, &class_id.to_string())?
        .ok_or(AppError::NotFound("class"))?;
    let rows = guild_store::exams::registrations_for_class(conn, &class.id)?;
    let mut missing = 0;
    for (r, _) in &rows {
        let status: RegistrationStatus = stored("exam_registrations", &r.status)?;
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
    check_something_to_publish(before.is_some(), entered_since)?;
    let now = ctx.now.naive_utc();
    guild_store::exams::set_results_published(conn, &class.id, now, &caller.id)?;
    // ARC-1, ARC-2: the first publication opens the class's archive and starts its clock.
    crate::archives::open_for_class(ctx, conn, &class.id, ctx.now)?;
    let snapshot = |at: Option<NaiveDateTime>, by: Option<String>| serde_json::json!({"results_published_at": at.map(|t| t.and_utc()), "results_published_by": by});
    let (old_at, old_by) = before.map_or((None, None), |(at, by)| (Some(at), by));
    let event = Event::new(
        ev::CLASS_RESULTS_PUBLISHED,
        "class",
        &class.id,
        Some(&snapshot(old_at, old_by)),
        Some(&snapshot(Some(now), Some(caller.id.clone()))),
    )?;
    ctx.emit(conn, event)?;
    results_of(conn, caller, &class)
}
