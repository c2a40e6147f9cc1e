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

use chrono::{NaiveDate, NaiveDateTime};

use guild_domain::enrolment::{
    BULK_COLUMNS, BULK_MAX_ROWS, BulkCells, BulkPerson, Channel, EnrolmentStatus, already_enrolled,
    check_class_open_for_enrolment,
};
use guild_domain::{FieldError, Refusal};
use guild_store::DbConn;
use guild_store::enrolments::EnrolmentRow;
use guild_store::people::PersonRow;
use serde::Serialize;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::enrolments::{EnrolmentView, ban_of, class_of};
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::Event;
use crate::events::kinds as ev;

/// The result of a bulk upload.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
pub struct BulkRow {
    row: usize,
    person: BulkPerson,
}

/// A checked file: the good rows and the problems of the bad ones, by row number.
#[derive(Debug, Default)]
pub struct CheckedFile {
    rows: Vec<BulkRow>,
    problems: Vec<(usize, FieldError)>,
}

/// A problem of one row: `field` is `row N: column` (or `row N`), the row
/// counting the header as row 1.
fn row_problem(
    row: usize,
    column: Option<&str>,
    code: &'static str,
    message: impl Into<String>,
) -> (usize, FieldError) {
    let field = match column {
        Some(c) => format!("row {row}: {c}"),
        None => format!("row {row}"),
    };
    (row, FieldError::new(field, code, message))
}

/// A problem of the whole file (422 on the field `file`).
pub fn file_problem(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::field("file", code, message)
}

/// Parses the file into checked rows and the problems of the bad ones.
pub fn check_file(bytes: &[u8]) -> AppResult<CheckedFile> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| file_problem("encoding", "the file must be UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = parse_csv(text).map_err(|e| {
        AppError::Invalid(vec![row_problem(e.row, None, "csv_syntax", e.message).1])
    })?;
    let mut records = records.into_iter();
    let header = records.next().ok_or_else(|| {
        file_problem(
            "no_rows",
            "the file is empty; the first row names the columns",
        )
    })?;
    let columns = check_header(&header)?;
    let data = data_rows(records)?;
    let mut rows = Vec::with_capacity(data.len());
    let mut problems = Vec::new();
    for (row, fields) in data {
        match check_row(row, &fields, &columns, header.len()) {
            Ok(person) => rows.push(BulkRow { row, person }),
            Err(errors) => problems.extend(errors),
        }
    }
    Ok(CheckedFile { rows, problems })
}

/// The position of each known column in the header row; every column must
/// be known, none twice, and the required ones present.
fn check_header(header: &[String]) -> AppResult<HashMap<&'static str, usize>> {
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    let mut errors = Vec::new();
    let mut problem = |code, message| errors.push(row_problem(1, Some("header"), code, message).1);
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase();
        match BULK_COLUMNS.iter().find(|c| **c == name) {
            Some(c) if columns.insert(*c, i).is_some() => {
                problem("duplicate_column", format!("the column {c} appears twice"));
            }
            Some(_) => {}
            None => problem(
                "unknown_column",
                format!(
                    "unknown column {raw:?}; the columns are {}",
                    BULK_COLUMNS.join(", ")
                ),
            ),
        }
    }
    for required in ["name", "gender", "id_number"] {
        if !columns.contains_key(required) {
            problem(
                "missing_column",
                format!("the column {required} is required"),
            );
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The data rows after the header, numbered as the file counts them (the
/// header is row 1), blank rows left out: at least one, at most
/// [`BULK_MAX_ROWS`].
fn data_rows(records: impl Iterator<Item = Vec<String>>) -> AppResult<Vec<(usize, Vec<String>)>> {
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
    Ok(data)
}

/// The person of data row `row`, or its problems.
fn check_row(
    row: usize,
    fields: &[String],
    columns: &HashMap<&'static str, usize>,
    width: usize,
) -> Result<BulkPerson, Vec<(usize, FieldError)>> {
    if fields.len() != width {
        return Err(vec![row_problem(
            row,
            None,
            "field_count",
            format!(
                "the row has {} fields; the header has {width}",
                fields.len()
            ),
        )]);
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
    guild_domain::enrolment::parse_bulk_person(cells).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| row_problem(row, Some(&e.field), e.code, e.message))
            .collect()
    })
}

/// What the database knows of a file's people (PPL-3, ENR-4, ENR-5), loaded
/// in batched queries.
struct Known {
    /// The existing people of the file's ID numbers, by (type, number).
    people: HashMap<(String, String), PersonRow>,
    /// The people already enrolled (live) in the class.
    live: HashSet<String>,
    /// The bans in force today of the existing people.
    bans: HashMap<String, Vec<guild_domain::ban::Ban>>,
}

impl Known {
    fn load(
        conn: &mut DbConn,
        class_id: &str,
        rows: &[BulkRow],
        today: NaiveDate,
    ) -> AppResult<Known> {
        let numbers: Vec<String> = rows.iter().map(|r| r.person.id_number.clone()).collect();
        let people: HashMap<(String, String), PersonRow> =
            guild_store::enrolments::people_by_id_numbers(conn, &numbers)?
                .into_iter()
                .map(|p| ((p.id_type.clone(), p.id_number.clone()), p))
                .collect();
        let live = guild_store::enrolments::live_person_ids(conn, class_id)?
            .into_iter()
            .collect();
        let ids: Vec<String> = people.values().map(|p| p.id.clone()).collect();
        let mut bans: HashMap<String, Vec<guild_domain::ban::Ban>> = HashMap::new();
        for b in guild_store::bans::current_for_people(conn, &ids, today)? {
            bans.entry(b.person_id.clone())
                .or_default()
                .push(ban_of(&b)?);
        }
        Ok(Known { people, live, bans })
    }

    /// Why the existing person `p` cannot be enrolled from organisation
    /// `own_org` in a class of `program_id`, if they cannot.
    fn refuse(
        &self,
        p: &PersonRow,
        own_org: &str,
        program_id: &str,
        today: NaiveDate,
    ) -> Option<(&'static str, String)> {
        if p.organisation_id.as_deref() != Some(own_org) {
            return Some((
                "person_exists_elsewhere",
                "PPL-3: a person with this ID number is registered with another organisation; \
                 ask the association to move them to yours"
                    .to_owned(),
            ));
        }
        if self.live.contains(&p.id) {
            return Some((
                "already_enrolled",
                "ENR-5: the person is already enrolled in this class".to_owned(),
            ));
        }
        let bans = self.bans.get(&p.id).map_or(&[][..], Vec::as_slice);
        guild_domain::ban::check_not_banned(bans, program_id, today)
            .err()
            .map(|refusal: Refusal| (refusal.code, format!("ENR-4: {}", refusal.detail)))
    }
}

/// The rows that can be enrolled, each with its existing person if any; or
/// every problem of the file, sorted by row.
fn accept(
    rows: Vec<BulkRow>,
    mut problems: Vec<(usize, FieldError)>,
    known: &Known,
    own_org: &str,
    program_id: &str,
    today: NaiveDate,
) -> AppResult<Vec<(BulkRow, Option<PersonRow>)>> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut accepted = Vec::with_capacity(rows.len());
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
        let person = known.people.get(&key).cloned();
        if let Some((code, message)) = person
            .as_ref()
            .and_then(|p| known.refuse(p, own_org, program_id, today))
        {
            problems.push(row_problem(r.row, Some("id_number"), code, message));
            continue;
        }
        accepted.push((r, person));
    }
    if problems.is_empty() {
        Ok(accepted)
    } else {
        problems.sort_by_key(|(row, _)| *row);
        Err(AppError::Invalid(
            problems.into_iter().map(|(_, p)| p).collect(),
        ))
    }
}

/// Enrols the checked rows of a file in class `class_id` for the caller's
/// organisation (ENR-1): checks them against the database and writes
/// everything in the caller's transaction, or returns every problem and writes
/// nothing.
pub fn enrol(
    ctx: &Ctx,
    conn: &mut DbConn,
    class_id: Uuid,
    submit: bool,
    file: CheckedFile,
) -> AppResult<BulkResult> {
    let CheckedFile { rows, problems } = file;
    let caller = ctx.caller()?;
    let own_org = caller.organisation_id.clone().ok_or(AppError::Forbidden)?;
    let class_id = class_id.to_string();
    let class = class_of(conn, &class_id)?;
    check_class_open_for_enrolment(stored("classes", &class.status)?)?;
    let today = ctx.today();
    let known = Known::load(conn, &class_id, &rows, today)?;
    let accepted = accept(rows, problems, &known, &own_org, &class.program_id, today)?;
    let status = if submit {
        EnrolmentStatus::Submitted
    } else {
        EnrolmentStatus::Draft
    };
    let now = ctx.now.naive_utc();
    let mut new_people = Vec::new();
    let mut enrolments = Vec::with_capacity(accepted.len());
    for (r, person) in accepted {
        let person = match person {
            Some(p) => p,
            None => {
                let p = new_person(r.person, &own_org, &caller.id, now);
                new_people.push(p.clone());
                p
            }
        };
        let row = new_enrolment(&class_id, &own_org, &caller.id, status, now);
        enrolments.push((
            EnrolmentRow {
                person_id: person.id,
                ..row
            },
            person.name,
        ));
    }
    write(ctx, conn, &new_people, enrolments)
}

/// Writes the people and enrolments of an accepted file with multi-row
/// inserts and emits their events. A unique violation means someone entered
/// the same person or enrolment meanwhile: nothing is written, upload again.
fn write(
    ctx: &Ctx,
    conn: &mut DbConn,
    new_people: &[PersonRow],
    enrolments: Vec<(EnrolmentRow, String)>,
) -> AppResult<BulkResult> {
    crate::people::insert(
        conn,
        new_people,
        "a person of this file was entered at the same time by someone else; upload the file again",
    )?;
    let rows: Vec<EnrolmentRow> = enrolments.iter().map(|(r, _)| r.clone()).collect();
    guild_store::enrolments::insert_many(conn, &rows).or_taken(|| {
        AppError::Refused(already_enrolled("entered at the same time by someone else"))
    })?;
    for p in new_people {
        ctx.emit(conn, crate::people::event(ev::PERSON_CREATED, None, p)?)?;
    }
    let mut result = BulkResult {
        created: enrolments.len(),
        enrolment_ids: Vec::with_capacity(enrolments.len()),
        people_created: new_people.len(),
    };
    for (row, name) in enrolments {
        let view = EnrolmentView::from_row(row, name, None)?;
        ctx.emit(conn, Event::change(ev::ENROLMENT_CREATED, None, &view)?)?;
        result.enrolment_ids.push(view.id);
    }
    Ok(result)
}

/// A new enrolment of the caller's organisation (its person is set by the caller).
fn new_enrolment(
    class_id: &str,
    org: &str,
    by: &str,
    status: EnrolmentStatus,
    now: NaiveDateTime,
) -> EnrolmentRow {
    EnrolmentRow {
        id: Uuid::now_v7().to_string(),
        class_id: class_id.to_owned(),
        person_id: String::new(),
        organisation_id: Some(org.to_owned()),
        channel: Channel::Organisation.as_str().to_owned(),
        status: status.as_str().to_owned(),
        submitted_at: (status == EnrolmentStatus::Submitted).then_some(now),
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
        created_by: by.to_owned(),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn new_person(p: BulkPerson, org: &str, by: &str, now: NaiveDateTime) -> PersonRow {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(e: AppError) -> Vec<FieldError> {
        match e {
            AppError::Invalid(fields) => fields,
            other => panic!("not a validation error: {other:?}"),
        }
    }

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
        assert_eq!(invalid(err)[0].code, "encoding");
    }

    #[test]
    fn header_must_name_the_columns() {
        let err = check_file(b"name,sex,id_number\n").unwrap_err();
        let fields: Vec<String> = invalid(err)
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
        assert_eq!(invalid(err)[0].code, "no_rows");
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
            .map(|(row, p)| (*row, p.field.as_str(), p.code))
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
        assert_eq!(invalid(err)[0].code, "too_many_rows");
    }
}
