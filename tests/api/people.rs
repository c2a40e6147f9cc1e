//! `/people` (PPL-1 to PPL-3): validated ID numbers, one record per person, masking.

use guild_tests::{Method, backend_tests, masked, valid_id_number, with_wrong_check_digit};
use serde_json::{Value, json};

/// An ID number whose check character is `X` (to test lower-case `x` input).
fn id_number_ending_in_x() -> String {
    (0..5000)
        .map(valid_id_number)
        .find(|id| id.ends_with('X'))
        .unwrap_or_default()
}

backend_tests! {
    // API-5: six clients changing one person at the same instant without
    // If-Match all succeed, one after the other (the row is locked before it
    // is read), instead of racing into 412 version_mismatch
    fn concurrent_changes_without_if_match_all_apply(app: TestApp) {
        let admin = app.admin();
        let person = app.create_person(&admin, "Race Person", &valid_id_number(90), None);
        person.assert_status(201);
        let url = app.url(&format!("/api/v1/people/{}", person.id()));
        let racers = (0..6)
            .map(|i| guild_tests::Racer {
                method: Method::PATCH,
                url: url.clone(),
                token: admin.clone(),
                headers: Vec::new(),
                body: json!({"phone": format!("1390013900{i}")}),
            })
            .collect();
        for (status, body) in guild_tests::at_once(racers) {
            assert_eq!(status, 200, "{body:#}");
        }
        let after = app.get(&format!("/api/v1/people/{}", person.id()), Some(&admin));
        assert_eq!(after.body["version"], 7, "{:#}", after.body);
    }

    // rule PPL-1, PPL-2: every field of a person record
    fn staff_enter_a_full_person_record(app: TestApp) {
        let admin = app.admin();
        let org = app.create_org(&admin, "Acme Gas");
        let id_number = valid_id_number(1);
        let r = app.post(
            "/api/v1/people",
            Some(&admin),
            json!({
                "name": " 张三 ",
                "gender": "male",
                "id_type": "resident_id",
                "id_number": id_number,
                "phone": "13800138000",
                "organisation_id": org,
                "category": "operations_staff",
                "occupation": "燃气管网运行工",
                "skill_level": "level_3",
                "skill_certificate_number": "S-2024-0001",
                "skill_certificate_issued_on": "2024-05-20"
            }),
        );
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.body["name"], "张三");
        assert_eq!(r.body["gender"], "male");
        assert_eq!(r.body["id_type"], "resident_id");
        assert_eq!(r.body["id_number"], json!(id_number), "association staff see the full number (PPL-3)");
        assert_eq!(r.body["id_number_masked"], false);
        assert_eq!(r.body["organisation_id"], json!(org));
        assert_eq!(r.body["category"], "operations_staff");
        assert_eq!(r.body["skill_level"], "level_3");
        assert_eq!(r.body["skill_certificate_issued_on"], "2024-05-20");
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.header("etag"), "\"1\"");
        assert_eq!(r.header("location"), format!("/api/v1/people/{id}"));
        let got = app.get(&format!("/api/v1/people/{id}"), Some(&admin));
        got.assert_status(200);
        assert_eq!(got.body, r.body);
    }

    // rule PPL-2: all six trainee categories
    fn every_trainee_category_is_accepted(app: TestApp) {
        let admin = app.admin();
        let categories = ["principal_head", "safety_manager", "operations_staff", "frontline_staff", "commercial_user", "residential_user"];
        for (n, category) in (10u32..).zip(categories) {
            let r = app.post(
                "/api/v1/people",
                Some(&admin),
                json!({"name": "Li", "gender": "female", "id_type": "resident_id", "id_number": valid_id_number(n), "category": category}),
            );
            r.assert_status(201);
            assert_eq!(r.body["category"], category);
        }
        let r = app.post(
            "/api/v1/people",
            Some(&admin),
            json!({"name": "Li", "gender": "female", "id_type": "resident_id", "id_number": valid_id_number(99), "category": "chef"}),
        );
        r.assert_problem(422, "invalid_body");
        let safety = app.list_all("/api/v1/people?category=safety_manager", &admin);
        assert_eq!(safety.len(), 1);
    }

    // rule PPL-1: GB 11643 check digit
    fn resident_id_numbers_are_checked(app: TestApp) {
        let admin = app.admin();
        let bad = with_wrong_check_digit(&valid_id_number(5));
        let r = app.create_person(&admin, "Wrong Digit", &bad, None);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "id_number");
        assert_eq!(r.body["errors"][0]["code"], "id_number_check_digit");
        for malformed in ["44030119900101", "4403011990010100AA", "000000199001010000"] {
            let r = app.create_person(&admin, "Malformed", malformed, None);
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.body["errors"][0]["field"], "id_number", "{malformed}");
        }
        // A lower-case x check character is accepted and stored upper-case.
        let x = id_number_ending_in_x();
        let r = app.create_person(&admin, "Has X", &x.to_lowercase(), None);
        r.assert_status(201);
        assert_eq!(r.body["id_number"], json!(x));
        assert!(app.list_all("/api/v1/people", &admin).len() == 1, "only the valid one was stored");
    }

    // rule PPL-1: other ID documents are allowed with their type
    fn other_id_documents_are_accepted(app: TestApp) {
        let admin = app.admin();
        let org = app.org_with_accounts(&admin, "acme");
        let r = app.post(
            "/api/v1/people",
            Some(&org.filler),
            json!({"name": "John Smith", "gender": "male", "id_type": "passport", "id_number": "e12345678"}),
        );
        r.assert_status(201);
        assert_eq!(r.body["id_type"], "passport");
        assert_eq!(r.body["id_number"], "E1*****78", "masked for organisation users (PPL-3)");
        let full = app.get(&format!("/api/v1/people/{}", r.id()), Some(&admin));
        assert_eq!(full.body["id_number"], "E12345678");
        let r = app.post(
            "/api/v1/people",
            Some(&org.filler),
            json!({"name": "Bad Doc", "gender": "male", "id_type": "passport", "id_number": "E1 2"}),
        );
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["id_number"]);
    }

    // rule PPL-3, ACC-2: organisation users enter people of their own organisation and see masked numbers
    fn organisation_users_enter_their_own_people_masked(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let id_number = valid_id_number(7);
        let r = app.create_person(&a.filler, "Wang Wu", &id_number, None);
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.body["organisation_id"], json!(a.id), "forced to the filler's organisation");
        assert_eq!(r.body["id_number"], json!(masked(&id_number)));
        assert_eq!(r.body["id_number_masked"], true);
        // The event is written with the change, masked like the audit log (PPL-3).
        let events = app.outbox("person", &id);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, "person.created");
        assert_eq!(events[0].organisation_id.as_deref(), Some(a.id.as_str()));
        assert!(!events[0].payload.contains(&id_number), "{}", events[0].payload);
        let seen = app.get(&format!("/api/v1/people/{id}"), Some(&a.reviewer));
        seen.assert_status(200);
        assert_eq!(seen.body["id_number"], json!(masked(&id_number)));
        assert!(!seen.body.to_string().contains(&id_number), "the full number never reaches an organisation user");
        // Staff see it in full.
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        assert_eq!(app.get(&format!("/api/v1/people/{id}"), Some(&officer)).body["id_number"], json!(id_number));
        // An organisation user cannot place a person in another organisation.
        let r = app.post(
            "/api/v1/people",
            Some(&a.filler),
            json!({"name": "Elsewhere", "gender": "male", "id_type": "resident_id", "id_number": valid_id_number(8), "organisation_id": b.id}),
        );
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["organisation_id"]);
        // Lists are confined to the own organisation.
        app.create_person(&b.reviewer, "Zhao Liu", &valid_id_number(9), None).assert_status(201);
        let listed = app.list_all("/api/v1/people", &a.reviewer);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(id));
        assert_eq!(listed[0]["id_number"], json!(masked(&id_number)));
        let r = app.get(&format!("/api/v1/people?organisation_id={}", b.id), Some(&a.reviewer));
        r.assert_status(200);
        assert_eq!(r.body["items"], json!([]));
        assert_eq!(app.list_all("/api/v1/people", &admin).len(), 2);
        app.get(&format!("/api/v1/people/{id}"), Some(&b.filler)).assert_problem(404, "not_found");
    }

    // rule PPL-3: an existing ID number links to the existing person
    fn entering_an_existing_id_number_links_to_the_person(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let id_number = valid_id_number(21);
        let first = app.create_person(&a.filler, "Wang Wu", &id_number, None);
        first.assert_status(201);
        let again = app.create_person(&a.reviewer, "Wang Wu", &id_number, None);
        again.assert_status(200);
        assert_eq!(again.body["id"], first.body["id"]);
        assert_eq!(again.body["id_number"], json!(masked(&id_number)));
        assert_eq!(app.list_all("/api/v1/people", &admin).len(), 1, "no duplicate");
        // Association staff entering it again also get the existing record.
        let staff = app.create_person(&admin, "Wang Wu", &id_number, None);
        staff.assert_status(200);
        assert_eq!(staff.body["id"], first.body["id"]);
    }

    // rule PPL-3: an ID number registered with another organisation reveals nothing
    fn id_number_of_another_organisation_is_409(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let id_number = valid_id_number(31);
        app.create_person(&a.filler, "Wang Wu", &id_number, None).assert_status(201);
        let r = app.create_person(&b.filler, "Somebody", &id_number, None);
        r.assert_rule(409, "person_exists_elsewhere", "PPL-3");
        assert!(!r.body.to_string().contains("Wang Wu"), "nothing of the record leaks: {:#}", r.body);
        assert!(r.body.get("id").is_none());
        assert_eq!(app.list_all("/api/v1/people", &admin).len(), 1);
    }

    // rules PPL-3, ACC-2: after a change of employer the association moves the
    // person; the new organisation then links to the same record and the old one
    // no longer sees it. Organisation users cannot move people themselves.
    fn association_staff_move_a_person_to_a_new_employer(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let b = app.org_with_accounts(&admin, "beta");
        let id_number = valid_id_number(33);
        let created = app.create_person(&a.filler, "Wang Wu", &id_number, None);
        created.assert_status(201);
        let person = created.id();
        let path = format!("/api/v1/people/{person}");
        app.patch(&path, Some(&a.reviewer), json!({"organisation_id": b.id}))
            .assert_problem(422, "validation_failed");
        let r = app.patch(&path, Some(&admin), json!({"organisation_id": b.id}));
        r.assert_status(200);
        assert_eq!(r.body["organisation_id"], b.id.as_str());
        let r = app.create_person(&b.filler, "Wang Wu", &id_number, None);
        r.assert_status(200);
        assert_eq!(r.id(), person, "the same record, no duplicate");
        app.get(&path, Some(&a.filler)).assert_problem(404, "not_found");
        app.patch(&path, Some(&admin), json!({"organisation_id": uuid::Uuid::new_v4()}))
            .assert_problem(422, "validation_failed");
    }

    fn person_fields_are_validated(app: TestApp) {
        let admin = app.admin();
        let base = json!({"name": "Li", "gender": "female", "id_type": "resident_id", "id_number": valid_id_number(41)});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        for (body, code, field) in [
            (with("name", json!("")), "validation_failed", Some("name")),
            (with("name", json!("x".repeat(65))), "validation_failed", Some("name")),
            (with("phone", json!("12345")), "validation_failed", Some("phone")),
            (with("occupation", json!("o".repeat(65))), "validation_failed", Some("occupation")),
            (with("skill_certificate_issued_on", json!("2024-13-01")), "invalid_body", None),
            (with("skill_level", json!("level_6")), "invalid_body", None),
            (with("gender", json!("unknown")), "invalid_body", None),
            (with("id_type", json!("library_card")), "invalid_body", None),
            (with("organisation_id", json!("not-a-uuid")), "invalid_body", None),
            (with("nickname", json!("Xiao Li")), "validation_failed", Some("nickname")),
        ] {
            let r = app.post("/api/v1/people", Some(&admin), body.clone());
            r.assert_problem(422, code);
            if let Some(f) = field {
                assert_eq!(r.error_fields(), [f], "{body}");
            }
        }
        let r = app.post(
            "/api/v1/people",
            Some(&admin),
            with("organisation_id", json!("0193a5f0-6a2b-7c8d-9e0f-112233445566")),
        );
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["organisation_id"]);
        assert!(app.list_all("/api/v1/people", &admin).is_empty());
    }

    fn only_people_managers_enter_people(app: TestApp) {
        let admin = app.admin();
        for (name, role) in [("cashier", "finance"), ("boss", "leader"), ("auditor", "authority"), ("student", "trainee")] {
            let token = app.create_user(&admin, name, role, None);
            app.create_person(&token, "Li", &valid_id_number(50), None).assert_problem(403, "forbidden");
        }
        let head = app.create_user(&admin, "head", "training_head", None);
        app.create_person(&head, "Li", &valid_id_number(50), None).assert_status(201);
    }

    // rule API-5, PPL-3
    fn update_honours_if_match_and_protects_the_id_document(app: TestApp) {
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "alpha");
        let id = app.create_person(&a.filler, "Wang Wu", &valid_id_number(61), None).id();
        let path = format!("/api/v1/people/{id}");
        let r = app.request(
            Method::PATCH,
            &path,
            Some(&a.reviewer),
            Some(&json!({"phone": "13900139000", "category": "frontline_staff"})),
            &[("if-match", "\"1\"")],
        );
        r.assert_status(200);
        assert_eq!(r.body["phone"], "13900139000");
        assert_eq!(r.body["category"], "frontline_staff");
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.header("etag"), "\"2\"");
        app.request(Method::PATCH, &path, Some(&a.filler), Some(&json!({"name": "Lost"})), &[("if-match", "\"1\"")])
            .assert_problem(412, "version_mismatch");
        // Organisation users cannot change the ID document; association staff can correct it.
        let r = app.patch(&path, Some(&a.filler), json!({"id_number": valid_id_number(62)}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["id_number"]);
        let r = app.patch(&path, Some(&admin), json!({"id_number": valid_id_number(62)}));
        r.assert_status(200);
        assert_eq!(r.body["id_number"], json!(valid_id_number(62)));
        let r = app.patch(&path, Some(&admin), json!({"id_number": with_wrong_check_digit(&valid_id_number(63))}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["id_number"]);
        // Another person's number cannot be taken.
        app.create_person(&admin, "Other", &valid_id_number(64), None).assert_status(201);
        app.patch(&path, Some(&admin), json!({"id_number": valid_id_number(64)})).assert_problem(409, "already_exists");
        app.patch(&path, Some(&a.filler), json!({"phone": "bad"})).assert_problem(422, "validation_failed");
        let ghost = uuid::Uuid::new_v4();
        app.patch(&format!("/api/v1/people/{ghost}"), Some(&admin), json!({"phone": "13900139000"}))
            .assert_problem(404, "not_found");
    }

    fn list_filters_by_id_number(app: TestApp) {
        let admin = app.admin();
        let wanted = valid_id_number(71);
        app.create_person(&admin, "Wanted", &wanted, None).assert_status(201);
        app.create_person(&admin, "Other", &valid_id_number(72), None).assert_status(201);
        let r = app.list_all(&format!("/api/v1/people?id_number={wanted}"), &admin);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["name"], "Wanted");
        let r = app.list_all("/api/v1/people?name=ant", &admin);
        assert_eq!(r.len(), 1);
        let r = app.get(&format!("/api/v1/people?id_number={}", with_wrong_check_digit(&wanted)), Some(&admin));
        r.assert_problem(400, "invalid_query");
    }

    // rule PPL-3: the person themself sees their full ID number, and only their own record
    fn a_trainee_sees_only_their_own_record_in_full(app: TestApp) {
        let admin = app.admin();
        let own_number = valid_id_number(81);
        let own = app.create_person(&admin, "Trainee Self", &own_number, None).id();
        let other = app.create_person(&admin, "Someone Else", &valid_id_number(82), None).id();
        let r = app.post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "self.trainee", "display_name": "Self", "password": guild_tests::USER_PASSWORD, "role": "trainee", "person_id": own}),
        );
        r.assert_status(201);
        let trainee = app.login("self.trainee", guild_tests::USER_PASSWORD);
        let r = app.get(&format!("/api/v1/people/{own}"), Some(&trainee));
        r.assert_status(200);
        assert_eq!(r.body["id_number"], json!(own_number));
        assert_eq!(r.body["id_number_masked"], false);
        app.get(&format!("/api/v1/people/{other}"), Some(&trainee)).assert_problem(404, "not_found");
        let listed = app.list_all("/api/v1/people", &trainee);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(own));
        // The read-only authority sees every record in full.
        let authority = app.create_user(&admin, "hr.bureau", "authority", None);
        let r = app.get(&format!("/api/v1/people/{other}"), Some(&authority));
        r.assert_status(200);
        assert_eq!(r.body["id_number"], json!(valid_id_number(82)));
        app.patch(&format!("/api/v1/people/{other}"), Some(&authority), json!({"phone": "13800138000"}))
            .assert_problem(403, "forbidden");
    }
}
