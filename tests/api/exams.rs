//! Exams over HTTP (EXM-1 to EXM-5): sittings, registration of eligible
//! trainees only with the reason for each one refused (ATT-3 among them),
//! results per part with `passed` from the program's components, publishing
//! per class and what trainees and companies see before and after, the free
//! retake and the charged retake of a `skill_level` program.

use guild_tests::{Resp, TestApp, USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

use crate::attendance::{course, course_with, two_absences};
use crate::classes::{shanghai, teacher};
use crate::enrolments::{
    EXAM_FEE, TRAINING_FEE, act, approved_enrolment, org_person, paid_enrolment, trainee_account,
};

/// A program body with an open- or closed-book theory part (pass 60) and a
/// practical part (pass 70).
fn program_body(code: &str, mode: &str, skill_level: bool) -> Value {
    json!({
        "code": code,
        "name": format!("Program {code}"),
        "target_categories": ["operations_staff"],
        "training_fee_fen": TRAINING_FEE,
        "exam_fee_fen": EXAM_FEE,
        "exam": {"theory": {"mode": mode, "pass_mark": 60}, "practical": {"pass_mark": 70}},
        "skill_level": skill_level,
        "certificate_name": "Operations certificate"
    })
}

/// `POST /sittings`; returns the id.
#[track_caller]
fn sitting(app: &TestApp, token: &str, class: &str, kind: &str, held_on: &str) -> String {
    let r = app.post(
        "/api/v1/sittings",
        Some(token),
        json!({"class_id": class, "kind": kind, "held_on": held_on, "starts_at": "09:00", "place": "Exam hall 2"}),
    );
    r.assert_status(201);
    assert_eq!(r.body["kind"], kind);
    r.id()
}

fn register(app: &TestApp, token: &str, sitting: &str, enrolments: &[&str]) -> Resp {
    app.post(
        &format!("/api/v1/sittings/{sitting}/registrations"),
        Some(token),
        json!({ "enrolment_ids": enrolments }),
    )
}

/// Registers one trainee and returns the registration id.
#[track_caller]
fn register_one(app: &TestApp, token: &str, sitting: &str, enrolment: &str) -> Value {
    let r = register(app, token, sitting, &[enrolment]);
    r.assert_status(201);
    r.body["registered"][0].clone()
}

fn results(app: &TestApp, token: &str, sitting: &str, results: Value) -> Resp {
    app.post(
        &format!("/api/v1/sittings/{sitting}/results"),
        Some(token),
        json!({ "results": results }),
    )
}

fn reg_id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn ledger(app: &TestApp, token: &str, enrolment: &str) -> Value {
    let r = app.get(
        &format!("/api/v1/enrolments/{enrolment}/ledger"),
        Some(token),
    );
    r.assert_status(200);
    r.body
}

backend_tests! {
    // rules EXM-2, ATT-3: only eligible trainees are registered; a trainee
    // with two unexcused absences is refused citing ATT-3, an unpaid one
    // EXM-2, a banned one DSC-4; all refused answers 422 naming the first rule
    fn only_eligible_trainees_are_registered(app: TestApp) {
        let mut c = course(&app);
        let ann = c.paid(&app, "Ann", 1);
        let bob = c.paid(&app, "Bob", 2);
        let carl = approved_enrolment(&app, &c.s, &c.class, &org_person(&app, &c.s.org, "Carl", 3));
        act(&app, &c.s.officer, &carl, "confirm").assert_status(200);
        let dave_person = org_person(&app, &c.s.org, "Dave", 4);
        let dave = paid_enrolment(&app, &c.s, &c.class, &dave_person);
        c.start(&app);
        two_absences(&app, &mut c, &ann);
        app.post("/api/v1/bans", Some(&c.s.admin), json!({"person_id": dave_person, "scope": "all", "starts_on": "2026-04-06", "ends_on": "2026-12-31", "reason": "impersonation in another exam"}))
            .assert_status(201);
        let first = sitting(&app, &c.s.officer, &c.class, "first", "2026-04-09");
        register(&app, &c.s.org.filler, &first, &[&bob]).assert_problem(403, "forbidden");

        let r = register(&app, &c.s.officer, &first, &[&ann, &bob, &carl, &dave]);
        r.assert_status(201);
        let registered = r.body["registered"].as_array().unwrap();
        assert_eq!(registered.len(), 1);
        assert_eq!(registered[0]["enrolment_id"], json!(bob));
        assert_eq!(registered[0]["attempt"], 1);
        assert_eq!(registered[0]["charged"], false);
        assert_eq!(registered[0]["status"], "registered");
        let refused = r.body["refused"].as_array().unwrap();
        let rules: Vec<(Value, Value, Value)> = refused
            .iter()
            .map(|x| (x["enrolment_id"].clone(), x["reasons"][0]["rule"].clone(), x["reasons"][0]["code"].clone()))
            .collect();
        assert_eq!(rules, vec![
            (json!(ann), json!("ATT-3"), json!("too_many_absences")),
            (json!(carl), json!("EXM-2"), json!("not_paid")),
            (json!(dave), json!("DSC-4"), json!("person_banned")),
        ]);
        assert!(refused[0]["reasons"][0]["detail"].as_str().unwrap().contains("2026-04-06"));

        // The case: the trainee with two unexcused absences alone is refused citing ATT-3.
        let r = register(&app, &c.s.officer, &first, &[&ann]);
        r.assert_rule(422, "too_many_absences", "ATT-3");
        assert_eq!(r.body["errors"][0]["field"], "enrolment_ids[0]");
        assert_eq!(r.body["errors"][0]["code"], "too_many_absences");
        let r = register(&app, &c.s.officer, &first, &[&carl, &bob]);
        r.assert_rule(422, "not_paid", "EXM-2");
        assert_eq!(r.error_fields(), vec!["enrolment_ids[0]", "enrolment_ids[1]"]);
        assert_eq!(r.body["errors"][1]["code"], "already_registered");
        // ... and the company sees why.
        let e = app.get(&format!("/api/v1/enrolments/{ann}/eligibility"), Some(&c.s.org.reviewer));
        assert_eq!(e.body["reasons"][0]["rule"], "ATT-3");
        let listed = app.list_all(&format!("/api/v1/sittings?class_id={}", c.class), &c.s.org.filler);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["registrations"], 1);
    }

    // rules EXM-1, EXM-5: scores per part decide `passed` from the program's
    // components (open-book theory + practical here; closed-book in the
    // domain tests); results are hidden from trainees and companies until the
    // class's results are published, which needs every result
    fn results_are_computed_and_published_per_class(app: TestApp) {
        let mut c = course_with(&app, Some(program_body("EXM-OPEN", "open_book", false)), "EXM-2026-01");
        let ann_person = org_person(&app, &c.s.org, "Ann", 1);
        trainee_account(&app, &c.s.admin, "ann", &ann_person);
        let ann = paid_enrolment(&app, &c.s, &c.class, &ann_person);
        let bob = c.paid(&app, "Bob", 2);
        let cleo = c.paid(&app, "Cleo", 3);
        c.start(&app);
        let ann_token = app.login("ann", USER_PASSWORD);
        let other = app.org_with_accounts(&c.s.admin, "other");
        let first = sitting(&app, &c.s.officer, &c.class, "first", "2026-04-06");
        let r = register(&app, &c.s.officer, &first, &[&ann, &bob, &cleo]);
        r.assert_status(201);
        let regs: Vec<String> = r.body["registered"].as_array().unwrap().iter().map(reg_id).collect();
        let (ra, rb, rc) = (regs[0].clone(), regs[1].clone(), regs[2].clone());

        // Scores are 0-100; a teacher of another class may not enter them.
        let r = results(&app, &c.s.officer, &first, json!([{"registration_id": ra, "theory_score": 101}]));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), vec!["results[0].theory_score"]);
        let stranger = teacher(&app, &c.s.admin, "stranger", None);
        results(&app, &stranger.token, &first, json!([{"registration_id": ra, "theory_score": 70}]))
            .assert_problem(403, "forbidden");
        // The officer enters theory, the class head practical.
        let r = results(&app, &c.s.officer, &first, json!([
            {"registration_id": ra, "theory_score": 60},
            {"registration_id": rb, "theory_score": 59},
            {"registration_id": rc, "theory_score": 95}
        ]));
        r.assert_status(200);
        assert_eq!(r.body[0]["passed"], Value::Null);
        assert_eq!(r.body[0]["status"], "registered");
        // Publishing needs every result.
        app.post(&format!("/api/v1/classes/{}/results/publish", c.class), Some(&c.s.officer), json!({}))
            .assert_rule(422, "results_incomplete", "EXM-5");
        let r = results(&app, &c.head, &first, json!([
            {"registration_id": ra, "practical_score": 70},
            {"registration_id": rb, "practical_score": 90},
            {"registration_id": rc, "practical_score": 69}
        ]));
        r.assert_status(200);
        let passed: Vec<Value> = r.body.as_array().unwrap().iter().map(|x| x["passed"].clone()).collect();
        assert_eq!(passed, vec![json!(true), json!(false), json!(false)]);
        assert_eq!(r.body[0]["theory_score"], 60);
        assert_eq!(r.body[0]["status"], "completed");

        // Before publishing: staff see everything, the trainee and companies nothing.
        let path = format!("/api/v1/classes/{}/results", c.class);
        let staff = app.get(&path, Some(&c.s.officer));
        assert_eq!(staff.body["results"].as_array().unwrap().len(), 3);
        assert_eq!(staff.body["results"][0]["published"], false);
        assert_eq!(staff.body["published_at"], Value::Null);
        for token in [&ann_token, &c.s.org.filler, &other.reviewer] {
            let r = app.get(&path, Some(token));
            r.assert_status(200);
            assert_eq!(r.body["results"], json!([]), "{:#}", r.body);
        }
        app.post(&format!("/api/v1/classes/{}/results/publish", c.class), Some(&c.s.org.reviewer), json!({}))
            .assert_problem(403, "forbidden");
        let r = app.post(&format!("/api/v1/classes/{}/results/publish", c.class), Some(&c.s.officer), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["published_at"], "2026-04-06T00:00:00Z");
        app.post(&format!("/api/v1/classes/{}/results/publish", c.class), Some(&c.s.officer), json!({}))
            .assert_rule(409, "results_already_published", "EXM-5");

        // After: the trainee sees their own, the company its own, another company nothing.
        let own = app.get(&path, Some(&ann_token));
        let rows = own.body["results"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["enrolment_id"], json!(ann));
        assert_eq!(rows[0]["passed"], true);
        assert_eq!(rows[0]["practical_score"], 70);
        assert_eq!(app.get(&path, Some(&c.s.org.filler)).body["results"].as_array().unwrap().len(), 3);
        assert_eq!(app.get(&path, Some(&other.reviewer)).body["results"], json!([]));
        app.get(&path, Some(&stranger.token)).assert_problem(403, "forbidden");
        let audit = app.list_all("/api/v1/audit-events?entity_type=class", &c.s.admin);
        assert!(audit.iter().any(|a| a["action"] == "class.results_publish"), "{audit:?}");
        // Each change wrote its outbox row (API-8).
        let kinds = |t: &str, id: &str| -> Vec<String> { app.outbox(t, id).into_iter().map(|e| e.kind).collect() };
        assert_eq!(kinds("sitting", &first), ["sitting.created"]);
        assert_eq!(
            kinds("exam_registration", &ra),
            ["exam_registration.created", "exam_registration.result_recorded", "exam_registration.result_recorded"]
        );
        assert_eq!(app.outbox("exam_registration", &ra)[0].organisation_id.as_deref(), Some(c.s.org.id.as_str()));
        let class_kinds = kinds("class", &c.class);
        assert_eq!(class_kinds.iter().filter(|k| *k == "class.results_published").count(), 1, "{class_kinds:?}");
    }

    // rule EXM-5: nothing to publish without registrations
    fn publishing_without_registrations_is_refused(app: TestApp) {
        let c = course(&app);
        app.post(&format!("/api/v1/classes/{}/results/publish", c.class), Some(&c.s.officer), json!({}))
            .assert_rule(422, "no_results", "EXM-5");
        app.post(&format!("/api/v1/classes/{}/results/publish", uuid::Uuid::new_v4()), Some(&c.s.officer), json!({}))
            .assert_problem(404, "not_found");
    }

    // rule EXM-3: one free retake after a failed first attempt; a second
    // retake, or a retake by someone who passed or never sat, is refused
    fn one_free_retake_after_a_failure(app: TestApp) {
        let mut c = course(&app);
        let ann = c.paid(&app, "Ann", 1);
        let bob = c.paid(&app, "Bob", 2);
        let carl = c.paid(&app, "Carl", 3);
        c.start(&app);
        let first = sitting(&app, &c.s.officer, &c.class, "first", "2026-04-06");
        let ra = reg_id(&register_one(&app, &c.s.officer, &first, &ann));
        let rb = reg_id(&register_one(&app, &c.s.officer, &first, &bob));
        let retake = sitting(&app, &c.s.officer, &c.class, "retake", "2026-04-20");
        // No retake before the first result is in.
        register(&app, &c.s.officer, &retake, &[&ann]).assert_rule(422, "retake_not_allowed", "EXM-3");
        results(&app, &c.s.officer, &first, json!([
            {"registration_id": ra, "theory_score": 40},
            {"registration_id": rb, "theory_score": 80}
        ])).assert_status(200);
        // A first sitting takes nobody twice.
        let again = sitting(&app, &c.s.officer, &c.class, "first", "2026-04-10");
        register(&app, &c.s.officer, &again, &[&ann]).assert_rule(422, "already_registered", "EXM-3");

        let r = register(&app, &c.s.officer, &retake, &[&ann, &bob, &carl]);
        r.assert_status(201);
        assert_eq!(r.body["registered"].as_array().unwrap().len(), 1);
        let retaken = &r.body["registered"][0];
        assert_eq!(retaken["enrolment_id"], json!(ann));
        assert_eq!(retaken["attempt"], 2);
        assert_eq!(retaken["charged"], false);
        for refused in r.body["refused"].as_array().unwrap() {
            assert_eq!(refused["reasons"][0]["code"], "retake_not_allowed", "{refused:#}");
            assert_eq!(refused["reasons"][0]["rule"], "EXM-3");
        }
        // Free: nothing more is charged (EXM-3).
        let l = ledger(&app, &c.s.officer, &ann);
        assert_eq!(l["balance"]["charged"], TRAINING_FEE + EXAM_FEE);
        assert_eq!(l["balance"]["due"], 0);
        // The retake fails too: no second retake.
        c.at(&app, shanghai(2026, 4, 20, 12, 0));
        results(&app, &c.s.officer, &retake, json!([{"registration_id": reg_id(retaken), "theory_score": 50}]))
            .assert_status(200);
        let second = sitting(&app, &c.s.officer, &c.class, "retake", "2026-05-04");
        let r = register(&app, &c.s.officer, &second, &[&ann]);
        r.assert_rule(422, "retake_not_allowed", "EXM-3");
        assert!(r.body["detail"].as_str().unwrap().contains("already took the one retake"), "{:#}", r.body);
    }

    // rule EXM-4: the retake of a skill-level program carries the exam fee,
    // charged to the enrolment's ledger in the same transaction
    fn a_skill_level_retake_carries_the_exam_fee(app: TestApp) {
        let mut c = course_with(&app, Some(program_body("SKILL-1", "closed_book", true)), "SKILL-2026-01");
        let ann = c.paid(&app, "Ann", 1);
        c.start(&app);
        let first = sitting(&app, &c.s.officer, &c.class, "first", "2026-04-06");
        let ra = reg_id(&register_one(&app, &c.s.officer, &first, &ann));
        results(&app, &c.head, &first, json!([{"registration_id": ra, "theory_score": 75, "practical_score": 50}]))
            .assert_status(200);
        assert_eq!(ledger(&app, &c.s.officer, &ann)["balance"]["due"], 0);
        let retake = sitting(&app, &c.s.officer, &c.class, "retake", "2026-04-20");
        let reg = register_one(&app, &c.s.officer, &retake, &ann);
        assert_eq!(reg["attempt"], 2);
        assert_eq!(reg["charged"], true);
        let l = ledger(&app, &c.s.org.filler, &ann);
        let entries = l["entries"].as_array().unwrap();
        let last = entries.last().unwrap();
        assert_eq!(last["kind"], "charge");
        assert_eq!(last["item"], "exam_fee");
        assert_eq!(last["amount_fen"], EXAM_FEE);
        assert_eq!(last["reference"], reg["id"]);
        assert_eq!(l["balance"]["charged"], TRAINING_FEE + 2 * EXAM_FEE);
        assert_eq!(l["balance"]["due"], EXAM_FEE);
    }

    // rule EXM-5: a sitting is never dated before its class starts, and no
    // score is entered before the sitting's date (Asia/Shanghai); a refused
    // entry changes nothing
    fn no_sitting_before_the_class_and_no_scores_before_the_sitting(app: TestApp) {
        let mut c = course(&app);
        let ann = c.paid(&app, "Ann", 1);
        let early = app.post(
            "/api/v1/sittings",
            Some(&c.s.officer),
            json!({"class_id": c.class, "kind": "first", "held_on": "2026-04-05", "starts_at": "09:00", "place": "Exam hall 2"}),
        );
        early.assert_rule(422, "sitting_before_class", "EXM-5");
        assert_eq!(app.list_all(&format!("/api/v1/sittings?class_id={}", c.class), &c.s.officer).len(), 0);
        c.start(&app);
        let first = sitting(&app, &c.s.officer, &c.class, "first", "2026-04-09");
        let ra = reg_id(&register_one(&app, &c.s.officer, &first, &ann));
        // 8 April 23:59 in Shanghai is still before the sitting.
        c.at(&app, shanghai(2026, 4, 8, 23, 59));
        for token in [&c.s.officer, &c.head] {
            results(&app, token, &first, json!([{"registration_id": ra, "theory_score": 80}]))
                .assert_rule(422, "sitting_not_held", "EXM-5");
        }
        let staff = app.get(&format!("/api/v1/classes/{}/results", c.class), Some(&c.s.officer));
        assert_eq!(staff.body["results"][0]["theory_score"], Value::Null, "{:#}", staff.body);
        // 9 April 00:00 in Shanghai (16:00 UTC the day before): the sitting's day.
        c.at(&app, shanghai(2026, 4, 9, 0, 0));
        let r = results(&app, &c.s.officer, &first, json!([{"registration_id": ra, "theory_score": 80}]));
        r.assert_status(200);
        assert_eq!(r.body[0]["passed"], true);
    }
}
