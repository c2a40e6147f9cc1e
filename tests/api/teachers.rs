//! `/teachers` (TCH-1, TCH-2): board terms, one appointment per teacher per
//! term, appointments ending with the term, dismissals on `/public/notices`.

use guild_tests::{TestApp, backend_tests};
use serde_json::json;

use crate::classes::{current_term, shanghai, teacher, term};

fn appoint(app: &TestApp, token: &str, user_id: &str, term_id: &str) -> guild_tests::Resp {
    app.post(
        "/api/v1/teachers",
        Some(token),
        json!({"user_id": user_id, "term_id": term_id}),
    )
}

backend_tests! {
    // rule TCH-1: terms are data; a term lasts 1 to 5 years (normally 4)
    fn terms_are_entered_by_the_administrator(app: TestApp) {
        let admin = app.admin();
        let r = app.post("/api/v1/teachers/terms", Some(&admin), json!({"name": " Fifth board ", "starts_on": "2026-01-01", "ends_on": "2029-12-31"}));
        r.assert_status(201);
        assert_eq!(r.body["name"], "Fifth board");
        assert_eq!(r.body["ends_on"], "2029-12-31");
        let id = r.id();
        for (starts, ends) in [("2026-01-01", "2031-01-01"), ("2026-01-01", "2026-12-30"), ("2026-01-01", "2025-01-01")] {
            app.post("/api/v1/teachers/terms", Some(&admin), json!({"name": "Odd", "starts_on": starts, "ends_on": ends}))
                .assert_rule(422, "term_length", "TCH-1");
        }
        app.post("/api/v1/teachers/terms", Some(&admin), json!({"name": "Fifth board", "starts_on": "2030-01-01", "ends_on": "2033-12-31"}))
            .assert_problem(409, "already_exists");
        let head = app.create_user(&admin, "head", "training_head", None);
        app.post("/api/v1/teachers/terms", Some(&head), json!({"name": "Sixth board", "starts_on": "2030-01-01", "ends_on": "2033-12-31"}))
            .assert_problem(403, "forbidden");
        // staff read terms; organisations and teachers do not
        let finance = app.create_user(&admin, "finance", "finance", None);
        let terms = app.list_all("/api/v1/teachers/terms", &finance);
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0]["id"], json!(id));
        let org = app.org_with_accounts(&admin, "acme");
        let t = teacher(&app, &admin, "t.li", None);
        for token in [&org.filler, &t.token] {
            app.get("/api/v1/teachers/terms", Some(token)).assert_problem(403, "forbidden");
            app.get("/api/v1/teachers", Some(token)).assert_problem(403, "forbidden");
        }
    }

    // rule TCH-1: one appointment per teacher per term (409)
    fn one_appointment_per_teacher_per_term(app: TestApp) {
        let admin = app.admin();
        let term_id = current_term(&app, &admin);
        let next_term = term(&app, &admin, "Sixth board", "2030-01-01", "2033-12-31");
        let (user_id, _) = app.create_user_with_id(&admin, "t.li", "teacher", None);
        let head = app.create_user(&admin, "head", "training_head", None);
        let r = app.post("/api/v1/teachers", Some(&head), json!({"user_id": user_id, "term_id": term_id, "subjects": [" Gas safety ", "Gas safety", "Pipelines"]}));
        r.assert_status(201);
        assert_eq!(r.body["status"], "appointed");
        assert_eq!(r.body["teacher_name"], "User t.li");
        assert_eq!(r.body["term_name"], "Fifth board");
        assert_eq!(r.body["subjects"], json!(["Gas safety", "Pipelines"]));
        let first = r.id();
        let r = appoint(&app, &admin, &user_id, &term_id);
        r.assert_rule(409, "already_appointed", "TCH-1");
        assert!(r.body["detail"].as_str().unwrap().contains("User t.li"));
        // the next term is a new appointment
        appoint(&app, &admin, &user_id, &next_term).assert_status(201);
        let mine = app.list_all(&format!("/api/v1/teachers?user_id={user_id}"), &admin);
        assert_eq!(mine.len(), 2);
        let in_term = app.list_all(&format!("/api/v1/teachers?term_id={term_id}"), &admin);
        assert_eq!(in_term.len(), 1);
        assert_eq!(in_term[0]["id"], json!(first));
        let r = app.get(&format!("/api/v1/teachers/{first}"), Some(&admin));
        r.assert_status(200);
        assert_eq!(r.body["user_id"], json!(user_id));
        // only active teacher accounts, only by the administrator or training head
        let (officer_id, officer) = app.create_user_with_id(&admin, "officer", "training_officer", None);
        appoint(&app, &officer, &user_id, &next_term).assert_problem(403, "forbidden");
        appoint(&app, &admin, &officer_id, &term_id).assert_rule(422, "not_a_teacher", "TCH-1");
        let (disabled, _) = app.create_user_with_id(&admin, "t.off", "teacher", None);
        app.post(&format!("/api/v1/users/{disabled}/disable"), Some(&admin), json!({})).assert_status(200);
        appoint(&app, &admin, &disabled, &term_id).assert_rule(422, "not_a_teacher", "TCH-1");
        let r = appoint(&app, &admin, &uuid::Uuid::new_v4().to_string(), &term_id);
        assert_eq!(r.error_fields(), ["user_id"]);
        let r = appoint(&app, &admin, &user_id, &uuid::Uuid::new_v4().to_string());
        assert_eq!(r.error_fields(), ["term_id"]);
        app.get(&format!("/api/v1/teachers/{}", uuid::Uuid::new_v4()), Some(&admin)).assert_problem(404, "not_found");
    }

    // rule TCH-1: appointments end with the term (the day after its last day, Asia/Shanghai)
    fn appointments_end_with_the_term(app: TestApp) {
        let admin = app.admin();
        let term_id = term(&app, &admin, "Short board", "2026-01-01", "2026-12-31");
        let t = teacher(&app, &admin, "t.li", Some(&term_id));
        let path = format!("/api/v1/teachers/{}", t.appointment_id);
        app.clock().set(shanghai(2026, 12, 31, 23, 59));
        let admin = app.admin();
        assert_eq!(app.get(&path, Some(&admin)).body["status"], "appointed");
        assert_eq!(app.list_all("/api/v1/teachers?status=appointed", &admin).len(), 1);
        assert_eq!(app.list_all("/api/v1/teachers?status=ended", &admin).len(), 0);
        app.clock().set(shanghai(2027, 1, 1, 0, 0));
        let admin = app.admin();
        assert_eq!(app.get(&path, Some(&admin)).body["status"], "ended");
        assert_eq!(app.list_all("/api/v1/teachers?status=appointed", &admin).len(), 0);
        let ended = app.list_all("/api/v1/teachers?status=ended", &admin);
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["id"], json!(t.appointment_id));
        // an ended appointment cannot be dismissed, and no one is appointed for an ended term
        let r = app.post(&format!("{path}/dismiss"), Some(&admin), json!({"reason": "late"}));
        r.assert_rule(409, "invalid_transition", "TCH-2");
        assert_eq!(r.body["allowed_actions"], json!([]));
        let other = teacher(&app, &admin, "t.wang", None);
        appoint(&app, &admin, &other.user_id, &term_id).assert_rule(422, "term_ended", "TCH-1");
        // and the ended appointment no longer qualifies for a class
        let program_id = crate::classes::program(&app, &admin, "GAS-END");
        let mut body = crate::classes::class_body(&program_id, "END-1", "2027-02-01", "2027-02-02");
        body["class_head_user_id"] = json!(t.user_id);
        app.post("/api/v1/classes", Some(&admin), body).assert_rule(422, "teacher_not_appointed", "TCH-1");
    }

    // rule TCH-2, API-5: two dismissals of one appointment at the same instant
    // without If-Match: one 200, one 409, never a 412 version race, and one
    // public notice
    fn concurrent_dismissals_dismiss_once(app: TestApp) {
        let admin = app.admin();
        let term_id = current_term(&app, &admin);
        let head = app.create_user(&admin, "head", "training_head", None);
        for round in 0..3 {
            let t = teacher(&app, &admin, &format!("t.race{round}"), Some(&term_id));
            let url = app.url(&format!("/api/v1/teachers/{}/dismiss", t.appointment_id));
            let answers = guild_tests::at_once(vec![
                guild_tests::Racer::post(url.clone(), admin.clone(), json!({"reason": "first"})),
                guild_tests::Racer::post(url, head.clone(), json!({"reason": "second"})),
            ]);
            let mut statuses: Vec<u16> = answers.iter().map(|(st, _)| *st).collect();
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409], "round {round}: {answers:?}");
            // One appointment, one dismissal event (API-8).
            let kinds: Vec<String> =
                app.outbox("teacher_appointment", &t.appointment_id).into_iter().map(|e| e.kind).collect();
            assert_eq!(kinds, ["teacher.appointed", "teacher.dismissed"], "round {round}");
        }
        let notices = app.get("/api/v1/public/notices", None);
        assert_eq!(notices.body["items"].as_array().unwrap().len(), 3, "{:#}", notices.body);
    }

    // rule TCH-2: a dismissal is listed publicly, without a token
    fn a_dismissal_appears_on_the_public_notices(app: TestApp) {
        let admin = app.admin();
        let term_id = current_term(&app, &admin);
        let t = teacher(&app, &admin, "t.li", Some(&term_id));
        let keep = teacher(&app, &admin, "t.wang", Some(&term_id));
        assert_eq!(app.get("/api/v1/public/notices", None).body["items"], json!([]));
        let path = format!("/api/v1/teachers/{}/dismiss", t.appointment_id);
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        app.post(&path, Some(&officer), json!({"reason": "x"})).assert_problem(403, "forbidden");
        app.post(&path, Some(&admin), json!({})).assert_problem(422, "validation_failed");
        let head = app.create_user(&admin, "head", "training_head", None);
        let r = app.post(&path, Some(&head), json!({"reason": "Violated the safety regulations"}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "dismissed");
        assert_eq!(r.body["dismissal_reason"], "Violated the safety regulations");
        assert!(r.body["dismissed_at"].is_string());
        app.post(&path, Some(&admin), json!({"reason": "again"})).assert_rule(409, "invalid_transition", "TCH-2");
        // the public list, no token
        let notices = app.get("/api/v1/public/notices", None);
        notices.assert_status(200);
        let items = notices.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        let n = items[0].as_object().unwrap();
        let mut keys: Vec<&str> = n.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["body", "id", "kind", "published_at", "title"]);
        assert_eq!(n["kind"], "teacher_dismissal");
        assert!(n["title"].as_str().unwrap().contains("User t.li"));
        let body = n["body"].as_str().unwrap();
        assert!(body.contains("Fifth board") && body.contains("Violated the safety regulations"), "{body}");
        assert!(!body.contains(&t.user_id));
        assert_eq!(app.list_all("/api/v1/public/notices?kind=teacher_dismissal", &admin).len(), 1);
        app.get("/api/v1/public/notices?kind=nonsense", None).assert_problem(400, "invalid_query");
        // the dismissed teacher cannot be made class head; the other one can
        let program_id = crate::classes::program(&app, &admin, "GAS-DIS");
        let mut body = crate::classes::class_body(&program_id, "DIS-1", "2026-05-01", "2026-05-02");
        body["class_head_user_id"] = json!(t.user_id);
        app.post("/api/v1/classes", Some(&admin), body.clone()).assert_rule(422, "teacher_not_appointed", "TCH-1");
        body["class_head_user_id"] = json!(keep.user_id);
        app.post("/api/v1/classes", Some(&admin), body).assert_status(201);
        assert_eq!(app.list_all("/api/v1/teachers?status=dismissed", &admin).len(), 1);
        // audited
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={}", t.appointment_id), &admin);
        assert!(events.iter().any(|e| e["action"] == "teacher.dismiss"));
    }
}
