//! Class archives and the working-day calendar over HTTP (ARC-1, ARC-2):
//! publishing results opens the archive, the three generated sheets as CSV,
//! attaching and completing, and the due date on the calendar (holidays and
//! make-up working days) in Asia/Shanghai.

use guild_tests::{Method, Resp, TestApp, backend_tests, masked, valid_id_number};
use serde_json::{Value, json};

use crate::attendance::record;
use crate::certificates::{Graduates, graduates};
use crate::classes::shanghai;

/// The archive of the graduates' class, as the training officer lists it.
pub fn archive_of(app: &TestApp, g: &Graduates) -> Value {
    let r = app.get(
        &format!("/api/v1/archives?class_id={}", g.c.class),
        Some(&g.c.s.officer),
    );
    r.assert_status(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:#}", r.body);
    items[0].clone()
}

/// A class with published results (10 April 2026, a Friday) and its open
/// archive: the fixture for archive ids (`/archives/{id}`). Archives are
/// association-internal: organisation users get 403 for every id.
pub fn archived(app: &TestApp, code: &str) -> (Graduates, String) {
    let g = graduates(app, code);
    let id = archive_of(app, &g)["id"].as_str().unwrap().to_owned();
    (g, id)
}

fn archive(app: &TestApp, token: &str, id: &str) -> Resp {
    app.get(&format!("/api/v1/archives/{id}"), Some(token))
}

fn put(app: &TestApp, path: &str, token: &str, body: Value, headers: &[(&str, &str)]) -> Resp {
    app.request(Method::PUT, path, Some(token), Some(&body), headers)
}

fn attach(app: &TestApp, token: &str, id: &str, kind: &str, reference: &str) -> Resp {
    put(
        app,
        &format!("/api/v1/archives/{id}/documents/{kind}"),
        token,
        json!({"reference": reference}),
        &[],
    )
}

fn set_day(app: &TestApp, token: &str, date: &str, kind: &str, name: &str) -> Resp {
    put(
        app,
        &format!("/api/v1/archives/calendar/{date}"),
        token,
        json!({"kind": kind, "name": name}),
        &[],
    )
}

fn complete(app: &TestApp, token: &str, id: &str) -> Resp {
    app.post(
        &format!("/api/v1/archives/{id}/complete"),
        Some(token),
        json!({}),
    )
}

/// The ids of the archives `GET /archives?{query}` lists for `token`.
fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/archives?{query}"), Some(token));
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A generated document as text (without its byte-order mark), after
/// checking it is UTF-8 CSV offered as a download.
fn csv(app: &TestApp, token: &str, id: &str, kind: &str) -> Vec<Vec<String>> {
    let r = app.get(
        &format!("/api/v1/archives/{id}/documents/{kind}"),
        Some(token),
    );
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .starts_with("text/csv; charset=utf-8"),
        "{:?}",
        r.headers
    );
    assert!(
        r.header("content-disposition")
            .starts_with("attachment; filename="),
        "{:?}",
        r.headers
    );
    assert!(
        r.header("content-disposition")
            .contains(&format!("{kind}.csv"))
    );
    let text = r
        .body
        .as_str()
        .unwrap_or_else(|| panic!("not text: {:#}", r.body));
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark");
    for n in 1..=3 {
        let id_number = valid_id_number(n);
        assert!(
            !text.contains(&id_number) && !text.contains(&masked(&id_number)),
            "{text}"
        );
    }
    assert!(text.ends_with("\r\n"), "{text:?}");
    // The test data holds no quotes or commas inside fields.
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn row_of<'a>(rows: &'a [Vec<String>], name: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r.iter().any(|f| f == name))
        .unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
}

backend_tests! {
    // rule ARC-1, ARC-2: publishing results opens the archive with its six
    // documents; due on the 5th working day after Friday 10 April: Friday 17 April
    fn publishing_results_opens_the_archive(app: TestApp) {
        let g = graduates(&app, "ARC-OPEN");
        let a = archive_of(&app, &g);
        assert_eq!(a["class_id"], json!(g.c.class));
        assert_eq!(a["class_code"], "ARC-OPEN-01");
        assert_eq!(a["status"], "open");
        assert_eq!(a["allowed_actions"], json!(["attach_document", "complete"]));
        assert_eq!(a["results_published_at"], "2026-04-10T02:00:00Z");
        assert_eq!(a["published_on"], "2026-04-10");
        assert_eq!(a["due_on"], "2026-04-17");
        assert_eq!(a["overdue"], false);
        assert_eq!(a["days_overdue"], 0);
        assert_eq!(a["completed_late"], Value::Null);
        assert_eq!(a["version"], 1);
        let kinds: Vec<&str> = a["documents"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["training_agreement", "class_notice", "timetable", "attendance_sheet", "grade_sheet", "certificate_receipt_sheet"]);
        for d in a["documents"].as_array().unwrap() {
            let generated = d["generated"].as_bool().unwrap();
            assert_eq!(d["present"], json!(generated), "{d:#}");
            assert_eq!(d["download_path"].is_string(), generated, "{d:#}");
        }
        assert_eq!(a["documents"][4]["title"], "考核成绩表");
        assert_eq!(a["missing_documents"], json!(["training_agreement", "class_notice", "timetable"]));
        let id = a["id"].as_str().unwrap();
        let one = archive(&app, &g.c.s.head, id);
        one.assert_status(200);
        assert_eq!(one.header("etag"), "\"1\"");
        assert_eq!(one.body["due_on"], "2026-04-17");
        // The opening is audited.
        let events = app.get(&format!("/api/v1/audit-events?entity_type=archive&entity_id={id}"), Some(&g.c.s.admin));
        events.assert_status(200);
        assert_eq!(events.body["items"][0]["action"], "archive.open", "{:#}", events.body);
        // Publishing again without new results is refused and opens nothing new.
        app.post(&format!("/api/v1/classes/{}/results/publish", g.c.class), Some(&g.c.s.officer), json!({}))
            .assert_status(409);
        // Cleo's retake is published on 20 April: the clock keeps running from
        // the first publication, so the deadline cannot be reset.
        let mut g = g;
        g.c.at(&app, shanghai(2026, 4, 20, 10, 0));
        let r = app.post("/api/v1/sittings", Some(&g.c.s.officer), json!({"class_id": g.c.class, "kind": "retake", "held_on": "2026-04-20", "starts_at": "09:00", "place": "Exam hall 2"}));
        r.assert_status(201);
        let retake = r.id();
        let r = app.post(&format!("/api/v1/sittings/{retake}/registrations"), Some(&g.c.s.officer), json!({"enrolment_ids": [g.cleo.1]}));
        r.assert_status(201);
        let reg = r.body["registered"][0]["id"].clone();
        app.post(&format!("/api/v1/sittings/{retake}/results"), Some(&g.c.s.officer), json!({"results": [{"registration_id": reg, "theory_score": 80, "practical_score": 80}]}))
            .assert_status(200);
        app.post(&format!("/api/v1/classes/{}/results/publish", g.c.class), Some(&g.c.s.officer), json!({}))
            .assert_status(200);
        let again = archive_of(&app, &g);
        assert_eq!(again["id"], json!(id));
        assert_eq!(again["results_published_at"], "2026-04-10T02:00:00Z");
        assert_eq!(again["due_on"], "2026-04-17");
        assert_eq!(again["overdue"], true);
        assert_eq!(again["days_overdue"], 3);
        assert_eq!(again["version"], 1);
        // The grade sheet holds both attempts of Cleo.
        let grades = csv(&app, &g.c.s.officer, id, "grade_sheet");
        let cleo: Vec<&Vec<String>> = grades.iter().filter(|r| r[4] == "Chen Le").collect();
        assert_eq!(cleo.len(), 2, "{grades:?}");
        assert_eq!(cleo[1][..3], ["retake", "2026-04-20", "2"]);
        assert_eq!(cleo[1][7..], ["80", "80", "true", "true"]);
    }

    // rule ARC-1: the attendance sheet, grade sheet and certificate receipt
    // sheet are generated as CSV from the class's records, without ID numbers
    fn the_generated_documents_are_csv(app: TestApp) {
        let (g, id) = archived(&app, "ARC-CSV");
        let (ann, bob, cleo) = (&g.ann.1, &g.bob.1, &g.cleo.1);
        record(&app, &g.c.head, &g.c.class, &g.c.sessions[0], json!([
            {"enrolment_id": ann, "status": "present"},
            {"enrolment_id": bob, "status": "absent"},
            {"enrolment_id": cleo, "status": "present"}
        ])).assert_status(200);
        record(&app, &g.c.head, &g.c.class, &g.c.sessions[1], json!([
            {"enrolment_id": ann, "status": "present"}
        ])).assert_status(200);

        let sheet = csv(&app, &g.c.s.officer, &id, "attendance_sheet");
        assert_eq!(
            sheet[0],
            ["enrolment_id", "person_name", "organisation", "2026-04-06 09:00-12:00 Rules", "2026-04-07 09:00-12:00 Equipment", "2026-04-08 09:00-12:00 Practice", "present", "excused", "absent", "not_recorded", "eligible_by_attendance"]
        );
        assert_eq!(sheet.len(), 4, "{sheet:?}");
        let ann_row = row_of(&sheet, "Zhang Anna");
        assert_eq!(ann_row[0], *ann);
        assert_eq!(ann_row[3..], ["present", "present", "", "2", "0", "0", "1", "true"]);
        assert_eq!(row_of(&sheet, "Li Bo")[3..], ["absent", "", "", "0", "0", "1", "2", "true"]);

        let grades = csv(&app, &g.c.s.officer, &id, "grade_sheet");
        assert_eq!(
            grades[0],
            ["sitting_kind", "held_on", "attempt", "enrolment_id", "person_name", "organisation", "status", "theory_score", "practical_score", "passed", "published"]
        );
        assert_eq!(grades.len(), 4, "{grades:?}");
        let ann_grade = row_of(&grades, "Zhang Anna");
        assert_eq!(ann_grade[..3], ["first", "2026-04-09", "1"]);
        assert_eq!(ann_grade[3], *ann);
        assert_eq!(ann_grade[7..], ["90", "90", "true", "true"]);
        assert_eq!(row_of(&grades, "Li Bo")[7..], ["60", "70", "true", "true"]);
        assert_eq!(row_of(&grades, "Chen Le")[7..], ["40", "50", "false", "true"]);
        let org_name = &ann_grade[5];
        assert_eq!(org_name, "Organisation acme");
        assert_eq!(&ann_row[2], org_name);

        let header = ["certificate_number", "holder_name", "organisation", "issued_on", "valid_until", "received_on", "signature"];
        let receipts = csv(&app, &g.c.s.officer, &id, "certificate_receipt_sheet");
        assert_eq!(receipts, vec![header.map(str::to_owned).to_vec()]);
        // Once certificates are issued (CRT-1), they are on the receipt sheet
        // with empty columns for the holder's date and signature.
        let issued = app.post(&format!("/api/v1/classes/{}/certificates", g.c.class), Some(&g.c.s.officer), json!({}));
        issued.assert_status(201);
        let numbers: Vec<String> = issued.body["issued"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap().to_owned()).collect();
        assert_eq!(numbers.len(), 2, "{:#}", issued.body);
        let receipts = csv(&app, &g.c.s.officer, &id, "certificate_receipt_sheet");
        assert_eq!(receipts.len(), 3, "{receipts:?}");
        let ann_receipt = row_of(&receipts, "Zhang Anna");
        assert!(numbers.contains(&ann_receipt[0]), "{ann_receipt:?}");
        assert_eq!(ann_receipt[2], *org_name);
        assert_eq!(ann_receipt[3], "2026-04-10");
        assert_eq!(ann_receipt[5..], ["", ""]);
        assert!(receipts.iter().all(|r| r[1] != "Chen Le"), "Cleo failed: {receipts:?}");
        // The attached kinds are not generated: there is nothing to download.
        let r = app.get(&format!("/api/v1/archives/{id}/documents/training_agreement"), Some(&g.c.s.officer));
        assert!(r.status == 404 || r.status == 405, "{} {:#}", r.status, r.body);
        app.get(&format!("/api/v1/archives/{}/documents/grade_sheet", uuid::Uuid::now_v7()), Some(&g.c.s.officer))
            .assert_problem(404, "not_found");
    }

    // rule ARC-1: the officer attaches the three other documents by reference;
    // completion is refused while one is missing, naming it; a completed file is final
    fn documents_are_attached_and_the_archive_completed(app: TestApp) {
        let (g, id) = archived(&app, "ARC-DONE");
        let officer = &g.c.s.officer;
        let r = complete(&app, officer, &id);
        r.assert_rule(422, "archive_documents_missing", "ARC-1");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("training_agreement, class_notice, timetable"), "{detail}");

        let r = attach(&app, officer, &id, "training_agreement", "AGR-2026-0042");
        r.assert_status(200);
        assert_eq!(r.header("etag"), "\"2\"");
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["documents"][0]["reference"], "AGR-2026-0042");
        assert_eq!(r.body["documents"][0]["present"], true);
        assert!(r.body["documents"][0]["attached_by"].is_string());
        assert_eq!(r.body["missing_documents"], json!(["class_notice", "timetable"]));

        // Generated kinds are not attached; unknown kinds are not kinds.
        attach(&app, officer, &id, "grade_sheet", "X-1").assert_rule(422, "document_generated", "ARC-1");
        attach(&app, officer, &id, "minutes", "X-1").assert_problem(400, "invalid_path_parameter");
        let r = attach(&app, officer, &id, "class_notice", "   ");
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["reference"]);
        // A stale If-Match changes nothing (API-5).
        put(&app, &format!("/api/v1/archives/{id}/documents/class_notice"), officer, json!({"reference": "N-1"}), &[("If-Match", "\"1\"")])
            .assert_problem(412, "version_mismatch");

        // Replacing a reference keeps one document of the kind.
        let r = put(&app, &format!("/api/v1/archives/{id}/documents/training_agreement"), officer, json!({"reference": "AGR-2026-0043", "note": "signed copy"}), &[("If-Match", "\"2\"")]);
        r.assert_status(200);
        assert_eq!(r.body["documents"][0]["reference"], "AGR-2026-0043");
        assert_eq!(r.body["documents"][0]["note"], "signed copy");

        attach(&app, officer, &id, "class_notice", "NOTICE-2026-17").assert_status(200);
        let r = complete(&app, officer, &id);
        r.assert_rule(422, "archive_documents_missing", "ARC-1");
        assert!(r.body["detail"].as_str().unwrap().ends_with("timetable"), "{:#}", r.body);
        assert_eq!(archive(&app, officer, &id).body["version"], 4, "a refusal changes nothing");

        attach(&app, officer, &id, "timetable", "TT-ARC-DONE").assert_status(200);
        let me = app.get("/api/v1/me", Some(officer));
        let with_version = |v: &str| app.request(Method::POST, &format!("/api/v1/archives/{id}/complete"), Some(officer), Some(&json!({})), &[("If-Match", v)]);
        with_version("\"4\"").assert_problem(412, "version_mismatch");
        let r = with_version("\"5\"");
        r.assert_status(200);
        assert_eq!(r.body["status"], "completed");
        assert_eq!(r.body["allowed_actions"], json!([]));
        assert_eq!(r.body["missing_documents"], json!([]));
        assert_eq!(r.body["completed_late"], false);
        assert_eq!(r.body["days_overdue"], 0);
        assert_eq!(r.body["completed_at"], "2026-04-10T02:00:00Z");
        assert_eq!(r.body["completed_by"], me.body["id"]);

        // Final: no more documents, no second completion (API-4).
        let r = attach(&app, officer, &id, "timetable", "TT-2");
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!([]));
        complete(&app, officer, &id).assert_problem(409, "invalid_transition");
        assert_eq!(listed(&app, officer, "status=completed"), vec![id.clone()]);
        assert!(listed(&app, officer, "status=open").is_empty());

        let events = app.get(&format!("/api/v1/audit-events?entity_type=archive&entity_id={id}"), Some(&g.c.s.admin));
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "archive.attach_document").count(), 4, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "archive.complete").count(), 1, "{actions:?}");
        // Each change wrote its outbox row (API-8), about no organisation.
        let outbox = app.outbox("archive", &id);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["archive.opened", "archive.document_attached", "archive.document_attached", "archive.document_attached", "archive.document_attached", "archive.completed"]);
        assert!(outbox.iter().all(|e| e.organisation_id.is_none()), "{outbox:?}");
    }

    // rule ARC-2: a public holiday in the window moves the due date by a working
    // day (over the weekend), a make-up Saturday counts, in Asia/Shanghai
    fn an_archive_is_overdue_later_across_a_public_holiday(app: TestApp) {
        let (mut g, id) = archived(&app, "ARC-LATE");
        // Due Friday 17 April: in time until its last minute.
        g.c.at(&app, shanghai(2026, 4, 17, 23, 59));
        assert!(listed(&app, &g.c.s.head, "overdue=true").is_empty());
        assert_eq!(listed(&app, &g.c.s.head, "overdue=false"), vec![id.clone()]);
        // Saturday 18 April 00:00 in Shanghai (still 17 April in UTC): overdue.
        g.c.at(&app, shanghai(2026, 4, 18, 0, 0));
        assert_eq!(listed(&app, &g.c.s.head, "overdue=true"), vec![id.clone()]);
        assert!(listed(&app, &g.c.s.head, "overdue=false").is_empty());
        let a = archive(&app, &g.c.s.head, &id).body;
        assert_eq!((a["overdue"].clone(), a["days_overdue"].clone()), (json!(true), json!(1)));

        // A public holiday on Tuesday 14 April: due Monday 20 April instead.
        let r = set_day(&app, &g.c.s.head, "2026-04-14", "holiday", "Association holiday");
        r.assert_status(201);
        assert_eq!(r.body["date"], "2026-04-14");
        assert_eq!(r.body["kind"], "holiday");
        assert!(listed(&app, &g.c.s.head, "overdue=true").is_empty());
        let a = archive(&app, &g.c.s.head, &id).body;
        assert_eq!(a["due_on"], "2026-04-20");
        assert_eq!(a["overdue"], false);
        g.c.at(&app, shanghai(2026, 4, 20, 23, 59));
        assert!(listed(&app, &g.c.s.head, "overdue=true").is_empty());
        g.c.at(&app, shanghai(2026, 4, 21, 0, 0));
        assert_eq!(listed(&app, &g.c.s.head, "overdue=true"), vec![id.clone()]);
        assert_eq!(archive(&app, &g.c.s.head, &id).body["days_overdue"], 1);

        // A make-up working day on Saturday 18 April counts: due that Saturday.
        set_day(&app, &g.c.s.head, "2026-04-18", "workday", "Make-up day").assert_status(201);
        let r = set_day(&app, &g.c.s.head, "2026-04-18", "workday", "调休上班");
        r.assert_status(200);
        assert_eq!(r.body["name"], "调休上班");
        let a = archive(&app, &g.c.s.head, &id).body;
        assert_eq!(a["due_on"], "2026-04-18");
        assert_eq!(a["days_overdue"], 3);
        let year = app.get("/api/v1/archives/calendar?year=2026", Some(&g.c.s.officer));
        year.assert_status(200);
        let days: Vec<(&str, &str)> = year.body["days"].as_array().unwrap().iter().map(|d| (d["date"].as_str().unwrap(), d["kind"].as_str().unwrap())).collect();
        assert_eq!(days, [("2026-04-14", "holiday"), ("2026-04-18", "workday")]);
        assert_eq!(app.get("/api/v1/archives/calendar?year=2025", Some(&g.c.s.officer)).body["days"], json!([]));
        // The current year by default.
        assert_eq!(app.get("/api/v1/archives/calendar", Some(&g.c.s.officer)).body["year"], 2026);

        // Completed late: allowed, no longer listed as overdue, shows it was late.
        for (kind, reference) in [("training_agreement", "A-1"), ("class_notice", "N-1"), ("timetable", "T-1")] {
            attach(&app, &g.c.s.officer, &id, kind, reference).assert_status(200);
        }
        let done = complete(&app, &g.c.s.officer, &id);
        done.assert_status(200);
        assert_eq!(done.body["completed_late"], true);
        assert_eq!(done.body["days_overdue"], 3);
        assert_eq!(done.body["overdue"], false);
        assert!(listed(&app, &g.c.s.head, "overdue=true").is_empty());
        assert_eq!(listed(&app, &g.c.s.head, "overdue=false&status=completed"), vec![id.clone()]);

        // Removing a day restores its weekday's meaning; every change is audited.
        let r = app.request(Method::DELETE, "/api/v1/archives/calendar/2026-04-18", Some(&g.c.s.head), None, &[]);
        r.assert_status(204);
        app.request(Method::DELETE, "/api/v1/archives/calendar/2026-04-18", Some(&g.c.s.head), None, &[])
            .assert_problem(404, "not_found");
        assert_eq!(archive(&app, &g.c.s.head, &id).body["due_on"], "2026-04-20");
        let events = app.get("/api/v1/audit-events?entity_type=calendar_day&entity_id=2026-04-18", Some(&g.c.s.admin));
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["calendar_day.set", "calendar_day.set", "calendar_day.delete"]);
        let kinds: Vec<String> = app.outbox("calendar_day", "2026-04-18").into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["calendar_day.set", "calendar_day.set", "calendar_day.deleted"]);
    }

    // rule ARC-2: the calendar is kept by the training head (or the
    // administrator); dates and kinds are checked
    fn the_calendar_refuses_bad_dates_and_other_roles(app: TestApp) {
        let (g, _) = archived(&app, "ARC-CAL");
        let head = &g.c.s.head;
        set_day(&app, &g.c.s.officer, "2026-10-01", "holiday", "国庆节").assert_problem(403, "forbidden");
        set_day(&app, &g.c.s.org.filler, "2026-10-01", "holiday", "国庆节").assert_problem(403, "forbidden");
        app.get("/api/v1/archives/calendar", Some(&g.c.s.org.reviewer)).assert_problem(403, "forbidden");
        set_day(&app, &g.c.s.admin, "2026-10-01", "holiday", "国庆节").assert_status(201);
        for bad in ["2026-02-30", "not-a-date", "2026-4-1", "20260401", "2026-04-01T00:00"] {
            set_day(&app, head, bad, "holiday", "x").assert_problem(400, "invalid_path_parameter");
        }
        let r = set_day(&app, head, "1999-10-01", "holiday", "x");
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["date"]);
        // A make-up working day is a Saturday or Sunday; 15 April 2026 is a Wednesday.
        let r = set_day(&app, head, "2026-04-15", "workday", "x");
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["code"], "workday_not_on_weekend");
        set_day(&app, head, "2026-04-15", "festival", "x").assert_problem(422, "invalid_body");
        let r = set_day(&app, head, "2026-04-15", "holiday", " ");
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["name"]);
        app.get("/api/v1/archives/calendar?year=abc", Some(head)).assert_problem(400, "invalid_query");
        app.get("/api/v1/archives/calendar?year=1800", Some(head)).assert_problem(400, "invalid_query");
        app.request(Method::DELETE, "/api/v1/archives/calendar/nope", Some(head), None, &[])
            .assert_problem(400, "invalid_path_parameter");
        // Nothing refused was stored.
        let year = app.get("/api/v1/archives/calendar?year=2026", Some(head));
        assert_eq!(year.body["days"].as_array().unwrap().len(), 1, "{:#}", year.body);
        assert_eq!(year.body["days"][0]["name"], "国庆节");
    }

    // rule ARC-1, ACC-2: archives are association-internal: organisation
    // users, trainees, teachers and finance get 403 whatever the id; the
    // authority reads but does not change them
    fn archives_are_for_training_staff(app: TestApp) {
        let (g, id) = archived(&app, "ARC-ROLE");
        let unknown = uuid::Uuid::now_v7().to_string();
        let ann = app.login(crate::certificates::ANN, guild_tests::USER_PASSWORD);
        for token in [&g.c.s.org.filler, &g.c.s.org.reviewer, &ann, &g.c.head, &g.c.s.finance] {
            app.get("/api/v1/archives", Some(token)).assert_problem(403, "forbidden");
            for archive_id in [&id, &unknown] {
                archive(&app, token, archive_id).assert_problem(403, "forbidden");
                app.get(&format!("/api/v1/archives/{archive_id}/documents/grade_sheet"), Some(token)).assert_problem(403, "forbidden");
                attach(&app, token, archive_id, "timetable", "T").assert_problem(403, "forbidden");
                complete(&app, token, archive_id).assert_problem(403, "forbidden");
            }
        }
        let authority = app.create_user(&g.c.s.admin, "authority", "authority", None);
        archive(&app, &authority, &id).assert_status(200);
        csv(&app, &authority, &id, "attendance_sheet");
        attach(&app, &authority, &id, "timetable", "T").assert_problem(403, "forbidden");
        archive(&app, &g.c.s.officer, &unknown).assert_problem(404, "not_found");
        app.get("/api/v1/archives/not-an-id", Some(&g.c.s.officer)).assert_problem(400, "invalid_path_parameter");
        app.get("/api/v1/archives?overdue=maybe", Some(&g.c.s.officer)).assert_problem(400, "invalid_query");
        // Paging (API-3).
        let r = app.get("/api/v1/archives?limit=1", Some(&g.c.s.officer));
        r.assert_status(200);
        assert_eq!(r.body["items"][0]["id"], json!(id));
        assert_eq!(r.body["next_cursor"], Value::Null);
        app.get("/api/v1/archives?limit=0", Some(&g.c.s.officer)).assert_problem(400, "invalid_query");
        app.get("/api/v1/archives?cursor=nope", Some(&g.c.s.officer)).assert_problem(400, "invalid_cursor");
    }
}
