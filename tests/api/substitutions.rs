//! Substitutions over HTTP (DEF-3): the filing deadline at its edges in
//! Asia/Shanghai, the new person's checks (same organisation, ENR-4, ENR-5),
//! who files and who decides, and the enrolment moving to the new person with
//! its payment and an audit trail.

use guild_tests::{Resp, TestApp, backend_tests, valid_id_number};
use serde_json::{Value, json};

use crate::classes::shanghai;
use crate::deferrals::{
    FEE, at, decide as decide_deferral, enrolment, file as file_deferral, relogin,
};
use crate::enrolments::{
    act, approved_enrolment, enrol, org_person, paid_enrolment, setup, trainee_account,
};

/// `POST /substitutions`.
fn substitute(app: &TestApp, token: &str, enrolment: &str, new_person: &str) -> Resp {
    app.post(
        "/api/v1/substitutions",
        Some(token),
        json!({"enrolment_id": enrolment, "new_person_id": new_person, "reason": "changed jobs"}),
    )
}

/// `POST /substitutions/{id}/{approve|reject}` (a reason for reject).
fn decide(app: &TestApp, token: &str, id: &str, action: &str) -> Resp {
    let body = if action == "reject" {
        json!({"reason": "the new person lacks the required certificate"})
    } else {
        json!({})
    };
    app.post(
        &format!("/api/v1/substitutions/{id}/{action}"),
        Some(token),
        body,
    )
}

#[track_caller]
fn assert_transition(r: &Resp, allowed: &[&str]) {
    r.assert_problem(409, "invalid_transition");
    assert_eq!(r.body["allowed_actions"], json!(allowed), "{:#}", r.body);
}

backend_tests! {
    // rule DEF-3: filed no later than the day before the class start: 23:59 on
    // the day before is in time, 00:00 of the start day is too late (Asia/Shanghai)
    fn the_filing_deadline_is_the_day_before_the_start(app: TestApp) {
        let mut s = setup(&app);
        let old = org_person(&app, &s.org, "Li Si", 1);
        let new = org_person(&app, &s.org, "Zhang San", 2);
        let e = paid_enrolment(&app, &s, &s.class, &old);

        at(&app, &mut s, shanghai(2026, 4, 6, 0, 0));
        let r = substitute(&app, &s.org.filler, &e, &new);
        r.assert_rule(422, "substitution_too_late", "DEF-3");
        at(&app, &mut s, shanghai(2026, 4, 5, 23, 59));
        let r = substitute(&app, &s.org.filler, &e, &new);
        r.assert_status(201);
        assert_eq!(r.header("location"), format!("/api/v1/substitutions/{}", r.id()));
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["old_person_id"], json!(old));
        assert_eq!(r.body["old_person_name"], "Li Si");
        assert_eq!(r.body["new_person_id"], json!(new));
        assert_eq!(r.body["new_person_name"], "Zhang San");
        assert_eq!(r.body["class_id"], json!(s.class));
        assert_eq!(r.body["filed_by"], json!(s.org.filler_id));
        assert_eq!(r.body["filed_at"], "2026-04-05T15:59:00Z");
        assert_eq!(r.body["allowed_actions"], json!(["approve", "reject"]));
        // The enrolment keeps its person until the association approves.
        assert_eq!(enrolment(&app, &s.admin, &e)["person_id"], json!(old));
        // One pending substitution per enrolment.
        let third = org_person(&app, &s.org, "Wang Wu", 3);
        substitute(&app, &s.org.reviewer, &e, &third).assert_rule(409, "substitution_exists", "DEF-3");
    }

    // rules DEF-3, ACC-2, ENR-4, ENR-5: the organisation files for its own
    // enrolment and one of its own people who may join the class
    fn the_new_person_is_checked(app: TestApp) {
        let s = setup(&app);
        let other = app.org_with_accounts(&s.admin, "other");
        let old = org_person(&app, &s.org, "Li Si", 10);
        let (_, old_trainee) = trainee_account(&app, &s.admin, "li.si", &old);
        let e = paid_enrolment(&app, &s, &s.class, &old);
        let new = org_person(&app, &s.org, "Zhang San", 11);
        let outsider = app.create_person(&other.filler, "Outsider", &valid_id_number(12), None).id();

        // Only the organisation files; others cannot see it (ACC-2).
        for token in [&s.officer, &s.head, &s.admin, &old_trainee, &s.finance] {
            substitute(&app, token, &e, &new).assert_problem(403, "forbidden");
        }
        substitute(&app, &other.reviewer, &e, &new).assert_problem(404, "not_found");
        substitute(&app, &s.org.filler, &uuid::Uuid::new_v4().to_string(), &new).assert_problem(404, "not_found");
        // The new person belongs to the same organisation: another's answers like an unknown one.
        substitute(&app, &s.org.filler, &e, &outsider).assert_problem(404, "not_found");
        substitute(&app, &s.org.filler, &e, &uuid::Uuid::new_v4().to_string()).assert_problem(404, "not_found");
        let r = substitute(&app, &s.org.filler, &e, &old);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["new_person_id"]);
        app.post("/api/v1/substitutions", Some(&s.org.filler), json!({"enrolment_id": e, "new_person_id": new, "reason": " "}))
            .assert_problem(422, "validation_failed");
        let r = app.post("/api/v1/substitutions", Some(&s.org.filler), json!({"enrolment_id": e, "new_person_id": new}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["reason"]);

        // ENR-5: not someone already enrolled in the class.
        let enrolled = org_person(&app, &s.org, "Enrolled", 13);
        let draft = enrol(&app, &s.org.filler, &s.class, &enrolled, false).id();
        substitute(&app, &s.org.filler, &e, &enrolled).assert_rule(409, "already_enrolled", "ENR-5");
        act(&app, &s.org.filler, &draft, "cancel").assert_status(200);
        substitute(&app, &s.org.filler, &e, &enrolled).assert_status(201);

        // ENR-4: not someone banned, naming the ban.
        let e2 = paid_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Second", 14));
        let banned = org_person(&app, &s.org, "Banned", 15);
        app.post("/api/v1/bans", Some(&s.head), json!({"person_id": banned, "scope": "all", "starts_on": "2026-01-01", "ends_on": "2028-12-31", "reason": "threatened an invigilator"}))
            .assert_status(201);
        let r = substitute(&app, &s.org.reviewer, &e2, &banned);
        r.assert_rule(422, "person_banned", "ENR-4");
        assert!(r.body["detail"].as_str().unwrap().contains("until 2028-12-31"));

        // DEF-3: a deferred enrolment has no place to hand over; an open deferral blocks it too.
        let d = file_deferral(&app, &s.org.reviewer, &e2).id();
        substitute(&app, &s.org.reviewer, &e2, &new).assert_rule(409, "request_pending", "DEF-3");
        decide_deferral(&app, &s.head, &d, "approve").assert_status(200);
        substitute(&app, &s.org.reviewer, &e2, &new).assert_rule(422, "enrolment_not_substitutable", "DEF-3");
        // ... and a pending substitution blocks a deferral (DEF-1).
        file_deferral(&app, &s.org.reviewer, &e).assert_rule(409, "request_pending", "DEF-1");

        // Any live enrolment before the class may change its person, paid or not.
        let unpaid = approved_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Unpaid", 16));
        substitute(&app, &s.org.reviewer, &unpaid, &new).assert_status(201);
    }

    // rules DEF-3, API-6, ENR-3: training staff approve; the enrolment moves to
    // the new person, the payment stays with it, and the change is recorded
    fn approval_moves_the_enrolment_to_the_new_person(app: TestApp) {
        let s = setup(&app);
        let old = org_person(&app, &s.org, "Li Si", 20);
        let new = org_person(&app, &s.org, "Zhang San", 21);
        let (_, old_trainee) = trainee_account(&app, &s.admin, "li.si", &old);
        let (_, new_trainee) = trainee_account(&app, &s.admin, "zhang.san", &new);
        let e = paid_enrolment(&app, &s, &s.class, &old);
        act(&app, &s.officer, &e, "notify").assert_status(200);
        let id = substitute(&app, &s.org.reviewer, &e, &new).id();

        for token in [&s.org.reviewer, &s.org.filler, &s.finance, &new_trainee] {
            decide(&app, token, &id, "approve").assert_problem(403, "forbidden");
        }
        app.clock().advance(chrono::Duration::minutes(5));
        let r = decide(&app, &s.officer, &id, "approve");
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["old_person_id"], json!(old));
        assert_eq!(r.body["new_person_id"], json!(new));
        assert_eq!(r.body["filed_by"], json!(s.org.reviewer_id));
        assert!(r.body["decided_by"].is_string());
        assert!(r.body["decided_at"].is_string());
        assert_ne!(r.body["decided_at"], r.body["filed_at"]);
        assert_eq!(r.body["allowed_actions"], json!([]));
        assert_transition(&decide(&app, &s.officer, &id, "approve"), &[]);

        let after = enrolment(&app, &s.org.reviewer, &e);
        assert_eq!(after["person_id"], json!(new));
        assert_eq!(after["person_name"], "Zhang San");
        assert_eq!(after["status"], "notified");
        assert_eq!(after["balance"]["paid"], json!(FEE));
        assert_eq!(after["balance"]["due"], 0);
        // The new person sees the enrolment and gets the class notice; the old one no longer sees it.
        app.get(&format!("/api/v1/enrolments/{e}"), Some(&new_trainee)).assert_status(200);
        app.get(&format!("/api/v1/enrolments/{e}"), Some(&old_trainee)).assert_problem(404, "not_found");
        let inbox = app.list_all("/api/v1/notifications", &new_trainee);
        let kinds: Vec<&str> = inbox.iter().map(|n| n["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"class_notice") && kinds.contains(&"substitution_approved"), "{kinds:?}");
        let notice = inbox.iter().find(|n| n["kind"] == "class_notice").unwrap();
        assert!(notice["body"].as_str().unwrap().starts_with("Zhang San"), "{notice}");
        assert!(app.list_all("/api/v1/notifications", &old_trainee).iter().any(|n| n["kind"] == "substitution_approved"));
        // Both people may read the substitution.
        for token in [&old_trainee, &new_trainee] {
            app.get(&format!("/api/v1/substitutions/{id}"), Some(token)).assert_status(200);
        }

        // Audited with before and after, on the enrolment and on the substitution (API-6).
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={e}&action=enrolment.substitute"), &s.org.reviewer);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["before"]["person_id"], json!(old));
        assert_eq!(events[0]["after"]["person_id"], json!(new));
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={id}"), &s.admin);
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["substitution.file", "substitution.approve"]);

        // The old person can now be enrolled again; a second substitution names the new one as old.
        let back = substitute(&app, &s.org.filler, &e, &old);
        back.assert_status(201);
        assert_eq!(back.body["old_person_id"], json!(new));
        app.post(&format!("/api/v1/substitutions/{}/reject", back.id()), Some(&s.head), json!({"reason": ""}))
            .assert_problem(422, "validation_failed");
        let r = decide(&app, &s.head, &back.id(), "reject");
        r.assert_status(200);
        assert_eq!(r.body["status"], "rejected");
        assert_eq!(r.body["decision_reason"], "the new person lacks the required certificate");
        assert_eq!(enrolment(&app, &s.admin, &e)["person_id"], json!(new));
        assert!(app.list_all("/api/v1/notifications", &s.org.filler).iter().any(|n| n["kind"] == "substitution_rejected"));
    }

    // rule DEF-3: the new person is checked again on approval (ENR-5); approval
    // may come after the class started, since the filing time is what counts
    fn approval_checks_the_new_person_again(app: TestApp) {
        let mut s = setup(&app);
        let e = paid_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Li Si", 30));
        let new = org_person(&app, &s.org, "Zhang San", 31);
        let id = substitute(&app, &s.org.filler, &e, &new).id();
        let meanwhile = enrol(&app, &s.org.filler, &s.class, &new, true).id();
        decide(&app, &s.officer, &id, "approve").assert_rule(409, "already_enrolled", "ENR-5");
        act(&app, &s.org.filler, &meanwhile, "cancel").assert_status(200);
        crate::deferrals::start_class(&app, &s.class, (2026, 4, 6));
        relogin(&app, &mut s);
        decide(&app, &s.officer, &id, "approve").assert_status(200);
        assert_eq!(enrolment(&app, &s.admin, &e)["person_id"], json!(new));
    }

    // rules DEF-3, ACC-2: each caller lists and reads only what they may see, with filters
    fn substitution_lists_are_scoped_and_filtered(app: TestApp) {
        let s = setup(&app);
        let other = app.org_with_accounts(&s.admin, "other");
        let old = org_person(&app, &s.org, "Mine", 40);
        let (_, trainee) = trainee_account(&app, &s.admin, "mine", &old);
        let e = approved_enrolment(&app, &s, &s.class, &old);
        let s1 = substitute(&app, &s.org.filler, &e, &org_person(&app, &s.org, "Mine Too", 41)).id();
        let theirs = app.create_person(&other.filler, "Theirs", &valid_id_number(42), None).id();
        let e2 = enrol(&app, &other.filler, &s.class, &theirs, true).id();
        let theirs_new = app.create_person(&other.filler, "Theirs Too", &valid_id_number(43), None).id();
        let s2 = substitute(&app, &other.reviewer, &e2, &theirs_new).id();
        decide(&app, &s.officer, &s2, "reject").assert_status(200);
        let ids = |items: Vec<Value>| items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(app.list_all("/api/v1/substitutions", &s.org.reviewer)), [s1.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/substitutions", &other.filler)), [s2.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/substitutions", &trainee)), [s1.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/substitutions", &s.officer)), [s1.as_str(), s2.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/substitutions?status=rejected", &s.admin)), [s2.as_str()]);
        assert_eq!(ids(app.list_all(&format!("/api/v1/substitutions?class_id={}&status=submitted", s.class), &s.head)), [s1.as_str()]);
        assert_eq!(ids(app.list_all(&format!("/api/v1/substitutions?enrolment_id={e2}"), &s.admin)), [s2.as_str()]);
        let listed = app.list_all("/api/v1/substitutions", &s.org.filler);
        assert_eq!(listed[0]["old_person_name"], "Mine");
        assert_eq!(listed[0]["new_person_name"], "Mine Too");
        let r = app.get("/api/v1/substitutions?limit=1", Some(&s.admin));
        assert!(r.body["next_cursor"].is_string());
        app.get("/api/v1/substitutions?status=approved&bogus=1", Some(&s.admin)).assert_problem(400, "invalid_query");
        app.get(&format!("/api/v1/substitutions/{s1}"), Some(&other.reviewer)).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/substitutions/{s1}"), Some(&s.org.filler)).assert_status(200);
        decide(&app, &s.officer, &uuid::Uuid::new_v4().to_string(), "approve").assert_problem(404, "not_found");
        let teacher = app.create_user(&s.admin, "some.teacher", "teacher", None);
        app.get("/api/v1/substitutions", Some(&teacher)).assert_problem(403, "forbidden");
    }
}
