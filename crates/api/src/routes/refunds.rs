//! Refunds (REF-1 to REF-4).
//!
//! - `POST /refunds` (REF-2): the payer — the paying organisation's filler or
//!   reviewer, or the individual trainee — asks for the training fee back
//!   after an approved deferral filed before the class started (DEF-1), within
//!   one year of filing it. The amount is derived from the enrolment's ledger:
//!   the money held for the training fee, never the exam fee.
//! - `POST /classes/{id}/refunds` (REF-1): the training department files, in
//!   one transaction, a `class_cancelled` refund of everything held for every
//!   enrolment of a cancelled class, unless a later class of the program can
//!   take the trainees that calendar year.
//! - Each refund then walks `submitted → training_confirmed →
//!   finance_confirmed → leader_approved → paid` (REF-3), each step by its own
//!   role (403 otherwise) and in order (409 with the allowed actions); the
//!   role whose step is due may reject it with a reason. The training
//!   department confirms the refunds it filed itself (REF-1) like any other.
//!   Every step is audited with before and after and records who and when.
//! - REF-4: one open (neither rejected nor paid) refund per enrolment,
//!   enforced by the partial unique index `refunds_one_open_per_enrolment` (409
//!   `refund_in_progress`); payment locks the enrolment row, re-checks the
//!   money held and writes the `refund` ledger entries in the same
//!   transaction (409 `refund_exceeds_paid`).
//!
//! On payment the enrolment becomes `cancelled`: the trainee will not take
//! part and the money paid back can no longer move to a later class (DEF-2).
//! The payer — the organisation's fillers and reviewers and the trainee's
//! accounts — is notified when a refund is paid or rejected.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::class::ClassStatus;
use guild_domain::deferral::{ClassFacts, DeferralStatus};
use guild_domain::fees::Entry;
use guild_domain::refund::{
    CLASS_REFUND_FILERS, REQUESTERS, RefundAction, RefundKind, RefundStatus, Refundable,
    action_roles, check_class_cancelled, check_no_later_class, check_personal_in_time,
    check_refundable_status, class_refund_skip, due_roles, may_request, paid_notice,
    payment_entries, refund_allowed_actions, refund_amount, refund_in_progress,
    refund_requires_deferral, refund_transition, rejected_notice, status_after_refund,
};
use guild_domain::{Fen, Role, local_date};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use guild_store::notifications::NotificationRow;
use guild_store::refunds::{RefundFilter, RefundRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::{AuthUser, ENROLMENT_READERS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::enrolments_service as service;
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Notification kinds written by refunds.
pub mod kinds {
    /// Finance paid a refund (REF-3).
    pub const REFUND_PAID: &str = "refund_paid";
    /// A refund was rejected at one of its steps (REF-3).
    pub const REFUND_REJECTED: &str = "refund_rejected";
}

/// A refund of an enrolment's fees (REF-1 to REF-4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundView {
    /// The refund id.
    pub id: Uuid,
    /// The refunded enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The enrolled person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The paying organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// `class_cancelled` (REF-1: everything paid) or `personal` (REF-2: the training fee only).
    pub kind: RefundKind,
    /// The amount to pay back, in fen, derived from the ledger when filed.
    pub amount_fen: Fen,
    /// The deferral a personal refund rests on (REF-2).
    pub deferral_id: Option<Uuid>,
    /// Why the money is paid back.
    pub reason: String,
    /// Where the refund stands (REF-3).
    pub status: RefundStatus,
    /// The actions its state allows (API-4), as wire names: `confirm_training`
    /// is `POST /refunds/{id}/confirm-training`.
    pub allowed_actions: Vec<String>,
    /// Who filed it.
    pub requested_by: Uuid,
    /// When it was filed.
    pub requested_at: DateTime<Utc>,
    /// Who in the training department confirmed it.
    pub training_confirmed_by: Option<Uuid>,
    /// When.
    pub training_confirmed_at: Option<DateTime<Utc>>,
    /// Who in finance confirmed it.
    pub finance_confirmed_by: Option<Uuid>,
    /// When.
    pub finance_confirmed_at: Option<DateTime<Utc>>,
    /// Who in the leadership approved it.
    pub leader_approved_by: Option<Uuid>,
    /// When.
    pub leader_approved_at: Option<DateTime<Utc>>,
    /// Who in finance paid it.
    pub paid_by: Option<Uuid>,
    /// When.
    pub paid_at: Option<DateTime<Utc>>,
    /// The bank or voucher reference of the payment.
    pub payment_reference: Option<String>,
    /// Who rejected it.
    pub rejected_by: Option<Uuid>,
    /// When.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl RefundView {
    fn from_parts(
        r: RefundRow,
        class_id: &str,
        person_id: &str,
        person_name: String,
    ) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("refunds", v);
        let opt = |v: &Option<String>| v.as_deref().map(id).transpose();
        let status: RefundStatus = parse_stored("refunds", &r.status)?;
        Ok(RefundView {
            id: id(&r.id)?,
            enrolment_id: id(&r.enrolment_id)?,
            class_id: id(class_id)?,
            person_id: id(person_id)?,
            person_name,
            organisation_id: opt(&r.organisation_id)?,
            kind: parse_stored("refunds", &r.kind)?,
            amount_fen: Fen::from_stored(r.amount_fen),
            deferral_id: opt(&r.deferral_id)?,
            reason: r.reason,
            status,
            allowed_actions: refund_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            requested_by: id(&r.requested_by)?,
            requested_at: r.requested_at.and_utc(),
            training_confirmed_by: opt(&r.training_confirmed_by)?,
            training_confirmed_at: r.training_confirmed_at.map(|t| t.and_utc()),
            finance_confirmed_by: opt(&r.finance_confirmed_by)?,
            finance_confirmed_at: r.finance_confirmed_at.map(|t| t.and_utc()),
            leader_approved_by: opt(&r.leader_approved_by)?,
            leader_approved_at: r.leader_approved_at.map(|t| t.and_utc()),
            paid_by: opt(&r.paid_by)?,
            paid_at: r.paid_at.map(|t| t.and_utc()),
            payment_reference: r.payment_reference,
            rejected_by: opt(&r.rejected_by)?,
            rejected_at: r.rejected_at.map(|t| t.and_utc()),
            rejection_reason: r.rejection_reason,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A personal refund request (REF-2).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "reason": "The trainee left the company"}))]
pub struct CreateRefund {
    /// The enrolment, with an approved deferral filed before its class started.
    pub enrolment_id: Uuid,
    /// Why the trainee could not attend (resignation, job change, ...).
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// The payment of a refund (REF-3 last step).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payment_reference": "BOC-2026-000123"}))]
pub struct PayRefund {
    /// The bank transfer or voucher reference.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub payment_reference: String,
}

/// An enrolment of a cancelled class that got no refund (REF-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedEnrolment {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// Why: `nothing_to_refund` (no money held), `no_show_no_refund` (DEF-4)
    /// or `refund_in_progress` (it already has an open refund, REF-4).
    pub code: String,
}

/// What filing a cancelled class's refunds produced (REF-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassRefunds {
    /// The cancelled class.
    pub class_id: Uuid,
    /// The refunds filed, `submitted`, one per enrolment holding money.
    pub refund_ids: Vec<Uuid>,
    /// The enrolments that got none, and why.
    pub skipped: Vec<SkippedEnrolment>,
}

/// Filters for the refund list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RefundQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<RefundStatus>,
    /// Only this kind.
    pub kind: Option<RefundKind>,
    /// Only refunds of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}

/// Loads a refund and its enrolment if the caller may see the enrolment, or
/// 404 exactly like an unknown id (ACC-2).
fn visible_refund(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<(RefundRow, EnrolmentRow)> {
    let not_found = || ApiError::not_found("refund");
    let row = guild_store::refunds::find(conn, id)?.ok_or_else(not_found)?;
    let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
        .filter(|e| service::can_see(caller, e))
        .ok_or_else(not_found)?;
    Ok((row, enrolment))
}

fn view_of(conn: &mut DbConn, row: RefundRow, enrolment: &EnrolmentRow) -> ApiResult<RefundView> {
    let name = guild_store::people::find(conn, &enrolment.person_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    RefundView::from_parts(row, &enrolment.class_id, &enrolment.person_id, name)
}

fn audit_refund(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&RefundView>,
    after: &RefundView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "refund",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before,
            after: Some(after),
        },
    )
}

/// Writes a notice about a refund to the payer: the enrolment's organisation
/// fillers and reviewers and the person's accounts.
fn notify_payer(
    conn: &mut DbConn,
    enrolment: &EnrolmentRow,
    refund_id: &str,
    kind: &str,
    (title, body): (String, String),
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let to = guild_store::notifications::enrolment_recipients(
        conn,
        enrolment.organisation_id.as_deref(),
        &enrolment.person_id,
    )?;
    for user in to {
        guild_store::notifications::insert(
            conn,
            &NotificationRow {
                id: Uuid::now_v7().to_string(),
                recipient_user_id: user,
                kind: kind.to_owned(),
                title: title.clone(),
                body: body.clone(),
                entity_type: "refund".to_owned(),
                entity_id: refund_id.to_owned(),
                created_at: now.naive_utc(),
                read_at: None,
            },
        )?;
    }
    Ok(())
}

/// The entries of an enrolment's ledger as the rules see them.
fn entries_of(conn: &mut DbConn, enrolment_id: &str) -> ApiResult<Vec<Entry>> {
    let (rows, _) = service::ledger_of(conn, enrolment_id)?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                kind: parse_stored("ledger_entries", &r.kind)?,
                item: parse_stored("ledger_entries", &r.item)?,
                amount: Fen::from_stored(r.amount_fen),
            })
        })
        .collect()
}

/// A new `submitted` refund row.
fn new_refund(
    enrolment: &EnrolmentRow,
    kind: RefundKind,
    amount: Fen,
    deferral_id: Option<String>,
    reason: String,
    by: &str,
    at: DateTime<Utc>,
) -> RefundRow {
    let at = at.naive_utc();
    RefundRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        kind: kind.as_str().to_owned(),
        amount_fen: amount.get(),
        deferral_id,
        reason,
        status: RefundStatus::Submitted.as_str().to_owned(),
        requested_by: by.to_owned(),
        requested_at: at,
        training_confirmed_by: None,
        training_confirmed_at: None,
        finance_confirmed_by: None,
        finance_confirmed_at: None,
        leader_approved_by: None,
        leader_approved_at: None,
        paid_by: None,
        paid_at: None,
        payment_reference: None,
        rejected_by: None,
        rejected_at: None,
        rejection_reason: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

/// Inserts a refund; the partial unique index `refunds_one_open_per_enrolment`
/// turns a concurrent second open refund into 409 `refund_in_progress` (REF-4).
fn insert_refund(conn: &mut DbConn, row: &RefundRow) -> ApiResult<()> {
    guild_store::refunds::insert(conn, row).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Conflict(refund_in_progress("filed concurrently"))
        } else {
            e.into()
        }
    })
}

/// Files a personal refund in one transaction (REF-2). Checks, in order: the
/// caller may see the enrolment (404) and is its payer (403); the enrolment
/// is not a `no_show` (422 `no_show_no_refund`, DEF-4); it has an approved
/// (or since transferred) deferral (422 `refund_requires_deferral`) filed
/// before the class's start date in the association's time zone (DEF-1); the
/// request comes no later than the same calendar date one year after the
/// deferral's filing date (422 `refund_too_late`, see
/// [`guild_domain::refund::personal_refund_deadline`]); a training fee is
/// still held (422 `nothing_to_refund`: e.g. the money moved to a later class,
/// DEF-2); no other open refund exists (409 `refund_in_progress`, REF-4, also
/// the partial unique index).
fn request_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    body: CreateRefund,
    tz: Tz,
) -> ApiResult<RefundView> {
    let enrolment = service::visible_enrolment(conn, user, &body.enrolment_id.to_string())?;
    let (status, channel) = service::status_of(&enrolment)?;
    let own_org = enrolment.organisation_id.is_some()
        && user.organisation_id.as_deref() == enrolment.organisation_id.as_deref();
    let own_person = user.person_id.as_deref() == Some(enrolment.person_id.as_str());
    if !may_request(user.role, channel, own_org, own_person) {
        return Err(ApiError::forbidden());
    }
    check_refundable_status(status)?;
    let deferral = guild_store::deferrals::for_enrolment_in(
        conn,
        &enrolment.id,
        &[
            DeferralStatus::Approved.as_str(),
            DeferralStatus::Transferred.as_str(),
        ],
    )?
    .ok_or_else(|| {
        refund_requires_deferral(
            "a personal refund needs an approved deferral of this enrolment, filed before \
             the class started (DEF-1)",
        )
    })?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    check_personal_in_time(
        local_date(deferral.filed_at.and_utc(), tz),
        class.start_date,
        local_date(actor.at, tz),
    )?;
    let amount = refund_amount(
        &entries_of(conn, &enrolment.id)?,
        RefundKind::Personal,
        "REF-2",
    )?;
    if let Some(live) = guild_store::refunds::open_for_enrolment(conn, &enrolment.id)? {
        return Err(ApiError::Conflict(refund_in_progress(&live.id)));
    }
    let row = new_refund(
        &enrolment,
        RefundKind::Personal,
        amount,
        Some(deferral.id),
        body.reason.trim().to_owned(),
        &user.id,
        actor.at,
    );
    insert_refund(conn, &row)?;
    let view = view_of(conn, row, &enrolment)?;
    audit_refund(conn, actor, "refund.request", None, &view)?;
    Ok(view)
}

fn class_facts(class: &ClassRow) -> ApiResult<ClassFacts<'_>> {
    Ok(ClassFacts {
        program_id: &class.program_id,
        start_date: class.start_date,
        status: parse_stored::<ClassStatus>("classes", &class.status)?,
    })
}

/// Files the refunds of a cancelled class in one transaction (REF-1). The
/// class row is locked (404 when unknown); it must be `cancelled` (409
/// `class_not_cancelled`); no planned or open class of the same program may
/// start later in the same calendar year (422 `later_class_available`,
/// naming it). Then every enrolment of the class that holds money gets a
/// `class_cancelled` refund of all of it (training fee, exam fee and anything
/// else held), `submitted`, filed by the caller; enrolments without money,
/// `no_show`s (DEF-4) and those with an open refund (REF-4) are listed as
/// skipped. Each refund is audited.
fn class_refunds_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    class_id: &str,
) -> ApiResult<ClassRefunds> {
    let class =
        guild_store::classes::lock(conn, class_id)?.ok_or_else(|| ApiError::not_found("class"))?;
    let facts = class_facts(&class)?;
    check_class_cancelled(facts.status).map_err(ApiError::Conflict)?;
    let year_end = NaiveDate::from_ymd_opt(class.start_date.year(), 12, 31)
        .ok_or_else(|| ApiError::Internal("class start date out of range".to_owned()))?;
    let later = guild_store::refunds::later_classes_of_program(
        conn,
        &class.program_id,
        &class.id,
        class.start_date,
        year_end,
    )?;
    let candidates = later
        .iter()
        .map(|c| Ok((c.id.as_str(), class_facts(c)?)))
        .collect::<ApiResult<Vec<_>>>()?;
    check_no_later_class(&facts, &candidates)?;

    let reason = match class.cancellation_reason.as_deref() {
        Some(r) => format!("class {} cancelled: {r}", class.code),
        None => format!("class {} cancelled", class.code),
    };
    let mut outcome = ClassRefunds {
        class_id: stored_uuid("classes", &class.id)?,
        refund_ids: Vec::new(),
        skipped: Vec::new(),
    };
    for enrolment in guild_store::refunds::enrolments_of_class(conn, &class.id)? {
        let enrolment_id = stored_uuid("enrolments", &enrolment.id)?;
        let (status, _) = service::status_of(&enrolment)?;
        let held = Refundable::of(&entries_of(conn, &enrolment.id)?).total();
        let skip = match class_refund_skip(status, held) {
            Some(code) => Some(code),
            None => guild_store::refunds::open_for_enrolment(conn, &enrolment.id)?
                .map(|_| "refund_in_progress"),
        };
        if let Some(code) = skip {
            // Enrolments that never held money (drafts, rejected, cancelled
            // before payment) are not worth listing.
            if code != "nothing_to_refund" || status.is_live() {
                outcome.skipped.push(SkippedEnrolment {
                    enrolment_id,
                    code: code.to_owned(),
                });
            }
            continue;
        }
        let row = new_refund(
            &enrolment,
            RefundKind::ClassCancelled,
            held,
            None,
            reason.clone(),
            &user.id,
            actor.at,
        );
        insert_refund(conn, &row)?;
        let view = view_of(conn, row, &enrolment)?;
        audit_refund(conn, actor, "refund.file", None, &view)?;
        outcome.refund_ids.push(view.id);
    }
    Ok(outcome)
}

/// Takes one step of the approval in one transaction (REF-3, REF-4).
///
/// The caller's role was checked for the action by the handler (403). Here:
/// the caller may see the refund (404); the state allows the action (409 with
/// the allowed actions); a `reject` comes from the role whose step is due
/// (403 otherwise). `pay` locks the enrolment row, reads the refund again
/// under the lock (a concurrent payment makes this one a 409), plans the
/// ledger entries against the ledger as it stands (409 `refund_exceeds_paid`
/// when less is held than the refund pays back), writes them with the payment
/// reference, and closes the enrolment (`cancelled`). The payer is notified of
/// a payment or a rejection. The step records who and when, and is audited
/// as `refund.{action}` with before and after.
fn step_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    action: RefundAction,
    text: Option<String>,
) -> ApiResult<RefundView> {
    let (row, _) = visible_refund(conn, user, id)?;
    refund_transition(parse_stored("refunds", &row.status)?, action)?;
    if action == RefundAction::Pay {
        guild_store::refunds::lock_enrolment(conn, &row.enrolment_id)?;
    }
    // Read again: under the enrolment lock for a payment.
    let (mut row, enrolment) = visible_refund(conn, user, id)?;
    let before = view_of(conn, row.clone(), &enrolment)?;
    let next = refund_transition(before.status, action)?;
    if action == RefundAction::Reject && !due_roles(before.status).contains(&user.role) {
        return Err(ApiError::forbidden());
    }
    let at = actor.at.naive_utc();
    let by = Some(user.id.clone());
    let class = service::class_of(conn, &enrolment.class_id)?;
    match action {
        RefundAction::ConfirmTraining => {
            row.training_confirmed_by = by;
            row.training_confirmed_at = Some(at);
        }
        RefundAction::ConfirmFinance => {
            row.finance_confirmed_by = by;
            row.finance_confirmed_at = Some(at);
        }
        RefundAction::Approve => {
            row.leader_approved_by = by;
            row.leader_approved_at = Some(at);
        }
        RefundAction::Pay => {
            let reference = text.unwrap_or_default();
            let amount = Fen::from_stored(row.amount_fen);
            let plan = payment_entries(&entries_of(conn, &enrolment.id)?, before.kind, amount)
                .map_err(ApiError::Conflict)?;
            for (kind, item, part) in plan {
                let mut entry =
                    service::ledger_entry(&enrolment.id, kind, item, part, &user.id, actor.at);
                entry.reference = Some(reference.clone());
                entry.note = Some(format!("refund {}", row.id));
                guild_store::ledger::insert(conn, &entry)?;
            }
            let (status, _) = service::status_of(&enrolment)?;
            let enrolment_before = service::view_of(conn, enrolment.clone(), false)?;
            let mut closed = enrolment.clone();
            closed.status = status_after_refund(status).as_str().to_owned();
            service::save_enrolment(conn, actor, "enrolment.refund", closed, &enrolment_before)?;
            row.paid_by = by;
            row.paid_at = Some(at);
            row.payment_reference = Some(reference);
            notify_payer(
                conn,
                &enrolment,
                &row.id,
                kinds::REFUND_PAID,
                paid_notice(&class.title, &before.person_name, amount),
                actor.at,
            )?;
        }
        RefundAction::Reject => {
            let reason = text.unwrap_or_default();
            notify_payer(
                conn,
                &enrolment,
                &row.id,
                kinds::REFUND_REJECTED,
                rejected_notice(&class.title, &before.person_name, &reason),
                actor.at,
            )?;
            row.rejected_by = by;
            row.rejected_at = Some(at);
            row.rejection_reason = Some(reason);
        }
    }
    row.status = next.as_str().to_owned();
    guild_store::refunds::update(conn, &mut row, at)?;
    let after = view_of(conn, row, &enrolment)?;
    audit_refund(
        conn,
        actor,
        &format!("refund.{action}"),
        Some(&before),
        &after,
    )?;
    Ok(after)
}

/// List refunds, oldest first: organisations see their own (ACC-2), trainees
/// their own enrolments', association staff and the authority all.
#[utoipa::path(
    operation_id = "list_refunds",
    tag = "refunds",
    params(RefundQuery),
    responses((status = 200, description = "OK", body = Paged<RefundView>), ListErrors)
)]
#[get("/refunds")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<RefundQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = RefundFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        kind: q.kind.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        ..RefundFilter::default()
    };
    match user.role {
        Role::OrgFiller | Role::OrgReviewer => {
            filter.only_organisation = Some(user.organisation_id.clone().unwrap_or_default());
        }
        Role::Trainee => filter.only_person = Some(user.person_id.clone().unwrap_or_default()),
        _ => {}
    }
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::refunds::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        RefundView::from_parts(r.refund, &r.class_id, &r.person_id, r.person_name)
    })?))
}

/// Request a personal refund of the training fee (REF-2): by the paying
/// organisation's filler or reviewer, or the individual trainee; only after an
/// approved deferral filed before the class started (`refund_requires_deferral`)
/// and no later than the same calendar date one year after that deferral was
/// filed, in the association's time zone (`refund_too_late`). The amount is
/// the training fee held for the enrolment, never the exam fee
/// (`nothing_to_refund` when none is held, e.g. after a transfer to a later
/// class). A `no_show` gets nothing (`no_show_no_refund`, DEF-4). One open
/// refund per enrolment (409 `refund_in_progress`, REF-4); a paid one no
/// longer counts.
#[utoipa::path(
    operation_id = "create_refund",
    tag = "refunds",
    request_body = CreateRefund,
    responses((status = 201, description = "Filed; waits for the training department", body = RefundView), CreateErrors)
)]
#[post("/refunds")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateRefund>,
) -> ApiResult<HttpResponse> {
    user.require(REQUESTERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| request_in_tx(c, &Actor::new(&user, &ctx, now), &user, body, tz))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/refunds/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// File the refunds of a cancelled class (REF-1): the training department
/// (training officer or head), once the class is `cancelled`
/// (`class_not_cancelled`) and when no planned or open class of the same
/// program starts later in the same calendar year (`later_class_available`,
/// naming it). In one transaction, every enrolment holding money gets a
/// `class_cancelled` refund of everything it holds (training and exam fee),
/// starting at `submitted`; enrolments with an open refund, `no_show`s and
/// those holding nothing are listed as skipped. A refund already paid does not
/// stop it: after a personal refund of the training fee (REF-2), the exam fee
/// still held is refunded here.
#[utoipa::path(
    operation_id = "file_class_refunds",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 201, description = "Filed: the new refunds' ids and the enrolments skipped", body = ClassRefunds), ActionErrors)
)]
#[post("/classes/{id}/refunds")]
pub async fn file_class_refunds(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_REFUND_FILERS)?;
    let class_id = id.into_inner().to_string();
    let outcome = state
        .run(move |s| {
            let now = s.clock.now();
            s.store
                .write(|c| class_refunds_in_tx(c, &Actor::new(&user, &ctx, now), &user, &class_id))
        })
        .await?;
    Ok(HttpResponse::Created().json(outcome))
}

/// Read one refund (visible to whoever may see its enrolment).
#[utoipa::path(
    operation_id = "get_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    responses((status = 200, description = "OK", body = RefundView), ReadErrors)
)]
#[get("/refunds/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let (row, enrolment) = visible_refund(c, &user, &id)?;
                view_of(c, row, &enrolment)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

async fn step(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: RefundAction,
    text: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(action))?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store
                .write(|c| step_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, action, text))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Confirm a submitted refund for the training department (REF-3 step 1:
/// training officer or training head, also for the refunds it filed itself).
#[utoipa::path(
    operation_id = "confirm_training_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    responses((status = 200, description = "Confirmed by the training department", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/confirm-training")]
pub async fn confirm_training(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    step(
        state,
        ctx,
        user,
        id.into_inner(),
        RefundAction::ConfirmTraining,
        None,
    )
    .await
}

/// Confirm a refund for finance (REF-3 step 2: finance).
#[utoipa::path(
    operation_id = "confirm_finance_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    responses((status = 200, description = "Confirmed by finance", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/confirm-finance")]
pub async fn confirm_finance(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    step(
        state,
        ctx,
        user,
        id.into_inner(),
        RefundAction::ConfirmFinance,
        None,
    )
    .await
}

/// Approve a refund (REF-3 step 3: the association's leadership).
#[utoipa::path(
    operation_id = "approve_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    responses((status = 200, description = "Approved by the leadership", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    step(
        state,
        ctx,
        user,
        id.into_inner(),
        RefundAction::Approve,
        None,
    )
    .await
}

/// Pay an approved refund (REF-3 step 4: finance, with the payment
/// reference). In one transaction under the enrolment's row lock: the money
/// held is checked again (409 `refund_exceeds_paid`, REF-4), `refund` ledger
/// entries per fee item (with `charge_reversal`s of what they pay back) are
/// written, the enrolment becomes `cancelled`, and the payer is notified.
#[utoipa::path(
    operation_id = "pay_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    request_body = PayRefund,
    responses((status = 200, description = "Paid; the ledger has the refund", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/pay")]
pub async fn pay(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<PayRefund>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(RefundAction::Pay))?;
    validate(&*body)?;
    let reference = body.into_inner().payment_reference.trim().to_owned();
    if reference.is_empty() {
        return Err(ApiError::field(
            "payment_reference",
            "required",
            "give the payment's bank or voucher reference",
        ));
    }
    step(
        state,
        ctx,
        user,
        id.into_inner(),
        RefundAction::Pay,
        Some(reference),
    )
    .await
}

/// Reject a refund with a reason (REF-3): by the role whose step is due —
/// the training department while `submitted`, finance while
/// `training_confirmed` or `leader_approved`, the leadership while
/// `finance_confirmed` (403 for anyone else). The payer is notified.
#[utoipa::path(
    operation_id = "reject_refund",
    tag = "refunds",
    params(("id" = Uuid, Path, description = "Refund id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = RefundView), ActionErrors)
)]
#[post("/refunds/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(action_roles(RefundAction::Reject))?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    step(
        state,
        ctx,
        user,
        id.into_inner(),
        RefundAction::Reject,
        Some(reason),
    )
    .await
}

/// Registers the refund endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(confirm_training)
        .service(confirm_finance)
        .service(approve)
        .service(pay)
        .service(reject)
        .service(file_class_refunds);
}
