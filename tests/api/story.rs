//! The "Done when" walk, end to end over HTTP.

use guild_tests::{ADMIN_PASSWORD, USER_PASSWORD, backend_tests, masked, valid_id_number};
use serde_json::json;

backend_tests! {
    // rules ACC-1, PPL-4, ACC-3, PPL-1, ACC-2, PPL-3
    fn admin_sets_up_an_organisation_and_its_people_stay_private(app: TestApp) {
        // The admin logs in (ACC-1).
        let admin = app.login("admin", ADMIN_PASSWORD);

        // Registers an organisation; it is pending until approved (PPL-4).
        let r = app.post("/api/v1/organisations", Some(&admin), json!({"name": "Shenzhen Gas Co.", "kind": "member_company"}));
        r.assert_status(201);
        assert_eq!(r.body["status"], "pending");
        let org = r.id();
        let r = app.post(&format!("/api/v1/organisations/{org}/approve"), Some(&admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");

        // Creates its filler and reviewer (ACC-3).
        for (username, role) in [("sgc.filler", "org_filler"), ("sgc.reviewer", "org_reviewer")] {
            let r = app.post(
                "/api/v1/users",
                Some(&admin),
                json!({"username": username, "display_name": username, "password": USER_PASSWORD, "role": role, "organisation_id": org}),
            );
            r.assert_status(201);
            assert_eq!(r.body["organisation_id"], json!(org));
        }
        let filler = app.login("sgc.filler", USER_PASSWORD);
        let reviewer = app.login("sgc.reviewer", USER_PASSWORD);

        // The filler enters a person with a valid resident ID number (PPL-1).
        let id_number = valid_id_number(123);
        let r = app.post(
            "/api/v1/people",
            Some(&filler),
            json!({"name": "李四", "gender": "male", "id_type": "resident_id", "id_number": id_number, "category": "frontline_staff"}),
        );
        r.assert_status(201);
        let person = r.id();
        assert_eq!(r.body["organisation_id"], json!(org));

        // Another organisation with its own reviewer.
        let other = app.create_org(&admin, "Other Gas Co.");
        let outsider = app.create_user(&admin, "ogc.reviewer", "org_reviewer", Some(&other));

        // The other organisation's reviewer cannot reach the person or the organisation (ACC-2).
        app.get(&format!("/api/v1/people/{person}"), Some(&outsider)).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/organisations/{org}"), Some(&outsider)).assert_problem(404, "not_found");
        let listed = app.list_all("/api/v1/people", &outsider);
        assert!(listed.is_empty(), "{listed:?}");

        // The filler's own reviewer sees the person, with the ID number masked (PPL-3).
        let r = app.get(&format!("/api/v1/people/{person}"), Some(&reviewer));
        r.assert_status(200);
        assert_eq!(r.body["name"], "李四");
        assert_eq!(r.body["id_number"], json!(masked(&id_number)));
        assert!(r.body["id_number"].as_str().is_some_and(|s| s.contains("********")));
        let listed = app.list_all("/api/v1/people", &reviewer);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(person));

        // Association staff see the full number.
        let r = app.get(&format!("/api/v1/people/{person}"), Some(&admin));
        assert_eq!(r.body["id_number"], json!(id_number));
    }
}
