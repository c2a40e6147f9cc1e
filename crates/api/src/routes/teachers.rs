//! The association board's terms and part-time teacher appointments
//! (TCH-1, TCH-2).
//!
//! Terms are data (`/teachers/terms`). A teacher account is appointed for one
//! term at most once; the appointment ends with the term (its `status` is
//! computed on every read from today's date in the association's time zone)
//! or by dismissal, which is published as a public notice in the same
//! transaction. Appointments are association data: association staff and the
//! authority read them; the administrator and the training head appoint and
//! dismiss.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use guild_domain::Role;
use guild_domain::account::UserStatus;
use guild_domain::clock::local_date;
use guild_domain::notice::NoticeKind;
use guild_domain::teacher::{
    AppointmentAction, AppointmentStatus, appointment_status, appointment_transition,
    check_appointable, check_term_dates, check_term_not_ended, dismissal_notice,
    normalize_subjects, validate_term_name,
};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::teachers::{AppointmentFilter, AppointmentRow, TermRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::notices;

/// Registers this module's endpoints under `/api/v1`. The `/teachers/terms`
/// routes come before `/teachers/{id}`, so `terms` is never parsed as an id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_terms)
        .service(create_term)
        .service(list)
        .service(create)
        .service(get)
        .service(dismiss);
}

/// Roles that appoint and dismiss teachers.
pub const APPOINTERS: &[Role] = &[Role::Admin, Role::TrainingHead];

/// Association staff and the (read-only) authority read terms and appointments.
fn require_reader(user: &AuthUser) -> ApiResult<()> {
    if user.role.is_association_staff() || user.role == Role::Authority {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// A board term.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    type Error = ApiError;
    fn try_from(r: TermRow) -> ApiResult<Self> {
        Ok(TermView {
            id: stored_uuid("terms", &r.id)?,
            name: r.name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// A new board term (TCH-1): normally 4 years; 1 to 5 years are accepted.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Fifth board (第五届理事会)", "starts_on": "2026-01-01", "ends_on": "2029-12-31"}))]
pub struct CreateTerm {
    /// Unique name, 2 to 64 characters.
    #[schema(min_length = 2, max_length = 64)]
    pub name: String,
    /// The first day of the term.
    pub starts_on: NaiveDate,
    /// The last day of the term (included); between 1 and 5 years after `starts_on`.
    pub ends_on: NaiveDate,
}

/// A teacher appointment for one board term.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    ) -> ApiResult<Self> {
        let stored: AppointmentStatus = parse_stored("teacher_appointments", &row.status)?;
        let subjects = match row.subjects.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str(json).map_err(|e| {
                ApiError::Internal(format!("corrupt subjects in teacher_appointments: {e}"))
            })?,
        };
        Ok(AppointmentView {
            id: stored_uuid("teacher_appointments", &row.id)?,
            user_id: stored_uuid("teacher_appointments", &row.user_id)?,
            teacher_name,
            term_id: stored_uuid("teacher_appointments", &row.term_id)?,
            term_name: term.name.clone(),
            term_starts_on: term.starts_on,
            term_ends_on: term.ends_on,
            subjects,
            status: appointment_status(stored, term.ends_on, today),
            appointed_by: stored_uuid("teacher_appointments", &row.appointed_by)?,
            dismissed_at: row.dismissed_at.map(|t| t.and_utc()),
            dismissed_by: row
                .dismissed_by
                .as_deref()
                .map(|v| stored_uuid("teacher_appointments", v))
                .transpose()?,
            dismissal_reason: row.dismissal_reason,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new appointment (TCH-1).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "term_id": "0193a5f0-6a2b-7c8d-9e0f-665544332211", "subjects": ["Gas safety", "Pipeline maintenance"]}))]
pub struct CreateAppointment {
    /// An active account with the role `teacher`.
    pub user_id: Uuid,
    /// The term; one appointment per teacher per term.
    pub term_id: Uuid,
    /// What the teacher teaches: at most 20 subjects of at most 100 characters.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub subjects: Option<Vec<String>>,
}

/// The reason for a dismissal.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissAppointment {
    /// Why the teacher is dismissed. It is published verbatim on the public
    /// notices (TCH-2): state the violation, not personal data.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Pagination of the term list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TermQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters for the appointment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AppointmentQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only appointments for this term.
    pub term_id: Option<Uuid>,
    /// Only appointments with this status (as of today).
    pub status: Option<AppointmentStatus>,
    /// Only this teacher's appointments.
    pub user_id: Option<Uuid>,
}

/// Today's date in the association's time zone.
fn today(s: &AppState) -> NaiveDate {
    local_date(s.clock.now(), s.config.time_zone)
}

fn teacher_name(conn: &mut DbConn, user_id: &str) -> ApiResult<String> {
    Ok(guild_store::users::find(conn, user_id)?
        .map(|u| u.display_name)
        .unwrap_or_default())
}

/// Loads an appointment with its term, or 404.
fn load_appointment(conn: &mut DbConn, id: &Uuid) -> ApiResult<(AppointmentRow, TermRow)> {
    let row = guild_store::teachers::find_appointment(conn, &id.to_string())?
        .ok_or_else(|| ApiError::not_found("teacher appointment"))?;
    let term = guild_store::teachers::find_term(conn, &row.term_id)?
        .ok_or_else(|| ApiError::Internal(format!("appointment {} without its term", row.id)))?;
    Ok((row, term))
}

/// List the association board's terms.
#[utoipa::path(
    operation_id = "list_terms",
    tag = "teachers",
    params(TermQuery),
    responses((status = 200, description = "OK", body = Paged<TermView>), ListErrors)
)]
#[get("/teachers/terms")]
pub async fn list_terms(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<TermQuery>,
) -> ApiResult<HttpResponse> {
    require_reader(&user)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::teachers::list_terms(
                    c,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, TermView::try_from)?))
}

/// Enter a board term (administrator). A term lasts 1 to 5 years, normally 4
/// (TCH-1); names are unique.
#[utoipa::path(
    operation_id = "create_term",
    tag = "teachers",
    request_body = CreateTerm,
    responses((status = 201, description = "Created", body = TermView), CreateErrors)
)]
#[post("/teachers/terms")]
pub async fn create_term(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateTerm>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    validate(&*body)?;
    let body = body.into_inner();
    let name = validate_term_name(&body.name)?;
    check_term_dates(body.starts_on, body.ends_on)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let row = TermRow {
                    id: Uuid::now_v7().to_string(),
                    name,
                    starts_on: body.starts_on,
                    ends_on: body.ends_on,
                    created_at: now.naive_utc(),
                };
                guild_store::teachers::insert_term(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        ApiError::exists("a term with this name already exists")
                    } else {
                        e.into()
                    }
                })?;
                let view = TermView::try_from(row)?;
                let id = view.id.to_string();
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "term.create",
                        entity_type: "term",
                        entity_id: &id,
                        organisation_id: None,
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// List teacher appointments, filterable by term, status (as of today) and teacher.
#[utoipa::path(
    operation_id = "list_teacher_appointments",
    tag = "teachers",
    params(AppointmentQuery),
    responses((status = 200, description = "OK", body = Paged<AppointmentView>), ListErrors)
)]
#[get("/teachers")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<AppointmentQuery>,
) -> ApiResult<HttpResponse> {
    require_reader(&user)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let (items, next) = state
        .run(move |s| {
            let today = today(s);
            let mut filter = AppointmentFilter {
                term_id: q.term_id.map(|v| v.to_string()),
                user_id: q.user_id.map(|v| v.to_string()),
                ..AppointmentFilter::default()
            };
            // The status is computed (TCH-1): `ended` is a running appointment
            // whose term's last day is before today.
            match q.status {
                Some(AppointmentStatus::Appointed) => {
                    filter.stored_status = Some(AppointmentStatus::Appointed.as_str().to_owned());
                    filter.term_running_on = Some(today);
                }
                Some(AppointmentStatus::Ended) => {
                    filter.stored_status = Some(AppointmentStatus::Appointed.as_str().to_owned());
                    filter.term_ended_before = Some(today);
                }
                Some(AppointmentStatus::Dismissed) => {
                    filter.stored_status = Some(AppointmentStatus::Dismissed.as_str().to_owned());
                }
                None => {}
            }
            s.store.read(|c| {
                let rows = guild_store::teachers::list_appointments(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?;
                let ids: Vec<String> = rows.items.iter().map(|(a, _)| a.user_id.clone()).collect();
                let names = guild_store::teachers::display_names(c, &ids)?;
                let items = rows
                    .items
                    .into_iter()
                    .map(|(a, t)| {
                        let name = names.get(&a.user_id).cloned().unwrap_or_default();
                        AppointmentView::build(a, &t, name, today)
                    })
                    .collect::<ApiResult<Vec<_>>>()?;
                Ok((items, rows.next_after))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged {
        items,
        next_cursor: next.as_deref().map(crate::extract::encode_cursor),
    }))
}

/// Appoint a teacher for a board term (administrator, training head). The
/// account must be an active `teacher`; one appointment per teacher per term
/// (TCH-1, 409 `already_appointed`); the term must not have ended.
#[utoipa::path(
    operation_id = "appoint_teacher",
    tag = "teachers",
    request_body = CreateAppointment,
    responses((status = 201, description = "Appointed", body = AppointmentView), CreateErrors)
)]
#[post("/teachers")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateAppointment>,
) -> ApiResult<HttpResponse> {
    user.require(APPOINTERS)?;
    validate(&*body)?;
    let body = body.into_inner();
    let subjects = normalize_subjects(body.subjects.as_deref().unwrap_or_default())?;
    let subjects_json = (!subjects.is_empty())
        .then(|| serde_json::to_string(&subjects))
        .transpose()
        .map_err(|e| ApiError::Internal(format!("cannot serialise subjects: {e}")))?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = today(s);
            s.store.write(|c| {
                let term = guild_store::teachers::find_term(c, &body.term_id.to_string())?
                    .ok_or_else(|| ApiError::field("term_id", "unknown", "no such term"))?;
                let teacher = guild_store::users::find(c, &body.user_id.to_string())?
                    .ok_or_else(|| ApiError::field("user_id", "unknown", "no such account"))?;
                check_appointable(
                    parse_stored("users", &teacher.role)?,
                    parse_stored::<UserStatus>("users", &teacher.status)?,
                )?;
                check_term_not_ended(&term.name, term.ends_on, today)?;
                let already = guild_store::teachers::appointments_of_user(c, &teacher.id)?
                    .iter()
                    .any(|(a, _)| a.term_id == term.id);
                if already {
                    return Err(already_appointed(&teacher.display_name, &term.name));
                }
                let row = AppointmentRow {
                    id: Uuid::now_v7().to_string(),
                    user_id: teacher.id.clone(),
                    term_id: term.id.clone(),
                    subjects: subjects_json,
                    status: AppointmentStatus::Appointed.as_str().to_owned(),
                    appointed_by: user.id.clone(),
                    dismissed_at: None,
                    dismissed_by: None,
                    dismissal_reason: None,
                    version: 1,
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                };
                // The unique index (user_id, term_id) is the last word under concurrency.
                guild_store::teachers::insert_appointment(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        already_appointed(&teacher.display_name, &term.name)
                    } else {
                        e.into()
                    }
                })?;
                let view = AppointmentView::build(row, &term, teacher.display_name, today)?;
                let id = view.id.to_string();
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "teacher.appoint",
                        entity_type: "teacher_appointment",
                        entity_id: &id,
                        organisation_id: None,
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/teachers/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

fn already_appointed(teacher: &str, term: &str) -> ApiError {
    ApiError::Refused(guild_domain::Refusal::rule(
        "TCH-1",
        "already_appointed",
        format!("{teacher} is already appointed for the term {term}; one appointment per term"),
    ))
}

/// Read one teacher appointment.
#[utoipa::path(
    operation_id = "get_teacher_appointment",
    tag = "teachers",
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "OK", body = AppointmentView), ReadErrors)
)]
#[get("/teachers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_reader(&user)?;
    let id = id.into_inner();
    let view = state
        .run(move |s| {
            let today = today(s);
            s.store.read(|c| {
                let (row, term) = load_appointment(c, &id)?;
                let name = teacher_name(c, &row.user_id)?;
                AppointmentView::build(row, &term, name, today)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Dismiss a teacher (administrator, training head; TCH-2). Only a running
/// appointment can be dismissed. The dismissal is published on
/// `GET /public/notices` (kind `teacher_dismissal`) in the same transaction,
/// with the teacher's display name, the term and the reason.
#[utoipa::path(
    operation_id = "dismiss_teacher",
    tag = "teachers",
    params(("id" = Uuid, Path, description = "Appointment id")),
    request_body = DismissAppointment,
    responses((status = 200, description = "Dismissed", body = AppointmentView), ActionErrors)
)]
#[post("/teachers/{id}/dismiss")]
pub async fn dismiss(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DismissAppointment>,
) -> ApiResult<HttpResponse> {
    user.require(APPOINTERS)?;
    validate(&*body)?;
    let id = id.into_inner();
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::field("reason", "length", "give a reason"));
    }
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let today = today(s);
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::TeacherAppointments, &id.to_string())?;
                let (mut row, term) = load_appointment(c, &id)?;
                let name = teacher_name(c, &row.user_id)?;
                let before = AppointmentView::build(row.clone(), &term, name.clone(), today)?;
                let next = appointment_transition(before.status, AppointmentAction::Dismiss)?;
                let at: NaiveDateTime = now.naive_utc();
                row.status = next.as_str().to_owned();
                row.dismissed_at = Some(at);
                row.dismissed_by = Some(user.id.clone());
                row.dismissal_reason = Some(reason.clone());
                guild_store::teachers::update_appointment(c, &mut row, at)?;
                let after = AppointmentView::build(row, &term, name.clone(), today)?;
                let entity_id = after.id.to_string();
                notices::publish(
                    c,
                    NoticeKind::TeacherDismissal,
                    dismissal_notice(&name, &term.name, &reason),
                    "teacher_appointment",
                    &entity_id,
                    now,
                )?;
                audit::record(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "teacher.dismiss",
                        entity_type: "teacher_appointment",
                        entity_id: &entity_id,
                        organisation_id: None,
                        before: Some(&before),
                        after: Some(&after),
                    },
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}
