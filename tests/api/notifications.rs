//! Each account's inbox (ENR-1 class notices): listed, read once or twice,
//! private to its recipient.

use guild_tests::backend_tests;
use serde_json::{Value, json};

use crate::enrolments::{org_person, paid_enrolment, setup, trainee_account};

backend_tests! {
    // rules ENR-1, ACC-2: organisation users and the trainee list their class notices and mark them read
    fn notices_are_listed_and_marked_read_by_their_recipients(app: TestApp) {
        let s = setup(&app);
        let person = org_person(&app, &s.org, "Han Mei", 300);
        let (_, trainee) = trainee_account(&app, &s.admin, "han.mei", &person);
        let id = paid_enrolment(&app, &s, &s.class, &person);
        for token in [&s.org.filler, &s.org.reviewer, &trainee] {
            assert!(app.list_all("/api/v1/notifications", token).is_empty());
        }
        app.post(&format!("/api/v1/enrolments/{id}/notify"), Some(&s.officer), json!({})).assert_status(200);

        let other = app.org_with_accounts(&s.admin, "other");
        for token in [&s.org.filler, &s.org.reviewer, &trainee] {
            let unread = app.list_all("/api/v1/notifications?unread=true", token);
            assert_eq!(unread.len(), 1, "{unread:#?}");
            let n = &unread[0];
            assert_eq!(n["kind"], "class_notice");
            assert_eq!(n["entity_type"], "enrolment");
            assert_eq!(n["entity_id"], json!(id));
            assert_eq!(n["read_at"], Value::Null);
            let nid = n["id"].as_str().unwrap().to_owned();
            let r = app.get(&format!("/api/v1/notifications/{nid}"), Some(token));
            r.assert_status(200);
            assert_eq!(r.body["title"], n["title"]);

            // Nobody else reads or marks it (ACC-2): it answers like an unknown id.
            for stranger in [&other.filler, &other.reviewer, &s.officer] {
                app.get(&format!("/api/v1/notifications/{nid}"), Some(stranger)).assert_problem(404, "not_found");
                app.post(&format!("/api/v1/notifications/{nid}/read"), Some(stranger), json!({})).assert_problem(404, "not_found");
            }

            let r = app.post(&format!("/api/v1/notifications/{nid}/read"), Some(token), json!({}));
            r.assert_status(200);
            let read_at = r.body["read_at"].clone();
            assert!(read_at.is_string());
            // Reading twice is fine and keeps the first time.
            app.clock().advance(chrono::Duration::minutes(1));
            let r = app.post(&format!("/api/v1/notifications/{nid}/read"), Some(token), json!({}));
            r.assert_status(200);
            assert_eq!(r.body["read_at"], read_at);
            assert!(app.list_all("/api/v1/notifications?unread=true", token).is_empty());
            assert_eq!(app.list_all("/api/v1/notifications", token).len(), 1);
        }
        // The other organisation's inbox is empty.
        assert!(app.list_all("/api/v1/notifications", &other.filler).is_empty());
        app.get(&format!("/api/v1/notifications/{}", uuid::Uuid::new_v4()), Some(&trainee)).assert_problem(404, "not_found");
        app.get("/api/v1/notifications?unread=maybe", Some(&trainee)).assert_problem(400, "invalid_query");
    }

    // rule ENR-1: the inbox is paginated, oldest first
    fn the_inbox_is_paginated(app: TestApp) {
        let s = setup(&app);
        for n in 0..3 {
            let id = paid_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, &format!("P{n}"), 310 + n));
            app.post(&format!("/api/v1/enrolments/{id}/notify"), Some(&s.officer), json!({})).assert_status(200);
        }
        let first = app.get("/api/v1/notifications?limit=2", Some(&s.org.filler));
        first.assert_status(200);
        assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let rest = app.get(&format!("/api/v1/notifications?limit=2&cursor={cursor}"), Some(&s.org.filler));
        assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(rest.body["next_cursor"], Value::Null);
        let all = app.list_all("/api/v1/notifications", &s.org.filler);
        let ids: Vec<&str> = all.iter().map(|n| n["id"].as_str().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
