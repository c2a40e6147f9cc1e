//! A class's preparation checklist (培训项目实施作业单, CLS-2): training staff
//! add items and check them off while the class is planned or open; the class
//! cannot start while a mandatory item is unchecked.

use guild_domain::class::{
    ChecklistAction, ChecklistItemState, check_editable, checklist_transition,
    validate_checklist_label,
};
use guild_store::DbConn;
use guild_store::classes::ChecklistItemRow;
use uuid::Uuid;

use super::records::{AddChecklistItem, CheckItem, ChecklistItemView, ChecklistView, item_state};
use super::{event, locked};
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, stored};
use crate::events::kinds as ev;
use crate::ids::stored_id;

fn checklist_view(class_id: &str, rows: Vec<ChecklistItemRow>) -> AppResult<ChecklistView> {
    let complete = rows.iter().all(|r| !r.mandatory || r.checked_at.is_some());
    Ok(ChecklistView {
        class_id: stored_id("classes", class_id)?,
        complete,
        items: rows
            .into_iter()
            .map(ChecklistItemView::try_from)
            .collect::<AppResult<_>>()?,
    })
}

/// Reads a class's preparation checklist (CLS-2; training staff, who see
/// every class).
pub fn checklist(_ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ChecklistView> {
    let row =
        guild_store::classes::find(conn, &id.to_string())?.ok_or(AppError::NotFound("class"))?;
    let items = guild_store::classes::checklist(conn, &row.id)?;
    checklist_view(&row.id, items)
}

/// Adds a custom item to a planned or open class's checklist (CLS-2).
pub fn add_checklist_item(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    body: AddChecklistItem,
) -> AppResult<ChecklistItemView> {
    let label = validate_checklist_label(&body.label)?;
    let class = locked(conn, id)?;
    check_editable(stored("classes", &class.status)?)?;
    let row = ChecklistItemRow {
        id: Uuid::now_v7().to_string(),
        class_id: class.id.clone(),
        position: guild_store::classes::next_checklist_position(conn, &class.id)?,
        label,
        mandatory: body.mandatory,
        checked_by: None,
        checked_at: None,
        note: None,
    };
    guild_store::classes::insert_checklist_item(conn, &row)?;
    let after = ChecklistItemView::try_from(row)?;
    let kind = ev::CLASS_CHECKLIST_ITEM_ADDED;
    ctx.emit(conn, event::<(), _>(kind, &class.id, None, &after)?)?;
    Ok(after)
}

/// Checks off an item of a planned or open class, recording who and when
/// and an optional note (CLS-2).
pub fn check_item(
    ctx: &Ctx,
    conn: &mut DbConn,
    (id, item_id): (Uuid, Uuid),
    body: CheckItem,
) -> AppResult<ChecklistItemView> {
    let note = body
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    act(ctx, conn, (id, item_id), ChecklistAction::Check, note)
}

/// Undoes a check of an item of a planned or open class (CLS-2).
pub fn uncheck_item(
    ctx: &Ctx,
    conn: &mut DbConn,
    (id, item_id): (Uuid, Uuid),
) -> AppResult<ChecklistItemView> {
    act(ctx, conn, (id, item_id), ChecklistAction::Uncheck, None)
}

/// Checks or unchecks an item on the locked class, recording who and when.
fn act(
    ctx: &Ctx,
    conn: &mut DbConn,
    (id, item_id): (Uuid, Uuid),
    action: ChecklistAction,
    note: Option<String>,
) -> AppResult<ChecklistItemView> {
    let class = locked(conn, id)?;
    let mut item =
        guild_store::classes::find_class_checklist_item(conn, &class.id, &item_id.to_string())?
            .ok_or(AppError::NotFound("checklist item"))?;
    check_editable(stored("classes", &class.status)?)?;
    let before = ChecklistItemView::try_from(item.clone())?;
    match checklist_transition(item_state(&item), action)? {
        ChecklistItemState::Checked => {
            item.checked_by = Some(ctx.caller()?.id.clone());
            item.checked_at = Some(ctx.now.naive_utc());
            item.note = note;
        }
        ChecklistItemState::Unchecked => {
            item.checked_by = None;
            item.checked_at = None;
            item.note = None;
        }
    }
    guild_store::classes::set_checklist_check(conn, &item)?;
    let after = ChecklistItemView::try_from(item)?;
    let kind = match action {
        ChecklistAction::Check => ev::CLASS_CHECKLIST_ITEM_CHECKED,
        ChecklistAction::Uncheck => ev::CLASS_CHECKLIST_ITEM_UNCHECKED,
    };
    ctx.emit(conn, event(kind, &class.id, Some(&before), &after)?)?;
    Ok(after)
}
