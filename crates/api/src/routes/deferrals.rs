//! Deferrals (DEF-1, DEF-2) and the no-show record (DEF-4).
//!
//! A deferral is filed for a paid enrolment with the stamped request letter's
//! document reference, no later than the day before the class starts in the
//! association's time zone (DEF-1). A training head approves or rejects it;
//! approval may come after the class started, since the filing time is what
//! counts. On approval the enrolment becomes `deferred` and its seat goes to
//! the waiting list in the same transaction (CLS-3). The deferred trainee then
//! transfers to a later class of the same program starting in the same
//! calendar year (DEF-2): a new enrolment in status `paid`, with the charges
//! and the money moved in the ledger so that nobody pays again and nothing
//! looks owed.
//!
//! A paid trainee who did not come and filed no deferral in time is marked
//! `no_show` by training staff once the class has started (DEF-4). Attendance
//! arrives in a later issue: for now the officer's action is what records the
//! absence. A `no_show` is never deferred, transferred or refunded (refunds,
//! REF-1 to REF-4, come later and must refuse it too).
//!
//! The transactions are the `*_in_tx` functions; they reuse the enrolment
//! services (visibility, seat release and waiting-list promotion, ban check,
//! ENR-5, ledger, notifications).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use guild_domain::class::ClassStatus;
use guild_domain::deferral::{
    ClassFacts, DEFERRAL_DECIDERS, DEFERRAL_FILERS, DeferralAction, DeferralStatus,
    check_class_not_closed, check_deferrable, check_deferral_in_time, check_transfer_seat,
    check_transfer_target, deferral_allowed_actions, deferral_decision_notice, deferral_exists,
    deferral_transition, may_file, other_request_pending, status_after_deferral,
    status_after_transfer, transfer_entries, transfer_notice,
};
use guild_domain::enrolment::{EnrolmentStatus, already_enrolled};
use guild_domain::fees::Entry;
use guild_domain::{Fen, local_date};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::deferrals::{DeferralFilter, DeferralRow};
use guild_store::enrolments::EnrolmentRow;
use guild_store::ledger::LedgerEntryRow;
use guild_store::locks::Locked;
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
use crate::routes::organisations::Reason;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments as service;
use guild_app::enrolments::{EnrolmentView, insert as insert_enrolment};

/// Notification kinds written by deferrals.
pub mod kinds {
    /// A training head approved a deferral (DEF-1).
    pub const DEFERRAL_APPROVED: &str = "deferral_approved";
    /// A training head rejected a deferral (DEF-1).
    pub const DEFERRAL_REJECTED: &str = "deferral_rejected";
    /// A deferred trainee moved to a later class (DEF-2).
    pub const ENROLMENT_TRANSFERRED: &str = "enrolment_transferred";
}

/// A deferral of an enrolment (DEF-1, DEF-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeferralView {
    /// The deferral id.
    pub id: Uuid,
    /// The deferred enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's class.
    pub class_id: Uuid,
    /// The enrolled person.
    pub person_id: Uuid,
    /// The person's name.
    pub person_name: String,
    /// The enrolment's organisation (`null` for individuals).
    pub organisation_id: Option<Uuid>,
    /// The document reference of the stamped request letter (DEF-1).
    pub letter_reference: String,
    /// Why the trainee cannot attend.
    pub reason: String,
    /// `submitted`, `approved`, `rejected` or `transferred`.
    pub status: DeferralStatus,
    /// The actions its state allows (API-4).
    pub allowed_actions: Vec<String>,
    /// The account that filed it.
    pub filed_by: Uuid,
    /// When it was filed: the time the DEF-1 deadline is checked against.
    pub filed_at: DateTime<Utc>,
    /// The training head who decided.
    pub decided_by: Option<Uuid>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason of a rejection.
    pub decision_reason: Option<String>,
    /// The enrolment in the later class (DEF-2).
    pub transferred_to_id: Option<Uuid>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl DeferralView {
    fn from_parts(
        r: DeferralRow,
        class_id: &str,
        person_id: &str,
        person_name: String,
    ) -> ApiResult<Self> {
        let id = |v: &str| stored_uuid("deferrals", v);
        let status: DeferralStatus = parse_stored("deferrals", &r.status)?;
        Ok(DeferralView {
            id: id(&r.id)?,
            enrolment_id: id(&r.enrolment_id)?,
            class_id: id(class_id)?,
            person_id: id(person_id)?,
            person_name,
            organisation_id: r.organisation_id.as_deref().map(id).transpose()?,
            letter_reference: r.letter_reference,
            reason: r.reason,
            status,
            allowed_actions: deferral_allowed_actions(status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            filed_by: id(&r.filed_by)?,
            filed_at: r.filed_at.and_utc(),
            decided_by: r.decided_by.as_deref().map(id).transpose()?,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            decision_reason: r.decision_reason,
            transferred_to_id: r.transferred_to_id.as_deref().map(id).transpose()?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A deferral request (DEF-1).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enrolment_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "letter_reference": "SGC-HR-2026-031", "reason": "The trainee is on an emergency repair assignment"}))]
pub struct CreateDeferral {
    /// The enrolment, `paid` or `notified` (an unpaid one is simply cancelled).
    pub enrolment_id: Uuid,
    /// The document reference of the stamped request letter (required).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub letter_reference: String,
    /// Why the trainee cannot attend.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// The later class a deferred trainee joins (DEF-2).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"class_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211"}))]
pub struct TransferDeferral {
    /// A planned or open class of the same program, starting later in the same
    /// calendar year, with a free seat.
    pub class_id: Uuid,
}

/// What a transfer produced (DEF-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferOutcome {
    /// The deferral, now `transferred`.
    pub deferral: DeferralView,
    /// The new enrolment in the later class: `paid`, with the fee carried over (due 0).
    pub enrolment: EnrolmentView,
}

/// Filters for the deferral list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeferralQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<DeferralStatus>,
    /// Only deferrals of enrolments in this class.
    pub class_id: Option<Uuid>,
    /// Only this enrolment's.
    pub enrolment_id: Option<Uuid>,
}

/// Loads a deferral and its enrolment if the caller may see the enrolment, or
/// 404 exactly like an unknown id (ACC-2).
fn visible_deferral(
    conn: &mut DbConn,
    caller: &AuthUser,
    id: &str,
) -> ApiResult<(DeferralRow, EnrolmentRow)> {
    let not_found = || ApiError::not_found("deferral");
    let row = guild_store::deferrals::find(conn, id)?.ok_or_else(not_found)?;
    let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
        .filter(|e| service::can_see(&caller.caller(), e))
        .ok_or_else(not_found)?;
    Ok((row, enrolment))
}

fn view_of(
    conn: &mut DbConn,
    row: DeferralRow,
    enrolment: &EnrolmentRow,
) -> ApiResult<DeferralView> {
    let name = guild_store::people::find(conn, &enrolment.person_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    DeferralView::from_parts(row, &enrolment.class_id, &enrolment.person_id, name)
}

/// 403 unless the caller may file for (or transfer) this enrolment: its own
/// organisation, the trainee's own individual enrolment, or training staff.
fn check_may_file(caller: &AuthUser, enrolment: &EnrolmentRow) -> ApiResult<()> {
    let (_, channel) = service::status_of(enrolment)?;
    let own_org = enrolment.organisation_id.is_some()
        && caller.organisation_id.as_deref() == enrolment.organisation_id.as_deref();
    let own_person = caller.person_id.as_deref() == Some(enrolment.person_id.as_str());
    if may_file(caller.role, channel, own_org, own_person) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

fn class_status(class: &ClassRow) -> ApiResult<ClassStatus> {
    parse_stored("classes", &class.status)
}

fn audit_deferral(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&DeferralView>,
    after: &DeferralView,
) -> ApiResult<()> {
    let id = after.id.to_string();
    let org = after.organisation_id.map(|o| o.to_string());
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "deferral",
            entity_id: &id,
            organisation_id: org.as_deref(),
            before,
            after: Some(after),
        },
    )
}

/// Writes a notice about `enrolment` to its organisation's fillers and
/// reviewers and the person's accounts.
fn notify_about(
    conn: &mut DbConn,
    enrolment: &EnrolmentRow,
    kind: &str,
    notice: (String, String),
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let to = guild_store::notifications::enrolment_recipients(
        conn,
        enrolment.organisation_id.as_deref(),
        &enrolment.person_id,
    )?;
    Ok(service::notify(
        conn,
        &to,
        kind,
        notice,
        &enrolment.id,
        now,
    )?)
}

/// Files a deferral in one transaction (DEF-1). Checks, in order: the caller
/// may see the enrolment (404) and file for it (403); the class is not over or
/// cancelled; the enrolment is paid (`deferral_requires_payment`; a `no_show`
/// never, DEF-4); the association's local date is before the class's start
/// date (`deferral_too_late`); no other deferral is open (409
/// `deferral_exists`, also a partial unique index) and no substitution is
/// pending (409 `request_pending`).
fn create_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    body: CreateDeferral,
    tz: Tz,
) -> ApiResult<DeferralView> {
    let enrolment = service::visible(conn, &user.caller(), &body.enrolment_id.to_string())?;
    check_may_file(user, &enrolment)?;
    let (status, _) = service::status_of(&enrolment)?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    check_class_not_closed(class_status(&class)?, "DEF-1")?;
    check_deferrable(status)?;
    check_deferral_in_time(local_date(actor.at, tz), class.start_date)?;
    if let Some(open) =
        guild_store::deferrals::for_enrolment_in(conn, &enrolment.id, &DeferralStatus::open())?
    {
        return Err(ApiError::Refused(deferral_exists(&open.id)));
    }
    if let Some(pending) = guild_store::substitutions::for_enrolment_with_status(
        conn,
        &enrolment.id,
        guild_domain::deferral::SubstitutionStatus::Submitted.as_str(),
    )? {
        return Err(ApiError::Refused(other_request_pending(
            "DEF-1",
            "substitution",
            &pending.id,
        )));
    }
    let now = actor.at.naive_utc();
    let row = DeferralRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        letter_reference: body.letter_reference.trim().to_owned(),
        reason: body.reason.trim().to_owned(),
        status: DeferralStatus::Submitted.as_str().to_owned(),
        filed_by: user.id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        transferred_to_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::deferrals::insert(conn, &row).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Refused(deferral_exists("filed concurrently"))
        } else {
            e.into()
        }
    })?;
    let view = view_of(conn, row, &enrolment)?;
    audit_deferral(conn, actor, "deferral.file", None, &view)?;
    Ok(view)
}

/// Approves or rejects a deferral in one transaction (DEF-1). Approval takes
/// the class lock first, then sets the enrolment to `deferred` (it must still
/// be paid up) and gives its seat to the first waiting enrolment
/// ([`service::release_seat`], CLS-3). Approval may happen after the class
/// started: the filing time is what counts. The organisation and the trainee
/// are notified either way.
fn decide_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    action: DeferralAction,
    reason: Option<String>,
    tz: Tz,
) -> ApiResult<DeferralView> {
    let (row, enrolment) = visible_deferral(conn, user, id)?;
    deferral_transition(parse_stored("deferrals", &row.status)?, action)?;
    if action == DeferralAction::Approve {
        guild_store::classes::lock(conn, &enrolment.class_id)?;
    }
    // Read again under the class lock and the deferral's own (API-5).
    guild_store::locks::lock_row(conn, Locked::Deferrals, id)?;
    let (mut row, mut enrolment) = visible_deferral(conn, user, id)?;
    let before = view_of(conn, row.clone(), &enrolment)?;
    let next = deferral_transition(before.status, action)?;
    let class = service::class_of(conn, &enrolment.class_id)?;
    let name = before.person_name.clone();
    if action == DeferralAction::Approve {
        let (status, _) = service::status_of(&enrolment)?;
        let deferred = status_after_deferral(status).map_err(ApiError::Refused)?;
        let enrolment_before = service::view_of(conn, enrolment.clone(), false)?;
        enrolment.status = deferred.as_str().to_owned();
        service::save(
            &actor.ctx(),
            conn,
            crate::audit::kind("enrolment.defer")?,
            enrolment.clone(),
            &enrolment_before,
        )?;
        service::seats::release_seat(&actor.ctx_in(tz), conn, &enrolment.class_id)?;
    }
    row.status = next.as_str().to_owned();
    row.decided_by = Some(user.id.clone());
    row.decided_at = Some(actor.at.naive_utc());
    row.decision_reason = reason.clone();
    guild_store::deferrals::update(conn, &mut row, actor.at.naive_utc())?;
    let (kind, approved) = match action {
        DeferralAction::Approve => (kinds::DEFERRAL_APPROVED, true),
        _ => (kinds::DEFERRAL_REJECTED, false),
    };
    notify_about(
        conn,
        &enrolment,
        kind,
        deferral_decision_notice(&class.title, &name, approved, reason.as_deref()),
        actor.at,
    )?;
    let after = view_of(conn, row, &enrolment)?;
    audit_deferral(
        conn,
        actor,
        &format!("deferral.{action}"),
        Some(&before),
        &after,
    )?;
    Ok(after)
}

/// The entries of a ledger as the rules see them.
fn entries_of(rows: &[LedgerEntryRow]) -> ApiResult<Vec<Entry>> {
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

fn facts(class: &ClassRow) -> ApiResult<ClassFacts<'_>> {
    Ok(ClassFacts {
        program_id: &class.program_id,
        start_date: class.start_date,
        status: class_status(class)?,
    })
}

/// Transfers a deferred trainee to a later class in one transaction (DEF-2).
///
/// Order: the caller may see (404) and file for (403) the enrolment; the
/// deferral is `approved` (409); the target class is locked (404 when unknown)
/// and checked (same program, later start, same calendar year, planned or
/// open: 422 DEF-2); the enrolment is `deferred` (a `no_show` never moves,
/// DEF-4); the person is not banned from the program (ENR-4) nor already
/// enrolled there (409 ENR-5); a seat is free (409 `class_full`, CLS-3 —
/// counted under the class lock).
///
/// Then: the old enrolment gets a `transfer_out` of the money it holds and a
/// `charge_reversal` of each charge, and becomes `transferred`; a new
/// enrolment for the same person, organisation and channel is created in the
/// later class in status `paid`, with `transferred_from_id`, the same charges
/// and a `transfer_in` of the same money (due 0). Submission time and the
/// reviewer's attestation (ENR-2) carry over from the old enrolment; the
/// caller is recorded as the one who confirmed the seat. The deferral records
/// `transferred_to_id`. The organisation and the trainee are notified.
fn transfer_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    target_class_id: &str,
    tz: Tz,
) -> ApiResult<TransferOutcome> {
    let (row, enrolment) = visible_deferral(conn, user, id)?;
    check_may_file(user, &enrolment)?;
    deferral_transition(
        parse_stored("deferrals", &row.status)?,
        DeferralAction::Transfer,
    )?;
    let target = guild_store::classes::lock(conn, target_class_id)?
        .ok_or_else(|| ApiError::not_found("class"))?;
    // Read again under the class lock and the deferral's own (API-5).
    guild_store::locks::lock_row(conn, Locked::Deferrals, id)?;
    let (mut row, mut old) = visible_deferral(conn, user, id)?;
    let before = view_of(conn, row.clone(), &old)?;
    let next = deferral_transition(before.status, DeferralAction::Transfer)?;
    let original = service::class_of(conn, &old.class_id)?;
    check_transfer_target(&facts(&original)?, &facts(&target)?)?;
    let (old_status, _) = service::status_of(&old)?;
    let transferred = status_after_transfer(old_status).map_err(ApiError::Refused)?;
    service::check_not_banned_now(
        conn,
        &old.person_id,
        &target.program_id,
        local_date(actor.at, tz),
    )?;
    if let Some(existing) = guild_store::enrolments::find_live(conn, &target.id, &old.person_id)? {
        return Err(ApiError::Refused(already_enrolled(&existing.id)));
    }
    let seats = guild_store::classes::seats_taken(conn, &target.id)?;
    check_transfer_seat(seats, target.capacity).map_err(ApiError::Refused)?;

    let (old_rows, _) = service::ledger_of(conn, &old.id)?;
    let plan = transfer_entries(&entries_of(&old_rows)?);
    let now = actor.at;
    let new_id = Uuid::now_v7().to_string();
    for (kind, item, amount) in &plan.old {
        let mut entry = service::ledger_entry(&old.id, *kind, *item, *amount, &user.id, now);
        entry.note = Some(format!("transfer to {}", target.code));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let old_before = service::view_of(conn, old.clone(), false)?;
    old.status = transferred.as_str().to_owned();
    service::save(
        &actor.ctx(),
        conn,
        crate::audit::kind("enrolment.transfer")?,
        old.clone(),
        &old_before,
    )?;

    let at = now.naive_utc();
    let new_row = EnrolmentRow {
        id: new_id.clone(),
        class_id: target.id.clone(),
        person_id: old.person_id.clone(),
        organisation_id: old.organisation_id.clone(),
        channel: old.channel.clone(),
        status: EnrolmentStatus::Paid.as_str().to_owned(),
        submitted_at: old.submitted_at,
        org_approved_by: old.org_approved_by.clone(),
        org_approved_at: old.org_approved_at,
        confirmed_by: Some(user.id.clone()),
        confirmed_at: Some(at),
        waitlisted_at: None,
        paid_at: Some(at),
        notified_at: None,
        rejected_by: None,
        rejected_at: None,
        rejection_reason: None,
        transferred_from_id: Some(old.id.clone()),
        created_by: user.id.clone(),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_enrolment(conn, &new_row)?;
    for (kind, item, amount) in &plan.new {
        let mut entry = service::ledger_entry(&new_id, *kind, *item, *amount, &user.id, now);
        entry.note = Some(format!("transfer from {}", original.code));
        guild_store::ledger::insert(conn, &entry)?;
    }
    let new_view = service::view_of(conn, new_row.clone(), true)?;
    let new_key = new_id.clone();
    let org = new_view.organisation_id.map(|o| o.to_string());
    audit::record::<(), _>(
        conn,
        actor,
        Change {
            action: "enrolment.transfer_in",
            entity_type: "enrolment",
            entity_id: &new_key,
            organisation_id: org.as_deref(),
            before: None,
            after: Some(&new_view),
        },
    )?;

    row.status = next.as_str().to_owned();
    row.transferred_to_id = Some(new_id);
    guild_store::deferrals::update(conn, &mut row, at)?;
    notify_about(
        conn,
        &new_row,
        kinds::ENROLMENT_TRANSFERRED,
        transfer_notice(&original.title, &target.title, &before.person_name),
        now,
    )?;
    let after = view_of(conn, row, &old)?;
    audit_deferral(conn, actor, "deferral.transfer", Some(&before), &after)?;
    Ok(TransferOutcome {
        deferral: after,
        enrolment: new_view,
    })
}

/// List deferrals, oldest first: organisations see their own (ACC-2),
/// trainees their own enrolments', association staff and the authority all.
#[utoipa::path(
    operation_id = "list_deferrals",
    tag = "deferrals",
    params(DeferralQuery),
    responses((status = 200, description = "OK", body = Paged<DeferralView>), ListErrors)
)]
#[get("/deferrals")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<DeferralQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ENROLMENT_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = DeferralFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        ..DeferralFilter::default()
    };
    // ACC-2: a caller who sees no one's data lists nothing.
    let scope = guild_app::scope::person_data_filter(&user.caller());
    filter.only_organisation = scope.only_organisation;
    filter.only_person = scope.only_person;
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::deferrals::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, |r| {
        DeferralView::from_parts(r.deferral, &r.class_id, &r.person_id, r.person_name)
    })?))
}

/// File a deferral for a paid enrolment (DEF-1), with the stamped request
/// letter's document reference, no later than the day before the class
/// starts in the association's time zone (`deferral_too_late`). Filed by the
/// enrolment's organisation, the individual trainee, or training staff on
/// their behalf. An unpaid enrolment is not deferred but simply cancelled
/// (`deferral_requires_payment`). One open deferral per enrolment (409).
#[utoipa::path(
    operation_id = "create_deferral",
    tag = "deferrals",
    request_body = CreateDeferral,
    responses((status = 201, description = "Filed; waits for a training head", body = DeferralView), CreateErrors)
)]
#[post("/deferrals")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateDeferral>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_FILERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.letter_reference.trim().is_empty() {
        return Err(ApiError::field(
            "letter_reference",
            "required",
            "the stamped request letter's document reference is required",
        ));
    }
    if body.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store
                .write(|c| create_in_tx(c, &Actor::new(&user, &ctx, now), &user, body, tz))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/deferrals/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one deferral (visible to whoever may see its enrolment).
#[utoipa::path(
    operation_id = "get_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    responses((status = 200, description = "OK", body = DeferralView), ReadErrors)
)]
#[get("/deferrals/{id}")]
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
                let (row, enrolment) = visible_deferral(c, &user, &id)?;
                view_of(c, row, &enrolment)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

async fn decide(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: DeferralAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_DECIDERS)?;
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                decide_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &id,
                    action,
                    reason,
                    tz,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Approve a deferral (DEF-1: a training head; or the administrator). The
/// enrolment becomes `deferred` and its seat goes to the first waiting
/// enrolment in the same transaction (CLS-3). Approval may come after the
/// class started: the filing time is what counts.
#[utoipa::path(
    operation_id = "approve_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    responses((status = 200, description = "Approved; the enrolment is deferred", body = DeferralView), ActionErrors)
)]
#[post("/deferrals/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        DeferralAction::Approve,
        None,
    )
    .await
}

/// Reject a deferral with a reason (DEF-1: a training head; or the
/// administrator). The enrolment stays as it was.
#[utoipa::path(
    operation_id = "reject_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    request_body = Reason,
    responses((status = 200, description = "Rejected", body = DeferralView), ActionErrors)
)]
#[post("/deferrals/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_DECIDERS)?;
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "required", "give a reason"));
    }
    decide(
        state,
        ctx,
        user,
        id.into_inner(),
        DeferralAction::Reject,
        Some(reason),
    )
    .await
}

/// Transfer a deferred trainee to a later class (DEF-2): same program,
/// starting later than the original class in the same calendar year, planned
/// or open, with a free seat (CLS-3); bans (ENR-4) and double enrolment
/// (ENR-5) are checked. Creates a `paid` enrolment in the later class with
/// the fee carried over in the ledger (nothing is paid again, nothing is due)
/// and marks the old enrolment `transferred`. A `no_show` is never
/// transferred (DEF-4). By training staff, or the filing organisation's
/// accounts, or the individual trainee.
#[utoipa::path(
    operation_id = "transfer_deferral",
    tag = "deferrals",
    params(("id" = Uuid, Path, description = "Deferral id")),
    request_body = TransferDeferral,
    responses((status = 200, description = "Transferred: the deferral and the new enrolment", body = TransferOutcome), ActionErrors)
)]
#[post("/deferrals/{id}/transfer")]
pub async fn transfer(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<TransferDeferral>,
) -> ApiResult<HttpResponse> {
    user.require(DEFERRAL_FILERS)?;
    validate(&*body)?;
    let id = id.into_inner().to_string();
    let class_id = body.into_inner().class_id.to_string();
    let outcome = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                transfer_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, &class_id, tz)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Location",
            format!("/api/v1/enrolments/{}", outcome.enrolment.id),
        ))
        .insert_header(etag(outcome.deferral.version))
        .json(outcome))
}

/// Registers the deferral endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(approve)
        .service(reject)
        .service(transfer);
}
