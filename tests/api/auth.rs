//! `/auth/login`, `/auth/refresh`, `/auth/logout`, `/me`, `/me/password` (ACC-1, ACC-5).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Barrier;

use chrono::Duration;
use guild_tests::{ADMIN_PASSWORD, Resp, TestApp, USER_PASSWORD, backend_tests};
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// A client whose connections come from `127.0.0.<last>`: the server sees that
/// address as the caller's (ACC-5 counts attempts per address).
fn client_from(last: u8) -> Client {
    Client::builder()
        .no_proxy()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("http client")
}

/// Sends `body` to `path` (POST when a body is given, else GET) with an optional token.
fn send(
    app: &TestApp,
    client: &Client,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let mut req = match body {
        Some(b) => client.post(app.url(path)).json(b),
        None => client.get(app.url(path)),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().expect("the request reached the server");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp {
        status,
        headers,
        body,
    }
}

/// Logs in as `username` from `client`'s address.
fn login_from(app: &TestApp, client: &Client, username: &str, password: &str) -> Resp {
    send(
        app,
        client,
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": username, "password": password})),
    )
}

/// Runs `requests` at once, each on its own thread released by one barrier,
/// and answers the responses in order.
fn all_at_once<F>(requests: Vec<F>) -> Vec<Resp>
where
    F: FnOnce() -> Resp + Send,
{
    let barrier = Barrier::new(requests.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    request()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

fn count(responses: &[Resp], status: u16) -> usize {
    responses.iter().filter(|r| r.status == status).count()
}

/// Every answer is one of `allowed`, a problem with the right code, and a 429 or
/// 503 tells when to retry.
#[track_caller]
fn assert_refusals(responses: &[Resp], allowed: &[(u16, &str)]) {
    for r in responses {
        let Some((status, code)) = allowed.iter().find(|(s, _)| *s == r.status) else {
            panic!("unexpected answer {}: {:#}", r.status, r.body);
        };
        r.assert_problem(*status, code);
        if matches!(r.status, 429 | 503) {
            let retry: i64 = r.header("retry-after").parse().unwrap_or(0);
            assert!(
                retry >= 1,
                "Retry-After on {}: {:?}",
                r.status,
                r.header("retry-after")
            );
        }
    }
}

/// The `auth.login_failed`-style audit events with `action`, oldest first.
fn audit_events(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    app.list_all(&format!("/api/v1/audit-events?action={action}"), admin)
}

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

        // rule API-6: the exchange and the reuse are in the audit log, and never published
        let admin = app.admin();
        let audit = app.list_all("/api/v1/audit-events?entity_type=user", &admin);
        let actions: Vec<&str> = audit.iter().filter_map(|a| a["action"].as_str()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "auth.refresh").count(), 1, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "auth.refresh_reused").count(), 1, "{actions:?}");
        let reuse = audit.iter().find(|a| a["action"] == "auth.refresh_reused").unwrap();
        assert_eq!(reuse["actor_user_id"], Value::Null, "{reuse:#}");
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
        let admin = app.admin();
        let admin_id = app.get("/api/v1/me", Some(&admin)).id();
        // The logout is audited under the account, and never published (API-8).
        let out = app.list_all("/api/v1/audit-events?action=auth.logout", &admin);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0]["entity_id"], json!(admin_id));
        assert_eq!(out[0]["actor_user_id"], json!(admin_id));
        let outbox = app.outbox("user", &admin_id);
        assert!(outbox.iter().all(|e| !e.kind.starts_with("auth.")), "{outbox:?}");
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
        // API-8: the change is published once, with no password in it; the
        // logins (security events, ACC-5) are audited only, never published.
        let admin_id = app.get("/api/v1/me", Some(&new_access)).id();
        let outbox = app.outbox("user", &admin_id);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["user.password_changed"]);
        assert!(!outbox[0].payload.contains("Brand-New-Pass-77"), "{}", outbox[0].payload);
        let changed = app.list_all("/api/v1/audit-events?action=user.change_password", &new_access);
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0]["entity_id"], json!(admin_id));
        assert_eq!(changed[0]["actor_user_id"], json!(admin_id));
        let logins = app.list_all("/api/v1/audit-events?action=auth.login", &new_access);
        assert!(logins.len() >= 2, "{logins:#?}");
        assert!(logins.iter().all(|e| e["actor_user_id"] == json!(admin_id)), "{logins:#?}");
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
        // ACC-5: the address is recorded with the failure.
        assert_eq!(items[0]["after"], json!({"username": "admin", "address": "127.0.0.1"}));
        assert_eq!(items[1]["after"]["address"], "127.0.0.1");
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

    // rule ACC-5: the check and the count are one step, before the password is
    // checked, so 30 guesses at once reach the check at most 5 times.
    fn concurrent_guesses_for_one_account_reach_the_check_at_most_five_times(app: TestApp) {
        let client = client_from(1);
        let answers = all_at_once(
            (0..30)
                .map(|i| {
                    let (app, client) = (&app, &client);
                    move || login_from(app, client, "admin", &format!("Wrong-Guess-{i:02}"))
                })
                .collect(),
        );
        assert_refusals(&answers, &[(401, "invalid_credentials"), (429, "too_many_requests"), (503, "server_busy")]);
        let checked = count(&answers, 401);
        assert!((1..=5).contains(&checked), "{checked} guesses reached the password check");
        assert!(count(&answers, 429) >= 25 - count(&answers, 503), "the rest are throttled");
        let admin = login_from(&app, &client_from(2), "admin", ADMIN_PASSWORD);
        admin.assert_status(200);
        let token = admin.body["access_token"].as_str().unwrap_or_default().to_owned();
        let failed = audit_events(&app, &token, "auth.login_failed");
        assert_eq!(failed.len(), checked, "one audit event per checked guess");
        if checked == 5 {
            // The account is throttled from this address, even for the right password.
            login_from(&app, &client, "admin", ADMIN_PASSWORD).assert_rule(429, "too_many_requests", "ACC-5");
        }
    }

    // rule ACC-5: 60 guesses at once over 11 accounts from one address reach the
    // check at most 20 times (the address limit).
    fn concurrent_guesses_over_many_accounts_reach_the_check_at_most_twenty_times(app: TestApp) {
        let client = client_from(1);
        let answers = all_at_once(
            (0..60)
                .map(|i| {
                    let (app, client) = (&app, &client);
                    let user = if i % 11 == 0 { "admin".to_owned() } else { format!("target{}", i % 11) };
                    move || login_from(app, client, &user, "Wrong-Guess-2026")
                })
                .collect(),
        );
        assert_refusals(&answers, &[(401, "invalid_credentials"), (429, "too_many_requests"), (503, "server_busy")]);
        let checked = count(&answers, 401);
        assert!(
            (1..=20).contains(&checked),
            "{checked} guesses reached the password check ({} throttled, {} busy)",
            count(&answers, 429),
            count(&answers, 503)
        );
        // The rest are throttled, or refused by the bounded hasher (which gives
        // their reservation back, so the limit still counts only checked guesses).
        assert!(count(&answers, 429) + count(&answers, 503) >= 40);
        if checked == 20 {
            login_from(&app, &client, "someone.else", "Wrong-Guess-2026").assert_rule(429, "too_many_requests", "ACC-5");
        }
        // Another address is not affected.
        login_from(&app, &client_from(2), "admin", ADMIN_PASSWORD).assert_status(200);
    }

    // rule ACC-5: a crowd of logins for accounts that do not exist, from many
    // addresses, is answered 401, 429 or 503 with Retry-After — never 500 —
    // and an authenticated read still answers meanwhile.
    fn a_storm_of_unknown_logins_is_bounded_and_reads_still_answer(app: TestApp) {
        let admin = app.admin();
        let clients: Vec<Client> = (1..=6).map(|i| client_from(10 + i)).collect();
        let (answers, reads) = std::thread::scope(|scope| {
            let storm = scope.spawn(|| {
                all_at_once(
                    (0..90)
                        .map(|i| {
                            let (app, client) = (&app, &clients[i % clients.len()]);
                            move || login_from(app, client, &format!("nobody{i}"), "Wrong-Guess-2026")
                        })
                        .collect(),
                )
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut reads = Vec::new();
            for _ in 0..3 {
                let started = std::time::Instant::now();
                let me = app.get("/api/v1/me", Some(&admin));
                reads.push((me.status, started.elapsed()));
            }
            (storm.join().expect("storm"), reads)
        });
        assert_refusals(&answers, &[(401, "invalid_credentials"), (429, "too_many_requests"), (503, "server_busy")]);
        assert!(count(&answers, 401) >= 1, "some logins are checked");
        for (status, took) in reads {
            assert_eq!(status, 200, "an authenticated read during the storm");
            assert!(took < std::time::Duration::from_secs(10), "the read took {took:?}");
        }
        // After the storm the service answers normally.
        app.get("/api/v1/me", Some(&admin)).assert_status(200);
    }

    // rule ACC-5: wrong current passwords are throttled and audited; the fifth
    // within 15 minutes ends every session of the account.
    fn the_fifth_wrong_current_password_ends_every_session(app: TestApp) {
        let a = app.login_tokens("admin", ADMIN_PASSWORD);
        let b = app.login_tokens("admin", ADMIN_PASSWORD);
        let token = a["access_token"].as_str().unwrap_or_default().to_owned();
        for i in 0..4 {
            let r = app.post(
                "/api/v1/me/password",
                Some(&token),
                json!({"current_password": format!("Wrong-Current-{i}0"), "new_password": "Brand-New-Pass-77"}),
            );
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), ["current_password"]);
        }
        let fifth = app.post(
            "/api/v1/me/password",
            Some(&token),
            json!({"current_password": "Wrong-Current-50", "new_password": "Brand-New-Pass-77"}),
        );
        fifth.assert_rule(429, "too_many_requests", "ACC-5");
        let retry: i64 = fifth.header("retry-after").parse().unwrap_or(0);
        assert!((1..=900).contains(&retry), "Retry-After: {retry}");
        // Every session of the account has ended.
        app.get("/api/v1/me", Some(&token)).assert_problem(401, "unauthenticated");
        app.get("/api/v1/me", b["access_token"].as_str()).assert_problem(401, "unauthenticated");
        let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": b["refresh_token"]}));
        r.assert_problem(401, "invalid_refresh_token");
        assert_eq!(r.body["reason"], "revoked");
        // The owner logs in again, but password changes stay throttled for the window:
        // the right current password is refused without a check and changes nothing.
        let fresh = app.admin();
        app.post(
            "/api/v1/me/password",
            Some(&fresh),
            json!({"current_password": ADMIN_PASSWORD, "new_password": "Brand-New-Pass-77"}),
        )
        .assert_rule(429, "too_many_requests", "ACC-5");
        app.get("/api/v1/me", Some(&fresh)).assert_status(200);
        app.try_login("admin", ADMIN_PASSWORD).assert_status(200);
        // Each wrong password was audited with the address.
        let events = audit_events(&app, &fresh, "auth.password_change_failed");
        assert_eq!(events.len(), 5, "{events:#?}");
        assert!(events.iter().all(|e| e["after"]["address"] == "127.0.0.1"), "{events:#?}");
        assert_eq!(events[3]["after"]["sessions_ended"], false);
        assert_eq!(events[4]["after"]["sessions_ended"], true);
        assert!(!serde_json::to_string(&events).unwrap_or_default().contains("Wrong-Current"));
        // After the window the password can be changed.
        app.clock().advance(Duration::minutes(15) + Duration::seconds(1));
        app.post(
            "/api/v1/me/password",
            Some(&app.admin()),
            json!({"current_password": ADMIN_PASSWORD, "new_password": "Brand-New-Pass-77"}),
        )
        .assert_status(200);
    }

    // rule ACC-5: thirty wrong current passwords at once reach the check at most five times.
    fn concurrent_wrong_current_passwords_reach_the_check_at_most_five_times(app: TestApp) {
        let token = app.admin();
        let client = client_from(1);
        let answers = all_at_once(
            (0..30)
                .map(|i| {
                    let (app, client, token) = (&app, &client, &token);
                    move || {
                        send(
                            app,
                            client,
                            "/api/v1/me/password",
                            Some(token),
                            Some(&json!({"current_password": format!("Wrong-Current-{i:02}"), "new_password": "Brand-New-Pass-77"})),
                        )
                    }
                })
                .collect(),
        );
        assert_refusals(
            &answers,
            &[(401, "unauthenticated"), (422, "validation_failed"), (429, "too_many_requests"), (503, "server_busy")],
        );
        let admin = app.admin();
        let checked = audit_events(&app, &admin, "auth.password_change_failed").len();
        assert!((1..=5).contains(&checked), "{checked} wrong passwords reached the check");
        if checked == 5 {
            // The fifth failure ended the session the guesses came with.
            app.get("/api/v1/me", Some(&token)).assert_problem(401, "unauthenticated");
        }
        app.try_login("admin", ADMIN_PASSWORD).assert_status(200);
    }

    // rule ACC-5: five wrong passwords from a stranger's address do not lock the
    // owner out from their own address.
    fn a_stranger_cannot_lock_the_owner_out(app: TestApp) {
        let stranger = client_from(66);
        for i in 0..5 {
            login_from(&app, &stranger, "admin", &format!("Wrong-Guess-{i}0")).assert_problem(401, "invalid_credentials");
        }
        login_from(&app, &stranger, "admin", ADMIN_PASSWORD).assert_rule(429, "too_many_requests", "ACC-5");
        let owner = login_from(&app, &client_from(1), "admin", ADMIN_PASSWORD);
        owner.assert_status(200);
        let token = owner.body["access_token"].as_str().unwrap_or_default().to_owned();
        let failed = audit_events(&app, &token, "auth.login_failed");
        assert_eq!(failed.len(), 5);
        assert!(failed.iter().all(|e| e["after"]["address"] == "127.0.0.66"), "{failed:#?}");
        // The owner's success does not clear the stranger's failures.
        login_from(&app, &stranger, "admin", ADMIN_PASSWORD).assert_rule(429, "too_many_requests", "ACC-5");
    }

    // rule ACC-5: past 50 failures from all addresses the account is throttled
    // everywhere, and an administrator can unlock it.
    fn an_admin_unlocks_an_account_throttled_from_many_addresses(app: TestApp) {
        let admin = app.admin();
        let org = app.create_org(&admin, "Unlock Gas Co");
        let (clerk_id, _) = app.create_user_with_id(&admin, "clerk.locked", "org_filler", Some(&org));
        for address in 10..20 {
            let client = client_from(address);
            for i in 0..5 {
                login_from(&app, &client, "clerk.locked", &format!("Wrong-Guess-{i}0")).assert_problem(401, "invalid_credentials");
            }
        }
        let elsewhere = client_from(30);
        let r = login_from(&app, &elsewhere, "clerk.locked", USER_PASSWORD);
        r.assert_rule(429, "too_many_requests", "ACC-5");
        assert!(r.header("retry-after").parse::<i64>().unwrap_or(0) >= 1);
        // Only an administrator may unlock.
        let other = app.create_user(&admin, "clerk.other", "org_filler", Some(&org));
        app.post(&format!("/api/v1/users/{clerk_id}/unlock"), Some(&other), json!({})).assert_problem(403, "forbidden");
        app.post(&format!("/api/v1/users/{}/unlock", uuid::Uuid::new_v4()), Some(&admin), json!({}))
            .assert_problem(404, "not_found");
        app.post(&format!("/api/v1/users/{clerk_id}/unlock"), None, json!({})).assert_problem(401, "unauthenticated");
        login_from(&app, &elsewhere, "clerk.locked", USER_PASSWORD).assert_rule(429, "too_many_requests", "ACC-5");
        let r = app.post(&format!("/api/v1/users/{clerk_id}/unlock"), Some(&admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["id"], json!(clerk_id));
        assert_eq!(r.body["status"], "active");
        login_from(&app, &elsewhere, "clerk.locked", USER_PASSWORD).assert_status(200);
        login_from(&app, &client_from(10), "clerk.locked", USER_PASSWORD).assert_status(200);
        let events = audit_events(&app, &admin, "user.unlock");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["entity_id"], json!(clerk_id));
        assert_eq!(events[0]["after"]["cleared_attempts"], 50);
    }

    // rule ACC-1: the authentication scheme name is case-insensitive (RFC 7235)
    fn the_bearer_scheme_is_case_insensitive(app: TestApp) {
        let token = app.admin();
        for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
            let r = app.request(guild_tests::Method::GET, "/api/v1/me", None, None, &[("authorization", &format!("{scheme} {token}"))]);
            r.assert_status(200);
        }
        // Idempotency keys are scoped to the caller whatever the scheme's case (API-5).
        app.create_user(&token, "second.admin", "admin", None);
        let second = app.login("second.admin", USER_PASSWORD);
        let post = |t: &str, name: &str| {
            app.request(
                guild_tests::Method::POST,
                "/api/v1/organisations",
                None,
                Some(&json!({"name": name, "kind": "member_company"})),
                &[("authorization", &format!("bearer {t}")), ("idempotency-key", "same-key-1")],
            )
        };
        post(&token, "Scoped Gas Co").assert_status(201);
        let theirs = post(&second, "Scoped Gas Co");
        assert_ne!(theirs.header("idempotent-replayed"), "true", "another caller's answer was replayed: {:#}", theirs.body);
        assert_ne!(theirs.code(), "idempotency_key_reused", "{:#}", theirs.body);
    }

    // rule ACC-1: reusing a spent refresh token ends its session, access tokens included
    fn reusing_a_spent_refresh_token_ends_the_access_tokens_of_its_session(app: TestApp) {
        let first = app.login_tokens("admin", ADMIN_PASSWORD);
        let other = app.login_tokens("admin", ADMIN_PASSWORD);
        let r1 = first["refresh_token"].as_str().unwrap_or_default().to_owned();
        let second = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}));
        second.assert_status(200);
        let a2 = second.body["access_token"].as_str().unwrap_or_default().to_owned();
        app.get("/api/v1/me", Some(&a2)).assert_status(200);
        app.get("/api/v1/me", first["access_token"].as_str()).assert_status(200);
        // Someone replays the spent token: the session ends, live access tokens too.
        let reuse = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}));
        reuse.assert_problem(401, "invalid_refresh_token");
        assert_eq!(reuse.body["reason"], "used");
        let r = app.get("/api/v1/me", Some(&a2));
        r.assert_problem(401, "unauthenticated");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("session was ended"), "{:#}", r.body);
        app.get("/api/v1/me", first["access_token"].as_str()).assert_problem(401, "unauthenticated");
        // The account's other session goes on.
        app.get("/api/v1/me", other["access_token"].as_str()).assert_status(200);
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": other["refresh_token"]})).assert_status(200);
    }

    // rule ACC-1: a dead refresh token says why it is dead
    fn a_dead_refresh_token_says_why(app: TestApp) {
        let reason = |token: &Value| {
            let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": token}));
            r.assert_problem(401, "invalid_refresh_token");
            r.body["reason"].as_str().unwrap_or_default().to_owned()
        };
        assert_eq!(reason(&json!("not-a-token")), "unknown");
        // used, then revoked with its session
        let t = app.login_tokens("admin", ADMIN_PASSWORD);
        let next = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t["refresh_token"]}));
        next.assert_status(200);
        assert_eq!(reason(&t["refresh_token"]), "used");
        assert_eq!(reason(&next.body["refresh_token"]), "revoked");
        // revoked by logout
        let t = app.login_tokens("admin", ADMIN_PASSWORD);
        app.post("/api/v1/auth/logout", t["access_token"].as_str(), json!({})).assert_status(204);
        let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t["refresh_token"]}));
        assert_eq!(r.body["reason"], "revoked");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("revoked"), "{:#}", r.body);
        // expired
        let t = app.login_tokens("admin", ADMIN_PASSWORD);
        app.clock().advance(Duration::days(30) + Duration::seconds(1));
        let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": t["refresh_token"]}));
        assert_eq!(r.body["reason"], "expired");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("expired"), "{:#}", r.body);
        // An expired token is refused without ending anything else.
        assert_eq!(reason(&t["refresh_token"]), "expired");
    }
}
