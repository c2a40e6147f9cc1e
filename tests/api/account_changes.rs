//! Account change requests (ACC-3, ACC-4): an organisation asks for a new filler
//! or reviewer account; it exists only after an association officer approves.

use guild_tests::{OrgFixture, TestApp, backend_tests};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "Fresh-Start-2026";

fn change_request(role: &str, username: &str, replaces: Option<&str>) -> Value {
    json!({
        "role": role,
        "username": username,
        "display_name": "Wang Fang",
        "password": NEW_PASSWORD,
        "replaces_user_id": replaces,
        "reason": "Li Hua left the company",
    })
}

fn submit(app: &TestApp, token: &str, org: &OrgFixture, body: Value) -> guild_tests::Resp {
    app.post(
        &format!("/api/v1/organisations/{}/account-changes", org.id),
        Some(token),
        body,
    )
}

backend_tests! {
    // rule ACC-4: the new account does not exist until approved; the replaced one is disabled then
    fn approved_change_creates_the_account_and_disables_the_replaced_one(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let r = submit(&app, &org.reviewer, &org, change_request("org_filler", "acme.wang", Some(&org.filler_id)));
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["organisation_id"], json!(org.id));
        assert_eq!(r.body["role"], "org_filler");
        assert_eq!(r.body["replaces_user_id"], json!(org.filler_id));
        assert_eq!(r.body["submitted_by"], json!(org.reviewer_id));
        assert_eq!(r.body["created_user_id"], Value::Null);
        assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none(), "{:#}", r.body);
        assert_eq!(r.header("location"), format!("/api/v1/account-changes/{id}"));

        // Not active yet.
        app.try_login("acme.wang", NEW_PASSWORD).assert_problem(401, "invalid_credentials");
        app.get("/api/v1/me", Some(&org.filler)).assert_status(200);

        let got = app.get(&format!("/api/v1/account-changes/{id}"), Some(&org.filler));
        got.assert_status(200);
        assert_eq!(got.body, r.body);

        let r = app.post(&format!("/api/v1/account-changes/{id}/approve"), Some(&admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert!(r.body["decided_at"].is_string(), "{:#}", r.body);
        let new_user = r.body["created_user_id"].as_str().unwrap_or_default().to_owned();

        let token = app.login("acme.wang", NEW_PASSWORD);
        let me = app.get("/api/v1/me", Some(&token));
        me.assert_status(200);
        assert_eq!(me.body["id"], json!(new_user));
        assert_eq!(me.body["role"], "org_filler");
        assert_eq!(me.body["organisation_id"], json!(org.id));

        // The replaced filler is disabled: its token and its password no longer work.
        app.get("/api/v1/me", Some(&org.filler)).assert_problem(401, "unauthenticated");
        app.try_login("acme.filler", guild_tests::USER_PASSWORD).assert_problem(401, "invalid_credentials");
        let old = app.get(&format!("/api/v1/users/{}", org.filler_id), Some(&admin));
        assert_eq!(old.body["status"], "disabled");
        // The request's events are written with its changes (API-8); the
        // password hash never leaves the database.
        let events = app.outbox("account_change", &id);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["account_change.submitted", "account_change.approved"]);
        assert!(events.iter().all(|e| e.organisation_id.as_deref() == Some(org.id.as_str())));
        assert!(events.iter().all(|e| !e.payload.contains("argon2")), "{events:?}");

        // Decided requests cannot be decided again (API-4).
        let again = app.post(&format!("/api/v1/account-changes/{id}/approve"), Some(&admin), json!({}));
        again.assert_rule(409, "invalid_transition", "ACC-4");
        assert_eq!(again.body["allowed_actions"], json!([]));
        app.post(&format!("/api/v1/account-changes/{id}/reject"), Some(&admin), json!({"reason": "late"}))
            .assert_problem(409, "invalid_transition");
    }

    // rule ACC-4: an additional account without replacing anyone
    fn filler_can_request_an_additional_reviewer(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let org = app.org_with_accounts(&admin, "acme");
        let r = submit(&app, &org.filler, &org, change_request("org_reviewer", "acme.second", None));
        r.assert_status(201);
        app.post(&format!("/api/v1/account-changes/{}/approve", r.id()), Some(&officer), json!({})).assert_status(200);
        let token = app.login("acme.second", NEW_PASSWORD);
        assert_eq!(app.get("/api/v1/me", Some(&token)).body["role"], "org_reviewer");
        // Both old accounts still work.
        app.get("/api/v1/me", Some(&org.filler)).assert_status(200);
        app.get("/api/v1/me", Some(&org.reviewer)).assert_status(200);
    }

    fn rejected_change_creates_nothing(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let id = submit(&app, &org.reviewer, &org, change_request("org_filler", "acme.wang", Some(&org.filler_id))).id();
        app.post(&format!("/api/v1/account-changes/{id}/reject"), Some(&admin), json!({})).assert_problem(422, "validation_failed");
        let r = app.post(&format!("/api/v1/account-changes/{id}/reject"), Some(&admin), json!({"reason": "no letter attached"}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "rejected");
        assert_eq!(r.body["decision_reason"], "no letter attached");
        assert_eq!(r.body["created_user_id"], Value::Null);
        app.try_login("acme.wang", NEW_PASSWORD).assert_problem(401, "invalid_credentials");
        app.get("/api/v1/me", Some(&org.filler)).assert_status(200);
        let again = app.post(&format!("/api/v1/account-changes/{id}/approve"), Some(&admin), json!({}));
        again.assert_problem(409, "invalid_transition");
        assert_eq!(again.body["allowed_actions"], json!([]));
        // The user name is free again.
        submit(&app, &org.reviewer, &org, change_request("org_filler", "acme.wang", None)).assert_status(201);
    }

    // rule ACC-3: only filler and reviewer accounts
    fn only_organisation_roles_can_be_requested(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        for role in ["admin", "training_officer", "provider", "trainee"] {
            submit(&app, &org.reviewer, &org, change_request(role, "acme.boss", None))
                .assert_rule(422, "account_change_role", "ACC-3");
        }
        submit(&app, &org.reviewer, &org, change_request("king", "acme.boss", None)).assert_problem(422, "invalid_body");
    }

    fn request_fields_are_validated(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let other = app.org_with_accounts(&admin, "other");
        let r = submit(&app, &org.reviewer, &org, change_request("org_filler", "a b", None));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["username"]);
        let mut weak = change_request("org_filler", "acme.weak", None);
        weak["password"] = json!("weak");
        let r = submit(&app, &org.reviewer, &org, weak);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["password"]);
        let mut no_reason = change_request("org_filler", "acme.why", None);
        no_reason["reason"] = json!("");
        let r = submit(&app, &org.reviewer, &org, no_reason);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["reason"]);
        // Only an account of the same organisation can be replaced.
        let r = submit(&app, &org.reviewer, &org, change_request("org_filler", "acme.swap", Some(&other.filler_id)));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["replaces_user_id"]);
        // Taken user names: an existing account or a pending request.
        submit(&app, &org.reviewer, &org, change_request("org_filler", "other.filler", None)).assert_problem(409, "already_exists");
        submit(&app, &org.reviewer, &org, change_request("org_filler", "acme.new", None)).assert_status(201);
        submit(&app, &org.filler, &org, change_request("org_reviewer", "acme.new", None)).assert_problem(409, "already_exists");
    }

    // rule ACC-2, ACC-4: organisations file for themselves; only association officers decide
    fn who_may_file_and_decide(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let finance = app.create_user(&admin, "cashier", "finance", None);
        // Another organisation's users get 404 for A (ids do not leak).
        submit(&app, &b.reviewer, &a, change_request("org_filler", "alpha.x", None)).assert_problem(404, "not_found");
        submit(&app, &b.filler, &a, change_request("org_filler", "alpha.x", None)).assert_problem(404, "not_found");
        submit(&app, &finance, &a, change_request("org_filler", "alpha.x", None)).assert_problem(403, "forbidden");
        // The admin may file on behalf of an organisation.
        submit(&app, &admin, &a, change_request("org_filler", "alpha.y", None)).assert_status(201);
        let id = submit(&app, &a.reviewer, &a, change_request("org_filler", "alpha.z", None)).id();
        for token in [&a.reviewer, &a.filler, &b.reviewer, &finance] {
            app.post(&format!("/api/v1/account-changes/{id}/approve"), Some(token), json!({})).assert_problem(403, "forbidden");
        }
        app.get(&format!("/api/v1/account-changes/{id}"), Some(&b.reviewer)).assert_problem(404, "not_found");
        // Lists are confined to the own organisation.
        assert_eq!(app.list_all("/api/v1/account-changes", &a.filler).len(), 2);
        assert!(app.list_all("/api/v1/account-changes", &b.filler).is_empty());
        let r = app.get(&format!("/api/v1/account-changes?organisation_id={}", a.id), Some(&b.filler));
        r.assert_status(200);
        assert_eq!(r.body["items"], json!([]));
        assert_eq!(app.list_all("/api/v1/account-changes?status=submitted", &admin).len(), 2);
        app.get("/api/v1/account-changes", Some(&finance)).assert_problem(403, "forbidden");
    }

    // rule PPL-4: a suspended organisation gets no new accounts, even through a change request
    fn no_new_accounts_for_a_suspended_organisation(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let id = submit(&app, &org.reviewer, &org, change_request("org_filler", "acme.wang", None)).id();
        app.post(&format!("/api/v1/organisations/{}/suspend", org.id), Some(&admin), json!({"reason": "audit"}))
            .assert_status(200);
        app.post(&format!("/api/v1/account-changes/{id}/approve"), Some(&admin), json!({}))
            .assert_rule(422, "organisation_not_approved", "PPL-4");
        app.try_login("acme.wang", NEW_PASSWORD).assert_problem(401, "invalid_credentials");
    }
}
