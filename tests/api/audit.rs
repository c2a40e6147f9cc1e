//! `/audit-events` (API-6): every state change is recorded with actor, action,
//! entity, before/after, time and request id; organisations read their own.

use chrono::Duration;
use guild_tests::{Method, backend_tests, masked, start_time, valid_id_number};
use serde_json::{Value, json};

backend_tests! {
    // rule API-6
    fn a_state_change_is_recorded_with_actor_before_after_time_and_request_id(app: TestApp) {
        let admin = app.admin();
        let admin_id = app.get("/api/v1/me", Some(&admin)).id();
        let id = app.create_pending_org(&admin, "Audited Co");
        app.clock().advance(Duration::minutes(5));
        let approve = app.request(
            Method::POST,
            &format!("/api/v1/organisations/{id}/approve"),
            Some(&admin),
            Some(&json!({})),
            &[("x-request-id", "approve-req-0001")],
        );
        approve.assert_status(200);
        assert_eq!(approve.header("x-request-id"), "approve-req-0001", "the client's request id is echoed");

        let r = app.get(&format!("/api/v1/audit-events?entity_type=organisation&entity_id={id}"), Some(&admin));
        r.assert_status(200);
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions, ["organisation.create", "organisation.approve"], "{:#}", r.body);
        let create = &items[0];
        assert_eq!(create["before"], Value::Null);
        assert_eq!(create["after"]["status"], "pending");
        assert_eq!(create["organisation_id"], json!(id));
        let event = &items[1];
        assert!(event["id"].is_string());
        assert_eq!(event["actor_user_id"], json!(admin_id));
        assert_eq!(event["actor_role"], "admin");
        assert_eq!(event["entity_type"], "organisation");
        assert_eq!(event["entity_id"], json!(id));
        assert_eq!(event["organisation_id"], json!(id));
        assert_eq!(event["before"]["status"], "pending");
        assert_eq!(event["after"]["status"], "approved");
        assert_eq!(event["request_id"], "approve-req-0001");
        let at = chrono::DateTime::parse_from_rfc3339(event["occurred_at"].as_str().unwrap_or_default())
            .expect("occurred_at is RFC 3339");
        assert_eq!(at, start_time() + Duration::minutes(5), "time comes from the injected clock");
    }

    // rule API-6: every kind of change leaves an event
    fn account_and_person_changes_are_recorded(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let person = app.create_person(&org.filler, "Wang Wu", &valid_id_number(3), None).id();
        app.patch(&format!("/api/v1/people/{person}"), Some(&org.reviewer), json!({"phone": "13800138000"})).assert_status(200);
        app.post(&format!("/api/v1/users/{}/disable", org.filler_id), Some(&admin), json!({})).assert_status(200);
        let change = app
            .post(
                &format!("/api/v1/organisations/{}/account-changes", org.id),
                Some(&org.reviewer),
                json!({"role": "org_filler", "username": "acme.new", "display_name": "New", "password": "Fresh-Start-2026", "replaces_user_id": org.filler_id, "reason": "left"}),
            )
            .id();
        app.post(&format!("/api/v1/account-changes/{change}/approve"), Some(&admin), json!({})).assert_status(200);
        let all = app.list_all("/api/v1/audit-events", &admin);
        let actions: Vec<&str> = all.iter().filter_map(|e| e["action"].as_str()).collect();
        for expected in [
            "auth.login",
            "organisation.create",
            "organisation.approve",
            "user.create",
            "person.create",
            "person.update",
            "user.disable",
            "account_change.submit",
            "account_change.approve",
        ] {
            assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
        }
        // No password hash or password ever reaches the log.
        let text = Value::Array(all.clone()).to_string();
        assert!(!text.contains("$argon2") && !text.contains("Fresh-Start-2026") && !text.contains("password_hash"));
        // Oldest first, by time.
        let times: Vec<&str> = all.iter().filter_map(|e| e["occurred_at"].as_str()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        // Filters.
        let by_actor = app.list_all(&format!("/api/v1/audit-events?actor_user_id={}", org.reviewer_id), &admin);
        assert!(!by_actor.is_empty());
        assert!(by_actor.iter().all(|e| e["actor_user_id"] == json!(org.reviewer_id)));
        let updates = app.list_all(&format!("/api/v1/audit-events?entity_type=person&entity_id={person}&action=person.update"), &admin);
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0]["before"]["phone"], Value::Null);
        assert_eq!(updates[0]["after"]["phone"], "13800138000");
    }

    // rule PPL-3: audit snapshots never hold a full ID number
    fn person_snapshots_are_masked(app: TestApp) {
        let admin = app.admin();
        let id_number = valid_id_number(4);
        let person = app.create_person(&admin, "Li Si", &id_number, None).id();
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={person}"), &admin);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["after"]["id_number"], json!(masked(&id_number)));
        assert!(!Value::Array(events).to_string().contains(&id_number));
    }

    // rule API-6, ACC-2: organisations read only their own organisation's events
    fn organisation_users_read_only_their_own_events(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let person = app.create_person(&a.filler, "Wang Wu", &valid_id_number(5), None).id();
        let own = app.list_all("/api/v1/audit-events", &a.reviewer);
        assert!(!own.is_empty());
        assert!(own.iter().all(|e| e["organisation_id"] == json!(a.id)), "{own:#?}");
        assert!(own.iter().any(|e| e["entity_id"] == json!(person)));
        let theirs = app.list_all(&format!("/api/v1/audit-events?entity_id={person}"), &b.reviewer);
        assert!(theirs.is_empty(), "{theirs:#?}");
        let r = app.get(&format!("/api/v1/audit-events?organisation_id={}", a.id), Some(&b.filler));
        r.assert_status(200);
        assert_eq!(r.body["items"], json!([]));
        assert!(app.list_all("/api/v1/audit-events", &b.filler).iter().all(|e| e["organisation_id"] == json!(b.id)));
        // The admin can narrow to one organisation.
        let only_a = app.list_all(&format!("/api/v1/audit-events?organisation_id={}", a.id), &admin);
        assert_eq!(only_a.len(), own.len());
    }

    fn other_roles_cannot_read_the_audit_log(app: TestApp) {
        let admin = app.admin();
        for (name, role) in [("officer", "training_officer"), ("cashier", "finance"), ("student", "trainee")] {
            let token = app.create_user(&admin, name, role, None);
            app.get("/api/v1/audit-events", Some(&token)).assert_problem(403, "forbidden");
        }
        app.get("/api/v1/audit-events", None).assert_problem(401, "unauthenticated");
    }

    fn audit_queries_are_validated(app: TestApp) {
        let admin = app.admin();
        app.get("/api/v1/audit-events?actor_user_id=nobody", Some(&admin)).assert_problem(400, "invalid_query");
        app.get("/api/v1/audit-events?colour=red", Some(&admin)).assert_problem(400, "invalid_query");
        app.get("/api/v1/audit-events?limit=0", Some(&admin)).assert_problem(400, "invalid_query");
    }

    // rule API-8: one event per state change: the audit row and the outbox row
    // are written in the change's transaction, with the same id
    fn a_state_change_writes_one_outbox_row_with_its_audit_event(app: TestApp) {
        let admin = app.admin();
        let id = app.create_pending_org(&admin, "Outboxed Co");
        app.post(&format!("/api/v1/organisations/{id}/approve"), Some(&admin), json!({}))
            .assert_status(200);
        let rows = app.outbox("organisation", &id);
        let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["organisation.created", "organisation.approved"]);
        let approved = &rows[1];
        assert_eq!(approved.organisation_id.as_deref(), Some(id.as_str()));
        assert_eq!(approved.delivery_state, "pending");
        let payload: Value = serde_json::from_str(&approved.payload).expect("the payload is JSON");
        assert_eq!(payload["status"], "approved");
        assert_eq!(payload["id"], json!(id));
        let audit = app.get(&format!("/api/v1/audit-events?entity_type=organisation&entity_id={id}"), Some(&admin));
        assert_eq!(audit.body["items"][1]["id"], json!(approved.id), "the outbox row is the audit event");
        assert_eq!(
            approved.created_at.and_utc(),
            start_time(),
            "the event's time comes from the injected clock"
        );

        // A refused change writes nothing: approving again is a 409.
        app.post(&format!("/api/v1/organisations/{id}/approve"), Some(&admin), json!({}))
            .assert_status(409);
        assert_eq!(app.outbox("organisation", &id).len(), 2);
    }

    // rule API-8: security events are audited but never published
    fn logins_are_audited_but_not_published(app: TestApp) {
        let admin = app.admin();
        let me = app.get("/api/v1/me", Some(&admin)).id();
        let logins = app.get(
            &format!("/api/v1/audit-events?entity_type=user&entity_id={me}&action=auth.login"),
            Some(&admin),
        );
        assert!(
            !logins.body["items"].as_array().cloned().unwrap_or_default().is_empty(),
            "the login is audited: {:#}",
            logins.body
        );
        assert!(app.outbox("user", &me).iter().all(|r| !r.kind.starts_with("auth.")));
    }
}
