//! Classes (开班): one run of a program with dates, place, capacity, class
//! head, teachers and a schedule of sessions; their states and the
//! preparation checklist (CLS-1 to CLS-3).
//!
//! Classes are association data: every authenticated role reads them (member
//! companies choose classes to enrol in), except that a `teacher` sees only the
//! classes where they are class head or one of the teachers (ACC-2). Training
//! staff (administrator, training officer, training head) create, change and
//! move them through their states and work through the checklist.

mod checklist;
mod records;
mod staffing;

pub use checklist::{add_checklist_item, check_item, checklist, uncheck_item};
pub use records::{
    AddChecklistItem, CancelClass, CheckItem, ChecklistItemView, ChecklistView, ClassSummary,
    ClassTeacher, ClassView, CreateClass, SessionInput, SessionView, UpdateClass,
};

use chrono::Datelike;
use guild_domain::access::Scope;
use guild_domain::class::{
    ChecklistState, ClassAction, ClassStatus, DEFAULT_CHECKLIST, check_capacity, check_class_dates,
    check_editable, check_finish, check_schedule, check_start, class_transition,
    format_session_time, normalize_class_code, validate_class_title, validate_place,
};
use guild_domain::error::FieldError;
use guild_domain::program::{ProgramStatus, program_is_offered};
pub use guild_domain::roles::CLASS_MANAGERS;
use guild_store::DbConn;
use guild_store::classes::{ChecklistItemRow, ClassFilter, ClassRow, ClassTeacherRow};
use uuid::Uuid;

use crate::access::class_owner;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::inputs::check_version;
use crate::{Page, PageRequest};
use staffing::{
    Schedule, Staffing, check_session_teachers, check_teachers_appointed, dedup_ids,
    parse_sessions, session_rows, stored_schedule, validation,
};

/// The filters of the class list.
#[derive(Debug, Clone, Default)]
pub struct ListClasses {
    /// Only classes starting in this year.
    pub year: Option<i32>,
    /// Only classes of this program.
    pub program_id: Option<Uuid>,
    /// Only classes in this status.
    pub status: Option<ClassStatus>,
}

/// Loads a class the caller may see, or 404 (ACC-2): a teacher sees only the
/// classes where they are class head or teacher; every other role sees every
/// class.
fn visible(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ClassRow> {
    let caller = ctx.caller()?;
    let row =
        guild_store::classes::find(conn, &id.to_string())?.ok_or(AppError::NotFound("class"))?;
    if !caller.sees(&class_owner(conn, &row, caller)?) {
        return Err(AppError::NotFound("class"));
    }
    Ok(row)
}

/// Locks a class for a change (CLS-3: see [`guild_store::classes::lock`]), or 404.
fn locked(conn: &mut DbConn, id: Uuid) -> AppResult<ClassRow> {
    guild_store::classes::lock(conn, &id.to_string())?.ok_or(AppError::NotFound("class"))
}

fn seats_left(capacity: i32, taken: i64) -> i64 {
    (i64::from(capacity) - taken).max(0)
}

/// The event of a change to a class; classes belong to no organisation.
fn event<B: serde::Serialize, A: serde::Serialize>(
    kind: EventKind,
    class_id: &str,
    before: Option<&B>,
    after: &A,
) -> AppResult<Event> {
    Event::new(kind, "class", class_id, before, Some(after))
}

/// The full view of a class: teachers, sessions and seats. An account the
/// class names that does not exist is an internal error.
fn view(conn: &mut DbConn, row: ClassRow) -> AppResult<ClassView> {
    let teachers = guild_store::classes::teachers(conn, &row.id)?;
    let sessions = guild_store::classes::sessions(conn, &row.id)?;
    let seats_taken = guild_store::classes::seats_taken(conn, &row.id)?;
    let mut ids: Vec<String> = teachers.iter().map(|t| t.user_id.clone()).collect();
    ids.extend(row.class_head_user_id.iter().cloned());
    ids.extend(sessions.iter().filter_map(|s| s.teacher_user_id.clone()));
    ids.sort();
    ids.dedup();
    let names = guild_store::teachers::display_names(conn, &ids)?;
    let teacher = |id: &str| -> AppResult<ClassTeacher> {
        Ok(ClassTeacher {
            user_id: stored_id("class_teachers", id)?,
            name: names.get(id).cloned().ok_or_else(|| {
                AppError::Internal(format!("class {} names unknown account {id}", row.id))
            })?,
        })
    };
    Ok(ClassView {
        id: stored_id("classes", &row.id)?,
        program_id: stored_id("classes", &row.program_id)?,
        class_head: row.class_head_user_id.as_deref().map(teacher).transpose()?,
        teachers: teachers
            .iter()
            .map(|t| teacher(&t.user_id))
            .collect::<AppResult<_>>()?,
        sessions: sessions
            .into_iter()
            .map(|s| {
                Ok(SessionView {
                    id: stored_id("class_sessions", &s.id)?,
                    session_date: s.session_date,
                    starts_at: format_session_time(s.starts_at),
                    ends_at: format_session_time(s.ends_at),
                    topic: s.topic,
                    teacher: s.teacher_user_id.as_deref().map(teacher).transpose()?,
                })
            })
            .collect::<AppResult<_>>()?,
        seats_taken,
        seats_left: seats_left(row.capacity, seats_taken),
        code: row.code,
        title: row.title,
        year: row.year,
        start_date: row.start_date,
        end_date: row.end_date,
        place: row.place,
        capacity: row.capacity,
        status: stored("classes", &row.status)?,
        cancellation_reason: row.cancellation_reason,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn summary(row: ClassRow, seats_taken: i64) -> AppResult<ClassSummary> {
    Ok(ClassSummary {
        id: stored_id("classes", &row.id)?,
        program_id: stored_id("classes", &row.program_id)?,
        class_head_user_id: stored_opt("classes", row.class_head_user_id.as_deref())?,
        seats_taken,
        seats_left: seats_left(row.capacity, seats_taken),
        code: row.code,
        title: row.title,
        year: row.year,
        start_date: row.start_date,
        end_date: row.end_date,
        place: row.place,
        capacity: row.capacity,
        status: stored("classes", &row.status)?,
        version: row.version,
    })
}

/// Lists classes (every authenticated role; a teacher sees only the classes
/// where they are class head or teacher, ACC-2). Seats are counted live (CLS-3).
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListClasses,
    page: PageRequest,
) -> AppResult<Page<ClassSummary>> {
    let filter = ClassFilter {
        year: q.year,
        program_id: q.program_id.map(|v| v.to_string()),
        status: q.status.map(|s| s.as_str().to_owned()),
        // ACC-2: a teacher lists the classes they head or teach; every other
        // role every class (the association's own records).
        teacher_user_id: match ctx.caller()?.scope() {
            Scope::Teacher(u) => Some(u.to_string()),
            _ => None,
        },
    };
    let rows = guild_store::classes::list(conn, &filter, page.after.as_deref(), page.limit)?;
    let ids: Vec<String> = rows.items.iter().map(|r| r.id.clone()).collect();
    let seats = guild_store::classes::seats_taken_many(conn, &ids)?;
    rows.try_map(|r| {
        let taken = seats.get(&r.id).copied().unwrap_or(0);
        summary(r, taken)
    })
}

/// Reads one class with its sessions, teachers and seats (CLS-1, CLS-3).
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ClassView> {
    let row = visible(ctx, conn, id)?;
    view(conn, row)
}

/// Pushes the error of `r` to `errors`; the value if there was none.
fn collect<T>(r: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// The checked fields of a new class.
struct NewClass {
    code: String,
    title: String,
    place: String,
    schedule: Schedule,
    staffing: Staffing,
}

/// Checks a new class's fields, dates, schedule and session teachers, with
/// every field problem at once (422).
fn check_new(body: &CreateClass) -> AppResult<NewClass> {
    let mut errors = Vec::new();
    let code = collect(normalize_class_code(&body.code), &mut errors);
    let title = collect(validate_class_title(&body.title), &mut errors);
    let place = collect(validate_place(&body.place), &mut errors);
    collect(
        check_class_dates(body.start_date, body.end_date),
        &mut errors,
    );
    let schedule = parse_sessions(body.sessions.as_deref().unwrap_or_default(), &mut errors);
    if errors.is_empty()
        && let Err(e) = check_schedule(&schedule.slots, body.start_date, body.end_date)
    {
        errors.extend(e);
    }
    validation(errors)?;
    let (Some(code), Some(title), Some(place)) = (code, title, place) else {
        return Err(AppError::Internal("validated fields missing".to_owned()));
    };
    let staffing = Staffing {
        head: body.class_head_user_id.map(|u| u.to_string()),
        teachers: dedup_ids(body.teacher_user_ids.as_deref().unwrap_or_default()),
    };
    check_session_teachers(&schedule, &staffing)?;
    Ok(NewClass {
        code,
        title,
        place,
        schedule,
        staffing,
    })
}

/// 409 `already_exists` for a class code that is taken.
fn code_taken() -> AppError {
    AppError::Exists("a class with this code already exists".to_owned())
}

/// Stores the teachers of class `class_id` (replacing the list).
fn store_teachers(conn: &mut DbConn, class_id: &str, teachers: &[String]) -> AppResult<()> {
    let rows: Vec<ClassTeacherRow> = teachers
        .iter()
        .map(|t| ClassTeacherRow {
            id: Uuid::now_v7().to_string(),
            class_id: class_id.to_owned(),
            user_id: t.clone(),
        })
        .collect();
    Ok(guild_store::classes::replace_teachers(
        conn, class_id, &rows,
    )?)
}

/// The default preparation checklist of a new class (CLS-2).
fn default_checklist(class_id: &str) -> Vec<ChecklistItemRow> {
    DEFAULT_CHECKLIST
        .iter()
        .zip(1..)
        .map(|((label, mandatory), position)| ChecklistItemRow {
            id: Uuid::now_v7().to_string(),
            class_id: class_id.to_owned(),
            position,
            label: (*label).to_owned(),
            mandatory: *mandatory,
            checked_by: None,
            checked_at: None,
            note: None,
        })
        .collect()
}

/// Schedules a class (CLS-1). The program must be active; the class head and
/// teachers need an appointment covering the class's dates (TCH-1); sessions
/// lie within the dates. The class starts `planned` with the default
/// preparation checklist (CLS-2).
pub fn create(ctx: &Ctx, conn: &mut DbConn, body: CreateClass) -> AppResult<ClassView> {
    let new = check_new(&body)?;
    let program = guild_store::programs::find(conn, &body.program_id.to_string())?
        .ok_or_else(|| AppError::field("program_id", "unknown", "no such program"))?;
    program_is_offered(stored::<ProgramStatus>("programs", &program.status)?)?;
    check_teachers_appointed(conn, &new.staffing.fields(), body.start_date, body.end_date)?;
    let id = Uuid::now_v7().to_string();
    let now = ctx.now.naive_utc();
    let row = ClassRow {
        id: id.clone(),
        program_id: program.id,
        code: new.code,
        title: new.title,
        year: body.start_date.year(),
        start_date: body.start_date,
        end_date: body.end_date,
        place: new.place,
        capacity: body.capacity,
        class_head_user_id: new.staffing.head.clone(),
        status: ClassStatus::Planned.as_str().to_owned(),
        cancellation_reason: None,
        version: 1,
        created_by: ctx.caller()?.id.clone(),
        created_at: now,
        updated_at: now,
    };
    guild_store::classes::insert(conn, &row).or_taken(code_taken)?;
    store_teachers(conn, &id, &new.staffing.teachers)?;
    guild_store::classes::replace_sessions(conn, &id, &session_rows(&id, &new.schedule))?;
    guild_store::classes::insert_checklist_items(conn, &default_checklist(&id))?;
    let after = view(conn, row)?;
    ctx.emit(conn, event::<(), _>(ev::CLASS_CREATED, &id, None, &after)?)?;
    Ok(after)
}

/// The checked fields of a change; `None` where the field is left as it is.
struct Changes {
    code: Option<String>,
    title: Option<String>,
    place: Option<String>,
    schedule: Option<Schedule>,
}

/// Checks the fields of a change, with every field problem at once (422).
fn check_changes(body: &UpdateClass) -> AppResult<Changes> {
    let mut errors = Vec::new();
    let mut field = |v: Option<&str>, check: fn(&str) -> Result<String, FieldError>| {
        collect(v.map(check).transpose(), &mut errors).flatten()
    };
    let code = field(body.code.as_deref(), normalize_class_code);
    let title = field(body.title.as_deref(), validate_class_title);
    let place = field(body.place.as_deref(), validate_place);
    let schedule = body
        .sessions
        .as_deref()
        .map(|s| parse_sessions(s, &mut errors));
    validation(errors)?;
    Ok(Changes {
        code,
        title,
        place,
        schedule,
    })
}

/// The class's staffing after `body`, checked: each session's teacher
/// teaches the class, and TCH-1 for the accounts that are new to the class,
/// or all of them when the dates move.
fn restaff(
    conn: &mut DbConn,
    row: &ClassRow,
    body: &UpdateClass,
    schedule: &Schedule,
    (start, end): (chrono::NaiveDate, chrono::NaiveDate),
) -> AppResult<Staffing> {
    let dates_changed = start != row.start_date || end != row.end_date;
    let current_teachers: Vec<String> = guild_store::classes::teachers(conn, &row.id)?
        .into_iter()
        .map(|t| t.user_id)
        .collect();
    let staffing = Staffing {
        head: match body.class_head_user_id {
            Some(h) => h.map(|u| u.to_string()),
            None => row.class_head_user_id.clone(),
        },
        teachers: match &body.teacher_user_ids {
            Some(t) => dedup_ids(t),
            None => current_teachers.clone(),
        },
    };
    check_session_teachers(schedule, &staffing)?;
    let to_check: Vec<(&str, String)> = staffing
        .fields()
        .into_iter()
        .filter(|(field, u)| {
            dates_changed
                || match *field {
                    "class_head_user_id" => row.class_head_user_id.as_ref() != Some(u),
                    _ => !current_teachers.contains(u),
                }
        })
        .collect();
    check_teachers_appointed(conn, &to_check, start, end)?;
    Ok(staffing)
}

/// Changes a planned or open class. Honours `If-Match` (API-5).
/// `teacher_user_ids` and `sessions` replace the whole list; the capacity
/// cannot drop below the seats taken (CLS-3, 409 `capacity_below_seats`); new
/// teachers and new dates are checked against the appointments (TCH-1). The
/// program cannot be changed.
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
    body: UpdateClass,
) -> AppResult<ClassView> {
    let changes = check_changes(&body)?;
    let mut row = locked(conn, id)?;
    check_version(expected_version, row.version)?;
    check_editable(stored("classes", &row.status)?)?;
    let before = view(conn, row.clone())?;
    let start = body.start_date.unwrap_or(row.start_date);
    let end = body.end_date.unwrap_or(row.end_date);
    check_class_dates(start, end)?;
    let schedule = match changes.schedule {
        Some(s) => s,
        None => stored_schedule(&guild_store::classes::sessions(conn, &row.id)?),
    };
    check_schedule(&schedule.slots, start, end).or_else(validation)?;
    let staffing = restaff(conn, &row, &body, &schedule, (start, end))?;
    if let Some(capacity) = body.capacity {
        check_capacity(capacity, guild_store::classes::seats_taken(conn, &row.id)?)?;
        row.capacity = capacity;
    }
    if let Some(v) = changes.code {
        row.code = v;
    }
    if let Some(v) = changes.title {
        row.title = v;
    }
    if let Some(v) = changes.place {
        row.place = v;
    }
    row.start_date = start;
    row.end_date = end;
    row.year = start.year();
    row.class_head_user_id = staffing.head.clone();
    guild_store::classes::update(conn, &mut row, ctx.now.naive_utc()).or_taken(code_taken)?;
    if body.teacher_user_ids.is_some() {
        store_teachers(conn, &row.id, &staffing.teachers)?;
    }
    if body.sessions.is_some() {
        guild_store::classes::replace_sessions(conn, &row.id, &session_rows(&row.id, &schedule))?;
    }
    let class_id = row.id.clone();
    let after = view(conn, row)?;
    ctx.emit(
        conn,
        event(ev::CLASS_UPDATED, &class_id, Some(&before), &after)?,
    )?;
    Ok(after)
}

/// The event kind of a class action.
fn action_kind(action: ClassAction) -> EventKind {
    match action {
        ClassAction::Open => ev::CLASS_OPENED,
        ClassAction::Start => ev::CLASS_STARTED,
        ClassAction::Finish => ev::CLASS_FINISHED,
        ClassAction::Cancel => ev::CLASS_CANCELLED,
    }
}

/// Moves a class through its states (CLS-1) on the locked class: the state
/// machine (409 with the allowed actions), then the action's own rules. Start
/// needs the mandatory checklist items checked (CLS-2, `checklist_incomplete`)
/// and the start date reached in the association's time zone
/// (`class_not_started`); finish needs the end date (`class_not_ended`);
/// cancel records `reason`.
pub fn transition(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: ClassAction,
    reason: Option<String>,
) -> AppResult<ClassView> {
    let today = ctx.today();
    let mut row = locked(conn, id)?;
    let before = view(conn, row.clone())?;
    let next = class_transition(before.status, action)?;
    match action {
        ClassAction::Start => {
            let checklist: Vec<ChecklistState> = guild_store::classes::checklist(conn, &row.id)?
                .into_iter()
                .map(|i| ChecklistState {
                    checked: i.checked_at.is_some(),
                    label: i.label,
                    mandatory: i.mandatory,
                })
                .collect();
            check_start(&checklist, row.start_date, today)?;
        }
        ClassAction::Finish => check_finish(row.end_date, today)?,
        ClassAction::Cancel => row.cancellation_reason = reason,
        ClassAction::Open => {}
    }
    row.status = next.as_str().to_owned();
    guild_store::classes::update(conn, &mut row, ctx.now.naive_utc())?;
    let class_id = row.id.clone();
    let after = view(conn, row)?;
    ctx.emit(
        conn,
        event(action_kind(action), &class_id, Some(&before), &after)?,
    )?;
    Ok(after)
}
