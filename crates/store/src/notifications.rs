//! The notification inbox of each account (ENR-1 class notices).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{notifications, users};
use crate::{DbConn, Page, StoreError, page_of};

/// One `notifications` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub recipient_user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub entity_type: String,
    pub entity_id: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// Inserts a `notifications` row.
pub fn insert(conn: &mut DbConn, row: &NotificationRow) -> Result<(), StoreError> {
    diesel::insert_into(notifications::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `notifications` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<NotificationRow>, StoreError> {
    Ok(notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for [`list`].
#[derive(Debug, Default, Clone)]
pub struct NotificationFilter {
    /// Only this account's notifications (always set: everyone reads their own).
    pub recipient_user_id: String,
    /// Only unread ones.
    pub unread_only: bool,
}

/// Lists an account's notifications in id order (oldest first) after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &NotificationFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<NotificationRow>, StoreError> {
    let mut query = notifications::table
        .filter(notifications::recipient_user_id.eq(filter.recipient_user_id.clone()))
        .select(NotificationRow::as_select())
        .into_boxed();
    if filter.unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(after) = after {
        query = query.filter(notifications::id.gt(after.to_owned()));
    }
    let rows = query
        .order(notifications::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// Marks a notification read at `at` unless it already is (reading twice keeps the first time).
pub fn mark_read(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Some(at)))
    .execute(conn)?;
    Ok(())
}

/// The active accounts that receive an enrolment's notices: the organisation's
/// fillers and reviewers (when it has one) and every account of the person
/// (`users.person_id`), without duplicates, in id order.
pub fn enrolment_recipients(
    conn: &mut DbConn,
    organisation_id: Option<&str>,
    person_id: &str,
) -> Result<Vec<String>, StoreError> {
    let mut ids: Vec<String> = users::table
        .filter(users::status.eq("active"))
        .filter(users::person_id.eq(person_id))
        .select(users::id)
        .load(conn)?;
    if let Some(org) = organisation_id {
        ids.extend(
            users::table
                .filter(users::status.eq("active"))
                .filter(users::organisation_id.eq(org))
                .filter(users::role.eq_any(["org_filler", "org_reviewer"]))
                .select(users::id)
                .load::<String>(conn)?,
        );
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The active accounts with one of `roles` (wire names), in id order: the
/// association staff a notice about association-internal records goes to.
pub fn accounts_with_roles(conn: &mut DbConn, roles: &[&str]) -> Result<Vec<String>, StoreError> {
    Ok(users::table
        .filter(users::status.eq("active"))
        .filter(users::role.eq_any(roles.to_vec()))
        .select(users::id)
        .order(users::id.asc())
        .load(conn)?)
}
