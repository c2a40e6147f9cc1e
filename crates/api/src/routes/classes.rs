//! Classes (开班): one run of a program with dates, place, capacity, class
//! head, teachers and a schedule of sessions; their states and the
//! preparation checklist (CLS-1 to CLS-3).
//!
//! Classes are association data: every authenticated role reads them (member
//! companies choose classes to enrol in), except that a `teacher` sees only the
//! classes where they are class head or one of the teachers. Training staff
//! (administrator, training officer, training head) create, change and move
//! them through their states and work through the checklist.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use guild_domain::Role;
use guild_domain::class::{
    ChecklistAction, ChecklistItemState, ChecklistState, ClassAction, ClassStatus,
    DEFAULT_CHECKLIST, SessionSlot, check_capacity, check_class_dates, check_editable,
    check_finish, check_schedule, check_start, checklist_transition, class_transition,
    format_session_time, normalize_class_code, parse_session_time, validate_checklist_label,
    validate_class_title, validate_place, validate_topic,
};
use guild_domain::clock::local_date;
use guild_domain::error::FieldError;
use guild_domain::program::{ProgramStatus, program_is_offered};
use guild_domain::teacher::{AppointmentStatus, TermAppointment, check_can_teach};
use guild_store::DbConn;
use guild_store::classes::{
    ChecklistItemRow, ClassFilter, ClassRow, ClassSessionRow, ClassTeacherRow,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::access::{self, Scope};
use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{
    IfMatch, PageParams, Paged, RequestContext, encode_cursor, etag, parse_stored, validate,
};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_classes)
        .service(create_class)
        .service(get_class)
        .service(update_class)
        .service(open_class)
        .service(start_class)
        .service(finish_class)
        .service(cancel_class)
        .service(get_checklist)
        .service(add_checklist_item)
        .service(check_item)
        .service(uncheck_item);
}

/// Roles that schedule classes, move them through their states and work
/// through the checklist (SPEC §1: training staff).
pub const CLASS_MANAGERS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// A teacher of a class, by account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassTeacher {
    /// The teacher's account.
    pub user_id: Uuid,
    /// The teacher's display name.
    pub name: String,
}

/// One session of a class's schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// The session id.
    pub id: Uuid,
    /// The day.
    pub session_date: NaiveDate,
    /// Start time, `HH:MM` (association time zone).
    #[schema(example = "09:00")]
    pub starts_at: String,
    /// End time, `HH:MM`.
    #[schema(example = "12:00")]
    pub ends_at: String,
    /// What is taught.
    pub topic: String,
    /// Who teaches it.
    pub teacher: Option<ClassTeacher>,
}

/// A class with its schedule, teachers and seats.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassView {
    /// The class id.
    pub id: Uuid,
    /// The program this class runs.
    pub program_id: Uuid,
    /// Unique code, e.g. `GAS-SAFETY-2027-01`.
    pub code: String,
    /// Title.
    pub title: String,
    /// The year of the start date (the plan year).
    pub year: i32,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where it is held.
    pub place: String,
    /// Seats (CLS-3).
    pub capacity: i32,
    /// Seats held by confirmed, paid or notified enrolments (CLS-3).
    pub seats_taken: i64,
    /// `capacity - seats_taken` (never below 0).
    pub seats_left: i64,
    /// The class head (班主任).
    pub class_head: Option<ClassTeacher>,
    /// The teachers.
    pub teachers: Vec<ClassTeacher>,
    /// The schedule, in time order.
    pub sessions: Vec<SessionView>,
    /// Where the class is in its life (CLS-1).
    pub status: ClassStatus,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A class in a list: without its schedule and teacher list (read one class for those).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassSummary {
    /// The class id.
    pub id: Uuid,
    /// The program this class runs.
    pub program_id: Uuid,
    /// Unique code.
    pub code: String,
    /// Title.
    pub title: String,
    /// The year of the start date.
    pub year: i32,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where it is held.
    pub place: String,
    /// Seats (CLS-3).
    pub capacity: i32,
    /// Seats held by confirmed, paid or notified enrolments.
    pub seats_taken: i64,
    /// `capacity - seats_taken` (never below 0).
    pub seats_left: i64,
    /// The class head's account.
    pub class_head_user_id: Option<Uuid>,
    /// Where the class is in its life (CLS-1).
    pub status: ClassStatus,
    /// Optimistic-concurrency version.
    pub version: i32,
}

/// One session as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// The day; within the class's dates.
    pub session_date: NaiveDate,
    /// Start time `HH:MM` (24-hour clock).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub starts_at: String,
    /// End time `HH:MM`, after the start.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "12:00")]
    pub ends_at: String,
    /// What is taught, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub topic: String,
    /// Who teaches it: the class head or one of the class's teachers.
    pub teacher_user_id: Option<Uuid>,
}

/// A new class (CLS-1). It starts `planned`, with the default preparation checklist.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "program_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566",
    "code": "GAS-SAFETY-2027-01",
    "title": "Gas safety for operations staff, class 1",
    "start_date": "2027-03-01",
    "end_date": "2027-03-03",
    "place": "Training centre, room 301",
    "capacity": 40,
    "sessions": [{"session_date": "2027-03-01", "starts_at": "09:00", "ends_at": "12:00", "topic": "Regulations"}]
}))]
pub struct CreateClass {
    /// An active program.
    pub program_id: Uuid,
    /// Unique code, 2 to 40 letters, digits and `-` (upper-cased).
    #[schema(min_length = 2, max_length = 40)]
    pub code: String,
    /// Title, 2 to 200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub title: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day, not before the first.
    pub end_date: NaiveDate,
    /// Where it is held, 2 to 200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub place: String,
    /// Seats, 1 to 1000.
    #[validate(range(min = 1, max = 1000))]
    #[schema(minimum = 1, maximum = 1000)]
    pub capacity: i32,
    /// The class head (班主任): a teacher with an appointment covering the class's dates (TCH-1).
    pub class_head_user_id: Option<Uuid>,
    /// The teachers: each with an appointment covering the class's dates (TCH-1).
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub teacher_user_ids: Option<Vec<Uuid>>,
    /// The schedule.
    #[validate(length(max = 500))]
    #[schema(max_items = 500)]
    pub sessions: Option<Vec<SessionInput>>,
}

/// Changes to a planned or open class; omitted fields stay as they are.
/// `teacher_user_ids` and `sessions` replace the whole list.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClass {
    /// Unique code.
    #[schema(min_length = 2, max_length = 40)]
    pub code: Option<String>,
    /// Title.
    #[schema(min_length = 2, max_length = 200)]
    pub title: Option<String>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Last day.
    pub end_date: Option<NaiveDate>,
    /// Where it is held.
    #[schema(min_length = 2, max_length = 200)]
    pub place: Option<String>,
    /// Seats, 1 to 1000; not below the seats taken (CLS-3).
    #[validate(range(min = 1, max = 1000))]
    #[schema(minimum = 1, maximum = 1000)]
    pub capacity: Option<i32>,
    /// The class head; `null` removes the class head.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub class_head_user_id: Option<Option<Uuid>>,
    /// The teachers (replaces the list).
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub teacher_user_ids: Option<Vec<Uuid>>,
    /// The schedule (replaces the whole schedule).
    #[validate(length(max = 500))]
    #[schema(max_items = 500)]
    pub sessions: Option<Vec<SessionInput>>,
}

/// Tells an explicit `null` (`Some(None)`) from an omitted field (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The reason for a cancellation.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelClass {
    /// Why the class is cancelled (shown to the enrolled organisations).
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Filters for the class list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClassQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only classes starting in this year.
    pub year: Option<i32>,
    /// Only classes of this program.
    pub program_id: Option<Uuid>,
    /// Only classes in this status.
    pub status: Option<ClassStatus>,
}

/// One item of the preparation checklist (CLS-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChecklistItemView {
    /// The item id.
    pub id: Uuid,
    /// Its place in the list (1 = first).
    pub position: i32,
    /// What is to be done.
    pub label: String,
    /// Whether the class cannot start while it is unchecked (CLS-2).
    pub mandatory: bool,
    /// `checked` or `unchecked`.
    pub state: ChecklistItemState,
    /// Who checked it off.
    pub checked_by: Option<Uuid>,
    /// When it was checked off.
    pub checked_at: Option<DateTime<Utc>>,
    /// A note made when checking it off.
    pub note: Option<String>,
}

impl TryFrom<ChecklistItemRow> for ChecklistItemView {
    type Error = ApiError;
    fn try_from(r: ChecklistItemRow) -> ApiResult<Self> {
        let state = item_state(&r);
        Ok(ChecklistItemView {
            id: stored_uuid("checklist_items", &r.id)?,
            position: r.position,
            label: r.label,
            mandatory: r.mandatory,
            state,
            checked_by: r
                .checked_by
                .as_deref()
                .map(|v| stored_uuid("checklist_items", v))
                .transpose()?,
            checked_at: r.checked_at.map(|t| t.and_utc()),
            note: r.note,
        })
    }
}

fn item_state(r: &ChecklistItemRow) -> ChecklistItemState {
    if r.checked_at.is_some() {
        ChecklistItemState::Checked
    } else {
        ChecklistItemState::Unchecked
    }
}

/// A class's preparation checklist (培训项目实施作业单, CLS-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChecklistView {
    /// The class.
    pub class_id: Uuid,
    /// Whether every mandatory item is checked (the class may start, CLS-2).
    pub complete: bool,
    /// The items in order.
    pub items: Vec<ChecklistItemView>,
}

/// A custom checklist item.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Interpreter booked", "mandatory": false}))]
pub struct AddChecklistItem {
    /// What is to be done, 2 to 200 characters.
    #[schema(min_length = 2, max_length = 200)]
    pub label: String,
    /// Whether the class cannot start while it is unchecked.
    pub mandatory: bool,
}

/// Checking an item off.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckItem {
    /// An optional note, e.g. where the signed agreement is filed.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub note: Option<String>,
}

/// Today's date in the association's time zone.
fn today(s: &AppState) -> NaiveDate {
    local_date(s.clock.now(), s.config.time_zone)
}

/// Loads a class the caller may see, or 404 (ACC-2): a teacher sees only the
/// classes where they are class head or teacher; every other role sees every
/// class.
fn visible_class(conn: &mut DbConn, caller: &AuthUser, id: &Uuid) -> ApiResult<ClassRow> {
    let row = guild_store::classes::find(conn, &id.to_string())?
        .ok_or_else(|| ApiError::not_found("class"))?;
    if !caller.sees(&access::class_owner(conn, &row, caller)?) {
        return Err(ApiError::not_found("class"));
    }
    Ok(row)
}

/// Locks a class for a change (CLS-3: see [`guild_store::classes::lock`]), or 404.
fn locked_class(conn: &mut DbConn, id: &Uuid) -> ApiResult<ClassRow> {
    guild_store::classes::lock(conn, &id.to_string())?.ok_or_else(|| ApiError::not_found("class"))
}

fn seats_left(capacity: i32, taken: i64) -> i64 {
    (i64::from(capacity) - taken).max(0)
}

/// The full view of a class: teachers, sessions and seats.
fn class_view(conn: &mut DbConn, row: ClassRow) -> ApiResult<ClassView> {
    let teachers = guild_store::classes::teachers(conn, &row.id)?;
    let sessions = guild_store::classes::sessions(conn, &row.id)?;
    let seats_taken = guild_store::classes::seats_taken(conn, &row.id)?;
    let mut ids: Vec<String> = teachers.iter().map(|t| t.user_id.clone()).collect();
    ids.extend(row.class_head_user_id.iter().cloned());
    ids.extend(sessions.iter().filter_map(|s| s.teacher_user_id.clone()));
    ids.sort();
    ids.dedup();
    let names = guild_store::teachers::display_names(conn, &ids)?;
    let teacher = |id: &str| -> ApiResult<ClassTeacher> {
        Ok(ClassTeacher {
            user_id: stored_uuid("class_teachers", id)?,
            name: names.get(id).cloned().unwrap_or_default(),
        })
    };
    Ok(ClassView {
        id: stored_uuid("classes", &row.id)?,
        program_id: stored_uuid("classes", &row.program_id)?,
        class_head: row.class_head_user_id.as_deref().map(teacher).transpose()?,
        teachers: teachers
            .iter()
            .map(|t| teacher(&t.user_id))
            .collect::<ApiResult<_>>()?,
        sessions: sessions
            .into_iter()
            .map(|s| {
                Ok(SessionView {
                    id: stored_uuid("class_sessions", &s.id)?,
                    session_date: s.session_date,
                    starts_at: format_session_time(s.starts_at),
                    ends_at: format_session_time(s.ends_at),
                    topic: s.topic,
                    teacher: s.teacher_user_id.as_deref().map(teacher).transpose()?,
                })
            })
            .collect::<ApiResult<_>>()?,
        seats_taken,
        seats_left: seats_left(row.capacity, seats_taken),
        code: row.code,
        title: row.title,
        year: row.year,
        start_date: row.start_date,
        end_date: row.end_date,
        place: row.place,
        capacity: row.capacity,
        status: parse_stored("classes", &row.status)?,
        cancellation_reason: row.cancellation_reason,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn class_summary(row: ClassRow, seats_taken: i64) -> ApiResult<ClassSummary> {
    Ok(ClassSummary {
        id: stored_uuid("classes", &row.id)?,
        program_id: stored_uuid("classes", &row.program_id)?,
        class_head_user_id: row
            .class_head_user_id
            .as_deref()
            .map(|v| stored_uuid("classes", v))
            .transpose()?,
        seats_taken,
        seats_left: seats_left(row.capacity, seats_taken),
        code: row.code,
        title: row.title,
        year: row.year,
        start_date: row.start_date,
        end_date: row.end_date,
        place: row.place,
        capacity: row.capacity,
        status: parse_stored("classes", &row.status)?,
        version: row.version,
    })
}

/// A schedule that passed the checks, ready to store.
#[derive(Debug, Clone)]
struct Schedule {
    slots: Vec<SessionSlot>,
    topics: Vec<String>,
    teachers: Vec<Option<String>>,
}

/// Parses submitted sessions (times `HH:MM`, topics); problems are collected in `errors`.
fn parse_sessions(input: &[SessionInput], errors: &mut Vec<FieldError>) -> Schedule {
    let mut schedule = Schedule {
        slots: Vec::new(),
        topics: Vec::new(),
        teachers: Vec::new(),
    };
    for (i, s) in input.iter().enumerate() {
        let starts = parse_session_time(&format!("sessions[{i}].starts_at"), &s.starts_at);
        let ends = parse_session_time(&format!("sessions[{i}].ends_at"), &s.ends_at);
        let topic = validate_topic(i, &s.topic);
        match (starts, ends, topic) {
            (Ok(starts_at), Ok(ends_at), Ok(topic)) => {
                schedule.slots.push(SessionSlot {
                    date: s.session_date,
                    starts_at,
                    ends_at,
                });
                schedule.topics.push(topic);
                schedule
                    .teachers
                    .push(s.teacher_user_id.map(|u| u.to_string()));
            }
            (a, b, c) => errors.extend([a.err(), b.err(), c.err()].into_iter().flatten()),
        }
    }
    schedule
}

/// The stored schedule of a class, for re-checking it against new dates.
fn stored_schedule(rows: &[ClassSessionRow]) -> Schedule {
    Schedule {
        slots: rows
            .iter()
            .map(|r| SessionSlot {
                date: r.session_date,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
            })
            .collect(),
        topics: rows.iter().map(|r| r.topic.clone()).collect(),
        teachers: rows.iter().map(|r| r.teacher_user_id.clone()).collect(),
    }
}

fn session_rows(class_id: &str, schedule: &Schedule) -> Vec<ClassSessionRow> {
    schedule
        .slots
        .iter()
        .zip(&schedule.topics)
        .zip(&schedule.teachers)
        .map(|((slot, topic), teacher)| ClassSessionRow {
            id: Uuid::now_v7().to_string(),
            class_id: class_id.to_owned(),
            session_date: slot.date,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            topic: topic.clone(),
            teacher_user_id: teacher.clone(),
        })
        .collect()
}

fn validation(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        let mut list: Vec<FieldProblem> = errors.into_iter().map(FieldProblem::from).collect();
        list.sort_by(|a, b| a.field.cmp(&b.field));
        Err(ApiError::Validation(list))
    }
}

/// The teachers of a class with the class head, as the rules check them.
#[derive(Debug, Clone)]
struct Staffing {
    head: Option<String>,
    teachers: Vec<String>,
}

impl Staffing {
    /// Every account that may teach a session: the head and the teachers.
    fn may_teach(&self, user_id: &str) -> bool {
        self.head.as_deref() == Some(user_id) || self.teachers.iter().any(|t| t == user_id)
    }
}

/// Checks that each session's teacher is the class head or a class teacher.
fn check_session_teachers(schedule: &Schedule, staffing: &Staffing) -> ApiResult<()> {
    let errors: Vec<FieldError> = schedule
        .teachers
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.as_deref().filter(|t| !staffing.may_teach(t)).map(|_| {
                FieldError::new(
                    format!("sessions[{i}].teacher_user_id"),
                    "not_a_class_teacher",
                    "a session is taught by the class head or one of the class's teachers",
                )
            })
        })
        .collect();
    validation(errors)
}

/// TCH-1: every account in `users` exists and has an appointment, not
/// dismissed, whose term covers `start`–`end`. `field` names the request field.
fn check_teachers_appointed(
    conn: &mut DbConn,
    users: &[(&str, String)],
    start: NaiveDate,
    end: NaiveDate,
) -> ApiResult<()> {
    for (field, user_id) in users {
        let account = guild_store::users::find(conn, user_id)?
            .ok_or_else(|| ApiError::field(field, "unknown", "no such account"))?;
        let appointments = guild_store::teachers::appointments_of_user(conn, user_id)?
            .into_iter()
            .map(|(a, t)| {
                Ok(TermAppointment {
                    status: parse_stored::<AppointmentStatus>("teacher_appointments", &a.status)?,
                    term_starts_on: t.starts_on,
                    term_ends_on: t.ends_on,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        check_can_teach(&account.display_name, &appointments, start, end)?;
    }
    Ok(())
}

/// The staffing's accounts with the request field that named them.
fn staffing_fields(staffing: &Staffing) -> Vec<(&'static str, String)> {
    staffing
        .head
        .iter()
        .map(|h| ("class_head_user_id", h.clone()))
        .chain(
            staffing
                .teachers
                .iter()
                .map(|t| ("teacher_user_ids", t.clone())),
        )
        .collect()
}

fn dedup_ids(ids: &[Uuid]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.to_string();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Audits a change of a class or its checklist (API-6); classes belong to no
/// organisation.
fn audit_class<B: Serialize, A: Serialize>(
    c: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    class_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> ApiResult<()> {
    audit::record(
        c,
        actor,
        Change {
            action,
            entity_type: "class",
            entity_id: class_id,
            organisation_id: None,
            before,
            after,
        },
    )
}

/// List classes (every authenticated role; a teacher sees only the classes
/// where they are class head or teacher). Seats are counted live (CLS-3).
#[utoipa::path(
    operation_id = "list_classes",
    tag = "classes",
    params(ClassQuery),
    responses((status = 200, description = "OK", body = Paged<ClassSummary>), ListErrors)
)]
#[get("/classes")]
pub async fn list_classes(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ClassQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ClassFilter {
        year: q.year,
        program_id: q.program_id.map(|v| v.to_string()),
        status: q.status.map(|s| s.as_str().to_owned()),
        // ACC-2: a teacher lists the classes they head or teach; every other
        // role every class (the association's own records).
        teacher_user_id: match user.scope() {
            Scope::Teacher(u) => Some(u.to_string()),
            _ => None,
        },
    };
    let (rows, seats) = state
        .run(move |s| {
            s.store.read(|c| {
                let rows =
                    guild_store::classes::list(c, &filter, page.after.as_deref(), page.limit)?;
                let ids: Vec<String> = rows.items.iter().map(|r| r.id.clone()).collect();
                let seats: HashMap<String, i64> = guild_store::classes::seats_taken_many(c, &ids)?;
                Ok::<_, ApiError>((rows, seats))
            })
        })
        .await?;
    let next_cursor = rows.next_after.as_deref().map(encode_cursor);
    let items = rows
        .items
        .into_iter()
        .map(|r| {
            let taken = seats.get(&r.id).copied().unwrap_or(0);
            class_summary(r, taken)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Paged { items, next_cursor }))
}

/// Schedule a class (training staff, CLS-1). The program must be active; the
/// class head and teachers need an appointment covering the class's dates
/// (TCH-1); sessions lie within the dates. The class starts `planned` with the
/// default preparation checklist (CLS-2).
#[utoipa::path(
    operation_id = "create_class",
    tag = "classes",
    request_body = CreateClass,
    responses((status = 201, description = "Created, planned", body = ClassView), CreateErrors)
)]
#[post("/classes")]
pub async fn create_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateClass>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let mut errors = Vec::new();
    let code = normalize_class_code(&body.code)
        .map_err(|e| errors.push(e))
        .ok();
    let title = validate_class_title(&body.title)
        .map_err(|e| errors.push(e))
        .ok();
    let place = validate_place(&body.place).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_class_dates(body.start_date, body.end_date) {
        errors.push(e);
    }
    let schedule = parse_sessions(body.sessions.as_deref().unwrap_or_default(), &mut errors);
    if errors.is_empty()
        && let Err(e) = check_schedule(&schedule.slots, body.start_date, body.end_date)
    {
        errors.extend(e);
    }
    validation(errors)?;
    let (Some(code), Some(title), Some(place)) = (code, title, place) else {
        return Err(ApiError::Internal("validated fields missing".to_owned()));
    };
    let staffing = Staffing {
        head: body.class_head_user_id.map(|u| u.to_string()),
        teachers: dedup_ids(body.teacher_user_ids.as_deref().unwrap_or_default()),
    };
    check_session_teachers(&schedule, &staffing)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let program = guild_store::programs::find(c, &body.program_id.to_string())?
                    .ok_or_else(|| ApiError::field("program_id", "unknown", "no such program"))?;
                program_is_offered(parse_stored::<ProgramStatus>("programs", &program.status)?)?;
                check_teachers_appointed(
                    c,
                    &staffing_fields(&staffing),
                    body.start_date,
                    body.end_date,
                )?;
                let id = Uuid::now_v7().to_string();
                let row = ClassRow {
                    id: id.clone(),
                    program_id: program.id,
                    code,
                    title,
                    year: body.start_date.year(),
                    start_date: body.start_date,
                    end_date: body.end_date,
                    place,
                    capacity: body.capacity,
                    class_head_user_id: staffing.head.clone(),
                    status: ClassStatus::Planned.as_str().to_owned(),
                    cancellation_reason: None,
                    version: 1,
                    created_by: user.id.clone(),
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                guild_store::classes::insert(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        ApiError::exists("a class with this code already exists")
                    } else {
                        e.into()
                    }
                })?;
                let teachers: Vec<ClassTeacherRow> = staffing
                    .teachers
                    .iter()
                    .map(|t| ClassTeacherRow {
                        id: Uuid::now_v7().to_string(),
                        class_id: id.clone(),
                        user_id: t.clone(),
                    })
                    .collect();
                guild_store::classes::replace_teachers(c, &id, &teachers)?;
                guild_store::classes::replace_sessions(c, &id, &session_rows(&id, &schedule))?;
                let checklist: Vec<ChecklistItemRow> = DEFAULT_CHECKLIST
                    .iter()
                    .zip(1..)
                    .map(|((label, mandatory), position)| ChecklistItemRow {
                        id: Uuid::now_v7().to_string(),
                        class_id: id.clone(),
                        position,
                        label: (*label).to_owned(),
                        mandatory: *mandatory,
                        checked_by: None,
                        checked_at: None,
                        note: None,
                    })
                    .collect();
                guild_store::classes::insert_checklist_items(c, &checklist)?;
                let view = class_view(c, row)?;
                audit_class::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    "class.create",
                    &id,
                    None,
                    Some(&view),
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/classes/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one class with its sessions, teachers and seats (CLS-1, CLS-3).
#[utoipa::path(
    operation_id = "get_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = ClassView), ReadErrors)
)]
#[get("/classes/{id}")]
pub async fn get_class(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = visible_class(c, &user, &id)?;
                class_view(c, row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change a planned or open class (training staff). Honours `If-Match`
/// (API-5). `teacher_user_ids` and `sessions` replace the whole list; the
/// capacity cannot drop below the seats taken (CLS-3, 409
/// `capacity_below_seats`); new teachers and new dates are checked against
/// the appointments (TCH-1). The program cannot be changed.
#[utoipa::path(
    operation_id = "update_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateClass,
    responses((status = 200, description = "OK", body = ClassView), UpdateErrors)
)]
#[patch("/classes/{id}")]
pub async fn update_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateClass>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut errors = Vec::new();
    let code = body
        .code
        .as_deref()
        .map(normalize_class_code)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let title = body
        .title
        .as_deref()
        .map(validate_class_title)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let place = body
        .place
        .as_deref()
        .map(validate_place)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let new_schedule = body
        .sessions
        .as_deref()
        .map(|s| parse_sessions(s, &mut errors));
    validation(errors)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let mut row = locked_class(c, &id)?;
                if_match.check(row.version)?;
                check_editable(parse_stored("classes", &row.status)?).map_err(ApiError::Refused)?;
                let before = class_view(c, row.clone())?;
                let start = body.start_date.unwrap_or(row.start_date);
                let end = body.end_date.unwrap_or(row.end_date);
                check_class_dates(start, end)?;
                let dates_changed = start != row.start_date || end != row.end_date;
                let schedule = match new_schedule {
                    Some(s) => s,
                    None => stored_schedule(&guild_store::classes::sessions(c, &row.id)?),
                };
                check_schedule(&schedule.slots, start, end).or_else(validation)?;
                let current_teachers: Vec<String> = guild_store::classes::teachers(c, &row.id)?
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
                check_session_teachers(&schedule, &staffing)?;
                // TCH-1: check the accounts that are new to the class, or all
                // of them when the dates move.
                let to_check: Vec<(&str, String)> = staffing_fields(&staffing)
                    .into_iter()
                    .filter(|(field, u)| {
                        dates_changed
                            || match *field {
                                "class_head_user_id" => row.class_head_user_id.as_ref() != Some(u),
                                _ => !current_teachers.contains(u),
                            }
                    })
                    .collect();
                check_teachers_appointed(c, &to_check, start, end)?;
                if let Some(capacity) = body.capacity {
                    let taken = guild_store::classes::seats_taken(c, &row.id)?;
                    check_capacity(capacity, taken).map_err(ApiError::Refused)?;
                    row.capacity = capacity;
                }
                if let Some(v) = code {
                    row.code = v;
                }
                if let Some(v) = title {
                    row.title = v;
                }
                if let Some(v) = place {
                    row.place = v;
                }
                row.start_date = start;
                row.end_date = end;
                row.year = start.year();
                row.class_head_user_id = staffing.head.clone();
                guild_store::classes::update(c, &mut row, now.naive_utc()).map_err(|e| {
                    if e.is_unique_violation() {
                        ApiError::exists("a class with this code already exists")
                    } else {
                        e.into()
                    }
                })?;
                if body.teacher_user_ids.is_some() {
                    let rows: Vec<ClassTeacherRow> = staffing
                        .teachers
                        .iter()
                        .map(|t| ClassTeacherRow {
                            id: Uuid::now_v7().to_string(),
                            class_id: row.id.clone(),
                            user_id: t.clone(),
                        })
                        .collect();
                    guild_store::classes::replace_teachers(c, &row.id, &rows)?;
                }
                if body.sessions.is_some() {
                    guild_store::classes::replace_sessions(
                        c,
                        &row.id,
                        &session_rows(&row.id, &schedule),
                    )?;
                }
                let class_id = row.id.clone();
                let after = class_view(c, row)?;
                audit_class(
                    c,
                    &Actor::new(&user, &ctx, now),
                    "class.update",
                    &class_id,
                    Some(&before),
                    Some(&after),
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Runs a class action: role, state machine (409 with the allowed actions),
/// then the action's own rules, in one transaction on the locked class.
async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ClassAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = today(s);
            s.store.write(|c| {
                let mut row = locked_class(c, &id)?;
                let before = class_view(c, row.clone())?;
                let next = class_transition(before.status, action)?;
                match action {
                    ClassAction::Start => {
                        let checklist: Vec<ChecklistState> =
                            guild_store::classes::checklist(c, &row.id)?
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
                guild_store::classes::update(c, &mut row, now.naive_utc())?;
                let class_id = row.id.clone();
                let after = class_view(c, row)?;
                audit_class(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &format!("class.{action}"),
                    &class_id,
                    Some(&before),
                    Some(&after),
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Open a planned class for enrolment (CLS-1).
#[utoipa::path(
    operation_id = "open_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Opened", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/open")]
pub async fn open_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ClassAction::Open, None).await
}

/// Start an open class (CLS-1, CLS-2): refused with `checklist_incomplete`
/// (naming the unchecked mandatory items) and before the start date in the
/// association's time zone (`class_not_started`).
#[utoipa::path(
    operation_id = "start_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Started", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/start")]
pub async fn start_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ClassAction::Start, None).await
}

/// Finish a running class, not before its end date (CLS-1, `class_not_ended`).
#[utoipa::path(
    operation_id = "finish_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "Finished", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/finish")]
pub async fn finish_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ClassAction::Finish, None).await
}

/// Cancel a class that has not finished, with a reason (CLS-1).
#[utoipa::path(
    operation_id = "cancel_class",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    request_body = CancelClass,
    responses((status = 200, description = "Cancelled", body = ClassView), ActionErrors)
)]
#[post("/classes/{id}/cancel")]
pub async fn cancel_class(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CancelClass>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "length", "give a reason"));
    }
    transition(
        state,
        ctx,
        user,
        id.into_inner(),
        ClassAction::Cancel,
        Some(reason),
    )
    .await
}

fn checklist_view(class_id: &str, rows: Vec<ChecklistItemRow>) -> ApiResult<ChecklistView> {
    let complete = rows.iter().all(|r| !r.mandatory || r.checked_at.is_some());
    Ok(ChecklistView {
        class_id: stored_uuid("classes", class_id)?,
        complete,
        items: rows
            .into_iter()
            .map(ChecklistItemView::try_from)
            .collect::<ApiResult<_>>()?,
    })
}

/// Read a class's preparation checklist (training staff, CLS-2).
#[utoipa::path(
    operation_id = "get_class_checklist",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    responses((status = 200, description = "OK", body = ChecklistView), ReadErrors)
)]
#[get("/classes/{id}/checklist")]
pub async fn get_checklist(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    let id = id.into_inner();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = guild_store::classes::find(c, &id.to_string())?
                    .ok_or_else(|| ApiError::not_found("class"))?;
                let items = guild_store::classes::checklist(c, &row.id)?;
                checklist_view(&row.id, items)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Add a custom item to a planned or open class's checklist (training staff, CLS-2).
#[utoipa::path(
    operation_id = "add_class_checklist_item",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id")),
    request_body = AddChecklistItem,
    responses((status = 201, description = "Added", body = ChecklistItemView), CreateErrors)
)]
#[post("/classes/{id}/checklist")]
pub async fn add_checklist_item(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<AddChecklistItem>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let label = validate_checklist_label(&body.label)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let class = locked_class(c, &id)?;
                check_editable(parse_stored("classes", &class.status)?)
                    .map_err(ApiError::Refused)?;
                let row = ChecklistItemRow {
                    id: Uuid::now_v7().to_string(),
                    class_id: class.id.clone(),
                    position: guild_store::classes::next_checklist_position(c, &class.id)?,
                    label,
                    mandatory: body.mandatory,
                    checked_by: None,
                    checked_at: None,
                    note: None,
                };
                guild_store::classes::insert_checklist_item(c, &row)?;
                let view = ChecklistItemView::try_from(row)?;
                audit_class::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    "class.checklist.add",
                    &class.id,
                    None,
                    Some(&view),
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Checks or unchecks an item of a planned or open class, recording who and when.
async fn checklist_action(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    (id, item_id): (Uuid, Uuid),
    action: ChecklistAction,
    note: Option<String>,
) -> ApiResult<HttpResponse> {
    user.require(CLASS_MANAGERS)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let class = locked_class(c, &id)?;
                let mut item = guild_store::classes::find_class_checklist_item(
                    c,
                    &class.id,
                    &item_id.to_string(),
                )?
                .ok_or_else(|| ApiError::not_found("checklist item"))?;
                check_editable(parse_stored("classes", &class.status)?)
                    .map_err(ApiError::Refused)?;
                let before = ChecklistItemView::try_from(item.clone())?;
                let next = checklist_transition(item_state(&item), action)?;
                match next {
                    ChecklistItemState::Checked => {
                        item.checked_by = Some(user.id.clone());
                        item.checked_at = Some(now.naive_utc());
                        item.note = note;
                    }
                    ChecklistItemState::Unchecked => {
                        item.checked_by = None;
                        item.checked_at = None;
                        item.note = None;
                    }
                }
                guild_store::classes::set_checklist_check(c, &item)?;
                let after = ChecklistItemView::try_from(item)?;
                audit_class(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &format!("class.checklist.{action}"),
                    &class.id,
                    Some(&before),
                    Some(&after),
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Check off a checklist item, recording who and when (training staff, CLS-2;
/// only while the class is planned or open).
#[utoipa::path(
    operation_id = "check_class_checklist_item",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id"), ("item_id" = Uuid, Path, description = "Checklist item id")),
    request_body = CheckItem,
    responses((status = 200, description = "Checked", body = ChecklistItemView), ActionErrors)
)]
#[post("/classes/{id}/checklist/{item_id}/check")]
pub async fn check_item(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<CheckItem>,
) -> ApiResult<HttpResponse> {
    validate(&*body)?;
    let note = body
        .into_inner()
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    checklist_action(
        state,
        ctx,
        user,
        path.into_inner(),
        ChecklistAction::Check,
        note,
    )
    .await
}

/// Undo a check (training staff, CLS-2; only while the class is planned or open).
#[utoipa::path(
    operation_id = "uncheck_class_checklist_item",
    tag = "classes",
    params(("id" = Uuid, Path, description = "Class id"), ("item_id" = Uuid, Path, description = "Checklist item id")),
    responses((status = 200, description = "Unchecked", body = ChecklistItemView), ActionErrors)
)]
#[post("/classes/{id}/checklist/{item_id}/uncheck")]
pub async fn uncheck_item(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    checklist_action(
        state,
        ctx,
        user,
        path.into_inner(),
        ChecklistAction::Uncheck,
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_null_is_told_apart_from_an_omitted_field() {
        let omitted: UpdateClass = serde_json::from_str("{}").unwrap();
        assert_eq!(omitted.class_head_user_id, None);
        let cleared: UpdateClass = serde_json::from_str(r#"{"class_head_user_id": null}"#).unwrap();
        assert_eq!(cleared.class_head_user_id, Some(None));
    }

    #[test]
    fn capacity_bounds_match_the_domain() {
        // rule CLS-1: the request's range mirrors the domain's bounds
        use guild_domain::class::{MAX_CAPACITY, MIN_CAPACITY};
        assert_eq!((MIN_CAPACITY, MAX_CAPACITY), (1, 1000));
    }
}
