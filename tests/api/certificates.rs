//! Certificates over HTTP (CRT-1, CRT-2, CRT-4, CRT-8). The fixture at the top
//! ([`graduates`]) is shared with the other certificate and archive tests.

use guild_tests::{TestApp, USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

use crate::attendance::{Course, course_with};
use crate::classes::shanghai;
use crate::enrolments::{EXAM_FEE, TRAINING_FEE, org_person, paid_enrolment, trainee_account};

/// The trainee account of [`Graduates::ann`].
pub const ANN: &str = "ann";

/// A class whose results are published on 10 April 2026 10:00 (Asia/Shanghai):
/// Ann and Bob passed, Cleo failed. All three are people of the setup's
/// organisation `acme`; Ann also has a trainee account ([`ANN`]).
pub struct Graduates {
    /// The class, its head and the setup's accounts.
    pub c: Course,
    /// The program of the class (validity 3 years).
    pub program: String,
    /// (person, enrolment) of Ann, who passed.
    pub ann: (String, String),
    /// (person, enrolment) of Bob, who passed.
    pub bob: (String, String),
    /// (person, enrolment) of Cleo, who failed.
    pub cleo: (String, String),
}

/// Builds [`Graduates`]: a class of program `code`, three paid trainees, a
/// sitting on 9 April, results and their publication on 10 April.
pub fn graduates(app: &TestApp, code: &str) -> Graduates {
    let program_body = json!({
        "code": code,
        "name": format!("Program {code}"),
        "target_categories": ["operations_staff"],
        "training_fee_fen": TRAINING_FEE,
        "exam_fee_fen": EXAM_FEE,
        "exam": {"theory": {"mode": "closed_book", "pass_mark": 60}, "practical": {"pass_mark": 70}},
        "skill_level": false,
        "certificate_name": "Gas operations certificate"
    });
    let mut c = course_with(app, Some(program_body), &format!("{code}-01"));
    let class = app.get(&format!("/api/v1/classes/{}", c.class), Some(&c.s.admin));
    class.assert_status(200);
    let program = class.body["program_id"].as_str().unwrap().to_owned();
    let ann_person = org_person(app, &c.s.org, "Zhang Anna", 1);
    trainee_account(app, &c.s.admin, ANN, &ann_person);
    let ann = paid_enrolment(app, &c.s, &c.class, &ann_person);
    let bob_person = org_person(app, &c.s.org, "Li Bo", 2);
    let bob = paid_enrolment(app, &c.s, &c.class, &bob_person);
    let cleo_person = org_person(app, &c.s.org, "Chen Le", 3);
    let cleo = paid_enrolment(app, &c.s, &c.class, &cleo_person);
    c.start(app);
    let r = app.post(
        "/api/v1/sittings",
        Some(&c.s.officer),
        json!({"class_id": c.class, "kind": "first", "held_on": "2026-04-09", "starts_at": "09:00", "place": "Exam hall 2"}),
    );
    r.assert_status(201);
    let sitting = r.id();
    let r = app.post(
        &format!("/api/v1/sittings/{sitting}/registrations"),
        Some(&c.s.officer),
        json!({"enrolment_ids": [ann, bob, cleo]}),
    );
    r.assert_status(201);
    let regs: Vec<String> = r.body["registered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x: &Value| x["id"].as_str().unwrap().to_owned())
        .collect();
    let scores = [(90, 90), (60, 70), (40, 50)];
    let results: Vec<Value> = regs
        .iter()
        .zip(scores)
        .map(|(id, (t, p))| json!({"registration_id": id, "theory_score": t, "practical_score": p}))
        .collect();
    app.post(
        &format!("/api/v1/sittings/{sitting}/results"),
        Some(&c.s.officer),
        json!({ "results": results }),
    )
    .assert_status(200);
    c.at(app, shanghai(2026, 4, 10, 10, 0));
    app.post(
        &format!("/api/v1/classes/{}/results/publish", c.class),
        Some(&c.s.officer),
        json!({}),
    )
    .assert_status(200);
    let _ = USER_PASSWORD;
    Graduates {
        c,
        program,
        ann: (ann_person, ann),
        bob: (bob_person, bob),
        cleo: (cleo_person, cleo),
    }
}

backend_tests! {
    // rule CRT-1: the shared fixture reaches published results
    fn the_graduates_fixture_publishes_results(app: TestApp) {
        let g = graduates(&app, "CRT-FIX");
        let r = app.get(&format!("/api/v1/classes/{}/results", g.c.class), Some(&g.c.s.officer));
        r.assert_status(200);
        let passed: Vec<Value> = r.body["results"].as_array().unwrap().iter().map(|x| x["passed"].clone()).collect();
        assert_eq!(passed.iter().filter(|p| **p == json!(true)).count(), 2, "{:#}", r.body);
        assert_eq!(g.ann.0.len(), 36);
        let _ = (&g.program, &g.bob, &g.cleo, ANN);
    }
}
