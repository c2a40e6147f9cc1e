//! Exam discipline (DSC-1 to DSC-5) and the public misconduct register
//! (不良行为专栏, DSC-3; later also certificate forgery, CRT-7).
//!
//! - Invigilators record incidents of a sitting: training staff, or the class
//!   head and teachers of the sitting's class (a teacher of another class gets
//!   404 for the sitting, as for the class). The caller is the invigilator
//!   recorded (DSC-5). In one transaction the domain decides the sanction
//!   ([`guild_domain::discipline::decide`]) and it is applied: the registration
//!   is disqualified with score zero, the ban is written to `bans` (ENR-4 and
//!   EXM-2 check it), and for serious misconduct the employer organisation's
//!   accounts are notified and the case is listed on the public register.
//! - Who reads sanctions: association staff and the authority all of them;
//!   organisation accounts those of the people their organisation sent to the
//!   class (ACC-2: another organisation's answer 404); trainees their own;
//!   teachers those they recorded; providers none (403).
//! - Only a training head withdraws a sanction, with a reason (DSC-5): its
//!   ban is withdrawn, the disqualification is lifted (back to `registered`
//!   with the scores cleared, to be entered again) unless another active
//!   sanction still disqualifies, and a listed case stays on the register
//!   marked withdrawn with the reason, with a public notice.
//! - The public register lists entries newest first (by publication).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::ban::BanScope;
use guild_domain::discipline::{
    LaterSanction, Offence, Outcome, PriorSanction, RegisterEntryStatus, RegisterOffence,
    SanctionAction, SanctionStatus, check_withdrawable, decide, employer_notice,
    employer_withdrawal_notice, lifts_disqualification, sanction_allowed_actions,
    sanction_transition, summary, withdrawal_notice, zero_scores,
};
use guild_domain::exam::RegistrationStatus;
use guild_domain::notice::NoticeKind;
use guild_domain::person::mask_name;
use guild_domain::{Role, local_date};
use guild_store::DbConn;
use guild_store::bans::BanRow;
use guild_store::exams::{ExamRegistrationRow, SittingRow};
use guild_store::notifications::NotificationRow;
use guild_store::sanctions::{
    EntryFilter, EntryWithNames, MisconductEntryRow, SanctionFilter, SanctionRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Owner, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, CLASS_RECORD_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, PublicErrors, ReadErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments::class_of;
use guild_app::inputs::Reason;
use guild_app::notices::publish;

/// Notification kinds written by exam discipline.
pub mod kinds {
    /// The employer is told of an employee's serious misconduct (DSC-3).
    pub const MISCONDUCT_NOTICE: &str = "misconduct_notice";
    /// The employer is told that sanction was withdrawn (DSC-5).
    pub const MISCONDUCT_WITHDRAWN: &str = "misconduct_withdrawn";
}

/// The ban imposed with a sanction (DSC-2, DSC-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SanctionBan {
    /// The ban id (see `/bans/{id}`; named in ENR-4 refusals).
    pub id: Uuid,
    /// `program` (DSC-2) or `all` (DSC-3).
    pub scope: BanScope,
    /// The program of a `program` ban.
    pub program_id: Option<Uuid>,
    /// First day (inclusive).
    pub starts_on: NaiveDate,
    /// Last day (inclusive): the day before the same date one (DSC-2) or three (DSC-3) years later.
    pub ends_on: NaiveDate,
    /// When it was withdrawn with the sanction (DSC-5).
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// An exam sanction (DSC-5: the incident, the invigilator, the evidence reference and the rule applied).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SanctionView {
    /// The sanction id.
    pub id: Uuid,
    /// The sitting where the incident happened.
    pub sitting_id: Uuid,
    /// The examinee's registration for that sitting.
    pub registration_id: Uuid,
    /// The examinee.
    pub person_id: Uuid,
    /// The examinee's name.
    pub person_name: String,
    /// The organisation that sent the examinee (the employer notified under DSC-3).
    pub organisation_id: Option<Uuid>,
    /// What the examinee did.
    pub offence: Offence,
    /// What was decided.
    pub outcome: Outcome,
    /// The rule applied: `DSC-1`, `DSC-2` or `DSC-3`.
    pub rule: String,
    /// Whether the examinee was disqualified from the sitting with score zero.
    pub score_zero: bool,
    /// The incident as the invigilator describes it.
    pub description: String,
    /// Where the evidence is kept (video file, photo, seized device tag).
    pub evidence_reference: String,
    /// The invigilator who recorded it.
    pub invigilator_user_id: Uuid,
    /// When the incident happened.
    pub occurred_at: DateTime<Utc>,
    /// The ban imposed with it.
    pub ban: Option<SanctionBan>,
    /// When the employer organisation was notified (DSC-3).
    pub employer_notified_at: Option<DateTime<Utc>>,
    /// `active` or `withdrawn`.
    pub status: SanctionStatus,
    /// The training head who withdrew it (DSC-5).
    pub withdrawn_by: Option<Uuid>,
    /// When.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Why.
    pub withdrawal_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The actions its state allows.
    pub allowed_actions: Vec<String>,
}

impl SanctionView {
    fn of(r: SanctionRow, ban: Option<&BanRow>, person_name: String) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("sanctions", v);
        let outcome: Outcome = parse_stored("sanctions", &r.outcome)?;
        let status: SanctionStatus = parse_stored("sanctions", &r.status)?;
        let ban = ban
            .map(|b| -> ApiResult<SanctionBan> {
                Ok(SanctionBan {
                    id: id(&b.id)?,
                    scope: parse_stored("bans", &b.scope)?,
                    program_id: b.program_id.as_deref().map(id).transpose()?,
                    starts_on: b.starts_on,
                    ends_on: b.ends_on,
                    withdrawn_at: b.withdrawn_at.map(|t| t.and_utc()),
                })
            })
            .transpose()?;
        Ok(SanctionView {
            id: id(&r.id)?,
            sitting_id: id(&r.sitting_id)?,
            registration_id: id(&r.registration_id)?,
            person_id: id(&r.person_id)?,
            person_name,
            organisation_id: r.organisation_id.as_deref().map(id).transpose()?,
            offence: parse_stored("sanctions", &r.offence)?,
            outcome,
            rule: r.rule,
            score_zero: outcome.disqualifies(),
            description: r.description,
            evidence_reference: r.evidence_reference,
            invigilator_user_id: id(&r.invigilator_user_id)?,
            occurred_at: r.occurred_at.and_utc(),
            ban,
            employer_notified_at: r.employer_notified_at.map(|t| t.and_utc()),
            status,
            withdrawn_by: r.withdrawn_by.as_deref().map(id).transpose()?,
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
            withdrawal_reason: r.withdrawal_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            allowed_actions: sanction_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// The views of many sanctions, with their bans and names in batched queries.
fn views(conn: &mut DbConn, rows: Vec<SanctionRow>) -> ApiResult<Vec<SanctionView>> {
    let ban_ids: Vec<String> = rows.iter().filter_map(|r| r.ban_id.clone()).collect();
    let bans = guild_store::sanctions::bans_by_ids(conn, &ban_ids)?;
    let person_ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
    let names = guild_store::sanctions::person_names(conn, &person_ids)?;
    rows.into_iter()
        .map(|r| {
            let ban = r
                .ban_id
                .as_deref()
                .and_then(|b| bans.iter().find(|x| x.id == b));
            let name = names.get(&r.person_id).cloned().unwrap_or_default();
            SanctionView::of(r, ban, name)
        })
        .collect()
}

fn view(conn: &mut DbConn, row: SanctionRow) -> ApiResult<SanctionView> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::Internal("a sanction view went missing".to_owned()))
}

/// An incident recorded by an invigilator during a sitting (DSC-5).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"registration_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "offence": "cheating", "description": "Copied from the neighbour's answer sheet in the theory part", "evidence_reference": "CCTV room 3, 09:42-09:47"}))]
pub struct RecordIncident {
    /// The examinee's registration for this sitting.
    pub registration_id: Uuid,
    /// `cheating` (DSC-1), `impersonation` (DSC-2) or `serious_misconduct` (DSC-3).
    pub offence: Offence,
    /// What happened.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    /// Where the evidence is kept (DSC-5).
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub evidence_reference: String,
    /// When it happened, on the sitting's day and not in the future; default now.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Filters for the sanction list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SanctionQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only sanctions of this sitting.
    pub sitting_id: Option<Uuid>,
    /// Only this person's sanctions.
    pub person_id: Option<Uuid>,
    /// Only sanctions with this status.
    pub status: Option<SanctionStatus>,
    /// Only sanctions for this offence.
    pub offence: Option<Offence>,
}

/// ACC-2: whether `caller` may see sanction `row` ([`guild_domain::access`]):
/// its person's and organisation's, and the invigilator's who recorded it.
fn can_see(caller: &AuthUser, row: &SanctionRow) -> bool {
    caller.sees(
        &Owner::of_person(
            access::id(&row.person_id),
            access::opt_id(row.organisation_id.as_deref()),
        )
        .with_teachers(access::id(&row.invigilator_user_id)),
    )
}

/// The list filter that confines `caller` to what it may see (ACC-2).
fn scoped_filter(caller: &AuthUser) -> SanctionFilter {
    let mut filter = SanctionFilter::default();
    match caller.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.organisation_id = Some(o.to_string()),
        Scope::Person(p) => filter.person_id = Some(p.to_string()),
        Scope::Teacher(u) => filter.invigilator_user_id = Some(u.to_string()),
        Scope::Provider(_) | Scope::Nothing => filter.person_id = Some(access::no_id()),
    }
    filter
}

fn visible_sanction(conn: &mut DbConn, caller: &AuthUser, id: &str) -> ApiResult<SanctionRow> {
    guild_store::sanctions::find(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or_else(|| ApiError::not_found("sanction"))
}

/// Loads a sitting the caller may invigilate, or 404: training staff any; a
/// teacher only a sitting of a class where they are class head or teacher.
fn invigilated_sitting(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<(SittingRow, guild_store::classes::ClassRow)> {
    let sitting =
        guild_store::exams::find(conn, id)?.ok_or_else(|| ApiError::not_found("sitting"))?;
    let class = class_of(conn, &sitting.class_id)?;
    if !caller.sees(&access::class_owner(conn, &class, caller)?) {
        return Err(ApiError::not_found("sitting"));
    }
    Ok((sitting, class))
}

fn parse_history(
    rows: &[SanctionRow],
) -> ApiResult<Vec<(SanctionRow, Offence, Outcome, SanctionStatus)>> {
    rows.iter()
        .map(|r| {
            Ok((
                r.clone(),
                parse_stored("sanctions", &r.offence)?,
                parse_stored("sanctions", &r.outcome)?,
                parse_stored("sanctions", &r.status)?,
            ))
        })
        .collect()
}

fn notify_accounts(
    conn: &mut DbConn,
    organisation_id: &str,
    kind: &str,
    (title, body): (String, String),
    sanction_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for user in guild_store::sanctions::organisation_accounts(conn, organisation_id)? {
        guild_store::notifications::insert(
            conn,
            &NotificationRow {
                id: Uuid::now_v7().to_string(),
                recipient_user_id: user,
                kind: kind.to_owned(),
                title: title.clone(),
                body: body.clone(),
                entity_type: "sanction".to_owned(),
                entity_id: sanction_id.to_owned(),
                created_at: now.naive_utc(),
                read_at: None,
            },
        )?;
    }
    Ok(())
}

/// One write transaction of recording an incident (DSC-1 to DSC-5).
fn record(
    conn: &mut DbConn,
    caller: &AuthUser,
    ctx: &RequestContext,
    sitting_id: &str,
    body: RecordIncident,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> ApiResult<SanctionView> {
    let (sitting, class) = invigilated_sitting(conn, caller, sitting_id)?;
    let occurred_at = body.occurred_at.unwrap_or(now);
    if occurred_at > now {
        return Err(ApiError::field(
            "occurred_at",
            "in_future",
            "an incident cannot be recorded before it happens",
        ));
    }
    if local_date(occurred_at, tz) != sitting.held_on {
        return Err(ApiError::Refused(guild_domain::Refusal::rule(
            "DSC-5",
            "incident_not_on_sitting_day",
            format!(
                "the incident must have happened during the sitting, on {}",
                sitting.held_on.format("%Y-%m-%d")
            ),
        )));
    }
    let mut reg: ExamRegistrationRow =
        guild_store::sanctions::lock_registration(conn, &body.registration_id.to_string())?
            .filter(|r| r.sitting_id == sitting.id)
            .ok_or_else(|| {
                ApiError::field(
                    "registration_id",
                    "unknown",
                    "no such registration in this sitting",
                )
            })?;
    let history = parse_history(&guild_store::sanctions::of_registration(conn, &reg.id)?)?;
    let prior: Vec<PriorSanction> = history
        .iter()
        .map(|(_, offence, outcome, status)| PriorSanction {
            offence: *offence,
            outcome: *outcome,
            withdrawn: *status == SanctionStatus::Withdrawn,
        })
        .collect();
    let today = local_date(now, tz);
    let decision = decide(body.offence, &prior, today);
    let enrolment = guild_store::enrolments::find(conn, &reg.enrolment_id)?
        .ok_or_else(|| ApiError::not_found("enrolment"))?;
    let person = guild_store::people::find(conn, &reg.person_id)?
        .ok_or_else(|| ApiError::not_found("person"))?;
    let sanction_id = Uuid::now_v7().to_string();
    let at = now.naive_utc();
    let description = body.description.trim().to_owned();

    // The ban (DSC-2, DSC-3), checked by enrolment (ENR-4) and exam registration (EXM-2).
    let ban = decision.ban.map(|terms| BanRow {
        id: Uuid::now_v7().to_string(),
        person_id: reg.person_id.clone(),
        scope: terms.scope.as_str().to_owned(),
        program_id: (terms.scope == BanScope::Program).then(|| class.program_id.clone()),
        starts_on: terms.starts_on,
        ends_on: terms.ends_on,
        reason: format!(
            "{} at the exam sitting of class {} on {}: {description}",
            body.offence,
            class.code,
            sitting.held_on.format("%Y-%m-%d")
        ),
        rule: decision.rule.to_owned(),
        sanction_id: Some(sanction_id.clone()),
        created_by: caller.id.clone(),
        created_at: at,
        withdrawn_at: None,
        withdrawn_by: None,
        withdrawal_reason: None,
    });
    if let Some(ban) = &ban {
        guild_store::bans::insert(conn, ban)?;
    }
    let employer = enrolment.organisation_id.clone();
    let notified = decision.notify_employer && employer.is_some();
    let row = SanctionRow {
        id: sanction_id.clone(),
        sitting_id: sitting.id.clone(),
        registration_id: reg.id.clone(),
        person_id: reg.person_id.clone(),
        organisation_id: employer.clone(),
        offence: body.offence.as_str().to_owned(),
        outcome: decision.outcome.as_str().to_owned(),
        rule: decision.rule.to_owned(),
        description,
        evidence_reference: body.evidence_reference.trim().to_owned(),
        invigilator_user_id: caller.id.clone(),
        occurred_at: occurred_at.naive_utc(),
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

    // Disqualification with score zero (DSC-1 to DSC-3).
    if decision.score_zero {
        let before = reg.clone();
        let program = guild_store::programs::find(conn, &class.program_id)?
            .ok_or_else(|| ApiError::not_found("program"))?;
        let (theory, practical) = zero_scores(
            program.theory_mode.is_some(),
            program.practical_pass_mark.is_some(),
        );
        reg.status = RegistrationStatus::Disqualified.as_str().to_owned();
        reg.theory_score = theory.map(i32::from);
        reg.practical_score = practical.map(i32::from);
        reg.passed = Some(false);
        reg.result_entered_by = Some(caller.id.clone());
        reg.result_entered_at = Some(at);
        guild_store::exams::update_registration(conn, &mut reg, at)?;
        audit::record(
            conn,
            &Actor::new(caller, ctx, now),
            Change {
                action: "exam_registration.disqualify",
                entity_type: "exam_registration",
                entity_id: &reg.id,
                organisation_id: employer.as_deref(),
                before: Some(&RegistrationSnapshot::of(&before)),
                after: Some(&RegistrationSnapshot::of(&reg)),
            },
        )?;
    }

    let text = summary(&decision);
    // DSC-3: the employer is notified and the case is listed publicly.
    if let (true, Some(org)) = (notified, employer.as_deref()) {
        notify_accounts(
            conn,
            org,
            kinds::MISCONDUCT_NOTICE,
            employer_notice(&person.name, &class.code, sitting.held_on, &text),
            &sanction_id,
            now,
        )?;
    }
    if decision.list_publicly {
        let terms = decision.ban;
        guild_store::sanctions::insert_misconduct_entry(
            conn,
            &MisconductEntryRow {
                id: Uuid::now_v7().to_string(),
                person_id: Some(reg.person_id.clone()),
                organisation_id: employer.clone(),
                offence: RegisterOffence::SeriousMisconduct.as_str().to_owned(),
                sanction_summary: text,
                starts_on: terms.map_or(today, |t| t.starts_on),
                ends_on: terms.map(|t| t.ends_on),
                sanction_id: Some(sanction_id.clone()),
                status: RegisterEntryStatus::Listed.as_str().to_owned(),
                withdrawal_reason: None,
                withdrawn_at: None,
                published_at: at,
            },
        )?;
    }
    let out = SanctionView::of(row, ban.as_ref(), person.name)?;
    audit::record::<(), _>(
        conn,
        &Actor::new(caller, ctx, now),
        Change {
            action: "sanction.create",
            entity_type: "sanction",
            entity_id: &sanction_id,
            organisation_id: employer.as_deref(),
            before: None,
            after: Some(&out),
        },
    )?;
    Ok(out)
}

/// The audited state of a registration changed by a sanction.
#[derive(Debug, Serialize)]
struct RegistrationSnapshot<'a> {
    status: &'a str,
    theory_score: Option<i32>,
    practical_score: Option<i32>,
    passed: Option<bool>,
}

impl<'a> RegistrationSnapshot<'a> {
    fn of(r: &'a ExamRegistrationRow) -> Self {
        RegistrationSnapshot {
            status: &r.status,
            theory_score: r.theory_score,
            practical_score: r.practical_score,
            passed: r.passed,
        }
    }
}

/// One write transaction of withdrawing a sanction (DSC-5).
fn withdraw_sanction(
    conn: &mut DbConn,
    caller: &AuthUser,
    ctx: &RequestContext,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<SanctionView> {
    let row =
        guild_store::sanctions::find(conn, id)?.ok_or_else(|| ApiError::not_found("sanction"))?;
    // Lock the registration as recording does, then read the sanction again:
    // a concurrent incident or withdrawal of the same examinee waits for us.
    let mut reg = guild_store::sanctions::lock_registration(conn, &row.registration_id)?
        .ok_or_else(|| ApiError::not_found("exam registration"))?;
    let row =
        guild_store::sanctions::find(conn, id)?.ok_or_else(|| ApiError::not_found("sanction"))?;
    let before = view(conn, row.clone())?;
    sanction_transition(before.status, SanctionAction::Withdraw)?;
    let history = parse_history(&guild_store::sanctions::of_registration(
        conn,
        &row.registration_id,
    )?)?;
    let later: Vec<LaterSanction> = history
        .iter()
        .filter(|(r, ..)| r.id > row.id)
        .map(|(_, offence, outcome, status)| LaterSanction {
            offence: *offence,
            outcome: *outcome,
            withdrawn: *status == SanctionStatus::Withdrawn,
        })
        .collect();
    check_withdrawable(before.offence, before.outcome, &later).map_err(ApiError::Refused)?;
    let at = now.naive_utc();
    let mut updated = row.clone();
    updated.status = SanctionStatus::Withdrawn.as_str().to_owned();
    updated.withdrawn_by = Some(caller.id.clone());
    updated.withdrawn_at = Some(at);
    updated.withdrawal_reason = Some(reason.to_owned());
    guild_store::sanctions::update(conn, &mut updated, at)?;
    if let Some(ban) = &row.ban_id {
        guild_store::bans::withdraw(conn, ban, &caller.id, reason, at)?;
    }
    // Lift the disqualification unless another active sanction still disqualifies.
    let others: Vec<Outcome> = history
        .iter()
        .filter(|(r, _, _, status)| r.id != row.id && *status == SanctionStatus::Active)
        .map(|(_, _, outcome, _)| *outcome)
        .collect();
    if lifts_disqualification(before.outcome, &others)
        && reg.status == RegistrationStatus::Disqualified.as_str()
    {
        let snapshot = reg.clone();
        reg.status = RegistrationStatus::Registered.as_str().to_owned();
        reg.theory_score = None;
        reg.practical_score = None;
        reg.passed = None;
        reg.result_entered_by = None;
        reg.result_entered_at = None;
        guild_store::exams::update_registration(conn, &mut reg, at)?;
        audit::record(
            conn,
            &Actor::new(caller, ctx, now),
            Change {
                action: "exam_registration.reinstate",
                entity_type: "exam_registration",
                entity_id: &reg.id,
                organisation_id: row.organisation_id.as_deref(),
                before: Some(&RegistrationSnapshot::of(&snapshot)),
                after: Some(&RegistrationSnapshot::of(&reg)),
            },
        )?;
    }
    // The withdrawal is public where the listing was (DSC-5).
    if let Some(entry) = guild_store::sanctions::entry_of_sanction(conn, &row.id)? {
        guild_store::sanctions::withdraw_entry(
            conn,
            &entry.id,
            RegisterEntryStatus::Withdrawn.as_str(),
            reason,
            at,
        )?;
        let organisation = match entry.organisation_id.as_deref() {
            Some(o) => guild_store::organisations::find(conn, o)?.map(|o| o.name),
            None => None,
        };
        publish(
            conn,
            NoticeKind::MisconductWithdrawal,
            withdrawal_notice(
                &mask_name(&before.person_name),
                organisation.as_deref(),
                &entry.sanction_summary,
                reason,
            ),
            "sanction",
            &row.id,
            now,
        )?;
    }
    if let (Some(_), Some(org)) = (row.employer_notified_at, row.organisation_id.as_deref()) {
        notify_accounts(
            conn,
            org,
            kinds::MISCONDUCT_WITHDRAWN,
            employer_withdrawal_notice(&before.person_name, reason),
            &row.id,
            now,
        )?;
    }
    let after = view(conn, updated)?;
    audit::record(
        conn,
        &Actor::new(caller, ctx, now),
        Change {
            action: "sanction.withdraw",
            entity_type: "sanction",
            entity_id: &row.id,
            organisation_id: row.organisation_id.as_deref(),
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

/// Record an exam incident (training staff, or the class head or a teacher of
/// the sitting's class as invigilator; DSC-1 to DSC-5). The rules decide the
/// sanction: a first cheating offence in the sitting is a warning, the second
/// disqualifies with score zero (DSC-1); impersonation disqualifies with score
/// zero and bans from the program for one year (DSC-2); serious misconduct
/// disqualifies, notifies the employer's accounts, lists the case publicly and
/// bans from everything for three years (DSC-3). Bans start the day the
/// incident is recorded and end the day before the anniversary.
#[utoipa::path(
    operation_id = "record_sitting_incident",
    tag = "sanctions",
    params(("id" = Uuid, Path, description = "Sitting id")),
    request_body = RecordIncident,
    responses((status = 201, description = "The sanction decided", body = SanctionView), CreateErrors)
)]
#[post("/sittings/{id}/incidents")]
pub async fn record_incident(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RecordIncident>,
) -> ApiResult<HttpResponse> {
    user.require(&[
        Role::Admin,
        Role::TrainingOfficer,
        Role::TrainingHead,
        Role::Teacher,
    ])?;
    validate(&*body)?;
    let body = body.into_inner();
    let sitting = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| record(c, &user, &ctx, &sitting, body, now, tz))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/sanctions/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// List sanctions, oldest first: association staff and the authority see all;
/// organisation accounts those of the people their organisation sent; trainees
/// their own; teachers those they recorded.
#[utoipa::path(
    operation_id = "list_sanctions",
    tag = "sanctions",
    params(SanctionQuery),
    responses((status = 200, description = "OK", body = Paged<SanctionView>), ListErrors)
)]
#[get("/sanctions")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<SanctionQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_RECORD_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = scoped_filter(&user);
    if let Some(p) = q.person_id {
        match &filter.person_id {
            Some(own) if *own != p.to_string() => filter.person_id = Some(String::new()),
            _ => filter.person_id = Some(p.to_string()),
        }
    }
    filter.sitting_id = q.sitting_id.map(|v| v.to_string());
    filter.status = q.status.map(|v| v.as_str().to_owned());
    filter.offence = q.offence.map(|v| v.as_str().to_owned());
    let paged = state
        .run(move |s| {
            s.store.read(|c| {
                let rows =
                    guild_store::sanctions::list(c, &filter, page.after.as_deref(), page.limit)?;
                let next = rows.next_after.clone();
                let items = views(c, rows.items)?;
                Ok::<_, ApiError>(Paged::from_page(
                    guild_store::Page {
                        items,
                        next_after: next,
                    },
                    |v| v,
                ))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Read one sanction (as for the list; another organisation's answers 404).
#[utoipa::path(
    operation_id = "get_sanction",
    tag = "sanctions",
    params(("id" = Uuid, Path, description = "Sanction id")),
    responses((status = 200, description = "OK", body = SanctionView), ReadErrors)
)]
#[get("/sanctions/{id}")]
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
                let row = visible_sanction(c, &user, &id)?;
                view(c, row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Withdraw a sanction with a reason (training head only, DSC-5). Its ban is
/// withdrawn; the disqualification is lifted back to `registered`, with the
/// scores cleared to be entered again, unless another active sanction still
/// disqualifies; a listed case stays on the public register marked withdrawn
/// with the reason, and a public notice announces it. A warning counted by a
/// later active disqualification cannot be withdrawn before it (409, DSC-1).
#[utoipa::path(
    operation_id = "withdraw_sanction",
    tag = "sanctions",
    params(("id" = Uuid, Path, description = "Sanction id")),
    request_body = Reason,
    responses((status = 200, description = "Withdrawn", body = SanctionView), ActionErrors)
)]
#[post("/sanctions/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::TrainingHead])?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store
                .write(|c| withdraw_sanction(c, &user, &ctx, &id, &reason, now))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Whom a register entry is about.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisterSubject {
    /// A person (exam misconduct, DSC-3; a forged certificate, CRT-7).
    Person,
    /// An organisation (a forged certificate, CRT-7).
    Organisation,
}

/// An entry of the public misconduct register (不良行为专栏). Never carries an
/// ID number or a person id.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MisconductEntryView {
    /// The entry id.
    pub id: Uuid,
    /// Whether the entry is about a person or an organisation.
    pub subject: RegisterSubject,
    /// The person's name, partly masked (PPL-3); absent for an organisation.
    pub person_name: Option<String>,
    /// The organisation (the person's employer, or the organisation itself).
    pub organisation_name: Option<String>,
    /// What was done.
    pub offence: RegisterOffence,
    /// The sanction, e.g. the ban and its dates.
    pub sanction_summary: String,
    /// First day of the sanction.
    pub starts_on: NaiveDate,
    /// Last day of the sanction, if it ends.
    pub ends_on: Option<NaiveDate>,
    /// `listed` or `withdrawn` (DSC-5: a withdrawn case stays, marked).
    pub status: RegisterEntryStatus,
    /// Why the sanction was withdrawn.
    pub withdrawal_reason: Option<String>,
    /// When it was withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// When it was listed.
    pub published_at: DateTime<Utc>,
}

impl MisconductEntryView {
    fn of(e: EntryWithNames) -> ApiResult<Self> {
        let r = e.entry;
        Ok(MisconductEntryView {
            id: stored_uuid("misconduct_entries", &r.id)?,
            subject: if r.person_id.is_some() {
                RegisterSubject::Person
            } else {
                RegisterSubject::Organisation
            },
            person_name: e.person_name.as_deref().map(mask_name),
            organisation_name: e.organisation_name,
            offence: parse_stored("misconduct_entries", &r.offence)?,
            sanction_summary: r.sanction_summary,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status: parse_stored("misconduct_entries", &r.status)?,
            withdrawal_reason: r.withdrawal_reason,
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
            published_at: r.published_at.and_utc(),
        })
    }
}

/// Filters for the public misconduct register.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MisconductQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only entries with this status.
    pub status: Option<RegisterEntryStatus>,
    /// Only entries for this offence.
    pub offence: Option<RegisterOffence>,
}

/// The public misconduct register (不良行为专栏, DSC-3, DSC-5), newest first,
/// no token needed: the person's name partly masked, the organisation, the
/// offence, the sanction and its dates, and a withdrawal with its reason.
#[utoipa::path(
    operation_id = "list_public_misconduct",
    tag = "public",
    security(()),
    params(MisconductQuery),
    responses((status = 200, description = "OK (newest first)", body = Paged<MisconductEntryView>), PublicErrors)
)]
#[get("/public/misconduct")]
pub async fn list_public(
    state: web::Data<AppState>,
    q: web::Query<MisconductQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = EntryFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        offence: q.offence.map(|v| v.as_str().to_owned()),
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::sanctions::list_entries(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, MisconductEntryView::of)?))
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_incident)
        .service(list)
        .service(get)
        .service(withdraw)
        .service(list_public);
}
