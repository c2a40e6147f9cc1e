//! Exam sittings, registration, results, publishing and retakes (EXM-1 to
//! EXM-5).
//!
//! - A sitting is `first` or `retake`, scheduled by training staff.
//!   Sittings are association data: every role but CE providers may read
//!   them (time and place of the exam).
//! - [`register`] registers eligible trainees only (EXM-2, the reasons of
//!   [`crate::attendance::eligibility_of`]) and answers which were registered
//!   and, for each one refused, every reason. A retake takes a trainee whose
//!   one first attempt failed (EXM-3); for a `skill_level` program it charges
//!   the exam fee again in the same transaction (EXM-4).
//! - [`enter_results`] enters scores per part; `passed` is decided by the
//!   domain from the program's exam components (EXM-1).
//! - [`publish`] publishes a class's results once every registration of
//!   every sitting has its result (EXM-5) and opens the class's archive
//!   (ARC-2 runs from that time). Trainees and organisations see a result
//!   only once published: a result entered (or corrected) after the last
//!   publication stays hidden until the class's results are published again.

mod records;
mod results;

pub use records::{
    ClassResults, CreateSitting, EnterResults, RefusedRegistration, RegisterTrainees,
    RegistrationOutcome, RegistrationView, ResultInput, ResultView, SittingView,
};
pub use results::{class_results, enter_results, publish};

use std::collections::HashSet;

use chrono::NaiveTime;
use guild_domain::Fen;
use guild_domain::class::{ClassStatus, format_session_time};
use guild_domain::exam::{
    Ineligibility, PreviousAttempt, RegistrationStatus, SittingKind, SittingStatus,
    check_sitting_date, next_attempt, retake_charge,
};
use guild_domain::fees::{FeeItem, LedgerKind};
use guild_domain::program::ExamComponents;
use guild_domain::{Refusal, codes};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::exams::{ExamRegistrationRow, SittingRow};
use guild_store::programs::ProgramRow;
use uuid::Uuid;

use crate::attendance::eligibility_of;
use crate::ctx::Ctx;
use crate::enrolments;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::{Page, PageRequest};

fn sitting_view(conn: &mut DbConn, r: SittingRow) -> AppResult<SittingView> {
    let class = enrolments::class_of(conn, &r.class_id)?;
    let registrations = guild_store::exams::registration_count(conn, &r.id)?;
    Ok(SittingView {
        id: stored_id("sittings", &r.id)?,
        class_id: stored_id("sittings", &r.class_id)?,
        program_id: stored_id("classes", &class.program_id)?,
        kind: stored("sittings", &r.kind)?,
        held_on: r.held_on,
        starts_at: format_session_time(r.starts_at),
        place: r.place,
        status: stored("sittings", &r.status)?,
        registrations,
        created_by: stored_id("sittings", &r.created_by)?,
        version: r.version,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

/// The record of a registration of `enrolment`.
fn registration_view(
    conn: &mut DbConn,
    r: &ExamRegistrationRow,
    enrolment: &EnrolmentRow,
) -> AppResult<RegistrationView> {
    let t = "exam_registrations";
    Ok(RegistrationView {
        id: stored_id(t, &r.id)?,
        sitting_id: stored_id(t, &r.sitting_id)?,
        enrolment_id: stored_id(t, &r.enrolment_id)?,
        person_id: stored_id(t, &r.person_id)?,
        person_name: enrolments::person_name(conn, &r.person_id)?,
        organisation_id: stored_opt(t, enrolment.organisation_id.as_deref())?,
        attempt: r.attempt,
        charged: r.charged,
        status: stored(t, &r.status)?,
        theory_score: r.theory_score,
        practical_score: r.practical_score,
        passed: r.passed,
        result_entered_by: stored_opt(t, r.result_entered_by.as_deref())?,
        result_entered_at: r.result_entered_at.map(|x| x.and_utc()),
        version: r.version,
    })
}

fn find_sitting(conn: &mut DbConn, id: &str) -> AppResult<SittingRow> {
    guild_store::exams::find(conn, id)?.ok_or(AppError::NotFound("sitting"))
}

/// What registration and results need of a class's program.
struct ProgramExam {
    code: String,
    exam: ExamComponents,
    skill_level: bool,
    exam_fee: Fen,
}

/// The exam of a class's program (EXM-1, EXM-4); a missing program is corrupt data.
fn program_exam(conn: &mut DbConn, class: &ClassRow) -> AppResult<ProgramExam> {
    let r: ProgramRow = guild_store::programs::find(conn, &class.program_id)?
        .ok_or_else(|| AppError::Internal(format!("class {} names a missing program", class.id)))?;
    Ok(ProgramExam {
        exam: crate::programs::exam_of(&r)?,
        code: r.code,
        skill_level: r.skill_level,
        exam_fee: Fen::from_stored(r.exam_fee_fen),
    })
}

/// Lists exam sittings, oldest first, optionally of one class.
pub fn list(
    conn: &mut DbConn,
    class_id: Option<Uuid>,
    page: PageRequest,
) -> AppResult<Page<SittingView>> {
    let class_id = class_id.map(|c| c.to_string());
    guild_store::exams::list(conn, class_id.as_deref(), page.after.as_deref(), page.limit)?
        .try_map(|r| sitting_view(conn, r))
}

/// One exam sitting.
pub fn get(conn: &mut DbConn, id: Uuid) -> AppResult<SittingView> {
    let row = find_sitting(conn, &id.to_string())?;
    sitting_view(conn, row)
}

/// Schedules a sitting of a class (EXM-3, EXM-5): a cancelled class has no
/// exam (`class_cancelled`); a sitting is never dated before the class's
/// start date (`sitting_before_class`). Emits `sitting.created`.
pub fn create(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateSitting,
    starts_at: NaiveTime,
    place: String,
) -> AppResult<SittingView> {
    let class = enrolments::class_of(conn, &body.class_id.to_string())?;
    let status: ClassStatus = stored("classes", &class.status)?;
    if status == ClassStatus::Cancelled {
        return Err(AppError::Refused(Refusal::rule(
            "CLS-1",
            "class_cancelled",
            "the class is cancelled: it has no exam",
        )));
    }
    check_sitting_date(body.held_on, class.start_date)?;
    let now = ctx.now.naive_utc();
    let row = SittingRow {
        id: Uuid::now_v7().to_string(),
        class_id: class.id.clone(),
        kind: body.kind.as_str().to_owned(),
        held_on: body.held_on,
        starts_at,
        place,
        status: SittingStatus::Scheduled.as_str().to_owned(),
        version: 1,
        created_by: ctx.caller()?.id.clone(),
        created_at: now,
        updated_at: now,
    };
    guild_store::exams::insert(conn, &row)?;
    let view = sitting_view(conn, row)?;
    let event = Event::new(
        ev::SITTING_CREATED,
        "sitting",
        view.id,
        None::<&()>,
        Some(&view),
    )?;
    ctx.emit(conn, event)?;
    Ok(view)
}

/// What a registration request did, and the request positions
/// (`enrolment_ids[i]`) of the trainees refused.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The registered and the refused.
    pub outcome: RegistrationOutcome,
    /// The index in the request of each refused trainee, in `outcome.refused` order.
    pub refused_at: Vec<usize>,
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
/// refused trainee. Each registration emits `exam_registration.created`.
pub fn register(
    ctx: &Ctx,
    conn: &mut DbConn,
    sitting_id: Uuid,
    ids: Vec<Uuid>,
) -> AppResult<Registration> {
    let sitting = find_sitting(conn, &sitting_id.to_string())?;
    let class =
        guild_store::classes::lock(conn, &sitting.class_id)?.ok_or(AppError::NotFound("class"))?;
    let kind: SittingKind = stored("sittings", &sitting.kind)?;
    let program = program_exam(conn, &class)?;
    let mut done = Registration {
        outcome: RegistrationOutcome {
            registered: Vec::new(),
            refused: Vec::new(),
        },
        refused_at: Vec::new(),
    };
    let mut seen = HashSet::new();
    for (i, id) in ids.into_iter().enumerate() {
        if !seen.insert(id) {
            continue;
        }
        match check_registrable(ctx, conn, &sitting, &class, kind, id)? {
            Err(reasons) => {
                done.outcome.refused.push(RefusedRegistration {
                    enrolment_id: id,
                    reasons,
                });
                done.refused_at.push(i);
            }
            Ok((enrolment, attempt)) => {
                let view = register_one(ctx, conn, &sitting, &program, &enrolment, attempt)?;
                done.outcome.registered.push(view);
            }
        }
    }
    Ok(done)
}

/// EXM-2, EXM-3: the enrolment and its attempt number, or every reason it
/// may not be registered for the sitting.
fn check_registrable(
    ctx: &Ctx,
    conn: &mut DbConn,
    sitting: &SittingRow,
    class: &ClassRow,
    kind: SittingKind,
    id: Uuid,
) -> AppResult<Result<(EnrolmentRow, i32), Vec<Ineligibility>>> {
    let Some(enrolment) =
        guild_store::enrolments::find(conn, &id.to_string())?.filter(|e| e.class_id == class.id)
    else {
        return Ok(Err(vec![Ineligibility {
            code: codes::NOT_IN_CLASS,
            rule: "EXM-2",
            detail: "no enrolment of the sitting's class has this id".to_owned(),
        }]));
    };
    let previous = guild_store::exams::registrations_for_enrolment(conn, &enrolment.id)?;
    if previous.iter().any(|r| r.sitting_id == sitting.id) {
        return Ok(Err(vec![Ineligibility {
            code: codes::ALREADY_REGISTERED,
            rule: "EXM-2",
            detail: "the trainee is already registered for this sitting".to_owned(),
        }]));
    }
    let mut reasons = eligibility_of(conn, &enrolment, &class.program_id, ctx.today())?;
    let attempts = previous
        .iter()
        .map(|r| {
            Ok(PreviousAttempt {
                status: stored("exam_registrations", &r.status)?,
                passed: r.passed,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let attempt = match next_attempt(kind, &attempts) {
        Ok(a) => a,
        Err(r) => {
            reasons.push(r);
            0
        }
    };
    if reasons.is_empty() {
        Ok(Ok((enrolment, attempt)))
    } else {
        Ok(Err(reasons))
    }
}

/// Writes one registration, with the retake's exam fee (EXM-4), and emits
/// `exam_registration.created`.
fn register_one(
    ctx: &Ctx,
    conn: &mut DbConn,
    sitting: &SittingRow,
    program: &ProgramExam,
    enrolment: &EnrolmentRow,
    attempt: i32,
) -> AppResult<RegistrationView> {
    let now = ctx.now.naive_utc();
    let charge = retake_charge(attempt, program.skill_level, program.exam_fee);
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
    guild_store::exams::insert_registration(conn, &row).or_taken(|| {
        AppError::Refused(Refusal::rule(
            "EXM-2",
            "already_registered",
            "the trainee was registered concurrently",
        ))
    })?;
    if let Some(fee) = charge {
        let by = &ctx.caller()?.id;
        let mut entry = enrolments::ledger_entry(
            &enrolment.id,
            LedgerKind::Charge,
            FeeItem::ExamFee,
            fee,
            by,
            ctx.now,
        );
        entry.reference = Some(row.id.clone());
        entry.note = Some(format!("{} retake exam fee (EXM-4)", program.code));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let view = registration_view(conn, &row, enrolment)?;
    let event = Event::new(
        ev::EXAM_REGISTRATION_CREATED,
        "exam_registration",
        &row.id,
        None::<&()>,
        Some(&view),
    )?
    .in_organisation(enrolment.organisation_id.as_deref());
    ctx.emit(conn, event)?;
    Ok(view)
}
