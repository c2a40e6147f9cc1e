//! Issue 3's "Done when", end to end over HTTP on both backends: plan
//! published → class opened → a company enrols three people (one via CSV) →
//! reviewer approves → officer confirms → finance pays → notifications listed
//! → one deferral in time transferred to a later class, one late deferral
//! refused with rule DEF-1 → one substitution → class starts → the third
//! trainee, who did not come, is `no_show`.

use guild_tests::{Method, TestApp, USER_PASSWORD, backend_tests, valid_id_number};
use serde_json::{Value, json};

use crate::classes::{check_mandatory_items, current_term, shanghai, teacher};
use crate::enrolments::{EXAM_FEE, TRAINING_FEE, trainee_account};

const FEE: i64 = TRAINING_FEE + EXAM_FEE;

/// Everyone's access token. Tokens live 15 minutes of the injected clock, so
/// every move of the clock is followed by logging in again.
struct Tokens {
    officer: String,
    head: String,
    filler: String,
    reviewer: String,
    wang: String,
}

fn login_all(app: &TestApp) -> Tokens {
    let login = |u: &str| app.login(u, USER_PASSWORD);
    Tokens {
        officer: login("officer"),
        head: login("head"),
        filler: login("sgc.filler"),
        reviewer: login("sgc.reviewer"),
        wang: login("wang.wu"),
    }
}

fn status(app: &TestApp, token: &str, enrolment: &str) -> Value {
    let r = app.get(&format!("/api/v1/enrolments/{enrolment}"), Some(token));
    r.assert_status(200);
    r.body["status"].clone()
}

backend_tests! {
    // rules PLN-1, PRG-1, TCH-1, CLS-1, CLS-2, ENR-1, ENR-2, ENR-3, DEF-1, DEF-2, DEF-3, DEF-4
    fn a_company_trains_three_people_through_the_whole_chain(app: TestApp) {
        // --- The association: accounts, a program, a teacher, the plan, classes.
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let head = app.create_user(&admin, "head", "training_head", None);
        let finance = app.create_user(&admin, "finance", "finance", None);
        let program = crate::enrolments::program(&app, &admin, "GAS-OPS", TRAINING_FEE, EXAM_FEE);
        let term = current_term(&app, &admin);
        let class_head = teacher(&app, &admin, "teacher.zhou", Some(&term));

        // PLN-1: the 2026 plan is drafted and published by the training head.
        let r = app.post("/api/v1/plans", Some(&officer), json!({
            "year": 2026, "title": "2026 annual training plan",
            "items": [{"program_id": program, "planned_classes": 2, "months": [4, 9]}]
        }));
        r.assert_status(201);
        let plan = r.id();
        let r = app.post(&format!("/api/v1/plans/{plan}/publish"), Some(&head), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "published");

        // CLS-1: the April class with its class head and sessions, and the September class.
        let class_body = |code: &str, start: &str, end: &str, sessions: Value| json!({
            "program_id": program, "code": code, "title": format!("Gas operations {code}"),
            "start_date": start, "end_date": end, "place": "Futian training centre",
            "capacity": 20, "class_head_user_id": class_head.user_id, "sessions": sessions
        });
        let r = app.post("/api/v1/classes", Some(&officer), class_body("GAS-OPS-2026-04", "2026-04-06", "2026-04-08", json!([
            {"session_date": "2026-04-06", "starts_at": "08:30", "ends_at": "12:00", "topic": "Safety rules", "teacher_user_id": class_head.user_id}
        ])));
        r.assert_status(201);
        assert_eq!(r.body["status"], "planned");
        let april = r.id();
        let r = app.post("/api/v1/classes", Some(&officer), class_body("GAS-OPS-2026-09", "2026-09-07", "2026-09-09", json!([])));
        r.assert_status(201);
        let september = r.id();
        for class in [&april, &september] {
            let r = app.post(&format!("/api/v1/classes/{class}/open"), Some(&officer), json!({}));
            r.assert_status(200);
            assert_eq!(r.body["status"], "open");
        }
        let public = app.get("/api/v1/public/plans/2026", None);
        public.assert_status(200);
        let codes: Vec<&str> = public.body["classes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["GAS-OPS-2026-04", "GAS-OPS-2026-09"]);

        // --- The company enrols three people: two by hand, one via the CSV upload (ENR-1).
        let org = app.org_with_accounts(&admin, "sgc");
        let mut people = Vec::new();
        for (n, name) in [(1, "Wang Wu"), (2, "Li Si")] {
            let r = app.create_person(&org.filler, name, &valid_id_number(n), None);
            r.assert_status(201);
            people.push(r.id());
        }
        let mut enrolments = Vec::new();
        for person in &people {
            let r = app.post("/api/v1/enrolments", Some(&org.filler), json!({"class_id": april, "person_id": person, "submit": true}));
            r.assert_status(201);
            assert_eq!(r.body["status"], "submitted");
            enrolments.push(r.id());
        }
        let csv = format!("name,gender,id_number,phone,category\nZhao Liu,male,{},13800138000,operations_staff\n", valid_id_number(3));
        let r = app.send_raw(Method::POST, &format!("/api/v1/classes/{april}/enrolments/bulk?submit=true"), Some(&org.filler), Some("text/csv"), csv.into_bytes());
        r.assert_status(201);
        assert_eq!(r.body["created"], 1);
        enrolments.push(r.body["enrolment_ids"][0].as_str().unwrap().to_owned());
        let listed = app.list_all(&format!("/api/v1/enrolments?class_id={april}"), &org.reviewer);
        assert_eq!(listed.len(), 3);
        let third_person = listed.iter().find(|e| e["person_name"] == "Zhao Liu").unwrap()["person_id"].as_str().unwrap().to_owned();
        people.push(third_person);
        let [wang, li, zhao] = [&enrolments[0], &enrolments[1], &enrolments[2]];

        // ENR-2: the reviewer approves; ENR-1: the officer confirms (fees charged);
        // ENR-3: finance records the payments.
        for e in &enrolments {
            let r = app.post(&format!("/api/v1/enrolments/{e}/approve"), Some(&org.reviewer), json!({}));
            r.assert_status(200);
            assert_eq!(r.body["status"], "org_approved");
            assert_eq!(r.body["org_attestation"]["reviewer_id"], json!(org.reviewer_id));
        }
        for e in &enrolments {
            let r = app.post(&format!("/api/v1/enrolments/{e}/confirm"), Some(&officer), json!({}));
            r.assert_status(200);
            assert_eq!(r.body["status"], "confirmed");
            assert_eq!(r.body["balance"]["due"], json!(FEE));
        }
        for e in &enrolments {
            let r = app.post(&format!("/api/v1/enrolments/{e}/payments"), Some(&finance), json!({"amount_fen": FEE, "reference": format!("RCPT-{e}")}));
            r.assert_status(201);
            assert_eq!(r.body["status"], "paid");
            assert_eq!(r.body["balance"]["due"], 0);
        }

        // ENR-1: the class notice goes out and is listed by the organisation and a trainee.
        let (_, wang_trainee) = trainee_account(&app, &admin, "wang.wu", &people[0]);
        let r = app.post(&format!("/api/v1/classes/{april}/notify"), Some(&officer), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["notified"], 3);
        let org_inbox = app.list_all("/api/v1/notifications?unread=true", &org.filler);
        assert_eq!(org_inbox.iter().filter(|n| n["kind"] == "class_notice").count(), 3);
        let mine = app.list_all("/api/v1/notifications", &wang_trainee);
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["kind"], "class_notice");
        assert_eq!(mine[0]["entity_id"], json!(wang));
        assert!(mine[0]["body"].as_str().unwrap().contains("Futian training centre"));
        assert!(mine[0]["body"].as_str().unwrap().contains("08:30"));
        let r = app.post(&format!("/api/v1/notifications/{}/read", mine[0]["id"].as_str().unwrap()), Some(&wang_trainee), json!({}));
        r.assert_status(200);
        assert!(r.body["read_at"].is_string());
        for e in &enrolments {
            assert_eq!(status(&app, &officer, e), "notified");
        }

        // --- DEF-1: Wang's deferral, filed at 23:59 on the day before the start, is in time.
        app.clock().set(shanghai(2026, 4, 5, 23, 59));
        let t = login_all(&app);
        let (officer, head) = (t.officer.clone(), t.head.clone());
        let org = guild_tests::OrgFixture { filler: t.filler.clone(), reviewer: t.reviewer.clone(), ..org };
        let r = app.post("/api/v1/deferrals", Some(&org.reviewer), json!({"enrolment_id": wang, "letter_reference": "SGC-2026-017 (stamped)", "reason": "emergency repair duty"}));
        r.assert_status(201);
        assert_eq!(r.body["status"], "submitted");
        let deferral = r.id();
        // DEF-3: Li Si's place goes to Sun Qi, filed before the start as well.
        let r = app.create_person(&org.filler, "Sun Qi", &valid_id_number(4), None);
        r.assert_status(201);
        let sun = r.id();
        let r = app.post("/api/v1/substitutions", Some(&org.filler), json!({"enrolment_id": li, "new_person_id": sun, "reason": "Li Si changed jobs"}));
        r.assert_status(201);
        let substitution = r.id();

        // A training head approves the deferral: Wang's enrolment is deferred.
        let r = app.post(&format!("/api/v1/deferrals/{deferral}/approve"), Some(&head), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(status(&app, &org.reviewer, wang), "deferred");
        // DEF-2: Wang moves to the September class without paying again.
        let r = app.post(&format!("/api/v1/deferrals/{deferral}/transfer"), Some(&org.reviewer), json!({"class_id": september}));
        r.assert_status(200);
        assert_eq!(r.body["deferral"]["status"], "transferred");
        let moved = r.body["enrolment"].clone();
        assert_eq!(moved["class_id"], json!(september));
        assert_eq!(moved["person_id"], json!(people[0]));
        assert_eq!(moved["status"], "paid");
        assert_eq!(moved["transferred_from_id"], json!(wang));
        assert_eq!(moved["balance"]["due"], 0);
        assert_eq!(moved["balance"]["charged"], json!(FEE));
        assert_eq!(r.body["deferral"]["transferred_to_id"], moved["id"]);
        let old = app.get(&format!("/api/v1/enrolments/{wang}"), Some(&org.reviewer));
        assert_eq!(old.body["status"], "transferred");
        assert_eq!(old.body["balance"]["due"], 0);
        assert_eq!(old.body["balance"]["credit"], 0);

        // The officer approves the substitution: the enrolment now names Sun Qi, still paid.
        let r = app.post(&format!("/api/v1/substitutions/{substitution}/approve"), Some(&officer), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["old_person_id"], json!(people[1]));
        assert_eq!(r.body["new_person_id"], json!(sun));
        let e = app.get(&format!("/api/v1/enrolments/{li}"), Some(&org.reviewer));
        assert_eq!(e.body["person_id"], json!(sun));
        assert_eq!(e.body["status"], "notified");
        assert_eq!(e.body["balance"]["due"], 0);

        // --- DEF-1: Zhao's deferral at 00:00 of the start day is too late.
        app.clock().set(shanghai(2026, 4, 6, 0, 0));
        let t = login_all(&app);
        let officer = t.officer.clone();
        let org = guild_tests::OrgFixture { filler: t.filler.clone(), reviewer: t.reviewer.clone(), ..org };
        let r = app.post("/api/v1/deferrals", Some(&org.reviewer), json!({"enrolment_id": zhao, "letter_reference": "SGC-2026-018", "reason": "sick"}));
        r.assert_rule(422, "deferral_too_late", "DEF-1");
        assert_eq!(r.body["rule"], "DEF-1");
        assert_eq!(status(&app, &officer, zhao), "notified");

        // --- CLS-2: the checklist is completed and the class starts in the morning.
        app.clock().set(shanghai(2026, 4, 6, 7, 30));
        let t = login_all(&app);
        let officer = t.officer.clone();
        let org = guild_tests::OrgFixture { filler: t.filler.clone(), reviewer: t.reviewer.clone(), ..org };
        let wang_trainee = t.wang.clone();
        app.post(&format!("/api/v1/classes/{april}/start"), Some(&officer), json!({})).assert_rule(422, "checklist_incomplete", "CLS-2");
        check_mandatory_items(&app, &officer, &april);
        let r = app.post(&format!("/api/v1/classes/{april}/start"), Some(&officer), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "in_progress");

        // --- DEF-4: Zhao did not come and filed no deferral in time: no_show.
        let r = app.post(&format!("/api/v1/enrolments/{zhao}/no-show"), Some(&officer), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "no_show");
        assert_eq!(r.body["balance"]["paid"], json!(FEE));

        // Where everyone stands.
        let april_list = app.list_all(&format!("/api/v1/enrolments?class_id={april}"), &org.reviewer);
        let mut states: Vec<(String, String)> = april_list.iter()
            .map(|e| (e["person_name"].as_str().unwrap().to_owned(), e["status"].as_str().unwrap().to_owned()))
            .collect();
        states.sort();
        assert_eq!(states, [
            ("Sun Qi".to_owned(), "notified".to_owned()),
            ("Wang Wu".to_owned(), "transferred".to_owned()),
            ("Zhao Liu".to_owned(), "no_show".to_owned()),
        ]);
        let september_list = app.list_all(&format!("/api/v1/enrolments?class_id={september}"), &wang_trainee);
        assert_eq!(september_list.len(), 1);
        assert_eq!(september_list[0]["status"], "paid");
        let class = app.get(&format!("/api/v1/classes/{april}"), Some(&org.filler));
        assert_eq!(class.body["seats_taken"], 1);
        let deferrals = app.list_all("/api/v1/deferrals", &org.filler);
        assert_eq!(deferrals.len(), 1);
        assert_eq!(deferrals[0]["status"], "transferred");
        let substitutions = app.list_all("/api/v1/substitutions", &org.filler);
        assert_eq!(substitutions.len(), 1);
        assert_eq!(substitutions[0]["status"], "approved");
    }
}
