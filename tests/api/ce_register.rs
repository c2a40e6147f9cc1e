//! The continuing-education register's write side over HTTP (CED-1, CED-3,
//! CED-4): providers and their accreditation, activities, and recording
//! credits. The fixtures at the top are shared with the compliance and
//! statistics tests (`ce_compliance.rs`).

use guild_tests::{TestApp, backend_tests, valid_id_number, with_wrong_check_digit};
use reqwest::Method;
use serde_json::{Value, json};

/// The day the tests' activities take place (the test clock starts on
/// 2 March 2026, so credits for it may be recorded at once).
pub const HELD_ON: &str = "2026-03-01";

/// An organisation accredited (or applied) as a CE provider, with one
/// `provider` account.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The organisation (kind `provider`).
    pub org: String,
    /// The provider id (`/ce/providers/{id}`).
    pub id: String,
    /// The provider account's user name.
    pub username: String,
    /// The provider account's access token.
    pub token: String,
}

/// Evidence of all five conditions of seed 004 art. 9 (CED-4).
pub fn conditions() -> Value {
    json!({
        "teaching_facilities": "Two classrooms and a training yard; lease JH-2026-014",
        "teaching_staff": "12 teachers, 3 administrators; staff list attached",
        "plans_and_rules": "Teaching plan 2026 and management rules v3",
        "quality_assurance": "40 classes delivered in 2025; quality manual",
        "legal_compliance": "Business licence on file; no violations"
    })
}

/// A complete application body named `name` in `region` (CED-4).
pub fn application(name: &str, region: &str) -> Value {
    json!({
        "name": name,
        "region": region,
        "conditions": conditions(),
        "scope": "Gas pipeline operators, levels 1 to 5",
        "content": "Safety regulations, new pipe materials, leak detection",
        "fee_items": [{"name": "Offline class, per day", "amount_fen": 30000}],
        "standards": "Classes of at most 40 trainees",
        "contact_phone": "13800138000"
    })
}

/// An authority account named `username` (role `authority`); returns its token.
pub fn authority(app: &TestApp, admin: &str, username: &str) -> String {
    app.create_user(admin, username, "authority", None)
}

/// An approved organisation of kind `kind` in `region`; returns its id.
pub fn organisation(app: &TestApp, admin: &str, name: &str, kind: &str, region: &str) -> String {
    let r = app.post(
        "/api/v1/organisations",
        Some(admin),
        json!({"name": name, "kind": kind, "region": region}),
    );
    r.assert_status(201);
    let id = r.id();
    app.post(
        &format!("/api/v1/organisations/{id}/approve"),
        Some(admin),
        json!({}),
    )
    .assert_status(200);
    id
}

/// A provider organisation (region "Wucheng") with account `{tag}.provider`
/// that has applied (status `applied`).
pub fn applied_provider(app: &TestApp, admin: &str, tag: &str) -> Provider {
    let org = organisation(
        app,
        admin,
        &format!("Skills Centre {tag}"),
        "provider",
        "Wucheng",
    );
    let username = format!("{tag}.provider");
    let token = app.create_user(admin, &username, "provider", Some(&org));
    let r = app.post(
        "/api/v1/ce/providers",
        Some(&token),
        application(&format!("Skills Centre {tag}"), "Wucheng"),
    );
    r.assert_status(201);
    Provider {
        org,
        id: r.id(),
        username,
        token,
    }
}

/// A provider as in [`applied_provider`], accredited by `authority` (CED-4).
pub fn accredited_provider(app: &TestApp, admin: &str, authority: &str, tag: &str) -> Provider {
    let p = applied_provider(app, admin, tag);
    app.post(
        &format!("/api/v1/ce/providers/{}/accredit", p.id),
        Some(authority),
        json!({}),
    )
    .assert_status(200);
    p
}

/// An activity body: `source`, `subject_category`, `credits`, held on
/// [`HELD_ON`], 8 hours, 200 CNY, with or without an exam.
pub fn activity_body(source: &str, subject_category: &str, credits: i64, has_exam: bool) -> Value {
    json!({
        "source": source,
        "title": format!("{source} on {subject_category} subjects"),
        "subject_category": subject_category,
        "credits": credits,
        "hours": 8,
        "fee_fen": 20000,
        "held_on": HELD_ON,
        "has_exam": has_exam,
        "evidence": ["photos/class.jpg"]
    })
}

/// Records an activity with `token` (provider or employer account) and returns its id.
#[track_caller]
pub fn activity(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/ce/activities", Some(token), body);
    r.assert_status(201);
    r.id()
}

/// An employer's own activity (`employer_training`, region "Wucheng",
/// `pending_registration`) recorded by the organisation account `token`;
/// returns its id. Needs no provider, so any approved organisation has one.
#[track_caller]
pub fn employer_activity(app: &TestApp, token: &str) -> String {
    let mut body = activity_body("employer_training", "professional", 10, false);
    body["region"] = json!("Wucheng");
    activity(app, token, body)
}

/// `POST /ce/activities/{id}/credits` with `rows` (a JSON array) and extra headers.
pub fn record_credits_with(
    app: &TestApp,
    token: &str,
    activity: &str,
    rows: Value,
    headers: &[(&str, &str)],
) -> guild_tests::Resp {
    app.request(
        Method::POST,
        &format!("/api/v1/ce/activities/{activity}/credits"),
        Some(token),
        Some(&json!({ "credits": rows })),
        headers,
    )
}

/// Records credits for `people` (person ids) on an activity without an exam,
/// asserting that every one was recorded.
#[track_caller]
pub fn record_credits(app: &TestApp, token: &str, activity: &str, people: &[&str]) -> Value {
    let rows: Vec<Value> = people.iter().map(|p| json!({"person_id": p})).collect();
    let r = record_credits_with(app, token, activity, json!(rows), &[]);
    r.assert_status(200);
    assert_eq!(r.body["recorded"], json!(people.len()), "{:#}", r.body);
    r.body
}

/// A person entered by `token` (admin or the organisation's account) with
/// ID number `valid_id_number(n)`; returns its id.
#[track_caller]
pub fn person(app: &TestApp, token: &str, name: &str, n: u32, org: Option<&str>) -> String {
    let r = app.create_person(token, name, &valid_id_number(n), org);
    r.assert_status(201);
    r.id()
}

/// The credits recorded for an activity (all pages).
pub fn activity_credits(app: &TestApp, token: &str, activity: &str) -> Vec<Value> {
    app.list_all(&format!("/api/v1/ce/activities/{activity}/credits"), token)
}

fn ids(items: &[Value], field: &str) -> Vec<String> {
    let mut v: Vec<String> = items
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

backend_tests! {
    fn an_application_missing_a_condition_is_refused_naming_it_ced_4(app: TestApp) {
        // rule CED-4: evidence of each of the five conditions of seed 004 art. 9
        let admin = app.admin();
        let org = organisation(&app, &admin, "Jinhua Skills Centre", "provider", "Wucheng");
        let token = app.create_user(&admin, "jh.provider", "provider", Some(&org));
        let mut body = application("Jinhua Skills Centre", "Wucheng");
        body["conditions"].as_object_mut().unwrap().remove("teaching_staff");
        body["conditions"]["legal_compliance"] = json!("   ");
        let r = app.post("/api/v1/ce/providers", Some(&token), body);
        r.assert_rule(422, "provider_condition_missing", "CED-4");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("teaching_staff") && detail.contains("legal_compliance"), "{detail}");
        assert!(!detail.contains("teaching_facilities"), "{detail}");
        // An unknown condition is a schema error, not silently dropped.
        let mut body = application("Jinhua Skills Centre", "Wucheng");
        body["conditions"]["good_coffee"] = json!("yes");
        app.post("/api/v1/ce/providers", Some(&token), body)
            .assert_problem(422, "validation_failed");
        // Nothing was written by the refusals.
        assert!(app.list_all("/api/v1/ce/providers", &admin).is_empty());

        // Complete: applied, waiting for the authority.
        let r = app.post("/api/v1/ce/providers", Some(&token), application("Jinhua Skills Centre", "Wucheng"));
        r.assert_status(201);
        assert_eq!(r.body["status"], "applied");
        assert_eq!(r.body["allowed_actions"], json!(["accredit", "reject"]));
        assert_eq!(r.body["organisation_id"], json!(org));
        assert_eq!(r.body["conditions"], conditions());
        assert_eq!(r.body["fee_items"], json!([{"name": "Offline class, per day", "amount_fen": 30000}]));
        assert_eq!(r.header("etag"), "\"1\"");
        // One live application per organisation.
        app.post("/api/v1/ce/providers", Some(&token), application("Again", "Wucheng"))
            .assert_rule(409, "provider_exists", "CED-4");
        // Only the organisation applies: not the authority, not a trainee, not a filler.
        let auth = authority(&app, &admin, "hr.authority");
        app.post("/api/v1/ce/providers", Some(&auth), application("X Centre", "Wucheng"))
            .assert_problem(403, "forbidden");
        let acme = app.org_with_accounts(&admin, "acme");
        app.post("/api/v1/ce/providers", Some(&acme.filler), application("Acme Academy", "Wucheng"))
            .assert_problem(403, "forbidden");
        // A member company may apply through its reviewer (seed 004 art. 9: companies too).
        let r = app.post("/api/v1/ce/providers", Some(&acme.reviewer), application("Acme Academy", "Jindong"));
        r.assert_status(201);
        // An applied provider cannot record yet (CED-4).
        app.post("/api/v1/ce/activities", Some(&token), activity_body("offline_class", "professional", 10, false))
            .assert_rule(422, "provider_not_active", "CED-4");
    }

    fn the_authority_accredits_suspends_and_withdraws_with_reasons_ced_4(app: TestApp) {
        // rule CED-4: the authority accredits, suspends or withdraws providers
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let p = applied_provider(&app, &admin, "jh");
        let path = |action: &str| format!("/api/v1/ce/providers/{}/{action}", p.id);
        // Only the authority decides; not the association's admin, not the provider.
        app.post(&path("accredit"), Some(&admin), json!({})).assert_problem(403, "forbidden");
        app.post(&path("accredit"), Some(&p.token), json!({})).assert_problem(403, "forbidden");
        let r = app.post(&path("accredit"), Some(&auth), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "accredited");
        assert_eq!(r.body["allowed_actions"], json!(["suspend", "withdraw"]));
        assert!(r.body["decided_by"].is_string() && r.body["decided_at"].is_string());
        // Wrong state: 409 with the allowed actions (API-4).
        let r = app.post(&path("reject"), Some(&auth), json!({"reason": "late"}));
        r.assert_problem(409, "invalid_transition");
        assert_eq!(r.body["allowed_actions"], json!(["suspend", "withdraw"]));
        // Suspension needs a reason.
        app.post(&path("suspend"), Some(&auth), json!({})).assert_problem(422, "validation_failed");
        app.post(&path("suspend"), Some(&auth), json!({"reason": ""})).assert_problem(422, "validation_failed");
        let r = app.post(&path("suspend"), Some(&auth), json!({"reason": "Fees charged above the published standard"}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "suspended");
        assert_eq!(r.body["status_reason"], "Fees charged above the published standard");
        assert_eq!(r.body["allowed_actions"], json!(["reinstate", "withdraw"]));
        let r = app.post(&path("reinstate"), Some(&auth), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "accredited");
        assert_eq!(r.body["status_reason"], Value::Null);
        app.post(&path("withdraw"), Some(&auth), json!({})).assert_problem(422, "validation_failed");
        let r = app.post(&path("withdraw"), Some(&auth), json!({"reason": "Certificates issued without classes (art. 12(4))"}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "withdrawn");
        assert_eq!(r.body["allowed_actions"], json!([]));
        app.post(&path("reinstate"), Some(&auth), json!({})).assert_problem(409, "invalid_transition");
        // A withdrawn provider no longer edits its published information.
        app.patch(&format!("/api/v1/ce/providers/{}", p.id), Some(&p.token), json!({"scope": "All"}))
            .assert_rule(409, "provider_closed", "CED-4");
        // The organisation may apply again later.
        app.post("/api/v1/ce/providers", Some(&p.token), application("Skills Centre jh", "Wucheng"))
            .assert_status(201);
        // A rejected application carries its reason.
        let q = applied_provider(&app, &admin, "yw");
        let r = app.post(&format!("/api/v1/ce/providers/{}/reject", q.id), Some(&auth), json!({"reason": "No teaching premises"}));
        r.assert_status(200);
        assert_eq!((r.body["status"].as_str(), r.body["status_reason"].as_str()), (Some("rejected"), Some("No teaching premises")));
        // Every change is audited (API-6).
        let events = app.list_all(&format!("/api/v1/audit-events?entity_type=ce_provider&entity_id={}", p.id), &admin);
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["ce_provider.apply", "ce_provider.accredit", "ce_provider.suspend", "ce_provider.reinstate", "ce_provider.withdraw"]);
        // The provider's organisation reads its own events.
        let reviewer = app.create_user(&admin, "jh.reviewer", "org_reviewer", Some(&p.org));
        let own = app.list_all(&format!("/api/v1/audit-events?entity_type=ce_provider&entity_id={}", p.id), &reviewer);
        assert_eq!(own.len(), 5);
        // Each change wrote its outbox row, against the provider's organisation (API-8).
        let outbox = app.outbox("ce_provider", &p.id);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["ce_provider.applied", "ce_provider.accredited", "ce_provider.suspended", "ce_provider.reinstated", "ce_provider.withdrawn"]);
        assert!(outbox.iter().all(|e| e.organisation_id.as_deref() == Some(p.org.as_str())), "{outbox:?}");
        assert!(outbox[4].payload.contains("\"status\":\"withdrawn\""), "{}", outbox[4].payload);
    }

    fn the_public_list_shows_only_accredited_providers_ced_4(app: TestApp) {
        // rule CED-4: active providers with scope, content, fee items and standards, public
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let active = accredited_provider(&app, &admin, &auth, "active");
        let _applied = applied_provider(&app, &admin, "applied");
        let suspended = accredited_provider(&app, &admin, &auth, "suspended");
        app.post(&format!("/api/v1/ce/providers/{}/suspend", suspended.id), Some(&auth), json!({"reason": "Inspection"}))
            .assert_status(200);
        let r = app.get("/api/v1/public/providers", None);
        r.assert_status(200);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{:#}", r.body);
        let item = &items[0];
        assert_eq!(item["id"], json!(active.id));
        assert_eq!(item["scope"], "Gas pipeline operators, levels 1 to 5");
        assert_eq!(item["content"], "Safety regulations, new pipe materials, leak detection");
        assert_eq!(item["standards"], "Classes of at most 40 trainees");
        assert_eq!(item["fee_items"], json!([{"name": "Offline class, per day", "amount_fen": 30000}]));
        // The evidence of the conditions is not published.
        assert!(item.get("conditions").is_none() && item.get("status_reason").is_none(), "{item:#}");
        // The provider keeps its published information current (seed 004 art. 10), with If-Match (API-5).
        let path = format!("/api/v1/ce/providers/{}", active.id);
        let current = app.get(&path, Some(&active.token));
        current.assert_status(200);
        let etag = current.header("etag").to_owned();
        let fees = json!([{"name": "Offline class, per day", "amount_fen": 28000}, {"name": "Exam", "amount_fen": 5000}]);
        let r = app.request(Method::PATCH, &path, Some(&active.token), Some(&json!({"fee_items": fees})), &[("If-Match", etag.as_str())]);
        r.assert_status(200);
        assert_eq!(r.body["fee_items"], fees);
        app.request(Method::PATCH, &path, Some(&active.token), Some(&json!({"standards": "x"})), &[("If-Match", etag.as_str())])
            .assert_problem(412, "version_mismatch");
        // Only the provider's organisation edits; the authority reads.
        app.patch(&path, Some(&auth), json!({"standards": "x"})).assert_problem(403, "forbidden");
        app.patch(&path, Some(&active.token), json!({"fee_items": [{"name": "Bad", "amount_fen": -1}]}))
            .assert_problem(422, "invalid_body");
        app.patch(&path, Some(&active.token), json!({"fee_items": [{"name": "", "amount_fen": 1}]}))
            .assert_problem(422, "validation_failed");
        let r = app.get("/api/v1/public/providers?region=Wucheng&name=ACTIVE", None);
        r.assert_status(200);
        assert_eq!(r.body["items"][0]["fee_items"], fees);
        let r = app.get("/api/v1/public/providers?region=Jindong", None);
        assert_eq!(r.body["items"], json!([]));
        // Reinstated, the suspended one is listed again.
        app.post(&format!("/api/v1/ce/providers/{}/reinstate", suspended.id), Some(&auth), json!({}))
            .assert_status(200);
        let all = app.get("/api/v1/public/providers?limit=1", None);
        assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
        let next = all.body["next_cursor"].as_str().unwrap();
        let r = app.get(&format!("/api/v1/public/providers?limit=1&cursor={next}"), None);
        assert_eq!(r.body["items"][0]["id"], json!(suspended.id));
    }

    fn a_suspended_provider_cannot_record_credits_ced_4(app: TestApp) {
        // rule CED-4: a suspended provider cannot record credits (Done-when)
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let p = accredited_provider(&app, &admin, &auth, "jh");
        let ann = person(&app, &admin, "Zhang Anna", 6001, None);
        let bob = person(&app, &admin, "Li Bo", 6002, None);
        let act = activity(&app, &p.token, activity_body("offline_class", "professional", 12, false));
        record_credits(&app, &p.token, &act, &[&ann]);
        app.post(&format!("/api/v1/ce/providers/{}/suspend", p.id), Some(&auth), json!({"reason": "Inspection pending"}))
            .assert_status(200);
        let r = record_credits_with(&app, &p.token, &act, json!([{"person_id": bob}]), &[]);
        r.assert_rule(422, "provider_not_active", "CED-4");
        assert!(r.body["detail"].as_str().unwrap().contains("suspended"));
        // Nor may it record new activities.
        app.post("/api/v1/ce/activities", Some(&p.token), activity_body("online_course", "public", 2, false))
            .assert_rule(422, "provider_not_active", "CED-4");
        let credits = activity_credits(&app, &p.token, &act);
        assert_eq!(ids(&credits, "person_id"), vec![ann.clone()]);
        // Reinstated, it records again; withdrawn, never again.
        app.post(&format!("/api/v1/ce/providers/{}/reinstate", p.id), Some(&auth), json!({}))
            .assert_status(200);
        record_credits(&app, &p.token, &act, &[&bob]);
        app.post(&format!("/api/v1/ce/providers/{}/withdraw", p.id), Some(&auth), json!({"reason": "Fraud"}))
            .assert_status(200);
        let cleo = person(&app, &admin, "Chen Le", 6003, None);
        record_credits_with(&app, &p.token, &act, json!([{"person_id": cleo}]), &[])
            .assert_rule(422, "provider_not_active", "CED-4");
        assert_eq!(activity_credits(&app, &admin, &act).len(), 2);
    }

    fn a_retried_upload_counts_once_ced_3(app: TestApp) {
        // rule CED-3 with API-5: a retried upload with the same Idempotency-Key counted once (Done-when)
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let p = accredited_provider(&app, &admin, &auth, "platform");
        let ann = person(&app, &admin, "Zhang Anna", 6011, None);
        let bob = person(&app, &admin, "Li Bo", 6012, None);
        let test = activity(&app, &p.token, activity_body("online_test", "professional", 5, true));
        let rows = json!([
            {"person_id": ann, "exam_passed": true, "exam_score": 88},
            {"id_number": valid_id_number(6012), "exam_passed": true, "exam_score": 75}
        ]);
        let key = [("Idempotency-Key", "platform-batch-2026-03-01-0001")];
        let first = record_credits_with(&app, &p.token, &test, rows.clone(), &key);
        first.assert_status(200);
        assert_eq!(first.body["recorded"], 2);
        assert_eq!(first.body["skipped"], json!([]));
        assert_eq!(first.body["credits"][0]["exam_based"], true);
        assert_eq!(first.body["credits"][1]["person_id"], json!(bob));
        // The platform did not get the answer and retries: the first answer, replayed.
        let retry = record_credits_with(&app, &p.token, &test, rows.clone(), &key);
        retry.assert_status(200);
        assert_eq!(retry.header("idempotent-replayed"), "true");
        assert_eq!(retry.body, first.body);
        let credits = activity_credits(&app, &p.token, &test);
        assert_eq!(credits.len(), 2);
        assert_eq!(ids(&credits, "person_id"), sorted(vec![ann.clone(), bob.clone()]));
        // The register and each person's yearly roll-up count the upload once (CED-5).
        assert_eq!(app.list_all(&format!("/api/v1/ce/credits?activity_id={test}"), &auth).len(), 2);
        let year = app.get(&format!("/api/v1/ce/compliance/{ann}?year=2026"), Some(&auth));
        year.assert_status(200);
        assert_eq!((year.body["credits"]["total"].as_i64(), year.body["records"].as_i64()), (Some(5), Some(1)), "{:#}", year.body);
        // Without a key a repeated upload counts nothing twice either.
        let again = record_credits_with(&app, &p.token, &test, rows.clone(), &[]);
        again.assert_status(200);
        assert_eq!(again.body["recorded"], 0);
        assert_eq!(again.body["skipped"], json!([
            {"index": 0, "person_id": ann, "code": "already_recorded"},
            {"index": 1, "person_id": bob, "code": "already_recorded"}
        ]));
        assert_eq!(activity_credits(&app, &admin, &test).len(), 2);
        // The same key for another upload is refused, not silently replayed.
        record_credits_with(&app, &p.token, &test, json!([{"person_id": ann, "exam_passed": true}]), &key)
            .assert_problem(422, "idempotency_key_reused");
        // The register holds one credit record per person for the activity.
        let credits = activity_credits(&app, &auth, &test);
        for c in &credits {
            assert_eq!((c["credits"].as_i64(), c["year"].as_i64()), (Some(5), Some(2026)));
        }
    }

    fn employer_training_counts_only_once_registered_ced_3(app: TestApp) {
        // rule CED-3: employer-organised training registered with the authority
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let acme = app.org_with_accounts(&admin, "acme");
        let other = app.org_with_accounts(&admin, "other");
        let ann = person(&app, &acme.filler, "Zhang Anna", 6021, Some(&acme.id));
        let stranger = person(&app, &other.filler, "Wu Xin", 6022, Some(&other.id));
        // Employers record only what they organise themselves.
        app.post("/api/v1/ce/activities", Some(&acme.filler), activity_body("online_course", "public", 2, false))
            .assert_rule(422, "source_not_for_employers", "CED-3");
        let mut body = activity_body("employer_training", "professional", 10, false);
        body["region"] = json!("Jindong");
        let r = app.post("/api/v1/ce/activities", Some(&acme.filler), body);
        r.assert_status(201);
        let act = r.id();
        assert_eq!(r.body["status"], "pending_registration");
        assert_eq!(r.body["provider_id"], Value::Null);
        assert_eq!(r.body["organisation_id"], json!(acme.id));
        assert_eq!(r.body["year"], 2026);
        assert_eq!(r.body["allowed_actions"], json!(["register", "reject"]));
        // No credits before the authority registers it.
        record_credits_with(&app, &acme.reviewer, &act, json!([{"person_id": ann}]), &[])
            .assert_rule(422, "activity_not_registered", "CED-3");
        // Only the authority registers.
        app.post(&format!("/api/v1/ce/activities/{act}/register"), Some(&acme.reviewer), json!({}))
            .assert_problem(403, "forbidden");
        let r = app.post(&format!("/api/v1/ce/activities/{act}/register"), Some(&auth), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "registered");
        app.post(&format!("/api/v1/ce/activities/{act}/register"), Some(&auth), json!({}))
            .assert_problem(409, "invalid_transition");
        // The employer records its own staff only (ACC-2).
        let r = record_credits_with(&app, &acme.reviewer, &act, json!([{"person_id": stranger}]), &[]);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["credits[0].person_id"]);
        assert_eq!(r.body["errors"][0]["code"], "unknown_person");
        let body = record_credits(&app, &acme.reviewer, &act, &[&ann]);
        assert_eq!(body["credits"][0]["exam_based"], false);
        // A provider's competition also waits for the authority (art. 16(2)).
        let p = accredited_provider(&app, &admin, &auth, "jh");
        let r = app.post("/api/v1/ce/activities", Some(&p.token), activity_body("competition", "professional", 20, false));
        r.assert_status(201);
        assert_eq!(r.body["status"], "pending_registration");
        let contest = r.id();
        app.post(&format!("/api/v1/ce/activities/{contest}/reject"), Some(&auth), json!({}))
            .assert_problem(422, "validation_failed");
        let r = app.post(&format!("/api/v1/ce/activities/{contest}/reject"), Some(&auth), json!({"reason": "Not a recognised competition"}));
        r.assert_status(200);
        assert_eq!((r.body["status"].as_str(), r.body["review_reason"].as_str()), (Some("rejected"), Some("Not a recognised competition")));
        record_credits_with(&app, &p.token, &contest, json!([{"person_id": ann}]), &[])
            .assert_rule(422, "activity_rejected", "CED-3");
        // The employer's reviewer cannot record for the provider's activity, nor the provider for the employer's.
        record_credits_with(&app, &p.token, &act, json!([{"person_id": ann}]), &[])
            .assert_problem(404, "not_found");
        let events = app.list_all(&format!("/api/v1/audit-events?entity_type=ce_activity&entity_id={act}"), &admin);
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["ce_activity.create", "ce_activity.register", "ce_activity.record_credits"]);
        // Each change wrote its outbox row; the upload is announced once, with what it recorded (API-8).
        let events = app.outbox("ce_activity", &act);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["ce_activity.created", "ce_activity.registered", "ce_credit.recorded"]);
        let credited: Vec<_> = events.iter().filter(|e| e.kind == "ce_credit.recorded").collect();
        assert_eq!(credited.len(), 1, "{events:?}");
        assert_eq!(credited[0].organisation_id.as_deref(), Some(acme.id.as_str()));
        assert!(credited[0].payload.contains(&ann), "{}", credited[0].payload);
    }

    fn a_bulk_upload_reports_every_bad_row_and_records_nothing_ced_3(app: TestApp) {
        // rule CED-3: credits per person in bulk, all or nothing, with row-numbered errors
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let p = accredited_provider(&app, &admin, &auth, "jh");
        let ann = person(&app, &admin, "Zhang Anna", 6031, None);
        let bob = person(&app, &admin, "Li Bo", 6032, None);
        let cleo = person(&app, &admin, "Chen Le", 6033, None);
        let exam = activity(&app, &p.token, activity_body("offline_class", "professional", 12, true));
        let rows = json!([
            {"person_id": ann, "exam_passed": true, "exam_score": 90},
            {"person_id": bob},
            {"person_id": "0193a5f0-6a2b-7c8d-9e0f-112233445566", "exam_passed": true},
            {"id_number": with_wrong_check_digit(&valid_id_number(6033)), "exam_passed": true},
            {"person_id": cleo, "id_number": valid_id_number(6033), "exam_passed": true},
            {"person_id": cleo, "exam_passed": true, "earned_on": "2026-02-28"},
            {"id_number": valid_id_number(6031), "exam_passed": true},
            {"person_id": cleo, "exam_passed": true, "exam_score": 101},
            {"person_id": cleo, "exam_passed": true, "earned_on": "2026-03-03"}
        ]);
        let r = record_credits_with(&app, &p.token, &exam, rows, &[]);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [
            "credits[1].exam_passed",
            "credits[2].person_id",
            "credits[3].id_number",
            "credits[4].person_id",
            "credits[5].earned_on",
            "credits[6].id_number",
            "credits[7].exam_score",
            "credits[8].earned_on",
        ]);
        let codes: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
        assert_eq!(codes, [
            "exam_result_required", "unknown_person", "id_number_check_digit", "person_ambiguous",
            "earned_before_activity", "duplicate_person", "exam_score_range", "earned_in_future",
        ]);
        assert!(activity_credits(&app, &p.token, &exam).is_empty());
        // The good rows alone: a failed exam earns nothing and is reported.
        let r = record_credits_with(&app, &p.token, &exam, json!([
            {"person_id": ann, "exam_passed": true, "exam_score": 90, "evidence": ["scores/ann.pdf"]},
            {"id_number": valid_id_number(6032), "exam_passed": false, "exam_score": 40},
            {"id_number": valid_id_number(6033), "exam_passed": true, "earned_on": "2026-03-02"}
        ]), &[]);
        r.assert_status(200);
        assert_eq!(r.body["recorded"], 2);
        assert_eq!(r.body["skipped"], json!([{"index": 1, "person_id": bob, "code": "exam_failed"}]));
        let credits = activity_credits(&app, &p.token, &exam);
        assert_eq!(ids(&credits, "person_id"), sorted(vec![ann.clone(), cleo.clone()]));
        let ann_credit = credits.iter().find(|c| c["person_id"] == json!(ann)).unwrap();
        assert_eq!(ann_credit["exam_based"], true);
        assert_eq!(ann_credit["exam_score"], 90);
        assert_eq!(ann_credit["evidence"], json!(["scores/ann.pdf"]));
        assert_eq!(ann_credit["earned_on"], HELD_ON);
        // The provider sees the ID numbers masked (PPL-3); the authority in full.
        assert_eq!(ann_credit["id_number_masked"], true);
        let full = activity_credits(&app, &auth, &exam);
        assert!(full.iter().all(|c| c["id_number_masked"] == false));
        // An activity without an exam takes no exam result.
        let plain = activity(&app, &p.token, activity_body("lecture", "public", 3, false));
        let r = record_credits_with(&app, &p.token, &plain, json!([{"person_id": ann, "exam_passed": true}]), &[]);
        r.assert_rule(422, "activity_not_registered", "CED-3");
        let plain = activity(&app, &p.token, activity_body("workshop", "public", 3, false));
        let r = record_credits_with(&app, &p.token, &plain, json!([{"person_id": ann, "exam_passed": true}]), &[]);
        assert_eq!(r.body["errors"][0]["code"], "activity_has_no_exam", "{:#}", r.body);
        // Empty, oversized and non-JSON uploads.
        record_credits_with(&app, &p.token, &plain, json!([]), &[]).assert_problem(422, "validation_failed");
        let many: Vec<Value> = (0..5001).map(|_| json!({"person_id": ann})).collect();
        let r = record_credits_with(&app, &p.token, &plain, json!(many), &[]);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["credits"]);
        app.send_raw(Method::POST, &format!("/api/v1/ce/activities/{plain}/credits"), Some(&p.token), Some("text/csv"), b"person_id\n".to_vec())
            .assert_problem(415, "unsupported_media_type");
        app.send_raw(Method::POST, &format!("/api/v1/ce/activities/{plain}/credits"), Some(&p.token), Some("application/json"), b"{\"credits\": [".to_vec())
            .assert_problem(400, "malformed_json");
        let r = app.post(&format!("/api/v1/ce/activities/{plain}/credits"), Some(&p.token), json!({"credits": [{"person": ann}]}));
        r.assert_problem(422, "validation_failed");
        assert!(activity_credits(&app, &p.token, &plain).is_empty());
    }

    fn credit_records_hold_the_person_and_activity_as_recorded_ced_1(app: TestApp) {
        // rule CED-1 with PPL-1 and CED-3: skill registration on the person; each record's snapshot
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let p = accredited_provider(&app, &admin, &auth, "jh");
        let acme = organisation(&app, &admin, "Acme Gas", "member_company", "Jindong");
        let ann = person(&app, &admin, "Zhang Anna", 6041, Some(&acme));
        let r = app.patch(&format!("/api/v1/people/{ann}"), Some(&admin), json!({
            "occupation": "Gas network operator", "skill_level": "level_3",
            "skill_certificate_number": "S2024-3301-0042", "skill_certificate_issued_on": "2024-06-01"
        }));
        r.assert_status(200);
        assert_eq!(r.body["skill_certificate_issued_on"], "2024-06-01");
        // Without a skill registration a person is still credited (the obligation is what CED-1 starts).
        let solo = person(&app, &admin, "Li Bo", 6042, None);
        let mut body = activity_body("partner_platform", "public", 4, false);
        body["region"] = json!("Yiwu");
        let r = app.post("/api/v1/ce/activities", Some(&p.token), body);
        r.assert_status(201);
        assert_eq!((r.body["region"].as_str(), r.body["status"].as_str()), (Some("Yiwu"), Some("registered")));
        let act = r.id();
        record_credits(&app, &p.token, &act, &[&ann, &solo]);
        let credits = activity_credits(&app, &auth, &act);
        let ann_c = credits.iter().find(|c| c["person_id"] == json!(ann)).unwrap();
        assert_eq!(ann_c["organisation_id"], json!(acme));
        assert_eq!(ann_c["occupation"], "Gas network operator");
        assert_eq!(ann_c["region"], "Jindong");
        assert_eq!((ann_c["hours"].as_i64(), ann_c["fee_fen"].as_i64(), ann_c["credits"].as_i64()), (Some(8), Some(20000), Some(4)));
        assert_eq!(ann_c["evidence"], json!(["photos/class.jpg"]));
        assert_eq!(ann_c["person_name"], "Zhang Anna");
        let solo_c = credits.iter().find(|c| c["person_id"] == json!(solo)).unwrap();
        assert_eq!((solo_c["organisation_id"].clone(), solo_c["occupation"].clone()), (Value::Null, Value::Null));
        assert_eq!(solo_c["region"], "Yiwu");
        // A provider activity without a region takes the provider's.
        let r = app.post("/api/v1/ce/activities", Some(&p.token), activity_body("online_course", "public", 2, false));
        assert_eq!(r.body["region"], "Wucheng");
        assert!(r.body["provider_id"] == json!(p.id));
        // A credit earned later counts in the year it was earned.
        app.clock().set(chrono::DateTime::parse_from_rfc3339("2027-01-05T02:00:00Z").unwrap().to_utc());
        let token = app.login(&p.username, guild_tests::USER_PASSWORD);
        let late = person(&app, &app.admin(), "Chen Le", 6043, None);
        let r = record_credits_with(&app, &token, &act, json!([{"person_id": late, "earned_on": "2027-01-04"}]), &[]);
        r.assert_status(200);
        assert_eq!(r.body["credits"][0]["year"], 2027);
    }

    fn organisations_see_only_their_own_providers_and_activities_acc_2(app: TestApp) {
        // rule ACC-2 with CED-5: providers their own activities; others' ids answer 404
        let admin = app.admin();
        let auth = authority(&app, &admin, "hr.authority");
        let a = accredited_provider(&app, &admin, &auth, "alpha");
        let b = accredited_provider(&app, &admin, &auth, "beta");
        let ann = person(&app, &admin, "Zhang Anna", 6051, None);
        let act_a = activity(&app, &a.token, activity_body("offline_class", "professional", 12, false));
        let act_b = activity(&app, &b.token, activity_body("online_course", "public", 2, false));
        record_credits(&app, &a.token, &act_a, &[&ann]);
        for path in [
            format!("/api/v1/ce/providers/{}", a.id),
            format!("/api/v1/ce/activities/{act_a}"),
            format!("/api/v1/ce/activities/{act_a}/credits"),
        ] {
            app.get(&path, Some(&b.token)).assert_problem(404, "not_found");
            app.get(&path, Some(&a.token)).assert_status(200);
            app.get(&path, Some(&auth)).assert_status(200);
        }
        app.patch(&format!("/api/v1/ce/providers/{}", a.id), Some(&b.token), json!({"scope": "x"}))
            .assert_problem(404, "not_found");
        record_credits_with(&app, &b.token, &act_a, json!([{"person_id": ann}]), &[])
            .assert_problem(404, "not_found");
        let unknown = "0193a5f0-6a2b-7c8d-9e0f-112233445566";
        record_credits_with(&app, &b.token, unknown, json!([{"person_id": ann}]), &[])
            .assert_problem(404, "not_found");
        // Lists: own only; the authority and association staff see all.
        assert_eq!(ids(&app.list_all("/api/v1/ce/providers", &b.token), "id"), vec![b.id.clone()]);
        assert_eq!(ids(&app.list_all("/api/v1/ce/activities", &b.token), "id"), vec![act_b.clone()]);
        assert_eq!(app.list_all("/api/v1/ce/providers", &auth).len(), 2);
        assert_eq!(ids(&app.list_all("/api/v1/ce/activities", &admin), "id"), sorted(vec![act_a.clone(), act_b.clone()]));
        assert_eq!(ids(&app.list_all(&format!("/api/v1/ce/activities?provider_id={}", a.id), &auth), "id"), vec![act_a.clone()]);
        assert_eq!(app.list_all("/api/v1/ce/activities?source=online_course&year=2026", &auth).len(), 1);
        assert_eq!(app.list_all("/api/v1/ce/providers?status=suspended", &auth).len(), 0);
        let acme = app.org_with_accounts(&admin, "acme");
        assert!(app.list_all("/api/v1/ce/providers", &acme.reviewer).is_empty());
        assert!(app.list_all("/api/v1/ce/activities", &acme.filler).is_empty());
        let own = employer_activity(&app, &acme.filler);
        assert_eq!(ids(&app.list_all("/api/v1/ce/activities", &acme.reviewer), "id"), vec![own.clone()]);
        app.get(&format!("/api/v1/ce/activities/{own}"), Some(&b.token)).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/ce/activities/{act_a}"), Some(&acme.filler)).assert_problem(404, "not_found");
        // A trainee has no business here; nor has anyone without a token (ACC-1).
        let (_, trainee) = crate::enrolments::trainee_account(&app, &admin, "ann", &ann);
        app.get("/api/v1/ce/activities", Some(&trainee)).assert_problem(403, "forbidden");
        app.get("/api/v1/ce/providers", None).assert_problem(401, "unauthenticated");
        app.post(&format!("/api/v1/ce/activities/{act_a}/credits"), None, json!({"credits": []}))
            .assert_problem(401, "unauthenticated");
    }
}
