//! Annual training plans (PLN-1): drafted, published as version 1, amended with
//! a version history; the public endpoints show the latest published version of
//! each year's plan together with that year's classes ([`public`]).
//!
//! Who does what: the association's training staff (admin, training officer,
//! training head) draft and edit plans; publishing and amending are decisions,
//! taken by a training head or the administrator. Association staff and the
//! authority read plans; everybody else reads the public endpoints.
//!
//! Timing: a plan for year Y is normally drafted in December of Y-1, but any
//! date is accepted; a plan for a year that has already ended in the
//! association's time zone is refused (`plan_year_past`, PLN-1), and the same
//! for publishing, editing or amending such a plan.
//!
//! Every change locks the plan's row first, so concurrent changes queue
//! (API-5), and emits one event (`plan.created`, `plan.updated`,
//! `plan.published`, `plan.amended`).

pub mod public;
mod records;

pub use public::{PublicClass, PublicPlan, PublicPlanItem, PublicPlanSummary};
pub use records::{
    AmendPlan, Amendment, CreatePlan, ListPlans, NewPlan, PlanChanges, PlanItemInput,
    PlanVersionView, PlanView, UpdatePlan,
};

pub use guild_domain::roles::{PLAN_EDITORS, PLAN_PUBLISHERS, PLAN_READERS};
use std::collections::HashMap;

use guild_domain::plan::{
    PlanAction, PlanItem, PlanStatus, check_item_programs, plan_is_editable, plan_is_publishable,
    plan_transition, plan_year_is_open,
};
use guild_domain::program::ProgramStatus;
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::plans::{PlanFilter, PlanRow, PlanVersionRow};
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::stored_id;
use crate::inputs::check_version;
use crate::{Page, PageRequest};

use records::items_json;

/// PLN-1 with PRG-1: every item names an existing program; a retired program
/// may stay in a plan that already listed it but cannot be added. Every
/// problem is reported at once, by field.
fn check_programs(
    conn: &mut DbConn,
    items: &[PlanItem],
    already_listed: &[PlanItem],
) -> AppResult<()> {
    let ids: Vec<String> = items.iter().map(|i| i.program_id.to_string()).collect();
    let mut known = HashMap::new();
    for row in guild_store::programs::find_many(conn, &ids)? {
        let status: ProgramStatus = stored("programs", &row.status)?;
        known.insert(stored_id("programs", &row.id)?, status);
    }
    let mut problems = check_item_programs(items, &known, already_listed);
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort_by(|a, b| a.field.cmp(&b.field));
        Err(AppError::Invalid(problems))
    }
}

/// Loads a plan or 404. Plans are association data: the role lists decide
/// who reads them.
fn find(conn: &mut DbConn, id: Uuid) -> AppResult<PlanRow> {
    guild_store::plans::find(conn, &id.to_string())?.ok_or(AppError::NotFound("plan"))
}

/// Locks a plan's row (API-5: concurrent changes queue) and loads it, or 404.
fn lock(conn: &mut DbConn, id: Uuid) -> AppResult<PlanRow> {
    guild_store::locks::lock_row(conn, Locked::Plans, &id.to_string())?;
    find(conn, id)
}

fn year_taken(year: i32) -> AppError {
    AppError::Exists(format!("there is already a plan for {year}"))
}

fn event(kind: EventKind, before: Option<&PlanView>, after: &PlanView) -> AppResult<Event> {
    Event::new(kind, "plan", after.id, before, Some(after))
}

/// Lists plans, oldest first (association staff and the authority).
pub fn list(
    _ctx: &Ctx,
    conn: &mut DbConn,
    q: ListPlans,
    page: PageRequest,
) -> AppResult<Page<PlanView>> {
    let filter = PlanFilter {
        year: q.year,
        status: q.status.map(|s| s.as_str().to_owned()),
    };
    guild_store::plans::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(PlanView::try_from)
}

/// One plan, draft or published.
pub fn get(_ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<PlanView> {
    PlanView::try_from(find(conn, id)?)
}

/// Drafts the plan of a year (PLN-1): not a year that has already ended
/// (422 `plan_year_past`), one plan per year (409 `already_exists`, also the
/// unique index on the year), items naming existing programs that are not
/// retired (422, PRG-1).
pub fn create(ctx: &Ctx, conn: &mut DbConn, input: NewPlan) -> AppResult<PlanView> {
    let year = input.year;
    plan_year_is_open(year, ctx.today())?;
    if guild_store::plans::find_by_year(conn, year)?.is_some() {
        return Err(year_taken(year));
    }
    check_programs(conn, &input.items, &[])?;
    let now = ctx.now.naive_utc();
    let row = PlanRow {
        id: Uuid::now_v7().to_string(),
        year,
        title: input.title,
        items_json: items_json(&input.items)?,
        notes: input.notes,
        status: PlanStatus::Draft.as_str().to_owned(),
        latest_version: 0,
        published_at: None,
        version: 1,
        created_by: ctx.caller()?.id.clone(),
        created_at: now,
        updated_at: now,
    };
    guild_store::plans::insert(conn, &row).or_taken(|| year_taken(year))?;
    let view = PlanView::try_from(row)?;
    ctx.emit(conn, event(ev::PLAN_CREATED, None, &view)?)?;
    Ok(view)
}

/// Edits a draft plan. Honours `If-Match` (API-5); a published plan is 409
/// `plan_published` (PLN-1: amend it, so every change is versioned); a year
/// that has ended is 422 `plan_year_past`.
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
    input: PlanChanges,
) -> AppResult<PlanView> {
    let mut row = lock(conn, id)?;
    check_version(expected_version, row.version)?;
    let before = PlanView::try_from(row.clone())?;
    plan_is_editable(before.status)?;
    plan_year_is_open(row.year, ctx.today())?;
    if let Some(items) = &input.items {
        check_programs(conn, items, &before.items)?;
        row.items_json = items_json(items)?;
    }
    if let Some(title) = input.title {
        row.title = title;
    }
    if let Some(notes) = input.notes {
        row.notes = notes;
    }
    save(ctx, conn, ev::PLAN_UPDATED, row, before)
}

/// Bumps the record version, writes the row and emits the change.
fn save(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    mut row: PlanRow,
    before: PlanView,
) -> AppResult<PlanView> {
    guild_store::plans::update(conn, &mut row, ctx.now.naive_utc())?;
    let after = PlanView::try_from(row)?;
    ctx.emit(conn, event(kind, Some(&before), &after)?)?;
    Ok(after)
}

/// Writes version `row.latest_version` of the plan as published by the
/// caller now; a version written concurrently is a stale read (API-5).
fn snapshot(
    ctx: &Ctx,
    conn: &mut DbConn,
    row: &PlanRow,
    change_note: Option<String>,
) -> AppResult<PlanVersionRow> {
    let version = PlanVersionRow {
        id: Uuid::now_v7().to_string(),
        plan_id: row.id.clone(),
        number: row.latest_version,
        title: row.title.clone(),
        items_json: row.items_json.clone(),
        notes: row.notes.clone(),
        change_note,
        published_by: ctx.caller()?.id.clone(),
        published_at: ctx.now.naive_utc(),
    };
    guild_store::plans::insert_plan_version(conn, &version).or_taken(|| AppError::Stale)?;
    Ok(version)
}

/// Publishes a draft as version 1 (PLN-1): under the plan's row lock, so a
/// second publication queues and then finds the plan published (409
/// `invalid_transition`); the plan needs at least one item (422
/// `plan_empty`), a year that has not ended (422 `plan_year_past`) and
/// programs that exist.
pub fn publish(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<PlanView> {
    let mut row = lock(conn, id)?;
    let before = PlanView::try_from(row.clone())?;
    let next = plan_transition(before.status, PlanAction::Publish)?;
    plan_year_is_open(row.year, ctx.today())?;
    plan_is_publishable(&before.items)?;
    check_programs(conn, &before.items, &before.items)?;
    row.status = next.as_str().to_owned();
    row.latest_version = 1;
    row.published_at = Some(ctx.now.naive_utc());
    let view = save(ctx, conn, ev::PLAN_PUBLISHED, row.clone(), before)?;
    snapshot(ctx, conn, &row, None)?;
    Ok(view)
}

/// Amends a published plan (PLN-1): publishes version n+1 at once with the
/// new items (title and notes optional) and the change note, and makes it
/// the plan's current content. Honours `If-Match` on the plan record (API-5).
pub fn amend(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
    input: Amendment,
) -> AppResult<PlanVersionView> {
    let mut row = lock(conn, id)?;
    check_version(expected_version, row.version)?;
    let before = PlanView::try_from(row.clone())?;
    plan_transition(before.status, PlanAction::Amend)?;
    plan_year_is_open(row.year, ctx.today())?;
    plan_is_publishable(&input.items)?;
    check_programs(conn, &input.items, &before.items)?;
    row.items_json = items_json(&input.items)?;
    if let Some(title) = input.title {
        row.title = title;
    }
    if let Some(notes) = input.notes {
        row.notes = notes;
    }
    row.latest_version += 1;
    save(ctx, conn, ev::PLAN_AMENDED, row.clone(), before)?;
    PlanVersionView::try_from(snapshot(ctx, conn, &row, Some(input.change_note))?)
}

/// The published versions of a plan, oldest first; empty for a draft.
pub fn versions(
    _ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    page: PageRequest,
) -> AppResult<Page<PlanVersionView>> {
    let plan = find(conn, id)?;
    guild_store::plans::list_versions(conn, &plan.id, page.after.as_deref(), page.limit)?
        .try_map(PlanVersionView::try_from)
}
