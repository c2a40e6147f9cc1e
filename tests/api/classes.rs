//! `/classes` (CLS-1 to CLS-3): scheduling with sessions and teachers, the
//! class state machine, the preparation checklist and capacity; TCH-1 where a
//! teacher is made class head or teacher. The fixtures at the top are shared
//! with other test modules (`crate::classes::...`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use guild_tests::{Resp, TestApp, backend_tests};
use serde_json::{Value, json};

/// The instant of a wall-clock time in Asia/Shanghai (UTC+8, no DST).
pub fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(8)
}

/// Creates an active program with code `code` and returns its id.
pub fn program(app: &TestApp, admin: &str, code: &str) -> String {
    let r = app.post(
        "/api/v1/programs",
        Some(admin),
        json!({
            "code": code,
            "name": format!("Program {code}"),
            "target_categories": ["operations_staff"],
            "training_fee_fen": 120000,
            "exam_fee_fen": 30000,
            "exam": {"theory": {"mode": "closed_book", "pass_mark": 60}},
            "certificate_name": "Gas operations certificate"
        }),
    );
    r.assert_status(201);
    r.id()
}

/// Enters a board term and returns its id.
pub fn term(app: &TestApp, admin: &str, name: &str, starts_on: &str, ends_on: &str) -> String {
    let r = app.post(
        "/api/v1/teachers/terms",
        Some(admin),
        json!({"name": name, "starts_on": starts_on, "ends_on": ends_on}),
    );
    r.assert_status(201);
    r.id()
}

/// The regular 4-year term 2026–2029.
pub fn current_term(app: &TestApp, admin: &str) -> String {
    term(app, admin, "Fifth board", "2026-01-01", "2029-12-31")
}

/// A teacher account with an appointment.
#[derive(Debug, Clone)]
pub struct Teacher {
    /// The account id.
    pub user_id: String,
    /// Its access token.
    pub token: String,
    /// The appointment id.
    pub appointment_id: String,
}

/// Creates a teacher account (display name `User {username}`); when `term_id`
/// is given, appoints it for that term.
pub fn teacher(app: &TestApp, admin: &str, username: &str, term_id: Option<&str>) -> Teacher {
    let (user_id, token) = app.create_user_with_id(admin, username, "teacher", None);
    let appointment_id = term_id
        .map(|t| {
            let r = app.post(
                "/api/v1/teachers",
                Some(admin),
                json!({"user_id": user_id, "term_id": t}),
            );
            r.assert_status(201);
            r.id()
        })
        .unwrap_or_default();
    Teacher {
        user_id,
        token,
        appointment_id,
    }
}

/// A class body with the required fields.
pub fn class_body(program_id: &str, code: &str, start: &str, end: &str) -> Value {
    json!({
        "program_id": program_id,
        "code": code,
        "title": format!("Class {code}"),
        "start_date": start,
        "end_date": end,
        "place": "Training centre, room 301",
        "capacity": 30
    })
}

/// Creates a class and returns its id.
#[track_caller]
pub fn create_class(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/classes", Some(token), body);
    r.assert_status(201);
    r.id()
}

/// A planned class of a new program (code `{code}-P`), without teachers.
#[track_caller]
pub fn planned_class(app: &TestApp, admin: &str, code: &str, start: &str, end: &str) -> String {
    let program_id = program(app, admin, &format!("{code}-P"));
    create_class(app, admin, class_body(&program_id, code, start, end))
}

/// An open class of a new program (code `{code}-P`), without teachers.
#[track_caller]
pub fn open_class(app: &TestApp, admin: &str, code: &str, start: &str, end: &str) -> String {
    let id = planned_class(app, admin, code, start, end);
    action(app, admin, &id, "open", None).assert_status(200);
    id
}

/// Checks off every mandatory unchecked item of the class's checklist (CLS-2).
pub fn check_mandatory_items(app: &TestApp, token: &str, class_id: &str) {
    for item in checklist(app, token, class_id)["items"].as_array().unwrap() {
        if item["mandatory"] == true && item["state"] == "unchecked" {
            check(app, token, class_id, item["id"].as_str().unwrap()).assert_status(200);
        }
    }
}

/// `POST /classes/{id}/{action}`.
pub fn action(app: &TestApp, token: &str, id: &str, action: &str, body: Option<Value>) -> Resp {
    app.post(
        &format!("/api/v1/classes/{id}/{action}"),
        Some(token),
        body.unwrap_or_else(|| json!({})),
    )
}

fn checklist(app: &TestApp, token: &str, class_id: &str) -> Value {
    let r = app.get(
        &format!("/api/v1/classes/{class_id}/checklist"),
        Some(token),
    );
    r.assert_status(200);
    r.body
}

fn check(app: &TestApp, token: &str, class_id: &str, item_id: &str) -> Resp {
    app.post(
        &format!("/api/v1/classes/{class_id}/checklist/{item_id}/check"),
        Some(token),
        json!({}),
    )
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

backend_tests! {
    // rule CLS-1: a class is one run of a program with dates, place, capacity,
    // class head, teachers and a schedule of sessions
    fn a_class_is_scheduled_with_sessions_teachers_and_seats(app: TestApp) {
        let admin = app.admin();
        let term_id = current_term(&app, &admin);
        let head = teacher(&app, &admin, "t.head", Some(&term_id));
        let other = teacher(&app, &admin, "t.other", Some(&term_id));
        let program_id = program(&app, &admin, "GAS-OPS");
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let mut body = class_body(&program_id, " gas-ops-2026-01 ", "2026-04-01", "2026-04-03");
        body["class_head_user_id"] = json!(head.user_id);
        body["teacher_user_ids"] = json!([other.user_id, other.user_id]);
        body["sessions"] = json!([
            {"session_date": "2026-04-02", "starts_at": "09:00", "ends_at": "12:00", "topic": "Pipelines", "teacher_user_id": other.user_id},
            {"session_date": "2026-04-01", "starts_at": "14:00", "ends_at": "17:30", "topic": "Regulations", "teacher_user_id": head.user_id},
            {"session_date": "2026-04-01", "starts_at": "09:00", "ends_at": "12:00", "topic": "Safety"}
        ]);
        let r = app.post("/api/v1/classes", Some(&officer), body);
        r.assert_status(201);
        assert_eq!(r.header("etag"), "\"1\"");
        let id = r.id();
        let c = app.get(&format!("/api/v1/classes/{id}"), Some(&officer));
        c.assert_status(200);
        let c = c.body;
        assert_eq!(c["code"], "GAS-OPS-2026-01");
        assert_eq!(c["year"], 2026);
        assert_eq!(c["status"], "planned");
        assert_eq!(c["capacity"], 30);
        assert_eq!(c["seats_taken"], 0);
        assert_eq!(c["seats_left"], 30);
        assert_eq!(c["class_head"]["user_id"], json!(head.user_id));
        assert_eq!(c["class_head"]["name"], "User t.head");
        assert_eq!(c["teachers"], json!([{"user_id": other.user_id, "name": "User t.other"}]));
        let sessions = c["sessions"].as_array().unwrap();
        let order: Vec<(&str, &str)> = sessions
            .iter()
            .map(|s| (s["session_date"].as_str().unwrap(), s["starts_at"].as_str().unwrap()))
            .collect();
        assert_eq!(order, [("2026-04-01", "09:00"), ("2026-04-01", "14:00"), ("2026-04-02", "09:00")]);
        assert_eq!(sessions[1]["ends_at"], "17:30");
        assert_eq!(sessions[1]["teacher"]["name"], "User t.head");
        assert!(sessions[0]["teacher"].is_null());
        // every authenticated role reads classes
        let org = app.org_with_accounts(&admin, "acme");
        app.get(&format!("/api/v1/classes/{id}"), Some(&org.filler)).assert_status(200);
        let listed = app.list_all("/api/v1/classes", &org.reviewer);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["seats_left"], 30);
        // ... but only training staff create them
        app.post("/api/v1/classes", Some(&org.filler), class_body(&program_id, "X-1", "2026-04-01", "2026-04-01"))
            .assert_problem(403, "forbidden");
        app.post("/api/v1/classes", Some(&head.token), class_body(&program_id, "X-1", "2026-04-01", "2026-04-01"))
            .assert_problem(403, "forbidden");
        // the code is unique
        app.post("/api/v1/classes", Some(&admin), class_body(&program_id, "gas-ops-2026-01", "2026-05-01", "2026-05-01"))
            .assert_problem(409, "already_exists");
    }

    // rule CLS-1: bad input is refused per field
    fn class_input_is_validated(app: TestApp) {
        let admin = app.admin();
        let program_id = program(&app, &admin, "GAS-VAL");
        let post = |body: Value| app.post("/api/v1/classes", Some(&admin), body);
        for capacity in [0, 1001, -5] {
            let mut body = class_body(&program_id, "VAL-1", "2026-04-01", "2026-04-03");
            body["capacity"] = json!(capacity);
            let r = post(body);
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), ["capacity"], "{capacity}");
        }
        let r = post(class_body(&program_id, "VAL 1", "2026-04-03", "2026-04-01"));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["code", "end_date"]);
        let mut body = class_body(&program_id, "VAL-1", "2026-04-01", "2026-04-03");
        body["sessions"] = json!([
            {"session_date": "2026-03-31", "starts_at": "09:00", "ends_at": "12:00", "topic": "Early"},
            {"session_date": "2026-04-01", "starts_at": "12:00", "ends_at": "09:00", "topic": "Backwards"},
            {"session_date": "2026-04-01", "starts_at": "9:00", "ends_at": "24:00", "topic": "Bad times"}
        ]);
        let r = post(body);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["sessions[2].ends_at", "sessions[2].starts_at"]);
        let mut body = class_body(&program_id, "VAL-1", "2026-04-01", "2026-04-03");
        body["sessions"] = json!([
            {"session_date": "2026-03-31", "starts_at": "09:00", "ends_at": "12:00", "topic": "Early"},
            {"session_date": "2026-04-01", "starts_at": "12:00", "ends_at": "09:00", "topic": "Backwards"}
        ]);
        let r = post(body);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["sessions[0].session_date", "sessions[1].ends_at"]);
        // a session's teacher teaches the class
        let mut body = class_body(&program_id, "VAL-1", "2026-04-01", "2026-04-03");
        body["sessions"] = json!([{"session_date": "2026-04-01", "starts_at": "09:00", "ends_at": "12:00", "topic": "T", "teacher_user_id": uuid::Uuid::new_v4()}]);
        let r = post(body);
        assert_eq!(r.error_fields(), ["sessions[0].teacher_user_id"]);
        // unknown program; unknown fields
        let r = post(class_body(&uuid::Uuid::new_v4().to_string(), "VAL-1", "2026-04-01", "2026-04-03"));
        assert_eq!(r.error_fields(), ["program_id"]);
        let mut body = class_body(&program_id, "VAL-1", "2026-04-01", "2026-04-03");
        body["year"] = json!(2026);
        post(body).assert_problem(422, "validation_failed");
        // a retired program takes no classes (PRG-1)
        app.post(&format!("/api/v1/programs/{program_id}/retire"), Some(&admin), json!({})).assert_status(200);
        post(class_body(&program_id, "VAL-1", "2026-04-01", "2026-04-03"))
            .assert_rule(422, "program_retired", "PRG-1");
    }

    // rule TCH-1: a teacher without a current appointment covering the class's
    // dates cannot be class head or class teacher
    fn only_appointed_teachers_teach_classes(app: TestApp) {
        let admin = app.admin();
        let term_id = term(&app, &admin, "Short board", "2026-01-01", "2026-12-31");
        let appointed = teacher(&app, &admin, "t.ok", Some(&term_id));
        let unappointed = teacher(&app, &admin, "t.none", None);
        let dismissed = teacher(&app, &admin, "t.gone", Some(&term_id));
        app.post(&format!("/api/v1/teachers/{}/dismiss", dismissed.appointment_id), Some(&admin), json!({"reason": "violated regulations"}))
            .assert_status(200);
        let program_id = program(&app, &admin, "GAS-TCH");
        let with_head = |code: &str, head: &str, start: &str, end: &str| {
            let mut body = class_body(&program_id, code, start, end);
            body["class_head_user_id"] = json!(head);
            app.post("/api/v1/classes", Some(&admin), body)
        };
        let r = with_head("TCH-1", &unappointed.user_id, "2026-04-01", "2026-04-03");
        r.assert_rule(422, "teacher_not_appointed", "TCH-1");
        assert!(r.body["detail"].as_str().unwrap().contains("User t.none"), "{:#}", r.body);
        with_head("TCH-1", &dismissed.user_id, "2026-04-01", "2026-04-03")
            .assert_rule(422, "teacher_not_appointed", "TCH-1");
        // the term must cover the class's dates
        with_head("TCH-1", &appointed.user_id, "2026-12-30", "2027-01-02")
            .assert_rule(422, "teacher_not_appointed", "TCH-1");
        let mut body = class_body(&program_id, "TCH-1", "2026-04-01", "2026-04-03");
        body["teacher_user_ids"] = json!([appointed.user_id, unappointed.user_id]);
        app.post("/api/v1/classes", Some(&admin), body).assert_rule(422, "teacher_not_appointed", "TCH-1");
        let mut body = class_body(&program_id, "TCH-1", "2026-04-01", "2026-04-03");
        body["teacher_user_ids"] = json!([uuid::Uuid::new_v4()]);
        assert_eq!(app.post("/api/v1/classes", Some(&admin), body).error_fields(), ["teacher_user_ids"]);
        let r = with_head("TCH-1", &appointed.user_id, "2026-04-01", "2026-04-03");
        r.assert_status(201);
        let id = r.id();
        // PATCH: a new class head is checked, and so is the old one when the dates move
        let path = format!("/api/v1/classes/{id}");
        app.patch(&path, Some(&admin), json!({"class_head_user_id": unappointed.user_id}))
            .assert_rule(422, "teacher_not_appointed", "TCH-1");
        app.patch(&path, Some(&admin), json!({"teacher_user_ids": [dismissed.user_id]}))
            .assert_rule(422, "teacher_not_appointed", "TCH-1");
        app.patch(&path, Some(&admin), json!({"start_date": "2027-01-04", "end_date": "2027-01-05"}))
            .assert_rule(422, "teacher_not_appointed", "TCH-1");
        let r = app.patch(&path, Some(&admin), json!({"class_head_user_id": null}));
        r.assert_status(200);
        assert!(r.body["class_head"].is_null());
        app.patch(&path, Some(&admin), json!({"start_date": "2027-01-04", "end_date": "2027-01-05"}))
            .assert_status(200);
    }

    // rule CLS-1: planned → open → in_progress → finished; wrong states answer 409 with the allowed actions
    fn every_class_transition_and_its_guards(app: TestApp) {
        let admin = app.admin();
        let id = planned_class(&app, &admin, "FLOW-1", "2026-03-02", "2026-03-03");
        let org = app.org_with_accounts(&admin, "acme");
        action(&app, &org.reviewer, &id, "open", None).assert_problem(403, "forbidden");
        for (act, allowed) in [("start", json!(["open", "cancel"])), ("finish", json!(["open", "cancel"]))] {
            let r = action(&app, &admin, &id, act, None);
            r.assert_rule(409, "invalid_transition", "CLS-1");
            assert_eq!(r.body["allowed_actions"], allowed);
        }
        let head = app.create_user(&admin, "head", "training_head", None);
        let r = action(&app, &head, &id, "open", None);
        r.assert_status(200);
        assert_eq!(r.body["status"], "open");
        assert_eq!(r.body["version"], 2);
        let r = action(&app, &admin, &id, "open", None);
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!(["start", "cancel"]));
        check_mandatory_items(&app, &admin, &id);
        let r = action(&app, &admin, &id, "start", None);
        r.assert_status(200);
        assert_eq!(r.body["status"], "in_progress");
        let r = action(&app, &admin, &id, "start", None);
        assert_eq!(r.body["allowed_actions"], json!(["finish", "cancel"]));
        // not before the end date (association time zone)
        app.clock().set(shanghai(2026, 3, 2, 23, 59));
        let admin = app.admin();
        action(&app, &admin, &id, "finish", None).assert_rule(422, "class_not_ended", "CLS-1");
        app.clock().set(shanghai(2026, 3, 3, 0, 0));
        let admin = app.admin();
        let r = action(&app, &admin, &id, "finish", None);
        r.assert_status(200);
        assert_eq!(r.body["status"], "finished");
        for act in ["open", "start", "finish"] {
            let r = action(&app, &admin, &id, act, None);
            r.assert_problem(409, "invalid_transition");
            assert_eq!(r.body["allowed_actions"], json!([]));
        }
        let r = action(&app, &admin, &id, "cancel", Some(json!({"reason": "too late"})));
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!([]));
        // a finished class cannot be changed
        app.patch(&format!("/api/v1/classes/{id}"), Some(&admin), json!({"place": "Elsewhere"}))
            .assert_rule(409, "class_not_editable", "CLS-1");
        // the audit log has every step
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={id}"), &admin);
        let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
        for a in ["class.create", "class.open", "class.start", "class.finish"] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        // ... and each change wrote its outbox row in its transaction (API-8)
        let outbox = app.outbox("class", &id);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        for k in ["class.created", "class.opened", "class.checklist_item_checked", "class.started", "class.finished"] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        assert!(outbox.iter().all(|e| e.organisation_id.is_none()), "classes belong to no organisation");
        let finished: Value = serde_json::from_str(&outbox.last().unwrap().payload).unwrap();
        assert_eq!(finished["status"], "finished");
    }

    // rule CLS-1: cancelled, with a reason, from any state before finished
    fn classes_are_cancelled_with_a_reason(app: TestApp) {
        let admin = app.admin();
        let planned = planned_class(&app, &admin, "CAN-1", "2026-03-02", "2026-03-05");
        let open = open_class(&app, &admin, "CAN-2", "2026-03-02", "2026-03-05");
        let running = open_class(&app, &admin, "CAN-3", "2026-03-02", "2026-03-05");
        check_mandatory_items(&app, &admin, &running);
        action(&app, &admin, &running, "start", None).assert_status(200);
        action(&app, &admin, &planned, "cancel", None).assert_problem(422, "validation_failed");
        let r = action(&app, &admin, &planned, "cancel", Some(json!({"reason": "  "})));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["reason"]);
        for id in [&planned, &open, &running] {
            let r = action(&app, &admin, id, "cancel", Some(json!({"reason": "Too few applicants"})));
            r.assert_status(200);
            assert_eq!(r.body["status"], "cancelled");
            assert_eq!(r.body["cancellation_reason"], "Too few applicants");
            let r = action(&app, &admin, id, "open", None);
            r.assert_rule(409, "invalid_transition", "CLS-1");
            assert_eq!(r.body["allowed_actions"], json!([]));
        }
        let cancelled = app.list_all("/api/v1/classes?status=cancelled", &admin);
        assert_eq!(cancelled.len(), 3);
    }

    // rule CLS-2: a class cannot start with unchecked mandatory items; the
    // refusal names them. Rule CLS-1: nor before its start date (Asia/Shanghai).
    fn start_needs_the_checklist_and_the_start_date(app: TestApp) {
        let admin = app.admin();
        let me = app.get("/api/v1/me", Some(&admin)).body;
        let id = open_class(&app, &admin, "CHK-1", "2026-04-01", "2026-04-03");
        let list = checklist(&app, &admin, &id);
        assert_eq!(list["complete"], false);
        let items = list["items"].as_array().unwrap().clone();
        assert!(items.len() >= 8);
        assert!(items.iter().all(|i| i["state"] == "unchecked" && i["checked_by"].is_null()));
        let mandatory: Vec<String> = items
            .iter()
            .filter(|i| i["mandatory"] == true)
            .map(|i| i["label"].as_str().unwrap().to_owned())
            .collect();
        assert!(mandatory.iter().any(|l| l.contains("Training agreement")));
        assert!(items.iter().any(|i| i["mandatory"] == false));
        let r = action(&app, &admin, &id, "start", None);
        r.assert_rule(422, "checklist_incomplete", "CLS-2");
        let detail = r.body["detail"].as_str().unwrap();
        for label in &mandatory {
            assert!(detail.contains(label.as_str()), "{label} not named in {detail}");
        }
        // a custom mandatory item joins the list at the end
        let r = app.post(&format!("/api/v1/classes/{id}/checklist"), Some(&admin), json!({"label": "Interpreter booked", "mandatory": true}));
        r.assert_status(201);
        assert_eq!(r.body["position"], json!(items.len() + 1));
        let custom = r.id();
        app.post(&format!("/api/v1/classes/{id}/checklist"), Some(&admin), json!({"label": "x", "mandatory": true}))
            .assert_problem(422, "validation_failed");
        // check everything but the custom item, with who and when
        app.clock().set(shanghai(2026, 3, 31, 10, 0));
        let admin = app.admin();
        for item in &items {
            if item["mandatory"] == true {
                check(&app, &admin, &id, item["id"].as_str().unwrap()).assert_status(200);
            }
        }
        let r = app.post(&format!("/api/v1/classes/{id}/checklist/{}/check", items[0]["id"].as_str().unwrap()), Some(&admin), json!({"note": "again"}));
        r.assert_rule(409, "invalid_transition", "CLS-2");
        assert_eq!(r.body["allowed_actions"], json!(["uncheck"]));
        let r = action(&app, &admin, &id, "start", None);
        r.assert_rule(422, "checklist_incomplete", "CLS-2");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("Interpreter booked"), "{detail}");
        assert!(!detail.contains("Training agreement"), "{detail}");
        let r = app.post(&format!("/api/v1/classes/{id}/checklist/{custom}/check"), Some(&admin), json!({"note": "Ms Zhao, confirmed by phone"}));
        r.assert_status(200);
        assert_eq!(r.body["state"], "checked");
        assert_eq!(r.body["checked_by"], me["id"]);
        assert_eq!(r.body["note"], "Ms Zhao, confirmed by phone");
        let checked_at: DateTime<Utc> = r.body["checked_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(checked_at, shanghai(2026, 3, 31, 10, 0));
        // uncheck and check again
        let r = app.post(&format!("/api/v1/classes/{id}/checklist/{custom}/uncheck"), Some(&admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["state"], "unchecked");
        assert!(r.body["checked_by"].is_null() && r.body["checked_at"].is_null() && r.body["note"].is_null());
        let r = app.post(&format!("/api/v1/classes/{id}/checklist/{custom}/uncheck"), Some(&admin), json!({}));
        assert_eq!(r.body["allowed_actions"], json!(["check"]));
        check(&app, &admin, &id, &custom).assert_status(200);
        assert_eq!(checklist(&app, &admin, &id)["complete"], true);
        // the day before the start, 23:59 in Shenzhen: too early
        app.clock().set(shanghai(2026, 3, 31, 23, 59));
        let admin = app.admin();
        action(&app, &admin, &id, "start", None).assert_rule(422, "class_not_started", "CLS-1");
        // 00:00 on the start day: it starts
        app.clock().set(shanghai(2026, 4, 1, 0, 0));
        let admin = app.admin();
        let r = action(&app, &admin, &id, "start", None);
        r.assert_status(200);
        assert_eq!(r.body["status"], "in_progress");
        // a running class's checklist is closed
        check(&app, &admin, &id, &custom).assert_rule(409, "class_not_editable", "CLS-1");
        app.post(&format!("/api/v1/classes/{id}/checklist/{custom}/uncheck"), Some(&admin), json!({}))
            .assert_rule(409, "class_not_editable", "CLS-1");
        app.post(&format!("/api/v1/classes/{id}/checklist"), Some(&admin), json!({"label": "Late item", "mandatory": false}))
            .assert_rule(409, "class_not_editable", "CLS-1");
        checklist(&app, &admin, &id);
    }

    // rule CLS-2: the checklist is training staff's work
    fn only_training_staff_work_the_checklist(app: TestApp) {
        let admin = app.admin();
        let term_id = current_term(&app, &admin);
        let head = teacher(&app, &admin, "t.head", Some(&term_id));
        let program_id = program(&app, &admin, "GAS-CHK");
        let mut body = class_body(&program_id, "CHK-2", "2026-04-01", "2026-04-03");
        body["class_head_user_id"] = json!(head.user_id);
        let id = create_class(&app, &admin, body);
        let item = checklist(&app, &admin, &id)["items"][0]["id"].as_str().unwrap().to_owned();
        let org = app.org_with_accounts(&admin, "acme");
        let finance = app.create_user(&admin, "finance", "finance", None);
        for token in [&head.token, &org.filler, &finance] {
            app.get(&format!("/api/v1/classes/{id}/checklist"), Some(token)).assert_problem(403, "forbidden");
            check(&app, token, &id, &item).assert_problem(403, "forbidden");
        }
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        check(&app, &officer, &id, &item).assert_status(200);
        // unknown items and classes are 404
        check(&app, &officer, &id, &uuid::Uuid::new_v4().to_string()).assert_problem(404, "not_found");
        check(&app, &officer, &uuid::Uuid::new_v4().to_string(), &item).assert_problem(404, "not_found");
        let other = planned_class(&app, &admin, "CHK-3", "2026-04-01", "2026-04-03");
        check(&app, &officer, &other, &item).assert_problem(404, "not_found");
    }

    // rule CLS-3: the capacity is 1 to 1000 and never below the seats taken.
    // With no enrolments yet every capacity down to 1 is accepted here; the
    // enrolment tests cover lowering it below confirmed seats.
    fn capacity_is_validated_and_patched_with_if_match(app: TestApp) {
        let admin = app.admin();
        let id = open_class(&app, &admin, "CAP-1", "2026-04-01", "2026-04-03");
        let path = format!("/api/v1/classes/{id}");
        for capacity in [0, 1001] {
            let r = app.patch(&path, Some(&admin), json!({"capacity": capacity}));
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), ["capacity"]);
        }
        let version = app.get(&path, Some(&admin)).body["version"].clone();
        let r = app.request(guild_tests::Method::PATCH, &path, Some(&admin), Some(&json!({"capacity": 1})), &[("If-Match", &format!("\"{version}\""))]);
        r.assert_status(200);
        assert_eq!(r.body["capacity"], 1);
        assert_eq!(r.body["seats_left"], 1);
        let r = app.request(guild_tests::Method::PATCH, &path, Some(&admin), Some(&json!({"capacity": 2})), &[("If-Match", &format!("\"{version}\""))]);
        r.assert_problem(412, "version_mismatch");
        // an org account cannot change a class
        let org = app.org_with_accounts(&admin, "acme");
        app.patch(&path, Some(&org.filler), json!({"capacity": 5})).assert_problem(403, "forbidden");
    }

    // rule CLS-1: PATCH replaces the whole schedule and keeps it within the dates
    fn patch_replaces_the_schedule(app: TestApp) {
        let admin = app.admin();
        let program_id = program(&app, &admin, "GAS-SCH");
        let mut body = class_body(&program_id, "SCH-1", "2026-04-01", "2026-04-03");
        body["sessions"] = json!([
            {"session_date": "2026-04-01", "starts_at": "09:00", "ends_at": "12:00", "topic": "A"},
            {"session_date": "2026-04-03", "starts_at": "09:00", "ends_at": "12:00", "topic": "B"}
        ]);
        let id = create_class(&app, &admin, body);
        let path = format!("/api/v1/classes/{id}");
        // moving the end date before a session is refused
        let r = app.patch(&path, Some(&admin), json!({"end_date": "2026-04-02"}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["sessions[1].session_date"]);
        let r = app.patch(&path, Some(&admin), json!({
            "end_date": "2026-04-02",
            "title": "Renamed class",
            "sessions": [{"session_date": "2026-04-02", "starts_at": "13:30", "ends_at": "16:00", "topic": "C"}]
        }));
        r.assert_status(200);
        assert_eq!(r.body["title"], "Renamed class");
        assert_eq!(r.body["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(r.body["sessions"][0]["starts_at"], "13:30");
        let r = app.patch(&path, Some(&admin), json!({"start_date": "2027-01-05", "end_date": "2027-01-06", "sessions": []}));
        r.assert_status(200);
        assert_eq!(r.body["year"], 2027);
        assert_eq!(r.body["sessions"], json!([]));
        app.patch(&path, Some(&admin), json!({"program_id": program_id})).assert_problem(422, "validation_failed");
        app.patch(&format!("/api/v1/classes/{}", uuid::Uuid::new_v4()), Some(&admin), json!({"title": "Nobody"}))
            .assert_problem(404, "not_found");
    }

    // rule CLS-1: a teacher sees only the classes where they are class head or teacher
    fn a_teacher_lists_only_their_classes(app: TestApp) {
        let admin = app.admin();
        let term_id = current_term(&app, &admin);
        let a = teacher(&app, &admin, "t.a", Some(&term_id));
        let b = teacher(&app, &admin, "t.b", Some(&term_id));
        let program_id = program(&app, &admin, "GAS-LST");
        let mut body = class_body(&program_id, "LST-1", "2026-04-01", "2026-04-03");
        body["class_head_user_id"] = json!(a.user_id);
        let headed = create_class(&app, &admin, body);
        let mut body = class_body(&program_id, "LST-2", "2026-05-01", "2026-05-03");
        body["teacher_user_ids"] = json!([b.user_id]);
        let taught = create_class(&app, &admin, body);
        let mut body = class_body(&program_id, "LST-3", "2027-05-01", "2027-05-03");
        body["class_head_user_id"] = json!(b.user_id);
        body["teacher_user_ids"] = json!([a.user_id, b.user_id]);
        let both = create_class(&app, &admin, body);
        let nobody = create_class(&app, &admin, class_body(&program_id, "LST-4", "2026-06-01", "2026-06-03"));
        let listed = |token: &str, query: &str| ids(&app.list_all(&format!("/api/v1/classes{query}"), token));
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(listed(&a.token, ""), sorted(vec![headed.clone(), both.clone()]));
        assert_eq!(listed(&b.token, ""), sorted(vec![taught.clone(), both.clone()]));
        assert_eq!(listed(&b.token, "?year=2027"), vec![both.clone()]);
        app.get(&format!("/api/v1/classes/{taught}"), Some(&a.token)).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/classes/{headed}"), Some(&a.token)).assert_status(200);
        app.get(&format!("/api/v1/classes/{both}"), Some(&a.token)).assert_status(200);
        // everyone else sees all, filtered by year, program and status
        let all = sorted(vec![headed.clone(), taught.clone(), both.clone(), nobody.clone()]);
        assert_eq!(listed(&admin, ""), all);
        assert_eq!(listed(&admin, "?year=2026").len(), 3);
        assert_eq!(listed(&admin, &format!("?program_id={program_id}")).len(), 4);
        assert_eq!(listed(&admin, &format!("?program_id={}", uuid::Uuid::new_v4())).len(), 0);
        action(&app, &admin, &nobody, "open", None).assert_status(200);
        assert_eq!(listed(&admin, "?status=open"), vec![nobody.clone()]);
        let trainee = app.create_user(&admin, "trainee", "trainee", None);
        assert_eq!(listed(&trainee, ""), all);
        // paging is stable
        let page = app.get("/api/v1/classes?limit=3", Some(&admin));
        assert_eq!(page.body["items"].as_array().unwrap().len(), 3);
        assert!(page.body["next_cursor"].is_string());
        app.get("/api/v1/classes?status=closed", Some(&admin)).assert_problem(400, "invalid_query");
    }
}
