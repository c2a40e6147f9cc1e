//! Cross-cutting API rules: problem+json for every bad input (API-2), cursor
//! pagination (API-3), If-Match and Idempotency-Key (API-5).

use std::collections::HashSet;

use guild_tests::{Method, TestApp, backend_tests};
use serde_json::{Value, json};

const ORGS: &str = "/api/v1/organisations";

fn raw_post(
    app: &TestApp,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> guild_tests::Resp {
    app.send_raw(
        Method::POST,
        ORGS,
        Some(token),
        content_type,
        body.as_bytes().to_vec(),
    )
}

fn with_key(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> guild_tests::Resp {
    app.request(
        Method::POST,
        path,
        Some(token),
        Some(body),
        &[("idempotency-key", key)],
    )
}

/// Follows `next_cursor` with the given page size; returns the pages' item ids.
fn walk(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let r = app.get(&url, Some(token));
        r.assert_status(200);
        let ids: Vec<String> = r.body["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            ids.len() <= limit as usize,
            "page larger than limit: {ids:?}"
        );
        pages.push(ids);
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                assert!(!c.is_empty());
                cursor = Some(c.to_owned());
            }
            None => {
                assert_eq!(
                    r.body["next_cursor"],
                    Value::Null,
                    "next_cursor is null on the last page"
                );
                return pages;
            }
        }
        assert!(pages.len() < 100, "pagination does not end");
    }
}

backend_tests! {
    // rule API-2: every malformed body answers problem+json with a stable code, never 500
    fn bad_bodies_answer_problem_json(app: TestApp) {
        let admin = app.admin();
        let json_ct = Some("application/json");
        raw_post(&app, &admin, json_ct, "{\"name\": ").assert_problem(400, "malformed_json");
        raw_post(&app, &admin, json_ct, "{'name': 'x'}").assert_problem(400, "malformed_json");
        raw_post(&app, &admin, json_ct, "").assert_problem(400, "malformed_json");
        raw_post(&app, &admin, json_ct, "{\"name\": 5, \"kind\": \"other\"}").assert_problem(422, "invalid_body");
        raw_post(&app, &admin, json_ct, "[]").assert_problem(422, "invalid_body");
        raw_post(&app, &admin, json_ct, "null").assert_problem(422, "invalid_body");
        raw_post(&app, &admin, json_ct, "{\"name\": \"Good Name\", \"kind\": \"bank\"}").assert_problem(422, "invalid_body");
        let r = raw_post(&app, &admin, json_ct, "{\"name\": \"Good Name\"}");
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["kind"]);
        let r = raw_post(&app, &admin, json_ct, "{\"name\": \"Good Name\", \"kind\": \"other\", \"colour\": \"red\"}");
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["colour"]);
        let long = json!({"name": "x".repeat(200), "kind": "other"}).to_string();
        let r = raw_post(&app, &admin, json_ct, &long);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["name"]);
        let huge = json!({"name": "x".repeat(70 * 1024), "kind": "other"}).to_string();
        raw_post(&app, &admin, json_ct, &huge).assert_problem(413, "payload_too_large");
        raw_post(&app, &admin, Some("text/plain"), "{\"name\": \"Good Name\", \"kind\": \"other\"}")
            .assert_problem(415, "unsupported_media_type");
        raw_post(&app, &admin, Some("application/x-www-form-urlencoded"), "name=Good+Name&kind=other")
            .assert_problem(415, "unsupported_media_type");
        raw_post(&app, &admin, None, "{\"name\": \"Good Name\", \"kind\": \"other\"}")
            .assert_problem(415, "unsupported_media_type");
        // A JSON media type with parameters is fine.
        raw_post(&app, &admin, Some("application/json; charset=utf-8"), "{\"name\": \"Good Name\", \"kind\": \"other\"}")
            .assert_status(201);
        assert_eq!(app.list_all(ORGS, &admin).len(), 1, "only the good request created anything");
    }

    // rule API-2: paths, queries, routes and methods
    fn bad_paths_queries_routes_and_methods_answer_problem_json(app: TestApp) {
        let admin = app.admin();
        for path in ["/api/v1/users/not-a-uuid", "/api/v1/organisations/123", "/api/v1/people/%20", "/api/v1/account-changes/x"] {
            app.get(path, Some(&admin)).assert_problem(400, "invalid_path_parameter");
        }
        app.post("/api/v1/organisations/zzz/approve", Some(&admin), json!({})).assert_problem(400, "invalid_path_parameter");
        app.patch("/api/v1/people/zzz", Some(&admin), json!({})).assert_problem(400, "invalid_path_parameter");
        for query in ["limit=abc", "limit=-1", "limit=0", "limit=201", "limit=1.5", "status=sleeping", "unknown=1", "organisation_id=42"] {
            app.get(&format!("{ORGS}?{query}"), Some(&admin)).assert_problem(400, "invalid_query");
        }
        app.get(&format!("{ORGS}?limit=200"), Some(&admin)).assert_status(200);
        app.get(&format!("{ORGS}?limit=1"), Some(&admin)).assert_status(200);
        for path in ["/api/v1/nothing", "/api/v1/users/extra/segments/here", "/nothing", "/api/v2/users"] {
            app.get(path, Some(&admin)).assert_problem(404, "route_not_found");
        }
        app.get("/api/v1/nothing", None).assert_problem(404, "route_not_found");
        for (method, path) in [
            (Method::DELETE, "/api/v1/users".to_owned()),
            (Method::PUT, format!("{ORGS}/{}", uuid::Uuid::new_v4())),
            (Method::DELETE, format!("/api/v1/people/{}", uuid::Uuid::new_v4())),
            (Method::GET, "/api/v1/auth/login".to_owned()),
        ] {
            let r = app.request(method.clone(), &path, Some(&admin), None, &[]);
            assert_eq!(r.status, 405, "{method} {path}: {:#}", r.body);
            r.assert_problem(405, "method_not_allowed");
        }
    }

    // rule API-2: every error carries the request id
    fn errors_carry_the_request_id(app: TestApp) {
        let r = app.request(Method::GET, "/api/v1/me", None, None, &[("x-request-id", "trace-me-42")]);
        r.assert_problem(401, "unauthenticated");
        assert_eq!(r.header("x-request-id"), "trace-me-42");
        assert_eq!(r.body["request_id"], "trace-me-42");
        let r = app.get("/api/v1/nothing", None);
        assert_eq!(r.body["request_id"].as_str(), Some(r.header("x-request-id")));
    }

    // rule API-3: walk more than two pages; stable order, oldest first, no gaps or repeats
    fn pagination_walks_every_page_in_a_stable_order(app: TestApp) {
        let admin = app.admin();
        let mut created = Vec::new();
        for i in 0..7 {
            created.push(app.create_pending_org(&admin, &format!("Paged Org {i}")));
        }
        let pages = walk(&app, &admin, ORGS, 3);
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        let flat: Vec<String> = pages.concat();
        assert_eq!(flat, created, "oldest first, every item once");
        assert_eq!(walk(&app, &admin, ORGS, 3), pages, "the order is stable");
        // A page that ends exactly at the last item has a null cursor.
        let sevens = walk(&app, &admin, ORGS, 7);
        assert_eq!(sevens.concat(), created);
        let all = app.get(&format!("{ORGS}?limit=200"), Some(&admin));
        assert_eq!(all.body["next_cursor"], Value::Null);
        assert_eq!(all.body["items"].as_array().map(Vec::len), Some(7));
        // Items added later appear at the end of a walk in progress.
        let first = app.get(&format!("{ORGS}?limit=3"), Some(&admin));
        let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
        let late = app.create_pending_org(&admin, "Late Org");
        let rest = app.list_all(&format!("{ORGS}?cursor={cursor}"), &admin);
        assert_eq!(rest.last().and_then(|o| o["id"].as_str()), Some(late.as_str()));
        assert_eq!(rest.len(), 5);
        let unique: HashSet<&str> = rest.iter().filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(unique.len(), 5);
    }

    // rule API-3
    fn foreign_cursors_are_refused(app: TestApp) {
        let admin = app.admin();
        for cursor in ["garbage", "!!!", "a2xxxx", "bm90LWEta2V5", "azE6bm90LWEtdXVpZA"] {
            app.get(&format!("{ORGS}?cursor={cursor}"), Some(&admin)).assert_problem(400, "invalid_cursor");
        }
    }

    // rule API-5: stale If-Match answers 412 and changes nothing
    fn stale_if_match_is_412(app: TestApp) {
        let admin = app.admin();
        let id = app.create_pending_org(&admin, "Versioned Co");
        let path = format!("{ORGS}/{id}");
        let first = app.get(&path, Some(&admin));
        let etag = first.header("etag").to_owned();
        assert_eq!(etag, format!("\"{}\"", first.body["version"]));
        app.request(Method::PATCH, &path, Some(&admin), Some(&json!({"region": "A"})), &[("if-match", &etag)]).assert_status(200);
        app.request(Method::PATCH, &path, Some(&admin), Some(&json!({"region": "B"})), &[("if-match", &etag)])
            .assert_problem(412, "version_mismatch");
        assert_eq!(app.get(&path, Some(&admin)).body["region"], "A");
    }

    // rule API-5: the same Idempotency-Key and body replays the first answer
    fn idempotency_key_replays_the_first_answer(app: TestApp) {
        let admin = app.admin();
        let body = json!({"name": "Once Only Co", "kind": "gas_user"});
        let first = with_key(&app, &admin, ORGS, "key-0001", &body);
        first.assert_status(201);
        assert_eq!(first.header("idempotent-replayed"), "");
        let second = with_key(&app, &admin, ORGS, "key-0001", &body);
        second.assert_status(201);
        assert_eq!(second.header("idempotent-replayed"), "true");
        assert!(second.header("content-type").starts_with("application/json"));
        assert_eq!(second.body, first.body);
        assert_eq!(app.list_all(ORGS, &admin).len(), 1, "no second resource");

        let r = with_key(&app, &admin, ORGS, "key-0001", &json!({"name": "Other Co", "kind": "gas_user"}));
        r.assert_problem(422, "idempotency_key_reused");
        let action = format!("{ORGS}/{}/approve", first.id());
        with_key(&app, &admin, &action, "key-0001", &json!({})).assert_problem(422, "idempotency_key_reused");

        // A new key is a new request.
        let third = with_key(&app, &admin, ORGS, "key-0002", &body);
        third.assert_status(201);
        assert_ne!(third.id(), first.id());
        // Keys belong to the caller: another account's identical key is its own.
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let theirs = with_key(&app, &officer, ORGS, "key-0001", &body);
        theirs.assert_status(201);
        assert_eq!(theirs.header("idempotent-replayed"), "");
        assert_eq!(app.list_all(ORGS, &admin).len(), 3);
    }

    // rule API-5: actions are idempotent too; a conflict (409) is not remembered, the retry runs
    fn idempotency_covers_actions_and_refusals(app: TestApp) {
        let admin = app.admin();
        let id = app.create_pending_org(&admin, "Action Co");
        let path = format!("{ORGS}/{id}/approve");
        with_key(&app, &admin, &path, "approve-1", &json!({})).assert_status(200);
        let again = with_key(&app, &admin, &path, "approve-1", &json!({}));
        again.assert_status(200);
        assert_eq!(again.header("idempotent-replayed"), "true");
        assert_eq!(again.body["version"], 2, "approved once");
        // Without the key the second approval is a real second attempt.
        app.post(&path, Some(&admin), json!({})).assert_problem(409, "invalid_transition");
        let refused = with_key(&app, &admin, &path, "approve-2", &json!({}));
        refused.assert_problem(409, "invalid_transition");
        let retried = with_key(&app, &admin, &path, "approve-2", &json!({}));
        retried.assert_problem(409, "invalid_transition");
        assert_eq!(retried.header("idempotent-replayed"), "");
    }

    fn malformed_idempotency_keys_are_refused(app: TestApp) {
        let admin = app.admin();
        let body = json!({"name": "Key Co", "kind": "other"});
        with_key(&app, &admin, ORGS, &"k".repeat(256), &body).assert_problem(400, "invalid_header");
        with_key(&app, &admin, ORGS, "", &body).assert_problem(400, "invalid_header");
        assert!(app.list_all(ORGS, &admin).is_empty());
    }

    // rule API-5: an answer refused for the token is not remembered under the key
    fn a_request_refused_for_its_token_can_be_retried_with_the_same_key(app: TestApp) {
        let admin = app.login_tokens("admin", guild_tests::ADMIN_PASSWORD);
        let stale = admin["access_token"].as_str().unwrap_or_default().to_owned();
        app.post("/api/v1/auth/logout", Some(&stale), json!({})).assert_status(204);
        let body = json!({"name": "Retry Co", "kind": "other"});
        with_key(&app, &stale, ORGS, "retry-1", &body).assert_problem(401, "unauthenticated");
        let fresh = app.admin();
        let r = with_key(&app, &fresh, ORGS, "retry-1", &body);
        assert_eq!(
            (r.status, r.header("idempotent-replayed")),
            (201, ""),
            "the retry with a fresh token must run, not replay the 401: {:#}",
            r.body
        );
    }

    fn oversized_body_with_an_idempotency_key_is_413(app: TestApp) {
        let admin = app.admin();
        let huge = json!({"name": "x".repeat(70 * 1024), "kind": "other"});
        with_key(&app, &admin, ORGS, "huge-1", &huge).assert_problem(413, "payload_too_large");
    }

    // rule API-1: what a create answers is what a read answers, on both backends,
    // whatever the precision of the clock (PostgreSQL keeps microseconds)
    fn created_resources_read_back_identically(app: TestApp) {
        let admin = app.admin();
        app.clock().set(guild_tests::start_time() + chrono::Duration::nanoseconds(123_456_789));
        let created = app.post(ORGS, Some(&admin), json!({"name": "Precise Co", "kind": "other"}));
        created.assert_status(201);
        let read = app.get(&format!("{ORGS}/{}", created.id()), Some(&admin));
        read.assert_status(200);
        assert_eq!(read.body, created.body);
        let person = app.create_person(&admin, "Precise Person", &guild_tests::valid_id_number(1), None);
        person.assert_status(201);
        let read = app.get(&format!("/api/v1/people/{}", person.id()), Some(&admin));
        assert_eq!(read.body, person.body);
    }
}
