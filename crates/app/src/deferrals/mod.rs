//! Deferrals (DEF-1, DEF-2).
//!
//! A deferral is filed for a paid enrolment with the stamped request letter's
//! document reference, no later than the day before the class starts in the
//! association's time zone (DEF-1). A training head approves or rejects it;
//! approval may come after the class started, since the filing time is what
//! counts. On approval the enrolment becomes `deferred` and its seat goes to
//! the waiting list in the same transaction (CLS-3). The deferred trainee then
//! transfers to a later class of the same program starting in the same
//! calendar year (DEF-2, [`transfer`]). A `no_show` (DEF-4) is never deferred,
//! transferred or refunded.

mod records;
mod transfer;

pub use records::{CreateDeferral, DeferralView, ListDeferrals, TransferDeferral, TransferOutcome};
pub use transfer::transfer;

use guild_domain::class::ClassStatus;
use guild_domain::deferral::{
    DeferralAction, DeferralStatus, SubstitutionStatus, check_class_not_closed, check_deferrable,
    check_deferral_in_time, deferral_decision_notice, deferral_exists, deferral_transition,
    may_file, other_request_pending, status_after_deferral,
};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::deferrals::{DeferralFilter, DeferralRow};
use guild_store::enrolments::EnrolmentRow;
use guild_store::locks::Locked;
use uuid::Uuid;

use crate::ctx::{Caller, Ctx};
use crate::enrolments::{self, seats::payer};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, Notice, kinds as ev};
use crate::{Page, PageRequest};

/// Notification kinds written by deferrals.
pub mod kinds {
    /// A training head approved a deferral (DEF-1).
    pub const DEFERRAL_APPROVED: &str = "deferral_approved";
    /// A training head rejected a deferral (DEF-1).
    pub const DEFERRAL_REJECTED: &str = "deferral_rejected";
    /// A deferred trainee moved to a later class (DEF-2).
    pub const ENROLMENT_TRANSFERRED: &str = "enrolment_transferred";
}

/// Loads a deferral and its enrolment if the caller may see the enrolment, or
/// 404 exactly like an unknown id (ACC-2).
fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<(DeferralRow, EnrolmentRow)> {
    let row = guild_store::deferrals::find(conn, id)?.ok_or(AppError::NotFound("deferral"))?;
    let enrolment = guild_store::enrolments::find(conn, &row.enrolment_id)?
        .filter(|e| enrolments::can_see(caller, e))
        .ok_or(AppError::NotFound("deferral"))?;
    Ok((row, enrolment))
}

fn view_of(
    conn: &mut DbConn,
    row: DeferralRow,
    enrolment: &EnrolmentRow,
) -> AppResult<DeferralView> {
    let name = enrolments::person_name(conn, &enrolment.person_id)?;
    DeferralView::from_parts(row, &enrolment.class_id, &enrolment.person_id, name)
}

impl crate::events::Record for DeferralView {
    const ENTITY: &'static str = "deferral";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        self.organisation_id
    }
}

/// 403 unless the caller may file for (or transfer) this enrolment: its own
/// organisation, the trainee's own individual enrolment, or training staff.
fn check_may_file(caller: &Caller, enrolment: &EnrolmentRow) -> AppResult<()> {
    let (_, channel) = enrolments::status_of(enrolment)?;
    let (own_org, own_person) = enrolments::ownership(caller, enrolment);
    if may_file(caller.role, channel, own_org, own_person) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn class_status(class: &ClassRow) -> AppResult<ClassStatus> {
    stored("classes", &class.status)
}

/// Writes a notice about `enrolment` (the notification names the enrolment)
/// to its organisation's fillers and reviewers and the person's accounts.
fn notify_about(
    ctx: &Ctx,
    conn: &mut DbConn,
    enrolment: &EnrolmentRow,
    kind: &'static str,
    text: (String, String),
) -> AppResult<()> {
    ctx.deliver(
        conn,
        "enrolment",
        &enrolment.id,
        &Notice::new(payer(enrolment), kind, text),
    )
}

/// Lists deferrals, oldest first, within the caller's scope (ACC-2):
/// organisations their own, trainees their own enrolments', association
/// staff and the authority all.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListDeferrals,
    page: PageRequest,
) -> AppResult<Page<DeferralView>> {
    let Some(scope) = crate::scope::person_data(ctx.caller()?) else {
        return Ok(Page::empty());
    };
    let filter = DeferralFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        class_id: q.class_id.map(|v| v.to_string()),
        enrolment_id: q.enrolment_id.map(|v| v.to_string()),
        only_organisation: scope.only_organisation,
        only_person: scope.only_person,
    };
    let rows = guild_store::deferrals::list(conn, &filter, page.after.as_deref(), page.limit)?;
    rows.try_map(|r| DeferralView::from_parts(r.deferral, &r.class_id, &r.person_id, r.person_name))
}

/// One deferral, visible to whoever may see its enrolment.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<DeferralView> {
    let (row, enrolment) = visible(conn, ctx.caller()?, &id.to_string())?;
    view_of(conn, row, &enrolment)
}

/// Files a deferral (DEF-1). Checks, in order: the caller may see the
/// enrolment (404) and file for it (403); the class is not over or cancelled;
/// the enrolment is paid (`deferral_requires_payment`; a `no_show` never,
/// DEF-4); the association's local date is before the class's start date
/// (`deferral_too_late`); no other deferral is open (409 `deferral_exists`,
/// also a partial unique index) and no substitution is pending (409
/// `request_pending`).
pub fn file(ctx: &Ctx, conn: &mut DbConn, body: CreateDeferral) -> AppResult<DeferralView> {
    let caller = ctx.caller()?;
    let enrolment = enrolments::visible(conn, caller, &body.enrolment_id.to_string())?;
    check_may_file(caller, &enrolment)?;
    let (status, _) = enrolments::status_of(&enrolment)?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    check_class_not_closed(class_status(&class)?, "DEF-1")?;
    check_deferrable(status)?;
    check_deferral_in_time(ctx.today(), class.start_date)?;
    if let Some(open) =
        guild_store::deferrals::for_enrolment_in(conn, &enrolment.id, &DeferralStatus::open())?
    {
        return Err(deferral_exists(&open.id).into());
    }
    if let Some(pending) = guild_store::substitutions::for_enrolment_with_status(
        conn,
        &enrolment.id,
        SubstitutionStatus::Submitted.as_str(),
    )? {
        return Err(other_request_pending("DEF-1", "substitution", &pending.id).into());
    }
    let now = ctx.now.naive_utc();
    let row = DeferralRow {
        id: Uuid::now_v7().to_string(),
        enrolment_id: enrolment.id.clone(),
        organisation_id: enrolment.organisation_id.clone(),
        letter_reference: body.letter_reference.trim().to_owned(),
        reason: body.reason.trim().to_owned(),
        status: DeferralStatus::Submitted.as_str().to_owned(),
        filed_by: caller.id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        transferred_to_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    guild_store::deferrals::insert(conn, &row)
        .or_taken(|| AppError::from(deferral_exists("filed concurrently")))?;
    let view = view_of(conn, row, &enrolment)?;
    ctx.emit(conn, Event::change(ev::DEFERRAL_FILED, None, &view)?)?;
    Ok(view)
}

/// Approves or rejects a deferral (DEF-1); `reason` is a rejection's.
/// Approval takes the class lock first, then sets the enrolment to `deferred`
/// (it must still be paid up) and gives its seat to the first waiting
/// enrolment ([`enrolments::seats::release_seat`], CLS-3). Approval may happen
/// after the class started: the filing time is what counts. The organisation
/// and the trainee are notified either way.
pub fn decide(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: DeferralAction,
    reason: Option<String>,
) -> AppResult<DeferralView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    let (row, enrolment) = visible(conn, caller, &id)?;
    deferral_transition(stored("deferrals", &row.status)?, action)?;
    if action == DeferralAction::Approve {
        guild_store::classes::lock(conn, &enrolment.class_id)?;
    }
    // Read again under the class lock and the deferral's own (API-5).
    guild_store::locks::lock_row(conn, Locked::Deferrals, &id)?;
    let (mut row, mut enrolment) = visible(conn, caller, &id)?;
    let before = view_of(conn, row.clone(), &enrolment)?;
    let next = deferral_transition(before.status, action)?;
    let class = enrolments::class_of(conn, &enrolment.class_id)?;
    if action == DeferralAction::Approve {
        let (status, _) = enrolments::status_of(&enrolment)?;
        let deferred = status_after_deferral(status)?;
        let enrolment_before = enrolments::view_of(conn, enrolment.clone(), false)?;
        enrolment.status = deferred.as_str().to_owned();
        enrolments::save(
            ctx,
            conn,
            ev::ENROLMENT_DEFERRED,
            enrolment.clone(),
            &enrolment_before,
        )?;
        enrolments::seats::release_seat(ctx, conn, &enrolment.class_id)?;
    }
    row.status = next.as_str().to_owned();
    row.decided_by = Some(caller.id.clone());
    row.decided_at = Some(ctx.now.naive_utc());
    row.decision_reason = reason.clone();
    guild_store::deferrals::update(conn, &mut row, ctx.now.naive_utc())?;
    let (notice, approved, kind) = match action {
        DeferralAction::Approve => (kinds::DEFERRAL_APPROVED, true, ev::DEFERRAL_APPROVED),
        _ => (kinds::DEFERRAL_REJECTED, false, ev::DEFERRAL_REJECTED),
    };
    let text = deferral_decision_notice(
        &class.title,
        &before.person_name,
        approved,
        reason.as_deref(),
    );
    notify_about(ctx, conn, &enrolment, notice, text)?;
    let after = view_of(conn, row, &enrolment)?;
    ctx.emit(conn, Event::change(kind, Some(&before), &after)?)?;
    Ok(after)
}
