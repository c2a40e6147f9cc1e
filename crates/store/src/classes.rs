//! Classes with their teachers, sessions and preparation checklist (CLS-1 to CLS-3).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use guild_domain::enrolment::EnrolmentStatus;

use crate::schema::{checklist_items, class_sessions, class_teachers, classes, enrolments};
use crate::{DbConn, Page, StoreError, page_of};

/// One `classes` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = classes, treat_none_as_null = true)]
pub struct ClassRow {
    pub id: String,
    pub program_id: String,
    pub code: String,
    pub title: String,
    pub year: i32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub place: String,
    pub capacity: i32,
    pub class_head_user_id: Option<String>,
    pub status: String,
    pub cancellation_reason: Option<String>,
    pub version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `classes` row.
pub fn insert(conn: &mut DbConn, row: &ClassRow) -> Result<(), StoreError> {
    diesel::insert_into(classes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `classes` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ClassRow>, StoreError> {
    Ok(classes::table
        .find(id)
        .select(ClassRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(conn: &mut DbConn, row: &mut ClassRow, at: NaiveDateTime) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        classes::table
            .filter(classes::id.eq(&row.id))
            .filter(classes::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "classes" })
    }
}

/// One `class_teachers` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = class_teachers)]
pub struct ClassTeacherRow {
    pub id: String,
    pub class_id: String,
    pub user_id: String,
}

/// Inserts a `class_teachers` row.
pub fn insert_class_teacher(conn: &mut DbConn, row: &ClassTeacherRow) -> Result<(), StoreError> {
    diesel::insert_into(class_teachers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `class_teachers` row by id.
pub fn find_class_teacher(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ClassTeacherRow>, StoreError> {
    Ok(class_teachers::table
        .find(id)
        .select(ClassTeacherRow::as_select())
        .first(conn)
        .optional()?)
}

/// One `class_sessions` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = class_sessions)]
pub struct ClassSessionRow {
    pub id: String,
    pub class_id: String,
    pub session_date: NaiveDate,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
    pub topic: String,
    pub teacher_user_id: Option<String>,
}

/// Inserts a `class_sessions` row.
pub fn insert_class_session(conn: &mut DbConn, row: &ClassSessionRow) -> Result<(), StoreError> {
    diesel::insert_into(class_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `class_sessions` row by id.
pub fn find_class_session(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ClassSessionRow>, StoreError> {
    Ok(class_sessions::table
        .find(id)
        .select(ClassSessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// One `checklist_items` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = checklist_items)]
pub struct ChecklistItemRow {
    pub id: String,
    pub class_id: String,
    pub position: i32,
    pub label: String,
    pub mandatory: bool,
    pub checked_by: Option<String>,
    pub checked_at: Option<NaiveDateTime>,
    pub note: Option<String>,
}

/// Inserts a `checklist_items` row.
pub fn insert_checklist_item(conn: &mut DbConn, row: &ChecklistItemRow) -> Result<(), StoreError> {
    diesel::insert_into(checklist_items::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `checklist_items` row by id.
pub fn find_checklist_item(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ChecklistItemRow>, StoreError> {
    Ok(checklist_items::table
        .find(id)
        .select(ChecklistItemRow::as_select())
        .first(conn)
        .optional()?)
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct ClassFilter {
    pub year: Option<i32>,
    pub program_id: Option<String>,
    pub status: Option<String>,
    /// Only classes where this user is class head or one of the teachers
    /// (a teacher sees only their own classes).
    pub teacher_user_id: Option<String>,
}

/// Lists classes in id (creation) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &ClassFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<ClassRow>, StoreError> {
    let mut query = classes::table.select(ClassRow::as_select()).into_boxed();
    if let Some(year) = filter.year {
        query = query.filter(classes::year.eq(year));
    }
    if let Some(program) = &filter.program_id {
        query = query.filter(classes::program_id.eq(program.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(classes::status.eq(status.clone()));
    }
    if let Some(user) = &filter.teacher_user_id {
        let taught = class_teachers::table
            .filter(class_teachers::user_id.eq(user.clone()))
            .select(class_teachers::class_id);
        query = query.filter(
            classes::class_head_user_id
                .eq(user.clone())
                .or(classes::id.eq_any(taught)),
        );
    }
    if let Some(after) = after {
        query = query.filter(classes::id.gt(after.to_owned()));
    }
    let rows = query.order(classes::id.asc()).limit(limit + 1).load(conn)?;
    Ok(page_of(rows, limit, |r| r.id.clone()))
}

/// How many seats of the class are taken (CLS-3): its enrolments whose status
/// holds a seat ([`EnrolmentStatus::holds_seat`]: confirmed, paid, notified).
/// Call it after [`lock`] in the same transaction when the answer decides
/// whether another seat may be given, so two officers cannot both take the
/// last seat.
pub fn seats_taken(conn: &mut DbConn, class_id: &str) -> Result<i64, StoreError> {
    Ok(enrolments::table
        .filter(enrolments::class_id.eq(class_id))
        .filter(enrolments::status.eq_any(EnrolmentStatus::seat_holding()))
        .count()
        .get_result(conn)?)
}

/// Loads the class row and locks it until the end of the transaction (CLS-3):
/// `SELECT … FOR UPDATE` on PostgreSQL, so concurrent transactions that lock
/// the same class (confirming enrolments, lowering the capacity) run one after
/// the other and see each other's seats. SQLite has no row locks; there the
/// store's write lock already serialises every write transaction, so a plain
/// read is enough. Must run inside [`crate::Store::write`]. `None` when the
/// class does not exist.
pub fn lock(conn: &mut DbConn, class_id: &str) -> Result<Option<ClassRow>, StoreError> {
    let row = match conn {
        DbConn::Postgres(c) => classes::table
            .find(class_id)
            .select(ClassRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConn::Sqlite(c) => classes::table
            .find(class_id)
            .select(ClassRow::as_select())
            .first(c)
            .optional()?,
    };
    Ok(row)
}

/// The class's sessions in time order.
pub fn sessions(conn: &mut DbConn, class_id: &str) -> Result<Vec<ClassSessionRow>, StoreError> {
    Ok(class_sessions::table
        .filter(class_sessions::class_id.eq(class_id))
        .order((
            class_sessions::session_date.asc(),
            class_sessions::starts_at.asc(),
            class_sessions::id.asc(),
        ))
        .select(ClassSessionRow::as_select())
        .load(conn)?)
}

/// Replaces the class's whole schedule with `rows`.
pub fn replace_sessions(
    conn: &mut DbConn,
    class_id: &str,
    rows: &[ClassSessionRow],
) -> Result<(), StoreError> {
    diesel::delete(class_sessions::table.filter(class_sessions::class_id.eq(class_id)))
        .execute(conn)?;
    for row in rows {
        diesel::insert_into(class_sessions::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The class's teachers, in the order they were added.
pub fn teachers(conn: &mut DbConn, class_id: &str) -> Result<Vec<ClassTeacherRow>, StoreError> {
    Ok(class_teachers::table
        .filter(class_teachers::class_id.eq(class_id))
        .order(class_teachers::id.asc())
        .select(ClassTeacherRow::as_select())
        .load(conn)?)
}

/// Replaces the class's teachers with `rows`.
pub fn replace_teachers(
    conn: &mut DbConn,
    class_id: &str,
    rows: &[ClassTeacherRow],
) -> Result<(), StoreError> {
    diesel::delete(class_teachers::table.filter(class_teachers::class_id.eq(class_id)))
        .execute(conn)?;
    for row in rows {
        diesel::insert_into(class_teachers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The class's preparation checklist in position order (CLS-2).
pub fn checklist(conn: &mut DbConn, class_id: &str) -> Result<Vec<ChecklistItemRow>, StoreError> {
    Ok(checklist_items::table
        .filter(checklist_items::class_id.eq(class_id))
        .order(checklist_items::position.asc())
        .select(ChecklistItemRow::as_select())
        .load(conn)?)
}

/// Inserts several checklist items at once (a new class's default checklist).
pub fn insert_checklist_items(
    conn: &mut DbConn,
    rows: &[ChecklistItemRow],
) -> Result<(), StoreError> {
    for row in rows {
        diesel::insert_into(checklist_items::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The position after the class's last checklist item (1 for an empty list).
/// Lock the class first ([`lock`]) so two additions do not pick the same one.
pub fn next_checklist_position(conn: &mut DbConn, class_id: &str) -> Result<i32, StoreError> {
    let max: Option<i32> = checklist_items::table
        .filter(checklist_items::class_id.eq(class_id))
        .select(diesel::dsl::max(checklist_items::position))
        .first(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

/// Finds a checklist item of the class.
pub fn find_class_checklist_item(
    conn: &mut DbConn,
    class_id: &str,
    item_id: &str,
) -> Result<Option<ChecklistItemRow>, StoreError> {
    Ok(checklist_items::table
        .filter(checklist_items::id.eq(item_id))
        .filter(checklist_items::class_id.eq(class_id))
        .select(ChecklistItemRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves who checked the item, when, and the note (all `None` to uncheck).
pub fn set_checklist_check(conn: &mut DbConn, row: &ChecklistItemRow) -> Result<(), StoreError> {
    diesel::update(checklist_items::table.find(&row.id))
        .set((
            checklist_items::checked_by.eq(&row.checked_by),
            checklist_items::checked_at.eq(row.checked_at),
            checklist_items::note.eq(&row.note),
        ))
        .execute(conn)?;
    Ok(())
}

/// [`seats_taken`] for several classes at once (for lists); classes without
/// seat-holding enrolments are missing from the map.
pub fn seats_taken_many(
    conn: &mut DbConn,
    class_ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    if class_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, i64)> = enrolments::table
        .filter(enrolments::class_id.eq_any(class_ids))
        .filter(enrolments::status.eq_any(EnrolmentStatus::seat_holding()))
        .group_by(enrolments::class_id)
        .select((enrolments::class_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
