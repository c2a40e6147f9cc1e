//! Attendance and leave over HTTP (ATT-1 to ATT-3): the class head records
//! the sheet per session, `excused` only with approved leave, the leave
//! deadline at its edges in Asia/Shanghai, and the exam eligibility that two
//! unexcused absences remove, visible to the trainee and the company. The
//! fixtures at the top are shared with `crate::exams`.

use guild_tests::{Resp, TestApp, USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

use crate::classes::{current_term, shanghai, teacher};
use crate::deferrals::{at, relogin, start_class};
use crate::enrolments::{Setup, org_person, paid_enrolment, setup, trainee_account};

/// The user name of the class head of [`course`] classes.
pub const HEAD: &str = "class.head";

/// A class with a class head and three sessions (6, 7 and 8 April 2026).
pub struct Course {
    /// The shared setup (accounts, organisation `acme`, program `GAS-OPS`).
    pub s: Setup,
    /// The class head's account id.
    pub head_id: String,
    /// The class head's token.
    pub head: String,
    /// The class.
    pub class: String,
    /// Its sessions in time order.
    pub sessions: Vec<String>,
}

impl Course {
    /// Logs every account in again (after moving the clock).
    pub fn relogin(&mut self, app: &TestApp) {
        relogin(app, &mut self.s);
        self.head = app.login(HEAD, USER_PASSWORD);
    }

    /// Moves the clock and logs in again.
    pub fn at(&mut self, app: &TestApp, when: chrono::DateTime<chrono::Utc>) {
        at(app, &mut self.s, when);
        self.head = app.login(HEAD, USER_PASSWORD);
    }

    /// Starts the class on 6 April 2026 08:00 (Asia/Shanghai).
    pub fn start(&mut self, app: &TestApp) {
        start_class(app, &self.class, (2026, 4, 6));
        self.relogin(app);
    }

    /// A paid enrolment of a new person of `acme`.
    pub fn paid(&self, app: &TestApp, name: &str, n: u32) -> String {
        paid_enrolment(
            app,
            &self.s,
            &self.class,
            &org_person(app, &self.s.org, name, n),
        )
    }
}

/// The setup plus a class with a class head, of a new program made from
/// `program` (a `POST /programs` body), or of the setup's program when `None`.
pub fn course_with(app: &TestApp, program: Option<Value>, code: &str) -> Course {
    let s = setup(app);
    let term = current_term(app, &s.admin);
    let head = teacher(app, &s.admin, HEAD, Some(&term));
    let program = match program {
        Some(body) => {
            let r = app.post("/api/v1/programs", Some(&s.admin), body);
            r.assert_status(201);
            r.id()
        }
        None => s.program.clone(),
    };
    let r = app.post(
        "/api/v1/classes",
        Some(&s.admin),
        json!({
            "program_id": program,
            "code": code,
            "title": format!("Class {code}"),
            "start_date": "2026-04-06",
            "end_date": "2026-04-08",
            "place": "Futian training centre",
            "capacity": 20,
            "class_head_user_id": head.user_id,
            "sessions": [
                {"session_date": "2026-04-06", "starts_at": "09:00", "ends_at": "12:00", "topic": "Rules"},
                {"session_date": "2026-04-07", "starts_at": "09:00", "ends_at": "12:00", "topic": "Equipment"},
                {"session_date": "2026-04-08", "starts_at": "09:00", "ends_at": "12:00", "topic": "Practice"}
            ]
        }),
    );
    r.assert_status(201);
    let class = r.id();
    let sessions = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    app.post(
        &format!("/api/v1/classes/{class}/open"),
        Some(&s.admin),
        json!({}),
    )
    .assert_status(200);
    Course {
        s,
        head_id: head.user_id,
        head: head.token,
        class,
        sessions,
    }
}

/// [`course_with`] the setup's program.
pub fn course(app: &TestApp) -> Course {
    course_with(app, None, "ATT-2026-01")
}

/// `POST /classes/{class}/sessions/{session}/attendance`.
pub fn record(app: &TestApp, token: &str, class: &str, session: &str, records: Value) -> Resp {
    app.post(
        &format!("/api/v1/classes/{class}/sessions/{session}/attendance"),
        Some(token),
        json!({ "records": records }),
    )
}

/// `POST /leave-requests`.
pub fn leave(app: &TestApp, token: &str, enrolment: &str, session: &str) -> Resp {
    app.post(
        "/api/v1/leave-requests",
        Some(token),
        json!({"enrolment_id": enrolment, "session_id": session, "reason": "family emergency"}),
    )
}

/// Records `absent` for `enrolment` at the first two sessions (ATT-3), as the
/// class head, on the second session's day (7 April 2026, 12:30 Asia/Shanghai):
/// attendance is never taken ahead of a session (ATT-1).
pub fn two_absences(app: &TestApp, c: &mut Course, enrolment: &str) {
    c.at(app, shanghai(2026, 4, 7, 12, 30));
    for session in &c.sessions[..2] {
        record(
            app,
            &c.head,
            &c.class,
            session,
            json!([{"enrolment_id": enrolment, "status": "absent"}]),
        )
        .assert_status(200);
    }
}

fn marks(sheet: &Value, enrolment: &str) -> Vec<Value> {
    let row = sheet["trainees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["enrolment_id"] == json!(enrolment))
        .unwrap_or_else(|| panic!("{enrolment} not on the sheet: {sheet:#}"));
    row["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].clone())
        .collect()
}

backend_tests! {
    // rule ATT-1: the class head records per session; `excused` only with
    // approved leave, which is also the default; upsert per session and trainee
    fn the_class_head_records_the_sheet(app: TestApp) {
        let mut c = course(&app);
        let ann = c.paid(&app, "Ann", 1);
        let bob = c.paid(&app, "Bob", 2);
        let (s1, s2) = (c.sessions[0].clone(), c.sessions[1].clone());
        // Not before the class runs.
        record(&app, &c.head, &c.class, &s1, json!([{"enrolment_id": ann, "status": "present"}]))
            .assert_rule(422, "class_not_running", "ATT-1");
        // Bob's leave for the second session, approved by the class head.
        let r = leave(&app, &c.s.org.filler, &bob, &s2);
        r.assert_status(201);
        let approved = app.post(&format!("/api/v1/leave-requests/{}/approve", r.id()), Some(&c.head), json!({}));
        approved.assert_status(200);
        assert_eq!(approved.body["status"], "approved");
        assert_eq!(approved.body["decided_by"], json!(c.head_id));

        c.start(&app);
        // `excused` without leave is refused.
        record(&app, &c.head, &c.class, &s1, json!([
            {"enrolment_id": ann, "status": "present"},
            {"enrolment_id": bob, "status": "excused"}
        ]))
        .assert_rule(422, "excuse_without_leave", "ATT-1");
        let r = record(&app, &c.head, &c.class, &s1, json!([
            {"enrolment_id": ann, "status": "present"},
            {"enrolment_id": bob, "status": "absent", "note": "no call"}
        ]));
        r.assert_status(200);
        assert_eq!(r.body["records"].as_array().unwrap().len(), 2);
        // Who may record: the class head and training staff only.
        let other_teacher = teacher(&app, &c.s.admin, "other.teacher", None);
        record(&app, &other_teacher.token, &c.class, &s1, json!([{"enrolment_id": ann, "status": "absent"}]))
            .assert_problem(403, "forbidden");
        record(&app, &c.s.org.filler, &c.class, &s1, json!([{"enrolment_id": ann, "status": "absent"}]))
            .assert_problem(403, "forbidden");
        // Not ahead of the session: the second one is tomorrow.
        record(&app, &c.head, &c.class, &s2, json!([{"enrolment_id": ann, "status": "absent"}]))
            .assert_rule(422, "session_not_held", "ATT-1");
        let sheet = app.get(&format!("/api/v1/classes/{}/attendance", c.class), Some(&c.head));
        sheet.assert_status(200);
        assert_eq!(marks(&sheet.body, &ann)[1], Value::Null, "{:#}", sheet.body);
        // From the session's day on (Asia/Shanghai: 00:00 on 7 April is 16:00 UTC the day before).
        c.at(&app, shanghai(2026, 4, 7, 0, 0));
        // Approved leave makes `excused` the default.
        let r = record(&app, &c.s.officer, &c.class, &s2, json!([
            {"enrolment_id": ann, "status": "absent"},
            {"enrolment_id": bob}
        ]));
        r.assert_status(200);
        let bob_s2 = r.body["records"].as_array().unwrap().iter().find(|x| x["enrolment_id"] == json!(bob)).unwrap().clone();
        assert_eq!(bob_s2["status"], "excused");
        // Without leave a status is needed.
        record(&app, &c.head, &c.class, &s1, json!([{"enrolment_id": ann}]))
            .assert_rule(422, "attendance_status_required", "ATT-1");
        // A correction updates the record (upsert).
        let r = record(&app, &c.head, &c.class, &s1, json!([{"enrolment_id": bob, "status": "present"}]));
        r.assert_status(200);
        assert_eq!(r.body["records"].as_array().unwrap().len(), 2);
        // Only the class's paid trainees, each once.
        let stranger = paid_enrolment(&app, &c.s, &c.s.class, &org_person(&app, &c.s.org, "Stranger", 3));
        let r = record(&app, &c.head, &c.class, &s1, json!([{"enrolment_id": stranger, "status": "present"}]));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), vec!["records[0].enrolment_id"]);
        record(&app, &c.head, &c.class, &s1, json!([
            {"enrolment_id": ann, "status": "present"},
            {"enrolment_id": ann, "status": "absent"}
        ]))
        .assert_problem(422, "validation_failed");
        // A session of another class is not found.
        record(&app, &c.head, &c.class, &uuid::Uuid::new_v4().to_string(), json!([{"enrolment_id": ann, "status": "present"}]))
            .assert_problem(404, "not_found");

        let sheet = app.get(&format!("/api/v1/classes/{}/attendance", c.class), Some(&c.head));
        sheet.assert_status(200);
        assert_eq!(sheet.body["sessions"].as_array().unwrap().len(), 3);
        assert_eq!(marks(&sheet.body, &ann), vec![json!("present"), json!("absent"), Value::Null]);
        assert_eq!(marks(&sheet.body, &bob), vec![json!("present"), json!("excused"), Value::Null]);
        // Organisation users see only their own trainees; other teachers nothing.
        let other = app.org_with_accounts(&c.s.admin, "other");
        let theirs = app.get(&format!("/api/v1/classes/{}/attendance", c.class), Some(&other.reviewer));
        theirs.assert_status(200);
        assert_eq!(theirs.body["trainees"], json!([]));
        let ours = app.get(&format!("/api/v1/classes/{}/attendance", c.class), Some(&c.s.org.reviewer));
        assert_eq!(ours.body["trainees"].as_array().unwrap().len(), 2);
        let other_teacher = app.login("other.teacher", USER_PASSWORD);
        app.get(&format!("/api/v1/classes/{}/attendance", c.class), Some(&other_teacher))
            .assert_problem(403, "forbidden");
        // Audited.
        let audit = app.list_all("/api/v1/audit-events?entity_type=attendance_record", &c.s.admin);
        assert!(audit.len() >= 5, "{audit:?}");
        // Each change wrote its outbox row (API-8).
        let record_id = audit[0]["entity_id"].as_str().unwrap();
        let events = app.outbox("attendance_record", record_id);
        assert!(!events.is_empty(), "{audit:?}");
        assert!(events.iter().all(|e| e.kind == "attendance.recorded"), "{events:?}");
    }

    // rule ATT-2: a leave request must reach the class head at least one day
    // before the session (Asia/Shanghai): 23:59 of the day before is in time,
    // 00:00 of the session day is refused
    fn leave_must_arrive_the_day_before_the_session(app: TestApp) {
        let mut c = course(&app);
        let ann = c.paid(&app, "Ann", 1);
        let bob = c.paid(&app, "Bob", 2);
        let s2 = c.sessions[1].clone();

        c.at(&app, shanghai(2026, 4, 6, 23, 59));
        let r = leave(&app, &c.s.org.filler, &ann, &s2);
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.header("location"), format!("/api/v1/leave-requests/{id}"));
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["session_date"], "2026-04-07");
        assert_eq!(r.body["filed_at"], "2026-04-06T15:59:00Z");
        assert_eq!(r.body["allowed_actions"], json!(["approve", "refuse"]));
        // One open request per session.
        leave(&app, &c.s.org.reviewer, &ann, &s2).assert_rule(409, "leave_request_exists", "ATT-2");

        c.at(&app, shanghai(2026, 4, 7, 0, 0));
        let r = leave(&app, &c.s.org.filler, &bob, &s2);
        r.assert_rule(422, "leave_too_late", "ATT-2");
        assert!(r.body["detail"].as_str().unwrap().contains("2026-04-07"), "{:#}", r.body);
        // The next day's session is still in time.
        leave(&app, &c.s.org.filler, &bob, &c.sessions[2]).assert_status(201);

        // The class head sees and decides it; the trainee's side is told.
        let listed = app.list_all("/api/v1/leave-requests", &c.head);
        assert_eq!(listed.len(), 2);
        let refused = app.post(&format!("/api/v1/leave-requests/{id}/refuse"), Some(&c.head), json!({"reason": "the exam preparation session"}));
        refused.assert_status(200);
        assert_eq!(refused.body["status"], "refused");
        assert_eq!(refused.body["decision_reason"], "the exam preparation session");
        // Filing and refusing each wrote their outbox row (API-8).
        let kinds: Vec<String> = app.outbox("leave_request", &id).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["leave_request.filed", "leave_request.refused"]);
        let events = app.outbox("leave_request", &id);
        assert_eq!(events[0].organisation_id.as_deref(), Some(c.s.org.id.as_str()));
        let again = app.post(&format!("/api/v1/leave-requests/{id}/approve"), Some(&c.head), json!({}));
        again.assert_problem(409, "invalid_transition");
        assert_eq!(again.body["allowed_actions"], json!([]));
        // Only the class head or training staff decide.
        let pending = app.list_all("/api/v1/leave-requests?status=submitted", &c.s.officer);
        let pending = pending[0]["id"].as_str().unwrap().to_owned();
        let other_teacher = teacher(&app, &c.s.admin, "other.teacher", None);
        app.post(&format!("/api/v1/leave-requests/{pending}/approve"), Some(&other_teacher.token), json!({}))
            .assert_problem(404, "not_found");
        app.post(&format!("/api/v1/leave-requests/{pending}/approve"), Some(&c.s.org.reviewer), json!({}))
            .assert_problem(403, "forbidden");
        assert!(app.list_all("/api/v1/leave-requests", &other_teacher.token).is_empty());
        // ACC-2: another organisation neither sees nor lists it.
        let other = app.org_with_accounts(&c.s.admin, "other");
        app.get(&format!("/api/v1/leave-requests/{id}"), Some(&other.filler)).assert_problem(404, "not_found");
        assert!(app.list_all("/api/v1/leave-requests", &other.filler).is_empty());
        assert_eq!(app.list_all("/api/v1/leave-requests", &c.s.org.filler).len(), 2);
        let inbox = app.list_all("/api/v1/notifications", &c.s.org.filler);
        assert!(inbox.iter().any(|n| n["kind"] == "leave_decided"), "{inbox:?}");
    }

    // rule ATT-3: two unexcused absences remove exam eligibility; the trainee
    // and the company see why (with the dates); another company does not
    fn two_unexcused_absences_remove_eligibility(app: TestApp) {
        let mut c = course(&app);
        let person = org_person(&app, &c.s.org, "Ann", 1);
        trainee_account(&app, &c.s.admin, "ann", &person);
        let ann = paid_enrolment(&app, &c.s, &c.class, &person);
        let bob = c.paid(&app, "Bob", 2);
        c.start(&app);
        let ann_token = app.login("ann", USER_PASSWORD);
        let path = format!("/api/v1/enrolments/{ann}/eligibility");
        let r = app.get(&path, Some(&ann_token));
        r.assert_status(200);
        assert_eq!(r.body["eligible"], true);
        assert_eq!(r.body["reasons"], json!([]));

        // One absence is not enough.
        record(&app, &c.head, &c.class, &c.sessions[0], json!([
            {"enrolment_id": ann, "status": "absent"},
            {"enrolment_id": bob, "status": "absent"}
        ])).assert_status(200);
        assert_eq!(app.get(&path, Some(&c.s.org.filler)).body["eligible"], true);
        // An `absent` ahead of the session is refused and leaves eligibility alone.
        record(&app, &c.head, &c.class, &c.sessions[1], json!([{"enrolment_id": ann, "status": "absent"}]))
            .assert_rule(422, "session_not_held", "ATT-1");
        assert_eq!(app.get(&path, Some(&c.s.org.filler)).body["eligible"], true);
        c.at(&app, shanghai(2026, 4, 7, 12, 30));
        let ann_token = app.login("ann", USER_PASSWORD);
        record(&app, &c.head, &c.class, &c.sessions[1], json!([
            {"enrolment_id": ann, "status": "absent"},
            {"enrolment_id": bob, "status": "present"}
        ])).assert_status(200);

        for token in [&ann_token, &c.s.org.filler, &c.s.org.reviewer, &c.s.officer] {
            let r = app.get(&path, Some(token));
            r.assert_status(200);
            assert_eq!(r.body["eligible"], false);
            let reasons = r.body["reasons"].as_array().unwrap();
            assert_eq!(reasons.len(), 1, "{:#}", r.body);
            assert_eq!(reasons[0]["code"], "too_many_absences");
            assert_eq!(reasons[0]["rule"], "ATT-3");
            let detail = reasons[0]["detail"].as_str().unwrap();
            assert!(detail.contains("2026-04-06") && detail.contains("2026-04-07"), "{detail}");
        }
        assert_eq!(app.get(&format!("/api/v1/enrolments/{bob}/eligibility"), Some(&c.s.officer)).body["eligible"], true);
        let other = app.org_with_accounts(&c.s.admin, "other");
        app.get(&path, Some(&other.filler)).assert_problem(404, "not_found");
        let sheet = app.get(&format!("/api/v1/classes/{}/attendance", c.class), Some(&ann_token));
        sheet.assert_status(200);
        let rows = sheet.body["trainees"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["eligible_by_attendance"], false);
        assert_eq!(rows[0]["unexcused_absences"], json!(["2026-04-06", "2026-04-07"]));
    }
}
