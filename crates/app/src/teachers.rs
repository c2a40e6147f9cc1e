//! The association board's terms and part-time teacher appointments
//! (TCH-1, TCH-2).
//!
//! Terms are data. A teacher account is appointed for one term at most
//! once; the appointment ends with the term (its `status` is computed on
//! every read from today's date in the association's time zone) or by
//! dismissal, which is published as a public notice in the same
//! transaction. Appointments are association data.

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::account::UserStatus;
use guild_domain::notice::NoticeKind;
use guild_domain::teacher::{
    AppointmentAction, AppointmentStatus, appointment_status, appointment_transition,
    check_appointable, check_term_dates, check_term_not_ended, dismissal_notice,
    normalize_subjects, validate_term_name,
};
use guild_domain::{Refusal, codes};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::teachers::{AppointmentFilter, AppointmentRow, TermRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::{stored_id, stored_opt};
use crate::{Page, PageRequest, notices};

/// A board term.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TermView {
    /// The term id.
    pub id: Uuid,
    /// Its name, e.g. "Fifth board (第五届理事会)".
    pub name: String,
    /// The first day of the term.
    pub starts_on: NaiveDate,
    /// The last day of the term (included).
    pub ends_on: NaiveDate,
    /// When the term was entered.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<TermRow> for TermView {
    type Error = AppError;
    fn try_from(r: TermRow) -> AppResult<Self> {
        Ok(TermView {
            id: stored_id("terms", &r.id)?,
            name: r.name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// A new board term (TCH-1): normally 4 years; 1 to 5 years are accepted.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Fifth board (第五届理事会)", "starts_on": "2026-01-01", "ends_on": "2029-12-31"})))]
pub struct CreateTerm {
    /// Unique name, 2 to 64 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 64))]
    pub name: String,
    /// The first day of the term.
    pub starts_on: NaiveDate,
    /// The last day of the term (included); between 1 and 5 years after `starts_on`.
    pub ends_on: NaiveDate,
}

/// A teacher appointment for one board term.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentView {
    /// The appointment id.
    pub id: Uuid,
    /// The teacher's account.
    pub user_id: Uuid,
    /// The teacher's display name.
    pub teacher_name: String,
    /// The term.
    pub term_id: Uuid,
    /// The term's name.
    pub term_name: String,
    /// The term's first day.
    pub term_starts_on: NaiveDate,
    /// The term's last day: the appointment ends with it (TCH-1).
    pub term_ends_on: NaiveDate,
    /// What the teacher teaches.
    pub subjects: Vec<String>,
    /// `appointed` until the term's last day, `ended` after it (association
    /// time zone, computed at request time), or `dismissed` (TCH-2).
    pub status: AppointmentStatus,
    /// Who appointed the teacher.
    pub appointed_by: Uuid,
    /// When the teacher was dismissed.
    pub dismissed_at: Option<DateTime<Utc>>,
    /// Who dismissed the teacher.
    pub dismissed_by: Option<Uuid>,
    /// Why the teacher was dismissed (published, TCH-2).
    pub dismissal_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When the appointment was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl AppointmentView {
    /// Builds the view of `row` in `term` for the teacher named `teacher_name`,
    /// with the status as of `today` (association time zone).
    fn build(
        row: AppointmentRow,
        term: &TermRow,
        teacher_name: String,
        today: NaiveDate,
    ) -> AppResult<Self> {
        const T: &str = "teacher_appointments";
        let status: AppointmentStatus = stored(T, &row.status)?;
        let subjects = match row.subjects.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| AppError::Internal(format!("corrupt subjects in {T}: {e}")))?,
        };
        Ok(AppointmentView {
            id: stored_id(T, &row.id)?,
            user_id: stored_id(T, &row.user_id)?,
            teacher_name,
            term_id: stored_id(T, &row.term_id)?,
            term_name: term.name.clone(),
            term_starts_on: term.starts_on,
            term_ends_on: term.ends_on,
            subjects,
            status: appointment_status(status, term.ends_on, today),
            appointed_by: stored_id(T, &row.appointed_by)?,
            dismissed_at: row.dismissed_at.map(|t| t.and_utc()),
            dismissed_by: stored_opt(T, row.dismissed_by.as_deref())?,
            dismissal_reason: row.dismissal_reason,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new appointment (TCH-1).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"user_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "term_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "subjects": ["Gas safety", "Pipeline maintenance"]})))]
pub struct CreateAppointment {
    /// An active account with the role `teacher`.
    pub user_id: Uuid,
    /// The term; one appointment per teacher per term.
    pub term_id: Uuid,
    /// What the teacher teaches: at most 20 subjects of at most 100 characters.
    #[validate(length(max = 20))]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub subjects: Option<Vec<String>>,
}

/// The reason for a dismissal.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DismissAppointment {
    /// Why the teacher is dismissed. It is published verbatim on the public
    /// notices (TCH-2): state the violation, not personal data.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

/// Filters of the appointment list.
#[derive(Debug, Clone, Default)]
pub struct ListAppointments {
    /// Only appointments for this term.
    pub term_id: Option<Uuid>,
    /// Only appointments with this status (as of today).
    pub status: Option<AppointmentStatus>,
    /// Only this teacher's appointments.
    pub user_id: Option<Uuid>,
}

/// The teacher's display name; an appointment naming a missing account is
/// corrupt data.
fn teacher_name(conn: &mut DbConn, user_id: &str) -> AppResult<String> {
    guild_store::users::find(conn, user_id)?
        .map(|u| u.display_name)
        .ok_or_else(|| {
            AppError::Internal(format!(
                "an appointment names the missing account {user_id}"
            ))
        })
}

/// Loads an appointment with its term, or 404.
fn load_appointment(conn: &mut DbConn, id: Uuid) -> AppResult<(AppointmentRow, TermRow)> {
    let row = guild_store::teachers::find_appointment(conn, &id.to_string())?
        .ok_or(AppError::NotFound("teacher appointment"))?;
    let term = guild_store::teachers::find_term(conn, &row.term_id)?
        .ok_or_else(|| AppError::Internal(format!("appointment {} without its term", row.id)))?;
    Ok((row, term))
}

fn already_appointed(teacher: &str, term: &str) -> AppError {
    Refusal::rule(
        "TCH-1",
        codes::ALREADY_APPOINTED,
        format!("{teacher} is already appointed for the term {term}; one appointment per term"),
    )
    .into()
}

/// The association board's terms.
pub fn list_terms(conn: &mut DbConn, page: PageRequest) -> AppResult<Page<TermView>> {
    guild_store::teachers::list_terms(conn, page.after.as_deref(), page.limit)?
        .try_map(TermView::try_from)
}

/// Enters a board term: 1 to 5 years, normally 4 (TCH-1); names are unique.
pub fn create_term(ctx: &Ctx, conn: &mut DbConn, body: CreateTerm) -> AppResult<TermView> {
    let name = validate_term_name(&body.name)?;
    check_term_dates(body.starts_on, body.ends_on)?;
    let row = TermRow {
        id: Uuid::now_v7().to_string(),
        name,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        created_at: ctx.now.naive_utc(),
    };
    guild_store::teachers::insert_term(conn, &row)
        .or_taken(|| AppError::Exists("a term with this name already exists".to_owned()))?;
    let view = TermView::try_from(row)?;
    ctx.emit(
        conn,
        Event::new::<(), _>(ev::TERM_CREATED, "term", view.id, None, Some(&view))?,
    )?;
    Ok(view)
}

/// The filter of an appointment list. The status is computed (TCH-1):
/// `ended` is a running appointment whose term's last day is before today.
fn appointment_filter(q: ListAppointments, today: NaiveDate) -> AppointmentFilter {
    let mut filter = AppointmentFilter {
        term_id: q.term_id.map(|v| v.to_string()),
        user_id: q.user_id.map(|v| v.to_string()),
        ..AppointmentFilter::default()
    };
    let appointed = || Some(AppointmentStatus::Appointed.as_str().to_owned());
    match q.status {
        Some(AppointmentStatus::Appointed) => {
            filter.stored_status = appointed();
            filter.term_running_on = Some(today);
        }
        Some(AppointmentStatus::Ended) => {
            filter.stored_status = appointed();
            filter.term_ended_before = Some(today);
        }
        Some(AppointmentStatus::Dismissed) => {
            filter.stored_status = Some(AppointmentStatus::Dismissed.as_str().to_owned());
        }
        None => {}
    }
    filter
}

/// Teacher appointments, filterable by term, status (as of today) and teacher.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListAppointments,
    page: PageRequest,
) -> AppResult<Page<AppointmentView>> {
    let today = ctx.today();
    let filter = appointment_filter(q, today);
    let rows =
        guild_store::teachers::list_appointments(conn, &filter, page.after.as_deref(), page.limit)?;
    let ids: Vec<String> = rows.items.iter().map(|(a, _)| a.user_id.clone()).collect();
    let names = guild_store::teachers::display_names(conn, &ids)?;
    rows.try_map(|(a, t)| {
        let name = names.get(&a.user_id).cloned().ok_or_else(|| {
            AppError::Internal(format!(
                "an appointment names the missing account {}",
                a.user_id
            ))
        })?;
        AppointmentView::build(a, &t, name, today)
    })
}

/// Appoints a teacher for a board term (TCH-1): the account must be an
/// active `teacher`, one appointment per teacher per term (409
/// `already_appointed`), and the term must not have ended.
pub fn appoint(
    ctx: &Ctx,
    conn: &mut DbConn,
    body: CreateAppointment,
) -> AppResult<AppointmentView> {
    let subjects = normalize_subjects(body.subjects.as_deref().unwrap_or_default())?;
    let subjects_json = (!subjects.is_empty())
        .then(|| serde_json::to_string(&subjects))
        .transpose()
        .map_err(|e| AppError::Internal(format!("cannot serialise subjects: {e}")))?;
    let today = ctx.today();
    let term = guild_store::teachers::find_term(conn, &body.term_id.to_string())?
        .ok_or_else(|| AppError::field("term_id", "unknown", "no such term"))?;
    let teacher = guild_store::users::find(conn, &body.user_id.to_string())?
        .ok_or_else(|| AppError::field("user_id", "unknown", "no such account"))?;
    check_appointable(
        stored("users", &teacher.role)?,
        stored::<UserStatus>("users", &teacher.status)?,
    )?;
    check_term_not_ended(&term.name, term.ends_on, today)?;
    let already = guild_store::teachers::appointments_of_user(conn, &teacher.id)?
        .iter()
        .any(|(a, _)| a.term_id == term.id);
    if already {
        return Err(already_appointed(&teacher.display_name, &term.name));
    }
    let now = ctx.now.naive_utc();
    let row = AppointmentRow {
        id: Uuid::now_v7().to_string(),
        user_id: teacher.id.clone(),
        term_id: term.id.clone(),
        subjects: subjects_json,
        status: AppointmentStatus::Appointed.as_str().to_owned(),
        appointed_by: ctx.caller()?.id.clone(),
        dismissed_at: None,
        dismissed_by: None,
        dismissal_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    // The unique index (user_id, term_id) is the last word under concurrency.
    guild_store::teachers::insert_appointment(conn, &row)
        .or_taken(|| already_appointed(&teacher.display_name, &term.name))?;
    let view = AppointmentView::build(row, &term, teacher.display_name, today)?;
    let event = Event::new::<(), _>(
        ev::TEACHER_APPOINTED,
        "teacher_appointment",
        view.id,
        None,
        Some(&view),
    )?;
    ctx.emit(conn, event)?;
    Ok(view)
}

/// One teacher appointment.
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<AppointmentView> {
    let (row, term) = load_appointment(conn, id)?;
    let name = teacher_name(conn, &row.user_id)?;
    AppointmentView::build(row, &term, name, ctx.today())
}

/// Dismisses a teacher (TCH-2): only a running appointment; the dismissal
/// is published as a public notice in the same transaction, with the
/// teacher's display name, the term and the reason (already trimmed).
pub fn dismiss(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    reason: String,
) -> AppResult<AppointmentView> {
    let today = ctx.today();
    guild_store::locks::lock_row(conn, Locked::TeacherAppointments, &id.to_string())?;
    let (mut row, term) = load_appointment(conn, id)?;
    let name = teacher_name(conn, &row.user_id)?;
    let before = AppointmentView::build(row.clone(), &term, name.clone(), today)?;
    let next = appointment_transition(before.status, AppointmentAction::Dismiss)?;
    let at = ctx.now.naive_utc();
    row.status = next.as_str().to_owned();
    row.dismissed_at = Some(at);
    row.dismissed_by = Some(ctx.caller()?.id.clone());
    row.dismissal_reason = Some(reason.clone());
    guild_store::teachers::update_appointment(conn, &mut row, at)?;
    let after = AppointmentView::build(row, &term, name.clone(), today)?;
    let entity_id = after.id.to_string();
    notices::publish(
        ctx,
        conn,
        NoticeKind::TeacherDismissal,
        dismissal_notice(&name, &term.name, &reason),
        "teacher_appointment",
        &entity_id,
    )?;
    let event = Event::new(
        ev::TEACHER_DISMISSED,
        "teacher_appointment",
        &entity_id,
        Some(&before),
        Some(&after),
    )?;
    ctx.emit(conn, event)?;
    Ok(after)
}
