//! `/auth/login`, `/auth/refresh`, `/auth/logout`, `/me`, `/me/password` (ACC-1, ACC-5).

use chrono::Duration;
use guild_tests::{ADMIN_PASSWORD, USER_PASSWORD, backend_tests};
use serde_json::json;

backend_tests! {
    // rule ACC-1
    fn login_answers_a_bearer_token_pair(app: TestApp) {
        let r = app.try_login("admin", ADMIN_PASSWORD);
        r.assert_status(200);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 900);
        assert!(r.body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "a JWT: {:#}", r.body);
        assert!(r.body["refresh_token"].as_str().is_some_and(|t| t.len() >= 32), "{:#}", r.body);
        assert_eq!(r.header("cache-control"), "no-store");
    }

    fn login_ignores_the_case_of_the_username(app: TestApp) {
        app.try_login("  Admin ", ADMIN_PASSWORD).assert_status(200);
    }

    // rule ACC-5
    fn wrong_password_and_unknown_user_are_the_same_401(app: TestApp) {
        let wrong = app.try_login("admin", "Wrong-Pass-2026");
        wrong.assert_problem(401, "invalid_credentials");
        let unknown = app.try_login("nobody", "Wrong-Pass-2026");
        unknown.assert_problem(401, "invalid_credentials");
        assert_eq!(wrong.body["detail"], unknown.body["detail"], "do not reveal which accounts exist");
        assert!(wrong.header("www-authenticate").starts_with("Bearer"));
    }

    fn login_body_is_validated(app: TestApp) {
        app.post("/api/v1/auth/login", None, json!({"username": "admin"})).assert_problem(422, "validation_failed");
        app.post("/api/v1/auth/login", None, json!({"username": "", "password": "x"})).assert_problem(422, "validation_failed");
        app.post("/api/v1/auth/login", None, json!({"username": 1, "password": "x"})).assert_problem(422, "invalid_body");
    }

    // rule ACC-1
    fn me_needs_a_valid_bearer_token(app: TestApp) {
        app.get("/api/v1/me", None).assert_problem(401, "unauthenticated");
        app.get("/api/v1/me", Some("garbage")).assert_problem(401, "unauthenticated");
        let token = app.admin();
        // A token whose signature was tampered with.
        let mut tampered = token.clone();
        let last = tampered.pop().unwrap_or('A');
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        app.get("/api/v1/me", Some(&tampered)).assert_problem(401, "unauthenticated");
        let r = app.request(guild_tests::Method::GET, "/api/v1/me", None, None, &[("authorization", &format!("Basic {token}"))]);
        r.assert_problem(401, "unauthenticated");
        let r = app.get("/api/v1/me", Some(&token));
        r.assert_status(200);
        assert_eq!(r.body["username"], "admin");
        assert_eq!(r.body["role"], "admin");
        assert_eq!(r.body["status"], "active");
        assert!(r.body.get("password_hash").is_none() && r.body.get("password").is_none(), "{:#}", r.body);
    }

    // rule ACC-1: access tokens live 15 minutes of the injected clock
    fn access_token_expires_after_900_seconds(app: TestApp) {
        let token = app.admin();
        app.clock().advance(Duration::seconds(899));
        app.get("/api/v1/me", Some(&token)).assert_status(200);
        app.clock().advance(Duration::seconds(1));
        app.get("/api/v1/me", Some(&token)).assert_problem(401, "unauthenticated");
    }

    // rule ACC-1: refresh tokens rotate; reuse revokes the family
    fn refresh_rotates_and_reuse_revokes_the_family(app: TestApp) {
        let first = app.login_tokens("admin", ADMIN_PASSWORD);
        let r1 = first["refresh_token"].as_str().unwrap_or_default().to_owned();
        app.clock().advance(Duration::minutes(20));
        app.get("/api/v1/me", first["access_token"].as_str()).assert_problem(401, "unauthenticated");

        let second = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}));
        second.assert_status(200);
        assert_eq!(second.body["token_type"], "Bearer");
        assert_eq!(second.body["expires_in"], 900);
        let r2 = second.body["refresh_token"].as_str().unwrap_or_default().to_owned();
        assert_ne!(r1, r2, "a new refresh token each time");
        app.get("/api/v1/me", second.body["access_token"].as_str()).assert_status(200);

        // The spent token again: refused, and the whole family is revoked.
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1})).assert_problem(401, "invalid_refresh_token");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r2})).assert_problem(401, "invalid_refresh_token");
    }

    fn refresh_families_are_independent(app: TestApp) {
        // Reuse in one session does not end another login's session.
        let a = app.login_tokens("admin", ADMIN_PASSWORD);
        let b = app.login_tokens("admin", ADMIN_PASSWORD);
        let ra = a["refresh_token"].as_str().unwrap_or_default();
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": ra})).assert_status(200);
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": ra})).assert_problem(401, "invalid_refresh_token");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": b["refresh_token"]})).assert_status(200);
    }

    fn unknown_refresh_token_is_refused(app: TestApp) {
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": "not-a-token"})).assert_problem(401, "invalid_refresh_token");
        app.post("/api/v1/auth/refresh", None, json!({})).assert_problem(422, "validation_failed");
    }

    // rule ACC-1: refresh tokens last 30 days
    fn refresh_token_expires_after_30_days(app: TestApp) {
        let t = app.login_tokens("admin", ADMIN_PASSWORD);
        app.clock().advance(Duration::days(30) + Duration::seconds(1));
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t["refresh_token"]}))
            .assert_problem(401, "invalid_refresh_token");
    }

    // rule ACC-1: logout revokes the access and refresh tokens
    fn logout_revokes_tokens(app: TestApp) {
        let t = app.login_tokens("admin", ADMIN_PASSWORD);
        let access = t["access_token"].as_str().unwrap_or_default();
        let r = app.post("/api/v1/auth/logout", Some(access), json!({}));
        r.assert_status(204);
        assert_eq!(r.body, serde_json::Value::Null);
        app.get("/api/v1/me", Some(access)).assert_problem(401, "unauthenticated");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t["refresh_token"]}))
            .assert_problem(401, "invalid_refresh_token");
        app.post("/api/v1/auth/logout", None, json!({})).assert_problem(401, "unauthenticated");
        // Logging in again works.
        app.get("/api/v1/me", Some(&app.admin())).assert_status(200);
    }

    // rule ACC-1: a password change revokes the old tokens
    fn password_change_issues_new_tokens_and_revokes_old_ones(app: TestApp) {
        let t = app.login_tokens("admin", ADMIN_PASSWORD);
        let old = t["access_token"].as_str().unwrap_or_default();
        let r = app.post(
            "/api/v1/me/password",
            Some(old),
            json!({"current_password": ADMIN_PASSWORD, "new_password": "Brand-New-Pass-77"}),
        );
        r.assert_status(200);
        assert_eq!(r.body["token_type"], "Bearer");
        let new_access = r.body["access_token"].as_str().unwrap_or_default().to_owned();
        app.get("/api/v1/me", Some(old)).assert_problem(401, "unauthenticated");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t["refresh_token"]}))
            .assert_problem(401, "invalid_refresh_token");
        app.get("/api/v1/me", Some(&new_access)).assert_status(200);
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r.body["refresh_token"]})).assert_status(200);
        app.try_login("admin", ADMIN_PASSWORD).assert_problem(401, "invalid_credentials");
        app.try_login("admin", "Brand-New-Pass-77").assert_status(200);
    }

    // rule ACC-5: the password rule
    fn password_change_checks_current_and_new_password(app: TestApp) {
        let token = app.admin();
        let r = app.post(
            "/api/v1/me/password",
            Some(&token),
            json!({"current_password": "Wrong-Pass-2026", "new_password": "Brand-New-Pass-77"}),
        );
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["current_password"]);
        for weak in ["short1", "onlyletters-here", "1234567890123", &format!("a1{}", "x".repeat(127))] {
            let r = app.post(
                "/api/v1/me/password",
                Some(&token),
                json!({"current_password": ADMIN_PASSWORD, "new_password": weak}),
            );
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), ["new_password"], "{weak}");
        }
        // Nothing changed: the old password still works.
        app.get("/api/v1/me", Some(&token)).assert_status(200);
        app.try_login("admin", ADMIN_PASSWORD).assert_status(200);
    }

    // rule ACC-5: 5 failures within 15 minutes lock the account's logins
    fn five_failed_logins_throttle_the_account(app: TestApp) {
        let admin = app.admin();
        let org = app.create_org(&admin, "Throttle Gas Co");
        app.create_user(&admin, "clerk.one", "org_filler", Some(&org));
        for i in 0..5 {
            app.try_login("clerk.one", &format!("Wrong-Pass-{i}0")).assert_problem(401, "invalid_credentials");
        }
        let r = app.try_login("clerk.one", USER_PASSWORD);
        r.assert_rule(429, "too_many_requests", "ACC-5");
        let retry: i64 = r.header("retry-after").parse().unwrap_or(0);
        assert!(retry > 0 && retry <= 900, "Retry-After in seconds: {:?}", r.header("retry-after"));
        // Other accounts are not affected.
        app.try_login("admin", ADMIN_PASSWORD).assert_status(200);
        // Retry-After counts down to the oldest failure leaving the window.
        app.clock().advance(Duration::minutes(10));
        let r = app.try_login("clerk.one", USER_PASSWORD);
        r.assert_rule(429, "too_many_requests", "ACC-5");
        let retry: i64 = r.header("retry-after").parse().unwrap_or(0);
        assert!((299..=300).contains(&retry), "Retry-After after 10 minutes: {retry}");
        // After the window the right password works again.
        app.clock().advance(Duration::minutes(5) + Duration::seconds(1));
        app.try_login("clerk.one", USER_PASSWORD).assert_status(200);
    }

    // rule ACC-5: failures older than the window do not count
    fn failures_outside_the_window_do_not_count(app: TestApp) {
        for _ in 0..4 {
            app.try_login("admin", "Wrong-Pass-2026").assert_problem(401, "invalid_credentials");
        }
        app.clock().advance(Duration::minutes(16));
        for _ in 0..4 {
            app.try_login("admin", "Wrong-Pass-2026").assert_problem(401, "invalid_credentials");
        }
        app.try_login("admin", ADMIN_PASSWORD).assert_status(200);
    }

    // rule ACC-5: failed logins are audited
    fn failed_logins_are_audited(app: TestApp) {
        let admin = app.admin();
        let me = app.get("/api/v1/me", Some(&admin));
        let admin_id = me.id();
        app.try_login("admin", "Wrong-Pass-2026").assert_problem(401, "invalid_credentials");
        app.try_login("ghost", "Wrong-Pass-2026").assert_problem(401, "invalid_credentials");
        let r = app.get("/api/v1/audit-events?action=auth.login_failed", Some(&admin));
        r.assert_status(200);
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 2, "{:#}", r.body);
        assert_eq!(items[0]["entity_type"], "user");
        assert_eq!(items[0]["entity_id"], json!(admin_id));
        assert_eq!(items[0]["actor_user_id"], serde_json::Value::Null);
        assert_eq!(items[1]["entity_id"], "ghost");
        assert!(items.iter().all(|e| e["request_id"].is_string()), "{:#}", r.body);
        // Passwords are never recorded.
        assert!(!r.body.to_string().contains("Wrong-Pass-2026"));
    }

    // rule ACC-5: 20 failures from one address within 15 minutes block logins from it
    fn twenty_failures_from_one_address_throttle_the_address(app: TestApp) {
        for i in 0..20 {
            app.try_login(&format!("guess{i}"), "Wrong-Pass-2026").assert_problem(401, "invalid_credentials");
        }
        app.try_login("admin", ADMIN_PASSWORD).assert_rule(429, "too_many_requests", "ACC-5");
        app.clock().advance(Duration::minutes(15) + Duration::seconds(1));
        app.try_login("admin", ADMIN_PASSWORD).assert_status(200);
    }

    // rule ACC-1: a login retried with an Idempotency-Key must not hand out revoked tokens
    fn login_retried_with_an_idempotency_key_gives_working_tokens(app: TestApp) {
        let body = json!({"username": "admin", "password": ADMIN_PASSWORD});
        let key = [("idempotency-key", "login-attempt-1")];
        let first = app.request(guild_tests::Method::POST, "/api/v1/auth/login", None, Some(&body), &key);
        first.assert_status(200);
        let access = first.body["access_token"].as_str().unwrap_or_default().to_owned();
        app.post("/api/v1/auth/logout", Some(&access), json!({})).assert_status(204);
        let second = app.request(guild_tests::Method::POST, "/api/v1/auth/login", None, Some(&body), &key);
        second.assert_status(200);
        let token = second.body["access_token"].as_str().unwrap_or_default();
        let me = app.get("/api/v1/me", Some(token));
        assert_eq!(
            me.status, 200,
            "the retried login answered tokens that do not work (replayed: {:?}): {:#}",
            second.header("idempotent-replayed"),
            me.body
        );
    }
}
