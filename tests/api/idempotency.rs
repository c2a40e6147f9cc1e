//! `Idempotency-Key` (API-5) against revocation, transient refusals and races:
//! a stored answer is shown only to a caller who is still authenticated; 409,
//! 412 and the like are not stored; a replay keeps `Location` and `ETag`; the
//! same JSON body with its keys in another order is the same request; payments
//! without `If-Match` never fail on a version race.

use guild_tests::{ADMIN_PASSWORD, Method, Resp, TestApp, backend_tests};
use serde_json::{Value, json};

use crate::enrolments::{
    EXAM_FEE, TRAINING_FEE, act, approved_enrolment, enrol, org_person, setup,
};

const ORGS: &str = "/api/v1/organisations";

fn with_key(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> Resp {
    app.request(
        Method::POST,
        path,
        Some(token),
        Some(body),
        &[("idempotency-key", key)],
    )
}

fn raw_with_key(app: &TestApp, token: &str, path: &str, key: &str, body: &str) -> Resp {
    let res = app
        .client()
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_owned())
        .send()
        .expect("the request reached the server");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().expect("a readable body");
    Resp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn ledger(app: &TestApp, token: &str, enrolment: &str) -> Value {
    let r = app.get(
        &format!("/api/v1/enrolments/{enrolment}/ledger"),
        Some(token),
    );
    r.assert_status(200);
    r.body
}

/// Sends `bodies` at once (one thread and one client each, released together),
/// each `POST path` with its own `Idempotency-Key`; returns (status, body) in order.
fn concurrent_posts(
    app: &TestApp,
    token: &str,
    path: &str,
    requests: Vec<(String, Value)>,
) -> Vec<(u16, Value)> {
    guild_tests::at_once(
        requests
            .into_iter()
            .map(|(key, body)| {
                guild_tests::Racer::post(app.url(path), token, body).header("idempotency-key", key)
            })
            .collect(),
    )
}

/// An organisation enrolment taken to `confirmed` (the fees charged, nothing paid).
fn confirmed_enrolment(app: &TestApp) -> (crate::enrolments::Setup, String) {
    let s = setup(app);
    let person = org_person(app, &s.org, "Payer Person", 71);
    let id = approved_enrolment(app, &s, &s.class, &person);
    act(app, &s.officer, &id, "confirm").assert_status(200);
    (s, id)
}

backend_tests! {
    // rule API-5 (issue 10 item 6): a revoked token never sees a stored answer
    fn a_replay_is_refused_after_logout(app: TestApp) {
        let tokens = app.login_tokens("admin", ADMIN_PASSWORD);
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let body = json!({"name": "Revoked Co", "kind": "other"});
        let first = with_key(&app, &token, ORGS, "revoked-1", &body);
        first.assert_status(201);
        let again = with_key(&app, &token, ORGS, "revoked-1", &body);
        assert_eq!((again.status, again.header("idempotent-replayed")), (201, "true"));
        app.post("/api/v1/auth/logout", Some(&token), json!({})).assert_status(204);
        let r = with_key(&app, &token, ORGS, "revoked-1", &body);
        r.assert_problem(401, "unauthenticated");
        assert_eq!(r.header("idempotent-replayed"), "");
        assert!(r.body.get("id").is_none(), "nothing of the stored answer: {:#}", r.body);
        // The owner, logged in again, still gets the replay.
        let fresh = app.admin();
        let r = with_key(&app, &fresh, ORGS, "revoked-1", &body);
        assert_eq!((r.status, r.header("idempotent-replayed")), (201, "true"));
        assert_eq!(r.body, first.body);
    }

    // rule API-5 (issue 10 item 6): nor does the token of a disabled account
    fn a_replay_is_refused_to_a_disabled_account(app: TestApp) {
        let admin = app.admin();
        let (user_id, officer) = app.create_user_with_id(&admin, "officer", "training_officer", None);
        let body = json!({"name": "Disabled Co", "kind": "other"});
        with_key(&app, &officer, ORGS, "disabled-1", &body).assert_status(201);
        app.post(&format!("/api/v1/users/{user_id}/disable"), Some(&admin), json!({})).assert_status(200);
        let r = with_key(&app, &officer, ORGS, "disabled-1", &body);
        r.assert_problem(401, "unauthenticated");
        assert_eq!(r.header("idempotent-replayed"), "");
        // A token that does not verify at all is refused the same way.
        let r = with_key(&app, "not.a.token", ORGS, "disabled-1", &body);
        r.assert_problem(401, "unauthenticated");
        assert_eq!(r.header("idempotent-replayed"), "");
        assert_eq!(app.list_all(ORGS, &admin).len(), 1);
    }

    // rule API-5 (issue 10 item 7): a 409 is not stored; the retry under the same key runs
    fn a_conflict_is_not_replayed(app: TestApp) {
        let s = setup(&app);
        let person = org_person(&app, &s.org, "Early Confirm", 72);
        let r = enrol(&app, &s.org.filler, &s.class, &person, true);
        r.assert_status(201);
        let id = r.id();
        let path = format!("/api/v1/enrolments/{id}/confirm");
        // Not approved yet: confirming is the wrong state.
        with_key(&app, &s.officer, &path, "confirm-1", &json!({})).assert_problem(409, "invalid_transition");
        let again = with_key(&app, &s.officer, &path, "confirm-1", &json!({}));
        again.assert_problem(409, "invalid_transition");
        assert_eq!(again.header("idempotent-replayed"), "", "a 409 must not be replayed");
        act(&app, &s.org.reviewer, &id, "approve").assert_status(200);
        let r = with_key(&app, &s.officer, &path, "confirm-1", &json!({}));
        r.assert_status(200);
        assert_eq!(r.header("idempotent-replayed"), "");
        assert_eq!(r.body["status"], "confirmed");
        // Now the success is stored and replayed.
        let r = with_key(&app, &s.officer, &path, "confirm-1", &json!({}));
        assert_eq!((r.status, r.header("idempotent-replayed")), (200, "true"));
    }

    // rule API-5 (issue 10 item 7): a 412 is not stored either
    fn a_version_mismatch_is_not_replayed(app: TestApp) {
        let admin = app.admin();
        let program = crate::programs::create_program(&app, &admin, "IDEM-412");
        let r = app.post("/api/v1/plans", Some(&admin), json!({
            "year": 2026, "title": "2026 plan", "items": [{"program_id": program, "planned_classes": 1}]
        }));
        r.assert_status(201);
        let plan = r.id();
        app.post(&format!("/api/v1/plans/{plan}/publish"), Some(&admin), json!({})).assert_status(200);
        let version = app.get(&format!("/api/v1/plans/{plan}"), Some(&admin)).header("etag").to_owned();
        let path = format!("/api/v1/plans/{plan}/amendments");
        let body = json!({"items": [{"program_id": program, "planned_classes": 2}], "change_note": "one more"});
        let stale = [("idempotency-key", "amend-1"), ("if-match", "\"99\"")];
        app.request(Method::POST, &path, Some(&admin), Some(&body), &stale).assert_problem(412, "version_mismatch");
        let again = app.request(Method::POST, &path, Some(&admin), Some(&body), &stale);
        again.assert_problem(412, "version_mismatch");
        assert_eq!(again.header("idempotent-replayed"), "", "a 412 must not be replayed");
        // The retry with the current version under the same key runs.
        let fresh = [("idempotency-key", "amend-1"), ("if-match", version.as_str())];
        let r = app.request(Method::POST, &path, Some(&admin), Some(&body), &fresh);
        r.assert_status(201);
        assert_eq!(r.header("idempotent-replayed"), "");
    }

    // rule API-5 (issue 10 item 8): a replay keeps Location and ETag, and key order does not matter
    fn a_replay_keeps_its_headers_and_matches_json_by_value(app: TestApp) {
        let admin = app.admin();
        let first = raw_with_key(&app, &admin, ORGS, "headers-1",
            r#"{"name": "Header Co", "kind": "other", "region": "North"}"#);
        first.assert_status(201);
        let location = first.header("location").to_owned();
        let etag = first.header("etag").to_owned();
        assert_eq!(location, format!("{ORGS}/{}", first.id()));
        assert_eq!(etag, "\"1\"");
        // The same request, its keys in another order and spaced differently.
        let second = raw_with_key(&app, &admin, ORGS, "headers-1",
            "{\"region\":\"North\",\n  \"kind\":\"other\",\"name\":\"Header Co\"}");
        assert_eq!((second.status, second.header("idempotent-replayed")), (201, "true"), "{:#}", second.body);
        assert_eq!(second.header("location"), location);
        assert_eq!(second.header("etag"), etag);
        assert_eq!(second.body, first.body);
        // Another value is another request.
        raw_with_key(&app, &admin, ORGS, "headers-1",
            r#"{"region": "South", "kind": "other", "name": "Header Co"}"#)
            .assert_problem(422, "idempotency_key_reused");
        assert_eq!(app.list_all(ORGS, &admin).len(), 1);
    }

    // rule API-5 (issue 10 item 8): a CSV body still compares byte for byte
    fn csv_bodies_compare_as_bytes(app: TestApp) {
        let s = setup(&app);
        let upload = |body: &str| {
            let res = app
                .client()
                .post(app.url(&format!("/api/v1/classes/{}/enrolments/bulk", s.class)))
                .bearer_auth(&s.org.filler)
                .header("content-type", "text/csv; charset=utf-8")
                .header("idempotency-key", "csv-1")
                .body(body.to_owned())
                .send()
                .unwrap();
            let replayed = res.headers().get("idempotent-replayed").is_some();
            (res.status().as_u16(), replayed, res.json::<Value>().unwrap())
        };
        let file = format!(
            "name,gender,id_type,id_number,phone,category\nCsv Person,male,,{},,\n",
            guild_tests::valid_id_number(80)
        );
        let (status, replayed, first) = upload(&file);
        assert_eq!((status, replayed), (201, false), "{first:#}");
        let (status, replayed, again) = upload(&file);
        assert_eq!((status, replayed), (201, true));
        assert_eq!(again, first);
        // The same rows with other line ends are other bytes: another request.
        let (status, _, other) = upload(&file.replace('\n', "\r\n"));
        assert_eq!((status, other["code"].as_str()), (422, Some("idempotency_key_reused")));
    }

    // rule API-5: concurrent requests with one key act once; the others wait or replay
    fn concurrent_requests_with_one_key_act_once(app: TestApp) {
        let admin = app.admin();
        let body = json!({"name": "Race Co", "kind": "other"});
        let requests = (0..8).map(|_| ("race-1".to_owned(), body.clone())).collect();
        let outcomes = concurrent_posts(&app, &admin, ORGS, requests);
        let mut ids = Vec::new();
        for (status, body) in &outcomes {
            match status {
                201 => ids.push(body["id"].clone()),
                409 => assert_eq!(body["code"], "idempotency_in_progress", "{body:#}"),
                _ => panic!("unexpected {status}: {body:#}"),
            }
        }
        assert!(!ids.is_empty());
        assert!(ids.iter().all(|id| *id == ids[0]), "one resource: {ids:?}");
        assert_eq!(app.list_all(ORGS, &admin).len(), 1);
        let r = with_key(&app, &admin, ORGS, "race-1", &body);
        assert_eq!((r.status, r.header("idempotent-replayed")), (201, "true"));
        assert_eq!(r.body["id"], ids[0]);
    }

    // rule ENR-3, API-5 (issue 10 item 7): concurrent payments without If-Match never fail on a version race
    fn concurrent_payments_without_if_match_all_record(app: TestApp) {
        let (s, id) = confirmed_enrolment(&app);
        let path = format!("/api/v1/enrolments/{id}/payments");
        let requests = (0..10)
            .map(|i| (format!("pay-{i}"), json!({"amount_fen": 1_000, "reference": format!("RCPT-{i}")})))
            .collect();
        let outcomes = concurrent_posts(&app, &s.finance, &path, requests);
        for (status, body) in &outcomes {
            assert_eq!(*status, 201, "{body:#}");
        }
        let l = ledger(&app, &s.finance, &id);
        assert_eq!(l["balance"]["paid"], 10_000);
        assert_eq!(l["balance"]["due"], json!(TRAINING_FEE + EXAM_FEE - 10_000));
        let payments = l["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "payment").count();
        assert_eq!(payments, 10);
        // Each key replays its own answer and records nothing more.
        let r = with_key(&app, &s.finance, &path, "pay-3", &json!({"amount_fen": 1_000, "reference": "RCPT-3"}));
        assert_eq!((r.status, r.header("idempotent-replayed")), (201, "true"));
        assert_eq!(ledger(&app, &s.finance, &id)["balance"]["paid"], 10_000);
    }

    // rule ENR-3, API-5 (issue 10 item 7): past what is due, the refusal is the business rule, never 412
    fn concurrent_payments_past_the_fee_are_refused_as_overpayment(app: TestApp) {
        let (s, id) = confirmed_enrolment(&app);
        let path = format!("/api/v1/enrolments/{id}/payments");
        let amount = 20_000;
        let requests = (0..10)
            .map(|i| (format!("over-{i}"), json!({"amount_fen": amount, "reference": format!("RCPT-O{i}")})))
            .collect();
        let outcomes = concurrent_posts(&app, &s.finance, &path, requests);
        let due = TRAINING_FEE + EXAM_FEE;
        let fits = usize::try_from(due / amount).unwrap();
        let mut created = 0;
        for (status, body) in &outcomes {
            match status {
                201 => created += 1,
                422 => assert_eq!(body["code"], "overpayment", "{body:#}"),
                _ => panic!("unexpected {status}: {body:#}"),
            }
        }
        assert_eq!(created, fits);
        let l = ledger(&app, &s.finance, &id);
        let paid = i64::try_from(fits).unwrap() * amount;
        assert_eq!(l["balance"]["paid"], paid);
        assert_eq!(l["balance"]["due"], json!(due - paid));
    }
}
