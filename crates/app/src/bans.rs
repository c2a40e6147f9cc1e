//! Bans from training and exams (DSC-4, DSC-5), checked by enrolment (ENR-4).
//!
//! Bans are association data: association staff and the authority read them;
//! the administrator and the training head impose them (exam sanctions create
//! them too, DSC-2 and DSC-3); only a training head withdraws one, with a
//! reason (DSC-5). An enrolment refused by a ban names the ban and its end
//! date (ENR-4).

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::ban::{Ban, BanAction, BanScope, BanStatus, ban_transition, validate_ban};
use guild_store::DbConn;
use guild_store::bans::{BanFilter, BanRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::enrolments::ban_of;
use crate::error::{AppError, AppResult};
use crate::events::{Event, kinds as ev};
use crate::ids::stored_id;
use crate::{Page, PageRequest};

/// The rule recorded on a ban imposed by hand; sanctions record DSC-2 or DSC-3.
const MANUAL_BAN_RULE: &str = "DSC-4";

/// A ban.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BanView {
    /// The ban id (named in ENR-4 refusals).
    pub id: Uuid,
    /// The person banned.
    pub person_id: Uuid,
    /// `program` or `all`.
    pub scope: BanScope,
    /// The program of a `program` ban.
    pub program_id: Option<Uuid>,
    /// First day (inclusive, association time zone).
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// Where it stands today.
    pub status: BanStatus,
    /// Why.
    pub reason: String,
    /// The rule applied (`DSC-2`, `DSC-3`, or `DSC-4` for a ban imposed by hand).
    pub rule: String,
    /// The exam sanction it came from, if any.
    pub sanction_id: Option<Uuid>,
    /// Who imposed it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was withdrawn (DSC-5).
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// The training head who withdrew it.
    pub withdrawn_by: Option<Uuid>,
    /// Why it was withdrawn.
    pub withdrawal_reason: Option<String>,
    /// The actions its state allows.
    pub allowed_actions: Vec<String>,
}

impl BanView {
    /// The record of a stored ban as it stands on `today`.
    pub fn of(r: BanRow, today: NaiveDate) -> AppResult<Self> {
        let id = |v: &str| stored_id("bans", v);
        let ban: Ban = ban_of(&r)?;
        let status = ban.status(today);
        Ok(BanView {
            id: id(&r.id)?,
            person_id: id(&r.person_id)?,
            scope: ban.scope,
            program_id: r.program_id.as_deref().map(id).transpose()?,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status,
            reason: r.reason,
            rule: r.rule,
            sanction_id: r.sanction_id.as_deref().map(id).transpose()?,
            created_by: id(&r.created_by)?,
            created_at: r.created_at.and_utc(),
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
            withdrawn_by: r.withdrawn_by.as_deref().map(id).transpose()?,
            withdrawal_reason: r.withdrawal_reason,
            allowed_actions: BanAction::ALL
                .iter()
                .filter(|a| ban_transition(status, **a).is_ok())
                .map(|a| a.as_str().to_owned())
                .collect(),
        })
    }
}

/// A new ban (DSC-4).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "scope": "all", "starts_on": "2026-03-01", "ends_on": "2029-02-28", "reason": "threatened an invigilator (DSC-3)"})))]
pub struct CreateBan {
    /// The person to ban.
    pub person_id: Uuid,
    /// `program` (one program) or `all`.
    pub scope: BanScope,
    /// The program of a `program` ban; must be left out for `all`.
    pub program_id: Option<Uuid>,
    /// First day (inclusive).
    pub starts_on: NaiveDate,
    /// Last day (inclusive), not before `starts_on`.
    pub ends_on: NaiveDate,
    /// Why, with the incident it answers.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

fn find(conn: &mut DbConn, id: &str) -> AppResult<BanRow> {
    guild_store::bans::find(conn, id)?.ok_or(AppError::NotFound("ban"))
}

impl crate::events::Record for BanView {
    const ENTITY: &'static str = "ban";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        None
    }
}

/// Lists bans, oldest first: a person's, and those in force today (`active`
/// true) or not (false).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    person_id: Option<Uuid>,
    active: Option<bool>,
    page: PageRequest,
) -> AppResult<Page<BanView>> {
    let today = ctx.today();
    let filter = BanFilter {
        person_id: person_id.map(|p| p.to_string()),
        active_on: (active == Some(true)).then_some(today),
        inactive_on: (active == Some(false)).then_some(today),
    };
    let rows = guild_store::bans::list(conn, &filter, page.after.as_deref(), page.limit)?;
    rows.try_map(|r| BanView::of(r, today))
}

/// One ban as it stands today.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<BanView> {
    BanView::of(find(conn, &id.to_string())?, ctx.today())
}

/// Imposes a ban by hand (DSC-4): the scope and dates must fit (422 per
/// field), the person and the program must exist (422 `unknown`).
pub fn create(ctx: &Ctx, conn: &mut DbConn, body: CreateBan) -> AppResult<BanView> {
    validate_ban(
        body.scope,
        body.program_id.is_some(),
        body.starts_on,
        body.ends_on,
    )
    .map_err(AppError::Invalid)?;
    let person_id = body.person_id.to_string();
    guild_store::people::find(conn, &person_id)?
        .ok_or_else(|| AppError::field("person_id", "unknown", "no such person"))?;
    if let Some(p) = body.program_id {
        guild_store::programs::find(conn, &p.to_string())?
            .ok_or_else(|| AppError::field("program_id", "unknown", "no such program"))?;
    }
    let row = BanRow {
        id: Uuid::now_v7().to_string(),
        person_id,
        scope: body.scope.as_str().to_owned(),
        program_id: body.program_id.map(|p| p.to_string()),
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        reason: body.reason.trim().to_owned(),
        rule: MANUAL_BAN_RULE.to_owned(),
        sanction_id: None,
        created_by: ctx.caller()?.id.clone(),
        created_at: ctx.now.naive_utc(),
        withdrawn_at: None,
        withdrawn_by: None,
        withdrawal_reason: None,
    };
    impose(ctx, conn, row)
}

/// Writes ban `row` (by hand, or with a sanction: DSC-2, DSC-3): one
/// `ban.created` event.
pub(crate) fn impose(ctx: &Ctx, conn: &mut DbConn, row: BanRow) -> AppResult<BanView> {
    guild_store::bans::insert(conn, &row)?;
    let view = BanView::of(row, ctx.today())?;
    ctx.emit(conn, Event::change(ev::BAN_CREATED, None, &view)?)?;
    Ok(view)
}

/// Withdraws a ban with a reason (DSC-5): 409 unless it is in force or
/// upcoming; the person can be enrolled again at once.
pub fn withdraw(ctx: &Ctx, conn: &mut DbConn, id: Uuid, reason: String) -> AppResult<BanView> {
    let before = BanView::of(find(conn, &id.to_string())?, ctx.today())?;
    ban_transition(before.status, BanAction::Withdraw)?;
    lift(ctx, conn, before, &reason)?.ok_or(AppError::Stale)
}

/// Marks ban `before` withdrawn by the caller with `reason` (by hand, or
/// with its sanction: DSC-5): one `ban.withdrawn` event. `None` when it was
/// already withdrawn.
pub(crate) fn lift(
    ctx: &Ctx,
    conn: &mut DbConn,
    before: BanView,
    reason: &str,
) -> AppResult<Option<BanView>> {
    let id = before.id.to_string();
    let by = &ctx.caller()?.id;
    if !guild_store::bans::withdraw(conn, &id, by, reason, ctx.now.naive_utc())? {
        return Ok(None);
    }
    let after = BanView::of(find(conn, &id)?, ctx.today())?;
    ctx.emit(
        conn,
        Event::change(ev::BAN_WITHDRAWN, Some(&before), &after)?,
    )?;
    Ok(Some(after))
}
