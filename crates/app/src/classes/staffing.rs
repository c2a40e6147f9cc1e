//! A class's schedule and staffing as the rules check them (CLS-1, TCH-1).

use chrono::NaiveDate;
use guild_domain::class::{SessionSlot, parse_session_time, validate_topic};
use guild_domain::error::FieldError;
use guild_domain::teacher::{AppointmentStatus, TermAppointment, check_can_teach};
use guild_store::DbConn;
use guild_store::classes::ClassSessionRow;
use uuid::Uuid;

use super::records::SessionInput;
use crate::error::{AppError, AppResult, stored};

/// A schedule that passed the checks, ready to store.
#[derive(Debug, Clone)]
pub(super) struct Schedule {
    pub(super) slots: Vec<SessionSlot>,
    topics: Vec<String>,
    teachers: Vec<Option<String>>,
}

/// Parses submitted sessions (times `HH:MM`, topics); problems are collected in `errors`.
pub(super) fn parse_sessions(input: &[SessionInput], errors: &mut Vec<FieldError>) -> Schedule {
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
pub(super) fn stored_schedule(rows: &[ClassSessionRow]) -> Schedule {
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

/// The rows to store for `schedule`.
pub(super) fn session_rows(class_id: &str, schedule: &Schedule) -> Vec<ClassSessionRow> {
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

/// 422 with every problem, in field order, unless there are none.
pub(super) fn validation(mut errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(AppError::Invalid(errors))
    }
}

/// The teachers of a class with the class head, as the rules check them.
#[derive(Debug, Clone)]
pub(super) struct Staffing {
    pub(super) head: Option<String>,
    pub(super) teachers: Vec<String>,
}

impl Staffing {
    /// Every account that may teach a session: the head and the teachers.
    fn may_teach(&self, user_id: &str) -> bool {
        self.head.as_deref() == Some(user_id) || self.teachers.iter().any(|t| t == user_id)
    }

    /// The accounts with the request field that named them.
    pub(super) fn fields(&self) -> Vec<(&'static str, String)> {
        self.head
            .iter()
            .map(|h| ("class_head_user_id", h.clone()))
            .chain(
                self.teachers
                    .iter()
                    .map(|t| ("teacher_user_ids", t.clone())),
            )
            .collect()
    }
}

/// Checks that each session's teacher is the class head or a class teacher.
pub(super) fn check_session_teachers(schedule: &Schedule, staffing: &Staffing) -> AppResult<()> {
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
pub(super) fn check_teachers_appointed(
    conn: &mut DbConn,
    users: &[(&str, String)],
    start: NaiveDate,
    end: NaiveDate,
) -> AppResult<()> {
    for (field, user_id) in users {
        let account = guild_store::users::find(conn, user_id)?
            .ok_or_else(|| AppError::field(field, "unknown", "no such account"))?;
        let appointments = guild_store::teachers::appointments_of_user(conn, user_id)?
            .into_iter()
            .map(|(a, t)| {
                Ok(TermAppointment {
                    status: stored::<AppointmentStatus>("teacher_appointments", &a.status)?,
                    term_starts_on: t.starts_on,
                    term_ends_on: t.ends_on,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        check_can_teach(&account.display_name, &appointments, start, end)?;
    }
    Ok(())
}

/// The ids in order, each once.
pub(super) fn dedup_ids(ids: &[Uuid]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.to_string();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}
