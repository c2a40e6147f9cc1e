//! Recording an exam incident (DSC-1 to DSC-5): the sanction the rules
//! decide, applied in the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::ban::BanScope;
use guild_domain::discipline::{
    Decision, PriorSanction, RegisterEntryStatus, RegisterOffence, SanctionStatus, decide,
    employer_notice, summary, zero_scores,
};
use guild_domain::exam::RegistrationStatus;
use guild_domain::{Refusal, codes, local_date};
use guild_store::DbConn;
use guild_store::bans::BanRow;
use guild_store::classes::ClassRow;
use guild_store::exams::{ExamRegistrationRow, SittingRow};
use guild_store::sanctions::{MisconductEntryRow, SanctionRow};
use uuid::Uuid;

use super::{
    ENTITY, RecordIncident, RegistrationSnapshot, SanctionView, employer_notice as notice_to,
    history, kinds,
};
use crate::access::class_owner;
use crate::ctx::{Caller, Ctx};
use crate::enrolments::{class_of, person_name};
use crate::error::{AppError, AppResult};
use crate::events::{Event, kinds as ev};

/// What an incident is recorded against: the sitting, its class and the
/// examinee's locked registration.
struct Incident {
    sitting: SittingRow,
    class: ClassRow,
    registration: ExamRegistrationRow,
    /// The organisation that sent the examinee (the employer, DSC-3).
    employer: Option<String>,
    occurred_at: DateTime<Utc>,
}

/// Records an incident of sitting `sitting_id` by the caller as invigilator
/// (DSC-5) and applies the sanction the rules decide: a first cheating
/// offence in the sitting is a warning, the second disqualifies with score
/// zero (DSC-1); impersonation disqualifies and bans from the program for a
/// year (DSC-2); serious misconduct disqualifies, notifies the employer's
/// accounts, lists the case publicly and bans from everything for three
/// years (DSC-3).
pub fn record_incident(
    ctx: &Ctx,
    conn: &mut DbConn,
    sitting_id: Uuid,
    body: RecordIncident,
) -> AppResult<SanctionView> {
    let caller = ctx.caller()?;
    let incident = load_incident(ctx, conn, caller, &sitting_id.to_string(), &body)?;
    let prior: Vec<PriorSanction> = history(conn, &incident.registration.id)?
        .iter()
        .map(|p| PriorSanction {
            offence: p.offence,
            outcome: p.outcome,
            withdrawn: p.status == SanctionStatus::Withdrawn,
        })
        .collect();
    let decision = decide(body.offence, &prior, ctx.today());
    let person = person_name(conn, &incident.registration.person_id)?;
    let sanction_id = Uuid::now_v7().to_string();
    let ban = impose_ban(ctx, conn, &incident, &decision, &body, &sanction_id)?;
    let row = insert_sanction(ctx, conn, &incident, &decision, &body, &sanction_id, &ban)?;
    if decision.score_zero {
        disqualify(ctx, conn, incident.registration.clone(), &incident)?;
    }
    let text = summary(&decision);
    let mut event_notice = None;
    if let (true, Some(org)) = (row.employer_notified_at.is_some(), &incident.employer) {
        let held_on = incident.sitting.held_on;
        let text = employer_notice(&person, &incident.class.code, held_on, &text);
        event_notice = Some(notice_to(conn, org, kinds::MISCONDUCT_NOTICE, text)?);
    }
    if decision.list_publicly {
        list_on_register(ctx, conn, &incident, &decision, text, &sanction_id)?;
    }
    let out = SanctionView::from_parts(row, ban.as_ref(), person)?;
    let mut event = Event::new(
        ev::SANCTION_CREATED,
        ENTITY,
        &sanction_id,
        None::<&()>,
        Some(&out),
    )?
    .in_organisation(incident.employer.as_deref());
    if let Some(notice) = event_notice {
        event = event.notify(notice);
    }
    ctx.emit(conn, event)?;
    Ok(out)
}

/// Loads a sitting the caller may invigilate, or 404: training staff any; a
/// teacher only a sitting of a class where they are class head or teacher.
fn invigilated_sitting(
    conn: &mut DbConn,
    caller: &Caller,
    id: &str,
) -> AppResult<(SittingRow, ClassRow)> {
    let sitting = guild_store::exams::find(conn, id)?.ok_or(AppError::NotFound("sitting"))?;
    let class = class_of(conn, &sitting.class_id)?;
    if !caller.sees(&class_owner(conn, &class, caller)?) {
        return Err(AppError::NotFound("sitting"));
    }
    Ok((sitting, class))
}

/// DSC-5: an incident is not in the future and happened on the sitting's day
/// (in the association's time zone); it defaults to now.
fn check_occurred_at(
    ctx: &Ctx,
    held_on: NaiveDate,
    occurred_at: Option<DateTime<Utc>>,
) -> AppResult<DateTime<Utc>> {
    let occurred_at = occurred_at.unwrap_or(ctx.now);
    if occurred_at > ctx.now {
        return Err(AppError::field(
            "occurred_at",
            "in_future",
            "an incident cannot be recorded before it happens",
        ));
    }
    if local_date(occurred_at, ctx.tz) != held_on {
        return Err(Refusal::new(
            codes::INCIDENT_NOT_ON_SITTING_DAY,
            Some("DSC-5"),
            format!(
                "the incident must have happened during the sitting, on {}",
                held_on.format("%Y-%m-%d")
            ),
        )
        .into());
    }
    Ok(occurred_at)
}

/// The sitting, its class, the time of the incident and the examinee's
/// registration, locked so concurrent incidents and withdrawals of the same
/// examinee queue.
fn load_incident(
    ctx: &Ctx,
    conn: &mut DbConn,
    caller: &Caller,
    sitting_id: &str,
    body: &RecordIncident,
) -> AppResult<Incident> {
    let (sitting, class) = invigilated_sitting(conn, caller, sitting_id)?;
    let occurred_at = check_occurred_at(ctx, sitting.held_on, body.occurred_at)?;
    let registration =
        guild_store::sanctions::lock_registration(conn, &body.registration_id.to_string())?
            .filter(|r| r.sitting_id == sitting.id)
            .ok_or_else(|| {
                AppError::field(
                    "registration_id",
                    "unknown",
                    "no such registration in this sitting",
                )
            })?;
    let enrolment =
        guild_store::enrolments::find(conn, &registration.enrolment_id)?.ok_or_else(|| {
            AppError::Internal(format!(
                "exam registration {} names the missing enrolment {}",
                registration.id, registration.enrolment_id
            ))
        })?;
    Ok(Incident {
        sitting,
        class,
        registration,
        employer: enrolment.organisation_id,
        occurred_at,
    })
}

/// Writes the ban the decision imposes (DSC-2, DSC-3), checked by enrolment
/// (ENR-4) and exam registration (EXM-2).
fn impose_ban(
    ctx: &Ctx,
    conn: &mut DbConn,
    incident: &Incident,
    decision: &Decision,
    body: &RecordIncident,
    sanction_id: &str,
) -> AppResult<Option<BanRow>> {
    let Some(terms) = decision.ban else {
        return Ok(None);
    };
    let ban = BanRow {
        id: Uuid::now_v7().to_string(),
        person_id: incident.registration.person_id.clone(),
        scope: terms.scope.as_str().to_owned(),
        program_id: (terms.scope == BanScope::Program).then(|| incident.class.program_id.clone()),
        starts_on: terms.starts_on,
        ends_on: terms.ends_on,
        reason: format!(
            "{} at the exam sitting of class {} on {}: {}",
            body.offence,
            incident.class.code,
            incident.sitting.held_on.format("%Y-%m-%d"),
            body.description.trim()
        ),
        rule: decision.rule.to_owned(),
        sanction_id: Some(sanction_id.to_owned()),
        created_by: ctx.caller()?.id.clone(),
        created_at: ctx.now.naive_utc(),
        withdrawn_at: None,
        withdrawn_by: None,
        withdrawal_reason: None,
    };
    crate::bans::impose(ctx, conn, ban.clone())?;
    Ok(Some(ban))
}

/// Writes the sanction; the employer is notified (DSC-3) when it has one.
fn insert_sanction(
    ctx: &Ctx,
    conn: &mut DbConn,
    incident: &Incident,
    decision: &Decision,
    body: &RecordIncident,
    sanction_id: &str,
    ban: &Option<BanRow>,
) -> AppResult<SanctionRow> {
    let at = ctx.now.naive_utc();
    let notified = decision.notify_employer && incident.employer.is_some();
    let row = SanctionRow {
        id: sanction_id.to_owned(),
        sitting_id: incident.sitting.id.clone(),
        registration_id: incident.registration.id.clone(),
        person_id: incident.registration.person_id.clone(),
        organisation_id: incident.employer.clone(),
        offence: body.offence.as_str().to_owned(),
        outcome: decision.outcome.as_str().to_owned(),
        rule: decision.rule.to_owned(),
        description: body.description.trim().to_owned(),
        evidence_reference: body.evidence_reference.trim().to_owned(),
        invigilator_user_id: ctx.caller()?.id.clone(),
        occurred_at: incident.occurred_at.naive_utc(),
        ban_id: ban.as_ref().map(|b| b.id.clone()),
        employer_notified_at: notified.then_some(at),
        status: SanctionStatus::Active.as_str().to_owned(),
        withdrawn_by: None,
        withdrawn_at: None,
        withdrawal_reason: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    guild_store::sanctions::insert(conn, &row)?;
    Ok(row)
}

/// Disqualifies the registration with score zero in the parts the program
/// examines (DSC-1 to DSC-3); one `exam_registration.disqualified` event.
fn disqualify(
    ctx: &Ctx,
    conn: &mut DbConn,
    mut reg: ExamRegistrationRow,
    incident: &Incident,
) -> AppResult<()> {
    let before = reg.clone();
    let program_id = &incident.class.program_id;
    let program = guild_store::programs::find(conn, program_id)?.ok_or_else(|| {
        AppError::Internal(format!(
            "class {} names the missing program {program_id}",
            incident.class.id
        ))
    })?;
    let (theory, practical) = zero_scores(
        program.theory_mode.is_some(),
        program.practical_pass_mark.is_some(),
    );
    let at = ctx.now.naive_utc();
    reg.status = RegistrationStatus::Disqualified.as_str().to_owned();
    reg.theory_score = theory.map(i32::from);
    reg.practical_score = practical.map(i32::from);
    reg.passed = Some(false);
    reg.result_entered_by = Some(ctx.caller()?.id.clone());
    reg.result_entered_at = Some(at);
    guild_store::exams::update_registration(conn, &mut reg, at)?;
    let event = Event::new(
        ev::EXAM_REGISTRATION_DISQUALIFIED,
        "exam_registration",
        &reg.id,
        Some(&RegistrationSnapshot::of(&before)),
        Some(&RegistrationSnapshot::of(&reg)),
    )?
    .in_organisation(incident.employer.as_deref());
    ctx.emit(conn, event)
}

/// DSC-3: lists the case on the public misconduct register.
fn list_on_register(
    ctx: &Ctx,
    conn: &mut DbConn,
    incident: &Incident,
    decision: &Decision,
    text: String,
    sanction_id: &str,
) -> AppResult<()> {
    let terms = decision.ban;
    super::register::list(
        ctx,
        conn,
        &MisconductEntryRow {
            id: Uuid::now_v7().to_string(),
            person_id: Some(incident.registration.person_id.clone()),
            organisation_id: incident.employer.clone(),
            offence: RegisterOffence::SeriousMisconduct.as_str().to_owned(),
            sanction_summary: text,
            starts_on: terms.map_or(ctx.today(), |t| t.starts_on),
            ends_on: terms.map(|t| t.ends_on),
            sanction_id: Some(sanction_id.to_owned()),
            status: RegisterEntryStatus::Listed.as_str().to_owned(),
            withdrawal_reason: None,
            withdrawn_at: None,
            published_at: ctx.now.naive_utc(),
        },
    )
}
