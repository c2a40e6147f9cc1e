//! `/organisations` (PPL-4): registration, approval and the organisation state machine.

use guild_tests::{Method, backend_tests};
use serde_json::{Value, json};

/// A unified social credit code (GB 32100) with a valid check character.
fn credit_code(n: u32) -> String {
    const CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("914403007{n:08}");
    let sum: usize = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| CHARSET.iter().position(|&c| c == b).unwrap_or(0) * w)
        .sum();
    format!("{body}{}", char::from(CHARSET[(31 - sum % 31) % 31]))
}

fn action(
    app: &guild_tests::TestApp,
    token: &str,
    id: &str,
    action: &str,
    body: Value,
) -> guild_tests::Resp {
    app.post(
        &format!("/api/v1/organisations/{id}/{action}"),
        Some(token),
        body,
    )
}

backend_tests! {
    // rule PPL-4: a new registration is pending
    fn registration_is_pending_until_approved(app: TestApp) {
        let admin = app.admin();
        let code = credit_code(1);
        let r = app.post(
            "/api/v1/organisations",
            Some(&admin),
            json!({
                "name": "  Shenzhen Gas Co.  ",
                "kind": "member_company",
                "credit_code": code.to_lowercase(),
                "region": "Futian",
                "contact_name": "Li Hua",
                "contact_phone": "13800138000",
                "address": "1 Shennan Road"
            }),
        );
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.body["status"], "pending");
        assert_eq!(r.body["name"], "Shenzhen Gas Co.");
        assert_eq!(r.body["kind"], "member_company");
        assert_eq!(r.body["credit_code"], json!(code), "stored upper-case");
        assert_eq!(r.body["contact_phone"], "13800138000");
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.header("etag"), "\"1\"");
        assert_eq!(r.header("location"), format!("/api/v1/organisations/{id}"));

        let r = action(&app, &admin, &id, "approve", json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["version"], 2);
        let got = app.get(&format!("/api/v1/organisations/{id}"), Some(&admin));
        got.assert_status(200);
        assert_eq!(got.body["status"], "approved");
        assert_eq!(got.header("etag"), "\"2\"");
        // One event per change, written with it, in the organisation's name (API-8).
        let events = app.outbox("organisation", &id);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["organisation.created", "organisation.approved"]);
        assert!(events.iter().all(|e| e.organisation_id.as_deref() == Some(id.as_str())));
    }

    // rule PPL-4: all four kinds
    fn every_kind_can_register(app: TestApp) {
        let admin = app.admin();
        for kind in ["member_company", "gas_user", "provider", "other"] {
            let r = app.post("/api/v1/organisations", Some(&admin), json!({"name": format!("Org {kind}"), "kind": kind}));
            r.assert_status(201);
            assert_eq!(r.body["kind"], kind);
        }
        let r = app.post("/api/v1/organisations", Some(&admin), json!({"name": "Org X", "kind": "government"}));
        r.assert_problem(422, "invalid_body");
        let r = app.list_all("/api/v1/organisations?kind=gas_user", &admin);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["kind"], "gas_user");
    }

    fn registration_fields_are_validated(app: TestApp) {
        let admin = app.admin();
        let good = credit_code(3);
        let wrong_check = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
        let cases = [
            (json!({"name": "X", "kind": "other"}), "name"),
            (json!({"name": "x".repeat(129), "kind": "other"}), "name"),
            (json!({"name": "Good Name", "kind": "other", "credit_code": wrong_check}), "credit_code"),
            (json!({"name": "Good Name", "kind": "other", "credit_code": "123"}), "credit_code"),
            (json!({"name": "Good Name", "kind": "other", "contact_phone": "call me"}), "contact_phone"),
            (json!({"name": "Good Name", "kind": "other", "region": ""}), "region"),
            (json!({"name": "Good Name", "kind": "other", "address": "a".repeat(257)}), "address"),
            (json!({"kind": "other"}), "name"),
            (json!({"name": "Good Name", "kind": "other", "status": "approved"}), "status"),
        ];
        for (body, field) in cases {
            let r = app.post("/api/v1/organisations", Some(&admin), body.clone());
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), [field], "{body}");
        }
        assert!(app.list_all("/api/v1/organisations", &admin).is_empty(), "nothing was created");
    }

    fn credit_codes_are_unique(app: TestApp) {
        let admin = app.admin();
        let code = credit_code(7);
        app.post("/api/v1/organisations", Some(&admin), json!({"name": "First", "kind": "other", "credit_code": code}))
            .assert_status(201);
        app.post("/api/v1/organisations", Some(&admin), json!({"name": "Second", "kind": "other", "credit_code": code}))
            .assert_problem(409, "already_exists");
    }

    // rule PPL-4: registration and approval are association staff's work
    fn training_staff_register_and_approve_organisations(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let head = app.create_user(&admin, "head", "training_head", None);
        let finance = app.create_user(&admin, "cashier", "finance", None);
        let org = app.org_with_accounts(&admin, "acme");
        let id = app.create_pending_org(&officer, "Officer Registered Co");
        action(&app, &head, &id, "approve", json!({})).assert_status(200);
        for token in [&finance, &org.filler, &org.reviewer] {
            app.post("/api/v1/organisations", Some(token), json!({"name": "Nope Co", "kind": "other"}))
                .assert_problem(403, "forbidden");
            action(&app, token, &id, "suspend", json!({"reason": "x"})).assert_problem(403, "forbidden");
            app.patch(&format!("/api/v1/organisations/{id}"), Some(token), json!({"region": "Nanshan"}))
                .assert_problem(403, "forbidden");
        }
    }

    // rule PPL-4, API-4: pending -> approved | rejected; approved -> suspended -> approved
    fn state_machine_and_allowed_actions(app: TestApp) {
        let admin = app.admin();
        let id = app.create_pending_org(&admin, "Machine Co");
        let r = action(&app, &admin, &id, "suspend", json!({"reason": "not yet"}));
        r.assert_rule(409, "invalid_transition", "PPL-4");
        assert_eq!(r.body["allowed_actions"], json!(["approve", "reject"]));
        action(&app, &admin, &id, "reinstate", json!({})).assert_problem(409, "invalid_transition");

        action(&app, &admin, &id, "approve", json!({})).assert_status(200);
        let r = action(&app, &admin, &id, "approve", json!({}));
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!(["suspend"]));

        action(&app, &admin, &id, "suspend", json!({})).assert_problem(422, "validation_failed");
        let r = action(&app, &admin, &id, "suspend", json!({"reason": "unpaid fees"}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "suspended");
        assert_eq!(r.body["status_reason"], "unpaid fees");
        let r = action(&app, &admin, &id, "approve", json!({}));
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!(["reinstate"]));
        let r = action(&app, &admin, &id, "reinstate", json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");

        let other = app.create_pending_org(&admin, "Rejected Co");
        action(&app, &admin, &other, "reject", json!({"reason": ""})).assert_problem(422, "validation_failed");
        let r = action(&app, &admin, &other, "reject", json!({"reason": "not a gas company"}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "rejected");
        assert_eq!(r.body["status_reason"], "not a gas company");
        let r = action(&app, &admin, &other, "approve", json!({}));
        r.assert_rule(409, "invalid_transition", "PPL-4");
        assert_eq!(r.body["allowed_actions"], json!([]));
    }

    // rule PPL-4: only approved organisations take new accounts
    fn suspended_organisation_takes_no_new_accounts(app: TestApp) {
        let admin = app.admin();
        let id = app.create_org(&admin, "Suspended Co");
        action(&app, &admin, &id, "suspend", json!({"reason": "audit"})).assert_status(200);
        let r = app.post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "late.filler", "display_name": "Late", "password": "Late-Pass-2026", "role": "org_filler", "organisation_id": id}),
        );
        r.assert_rule(422, "organisation_not_approved", "PPL-4");
    }

    // rule ACC-2: organisation users see only their own organisation, others answer 404
    fn organisation_users_see_only_their_own(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let listed = app.list_all("/api/v1/organisations", &a.reviewer);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(a.id));
        app.get(&format!("/api/v1/organisations/{}", a.id), Some(&a.filler)).assert_status(200);
        app.get(&format!("/api/v1/organisations/{}", b.id), Some(&a.filler)).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/organisations/{}", b.id), Some(&a.reviewer)).assert_problem(404, "not_found");
        assert_eq!(app.list_all("/api/v1/organisations", &admin).len(), 2);
        let approved = app.list_all("/api/v1/organisations?status=approved&name=alp", &admin);
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0]["id"], json!(a.id));
    }

    // rule API-5
    fn update_honours_if_match(app: TestApp) {
        let admin = app.admin();
        let id = app.create_pending_org(&admin, "Patch Co");
        let path = format!("/api/v1/organisations/{id}");
        let r = app.request(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"region": "Nanshan", "contact_phone": "0755-12345678"})),
            &[("if-match", "\"1\"")],
        );
        r.assert_status(200);
        assert_eq!(r.body["region"], "Nanshan");
        assert_eq!(r.body["contact_phone"], "0755-12345678");
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["status"], "pending", "details do not change the state");
        app.request(Method::PATCH, &path, Some(&admin), Some(&json!({"region": "Futian"})), &[("if-match", "\"1\"")])
            .assert_problem(412, "version_mismatch");
        app.request(Method::PATCH, &path, Some(&admin), Some(&json!({"region": "Futian"})), &[("if-match", "W/\"2\"")])
            .assert_status(200);
        app.request(Method::PATCH, &path, Some(&admin), Some(&json!({"region": "Futian"})), &[("if-match", "soon")])
            .assert_problem(400, "invalid_header");
        app.patch(&path, Some(&admin), json!({"status": "approved"})).assert_problem(422, "validation_failed");
        app.patch(&path, Some(&admin), json!({"name": "Q"})).assert_problem(422, "validation_failed");
        let r = app.get(&path, Some(&admin));
        assert_eq!(r.body["version"], 3);
        assert_eq!(r.body["name"], "Patch Co");
    }

    fn unknown_organisation_is_404(app: TestApp) {
        let admin = app.admin();
        let ghost = uuid::Uuid::new_v4();
        app.get(&format!("/api/v1/organisations/{ghost}"), Some(&admin)).assert_problem(404, "not_found");
        action(&app, &admin, &ghost.to_string(), "approve", json!({})).assert_problem(404, "not_found");
        app.patch(&format!("/api/v1/organisations/{ghost}"), Some(&admin), json!({"region": "X"}))
            .assert_problem(404, "not_found");
    }

    // The name filter behaves the same on SQLite and PostgreSQL: case-insensitive, wildcards literal.
    fn name_filter_is_case_insensitive_and_literal(app: TestApp) {
        let admin = app.admin();
        for name in ["Shenzhen Gas Co.", "100% Gas", "Under_Score Ltd", "Other Works"] {
            app.create_pending_org(&admin, name);
        }
        let names = |q: &str| -> Vec<String> {
            app.list_all(&format!("/api/v1/organisations?name={q}"), &admin)
                .iter()
                .filter_map(|o| o["name"].as_str().map(str::to_owned))
                .collect()
        };
        assert_eq!(names("gas"), ["Shenzhen Gas Co.", "100% Gas"]);
        assert_eq!(names("SHENZHEN"), ["Shenzhen Gas Co."]);
        assert_eq!(names("%25"), ["100% Gas"]);
        assert_eq!(names("_"), ["Under_Score Ltd"]);
        assert!(names("zzz").is_empty());
    }
}
