//! Recording a session's attendance and reading a class's sheet (ATT-1, ATT-3).

use std::collections::{HashMap, HashSet};

use guild_domain::attendance::{
    AttendanceStatus, LeaveStatus, absence_refusal, check_class_running, check_session_held,
    check_takes_part, may_record_attendance, status_to_record, unexcused_absences,
};
use guild_domain::class::format_session_time;
use guild_domain::error::FieldError;
use guild_store::DbConn;
use guild_store::attendance::{AttendanceRecordRow, LeaveRequestRow};
use guild_store::classes::{ClassRow, ClassSessionRow};
use guild_store::enrolments::EnrolmentRow;
use uuid::Uuid;

use super::records::{
    AttendanceInput, AttendanceRecordView, AttendanceSheet, RecordAttendance, SessionAttendance,
    SheetMark, SheetRow, SheetSession,
};
use super::{class_status, is_class_head};
use crate::access::ClassRows;
use crate::ctx::{Caller, Ctx};
use crate::enrolments;
use crate::error::{AppError, AppResult, stored};
use crate::events::{Event, kinds as ev};
use crate::ids::stored_id;

fn session_of(conn: &mut DbConn, class: &ClassRow, session_id: &str) -> AppResult<ClassSessionRow> {
    guild_store::classes::find_class_session(conn, session_id)?
        .filter(|s| s.class_id == class.id)
        .ok_or(AppError::NotFound("session"))
}

/// Records the attendance of one session (ATT-1): `present`, `excused` or
/// `absent` per paid trainee (`paid` or `notified`) of the class, one entry
/// per enrolment; a trainee already recorded is updated (upsert per session
/// and enrolment). By the class head or training staff (403); only while the
/// class is `in_progress` or `finished` (`class_not_running`), and never
/// before the session's date in the association's time zone
/// (`session_not_held`). `excused` only with an approved leave request for
/// the session (`excuse_without_leave`); with one, an omitted status means
/// `excused`. Each changed record emits `attendance.recorded` with before and
/// after; an unchanged one is left alone.
pub fn record(
    ctx: &Ctx,
    conn: &mut DbConn,
    class_id: Uuid,
    session_id: Uuid,
    body: RecordAttendance,
) -> AppResult<SessionAttendance> {
    let caller = ctx.caller()?;
    let class = enrolments::class_of(conn, &class_id.to_string())?;
    let session = session_of(conn, &class, &session_id.to_string())?;
    if !may_record_attendance(caller.role, is_class_head(&class, caller)) {
        return Err(AppError::Forbidden);
    }
    check_class_running(class_status(&class)?)?;
    check_session_held(ctx.today(), session.session_date)?;
    let excused: HashSet<String> =
        guild_store::attendance::leave_for_class(conn, &class.id, LeaveStatus::Approved.as_str())?
            .into_iter()
            .filter(|l| l.session_id == session.id)
            .map(|l| l.enrolment_id)
            .collect();
    for (input, enrolment) in plan(conn, &class, &body.records)? {
        let status = status_to_record(input.status, excused.contains(&enrolment.id))?;
        record_one(
            ctx,
            conn,
            &session,
            &enrolment,
            status,
            input.note.as_deref(),
        )?;
    }
    session_attendance(conn, &class, &session)
}

/// ATT-1: each entry names a paid enrolment of the class, at most once;
/// every offending entry is reported (422 per field) before anything is written.
fn plan<'a>(
    conn: &mut DbConn,
    class: &ClassRow,
    records: &'a [AttendanceInput],
) -> AppResult<Vec<(&'a AttendanceInput, EnrolmentRow)>> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut plan = Vec::new();
    for (i, input) in records.iter().enumerate() {
        let key = input.enrolment_id.to_string();
        let field = format!("records[{i}].enrolment_id");
        if !seen.insert(key.clone()) {
            problems.push(FieldError::new(
                field,
                "duplicate",
                "each enrolment at most once",
            ));
            continue;
        }
        let enrolment =
            guild_store::enrolments::find(conn, &key)?.filter(|e| e.class_id == class.id);
        let Some(enrolment) = enrolment else {
            problems.push(FieldError::new(
                field,
                "not_in_class",
                "no enrolment of this class has this id",
            ));
            continue;
        };
        let (status, _) = enrolments::status_of(&enrolment)?;
        if let Err(r) = check_takes_part(status, "ATT-1") {
            problems.push(FieldError::new(field, r.code, r.detail));
            continue;
        }
        plan.push((input, enrolment));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    Ok(plan)
}

/// Upserts one trainee's record of the session and emits
/// `attendance.recorded` when it changed.
fn record_one(
    ctx: &Ctx,
    conn: &mut DbConn,
    session: &ClassSessionRow,
    enrolment: &EnrolmentRow,
    status: AttendanceStatus,
    note: Option<&str>,
) -> AppResult<()> {
    let by = ctx.caller()?.id.clone();
    let now = ctx.now.naive_utc();
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let existing = guild_store::attendance::find_for(conn, &session.id, &enrolment.id)?;
    let before = existing
        .as_ref()
        .map(AttendanceRecordView::from_row)
        .transpose()?;
    let row = match existing {
        Some(mut row) => {
            if row.status == status.as_str() && row.note == note {
                return Ok(());
            }
            row.status = status.as_str().to_owned();
            row.note = note;
            row.recorded_by = by;
            row.recorded_at = now;
            guild_store::attendance::update_record(conn, &row)?;
            row
        }
        None => {
            let row = AttendanceRecordRow {
                id: Uuid::now_v7().to_string(),
                class_id: session.class_id.clone(),
                session_id: session.id.clone(),
                enrolment_id: enrolment.id.clone(),
                status: status.as_str().to_owned(),
                note,
                recorded_by: by,
                recorded_at: now,
            };
            guild_store::attendance::insert(conn, &row)?;
            row
        }
    };
    let after = AttendanceRecordView::from_row(&row)?;
    let event = Event::new(
        ev::ATTENDANCE_RECORDED,
        "attendance_record",
        &row.id,
        before.as_ref(),
        Some(&after),
    )?
    .in_organisation(enrolment.organisation_id.as_deref());
    ctx.emit(conn, event)
}

fn session_attendance(
    conn: &mut DbConn,
    class: &ClassRow,
    session: &ClassSessionRow,
) -> AppResult<SessionAttendance> {
    let records = guild_store::attendance::for_class(conn, &class.id)?
        .iter()
        .filter(|r| r.session_id == session.id)
        .map(AttendanceRecordView::from_row)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(SessionAttendance {
        class_id: stored_id("classes", &class.id)?,
        session_id: stored_id("class_sessions", &session.id)?,
        session_date: session.session_date,
        records,
    })
}

/// A class's attendance sheet (ATT-1): every session and, per trainee, one
/// mark per session, the unexcused absences and whether they still allow the
/// exam (ATT-3). Association staff, the authority and the class's head and
/// teachers see every trainee; organisation accounts only their own
/// organisation's trainees; a trainee only themself; other teachers 403.
pub fn sheet(ctx: &Ctx, conn: &mut DbConn, class_id: Uuid) -> AppResult<AttendanceSheet> {
    sheet_for(conn, ctx.caller()?, &class_id.to_string())
}

/// [`sheet`] for a caller inside another use case's transaction; the archive
/// generates its attendance sheet from it (ARC-1).
pub fn sheet_for(conn: &mut DbConn, caller: &Caller, class_id: &str) -> AppResult<AttendanceSheet> {
    let class = enrolments::class_of(conn, class_id)?;
    let visible = ClassRows::of(conn, &class, caller)?.ok_or(AppError::Forbidden)?;
    let sessions = guild_store::classes::sessions(conn, &class.id)?;
    let records = guild_store::attendance::for_class(conn, &class.id)?;
    let leave =
        guild_store::attendance::leave_for_class(conn, &class.id, LeaveStatus::Approved.as_str())?;
    let enrolments = sheet_enrolments(conn, &class, &records, &visible)?;
    let names: HashMap<String, String> = guild_store::enrolments::person_names(
        conn,
        &enrolments
            .iter()
            .map(|e| e.person_id.clone())
            .collect::<Vec<_>>(),
    )?
    .into_iter()
    .collect();
    let by_key: HashMap<(&str, &str), &AttendanceRecordRow> = records
        .iter()
        .map(|r| ((r.session_id.as_str(), r.enrolment_id.as_str()), r))
        .collect();
    let leave_by_key: HashMap<(&str, &str), &LeaveRequestRow> = leave
        .iter()
        .map(|l| ((l.session_id.as_str(), l.enrolment_id.as_str()), l))
        .collect();
    let trainees = enrolments
        .iter()
        .map(|e| sheet_row(e, &sessions, &names, &by_key, &leave_by_key))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(AttendanceSheet {
        class_id: stored_id("classes", &class.id)?,
        sessions: sessions
            .iter()
            .map(|s| {
                Ok(SheetSession {
                    id: stored_id("class_sessions", &s.id)?,
                    session_date: s.session_date,
                    starts_at: format_session_time(s.starts_at),
                    ends_at: format_session_time(s.ends_at),
                    topic: s.topic.clone(),
                })
            })
            .collect::<AppResult<Vec<_>>>()?,
        trainees,
    })
}

/// The sheet's trainees: the paid ones and anyone else with a record, as far
/// as the caller sees them (ACC-2), by enrolment id.
fn sheet_enrolments(
    conn: &mut DbConn,
    class: &ClassRow,
    records: &[AttendanceRecordRow],
    visible: &ClassRows,
) -> AppResult<Vec<EnrolmentRow>> {
    let mut enrolments: Vec<EnrolmentRow> = Vec::new();
    for status in ["paid", "notified"] {
        enrolments.extend(guild_store::enrolments::in_class_with_status(
            conn, &class.id, status,
        )?);
    }
    let listed: HashSet<String> = enrolments.iter().map(|e| e.id.clone()).collect();
    let extra: HashSet<String> = records
        .iter()
        .map(|r| r.enrolment_id.clone())
        .filter(|id| !listed.contains(id))
        .collect();
    for id in extra {
        if let Some(e) = guild_store::enrolments::find(conn, &id)? {
            enrolments.push(e);
        }
    }
    enrolments.retain(|e| visible.sees(e));
    enrolments.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(enrolments)
}

/// One trainee's row: a mark per session and the ATT-3 verdict.
fn sheet_row(
    e: &EnrolmentRow,
    sessions: &[ClassSessionRow],
    names: &HashMap<String, String>,
    by_key: &HashMap<(&str, &str), &AttendanceRecordRow>,
    leave_by_key: &HashMap<(&str, &str), &LeaveRequestRow>,
) -> AppResult<SheetRow> {
    let mut marks = Vec::new();
    let mut dated = Vec::new();
    for s in sessions {
        let key = (s.id.as_str(), e.id.as_str());
        let record = by_key.get(&key);
        let leave = leave_by_key.get(&key);
        let recorded: Option<AttendanceStatus> = record
            .map(|r| stored("attendance_records", &r.status))
            .transpose()?;
        if let Some(st) = recorded {
            dated.push((s.session_date, st));
        }
        marks.push(SheetMark {
            session_id: stored_id("class_sessions", &s.id)?,
            status: recorded.or(leave.map(|_| AttendanceStatus::Excused)),
            recorded: recorded.is_some(),
            note: record.and_then(|r| r.note.clone()),
            leave_request_id: leave
                .map(|l| stored_id("leave_requests", &l.id))
                .transpose()?,
        });
    }
    let absences = unexcused_absences(&dated);
    let person_name = names.get(&e.person_id).cloned().ok_or_else(|| {
        AppError::Internal(format!(
            "an enrolment names the missing person {}",
            e.person_id
        ))
    })?;
    Ok(SheetRow {
        enrolment_id: stored_id("enrolments", &e.id)?,
        person_id: stored_id("enrolments", &e.person_id)?,
        person_name,
        organisation_id: e
            .organisation_id
            .as_deref()
            .map(|o| stored_id("enrolments", o))
            .transpose()?,
        marks,
        eligible_by_attendance: absence_refusal(&absences).is_none(),
        unexcused_absences: absences,
    })
}
