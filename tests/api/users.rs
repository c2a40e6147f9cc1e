//! `/users` (SPEC §1): accounts managed by the administrator; organisation users
//! read their own organisation's accounts (ACC-2).

use guild_tests::{USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

fn new_user(username: &str, role: &str, org: Option<&str>) -> Value {
    let mut body = json!({
        "username": username,
        "display_name": "Wang Fang",
        "password": USER_PASSWORD,
        "role": role,
    });
    if let Some(o) = org {
        body["organisation_id"] = json!(o);
    }
    body
}

backend_tests! {
    fn admin_creates_an_account(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/users", Some(&admin), new_user("Zhang.Wei", "training_officer", None));
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.body["username"], "zhang.wei", "user names are lower-cased");
        assert_eq!(r.body["role"], "training_officer");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.body["organisation_id"], Value::Null);
        assert_eq!(r.header("etag"), "\"1\"");
        assert_eq!(r.header("location"), format!("/api/v1/users/{id}"));
        assert!(r.body.get("password_hash").is_none() && r.body.get("password").is_none());
        let token = app.login("zhang.wei", USER_PASSWORD);
        let me = app.get("/api/v1/me", Some(&token));
        me.assert_status(200);
        assert_eq!(me.body["id"], json!(id));

        let got = app.get(&format!("/api/v1/users/{id}"), Some(&admin));
        got.assert_status(200);
        assert_eq!(got.body, r.body);
        assert_eq!(got.header("etag"), "\"1\"");
    }

    fn duplicate_username_is_409(app: TestApp) {
        let admin = app.admin();
        app.post("/api/v1/users", Some(&admin), new_user("li.na", "finance", None)).assert_status(201);
        app.post("/api/v1/users", Some(&admin), new_user("LI.NA", "leader", None)).assert_problem(409, "already_exists");
        app.post("/api/v1/users", Some(&admin), new_user("admin", "leader", None)).assert_problem(409, "already_exists");
    }

    fn account_fields_are_validated(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/users", Some(&admin), new_user("x", "finance", None));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["username"]);
        let mut weak = new_user("weak.one", "finance", None);
        weak["password"] = json!("password");
        let r = app.post("/api/v1/users", Some(&admin), weak);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["password"]);
        // The password may not contain the user name.
        let mut echo = new_user("wangfang", "finance", None);
        echo["password"] = json!("wangfang-2026");
        let r = app.post("/api/v1/users", Some(&admin), echo);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["password"]);
        let r = app.post("/api/v1/users", Some(&admin), new_user("some.one", "emperor", None));
        r.assert_problem(422, "invalid_body");
        let mut long = new_user("long.name", "finance", None);
        long["display_name"] = json!("x".repeat(65));
        let r = app.post("/api/v1/users", Some(&admin), long);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["display_name"]);
    }

    // rule PPL-4, ACC-2: organisation accounts need an approved organisation
    fn organisation_accounts_need_an_approved_organisation(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/users", Some(&admin), new_user("no.org", "org_filler", None));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["organisation_id"]);
        let pending = app.create_pending_org(&admin, "Pending Gas Co");
        let r = app.post("/api/v1/users", Some(&admin), new_user("early.filler", "org_filler", Some(&pending)));
        r.assert_rule(422, "organisation_not_approved", "PPL-4");
        let r = app.post("/api/v1/users", Some(&admin), new_user("early.provider", "provider", Some(&pending)));
        r.assert_rule(422, "organisation_not_approved", "PPL-4");
        let r = app.post(
            "/api/v1/users",
            Some(&admin),
            new_user("ghost.org", "org_reviewer", Some("0193a5f0-6a2b-7c8d-9e0f-112233445566")),
        );
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["organisation_id"]);
        // Staff accounts have no organisation.
        let r = app.post("/api/v1/users", Some(&admin), new_user("staff.org", "finance", Some(&pending)));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["organisation_id"]);
        app.post(&format!("/api/v1/organisations/{pending}/approve"), Some(&admin), json!({})).assert_status(200);
        let r = app.post("/api/v1/users", Some(&admin), new_user("early.filler", "org_filler", Some(&pending)));
        r.assert_status(201);
        assert_eq!(r.body["organisation_id"], json!(pending));
    }

    fn only_the_admin_writes_accounts(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        for token in [&org.filler, &org.reviewer, &officer] {
            app.post("/api/v1/users", Some(token), new_user("sneaky", "admin", None)).assert_problem(403, "forbidden");
            app.patch(&format!("/api/v1/users/{}", org.filler_id), Some(token), json!({"display_name": "X"}))
                .assert_problem(403, "forbidden");
            app.post(&format!("/api/v1/users/{}/disable", org.filler_id), Some(token), json!({}))
                .assert_problem(403, "forbidden");
            app.post(
                &format!("/api/v1/users/{}/reset-password", org.filler_id),
                Some(token),
                json!({"new_password": "Another-Pass-2026"}),
            )
            .assert_problem(403, "forbidden");
        }
        app.get("/api/v1/users", Some(&officer)).assert_problem(403, "forbidden");
    }

    // rule ACC-2: organisation users read only their own organisation's accounts
    fn organisation_users_see_their_own_accounts(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let listed = app.list_all("/api/v1/users", &a.filler);
        let mut ids: Vec<&str> = listed.iter().filter_map(|u| u["id"].as_str()).collect();
        ids.sort_unstable();
        let mut expected = vec![a.filler_id.as_str(), a.reviewer_id.as_str()];
        expected.sort_unstable();
        assert_eq!(ids, expected);
        app.get(&format!("/api/v1/users/{}", a.reviewer_id), Some(&a.filler)).assert_status(200);
        app.get(&format!("/api/v1/users/{}", b.reviewer_id), Some(&a.filler)).assert_problem(404, "not_found");
        let r = app.get(&format!("/api/v1/users?organisation_id={}", b.id), Some(&a.reviewer));
        r.assert_status(200);
        assert_eq!(r.body["items"], json!([]));
        // The admin sees everyone and can filter.
        assert_eq!(app.list_all("/api/v1/users", &admin).len(), 5);
        let r = app.list_all(&format!("/api/v1/users?organisation_id={}&role=org_reviewer", b.id), &admin);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["id"], json!(b.reviewer_id));
    }

    // rule API-5
    fn update_honours_if_match(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/users", Some(&admin), new_user("chen.jie", "finance", None));
        let path = format!("/api/v1/users/{}", r.id());
        let r = app.request(
            guild_tests::Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"display_name": "Chen Jie"})),
            &[("if-match", "\"1\"")],
        );
        r.assert_status(200);
        assert_eq!(r.body["display_name"], "Chen Jie");
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.header("etag"), "\"2\"");
        let stale = app.request(
            guild_tests::Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"display_name": "Lost Update"})),
            &[("if-match", "\"1\"")],
        );
        stale.assert_problem(412, "version_mismatch");
        assert_eq!(app.get(&path, Some(&admin)).body["display_name"], "Chen Jie");
        // Without If-Match the update applies to the current version.
        let r = app.patch(&path, Some(&admin), json!({"display_name": "Chen J."}));
        r.assert_status(200);
        assert_eq!(r.body["version"], 3);
        app.patch(&path, Some(&admin), json!({"display_name": ""})).assert_problem(422, "validation_failed");
        app.patch(&path, Some(&admin), json!({"role": "admin"})).assert_problem(422, "validation_failed");
    }

    // rule API-4: disable and enable are guarded by state
    fn disable_and_enable_follow_the_state_machine(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/users", Some(&admin), new_user("zhao.lei", "leader", None));
        let id = r.id();
        let tokens = app.login_tokens("zhao.lei", USER_PASSWORD);
        let token = tokens["access_token"].as_str().unwrap_or_default().to_owned();
        let r = app.post(&format!("/api/v1/users/{id}/disable"), Some(&admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "disabled");
        // Its sessions end at once and it cannot log in.
        app.get("/api/v1/me", Some(&token)).assert_problem(401, "unauthenticated");
        app.try_login("zhao.lei", USER_PASSWORD).assert_problem(401, "invalid_credentials");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": tokens["refresh_token"]}))
            .assert_problem(401, "invalid_refresh_token");
        let again = app.post(&format!("/api/v1/users/{id}/disable"), Some(&admin), json!({}));
        again.assert_problem(409, "invalid_transition");
        assert_eq!(again.body["allowed_actions"], json!(["enable"]));
        let r = app.post(&format!("/api/v1/users/{id}/enable"), Some(&admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "active");
        let again = app.post(&format!("/api/v1/users/{id}/enable"), Some(&admin), json!({}));
        again.assert_problem(409, "invalid_transition");
        assert_eq!(again.body["allowed_actions"], json!(["disable"]));
        app.try_login("zhao.lei", USER_PASSWORD).assert_status(200);
        // One event per change, the refused ones wrote none (API-8).
        let kinds: Vec<String> = app.outbox("user", &id).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["user.created", "user.disabled", "user.enabled"]);
        // Sessions ended by the disablement stay ended.
        app.get("/api/v1/me", Some(&token)).assert_problem(401, "unauthenticated");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": tokens["refresh_token"]}))
            .assert_problem(401, "invalid_refresh_token");
    }

    fn admin_cannot_disable_themself(app: TestApp) {
        let admin = app.admin();
        let me = app.get("/api/v1/me", Some(&admin)).id();
        app.post(&format!("/api/v1/users/{me}/disable"), Some(&admin), json!({}))
            .assert_problem(422, "cannot_disable_self");
        app.get("/api/v1/me", Some(&admin)).assert_status(200);
    }

    fn reset_password_replaces_the_password_and_ends_sessions(app: TestApp) {
        let admin = app.admin();
        let id = app.post("/api/v1/users", Some(&admin), new_user("sun.li", "finance", None)).id();
        let token = app.login("sun.li", USER_PASSWORD);
        let path = format!("/api/v1/users/{id}/reset-password");
        let r = app.post(&path, Some(&admin), json!({"new_password": "short"}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["new_password"]);
        let r = app.post(&path, Some(&admin), json!({"new_password": "Reset-Pass-2026"}));
        r.assert_status(204);
        app.get("/api/v1/me", Some(&token)).assert_problem(401, "unauthenticated");
        app.try_login("sun.li", USER_PASSWORD).assert_problem(401, "invalid_credentials");
        app.try_login("sun.li", "Reset-Pass-2026").assert_status(200);
        let events = app.outbox("user", &id);
        assert_eq!(events.last().map(|e| e.kind.as_str()), Some("user.password_reset"));
        assert!(events.iter().all(|e| !e.payload.contains("argon2")), "{events:?}");
    }

    fn unknown_user_is_404(app: TestApp) {
        let admin = app.admin();
        let ghost = uuid::Uuid::new_v4();
        app.get(&format!("/api/v1/users/{ghost}"), Some(&admin)).assert_problem(404, "not_found");
        app.patch(&format!("/api/v1/users/{ghost}"), Some(&admin), json!({"display_name": "X"})).assert_problem(404, "not_found");
        app.post(&format!("/api/v1/users/{ghost}/disable"), Some(&admin), json!({})).assert_problem(404, "not_found");
        app.post(&format!("/api/v1/users/{ghost}/reset-password"), Some(&admin), json!({"new_password": "Reset-Pass-2026"}))
            .assert_problem(404, "not_found");
    }
}
