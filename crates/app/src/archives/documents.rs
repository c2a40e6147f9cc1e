//! The three generated documents of an archive (ARC-1), as CSV built from
//! the class's records at the moment they are read.

use std::collections::HashMap;

use guild_domain::archive::{DocumentKind, csv_record};
use guild_domain::exam::{RegistrationStatus, has_result};
use guild_store::DbConn;

use crate::attendance::{AttendanceSheet, sheet_for};
use crate::ctx::Caller;
use crate::error::{AppError, AppResult, stored};

/// Organisation names by id, looked up once each.
struct OrgNames(HashMap<String, String>);

impl OrgNames {
    fn new() -> Self {
        OrgNames(HashMap::new())
    }

    /// The organisation's name; empty for no organisation (an individual
    /// trainee). An id naming a missing organisation is corrupt data.
    fn get(&mut self, conn: &mut DbConn, id: Option<&str>) -> AppResult<String> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if let Some(name) = self.0.get(id) {
            return Ok(name.clone());
        }
        let name = guild_store::organisations::find(conn, id)?
            .map(|o| o.name)
            .ok_or_else(|| AppError::Internal(format!("the missing organisation {id} is named")))?;
        self.0.insert(id.to_owned(), name.clone());
        Ok(name)
    }
}

/// The generated document `kind` of the class `class_id`, as the caller may
/// see it.
pub(super) fn generate(
    conn: &mut DbConn,
    caller: &Caller,
    class_id: &str,
    kind: DocumentKind,
) -> AppResult<String> {
    match kind {
        DocumentKind::AttendanceSheet => attendance_csv(conn, caller, class_id),
        DocumentKind::GradeSheet => grade_csv(conn, class_id),
        DocumentKind::CertificateReceiptSheet => certificate_receipt_csv(conn, class_id),
        other => Err(AppError::Internal(format!("{other} is not generated"))),
    }
}

fn attendance_header(sheet: &AttendanceSheet) -> Vec<String> {
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
    header
}

/// The attendance sheet (学员考勤表): one row per trainee of the class's
/// attendance sheet (ATT-1), one column per session with `present`,
/// `excused` or `absent` (empty when nothing is recorded; `excused` also
/// where approved leave covers an unrecorded session), then the counts.
fn attendance_csv(conn: &mut DbConn, caller: &Caller, class_id: &str) -> AppResult<String> {
    let sheet = sheet_for(conn, caller, class_id)?;
    let mut out = csv_record(&attendance_header(&sheet));
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
fn grade_csv(conn: &mut DbConn, class_id: &str) -> AppResult<String> {
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
        let enrolment = guild_store::enrolments::find(conn, &r.enrolment_id)?.ok_or_else(|| {
            AppError::Internal(format!("exam registration {} without its enrolment", r.id))
        })?;
        let organisation = orgs.get(conn, enrolment.organisation_id.as_deref())?;
        let status: RegistrationStatus = stored("exam_registrations", &r.status)?;
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
fn certificate_receipt_csv(conn: &mut DbConn, class_id: &str) -> AppResult<String> {
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
pub(super) fn file_name(class_code: &str, kind: DocumentKind) -> String {
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
