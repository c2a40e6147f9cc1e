//! Class archives and the working-day calendar (ARC-1, ARC-2).
//!
//! - Publishing a class's results for the first time opens its archive in
//!   the same transaction ([`guild_app::archives::open_for_class`], called by
//!   `POST /classes/{id}/results/publish`). Publishing again (after a retake)
//!   does not move the clock: the deadline runs from the first publication,
//!   so a missed deadline cannot be reset by a later publication.
//! - The archive holds the six documents of ARC-1. The attendance sheet, the
//!   grade sheet and the certificate receipt sheet are generated as CSV from
//!   the class's records at the moment they are read
//!   (`GET /archives/{id}/documents/{kind}`); the training agreement, the
//!   class notice and the timetable are attached by reference
//!   (`PUT /archives/{id}/documents/{kind}`). `POST /archives/{id}/complete`
//!   closes the file once the three attached documents are there.
//! - ARC-2: the archive is due on the 5th working day after the local date
//!   (association time zone) of the first publication, the publication day
//!   not counting, on the calendar kept under `/archives/calendar`. Due dates
//!   are computed at read time from the calendar as it stands, so a holiday
//!   entered later moves them. `GET /archives?overdue=true` lists the open
//!   archives past their due date for the training head.
//!
//! Archives are association-internal records: only training staff (training
//! officer, training head, administrator) and the authority ("read-only
//! everything", SPEC §1) read them; every other role gets 403 before any
//! lookup, so ids never leak (ACC-2). Training staff attach documents and
//! complete archives; the training head and the administrator keep the
//! calendar, which every association role and the authority may read.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::Role;
use guild_domain::archive::{
    ArchiveAction, ArchiveStatus, DocumentKind, archive_allowed_actions, archive_transition,
    check_attachable, check_complete, csv_record, due_on, missing_documents, overdue_before,
    timeliness,
};
use guild_domain::calendar::{CalendarDayKind, WorkCalendar, YEARS, check_day, start_of_day};
use guild_domain::exam::{RegistrationStatus, has_result};
use guild_domain::local_date;
use guild_store::DbConn;
use guild_store::archives::{ArchiveDocumentRow, ArchiveFilter, ArchiveRow};
use guild_store::calendar::CalendarDayRow;
use guild_store::locks::Locked;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use guild_app::archives::{ArchiveSnapshot, snapshot};

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored, validate};
use crate::openapi::{ActionErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Who reads archives: training staff and the authority.
pub const ARCHIVE_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Authority,
];

/// Who attaches documents and completes archives: training staff.
pub const ARCHIVE_KEEPERS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// Who reads the working-day calendar: association staff and the authority.
pub const CALENDAR_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
];

/// Who keeps the working-day calendar: the training head and the administrator.
pub const CALENDAR_KEEPERS: &[Role] = &[Role::Admin, Role::TrainingHead];

/// The media type of the generated documents.
const CSV: &str = "text/csv; charset=utf-8; header=present";

/// One date of the working-day calendar (ARC-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarDayView {
    /// The date.
    pub date: NaiveDate,
    /// `holiday` (never a working day) or `workday` (a make-up working day on a weekend).
    pub kind: CalendarDayKind,
    /// What the day is, e.g. `国庆节` or `National Day make-up day`.
    pub name: String,
    /// Who last set it.
    pub updated_by: Uuid,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl CalendarDayView {
    fn from_row(r: &CalendarDayRow) -> ApiResult<Self> {
        Ok(CalendarDayView {
            date: r.day,
            kind: parse_stored("calendar_days", &r.kind)?,
            name: r.name.clone(),
            updated_by: stored_uuid("calendar_days", &r.updated_by)?,
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// The calendar entries of one year (at most 366, so not paginated).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarYear {
    /// The year.
    pub year: i32,
    /// Its holidays and make-up working days, in date order. Every other
    /// Monday to Friday is a working day, every other Saturday and Sunday not.
    pub days: Vec<CalendarDayView>,
}

/// Sets one date of the calendar.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "holiday", "name": "国庆节"}))]
pub struct SetCalendarDay {
    /// `holiday`, or `workday` for a make-up working day (Saturday or Sunday only).
    pub kind: CalendarDayKind,
    /// What the day is.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// The year of the calendar to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    /// The year, 2000 to 2100 (default: the current year in the association's time zone).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// One of the six documents of an archive (ARC-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArchiveDocumentView {
    /// Which document.
    pub kind: DocumentKind,
    /// Its title on the paper file (`培训协议书`, …).
    pub title: String,
    /// Whether the system generates it (attendance, grade and certificate
    /// receipt sheets) rather than the officer attaching it by reference.
    pub generated: bool,
    /// Whether it is on file: generated documents always are.
    pub present: bool,
    /// Where to download a generated document (CSV).
    pub download_path: Option<String>,
    /// The reference of an attached document (file number, document system id).
    pub reference: Option<String>,
    /// A remark on an attached document.
    pub note: Option<String>,
    /// Who attached it.
    pub attached_by: Option<Uuid>,
    /// When.
    pub attached_at: Option<DateTime<Utc>>,
}

/// A class's archive (ARC-1) with its due date (ARC-2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArchiveView {
    /// The archive id.
    pub id: Uuid,
    /// The class.
    pub class_id: Uuid,
    /// The class's code.
    pub class_code: String,
    /// The class's title.
    pub class_title: String,
    /// `open` or `completed`.
    pub status: ArchiveStatus,
    /// The actions its state allows (API-4): `attach_document` is
    /// `PUT /archives/{id}/documents/{kind}`, `complete` is `POST /archives/{id}/complete`.
    pub allowed_actions: Vec<String>,
    /// When the class's results were first published: the archive clock's start (ARC-2).
    pub results_published_at: DateTime<Utc>,
    /// That instant's date in the association's time zone; it does not count.
    pub published_on: NaiveDate,
    /// The 5th working day after `published_on`, on the calendar as it stands now.
    pub due_on: NaiveDate,
    /// Open and past `due_on` today (association time zone).
    pub overdue: bool,
    /// Calendar days past `due_on`: of today while open, of the completion
    /// date once completed; 0 when in time.
    pub days_overdue: i64,
    /// Once completed, whether after `due_on`; `null` while open.
    pub completed_late: Option<bool>,
    /// The six documents, in filing order.
    pub documents: Vec<ArchiveDocumentView>,
    /// The attached documents still missing (completion needs none, ARC-1).
    pub missing_documents: Vec<DocumentKind>,
    /// Who completed it.
    pub completed_by: Option<Uuid>,
    /// When.
    pub completed_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (API-5).
    pub version: i32,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Attaches a document by reference.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "ARCH-2026-041", "note": "Signed original in cabinet 3"}))]
pub struct AttachDocument {
    /// Where the document is: file number, document management system id, shelf mark.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub reference: String,
    /// A remark.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Filters for the archive list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArchiveQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ArchiveStatus>,
    /// `true`: only open archives past their due date (ARC-2); `false`: only the others.
    pub overdue: Option<bool>,
    /// Only this class's archive.
    pub class_id: Option<Uuid>,
}

/// What due dates are computed against: today, the time zone and the calendar.
struct Today {
    date: NaiveDate,
    tz: Tz,
    calendar: WorkCalendar,
}

impl Today {
    fn load(conn: &mut DbConn, now: DateTime<Utc>, tz: Tz) -> ApiResult<Self> {
        let rows = guild_store::calendar::all(conn)?;
        let calendar = WorkCalendar::new(
            rows.iter()
                .map(|r| Ok((r.day, parse_stored("calendar_days", &r.kind)?)))
                .collect::<ApiResult<Vec<_>>>()?,
        );
        Ok(Today {
            date: local_date(now, tz),
            tz,
            calendar,
        })
    }
}

fn out_of_range() -> ApiError {
    ApiError::Internal("date arithmetic left the supported range".to_owned())
}

/// The archive as it stands on `today`.
fn view_of(
    row: &ArchiveRow,
    class_code: &str,
    class_title: &str,
    docs: &[ArchiveDocumentRow],
    today: &Today,
) -> ApiResult<ArchiveView> {
    let id = |v: &str| stored_uuid("archives", v);
    let status: ArchiveStatus = parse_stored("archives", &row.status)?;
    let published_at = row.results_published_at.and_utc();
    let published_on = local_date(published_at, today.tz);
    let due = due_on(published_on, &today.calendar).ok_or_else(out_of_range)?;
    let completed_on = row.completed_at.map(|t| local_date(t.and_utc(), today.tz));
    let t = timeliness(due, today.date, completed_on);
    let mut present = Vec::new();
    let mut documents = Vec::new();
    for &kind in DocumentKind::ALL {
        let attached = docs.iter().find(|d| d.kind == kind.as_str());
        if attached.is_some() {
            present.push(kind);
        }
        documents.push(ArchiveDocumentView {
            kind,
            title: kind.title_zh().to_owned(),
            generated: kind.is_generated(),
            present: kind.is_generated() || attached.is_some(),
            download_path: kind
                .is_generated()
                .then(|| format!("/api/v1/archives/{}/documents/{kind}", row.id)),
            reference: attached.map(|d| d.reference.clone()),
            note: attached.and_then(|d| d.note.clone()),
            attached_by: attached.map(|d| id(&d.attached_by)).transpose()?,
            attached_at: attached.map(|d| d.attached_at.and_utc()),
        });
    }
    Ok(ArchiveView {
        id: id(&row.id)?,
        class_id: id(&row.class_id)?,
        class_code: class_code.to_owned(),
        class_title: class_title.to_owned(),
        status,
        allowed_actions: archive_allowed_actions(status)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        results_published_at: published_at,
        published_on,
        due_on: due,
        overdue: t.overdue,
        days_overdue: t.days_overdue,
        completed_late: t.completed_late,
        missing_documents: missing_documents(&present),
        documents,
        completed_by: row.completed_by.as_deref().map(id).transpose()?,
        completed_at: row.completed_at.map(|t| t.and_utc()),
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn audit_archive(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    before: Option<&ArchiveSnapshot<'_>>,
    after: &ArchiveSnapshot<'_>,
) -> ApiResult<()> {
    let kind = audit::kind(action)?;
    Ok(guild_app::archives::emit(
        &actor.ctx(),
        conn,
        kind,
        before,
        after,
    )?)
}

/// An archive with its class, or 404.
fn load(conn: &mut DbConn, id: &str) -> ApiResult<(ArchiveRow, guild_store::classes::ClassRow)> {
    let row =
        guild_store::archives::find(conn, id)?.ok_or_else(|| ApiError::not_found("archive"))?;
    let class = guild_store::classes::find(conn, &row.class_id)?
        .ok_or_else(|| ApiError::Internal(format!("archive {id} without its class")))?;
    Ok((row, class))
}

fn read_view(conn: &mut DbConn, id: &str, today: &Today) -> ApiResult<ArchiveView> {
    let (row, class) = load(conn, id)?;
    let docs = guild_store::archives::documents(conn, &row.id)?;
    view_of(&row, &class.code, &class.title, &docs, today)
}

/// Attaches or replaces a document in one transaction (ARC-1): the archive
/// exists (404), matches `If-Match` (412), is open (409 with the allowed
/// actions) and the kind is one attached by reference (422
/// `document_generated`). The archive's version moves on; audited as
/// `archive.attach_document` with before and after.
fn attach_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    today: &Today,
    id: &str,
    kind: DocumentKind,
    body: AttachDocument,
    if_match: IfMatch,
) -> ApiResult<ArchiveView> {
    guild_store::locks::lock_row(conn, Locked::Archives, id)?;
    let (mut row, class) = load(conn, id)?;
    if_match.check(row.version)?;
    archive_transition(
        parse_stored("archives", &row.status)?,
        ArchiveAction::AttachDocument,
    )?;
    check_attachable(kind)?;
    let before_docs = guild_store::archives::documents(conn, &row.id)?;
    let before_row = row.clone();
    let user_id = actor.user.map(|u| u.id.clone()).unwrap_or_default();
    let at = actor.at.naive_utc();
    let reference = body.reference.trim().to_owned();
    let note = body
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    match before_docs.iter().find(|d| d.kind == kind.as_str()) {
        Some(existing) => {
            let mut doc = existing.clone();
            doc.reference = reference;
            doc.note = note;
            doc.attached_by = user_id;
            doc.attached_at = at;
            guild_store::archives::update_document(conn, &doc)?;
        }
        None => guild_store::archives::insert_document(
            conn,
            &ArchiveDocumentRow {
                id: Uuid::now_v7().to_string(),
                archive_id: row.id.clone(),
                kind: kind.as_str().to_owned(),
                reference,
                note,
                attached_by: user_id,
                attached_at: at,
            },
        )?,
    }
    guild_store::archives::update(conn, &mut row, at)?;
    let docs = guild_store::archives::documents(conn, &row.id)?;
    audit_archive(
        conn,
        actor,
        "archive.attach_document",
        Some(&snapshot(&before_row, &before_docs)),
        &snapshot(&row, &docs),
    )?;
    view_of(&row, &class.code, &class.title, &docs, today)
}

/// Completes an archive in one transaction (ARC-1): the archive exists
/// (404), matches `If-Match` (412), is open (409 with the allowed actions)
/// and holds the three attached documents (422 `archive_documents_missing`,
/// naming them). Records who and when; a late completion is allowed and
/// shows as `completed_late`. Audited as `archive.complete`.
fn complete_in_tx(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    today: &Today,
    id: &str,
    if_match: IfMatch,
) -> ApiResult<ArchiveView> {
    guild_store::locks::lock_row(conn, Locked::Archives, id)?;
    let (mut row, class) = load(conn, id)?;
    if_match.check(row.version)?;
    let next = archive_transition(
        parse_stored("archives", &row.status)?,
        ArchiveAction::Complete,
    )?;
    let docs = guild_store::archives::documents(conn, &row.id)?;
    let present = docs
        .iter()
        .map(|d| parse_stored("archive_documents", &d.kind))
        .collect::<ApiResult<Vec<DocumentKind>>>()?;
    check_complete(&present)?;
    let before_row = row.clone();
    let at = actor.at.naive_utc();
    row.status = next.as_str().to_owned();
    row.completed_by = actor.user.map(|u| u.id.clone());
    row.completed_at = Some(at);
    guild_store::archives::update(conn, &mut row, at)?;
    audit_archive(
        conn,
        actor,
        "archive.complete",
        Some(&snapshot(&before_row, &docs)),
        &snapshot(&row, &docs),
    )?;
    view_of(&row, &class.code, &class.title, &docs, today)
}

/// Parses a `YYYY-MM-DD` path segment (400 `invalid_path_parameter` otherwise).
fn parse_date(raw: &str) -> ApiResult<NaiveDate> {
    let bad = || {
        ApiError::http(
            ErrorCode::InvalidPathParameter,
            format!("invalid path parameter: {raw:?} is not a date (YYYY-MM-DD)"),
        )
    };
    if raw.len() != 10 {
        return Err(bad());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())
}

fn audit_calendar_day(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    date: NaiveDate,
    before: Option<&CalendarDayView>,
    after: Option<&CalendarDayView>,
) -> ApiResult<()> {
    let id = date.to_string();
    audit::record(
        conn,
        actor,
        Change {
            action,
            entity_type: "calendar_day",
            entity_id: &id,
            organisation_id: None,
            before,
            after,
        },
    )
}

/// Organisation names by id, looked up once each.
struct OrgNames(HashMap<String, String>);

impl OrgNames {
    fn new() -> Self {
        OrgNames(HashMap::new())
    }

    fn get(&mut self, conn: &mut DbConn, id: Option<&str>) -> ApiResult<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if let Some(name) = self.0.get(id) {
            return Ok(name.clone());
        }
        let name = guild_store::organisations::find(conn, id)?
            .map(|o| o.name)
            .unwrap_or_default();
        self.0.insert(id.to_owned(), name.clone());
        Ok(name)
    }
}

/// The attendance sheet (学员考勤表): one row per trainee of the class's
/// attendance sheet (ATT-1), one column per session with `present`,
/// `excused` or `absent` (empty when nothing is recorded; `excused` also
/// where approved leave covers an unrecorded session), then the counts.
fn attendance_csv(conn: &mut DbConn, user: &AuthUser, class_id: &str) -> ApiResult<String> {
    let sheet = crate::routes::attendance::sheet_in_tx(conn, user, class_id)?;
    let mut header = vec![
        "enrolment_id".to_owned(),
        "person_name".to_owned(),
        "organisation".to_owned(),
    ];
    for s in &sheet.sessions {
        header.push(format!(
            "{} {}-{} {}",
            s.session_date, s.starts_at, s.ends_at, s.topic
        ));
    }
    for h in [
        "present",
        "excused",
        "absent",
        "not_recorded",
        "eligible_by_attendance",
    ] {
        header.push(h.to_owned());
    }
    let mut out = csv_record(&header);
    let mut orgs = OrgNames::new();
    for t in &sheet.trainees {
        let org = t.organisation_id.map(|o| o.to_string());
        let mut fields = vec![
            t.enrolment_id.to_string(),
            t.person_name.clone(),
            orgs.get(conn, org.as_deref())?,
        ];
        let mut counts = [0usize; 4];
        for m in &t.marks {
            let status = m.status.map(|s| s.as_str()).unwrap_or("");
            let slot = match status {
                "present" => 0,
                "excused" => 1,
                "absent" => 2,
                _ => 3,
            };
            counts[slot] += 1;
            fields.push(status.to_owned());
        }
        fields.extend(counts.iter().map(ToString::to_string));
        fields.push(t.eligible_by_attendance.to_string());
        out.push_str(&csv_record(&fields));
    }
    Ok(out)
}

/// The grade sheet (考核成绩表): one row per exam registration of every
/// sitting of the class (first sittings and retakes), with the scores per
/// part, whether the trainee passed (EXM-1) and whether that result is
/// published (EXM-5: entered before the last publication).
fn grade_csv(conn: &mut DbConn, class_id: &str) -> ApiResult<String> {
    let rows = guild_store::exams::registrations_for_class(conn, class_id)?;
    let published = guild_store::exams::results_published(conn, class_id)?.map(|(at, _)| at);
    let person_ids: Vec<String> = rows.iter().map(|(r, _)| r.person_id.clone()).collect();
    let names: HashMap<String, String> = guild_store::enrolments::person_names(conn, &person_ids)?
        .into_iter()
        .collect();
    let mut out = csv_record(&[
        "sitting_kind",
        "held_on",
        "attempt",
        "enrolment_id",
        "person_name",
        "organisation",
        "status",
        "theory_score",
        "practical_score",
        "passed",
        "published",
    ]);
    let mut orgs = OrgNames::new();
    for (r, sitting) in &rows {
        let organisation = match guild_store::enrolments::find(conn, &r.enrolment_id)? {
            Some(e) => orgs.get(conn, e.organisation_id.as_deref())?,
            None => String::new(),
        };
        let status: RegistrationStatus = parse_stored("exam_registrations", &r.status)?;
        let is_published = published.is_some_and(|at| {
            has_result(status, r.passed) && r.result_entered_at.is_none_or(|t| t <= at)
        });
        let opt = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
        out.push_str(&csv_record(&[
            sitting.kind.clone(),
            sitting.held_on.to_string(),
            r.attempt.to_string(),
            r.enrolment_id.clone(),
            names.get(&r.person_id).cloned().unwrap_or_default(),
            organisation,
            r.status.clone(),
            opt(r.theory_score),
            opt(r.practical_score),
            r.passed.map(|p| p.to_string()).unwrap_or_default(),
            is_published.to_string(),
        ]));
    }
    Ok(out)
}

/// The certificate receipt sheet (证书发放签收表): one row per certificate
/// issued for the class, by number, with empty `received_on` and
/// `signature` columns for the holder to fill in on paper. No ID numbers.
fn certificate_receipt_csv(conn: &mut DbConn, class_id: &str) -> ApiResult<String> {
    let certificates = guild_store::archives::certificates_of_class(conn, class_id)?;
    let mut out = csv_record(&[
        "certificate_number",
        "holder_name",
        "organisation",
        "issued_on",
        "valid_until",
        "received_on",
        "signature",
    ]);
    let mut orgs = OrgNames::new();
    for c in &certificates {
        out.push_str(&csv_record(&[
            c.number.clone(),
            c.holder_name.clone(),
            orgs.get(conn, c.organisation_id.as_deref())?,
            c.issued_on.to_string(),
            c.valid_until.to_string(),
            String::new(),
            String::new(),
        ]));
    }
    Ok(out)
}

/// A safe ASCII file name for a generated document.
fn file_name(class_code: &str, kind: DocumentKind) -> String {
    let code: String = class_code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{code}_{kind}.csv")
}

/// Answers a generated document: UTF-8 CSV with a byte-order mark, so
/// spreadsheet programs show Chinese names correctly.
async fn generated(
    state: web::Data<AppState>,
    user: AuthUser,
    id: Uuid,
    kind: DocumentKind,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_READERS)?;
    let id = id.to_string();
    let (name, body) = state
        .run(move |s| {
            s.store.read(|c| {
                let (row, class) = load(c, &id)?;
                let body = match kind {
                    DocumentKind::AttendanceSheet => attendance_csv(c, &user, &row.class_id)?,
                    DocumentKind::GradeSheet => grade_csv(c, &row.class_id)?,
                    DocumentKind::CertificateReceiptSheet => {
                        certificate_receipt_csv(c, &row.class_id)?
                    }
                    other => {
                        return Err(ApiError::Internal(format!("{other} is not generated")));
                    }
                };
                Ok((file_name(&class.code, kind), body))
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(CSV)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(format!("\u{feff}{body}")))
}

/// Read one year of the working-day calendar (ARC-2): its public holidays
/// and make-up working days. Association staff and the authority.
#[utoipa::path(
    operation_id = "get_archive_calendar",
    tag = "archives",
    params(CalendarQuery),
    responses((status = 200, description = "The year's holidays and make-up working days", body = CalendarYear), ListErrors)
)]
#[get("/archives/calendar")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    user.require(CALENDAR_READERS)?;
    let requested = q.into_inner().year;
    if let Some(y) = requested
        && !YEARS.contains(&y)
    {
        return Err(ApiError::http(
            ErrorCode::InvalidQuery,
            format!("year must be between {} and {}", YEARS.start(), YEARS.end()),
        ));
    }
    let view = state
        .run(move |s| {
            let year =
                requested.unwrap_or_else(|| local_date(s.clock.now(), s.config.time_zone).year());
            let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(out_of_range)?;
            let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(out_of_range)?;
            s.store.read(|c| {
                let days = guild_store::calendar::between(c, first, last)?
                    .iter()
                    .map(CalendarDayView::from_row)
                    .collect::<ApiResult<Vec<_>>>()?;
                Ok(CalendarYear { year, days })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Set one date of the working-day calendar (ARC-2; training head or
/// administrator): a `holiday` is never a working day; a `workday` is a
/// make-up working day and must be a Saturday or Sunday
/// (`workday_not_on_weekend`). Replaces the date's entry if it has one
/// (200) or creates it (201). Due dates of archives follow at once.
#[utoipa::path(
    operation_id = "set_archive_calendar_day",
    tag = "archives",
    params(("date" = NaiveDate, Path, description = "The date, YYYY-MM-DD (2000 to 2100)")),
    request_body = SetCalendarDay,
    responses(
        (status = 200, description = "Replaced", body = CalendarDayView),
        (status = 201, description = "Created", body = CalendarDayView),
        UpdateErrors
    )
)]
#[put("/archives/calendar/{date}")]
pub async fn set_calendar_day(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    date: web::Path<String>,
    body: web::Json<SetCalendarDay>,
) -> ApiResult<HttpResponse> {
    user.require(CALENDAR_KEEPERS)?;
    let date = parse_date(&date.into_inner())?;
    validate(&*body)?;
    let body = body.into_inner();
    let name = check_day(date, body.kind, &body.name)?;
    let (created, view) = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let actor = Actor::new(&user, &ctx, now);
                let before = guild_store::calendar::find(c, date)?;
                let row = CalendarDayRow {
                    day: date,
                    kind: body.kind.as_str().to_owned(),
                    name,
                    updated_by: user.id.clone(),
                    updated_at: now.naive_utc(),
                };
                match &before {
                    Some(_) => guild_store::calendar::update(c, &row)?,
                    None => guild_store::calendar::insert(c, &row)?,
                }
                let before = before.as_ref().map(CalendarDayView::from_row).transpose()?;
                let after = CalendarDayView::from_row(&row)?;
                audit_calendar_day(
                    c,
                    &actor,
                    "calendar_day.set",
                    date,
                    before.as_ref(),
                    Some(&after),
                )?;
                Ok((before.is_none(), after))
            })
        })
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(view))
}

/// Remove one date from the working-day calendar (ARC-2; training head or
/// administrator): the date is again what its weekday says. 404 when the
/// date has no entry.
#[utoipa::path(
    operation_id = "delete_archive_calendar_day",
    tag = "archives",
    params(("date" = NaiveDate, Path, description = "The date, YYYY-MM-DD")),
    responses((status = 204, description = "Removed"), ActionErrors)
)]
#[delete("/archives/calendar/{date}")]
pub async fn delete_calendar_day(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    date: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require(CALENDAR_KEEPERS)?;
    let date = parse_date(&date.into_inner())?;
    state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let actor = Actor::new(&user, &ctx, now);
                let before = guild_store::calendar::find(c, date)?
                    .ok_or_else(|| ApiError::not_found("calendar day"))?;
                guild_store::calendar::delete(c, date)?;
                let before = CalendarDayView::from_row(&before)?;
                audit_calendar_day(c, &actor, "calendar_day.delete", date, Some(&before), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List class archives, oldest first (training staff and the authority),
/// each with its due date and lateness as of today on the current calendar
/// (ARC-2). `overdue=true` lists the open archives past their due date: the
/// training head's follow-up list.
#[utoipa::path(
    operation_id = "list_archives",
    tag = "archives",
    params(ArchiveQuery),
    responses((status = 200, description = "OK", body = Paged<ArchiveView>), ListErrors)
)]
#[get("/archives")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<ArchiveQuery>,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_READERS)?;
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let paged = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.read(|c| {
                let today = Today::load(c, now, tz)?;
                let overdue = match q.overdue {
                    Some(flag) => {
                        let first_in_time =
                            overdue_before(today.date, &today.calendar).ok_or_else(out_of_range)?;
                        let before = start_of_day(first_in_time, tz).ok_or_else(out_of_range)?;
                        Some((flag, before.naive_utc()))
                    }
                    None => None,
                };
                let filter = ArchiveFilter {
                    status: q.status.map(|v| v.as_str().to_owned()),
                    class_id: q.class_id.map(|v| v.to_string()),
                    overdue,
                };
                let rows =
                    guild_store::archives::list(c, &filter, page.after.as_deref(), page.limit)?;
                let ids: Vec<String> = rows.items.iter().map(|r| r.archive.id.clone()).collect();
                let docs = guild_store::archives::documents_of(c, &ids)?;
                Paged::try_from_page(rows, |r| {
                    let mine: Vec<ArchiveDocumentRow> = docs
                        .iter()
                        .filter(|d| d.archive_id == r.archive.id)
                        .cloned()
                        .collect();
                    view_of(&r.archive, &r.class_code, &r.class_title, &mine, &today)
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Read one class archive (training staff and the authority) with its
/// documents, due date and lateness as of today (ARC-1, ARC-2).
#[utoipa::path(
    operation_id = "get_archive",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "OK", body = ArchiveView), ReadErrors)
)]
#[get("/archives/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_READERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.read(|c| {
                let today = Today::load(c, now, tz)?;
                read_view(c, &id, &today)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Download the archive's attendance sheet (学员考勤表, ARC-1), generated
/// from the class's attendance records: UTF-8 CSV (with a byte-order mark),
/// a header row, one row per trainee, one column per session.
#[utoipa::path(
    operation_id = "get_archive_attendance_sheet",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "The attendance sheet as CSV", body = String, content_type = "text/csv"), ReadErrors)
)]
#[get("/archives/{id}/documents/attendance_sheet")]
pub async fn attendance_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    generated(state, user, id.into_inner(), DocumentKind::AttendanceSheet).await
}

/// Download the archive's grade sheet (考核成绩表, ARC-1), generated from
/// the class's exam registrations: UTF-8 CSV (with a byte-order mark), a
/// header row, one row per registration with theory and practical scores.
#[utoipa::path(
    operation_id = "get_archive_grade_sheet",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "The grade sheet as CSV", body = String, content_type = "text/csv"), ReadErrors)
)]
#[get("/archives/{id}/documents/grade_sheet")]
pub async fn grade_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    generated(state, user, id.into_inner(), DocumentKind::GradeSheet).await
}

/// Download the archive's certificate receipt sheet (证书发放签收表, ARC-1),
/// generated from the certificates issued for the class: UTF-8 CSV (with a
/// byte-order mark), a header row, one row per certificate with empty
/// `received_on` and `signature` columns for the paper receipt.
#[utoipa::path(
    operation_id = "get_archive_certificate_receipt_sheet",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "The certificate receipt sheet as CSV", body = String, content_type = "text/csv"), ReadErrors)
)]
#[get("/archives/{id}/documents/certificate_receipt_sheet")]
pub async fn certificate_receipt_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    generated(
        state,
        user,
        id.into_inner(),
        DocumentKind::CertificateReceiptSheet,
    )
    .await
}

/// Attach a document to an open archive by reference (ARC-1; training
/// staff): `training_agreement`, `class_notice` or `timetable`. The three
/// generated kinds are refused (`document_generated`). Replaces an earlier
/// reference of the same kind. Honours `If-Match` with the archive's version.
#[utoipa::path(
    operation_id = "attach_archive_document",
    tag = "archives",
    params(
        ("id" = Uuid, Path, description = "Archive id"),
        ("kind" = DocumentKind, Path, description = "training_agreement, class_notice or timetable")
    ),
    request_body = AttachDocument,
    responses((status = 200, description = "Attached; the archive", body = ArchiveView), UpdateErrors)
)]
#[put("/archives/{id}/documents/{kind}")]
pub async fn attach_document(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    path: web::Path<(Uuid, String)>,
    if_match: IfMatch,
    body: web::Json<AttachDocument>,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_KEEPERS)?;
    let (id, kind) = path.into_inner();
    let kind: DocumentKind = kind.parse().map_err(|e: guild_domain::UnknownValue| {
        ApiError::http(
            ErrorCode::InvalidPathParameter,
            format!("invalid path parameter: {e}"),
        )
    })?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reference.trim().is_empty() {
        return Err(ApiError::field(
            "reference",
            "required",
            "give the document's reference",
        ));
    }
    let id = id.to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                let today = Today::load(c, now, tz)?;
                attach_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &today,
                    &id,
                    kind,
                    body,
                    if_match,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Complete an archive (ARC-1; training staff): only when the training
/// agreement, the class notice and the timetable are attached
/// (`archive_documents_missing`, naming them). Records who and when; after
/// the due date it is still allowed and shows `completed_late: true`
/// (ARC-2). Honours `If-Match` with the archive's version.
#[utoipa::path(
    operation_id = "complete_archive",
    tag = "archives",
    params(("id" = Uuid, Path, description = "Archive id")),
    responses((status = 200, description = "Completed", body = ArchiveView), ActionErrors)
)]
#[post("/archives/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    user.require(ARCHIVE_KEEPERS)?;
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                let today = Today::load(c, now, tz)?;
                complete_in_tx(c, &Actor::new(&user, &ctx, now), &today, &id, if_match)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Registers this module's endpoints under `/api/v1`. The calendar comes
/// first so `/archives/calendar` is never taken for an archive id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar)
        .service(set_calendar_day)
        .service(delete_calendar_day)
        .service(list)
        .service(get)
        .service(attendance_sheet)
        .service(grade_sheet)
        .service(certificate_receipt_sheet)
        .service(attach_document)
        .service(complete);
}
