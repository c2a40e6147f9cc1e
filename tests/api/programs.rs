//! `/programs` (PRG-1): fees in integer fen, exam components, certificate
//! validity, per-field validation and the `active` ⇄ `retired` state machine.

use guild_tests::{Method, TestApp, backend_tests};
use serde_json::{Value, json};

/// A valid program body with code `code`.
pub fn program_body(code: &str) -> Value {
    json!({
        "code": code,
        "name": format!("Program {code}"),
        "description": "Safety management for gas enterprises",
        "target_categories": ["principal_head", "safety_manager"],
        "training_fee_fen": 120050,
        "exam_fee_fen": 30001,
        "exam": {"theory": {"mode": "closed_book", "pass_mark": 60}, "practical": {"pass_mark": 70}},
        "skill_level": false,
        "certificate_name": "Gas enterprise safety manager certificate"
    })
}

/// Creates a program as `token` and returns its id.
#[track_caller]
pub fn create_program(app: &TestApp, token: &str, code: &str) -> String {
    let r = app.post("/api/v1/programs", Some(token), program_body(code));
    r.assert_status(201);
    r.id()
}

fn action(app: &TestApp, token: &str, id: &str, action: &str) -> guild_tests::Resp {
    app.post(
        &format!("/api/v1/programs/{id}/{action}"),
        Some(token),
        json!({}),
    )
}

backend_tests! {
    // rule PRG-1: fees are integer fen and round-trip exactly; validity defaults to 3 years
    fn a_program_round_trips_with_fees_in_fen(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let mut body = program_body("gas-mgr-1");
        body["training_fee_fen"] = json!(9_999_999_999_i64);
        let r = app.post("/api/v1/programs", Some(&officer), body);
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.header("location"), format!("/api/v1/programs/{id}"));
        assert_eq!(r.header("etag"), "\"1\"");
        assert_eq!(r.body["code"], "GAS-MGR-1", "codes are upper-cased");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["validity_years"], 3, "default validity (PRG-1)");
        assert_eq!(r.body["skill_level"], false);
        let got = app.get(&format!("/api/v1/programs/{id}"), Some(&officer));
        got.assert_status(200);
        assert_eq!(got.body["training_fee_fen"], json!(9_999_999_999_i64));
        assert!(got.body["training_fee_fen"].is_i64(), "money is an integer, never a float");
        assert_eq!(got.body["exam_fee_fen"], json!(30001));
        assert_eq!(got.body["target_categories"], json!(["principal_head", "safety_manager"]));
        assert_eq!(
            got.body["exam"],
            json!({"theory": {"mode": "closed_book", "pass_mark": 60}, "practical": {"pass_mark": 70}})
        );
        assert_eq!(got.body["certificate_name"], "Gas enterprise safety manager certificate");
        assert_eq!(got.body, r.body);

        // A skill-level program with a practical part only and a 5-year certificate.
        let mut body = program_body("WELD-L3");
        body["skill_level"] = json!(true);
        body["validity_years"] = json!(5);
        body["exam"] = json!({"practical": {"pass_mark": 0}});
        body["training_fee_fen"] = json!(0);
        let r = app.post("/api/v1/programs", Some(&admin), body);
        r.assert_status(201);
        assert_eq!(r.body["skill_level"], true);
        assert_eq!(r.body["validity_years"], 5);
        assert_eq!(r.body["exam"], json!({"theory": null, "practical": {"pass_mark": 0}}));
        assert_eq!(r.body["training_fee_fen"], 0);
    }

    // rule PRG-1: every invalid field is reported at once, each by name
    fn program_validation_names_every_field(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/programs", Some(&admin), json!({
            "code": "x",
            "name": " ",
            "target_categories": [],
            "training_fee_fen": -1,
            "exam_fee_fen": 10_000_000_001_i64,
            "exam": {"theory": {"mode": "open_book", "pass_mark": 101}, "practical": {"pass_mark": -5}},
            "certificate_name": "",
            "validity_years": 11
        }));
        r.assert_problem(422, "validation_failed");
        let fields: Vec<(String, String)> = r.body["errors"].as_array().unwrap().iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        let want = [
            ("code", "program_code_format"),
            ("name", "length"),
            ("target_categories", "target_categories_empty"),
            ("training_fee_fen", "amount_out_of_range"),
            ("exam_fee_fen", "amount_out_of_range"),
            ("exam.theory.pass_mark", "pass_mark_out_of_range"),
            ("exam.practical.pass_mark", "pass_mark_out_of_range"),
            ("certificate_name", "length"),
            ("validity_years", "validity_out_of_range"),
        ];
        assert_eq!(fields.len(), want.len(), "{:#}", r.body);
        for (field, code) in want {
            assert!(fields.contains(&(field.to_owned(), code.to_owned())), "{field} {code} missing: {:#}", r.body);
        }

        // One field at a time.
        let cases: [(&str, Value, &str, &str); 7] = [
            ("exam", json!({}), "exam", "exam_components_missing"),
            ("target_categories", json!(["safety_manager", "safety_manager"]), "target_categories", "target_categories_duplicate"),
            ("validity_years", json!(0), "validity_years", "validity_out_of_range"),
            ("code", json!("AB_C"), "code", "program_code_format"),
            ("code", json!("A".repeat(33)), "code", "program_code_format"),
            ("name", json!("n".repeat(129)), "name", "length"),
            ("description", json!("d".repeat(4001)), "description", "length"),
        ];
        for (key, value, field, code) in cases {
            let mut body = program_body("OK-1");
            body[key] = value;
            let r = app.post("/api/v1/programs", Some(&admin), body);
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), [field], "{:#}", r.body);
            assert_eq!(r.body["errors"][0]["code"], code);
        }
        // Shape errors name the field too.
        let mut body = program_body("OK-1");
        body.as_object_mut().unwrap().remove("exam");
        let r = app.post("/api/v1/programs", Some(&admin), body);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["exam"]);
        let mut body = program_body("OK-1");
        body["fee"] = json!(1);
        app.post("/api/v1/programs", Some(&admin), body).assert_problem(422, "validation_failed");
        let mut body = program_body("OK-1");
        body["training_fee_fen"] = json!(12.5);
        app.post("/api/v1/programs", Some(&admin), body).assert_problem(422, "invalid_body");
        // Nothing was created.
        assert!(app.list_all("/api/v1/programs", &admin).is_empty());
    }

    // rule PRG-1: codes are unique
    fn program_codes_are_unique(app: TestApp) {
        let admin = app.admin();
        create_program(&app, &admin, "DUP-1");
        app.post("/api/v1/programs", Some(&admin), program_body("dup-1"))
            .assert_problem(409, "already_exists");
        let other = create_program(&app, &admin, "DUP-2");
        app.patch(&format!("/api/v1/programs/{other}"), Some(&admin), json!({"code": "DUP-1"}))
            .assert_problem(409, "already_exists");
    }

    // rule PRG-1, API-4: active ⇄ retired; a wrong state answers 409 with the allowed actions
    fn retire_and_reinstate_follow_the_state_machine(app: TestApp) {
        let admin = app.admin();
        let head = app.create_user(&admin, "head", "training_head", None);
        let id = create_program(&app, &head, "RET-1");
        action(&app, &head, &id, "reinstate")
            .assert_rule(409, "invalid_transition", "PRG-1");
        let r = action(&app, &head, &id, "retire");
        r.assert_status(200);
        assert_eq!(r.body["status"], "retired");
        assert_eq!(r.body["version"], 2);
        let r = action(&app, &head, &id, "retire");
        r.assert_rule(409, "invalid_transition", "PRG-1");
        assert_eq!(r.body["allowed_actions"], json!(["reinstate"]));
        let listed = app.list_all("/api/v1/programs?status=retired", &head);
        assert_eq!(listed.len(), 1);
        let r = action(&app, &head, &id, "reinstate");
        r.assert_status(200);
        assert_eq!(r.body["status"], "active");
        let r = action(&app, &head, &id, "reinstate");
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!(["retire"]));
        action(&app, &head, &uuid::Uuid::new_v4().to_string(), "retire")
            .assert_problem(404, "not_found");
        // each change wrote its outbox row in its transaction (API-8)
        let outbox = app.outbox("program", &id);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["program.created", "program.retired", "program.reinstated"]);
        assert!(outbox.iter().all(|e| e.organisation_id.is_none()), "programs belong to no organisation");
        let reinstated: Value = serde_json::from_str(&outbox[2].payload).unwrap();
        assert_eq!(reinstated["status"], "active");
    }

    // rule PRG-1: training staff define programs; every authenticated role reads them
    fn only_training_staff_change_programs(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let finance = app.create_user(&admin, "finance.clerk", "finance", None);
        let id = create_program(&app, &admin, "READ-1");
        for token in [&org.filler, &org.reviewer, &finance] {
            app.post("/api/v1/programs", Some(token), program_body("NOPE-1"))
                .assert_problem(403, "forbidden");
            app.patch(&format!("/api/v1/programs/{id}"), Some(token), json!({"name": "Nope"}))
                .assert_problem(403, "forbidden");
            action(&app, token, &id, "retire").assert_problem(403, "forbidden");
            let got = app.get(&format!("/api/v1/programs/{id}"), Some(token));
            got.assert_status(200);
            assert_eq!(got.body["code"], "READ-1");
            assert_eq!(app.list_all("/api/v1/programs", token).len(), 1);
        }
        app.get("/api/v1/programs", None).assert_problem(401, "unauthenticated");
    }

    // rule PRG-1, API-5: updates honour If-Match and are validated as a whole
    fn updating_a_program(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let id = create_program(&app, &officer, "UPD-1");
        let path = format!("/api/v1/programs/{id}");
        let r = app.request(Method::PATCH, &path, Some(&officer), Some(&json!({"training_fee_fen": 99900})), &[("If-Match", "\"7\"")]);
        r.assert_problem(412, "version_mismatch");
        let r = app.request(
            Method::PATCH,
            &path,
            Some(&officer),
            Some(&json!({"training_fee_fen": 99900, "exam": {"theory": {"mode": "open_book", "pass_mark": 50}}, "description": "", "validity_years": 10})),
            &[("If-Match", "\"1\"")],
        );
        r.assert_status(200);
        assert_eq!(r.body["training_fee_fen"], 99900);
        assert_eq!(r.body["exam_fee_fen"], 30001, "untouched");
        assert_eq!(r.body["exam"], json!({"theory": {"mode": "open_book", "pass_mark": 50}, "practical": null}));
        assert_eq!(r.body["description"], Value::Null);
        assert_eq!(r.body["validity_years"], 10);
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.header("etag"), "\"2\"");
        let r = app.patch(&path, Some(&officer), json!({"exam": {}, "training_fee_fen": -3}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["exam", "training_fee_fen"]);
        let got = app.get(&path, Some(&officer));
        assert_eq!(got.body["version"], 2, "a refused update changes nothing");
        app.patch(&format!("/api/v1/programs/{}", uuid::Uuid::new_v4()), Some(&officer), json!({"name": "Ghost"}))
            .assert_problem(404, "not_found");
    }

    // API-3: filters and pagination
    fn listing_programs_with_filters(app: TestApp) {
        let admin = app.admin();
        let a = create_program(&app, &admin, "LST-A");
        let mut skill = program_body("LST-B");
        skill["skill_level"] = json!(true);
        skill["name"] = json!("Welding Skill Level 3");
        app.post("/api/v1/programs", Some(&admin), skill).assert_status(201);
        create_program(&app, &admin, "LST-C");
        action(&app, &admin, &a, "retire").assert_status(200);
        let codes = |path: &str| -> Vec<String> {
            app.list_all(path, &admin).iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(codes("/api/v1/programs"), ["LST-A", "LST-B", "LST-C"]);
        assert_eq!(codes("/api/v1/programs?status=active"), ["LST-B", "LST-C"]);
        assert_eq!(codes("/api/v1/programs?skill_level=true"), ["LST-B"]);
        assert_eq!(codes("/api/v1/programs?skill_level=false&status=retired"), ["LST-A"]);
        assert_eq!(codes("/api/v1/programs?name=welding"), ["LST-B"]);
        let page = app.get("/api/v1/programs?limit=2", Some(&admin));
        page.assert_status(200);
        assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
        assert!(page.body["next_cursor"].is_string());
        app.get("/api/v1/programs?status=gone", Some(&admin)).assert_problem(400, "invalid_query");
    }
}
