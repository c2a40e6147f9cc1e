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
    // Results are entered once the sitting has taken place (EXM-5).
    c.at(app, shanghai(2026, 4, 9, 15, 0));
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

/// Builds [`graduates`] of program `code` and issues the class's certificates
/// (CRT-1) on 10 April 2026 10:00 Shanghai, as the training officer: Ann's and
/// Bob's, in that order. Returns the fixture and the two certificate views
/// (`id`, `number`, `code`, `verify_url`, `status`, `person_id`, ...).
pub fn issued(app: &TestApp, code: &str) -> (Graduates, Vec<Value>) {
    let g = graduates(app, code);
    let r = app.post(
        &format!("/api/v1/classes/{}/certificates", g.c.class),
        Some(&g.c.s.officer),
        json!({}),
    );
    r.assert_status(201);
    let mut certs = r.body["issued"].as_array().unwrap().clone();
    let rank = |c: &Value| {
        if c["person_id"] == json!(g.ann.0) {
            0
        } else {
            1
        }
    };
    certs.sort_by_key(rank);
    assert_eq!(certs.len(), 2, "{:#}", r.body);
    (g, certs)
}

/// Passes `enrolments` of an existing, started `class` and issues their
/// certificates (CRT-1), as training staff `staff`: a `first` sitting held on
/// `held_on` (YYYY-MM-DD), every enrolment registered and scored 90 (theory,
/// and practical where the program has one), the class's results published
/// and the certificates issued. The class must have no other registration
/// without a result (EXM-5). Returns the issued certificate views.
pub fn pass_and_issue(
    app: &TestApp,
    staff: &str,
    class: &str,
    enrolments: &[String],
    held_on: &str,
) -> Vec<Value> {
    let r = app.post(
        "/api/v1/sittings",
        Some(staff),
        json!({"class_id": class, "kind": "first", "held_on": held_on, "starts_at": "09:00", "place": "Exam hall 1"}),
    );
    r.assert_status(201);
    let sitting = r.id();
    let r = app.post(
        &format!("/api/v1/sittings/{sitting}/registrations"),
        Some(staff),
        json!({ "enrolment_ids": enrolments }),
    );
    r.assert_status(201);
    let program_id = app
        .get(&format!("/api/v1/classes/{class}"), Some(staff))
        .body["program_id"]
        .clone();
    let program = app.get(
        &format!("/api/v1/programs/{}", program_id.as_str().unwrap()),
        Some(staff),
    );
    let practical = !program.body["exam"]["practical"].is_null();
    let results: Vec<Value> = r.body["registered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let mut result = json!({"registration_id": x["id"], "theory_score": 90});
            if practical {
                result["practical_score"] = json!(90);
            }
            result
        })
        .collect();
    app.post(
        &format!("/api/v1/sittings/{sitting}/results"),
        Some(staff),
        json!({ "results": results }),
    )
    .assert_status(200);
    app.post(
        &format!("/api/v1/classes/{class}/results/publish"),
        Some(staff),
        json!({}),
    )
    .assert_status(200);
    let r = app.post(
        &format!("/api/v1/classes/{class}/certificates"),
        Some(staff),
        json!({}),
    );
    r.assert_status(201);
    r.body["issued"].as_array().unwrap().clone()
}

/// `GET /api/v1/certificates/{id}` of the certificate `c` as `token`, asserting 200.
fn cert(app: &TestApp, token: &str, c: &Value) -> Value {
    let r = app.get(
        &format!("/api/v1/certificates/{}", c["id"].as_str().unwrap()),
        Some(token),
    );
    r.assert_status(200);
    r.body.clone()
}

/// The public verification of `code` (CRT-2), asserting 200.
fn verify(app: &TestApp, code: &Value) -> Value {
    let r = app.get(
        &format!("/api/v1/public/certificates/{}", code.as_str().unwrap()),
        None,
    );
    r.assert_status(200);
    r.body.clone()
}

/// `POST /certificates/{id}/ce-records` as `token`.
fn ce(app: &TestApp, token: &str, id: &Value, completed_on: &str) -> guild_tests::Resp {
    app.post(
        &format!("/api/v1/certificates/{}/ce-records", id.as_str().unwrap()),
        Some(token),
        json!({"kind": "association_learning", "title": "New gas safety regulations", "hours": 8,
               "completed_on": completed_on, "evidence_reference": "ASSOC-LEARN-031"}),
    )
}

/// The numbers of the certificates a list answers.
fn numbers(items: &[Value]) -> Vec<String> {
    let mut n: Vec<String> = items
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
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

    // rule CRT-1: one certificate per passer, unique numbers, unguessable codes;
    // re-running issues nothing twice; CRT-2/CRT-8: the public verification
    fn certificates_go_to_those_who_passed(app: TestApp) {
        let (g, certs) = issued(&app, "CRT-ISS");
        let (ann, bob) = (&certs[0], &certs[1]);
        assert_eq!(ann["person_id"], json!(g.ann.0));
        assert_eq!(bob["person_id"], json!(g.bob.0));
        assert_ne!(ann["number"], bob["number"]);
        for c in &certs {
            let number = c["number"].as_str().unwrap();
            assert!(number.starts_with("GA2026") && number.len() == 12, "{number}");
            let code = c["code"].as_str().unwrap();
            assert_eq!(code.len(), 24);
            assert!(code.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'), "{code}");
            assert_eq!(c["verify_url"], json!(format!("{}/verify/{code}", guild_tests::PUBLIC_BASE_URL)));
            assert_eq!(c["status"], "valid");
            assert_eq!(c["issued_on"], "2026-04-10");
            assert_eq!(c["period_started_on"], "2026-04-10");
            // rule CRT-1: three years, ending the day before the anniversary
            assert_eq!(c["valid_until"], "2029-04-09");
            assert_eq!(c["class_id"], json!(g.c.class));
            assert_eq!(c["program_id"], json!(g.program));
            assert_eq!(c["organisation_id"], json!(g.c.s.org.id));
            assert_eq!(c["renewals"], 0);
            assert!(c.get("id_number").is_none());
        }
        assert_eq!(ann["holder_name"], "Zhang Anna");
        assert_eq!(ann["enrolment_id"], json!(g.ann.1));
        assert_ne!(ann["code"], bob["code"]);
        // Cleo failed: no certificate
        let cleo = app.list_all(&format!("/api/v1/certificates?person_id={}", g.cleo.0), &g.c.s.officer);
        assert!(cleo.is_empty(), "{cleo:?}");
        let all = app.list_all(&format!("/api/v1/certificates?class_id={}", g.c.class), &g.c.s.officer);
        assert_eq!(all.len(), 2);
        // re-running issues only the missing ones: none
        let again = app.post(&format!("/api/v1/classes/{}/certificates", g.c.class), Some(&g.c.s.head), json!({}));
        again.assert_status(200);
        assert_eq!(again.body["issued"], json!([]));
        let skipped = again.body["skipped"].as_array().unwrap();
        assert_eq!(skipped.len(), 2);
        assert!(skipped.iter().all(|s| s["code"] == "already_issued"));
        assert!(skipped.iter().any(|s| s["certificate_id"] == ann["id"]));
        assert_eq!(app.list_all("/api/v1/certificates", &g.c.s.officer).len(), 2);
        // the view carries an ETag with its version
        let r = app.get(&format!("/api/v1/certificates/{}", ann["id"].as_str().unwrap()), Some(&g.c.s.officer));
        r.assert_status(200);
        assert_eq!(r.header("etag"), "\"1\"");
        // rule API-6: issuing is audited
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={}", ann["id"].as_str().unwrap()), &g.c.s.admin);
        assert!(audit.iter().any(|e| e["action"] == "certificate.issue"), "{audit:?}");
        // rule API-8: and written to the outbox, in the holder's organisation
        let events = app.outbox("certificate", ann["id"].as_str().unwrap());
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, "certificate.issued");
        assert_eq!(events[0].organisation_id.as_deref(), Some(g.c.s.org.id.as_str()));
        assert!(events[0].payload.contains(ann["number"].as_str().unwrap()), "{}", events[0].payload);
        // rule CRT-2: anyone verifying sees valid, the masked name, never the ID number
        let v = verify(&app, &ann["code"]);
        assert_eq!(v["status"], "valid");
        assert_eq!(v["number"], ann["number"]);
        assert_ne!(v["holder_name"], "Zhang Anna");
        assert!(v["holder_name"].as_str().unwrap().starts_with('Z'));
        assert!(!v.to_string().contains("id_number"));
    }

    // rule CRT-1: only training staff issue, and only after the results are published
    fn issuing_needs_published_results_and_training_staff(app: TestApp) {
        let c = course_with(&app, None, "CRT-UNP-01");
        let url = format!("/api/v1/classes/{}/certificates", c.class);
        app.post(&url, Some(&c.s.officer), json!({}))
            .assert_rule(422, "results_not_published", "CRT-1");
        app.post(&url, Some(&c.s.org.reviewer), json!({})).assert_problem(403, "forbidden");
        app.post(&url, Some(&c.s.finance), json!({})).assert_problem(403, "forbidden");
        app.post(&url, Some(&c.head), json!({})).assert_problem(403, "forbidden");
        let unknown = format!("/api/v1/classes/{}/certificates", uuid::Uuid::now_v7());
        app.post(&unknown, Some(&c.s.officer), json!({})).assert_problem(404, "not_found");
        assert!(app.list_all("/api/v1/certificates", &c.s.officer).is_empty());
        // once passed and published, the certificate follows
        let mut c = c;
        let wu = c.paid(&app, "Wu Fang", 7);
        c.start(&app);
        let certs = pass_and_issue(&app, &c.s.officer, &c.class, std::slice::from_ref(&wu), "2026-04-06");
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0]["enrolment_id"], json!(wu));
        assert_eq!(certs[0]["issued_on"], "2026-04-06");
        assert_eq!(certs[0]["status"], "valid");
    }

    // rule ACC-2: staff see all, the organisation its own, a trainee their own, others nothing
    fn certificates_are_visible_to_holder_and_organisation_only(app: TestApp) {
        let (g, certs) = issued(&app, "CRT-VIS");
        let other = app.org_with_accounts(&g.c.s.admin, "other");
        let (ann, bob) = (&certs[0], &certs[1]);
        let path = |c: &Value, tail: &str| format!("/api/v1/certificates/{}{tail}", c["id"].as_str().unwrap());
        // the holder's organisation sees both, in full
        assert_eq!(numbers(&app.list_all("/api/v1/certificates", &g.c.s.org.filler)), numbers(&certs));
        assert_eq!(cert(&app, &g.c.s.org.reviewer, bob)["holder_name"], "Li Bo");
        // another organisation sees nothing and gets 404 as for an unknown id
        assert!(app.list_all("/api/v1/certificates", &other.reviewer).is_empty());
        for tail in ["", "/qr.png", "/qr.svg", "/ce-records"] {
            app.get(&path(ann, tail), Some(&other.reviewer)).assert_problem(404, "not_found");
        }
        // the trainee sees their own only
        let ann_token = app.login(ANN, USER_PASSWORD);
        let own = app.list_all("/api/v1/certificates", &ann_token);
        assert_eq!(numbers(&own), numbers(&certs[..1]));
        let filtered = app.list_all(&format!("/api/v1/certificates?person_id={}", g.bob.0), &ann_token);
        assert!(filtered.is_empty());
        cert(&app, &ann_token, ann);
        app.get(&path(bob, ""), Some(&ann_token)).assert_problem(404, "not_found");
        // the authority sees all; a teacher may not read certificates
        let authority = app.create_user(&g.c.s.admin, "authority", "authority", None);
        assert_eq!(app.list_all("/api/v1/certificates", &authority).len(), 2);
        app.get("/api/v1/certificates", Some(&g.c.head)).assert_problem(403, "forbidden");
        app.get(&path(ann, ""), Some(&g.c.head)).assert_problem(403, "forbidden");
        // unknown and malformed ids
        app.get(&format!("/api/v1/certificates/{}", uuid::Uuid::now_v7()), Some(&g.c.s.officer))
            .assert_problem(404, "not_found");
        app.get("/api/v1/certificates/not-a-uuid", Some(&g.c.s.officer)).assert_status(400);
        app.get("/api/v1/certificates", None).assert_problem(401, "unauthenticated");
    }

    // rule CRT-2: the QR code (PNG and SVG) encodes the public verification URL
    fn qr_codes_encode_the_verification_url(app: TestApp) {
        let (g, certs) = issued(&app, "CRT-QR");
        let ann = &certs[0];
        let expected = format!("{}/verify/{}", guild_tests::PUBLIC_BASE_URL, ann["code"].as_str().unwrap());
        let url = app.url(&format!("/api/v1/certificates/{}/qr.png", ann["id"].as_str().unwrap()));
        let res = app.client().get(&url).bearer_auth(&g.c.s.org.reviewer).send().unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["content-type"], "image/png");
        let bytes = res.bytes().unwrap();
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap().to_luma8();
        let (w, h) = img.dimensions();
        assert!(w >= 256 && h >= 256);
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32)[0]
        });
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, text) = grids[0].decode().unwrap();
        assert_eq!(text, expected);
        let svg = app.get(&format!("/api/v1/certificates/{}/qr.svg", ann["id"].as_str().unwrap()), Some(&g.c.s.officer));
        svg.assert_status(200);
        assert_eq!(svg.header("content-type"), "image/svg+xml");
        let text = svg.body.as_str().unwrap();
        assert!(text.starts_with("<?xml") || text.starts_with("<svg"), "{text}");
        assert!(text.contains("<svg"));
    }

    // rule CRT-4, CRT-8: a period ending without CE shows expired, then lapsed
    // after the grace window; a lapsed certificate takes no CE
    fn certificates_expire_then_lapse_without_ce(app: TestApp) {
        let (mut g, certs) = issued(&app, "CRT-EXP");
        let ann = &certs[0];
        g.c.at(&app, shanghai(2029, 4, 9, 23, 0));
        assert_eq!(cert(&app, &g.c.s.officer, ann)["status"], "valid");
        g.c.at(&app, shanghai(2029, 4, 10, 0, 30));
        let c = cert(&app, &g.c.s.org.reviewer, ann);
        assert_eq!(c["status"], "expired");
        assert_eq!(c["grace_ends_on"], "2029-07-08");
        assert_eq!(verify(&app, &ann["code"])["status"], "expired");
        let expired = app.list_all("/api/v1/certificates?status=expired", &g.c.s.officer);
        assert_eq!(expired.len(), 2);
        assert!(app.list_all("/api/v1/certificates?status=valid", &g.c.s.officer).is_empty());
        // after the 90-day grace window: lapsed
        g.c.at(&app, shanghai(2029, 7, 9, 9, 0));
        assert_eq!(cert(&app, &g.c.s.officer, ann)["status"], "lapsed");
        assert_eq!(verify(&app, &ann["code"])["status"], "lapsed");
        assert_eq!(app.list_all("/api/v1/certificates?status=lapsed", &g.c.s.officer).len(), 2);
        assert!(app.list_all("/api/v1/certificates?status=expired", &g.c.s.officer).is_empty());
        // CE completed within the old period can no longer be recorded
        ce(&app, &g.c.s.officer, &ann["id"], "2028-06-01").assert_rule(422, "certificate_lapsed", "CRT-4");
        let c = cert(&app, &g.c.s.officer, ann);
        assert_eq!((c["valid_until"].clone(), c["renewals"].clone()), (json!("2029-04-09"), json!(0)));
        let records = app.list_all(&format!("/api/v1/certificates/{}/ce-records", ann["id"].as_str().unwrap()), &g.c.s.officer);
        assert!(records.is_empty());
    }

    // rule CRT-4: CE within the period renews for one more period from the
    // current expiry, also in the grace window; the certificate then shows
    // valid after its original expiry
    fn ce_renews_the_certificate(app: TestApp) {
        let (mut g, certs) = issued(&app, "CRT-CE");
        let (ann, bob) = (&certs[0], &certs[1]);
        g.c.at(&app, shanghai(2027, 5, 1, 10, 0));
        // only training staff record CE
        ce(&app, &g.c.s.org.reviewer, &ann["id"], "2027-04-20").assert_problem(403, "forbidden");
        // not in the future, not before the period
        ce(&app, &g.c.s.officer, &ann["id"], "2027-05-02").assert_rule(422, "ce_completed_in_future", "CRT-4");
        ce(&app, &g.c.s.officer, &ann["id"], "2026-04-09").assert_rule(422, "ce_outside_period", "CRT-4");
        // bad input
        let bad = app.post(
            &format!("/api/v1/certificates/{}/ce-records", ann["id"].as_str().unwrap()),
            Some(&g.c.s.officer),
            json!({"kind": "association_learning", "title": " ", "hours": 0, "completed_on": "2027-04-20"}),
        );
        bad.assert_problem(422, "validation_failed");
        // a stale If-Match is refused (API-5)
        let stale = app.request(
            reqwest::Method::POST,
            &format!("/api/v1/certificates/{}/ce-records", ann["id"].as_str().unwrap()),
            Some(&g.c.s.officer),
            Some(&json!({"kind": "ce_class", "title": "Pipeline technology", "hours": 4, "completed_on": "2027-04-20"})),
            &[("If-Match", "\"7\"")],
        );
        stale.assert_problem(412, "version_mismatch");
        let r = ce(&app, &g.c.s.officer, &ann["id"], "2027-04-20");
        r.assert_status(201);
        assert_eq!(r.body["record"]["period_ended_on"], "2029-04-09");
        assert_eq!(r.body["record"]["renewed_until"], "2032-04-09");
        assert_eq!(r.body["record"]["kind"], "association_learning");
        let c = &r.body["certificate"];
        assert_eq!(c["valid_until"], "2032-04-09");
        assert_eq!(c["period_started_on"], "2029-04-10");
        assert_eq!(c["renewals"], 1);
        assert_eq!(c["status"], "valid");
        // a second CE of the same (now previous) period does not renew twice
        ce(&app, &g.c.s.officer, &ann["id"], "2027-04-25").assert_rule(422, "ce_outside_period", "CRT-4");
        let records = app.list_all(&format!("/api/v1/certificates/{}/ce-records", ann["id"].as_str().unwrap()), &g.c.s.org.filler);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["hours"], 8);
        // rule API-6
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={}", ann["id"].as_str().unwrap()), &g.c.s.admin);
        assert!(audit.iter().any(|e| e["action"] == "certificate.ce_record"), "{audit:?}");
        let events = app.outbox("certificate", ann["id"].as_str().unwrap());
        assert!(events.iter().any(|e| e.kind == "certificate.ce_recorded" && e.payload.contains("ce_record")), "{events:?}");
        // after the original expiry: Ann is valid, Bob expired
        g.c.at(&app, shanghai(2029, 5, 1, 10, 0));
        assert_eq!(cert(&app, &g.c.s.officer, ann)["status"], "valid");
        assert_eq!(verify(&app, &ann["code"])["status"], "valid");
        assert_eq!(cert(&app, &g.c.s.officer, bob)["status"], "expired");
        // Bob's CE completed within his period still renews during the grace window
        let r = ce(&app, &g.c.s.head, &bob["id"], "2029-03-01");
        r.assert_status(201);
        assert_eq!(r.body["certificate"]["valid_until"], "2032-04-09");
        assert_eq!(r.body["certificate"]["status"], "valid");
        assert_eq!(verify(&app, &bob["code"])["status"], "valid");
        // three years on, both renewed certificates are still valid; CE of the
        // new period renews again
        g.c.at(&app, shanghai(2031, 1, 10, 10, 0));
        let r = ce(&app, &g.c.s.officer, &ann["id"], "2030-11-20");
        r.assert_status(201);
        assert_eq!(r.body["certificate"]["valid_until"], "2035-04-09");
        assert_eq!(r.body["certificate"]["renewals"], 2);
    }

    // rule CRT-8, CRT-4: the reminder list of certificates expiring within N days
    fn lists_filter_by_expiry_window_and_status(app: TestApp) {
        let (mut g, certs) = issued(&app, "CRT-WIN");
        let (ann, bob) = (&certs[0], &certs[1]);
        let officer = |g: &Graduates| g.c.s.officer.clone();
        g.c.at(&app, shanghai(2029, 1, 1, 10, 0));
        // 2029-01-01 + 90 days = 2029-04-01: before the expiry on 2029-04-09
        assert!(app.list_all("/api/v1/certificates?expiring_within_days=90", &officer(&g)).is_empty());
        g.c.at(&app, shanghai(2029, 2, 1, 10, 0));
        let soon = app.list_all("/api/v1/certificates?expiring_within_days=90", &officer(&g));
        assert_eq!(numbers(&soon), numbers(&certs));
        let org = app.list_all("/api/v1/certificates?expiring_within_days=90&status=valid", &g.c.s.org.reviewer);
        assert_eq!(org.len(), 2);
        // expiring certificates are valid ones: no match with another status
        assert!(app.list_all("/api/v1/certificates?expiring_within_days=90&status=lapsed", &officer(&g)).is_empty());
        // a renewed certificate leaves the reminder list
        ce(&app, &officer(&g), &ann["id"], "2029-01-15").assert_status(201);
        let soon = app.list_all("/api/v1/certificates?expiring_within_days=90", &officer(&g));
        assert_eq!(numbers(&soon), numbers(std::slice::from_ref(bob)));
        // explicit valid_until range and other filters
        let range = app.list_all("/api/v1/certificates?valid_until_from=2030-01-01&valid_until_to=2033-01-01", &officer(&g));
        assert_eq!(numbers(&range), numbers(std::slice::from_ref(ann)));
        let by_program = app.list_all(&format!("/api/v1/certificates?program_id={}&status=valid", g.program), &officer(&g));
        assert_eq!(by_program.len(), 2);
        // paging keeps a stable order
        let page = app.get("/api/v1/certificates?limit=1", Some(&officer(&g)));
        page.assert_status(200);
        assert_eq!(page.body["items"][0]["id"], ann["id"]);
        let next = page.body["next_cursor"].as_str().unwrap();
        let page2 = app.get(&format!("/api/v1/certificates?limit=1&cursor={next}"), Some(&officer(&g)));
        assert_eq!(page2.body["items"][0]["id"], bob["id"]);
        assert_eq!(page2.body["next_cursor"], Value::Null);
        // bad filters answer 400
        app.get("/api/v1/certificates?status=shiny", Some(&officer(&g))).assert_status(400);
        app.get("/api/v1/certificates?expiring_within_days=99999", Some(&officer(&g))).assert_problem(400, "invalid_query");
        app.get("/api/v1/certificates?limit=0", Some(&officer(&g))).assert_problem(400, "invalid_query");
    }

    // rule CRT-8: the company list as CSV, with names but never ID numbers
    fn certificates_export_as_csv(app: TestApp) {
        let (g, certs) = issued(&app, "CRT-CSV");
        let other = app.org_with_accounts(&g.c.s.admin, "other");
        let r = app.get("/api/v1/certificates/export", Some(&g.c.s.org.reviewer));
        r.assert_status(200);
        assert!(r.header("content-type").starts_with("text/csv"), "{}", r.header("content-type"));
        let text = r.body.as_str().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "number,holder_name,program_code,program_name,certificate_name,issued_on,valid_until,status,organisation,verify_url"
        );
        assert_eq!(lines.len(), 3, "{text}");
        let ann_line = lines.iter().find(|l| l.starts_with(certs[0]["number"].as_str().unwrap())).unwrap();
        assert!(ann_line.contains(",Zhang Anna,CRT-CSV,"), "{ann_line}");
        assert!(ann_line.contains(",2026-04-10,2029-04-09,valid,Organisation acme,"), "{ann_line}");
        assert!(ann_line.ends_with(certs[0]["verify_url"].as_str().unwrap()));
        assert!(!text.contains(&guild_tests::valid_id_number(1)));
        assert!(!text.contains("id_number"));
        // filters apply; other organisations export their own (nothing)
        let only_ann = app.get(&format!("/api/v1/certificates/export?person_id={}", g.ann.0), Some(&g.c.s.officer));
        assert_eq!(only_ann.body.as_str().unwrap().lines().count(), 2);
        let none = app.get("/api/v1/certificates/export", Some(&other.filler));
        none.assert_status(200);
        assert_eq!(none.body.as_str().unwrap().lines().count(), 1);
        let none = app.get("/api/v1/certificates/export?status=lapsed", Some(&g.c.s.officer));
        assert_eq!(none.body.as_str().unwrap().lines().count(), 1);
        app.get("/api/v1/certificates/export?limit=5", Some(&g.c.s.officer)).assert_status(400);
        app.get("/api/v1/certificates/export", Some(&g.c.head)).assert_problem(403, "forbidden");
    }

    // rule CRT-1, EXM-5: a retake's pass gets its certificate only once published
    fn a_retake_pass_is_issued_after_its_publication(app: TestApp) {
        let (mut g, _) = issued(&app, "CRT-RTK");
        g.c.at(&app, shanghai(2026, 5, 9, 15, 0));
        let officer = &g.c.s.officer;
        let r = app.post(
            "/api/v1/sittings",
            Some(officer),
            json!({"class_id": g.c.class, "kind": "retake", "held_on": "2026-05-09", "starts_at": "09:00", "place": "Exam hall 2"}),
        );
        r.assert_status(201);
        let sitting = r.id();
        let r = app.post(
            &format!("/api/v1/sittings/{sitting}/registrations"),
            Some(officer),
            json!({"enrolment_ids": [g.cleo.1]}),
        );
        r.assert_status(201);
        let reg = r.body["registered"][0]["id"].clone();
        app.post(
            &format!("/api/v1/sittings/{sitting}/results"),
            Some(officer),
            json!({"results": [{"registration_id": reg, "theory_score": 80, "practical_score": 80}]}),
        )
        .assert_status(200);
        let url = format!("/api/v1/classes/{}/certificates", g.c.class);
        let r = app.post(&url, Some(officer), json!({}));
        r.assert_status(200);
        let cleo = r.body["skipped"].as_array().unwrap().iter().find(|s| s["enrolment_id"] == json!(g.cleo.1)).cloned().unwrap();
        assert_eq!(cleo["code"], "result_not_published");
        app.post(&format!("/api/v1/classes/{}/results/publish", g.c.class), Some(officer), json!({}))
            .assert_status(200);
        let r = app.post(&url, Some(officer), json!({}));
        r.assert_status(201);
        let issued = r.body["issued"].as_array().unwrap();
        assert_eq!(issued.len(), 1);
        assert_eq!(issued[0]["person_id"], json!(g.cleo.0));
        assert_eq!(issued[0]["holder_name"], "Chen Le");
        assert_eq!(r.body["skipped"].as_array().unwrap().len(), 2);
        assert_eq!(app.list_all("/api/v1/certificates", officer).len(), 3);
    }
}
