//! Public notices (TCH-2, CRT-6): what the association publishes on its web
//! site, readable without a token. A notice holds a title and a text naming
//! people by name only, never an ID number or any other personal data. Other
//! use cases publish through [`publish`] inside their own transaction.

use chrono::{DateTime, Utc};

use guild_domain::notice::{NoticeKind, NoticeText};
use guild_store::DbConn;
use guild_store::notices::NoticeRow;
use serde::Serialize;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppResult, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::stored_id;
use crate::{Page, PageRequest};

/// A public notice.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeView {
    /// The notice id.
    pub id: Uuid,
    /// What the notice announces.
    pub kind: NoticeKind,
    /// One line, for lists.
    pub title: String,
    /// The full text.
    pub body: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

impl TryFrom<NoticeRow> for NoticeView {
    type Error = crate::AppError;
    fn try_from(r: NoticeRow) -> AppResult<Self> {
        Ok(NoticeView {
            id: stored_id("notices", &r.id)?,
            kind: stored("notices", &r.kind)?,
            title: r.title,
            body: r.body,
            published_at: r.published_at.and_utc(),
        })
    }
}

impl crate::events::Record for NoticeView {
    const ENTITY: &'static str = "notice";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    /// A public notice belongs to no organisation: it reaches the
    /// association's subscribers only, like the public page it is on.
    fn organisation(&self) -> Option<Uuid> {
        None
    }
}

/// Publishes a notice inside the caller's write transaction, so the notice
/// exists exactly when the change it announces does (TCH-2): one
/// `notice.published` event. `entity_type` and `entity_id` name what it is
/// about; they are kept for the association and never shown publicly.
pub fn publish(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: NoticeKind,
    text: NoticeText,
    entity_type: &str,
    entity_id: &str,
) -> AppResult<NoticeView> {
    let row = NoticeRow {
        id: Uuid::now_v7().to_string(),
        kind: kind.as_str().to_owned(),
        title: text.title,
        body: text.body,
        entity_type: entity_type.to_owned(),
        entity_id: entity_id.to_owned(),
        published_at: ctx.now.naive_utc(),
    };
    guild_store::notices::insert(conn, &row)?;
    let view = NoticeView::try_from(row)?;
    ctx.emit(conn, Event::change(ev::NOTICE_PUBLISHED, None, &view)?)?;
    Ok(view)
}

/// Public notices, oldest first, optionally of one kind (no caller needed).
pub fn list_public(
    conn: &mut DbConn,
    kind: Option<NoticeKind>,
    page: PageRequest,
) -> AppResult<Page<NoticeView>> {
    let kind = kind.map(|k| k.as_str());
    guild_store::notices::list(conn, kind, page.after.as_deref(), page.limit)?
        .try_map(NoticeView::try_from)
}
