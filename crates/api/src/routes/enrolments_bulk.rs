//! Bulk enrolment from a CSV file (ENR-1): an organisation uploads up to 5,000
//! people for one class; the whole file is checked first and then written in
//! one transaction — all rows or none.
//!
//! The file: UTF-8 (an optional byte-order mark is ignored), comma-separated,
//! fields quoted with `"` per RFC 4180 (`""` is a quote inside a quoted
//! field), CRLF or LF line ends. The first row is the header naming the
//! columns `name, gender, id_type, id_number, phone, category` in any order;
//! `id_type`, `phone` and `category` may be left out or empty (`id_type` then
//! means `resident_id`). Blank lines are skipped but counted, so row numbers
//! match a spreadsheet's: the header is row 1.

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt;
use guild_domain::enrolment::{
    BULK_COLUMNS, BULK_MAX_ROWS, BulkCells, BulkPerson, Channel, EnrolmentStatus, already_enrolled,
    check_class_open_for_enrolment,
};
use guild_domain::{Refusal, Role, local_date};
use guild_store::DbConn;
use guild_store::enrolments::EnrolmentRow;
use guild_store::people::PersonRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldProblem};
use crate::extract::{RequestContext, parse_stored};
use crate::openapi::CreateErrors;
use crate::routes::people::PersonView;
use crate::state::AppState;
use guild_app::enrolments as service;
use guild_app::enrolments::EnrolmentView;

/// The largest file accepted: 2 MiB (5,000 rows fit easily).
pub const BULK_BODY_LIMIT: usize = crate::extract::LARGEST_BODY_LIMIT;

/// Options of a bulk upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BulkQuery {
    /// Submit every enrolment at once instead of leaving drafts (default `false`).
    pub submit: Option<bool>,
}

/// The result of a bulk upload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResult {
    /// How many enrolments were created.
    pub created: usize,
    /// Their ids, in the order of the file's rows.
    pub enrolment_ids: Vec<Uuid>,
    /// How many of the people were new (the others were linked by ID number, PPL-3).
    pub people_created: usize,
}

/// A syntax error of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// The 1-based record (row) where it happened.
    pub row: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits CSV text into records of fields (RFC 4180: comma separator, `"`
/// quoting with `""` for a quote, CRLF/LF/CR record ends). An empty line is a
/// record with one empty field. A file without a final line end is fine.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut quoted = false;
    let mut after_quote = false;
    let mut chars = text.chars().peekable();
    let error = |records: &Vec<Vec<String>>, message: &str| CsvError {
        row: records.len() + 1,
        message: message.to_owned(),
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                    after_quote = true;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted = false;
                after_quote = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                quoted = false;
                after_quote = false;
            }
            '"' if field.is_empty() && !quoted => {
                in_quotes = true;
                quoted = true;
            }
            '"' => {
                return Err(error(
                    &records,
                    "a quote inside a field that does not start with a quote; quote the whole field and double the quote (\"\")",
                ));
            }
            _ if after_quote => {
                return Err(error(
                    &records,
                    "text after the closing quote of a field; a quoted field must end at a comma or the line end",
                ));
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(error(&records, "a quoted field is not closed"));
    }
    if !field.is_empty() || !record.is_empty() || quoted {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// One data row of the file, checked.
#[derive(Debug, Clone)]
struct BulkRow {
    row: usize,
    person: BulkPerson,
}

/// A checked file: the good rows and the problems of the bad ones, by row number.
#[derive(Debug, Default)]
struct CheckedFile {
    rows: Vec<BulkRow>,
    problems: Vec<(usize, FieldProblem)>,
}

/// A problem of one row: `field` is `row N: column` (or `row N`), the row
/// counting the header as row 1.
fn row_problem(
    row: usize,
    column: Option<&str>,
    code: &str,
    message: impl Into<String>,
) -> (usize, FieldProblem) {
    (
        row,
        FieldProblem {
            field: match column {
                Some(c) => format!("row {row}: {c}"),
                None => format!("row {row}"),
            },
            code: code.to_owned(),
            message: message.into(),
        },
    )
}

fn file_problem(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldProblem {
        field: "file".to_owned(),
        code: code.to_owned(),
        message: message.into(),
    }])
}

/// Parses the file into checked rows and the problems of the bad ones.
fn check_file(bytes: &[u8]) -> ApiResult<CheckedFile> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| file_problem("encoding", "the file must be UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = parse_csv(text).map_err(|e| {
        ApiError::Validation(vec![row_problem(e.row, None, "csv_syntax", e.message).1])
    })?;
    let mut records = records.into_iter();
    let header = records.next().ok_or_else(|| {
        file_problem(
            "no_rows",
            "the file is empty; the first row names the columns",
        )
    })?;
    let mut columns: HashMap<&str, usize> = HashMap::new();
    let mut header_errors = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase();
        match BULK_COLUMNS.iter().find(|c| **c == name) {
            Some(c) if columns.insert(*c, i).is_some() => header_errors.push(
                row_problem(
                    1,
                    Some("header"),
                    "duplicate_column",
                    format!("the column {c} appears twice"),
                )
                .1,
            ),
            Some(_) => {}
            None => header_errors.push(
                row_problem(
                    1,
                    Some("header"),
                    "unknown_column",
                    format!(
                        "unknown column {raw:?}; the columns are {}",
                        BULK_COLUMNS.join(", ")
                    ),
                )
                .1,
            ),
        }
    }
    for required in ["name", "gender", "id_number"] {
        if !columns.contains_key(required) {
            header_errors.push(
                row_problem(
                    1,
                    Some("header"),
                    "missing_column",
                    format!("the column {required} is required"),
                )
                .1,
            );
        }
    }
    if !header_errors.is_empty() {
        return Err(ApiError::Validation(header_errors));
    }
    let data: Vec<(usize, Vec<String>)> = records
        .enumerate()
        .map(|(i, r)| (i + 2, r))
        .filter(|(_, r)| r.iter().any(|f| !f.trim().is_empty()))
        .collect();
    if data.is_empty() {
        return Err(file_problem(
            "no_rows",
            "the file has a header but no data rows",
        ));
    }
    if data.len() > BULK_MAX_ROWS {
        return Err(file_problem(
            "too_many_rows",
            format!(
                "the file has {} data rows; at most {BULK_MAX_ROWS} are accepted at once",
                data.len()
            ),
        ));
    }
    let mut rows = Vec::with_capacity(data.len());
    let mut problems = Vec::new();
    for (row, fields) in data {
        if fields.len() != header.len() {
            problems.push(row_problem(
                row,
                None,
                "field_count",
                format!(
                    "the row has {} fields; the header has {}",
                    fields.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let cell = |name: &str| columns.get(name).map_or("", |&i| fields[i].as_str());
        let cells = BulkCells {
            name: cell("name"),
            gender: cell("gender"),
            id_type: cell("id_type"),
            id_number: cell("id_number"),
            phone: cell("phone"),
            category: cell("category"),
        };
        match guild_domain::enrolment::parse_bulk_person(cells) {
            Ok(person) => rows.push(BulkRow { row, person }),
            Err(errors) => problems.extend(
                errors
                    .into_iter()
                    .map(|e| row_problem(row, Some(&e.field), e.code, e.message)),
            ),
        }
    }
    Ok(CheckedFile { rows, problems })
}

/// Checks the rows against the database and writes everything in the
/// caller's transaction, or returns every problem and writes nothing.
fn bulk_in_tx(
    c: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    class_id: &str,
    submit: bool,
    file: CheckedFile,
    tz: chrono_tz::Tz,
) -> ApiResult<BulkResult> {
    let CheckedFile { rows, mut problems } = file;
    let own_org = user
        .organisation_id
        .clone()
        .ok_or_else(ApiError::forbidden)?;
    let class = service::class_of(c, class_id)?;
    check_class_open_for_enrolment(parse_stored("classes", &class.status)?)?;
    let today = local_date(actor.at, tz);
    // PPL-3: the existing people of the file's ID numbers, in batched queries.
    let numbers: Vec<String> = rows.iter().map(|r| r.person.id_number.clone()).collect();
    let existing: HashMap<(String, String), PersonRow> =
        guild_store::enrolments::people_by_id_numbers(c, &numbers)?
            .into_iter()
            .map(|p| ((p.id_type.clone(), p.id_number.clone()), p))
            .collect();
    let live: HashSet<String> = guild_store::enrolments::live_person_ids(c, class_id)?
        .into_iter()
        .collect();
    let known_ids: Vec<String> = existing.values().map(|p| p.id.clone()).collect();
    let mut bans: HashMap<String, Vec<guild_domain::ban::Ban>> = HashMap::new();
    for b in guild_store::bans::current_for_people(c, &known_ids, today)? {
        bans.entry(b.person_id.clone())
            .or_default()
            .push(service::ban_of(&b)?);
    }
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut accepted: Vec<(BulkRow, Option<PersonRow>)> = Vec::with_capacity(rows.len());
    for r in rows {
        let key = (
            r.person.id_type.as_str().to_owned(),
            r.person.id_number.clone(),
        );
        if let Some(first) = seen.get(&key) {
            problems.push(row_problem(
                r.row,
                Some("id_number"),
                "duplicate_in_file",
                format!(
                    "the same person as row {first} (ENR-5: one enrolment per person and class)"
                ),
            ));
            continue;
        }
        seen.insert(key.clone(), r.row);
        let person = existing.get(&key).cloned();
        if let Some(p) = &person {
            if p.organisation_id.as_deref() != Some(own_org.as_str()) {
                problems.push(row_problem(
                    r.row,
                    Some("id_number"),
                    "person_exists_elsewhere",
                    "PPL-3: a person with this ID number is registered with another organisation; \
                     ask the association to move them to yours",
                ));
                continue;
            }
            if live.contains(&p.id) {
                problems.push(row_problem(
                    r.row,
                    Some("id_number"),
                    "already_enrolled",
                    "ENR-5: the person is already enrolled in this class",
                ));
                continue;
            }
            if let Err(refusal) = guild_domain::ban::check_not_banned(
                bans.get(&p.id).map_or(&[][..], Vec::as_slice),
                &class.program_id,
                today,
            ) {
                problems.push(banned_problem(r.row, &refusal));
                continue;
            }
        }
        accepted.push((r, person));
    }
    if !problems.is_empty() {
        problems.sort_by_key(|(row, _)| *row);
        return Err(ApiError::Validation(
            problems.into_iter().map(|(_, p)| p).collect(),
        ));
    }
    let now = actor.at.naive_utc();
    let status = if submit {
        EnrolmentStatus::Submitted
    } else {
        EnrolmentStatus::Draft
    };
    let mut new_people = Vec::new();
    let mut enrolments = Vec::with_capacity(accepted.len());
    let mut names = Vec::with_capacity(accepted.len());
    for (r, person) in accepted {
        let person = match person {
            Some(p) => p,
            None => {
                let p = new_person(r.person, &own_org, &user.id, now);
                new_people.push(p.clone());
                p
            }
        };
        names.push(person.name);
        enrolments.push(EnrolmentRow {
            id: Uuid::now_v7().to_string(),
            class_id: class_id.to_owned(),
            person_id: person.id,
            organisation_id: Some(own_org.clone()),
            channel: Channel::Organisation.as_str().to_owned(),
            status: status.as_str().to_owned(),
            submitted_at: submit.then_some(now),
            org_approved_by: None,
            org_approved_at: None,
            confirmed_by: None,
            confirmed_at: None,
            waitlisted_at: None,
            paid_at: None,
            notified_at: None,
            rejected_by: None,
            rejected_at: None,
            rejection_reason: None,
            transferred_from_id: None,
            created_by: user.id.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        });
    }
    // Multi-row inserts; a unique violation means someone entered the same
    // person or enrolment meanwhile: nothing is written, upload again.
    guild_store::enrolments::insert_people(c, &new_people).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::exists(
                "a person of this file was entered at the same time by someone else; upload the file again",
            )
        } else {
            e.into()
        }
    })?;
    guild_store::enrolments::insert_many(c, &enrolments).map_err(|e| {
        if e.is_unique_violation() {
            ApiError::Refused(already_enrolled("entered at the same time by someone else"))
        } else {
            e.into()
        }
    })?;
    for p in &new_people {
        audit_person(c, actor, p)?;
    }
    let mut result = BulkResult {
        created: enrolments.len(),
        enrolment_ids: Vec::with_capacity(enrolments.len()),
        people_created: new_people.len(),
    };
    for (row, name) in enrolments.into_iter().zip(names) {
        let view = EnrolmentView::from_row(row, name, None)?;
        actor.ctx().emit(
            c,
            guild_app::enrolments::event(guild_app::events::kinds::ENROLMENT_CREATED, None, &view)?,
        )?;
        result.enrolment_ids.push(view.id);
    }
    Ok(result)
}

fn banned_problem(row: usize, refusal: &Refusal) -> (usize, FieldProblem) {
    row_problem(
        row,
        Some("id_number"),
        refusal.code,
        format!("ENR-4: {}", refusal.detail),
    )
}

fn new_person(p: BulkPerson, org: &str, by: &str, now: chrono::NaiveDateTime) -> PersonRow {
    PersonRow {
        id: Uuid::now_v7().to_string(),
        name: p.name,
        gender: p.gender.as_str().to_owned(),
        id_type: p.id_type.as_str().to_owned(),
        id_number: p.id_number,
        phone: p.phone,
        organisation_id: Some(org.to_owned()),
        category: p.category.map(|c| c.as_str().to_owned()),
        occupation: None,
        skill_level: None,
        skill_certificate_number: None,
        skill_certificate_issued_on: None,
        version: 1,
        created_by: Some(by.to_owned()),
        created_at: now,
        updated_at: now,
    }
}

/// Audits a person created by the upload, masked as organisations read it (PPL-3).
fn audit_person(c: &mut DbConn, actor: &Actor<'_>, row: &PersonRow) -> ApiResult<()> {
    let view = PersonView::for_caller(row.clone(), None)?;
    audit::record::<(), _>(
        c,
        actor,
        Change {
            action: "person.create",
            entity_type: "person",
            entity_id: &row.id,
            organisation_id: row.organisation_id.as_deref(),
            before: None,
            after: Some(&view),
        },
    )
}

/// Reads the body up to [`BULK_BODY_LIMIT`] bytes (413 beyond).
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> ApiResult<Vec<u8>> {
    let too_large = || {
        ApiError::http(
            ErrorCode::PayloadTooLarge,
            format!("the file may be at most {BULK_BODY_LIMIT} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BULK_BODY_LIMIT) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| file_problem("unreadable", format!("the file could not be read: {e}")))?;
        if body.len() + chunk.len() > BULK_BODY_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Enrol many people of the caller's organisation in a class from a CSV file
/// (ENR-1; organisation filler or reviewer). The whole file is checked first:
/// every bad row is reported in `errors` with its row number (the header is
/// row 1) as `row N: column`, and then nothing is written. Otherwise every row
/// is written in one transaction: a row links to the organisation's existing
/// person with that ID number or creates one (PPL-3); a person of another
/// organisation, a duplicate inside the file, a person already enrolled
/// (ENR-5) or banned (ENR-4) is a row error. At most 5,000 rows and 2 MiB.
#[utoipa::path(
    operation_id = "bulk_enrol_class",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Class id"), BulkQuery),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "UTF-8 CSV (RFC 4180), header `name,gender,id_type,id_number,phone,category`, at most 5,000 data rows and 2 MiB",
        example = "name,gender,id_type,id_number,phone,category\n张三,male,resident_id,11010519491231002X,13800138000,operations_staff\n"
    ),
    responses((status = 201, description = "Every row enrolled", body = BulkResult), CreateErrors)
)]
#[post("/classes/{id}/enrolments/bulk")]
pub async fn bulk_enrol(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<BulkQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::OrgFiller, Role::OrgReviewer])?;
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(ApiError::http(
            ErrorCode::UnsupportedMediaType,
            "send the file as text/csv",
        ));
    }
    let body = read_body(&req, payload).await?;
    let submit = q.into_inner().submit.unwrap_or(false);
    let class_id = id.into_inner().to_string();
    let result = state
        .run(move |s| {
            let file = check_file(&body)?;
            let now = s.clock.now();
            let tz = s.config.time_zone;
            s.store.write(|c| {
                bulk_in_tx(
                    c,
                    &Actor::new(&user, &ctx, now),
                    &user,
                    &class_id,
                    submit,
                    file,
                    tz,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn plain_records_with_lf_crlf_and_no_final_newline() {
        assert_eq!(
            parse_csv("a,b\r\nc,d\ne,f").unwrap(),
            vec![rec(&["a", "b"]), rec(&["c", "d"]), rec(&["e", "f"])]
        );
        assert_eq!(parse_csv("a,b\n").unwrap(), vec![rec(&["a", "b"])]);
        assert_eq!(parse_csv("").unwrap(), Vec::<Vec<String>>::new());
        assert_eq!(parse_csv("a,,\n").unwrap(), vec![rec(&["a", "", ""])]);
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        assert_eq!(
            parse_csv("\"Wang, Wu\",\"say \"\"hi\"\"\",\"two\nlines\"\nx,y\n").unwrap(),
            vec![
                rec(&["Wang, Wu", "say \"hi\"", "two\nlines"]),
                rec(&["x", "y"])
            ]
        );
        assert_eq!(parse_csv("\"\",a").unwrap(), vec![rec(&["", "a"])]);
        assert_eq!(parse_csv("\"\"").unwrap(), vec![rec(&[""])]);
    }

    #[test]
    fn blank_lines_are_records_so_rows_keep_their_numbers() {
        assert_eq!(
            parse_csv("h\n\nx\n").unwrap(),
            vec![rec(&["h"]), rec(&[""]), rec(&["x"])]
        );
    }

    #[test]
    fn syntax_errors_name_the_row() {
        let e = parse_csv("a,b\nc,\"open\n").unwrap_err();
        assert_eq!(e.row, 2);
        let e = parse_csv("a\nb\"c\n").unwrap_err();
        assert_eq!(e.row, 2);
        assert!(e.message.contains("quote"));
        let e = parse_csv("a\n\"q\"x\n").unwrap_err();
        assert_eq!(e.row, 2);
    }

    #[test]
    fn utf8_and_bom_are_handled() {
        let file = "\u{feff}name,gender,id_number\n张三,male,11010519491231002X\n";
        let checked = check_file(file.as_bytes()).unwrap();
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
        assert_eq!(checked.rows.len(), 1);
        assert_eq!(checked.rows[0].row, 2);
        assert_eq!(checked.rows[0].person.name, "张三");
        let err = check_file(&[0xff, 0xfe, 0x00]).unwrap_err();
        assert_eq!(err.problem().errors.unwrap()[0].code, "encoding");
    }

    #[test]
    fn header_must_name_the_columns() {
        let err = check_file(b"name,sex,id_number\n").unwrap_err();
        let fields: Vec<String> = err
            .problem()
            .errors
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.field, e.code))
            .collect();
        assert_eq!(
            fields,
            [
                "row 1: header unknown_column",
                "row 1: header missing_column"
            ]
        );
        let err = check_file(b"name,gender,id_number\n\n").unwrap_err();
        assert_eq!(err.problem().errors.unwrap()[0].code, "no_rows");
    }

    #[test]
    fn bad_rows_are_reported_with_spreadsheet_row_numbers() {
        let file = "name,gender,id_type,id_number,phone,category\n\
                    A,male,,11010519491231002X,,\n\
                    \n\
                    B,x,,11010519491231002X,,\n\
                    C,female\n";
        let checked = check_file(file.as_bytes()).unwrap();
        assert_eq!(checked.rows.len(), 1);
        let got: Vec<_> = checked
            .problems
            .iter()
            .map(|(row, p)| (*row, p.field.as_str(), p.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (4, "row 4: gender", "unknown_value"),
                (5, "row 5", "field_count")
            ]
        );
    }

    #[test]
    fn more_than_5000_rows_are_refused() {
        let mut file = String::from("name,gender,id_number\n");
        for _ in 0..=BULK_MAX_ROWS {
            file.push_str("A,male,11010519491231002X\n");
        }
        let err = check_file(file.as_bytes()).unwrap_err();
        assert_eq!(err.problem().errors.unwrap()[0].code, "too_many_rows");
    }
}
