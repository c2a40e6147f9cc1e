//! `/plans` and `/public/plans` (PLN-1): drafting, publishing as version 1,
//! amendments with a version history, and the public view of the latest version.
//!
//! The test clock starts on 2026-03-02 (Asia/Shanghai), so 2026 is the current year.
//! Classes: the public view lists every class of the plan's year (created here
//! over `POST /api/v1/classes`), cancelled ones included with their status.

use chrono::{TimeZone, Utc};
use guild_tests::{Method, TestApp, USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

use crate::programs::create_program;

fn item(program: &str, planned: u32) -> Value {
    json!({"program_id": program, "planned_classes": planned})
}

/// Creates a draft plan for `year` as `token` and returns its id.
#[track_caller]
fn create_plan(app: &TestApp, token: &str, year: i32, items: Value) -> String {
    let r = app.post(
        "/api/v1/plans",
        Some(token),
        json!({"year": year, "title": format!("{year} annual training plan"), "items": items}),
    );
    r.assert_status(201);
    r.id()
}

fn publish(app: &TestApp, token: &str, id: &str) -> guild_tests::Resp {
    app.post(
        &format!("/api/v1/plans/{id}/publish"),
        Some(token),
        json!({}),
    )
}

backend_tests! {
    // rule PLN-1: a draft is never public; publishing shows version 1
    fn a_draft_is_not_public_and_publishing_shows_version_1(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let head = app.create_user(&admin, "head", "training_head", None);
        let program = create_program(&app, &admin, "GAS-MGR");
        let r = app.post("/api/v1/plans", Some(&officer), json!({
            "year": 2027,
            "title": "  2027 annual training plan ",
            "notes": "drafted in March",
            "items": [{"program_id": program, "planned_classes": 4, "months": [11, 3, 6, 3], "note": "quarterly"}]
        }));
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.header("location"), format!("/api/v1/plans/{id}"));
        assert_eq!(r.body["status"], "draft");
        assert_eq!(r.body["latest_version"], 0);
        assert_eq!(r.body["title"], "2027 annual training plan");
        assert_eq!(r.body["items"], json!([{"program_id": program, "planned_classes": 4, "months": [3, 6, 11], "note": "quarterly"}]));
        assert_eq!(r.body["published_at"], Value::Null);

        // Drafts are never visible publicly.
        let list = app.get("/api/v1/public/plans", None);
        list.assert_status(200);
        assert_eq!(list.body["items"], json!([]));
        app.get("/api/v1/public/plans/2027", None).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/plans/{id}/versions"), Some(&officer)).assert_status(200);
        assert_eq!(app.list_all(&format!("/api/v1/plans/{id}/versions"), &officer), Vec::<Value>::new());

        // An officer drafts but does not publish.
        publish(&app, &officer, &id).assert_problem(403, "forbidden");
        let r = publish(&app, &head, &id);
        r.assert_status(200);
        assert_eq!(r.body["status"], "published");
        assert_eq!(r.body["latest_version"], 1);
        assert!(r.body["published_at"].is_string());
        let r = publish(&app, &head, &id);
        r.assert_rule(409, "invalid_transition", "PLN-1");
        assert_eq!(r.body["allowed_actions"], json!(["amend"]));

        let public = app.get("/api/v1/public/plans/2027", None);
        public.assert_status(200);
        assert_eq!(public.body["year"], 2027);
        assert_eq!(public.body["version"], 1);
        assert_eq!(public.body["title"], "2027 annual training plan");
        assert_eq!(public.body["notes"], "drafted in March");
        assert_eq!(public.body["amended_at"], Value::Null);
        assert_eq!(public.body["change_note"], Value::Null);
        assert_eq!(public.body["items"], json!([{
            "program_id": program, "program_code": "GAS-MGR", "program_name": "Program GAS-MGR",
            "planned_classes": 4, "months": [3, 6, 11], "note": "quarterly"
        }]));
        // No classes scheduled yet.
        assert_eq!(public.body["classes"], json!([]));
        let list = app.get("/api/v1/public/plans", None);
        assert_eq!(list.body["items"], json!([{
            "year": 2027, "title": "2027 annual training plan", "version": 1,
            "published_at": public.body["published_at"], "amended_at": null
        }]));
        let versions = app.list_all(&format!("/api/v1/plans/{id}/versions"), &officer);
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0]["number"], 1);
        assert_eq!(versions[0]["change_note"], Value::Null);
    }

    // rule PLN-1: an amendment publishes version n+1 at once; the public sees the latest
    fn amending_publishes_a_new_version(app: TestApp) {
        let admin = app.admin();
        let head = app.create_user(&admin, "head", "training_head", None);
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let a = create_program(&app, &admin, "PRG-A");
        let b = create_program(&app, &admin, "PRG-B");
        let id = create_plan(&app, &officer, 2026, json!([item(&a, 2)]));
        let path = format!("/api/v1/plans/{id}/amendments");
        // A draft is published, not amended.
        let r = app.post(&path, Some(&head), json!({"items": [item(&a, 3)], "change_note": "more"}));
        r.assert_rule(409, "invalid_transition", "PLN-1");
        assert_eq!(r.body["allowed_actions"], json!(["publish"]));
        publish(&app, &head, &id).assert_status(200);
        let v1 = app.get("/api/v1/public/plans/2026", None);

        app.clock().advance(chrono::Duration::days(30));
        let head = app.login("head", USER_PASSWORD);
        let officer = app.login("officer", USER_PASSWORD);
        // Only the roles that publish may amend.
        app.post(&path, Some(&officer), json!({"items": [item(&a, 3)], "change_note": "x"}))
            .assert_problem(403, "forbidden");
        // change_note is required.
        let r = app.post(&path, Some(&head), json!({"items": [item(&a, 3)]}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["change_note"]);
        let r = app.post(&path, Some(&head), json!({"items": [item(&a, 3)], "change_note": "  "}));
        assert_eq!(r.error_fields(), ["change_note"]);
        // An amendment keeps at least one item.
        app.post(&path, Some(&head), json!({"items": [], "change_note": "empty"}))
            .assert_rule(422, "plan_empty", "PLN-1");

        let r = app.post(&path, Some(&head), json!({
            "items": [item(&a, 6), {"program_id": b, "planned_classes": 1, "months": [9]}],
            "notes": "class frequency adjusted to demand",
            "change_note": "two more classes of PRG-A; PRG-B added"
        }));
        r.assert_status(201);
        assert_eq!(r.body["number"], 2);
        assert_eq!(r.body["plan_id"], json!(id));
        assert_eq!(r.body["change_note"], "two more classes of PRG-A; PRG-B added");

        let plan = app.get(&format!("/api/v1/plans/{id}"), Some(&officer));
        assert_eq!(plan.body["latest_version"], 2);
        assert_eq!(plan.body["status"], "published");
        assert_eq!(plan.body["items"][0]["planned_classes"], 6);
        assert_eq!(plan.body["notes"], "class frequency adjusted to demand");
        assert_eq!(plan.body["title"], "2026 annual training plan", "title kept");

        let public = app.get("/api/v1/public/plans/2026", None);
        public.assert_status(200);
        assert_eq!(public.body["version"], 2);
        assert_eq!(public.body["published_at"], v1.body["published_at"], "first publication kept");
        assert!(public.body["amended_at"].is_string());
        assert_ne!(public.body["amended_at"], public.body["published_at"]);
        assert_eq!(public.body["change_note"], "two more classes of PRG-A; PRG-B added");
        let items = public.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["program_code"], "PRG-A");
        assert_eq!(items[0]["planned_classes"], 6);
        assert_eq!(items[1]["program_code"], "PRG-B");
        assert_eq!(items[1]["months"], json!([9]));

        let versions = app.list_all(&format!("/api/v1/plans/{id}/versions"), &head);
        let numbers: Vec<i64> = versions.iter().map(|v| v["number"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [1, 2], "history, newest last");
        assert_eq!(versions[0]["items"], json!([{"program_id": a, "planned_classes": 2, "months": [], "note": null}]));
        assert_eq!(versions[1]["items"].as_array().unwrap().len(), 2);
        let page = app.get(&format!("/api/v1/plans/{id}/versions?limit=1"), Some(&head));
        assert_eq!(page.body["items"][0]["number"], 1);
        let next = page.body["next_cursor"].as_str().unwrap();
        let page = app.get(&format!("/api/v1/plans/{id}/versions?limit=1&cursor={next}"), Some(&head));
        assert_eq!(page.body["items"][0]["number"], 2);
        assert_eq!(page.body["next_cursor"], Value::Null);

        // Stale If-Match on an amendment is refused.
        let r = app.request(Method::POST, &path, Some(&head), Some(&json!({"items": [item(&a, 1)], "change_note": "x"})), &[("If-Match", "\"1\"")]);
        r.assert_problem(412, "version_mismatch");
        let list = app.get("/api/v1/public/plans", None);
        assert_eq!(list.body["items"][0]["version"], 2);
        assert_eq!(list.body["items"][0]["amended_at"], public.body["amended_at"]);
    }

    // rule PLN-1: a published plan is not edited in place
    fn patching_a_published_plan_is_a_conflict(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let a = create_program(&app, &admin, "PAT-A");
        let id = create_plan(&app, &officer, 2027, json!([]));
        let path = format!("/api/v1/plans/{id}");
        // Empty drafts are fine, but are not published.
        publish(&app, &admin, &id).assert_rule(422, "plan_empty", "PLN-1");
        let r = app.request(Method::PATCH, &path, Some(&officer), Some(&json!({"items": [item(&a, 2)], "title": "Plan 2027"})), &[("If-Match", "\"9\"")]);
        r.assert_problem(412, "version_mismatch");
        let r = app.request(Method::PATCH, &path, Some(&officer), Some(&json!({"items": [item(&a, 2)], "title": "Plan 2027", "notes": "n"})), &[("If-Match", "\"1\"")]);
        r.assert_status(200);
        assert_eq!(r.body["title"], "Plan 2027");
        assert_eq!(r.body["version"], 2);
        let r = app.patch(&path, Some(&officer), json!({"notes": ""}));
        r.assert_status(200);
        assert_eq!(r.body["notes"], Value::Null);
        assert_eq!(r.body["items"][0]["planned_classes"], 2);
        publish(&app, &admin, &id).assert_status(200);
        let r = app.patch(&path, Some(&officer), json!({"title": "Changed"}));
        r.assert_rule(409, "plan_published", "PLN-1");
        assert!(r.body["detail"].as_str().unwrap().contains("amendments"));
        assert_eq!(app.get(&path, Some(&officer)).body["title"], "Plan 2027");
    }

    // rule PLN-1: a plan for a year that has already ended is refused, at the
    // edge of the year in the association's time zone (Asia/Shanghai)
    fn a_plan_for_a_past_year_is_refused(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let r = app.post("/api/v1/plans", Some(&officer), json!({"year": 2025, "title": "Too late"}));
        r.assert_rule(422, "plan_year_past", "PLN-1");
        // Drafting is normally in December of Y-1, but any date is accepted.
        create_plan(&app, &officer, 2030, json!([]));
        // 2026-12-31 23:59 in Shenzhen (15:59 UTC): 2026 has not ended.
        app.clock().set(Utc.with_ymd_and_hms(2026, 12, 31, 15, 59, 0).unwrap());
        let officer = app.login("officer", USER_PASSWORD);
        let id = create_plan(&app, &officer, 2026, json!([]));
        app.patch(&format!("/api/v1/plans/{id}"), Some(&officer), json!({"notes": "last minute"}))
            .assert_status(200);
        // 2027-01-01 00:00 in Shenzhen (still 2026 in UTC): 2026 is over.
        app.clock().set(Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap());
        app.post("/api/v1/plans", Some(&officer), json!({"year": 2026, "title": "Again"}))
            .assert_rule(422, "plan_year_past", "PLN-1");
        app.patch(&format!("/api/v1/plans/{id}"), Some(&officer), json!({"notes": "too late"}))
            .assert_rule(422, "plan_year_past", "PLN-1");
        create_plan(&app, &officer, 2027, json!([]));
        // Out of range years are field errors.
        let r = app.post("/api/v1/plans", Some(&officer), json!({"year": 2101, "title": "Far"}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["year"]);
    }

    // rule PLN-1: fillers neither draft plans nor read the internal ones
    fn organisation_users_cannot_draft_or_read_plans(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let authority = app.create_user(&admin, "authority.hr", "authority", None);
        let finance = app.create_user(&admin, "finance.clerk", "finance", None);
        let id = create_plan(&app, &admin, 2027, json!([]));
        for token in [&org.filler, &org.reviewer, &authority, &finance] {
            app.post("/api/v1/plans", Some(token), json!({"year": 2028, "title": "Nope"}))
                .assert_problem(403, "forbidden");
            app.patch(&format!("/api/v1/plans/{id}"), Some(token), json!({"title": "Nope"}))
                .assert_problem(403, "forbidden");
            publish(&app, token, &id).assert_problem(403, "forbidden");
        }
        for token in [&org.filler, &org.reviewer] {
            app.get("/api/v1/plans", Some(token)).assert_problem(403, "forbidden");
            app.get(&format!("/api/v1/plans/{id}"), Some(token)).assert_problem(403, "forbidden");
        }
        // The authority and association staff read plans.
        app.get(&format!("/api/v1/plans/{id}"), Some(&authority)).assert_status(200);
        app.get(&format!("/api/v1/plans/{id}"), Some(&finance)).assert_status(200);
        assert_eq!(app.list_all("/api/v1/plans?year=2027", &authority).len(), 1);
        app.get("/api/v1/plans", None).assert_problem(401, "unauthenticated");
    }

    // rule PLN-1, PRG-1: items name existing programs; one plan per year
    fn plan_items_are_validated(app: TestApp) {
        let admin = app.admin();
        let a = create_program(&app, &admin, "ITM-A");
        let retired = create_program(&app, &admin, "ITM-R");
        app.post(&format!("/api/v1/programs/{retired}/retire"), Some(&admin), json!({})).assert_status(200);
        let ghost = uuid::Uuid::new_v4().to_string();
        let r = app.post("/api/v1/plans", Some(&admin), json!({
            "year": 2027, "title": "",
            "items": [
                {"program_id": a, "planned_classes": 0, "months": [13]},
                {"program_id": a, "planned_classes": 101}
            ]
        }));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [
            "items[0].months", "items[0].planned_classes",
            "items[1].planned_classes", "items[1].program_id", "title",
        ]);
        let r = app.post("/api/v1/plans", Some(&admin), json!({
            "year": 2027, "title": "Plan", "items": [item(&ghost, 1), item(&retired, 1), item(&a, 1)]
        }));
        r.assert_problem(422, "validation_failed");
        let codes: Vec<(String, String)> = r.body["errors"].as_array().unwrap().iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(codes, [
            ("items[0].program_id".to_owned(), "unknown_program".to_owned()),
            ("items[1].program_id".to_owned(), "program_retired".to_owned()),
        ]);
        create_plan(&app, &admin, 2027, json!([item(&a, 1)]));
        app.post("/api/v1/plans", Some(&admin), json!({"year": 2027, "title": "Twice"}))
            .assert_problem(409, "already_exists");
        assert_eq!(app.list_all("/api/v1/plans?status=draft", &admin).len(), 1);
        assert_eq!(app.list_all("/api/v1/plans?status=published", &admin).len(), 0);
    }

    // rule PLN-1: the public list shows published plans, newest year first
    fn public_list_is_newest_year_first(app: TestApp) {
        let admin = app.admin();
        let a = create_program(&app, &admin, "PUB-A");
        for year in [2027, 2029, 2028] {
            let id = create_plan(&app, &admin, year, json!([item(&a, 1)]));
            publish(&app, &admin, &id).assert_status(200);
        }
        create_plan(&app, &admin, 2030, json!([item(&a, 1)]));
        let years: Vec<i64> = app.get("/api/v1/public/plans", None).body["items"].as_array().unwrap()
            .iter().map(|p| p["year"].as_i64().unwrap()).collect();
        assert_eq!(years, [2029, 2028, 2027], "drafts (2030) never appear");
        let mut seen = Vec::new();
        let mut url = "/api/v1/public/plans?limit=1".to_owned();
        loop {
            let page = app.get(&url, None);
            page.assert_status(200);
            seen.extend(page.body["items"].as_array().unwrap().iter().map(|p| p["year"].as_i64().unwrap()));
            match page.body["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/public/plans?limit=1&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, [2029, 2028, 2027]);
        app.get("/api/v1/public/plans/2030", None).assert_problem(404, "not_found");
        app.get("/api/v1/public/plans/1999", None).assert_problem(404, "not_found");
        app.get("/api/v1/public/plans/next", None).assert_problem(400, "invalid_path_parameter");
    }

    // rule PLN-1: the public plan lists the year's classes, cancelled ones with their status
    fn the_public_plan_lists_the_years_classes(app: TestApp) {
        let admin = app.admin();
        let program = create_program(&app, &admin, "CLS-PRG");
        let id = create_plan(&app, &admin, 2027, json!([item(&program, 2)]));
        publish(&app, &admin, &id).assert_status(200);
        let class = |code: &str, start: &str, end: &str| {
            let r = app.post("/api/v1/classes", Some(&admin), json!({
                "program_id": program, "code": code, "title": format!("Class {code}"),
                "start_date": start, "end_date": end, "place": "Futian training centre", "capacity": 30
            }));
            r.assert_status(201);
            r.id()
        };
        let late = class("CLS-PRG-2027-02", "2027-09-06", "2027-09-08");
        let early = class("CLS-PRG-2027-01", "2027-03-08", "2027-03-10");
        class("CLS-PRG-2028-01", "2028-03-06", "2028-03-08");
        app.post(&format!("/api/v1/classes/{late}/cancel"), Some(&admin), json!({"reason": "too few applicants"}))
            .assert_status(200);
        let public = app.get("/api/v1/public/plans/2027", None);
        public.assert_status(200);
        let classes = public.body["classes"].as_array().unwrap();
        assert_eq!(classes.len(), 2, "only the classes of 2027: {:#}", public.body);
        assert_eq!(classes[0], json!({
            "id": early, "code": "CLS-PRG-2027-01", "title": "Class CLS-PRG-2027-01",
            "program_code": "CLS-PRG", "program_name": "Program CLS-PRG",
            "start_date": "2027-03-08", "end_date": "2027-03-10",
            "place": "Futian training centre", "capacity": 30, "status": "planned"
        }));
        assert_eq!(classes[1]["id"], json!(late));
        assert_eq!(classes[1]["status"], "cancelled", "the public sees the cancellation");
    }
    // rule PLN-1, API-8: every change of a plan emits one event of its kind,
    // about the plan, belonging to no organisation
    fn each_plan_change_emits_one_event(app: TestApp) {
        let admin = app.admin();
        let a = create_program(&app, &admin, "EVT-A");
        let id = create_plan(&app, &admin, 2027, json!([]));
        app.patch(&format!("/api/v1/plans/{id}"), Some(&admin), json!({"items": [item(&a, 2)]}))
            .assert_status(200);
        // A refused change emits nothing.
        app.patch(&format!("/api/v1/plans/{id}"), Some(&admin), json!({"title": " "}))
            .assert_problem(422, "validation_failed");
        publish(&app, &admin, &id).assert_status(200);
        let r = app.post(&format!("/api/v1/plans/{id}/amendments"), Some(&admin), json!({
            "items": [item(&a, 3)], "change_note": "one more class"
        }));
        r.assert_status(201);
        let events = app.outbox("plan", &id);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["plan.created", "plan.updated", "plan.published", "plan.amended"]);
        assert!(events.iter().all(|e| e.organisation_id.is_none()), "{events:?}");
        let last: Value = serde_json::from_str(&events[3].payload).unwrap();
        assert_eq!(last["latest_version"], 2);
        assert_eq!(last["items"][0]["planned_classes"], 3);
        let published: Value = serde_json::from_str(&events[2].payload).unwrap();
        assert_eq!(published["status"], "published");
    }

    // rule PLN-1, API-5: two publications of one draft at the same instant:
    // the plan's row is locked, so the second queues and finds the plan
    // published (409, never a 412 version race); one version, one event
    fn concurrent_publications_publish_once(app: TestApp) {
        let admin = app.admin();
        let head = app.create_user(&admin, "head", "training_head", None);
        let a = create_program(&app, &admin, "RACE-A");
        for (round, year) in (2027..2030).enumerate() {
            let id = create_plan(&app, &admin, year, json!([item(&a, 1)]));
            let url = app.url(&format!("/api/v1/plans/{id}/publish"));
            let answers = guild_tests::at_once(vec![
                guild_tests::Racer::post(url.clone(), admin.clone(), json!({})),
                guild_tests::Racer::post(url, head.clone(), json!({})),
            ]);
            let mut statuses: Vec<u16> = answers.iter().map(|(st, _)| *st).collect();
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409], "round {round}: {answers:?}");
            let refused = answers.iter().find(|(st, _)| *st == 409).unwrap();
            assert_eq!(refused.1["code"], "invalid_transition", "round {round}");
            let versions = app.list_all(&format!("/api/v1/plans/{id}/versions"), &admin);
            assert_eq!(versions.len(), 1, "round {round}");
            let kinds: Vec<String> = app.outbox("plan", &id).into_iter().map(|e| e.kind).collect();
            assert_eq!(kinds, ["plan.created", "plan.published"], "round {round}");
        }
    }
}
