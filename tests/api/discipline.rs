//! Exam discipline over HTTP (DSC-1 to DSC-5): incidents recorded by
//! invigilators, the sanction decided by the rules, bans enforced by
//! enrolment (ENR-4, DSC-4), the employer notified and the case listed on the
//! public misconduct register (DSC-3), withdrawal by a training head shown
//! publicly (DSC-5), and organisation isolation of sanctions (ACC-2).

use guild_tests::{Resp, TestApp, USER_PASSWORD, backend_tests, valid_id_number};
use serde_json::{Value, json};

use crate::classes::{current_term, shanghai, teacher};
use crate::deferrals::{at, class_on};
use crate::enrolments::{
    EXAM_FEE, Setup, TRAINING_FEE, enrol, org_person, paid_enrolment, program, setup,
};

/// The day of the sitting of the setup's class (6–8 April 2026).
const SITTING_DAY: (i32, u32, u32) = (2026, 4, 8);

/// A sitting of `class` on 8 April 2026 at 09:00 (EXM-1).
#[track_caller]
pub fn sitting(app: &TestApp, token: &str, class: &str) -> String {
    let r = app.post(
        "/api/v1/sittings",
        Some(token),
        json!({"class_id": class, "kind": "first", "held_on": "2026-04-08", "starts_at": "09:00", "place": "Exam hall 2"}),
    );
    r.assert_status(201);
    r.id()
}

/// Registers a paid enrolment for a sitting and returns the registration id (EXM-2).
#[track_caller]
pub fn register(app: &TestApp, token: &str, sitting: &str, enrolment: &str) -> String {
    let r = app.post(
        &format!("/api/v1/sittings/{sitting}/registrations"),
        Some(token),
        json!({"enrolment_ids": [enrolment]}),
    );
    r.assert_status(201);
    registration_of(&r.body, enrolment)
}

fn registration_of(body: &Value, enrolment: &str) -> String {
    body["registered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["enrolment_id"] == enrolment)
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no registration of {enrolment} in {body:#}"))
        .to_owned()
}

/// The registration with its result, as the association sees it (EXM-5).
fn registration(app: &TestApp, e: &Exam, id: &str) -> Value {
    let r = app.get(
        &format!("/api/v1/classes/{}/results", e.s.class),
        Some(&e.s.admin),
    );
    r.assert_status(200);
    r.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {:#}", r.body))
        .iter()
        .find(|x| x["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("registration {id} not in {:#}", r.body))
}

/// `POST /sittings/{id}/incidents`.
fn incident(app: &TestApp, token: &str, sitting: &str, registration: &str, offence: &str) -> Resp {
    app.post(
        &format!("/api/v1/sittings/{sitting}/incidents"),
        Some(token),
        json!({
            "registration_id": registration,
            "offence": offence,
            "description": format!("{offence} seen during the theory part"),
            "evidence_reference": "CCTV hall 2, 09:40-09:45"
        }),
    )
}

fn withdraw(app: &TestApp, token: &str, sanction: &str, reason: &str) -> Resp {
    app.post(
        &format!("/api/v1/sanctions/{sanction}/withdraw"),
        Some(token),
        json!({"reason": reason}),
    )
}

/// The setup, a sitting of its class on the sitting day, and the clock at
/// 09:30 that day (Asia/Shanghai) with fresh tokens.
struct Exam {
    s: Setup,
    sitting: String,
}

fn exam(app: &TestApp) -> Exam {
    let s = setup(app);
    let sitting = sitting(app, &s.officer, &s.class);
    Exam { s, sitting }
}

/// A person of the setup's organisation with a paid enrolment in its class,
/// registered for the sitting: (person, enrolment, registration).
fn examinee(app: &TestApp, e: &Exam, name: &str, n: u32) -> (String, String, String) {
    let person = org_person(app, &e.s.org, name, n);
    let enrolment = paid_enrolment(app, &e.s, &e.s.class, &person);
    let reg = register(app, &e.s.officer, &e.sitting, &enrolment);
    (person, enrolment, reg)
}

fn during_sitting(app: &TestApp, e: &mut Exam) {
    let (y, m, d) = SITTING_DAY;
    at(app, &mut e.s, shanghai(y, m, d, 9, 30));
}

backend_tests! {
    // rule DSC-1: the first cheating offence in a sitting is a warning, the second disqualifies with score zero
    fn dsc_1_second_cheating_offence_in_a_sitting_disqualifies_with_score_zero(app: TestApp) {
        let mut e = exam(&app);
        let (person, _, reg) = examinee(&app, &e, "Zhao Liu", 11);
        let (_, _, other) = examinee(&app, &e, "Qian Qi", 12);
        during_sitting(&app, &mut e);
        let officer_id = app.get("/api/v1/me", Some(&e.s.officer)).body["id"].as_str().unwrap().to_owned();

        let first = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        first.assert_status(201);
        assert_eq!(first.body["outcome"], "warning");
        assert_eq!(first.body["rule"], "DSC-1");
        assert_eq!(first.body["score_zero"], false);
        assert_eq!(first.body["ban"], Value::Null);
        assert_eq!(first.body["status"], "active");
        assert_eq!(first.body["person_id"], person.as_str());
        assert_eq!(first.body["organisation_id"], e.s.org.id.as_str());
        // rule DSC-5: the incident, the invigilator, the evidence reference and the rule
        assert_eq!(first.body["invigilator_user_id"], officer_id.as_str());
        assert_eq!(first.body["evidence_reference"], "CCTV hall 2, 09:40-09:45");
        assert!(first.body["description"].as_str().unwrap().starts_with("cheating"));
        assert_eq!(first.body["allowed_actions"], json!(["withdraw"]));
        assert_eq!(registration(&app, &e, &reg)["status"], "registered");

        let second = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        second.assert_status(201);
        assert_eq!(second.body["outcome"], "disqualification");
        assert_eq!(second.body["rule"], "DSC-1");
        assert_eq!(second.body["score_zero"], true);
        assert_eq!(second.body["ban"], Value::Null);
        assert_eq!(second.body["employer_notified_at"], Value::Null);
        let r = registration(&app, &e, &reg);
        assert_eq!(r["status"], "disqualified");
        assert_eq!(r["theory_score"], 0);
        assert_eq!(r["passed"], false);

        // the count is per examinee: another's first offence is a warning
        let theirs = incident(&app, &e.s.officer, &e.sitting, &other, "cheating");
        theirs.assert_status(201);
        assert_eq!(theirs.body["outcome"], "warning");
        assert_eq!(registration(&app, &e, &other)["status"], "registered");

        // nothing of this is a ban or listed publicly
        let public = app.get("/api/v1/public/misconduct", None);
        public.assert_status(200);
        assert_eq!(public.body["items"], json!([]));
        let sitting_list = app.list_all(&format!("/api/v1/sanctions?sitting_id={}", e.sitting), &e.s.officer);
        assert_eq!(sitting_list.len(), 3);
    }

    // rule DSC-5: an incident is recorded on the sitting's day, by an invigilator, with evidence
    fn dsc_5_incidents_need_an_invigilator_evidence_and_the_sitting_day(app: TestApp) {
        let mut e = exam(&app);
        let (_, _, reg) = examinee(&app, &e, "Sun Ba", 13);
        // the day before the sitting (23:59 Shanghai)
        at(&app, &mut e.s, shanghai(2026, 4, 7, 23, 59));
        incident(&app, &e.s.officer, &e.sitting, &reg, "cheating").assert_rule(422, "incident_not_on_sitting_day", "DSC-5");
        // 00:00 of the sitting day
        at(&app, &mut e.s, shanghai(2026, 4, 8, 0, 0));
        incident(&app, &e.s.officer, &e.sitting, &reg, "cheating").assert_status(201);
        during_sitting(&app, &mut e);
        let future = app.post(
            &format!("/api/v1/sittings/{}/incidents", e.sitting),
            Some(&e.s.officer),
            json!({"registration_id": reg, "offence": "cheating", "description": "x", "evidence_reference": "y", "occurred_at": "2026-04-08T02:00:00Z"}),
        );
        future.assert_problem(422, "validation_failed");
        assert_eq!(future.error_fields(), ["occurred_at"]);
        let missing = app.post(
            &format!("/api/v1/sittings/{}/incidents", e.sitting),
            Some(&e.s.officer),
            json!({"registration_id": reg, "offence": "cheating", "description": "x", "evidence_reference": ""}),
        );
        missing.assert_problem(422, "validation_failed");
        assert_eq!(missing.error_fields(), ["evidence_reference"]);
        // a registration of another sitting, an unknown sitting
        incident(&app, &e.s.officer, &e.sitting, &uuid::Uuid::new_v4().to_string(), "cheating").assert_problem(422, "validation_failed");
        incident(&app, &e.s.officer, &uuid::Uuid::new_v4().to_string(), &reg, "cheating").assert_problem(404, "not_found");
        // roles: finance, organisation accounts and trainees are no invigilators
        for token in [&e.s.finance, &e.s.org.filler, &e.s.org.reviewer] {
            incident(&app, token, &e.sitting, &reg, "cheating").assert_problem(403, "forbidden");
        }
        // a teacher of another class does not see the sitting; the class's teachers invigilate
        let term = current_term(&app, &e.s.admin);
        let stranger = teacher(&app, &e.s.admin, "stranger.teacher", Some(&term));
        incident(&app, &stranger.token, &e.sitting, &reg, "cheating").assert_problem(404, "not_found");
        let head = teacher(&app, &e.s.admin, "head.teacher", Some(&term));
        let class = app.get(&format!("/api/v1/classes/{}", e.s.class), Some(&e.s.admin));
        let patched = app.request(
            guild_tests::Method::PATCH,
            &format!("/api/v1/classes/{}", e.s.class),
            Some(&e.s.admin),
            Some(&json!({"class_head_user_id": head.user_id})),
            &[("If-Match", &format!("\"{}\"", class.body["version"]))],
        );
        patched.assert_status(200);
        let head_token = app.login("head.teacher", USER_PASSWORD);
        let by_head = incident(&app, &head_token, &e.sitting, &reg, "cheating");
        by_head.assert_status(201);
        assert_eq!(by_head.body["invigilator_user_id"], head.user_id.as_str());
        assert_eq!(by_head.body["outcome"], "disqualification");
        // the teacher reads what they recorded, not the rest
        let seen = app.list_all("/api/v1/sanctions", &head_token);
        assert_eq!(seen.len(), 1);
        app.get(&format!("/api/v1/sanctions/{}", by_head.id()), Some(&head_token)).assert_status(200);
    }

    // rule DSC-2, DSC-4, ENR-4: an impersonator is banned from the program for one year, not from others
    fn dsc_2_impersonator_refused_in_the_same_program_for_a_year(app: TestApp) {
        let mut e = exam(&app);
        let (person, _, reg) = examinee(&app, &e, "Zhou Jiu", 14);
        let same = class_on(&app, &e.s.admin, &e.s.program, "GAS-OPS-2027-05", "2027-05-10", "2027-05-12", 10);
        let other_program = program(&app, &e.s.admin, "GAS-SAFE", TRAINING_FEE, EXAM_FEE);
        let other = class_on(&app, &e.s.admin, &other_program, "GAS-SAFE-2026-06", "2026-06-10", "2026-06-12", 10);
        during_sitting(&app, &mut e);

        let r = incident(&app, &e.s.officer, &e.sitting, &reg, "impersonation");
        r.assert_status(201);
        assert_eq!(r.body["outcome"], "disqualification_with_ban");
        assert_eq!(r.body["rule"], "DSC-2");
        assert_eq!(r.body["score_zero"], true);
        let ban = &r.body["ban"];
        assert_eq!(ban["scope"], "program");
        assert_eq!(ban["program_id"], e.s.program.as_str());
        assert_eq!(ban["starts_on"], "2026-04-08");
        assert_eq!(ban["ends_on"], "2027-04-07");
        assert_eq!(r.body["employer_notified_at"], Value::Null);
        let reg_now = registration(&app, &e, &reg);
        assert_eq!(reg_now["status"], "disqualified");
        assert_eq!(reg_now["theory_score"], 0);
        // the ban is a ban like any other (DSC-4)
        let stored = app.get(&format!("/api/v1/bans/{}", ban["id"].as_str().unwrap()), Some(&e.s.admin));
        stored.assert_status(200);
        assert_eq!(stored.body["rule"], "DSC-2");
        assert_eq!(stored.body["sanction_id"], r.body["id"]);
        assert_eq!(stored.body["status"], "active");

        // refused in the same program, accepted in another
        enrol(&app, &e.s.org.filler, &same, &person, true).assert_rule(422, "person_banned", "ENR-4");
        enrol(&app, &e.s.org.filler, &other, &person, true).assert_status(201);
        // the last day of the ban, 23:59
        at(&app, &mut e.s, shanghai(2027, 4, 7, 23, 59));
        let last = enrol(&app, &e.s.org.filler, &same, &person, true);
        last.assert_rule(422, "person_banned", "ENR-4");
        assert!(last.body["detail"].as_str().unwrap().contains("until 2027-04-07"), "{:#}", last.body);
        // 00:00 the day after
        at(&app, &mut e.s, shanghai(2027, 4, 8, 0, 0));
        enrol(&app, &e.s.org.filler, &same, &person, true).assert_status(201);
    }

    // rule DSC-3: the employer is notified, the case listed publicly, a three-year ban from everything
    fn dsc_3_serious_misconduct_listed_publicly_and_employer_notified(app: TestApp) {
        let mut e = exam(&app);
        let id_number = valid_id_number(15);
        let person = app.create_person(&e.s.org.filler, "张小三", &id_number, None);
        person.assert_status(201);
        let person = person.id();
        let enrolment = paid_enrolment(&app, &e.s, &e.s.class, &person);
        let reg = register(&app, &e.s.officer, &e.sitting, &enrolment);
        let other_program = program(&app, &e.s.admin, "GAS-SAFE", TRAINING_FEE, EXAM_FEE);
        let other = class_on(&app, &e.s.admin, &other_program, "GAS-SAFE-2026-06", "2026-06-10", "2026-06-12", 10);
        app.org_with_accounts(&e.s.admin, "beta");
        during_sitting(&app, &mut e);

        let r = incident(&app, &e.s.officer, &e.sitting, &reg, "serious_misconduct");
        r.assert_status(201);
        assert_eq!(r.body["outcome"], "serious_misconduct_ban");
        assert_eq!(r.body["rule"], "DSC-3");
        assert_eq!(r.body["ban"]["scope"], "all");
        assert_eq!(r.body["ban"]["program_id"], Value::Null);
        assert_eq!(r.body["ban"]["starts_on"], "2026-04-08");
        assert_eq!(r.body["ban"]["ends_on"], "2029-04-07");
        assert!(r.body["employer_notified_at"].is_string(), "{:#}", r.body);
        assert_eq!(registration(&app, &e, &reg)["status"], "disqualified");
        let sanction = r.id();

        // the public register, without a token: masked name, the organisation, the sanction and its dates
        let public = app.get("/api/v1/public/misconduct", None);
        public.assert_status(200);
        let items = public.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        let entry = &items[0];
        assert_eq!(entry["person_name"], "张*三");
        assert_eq!(entry["subject"], "person");
        assert_eq!(entry["organisation_name"], "Organisation acme");
        assert_eq!(entry["offence"], "serious_misconduct");
        assert_eq!(entry["starts_on"], "2026-04-08");
        assert_eq!(entry["ends_on"], "2029-04-07");
        assert_eq!(entry["status"], "listed");
        assert!(entry["sanction_summary"].as_str().unwrap().contains("DSC-3"));
        let text = public.body.to_string();
        for secret in [id_number.as_str(), &id_number[14..], person.as_str(), "张小三", sanction.as_str()] {
            assert!(!text.contains(secret), "the register shows {secret}: {text}");
        }
        app.get("/api/v1/public/misconduct?status=withdrawn", None).body["items"].as_array().unwrap().is_empty().then_some(()).unwrap();
        app.get("/api/v1/public/misconduct?status=nope", None).assert_status(400);

        // the employer's accounts are notified, another organisation's are not
        for token in [&e.s.org.filler, &e.s.org.reviewer] {
            let inbox = app.list_all("/api/v1/notifications", token);
            let notice = inbox.iter().find(|n| n["kind"] == "misconduct_notice").unwrap_or_else(|| panic!("no misconduct notice: {inbox:#?}"));
            assert!(notice["title"].as_str().unwrap().contains("张小三"));
        }
        let b_filler = app.login("beta.filler", USER_PASSWORD);
        assert!(!Value::Array(app.list_all("/api/v1/notifications", &b_filler)).to_string().contains("misconduct_notice"));
        // rule API-8: one event per change, in the employer's organisation
        let events = app.outbox("sanction", &sanction);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sanction.created"], "{events:?}");
        assert_eq!(events[0].organisation_id.as_deref(), Some(e.s.org.id.as_str()));
        assert!(events[0].payload.contains("serious_misconduct_ban"), "{events:?}");
        let events = app.outbox("exam_registration", &reg);
        let disq: Vec<_> = events.iter().filter(|e| e.kind == "exam_registration.disqualified").collect();
        assert_eq!(disq.len(), 1, "{events:?}");
        assert_eq!(disq[0].organisation_id.as_deref(), Some(e.s.org.id.as_str()));
        // the ban and the register entry that came with it are announced too
        let ban = r.body["ban"]["id"].as_str().unwrap();
        let events = app.outbox("ban", ban);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["ban.created"], "{events:?}");
        assert!(events[0].payload.contains(sanction.as_str()), "{events:?}");
        let entry_id = entry["id"].as_str().unwrap();
        let events = app.outbox("misconduct_entry", entry_id);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["misconduct_entry.listed"], "{events:?}");
        assert_eq!(events[0].organisation_id.as_deref(), Some(e.s.org.id.as_str()));
        assert!(!events[0].payload.contains(&id_number) && !events[0].payload.contains("张小三"), "{events:?}");

        // banned from all training: refused in another program too (ENR-4)
        enrol(&app, &e.s.org.filler, &other, &person, true).assert_rule(422, "person_banned", "ENR-4");
    }

    // rule DSC-5: only a training head withdraws, with a reason; the withdrawal is public where the listing was
    fn dsc_5_withdrawal_by_a_training_head_is_shown_publicly(app: TestApp) {
        let mut e = exam(&app);
        let person = app.create_person(&e.s.org.filler, "欧阳克锋", &valid_id_number(16), None);
        person.assert_status(201);
        let person = person.id();
        let enrolment = paid_enrolment(&app, &e.s, &e.s.class, &person);
        let reg = register(&app, &e.s.officer, &e.sitting, &enrolment);
        let other_program = program(&app, &e.s.admin, "GAS-SAFE", TRAINING_FEE, EXAM_FEE);
        let other = class_on(&app, &e.s.admin, &other_program, "GAS-SAFE-2026-06", "2026-06-10", "2026-06-12", 10);
        during_sitting(&app, &mut e);
        let r = incident(&app, &e.s.officer, &e.sitting, &reg, "serious_misconduct");
        r.assert_status(201);
        let sanction = r.id();

        // roles: a training officer, the organisation, finance get 403; a reason is required
        for token in [&e.s.officer, &e.s.org.reviewer, &e.s.finance, &e.s.admin] {
            withdraw(&app, token, &sanction, "mistaken identity").assert_problem(403, "forbidden");
        }
        withdraw(&app, &e.s.head, &sanction, "").assert_problem(422, "validation_failed");
        withdraw(&app, &e.s.head, &uuid::Uuid::new_v4().to_string(), "x").assert_problem(404, "not_found");

        let head_id = app.get("/api/v1/me", Some(&e.s.head)).body["id"].as_str().unwrap().to_owned();
        let w = withdraw(&app, &e.s.head, &sanction, "the video shows another examinee");
        w.assert_status(200);
        assert_eq!(w.body["status"], "withdrawn");
        assert_eq!(w.body["withdrawn_by"], head_id.as_str());
        assert_eq!(w.body["withdrawal_reason"], "the video shows another examinee");
        assert!(w.body["withdrawn_at"].is_string());
        assert!(w.body["ban"]["withdrawn_at"].is_string());
        assert_eq!(w.body["allowed_actions"], json!([]));
        // the ban is withdrawn: the person can be enrolled again at once
        let ban = app.get(&format!("/api/v1/bans/{}", w.body["ban"]["id"].as_str().unwrap()), Some(&e.s.admin));
        assert_eq!(ban.body["status"], "withdrawn");
        enrol(&app, &e.s.org.filler, &other, &person, true).assert_status(201);
        // the disqualification is lifted; the scores are to be entered again
        let back = registration(&app, &e, &reg);
        assert_eq!(back["status"], "registered");
        assert_eq!(back["theory_score"], Value::Null);
        assert_eq!(back["passed"], Value::Null);

        // the register keeps the entry, marked withdrawn with the reason
        let public = app.get("/api/v1/public/misconduct", None);
        let entry = &public.body["items"][0];
        assert_eq!(entry["status"], "withdrawn");
        assert_eq!(entry["withdrawal_reason"], "the video shows another examinee");
        assert!(entry["withdrawn_at"].is_string());
        assert_eq!(entry["person_name"], "欧**锋");
        let listed = app.get("/api/v1/public/misconduct?status=listed", None);
        assert_eq!(listed.body["items"], json!([]));
        // and a public notice announces it
        let notices = app.get("/api/v1/public/notices?kind=misconduct_withdrawal", None);
        notices.assert_status(200);
        let notice = &notices.body["items"][0];
        assert!(notice["title"].as_str().unwrap().contains("欧**锋"), "{notice:#}");
        assert!(!notices.body.to_string().contains("欧阳克锋"));
        // the employer hears of it
        let inbox = app.list_all("/api/v1/notifications", &e.s.org.filler);
        assert!(inbox.iter().any(|n| n["kind"] == "misconduct_withdrawn" && n["entity_type"] == "sanction" && n["entity_id"] == sanction.as_str()), "{inbox:#?}");

        // once only (409 with the allowed actions)
        let again = withdraw(&app, &e.s.head, &sanction, "again");
        again.assert_problem(409, "invalid_transition");
        assert_eq!(again.body["allowed_actions"], json!([]));
        // the audit log holds both changes
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={sanction}"), &e.s.admin);
        let actions: Vec<_> = audit.iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect();
        assert!(actions.contains(&"sanction.create".to_owned()) && actions.contains(&"sanction.withdraw".to_owned()), "{actions:?}");
        // rule API-8: the withdrawal and the reinstatement each wrote their outbox row
        let events = app.outbox("sanction", &sanction);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sanction.created", "sanction.withdrawn"], "{events:?}");
        assert_eq!(events[1].organisation_id.as_deref(), Some(e.s.org.id.as_str()));
        assert!(events[1].payload.contains("the video shows another examinee"), "{events:?}");
        let events = app.outbox("exam_registration", &reg);
        assert!(events.iter().any(|ev| ev.kind == "exam_registration.reinstated" && ev.organisation_id.as_deref() == Some(e.s.org.id.as_str())), "{events:?}");
        // so did the ban, the register entry and the public notice
        let kinds = |t: &str, id: &str| app.outbox(t, id).into_iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(kinds("ban", w.body["ban"]["id"].as_str().unwrap()), ["ban.created", "ban.withdrawn"]);
        assert_eq!(kinds("misconduct_entry", entry["id"].as_str().unwrap()), ["misconduct_entry.listed", "misconduct_entry.withdrawn"]);
        assert_eq!(kinds("notice", notice["id"].as_str().unwrap()), ["notice.published"]);
    }

    // rule DSC-1, DSC-5: a warning counted by a later disqualification is withdrawn only after it
    fn dsc_5_withdrawing_a_disqualification_restores_the_warning_state(app: TestApp) {
        let mut e = exam(&app);
        let (_, _, reg) = examinee(&app, &e, "Wu Shi", 17);
        during_sitting(&app, &mut e);
        let warning = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        warning.assert_status(201);
        let disq = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        assert_eq!(disq.body["outcome"], "disqualification");
        withdraw(&app, &e.s.head, &warning.id(), "x").assert_rule(409, "warning_relied_on", "DSC-1");
        withdraw(&app, &e.s.head, &disq.id(), "the phone was switched off in a bag").assert_status(200);
        assert_eq!(registration(&app, &e, &reg)["status"], "registered");
        // the warning still counts: another cheating offence disqualifies again
        let third = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        assert_eq!(third.body["outcome"], "disqualification");
        withdraw(&app, &e.s.head, &third.id(), "duplicate record").assert_status(200);
        withdraw(&app, &e.s.head, &warning.id(), "no cheating after all").assert_status(200);
        // with the warning withdrawn, the next offence is a first warning again
        let fresh = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        assert_eq!(fresh.body["outcome"], "warning");
        let active = app.list_all(&format!("/api/v1/sanctions?sitting_id={}&status=active", e.sitting), &e.s.officer);
        assert_eq!(active.len(), 1);
    }

    // rule DSC-3, API-3: the public register is paginated, newest first
    fn public_register_is_newest_first_and_paginated(app: TestApp) {
        let mut e = exam(&app);
        let (_, _, first) = examinee(&app, &e, "Feng Yi", 21);
        let (_, _, second) = examinee(&app, &e, "Chen Er", 22);
        during_sitting(&app, &mut e);
        incident(&app, &e.s.officer, &e.sitting, &first, "serious_misconduct").assert_status(201);
        incident(&app, &e.s.officer, &e.sitting, &second, "serious_misconduct").assert_status(201);
        let page = app.get("/api/v1/public/misconduct?limit=1", None);
        page.assert_status(200);
        assert_eq!(page.body["items"][0]["person_name"], "C*** E*");
        let cursor = page.body["next_cursor"].as_str().unwrap();
        let next = app.get(&format!("/api/v1/public/misconduct?limit=1&cursor={cursor}"), None);
        next.assert_status(200);
        assert_eq!(next.body["items"][0]["person_name"], "F*** Y*");
        assert_eq!(next.body["next_cursor"], Value::Null);
        app.get("/api/v1/public/misconduct?cursor=garbage", None).assert_problem(400, "invalid_cursor");
        app.get("/api/v1/public/misconduct?limit=0", None).assert_problem(400, "invalid_query");
    }

    // rule ACC-2: an organisation sees its own people's sanctions only; another's answer 404
    fn sanctions_are_isolated_between_organisations(app: TestApp) {
        let mut e = exam(&app);
        let (person, _, reg) = examinee(&app, &e, "Zheng Shiyi", 18);
        let b = app.org_with_accounts(&e.s.admin, "beta");
        app.create_user(&e.s.admin, "authority", "authority", None);
        app.create_user(&e.s.admin, "provider", "provider", Some(&b.id));
        during_sitting(&app, &mut e);
        let b = guild_tests::OrgFixture {
            filler: app.login("beta.filler", USER_PASSWORD),
            reviewer: app.login("beta.reviewer", USER_PASSWORD),
            ..b
        };
        let authority = app.login("authority", USER_PASSWORD);
        let provider = app.login("provider", USER_PASSWORD);
        let r = incident(&app, &e.s.officer, &e.sitting, &reg, "cheating");
        r.assert_status(201);
        let path = format!("/api/v1/sanctions/{}", r.id());
        for token in [&e.s.org.filler, &e.s.org.reviewer, &authority, &e.s.head] {
            let got = app.get(&path, Some(token));
            got.assert_status(200);
            assert_eq!(got.body["person_id"], person.as_str());
        }
        for token in [&b.filler, &b.reviewer] {
            app.get(&path, Some(token)).assert_problem(404, "not_found");
            assert!(app.list_all("/api/v1/sanctions", token).is_empty());
            assert!(app.list_all(&format!("/api/v1/sanctions?person_id={person}"), token).is_empty());
        }
        assert_eq!(app.list_all("/api/v1/sanctions", &e.s.org.filler).len(), 1);
        app.get(&path, Some(&provider)).assert_problem(403, "forbidden");
        app.get("/api/v1/sanctions", Some(&provider)).assert_problem(403, "forbidden");
        // the trainee sees their own sanction
        let (_, own) = crate::enrolments::trainee_account(&app, &e.s.admin, "zheng.trainee", &person);
        app.get(&path, Some(&own)).assert_status(200);
        let (_, stranger) = crate::enrolments::trainee_account(&app, &e.s.admin, "other.trainee", &org_person(&app, &e.s.org, "Wang Shier", 19));
        app.get(&path, Some(&stranger)).assert_problem(404, "not_found");
    }
}
