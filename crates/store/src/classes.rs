//! Classes with their teachers, sessions and preparation checklist (CLS-1 to CLS-3).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::schema::{checklist_items, class_sessions, class_teachers, classes};
use crate::{DbConn, StoreError};

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
