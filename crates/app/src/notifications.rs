//! Each account's inbox of notices: class notices (ENR-1), returned enrolments
//! and waiting-list promotions (CLS-3). Every account reads its own; who may
//! read which notification is [`guild_domain::access::can_read_notification`].

use chrono::{DateTime, Utc};
use guild_domain::access::can_read_notification;
use guild_store::DbConn;
use guild_store::notifications::{NotificationFilter, NotificationRow};
use serde::Serialize;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::ids::{fact, stored_id};
use crate::{Page, PageRequest};

/// A notification.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    /// The notification id.
    pub id: Uuid,
    /// What it is about: `class_notice` (time and place of a class, ENR-1),
    /// `enrolment_rejected` (returned with a reason), `waitlist_promoted`
    /// (a seat became free, CLS-3); later issues add more kinds.
    #[cfg_attr(feature = "openapi", schema(example = "class_notice"))]
    pub kind: String,
    /// A one-line title.
    pub title: String,
    /// The text.
    pub body: String,
    /// The kind of entity it is about, e.g. `enrolment`.
    pub entity_type: String,
    /// That entity's id.
    pub entity_id: Uuid,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When the recipient first read it (`null` while unread).
    pub read_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for NotificationView {
    type Error = AppError;
    fn try_from(r: NotificationRow) -> AppResult<Self> {
        Ok(NotificationView {
            id: stored_id("notifications", &r.id)?,
            kind: r.kind,
            title: r.title,
            body: r.body,
            entity_type: r.entity_type,
            entity_id: stored_id("notifications", &r.entity_id)?,
            created_at: r.created_at.and_utc(),
            read_at: r.read_at.map(|t| t.and_utc()),
        })
    }
}

/// Loads a notification the caller may read (one, or to mark: `reading_one`
/// false), or 404 exactly like an unknown id.
fn visible(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    reading_one: bool,
) -> AppResult<NotificationRow> {
    let caller = ctx.caller()?.policy();
    guild_store::notifications::find(conn, &id.to_string())?
        .filter(|n| {
            fact(Some(&n.recipient_user_id))
                .is_some_and(|to| can_read_notification(&caller, to, reading_one))
        })
        .ok_or(AppError::NotFound("notification"))
}

/// The caller's notifications, oldest first; `unread_only` for the unread ones.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    unread_only: bool,
    page: PageRequest,
) -> AppResult<Page<NotificationView>> {
    let filter = NotificationFilter {
        recipient_user_id: ctx.caller()?.id.clone(),
        unread_only,
    };
    guild_store::notifications::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(NotificationView::try_from)
}

/// One notification the caller may read.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<NotificationView> {
    visible(ctx, conn, id, true)?.try_into()
}

/// Marks one of the caller's own notifications read; reading it again keeps
/// the time it was first read. Not an event: a read mark is the reader's own
/// inbox state, not a change of business data.
pub fn mark_read(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<NotificationView> {
    visible(ctx, conn, id, false)?;
    guild_store::notifications::mark_read(conn, &id.to_string(), ctx.now.naive_utc())?;
    visible(ctx, conn, id, false)?.try_into()
}
