//! Public certificate verification over HTTP (CRT-2, CRT-8): the answer anyone
//! scanning a QR code gets, without a token, and the page behind the QR URL.

use guild_tests::{Method, PUBLIC_BASE_URL, TestApp, backend_tests, masked, valid_id_number};
use serde_json::{Value, json};

use crate::certificate_requests::{act, file};
use crate::certificates::{Graduates, graduates};
use crate::classes::shanghai;

/// The public verification path of `code`.
pub fn verification_path(code: &str) -> String {
    format!("/api/v1/public/certificates/{code}")
}

/// A class of program `program_code` with Ann's and Bob's certificates issued on
/// 10 April 2026 (valid until 9 April 2029). Returns the fixture and Ann's and
/// Bob's certificates as the issuing staff see them (with `code` and `verify_url`).
pub fn issued(app: &TestApp, program_code: &str) -> (Graduates, Value, Value) {
    let g = graduates(app, program_code);
    let r = app.post(
        &format!("/api/v1/classes/{}/certificates", g.c.class),
        Some(&g.c.s.officer),
        json!({}),
    );
    assert!(
        r.status == 200 || r.status == 201,
        "issuing failed: {} {:#}",
        r.status,
        r.body
    );
    let of = |person: &str| {
        r.body["issued"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["person_id"] == json!(person))
            .unwrap_or_else(|| panic!("no certificate for {person}: {:#}", r.body))
            .clone()
    };
    let (ann, bob) = (of(&g.ann.0), of(&g.bob.0));
    (g, ann, bob)
}

/// The path part of the QR code's URL (`{PUBLIC_BASE_URL}/verify/{code}`).
fn qr_path(certificate: &Value) -> String {
    let url = certificate["verify_url"].as_str().unwrap();
    url.strip_prefix(PUBLIC_BASE_URL)
        .unwrap_or_else(|| panic!("the QR URL {url} is not under {PUBLIC_BASE_URL}"))
        .to_owned()
}

/// What never appears in a public answer about Ann's certificate: her ID
/// number (plain or masked), her name in full, and every internal id.
fn assert_nothing_private(text: &str, g: &Graduates, certificate: &Value) {
    let id_number = valid_id_number(1);
    for (what, secret) in [
        ("ID number", id_number.clone()),
        ("masked ID number", masked(&id_number)),
        ("full name", "Zhang Anna".to_owned()),
        ("person id", g.ann.0.clone()),
        ("enrolment id", g.ann.1.clone()),
        ("organisation id", g.c.s.org.id.clone()),
        (
            "certificate id",
            certificate["id"].as_str().unwrap().to_owned(),
        ),
        ("program id", g.program.clone()),
    ] {
        assert!(
            !text.contains(&secret),
            "the public answer shows the {what}: {text}"
        );
    }
    assert!(!text.contains("id_number"), "{text}");
}

fn html(app: &TestApp, path: &str) -> guild_tests::Resp {
    app.request(
        Method::GET,
        path,
        None,
        None,
        &[(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )],
    )
}

backend_tests! {
    // rule CRT-2: anyone sees status, masked name, program and dates, never the ID number
    fn a_certificate_shows_its_public_facts_to_anyone(app: TestApp) {
        let (g, ann, _) = issued(&app, "VER-A");
        let code = ann["code"].as_str().unwrap();
        let r = app.get(&verification_path(code), None);
        r.assert_status(200);
        assert!(r.header("content-type").starts_with("application/json"), "{}", r.header("content-type"));
        assert_eq!(r.header("cache-control"), "no-store", "CRT-8: a status is never cached");
        let b = &r.body;
        let mut keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["certificate_name", "checked_at", "ended_on", "holder_name", "issued_on", "number", "program", "status", "valid_until"],
            "{b:#}"
        );
        assert_eq!(b["number"], ann["number"]);
        assert_eq!(b["status"], "valid");
        assert_eq!(b["holder_name"], "Z**** A***", "the name is partly masked");
        assert_eq!(b["program"], json!({"code": "VER-A", "name": "Program VER-A"}));
        assert_eq!(b["certificate_name"], "Gas operations certificate");
        assert_eq!(b["issued_on"], "2026-04-10");
        assert_eq!(b["valid_until"], "2029-04-09");
        assert_eq!(b["ended_on"], Value::Null);
        assert_eq!(b["checked_at"], "2026-04-10T02:00:00Z");
        assert_nothing_private(&b.to_string(), &g, &ann);
        // A token changes nothing: the answer is the same for everyone.
        let with_token = app.get(&verification_path(code), Some(&g.c.s.admin));
        with_token.assert_status(200);
        assert_eq!(with_token.body, r.body);
    }

    // rule CRT-2: an unknown code and a malformed one answer the same 404, telling nothing
    fn unknown_and_malformed_codes_answer_the_same_404(app: TestApp) {
        let (_g, ann, _) = issued(&app, "VER-B");
        let code = ann["code"].as_str().unwrap().to_owned();
        // The same length and alphabet as a real code, one character changed.
        let mut unknown = code.clone();
        let last = if code.ends_with('A') { "B" } else { "A" };
        unknown.replace_range(23.., last);
        let candidates = [
            unknown,
            "AAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            code[..23].to_owned(),
            format!("{code}A"),
            code.to_lowercase().replace(|c: char| c.is_ascii_digit(), "x") + "=",
            "not-a-code".to_owned(),
            "%2e%2e%2fetc".to_owned(),
            "AAAAAAAAAAAAAAAAAAAAAA%00".to_owned(),
            "AAAAAAAAAAAAAAAAAAAAAA+=".to_owned(),
            "a".repeat(300),
        ];
        let shape = |r: &guild_tests::Resp| {
            let b = &r.body;
            (r.status, b["code"].clone(), b["title"].clone(), b["detail"].clone(), b["type"].clone())
        };
        let first = app.get(&verification_path(&candidates[0]), None);
        first.assert_problem(404, "not_found");
        for candidate in &candidates {
            let r = app.get(&verification_path(candidate), None);
            r.assert_problem(404, "not_found");
            assert_eq!(shape(&r), shape(&first), "{candidate}");
            let r = app.get(&format!("/verify/{candidate}"), None);
            r.assert_problem(404, "not_found");
            assert_eq!(shape(&r), shape(&first), "/verify/{candidate}");
        }
        // The real code still answers.
        app.get(&verification_path(&code), None).assert_status(200);
    }

    // rule CRT-8: the status is computed when asked; no certificate shows valid after its validity
    fn the_status_is_computed_at_the_moment_of_the_request(app: TestApp) {
        let (_g, ann, _) = issued(&app, "VER-C");
        let path = verification_path(ann["code"].as_str().unwrap());
        let status_at = |when| {
            app.clock().set(when);
            let r = app.get(&path, None);
            r.assert_status(200);
            (r.body["status"].as_str().unwrap().to_owned(), r.body["checked_at"].clone())
        };
        // The last valid day, in the association's time zone.
        let (status, checked_at) = status_at(shanghai(2029, 4, 9, 23, 59));
        assert_eq!(status, "valid");
        assert_eq!(checked_at, "2029-04-09T15:59:00Z");
        // The next morning, with nothing written in between: expired (CRT-4 grace).
        assert_eq!(status_at(shanghai(2029, 4, 10, 0, 0)).0, "expired");
        // 90 days of grace end on 8 July 2029; then it is void.
        assert_eq!(status_at(shanghai(2029, 7, 8, 23, 59)).0, "expired");
        assert_eq!(status_at(shanghai(2029, 7, 9, 0, 0)).0, "lapsed");
        // The same answer through the QR URL.
        let r = app.get(&qr_path(&ann), None);
        r.assert_status(200);
        assert_eq!(r.body["status"], "lapsed");
    }

    // rule CRT-2: the QR URL shows browsers a page and gives programs the JSON answer
    fn the_qr_url_serves_a_page_to_browsers_and_json_to_programs(app: TestApp) {
        let (g, ann, _) = issued(&app, "VER-D");
        let path = qr_path(&ann);
        assert_eq!(path, format!("/verify/{}", ann["code"].as_str().unwrap()));
        let api = app.get(&verification_path(ann["code"].as_str().unwrap()), None);
        let json_answer = app.request(Method::GET, &path, None, None, &[("accept", "application/json")]);
        json_answer.assert_status(200);
        assert!(json_answer.header("content-type").starts_with("application/json"));
        assert_eq!(json_answer.body, api.body, "the same answer as the API path");
        assert_eq!(app.get(&path, None).body, api.body, "no Accept header: JSON");

        let page = html(&app, &path);
        page.assert_status(200);
        assert!(page.header("content-type").starts_with("text/html"), "{}", page.header("content-type"));
        assert_eq!(page.header("cache-control"), "no-store");
        assert!(page.header("vary").contains("Accept"));
        assert!(page.header("content-security-policy").contains("default-src 'none'"));
        let text = page.body.as_str().unwrap();
        for shown in ["Valid", "Z**** A***", ann["number"].as_str().unwrap(), "Program VER-D", "2026-04-10", "2029-04-09"] {
            assert!(text.contains(shown), "the page does not show {shown}: {text}");
        }
        assert!(!text.contains("<script"), "{text}");
        assert_nothing_private(text, &g, &ann);

        // An unknown code: a 404 page for a browser, a problem for a program.
        let missing = html(&app, "/verify/AAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(missing.status, 404);
        assert!(missing.header("content-type").starts_with("text/html"));
        assert!(missing.body.as_str().unwrap().contains("No certificate has this code"));
        app.get("/verify/AAAAAAAAAAAAAAAAAAAAAAAA", None).assert_problem(404, "not_found");
    }

    // rule API-2: the verification paths answer other methods and paths like every route
    fn other_methods_and_paths_answer_like_every_route(app: TestApp) {
        let code = "AAAAAAAAAAAAAAAAAAAAAAAA";
        for path in [verification_path(code), format!("/verify/{code}")] {
            for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
                let r = app.request(method.clone(), &path, None, Some(&json!({})), &[]);
                r.assert_problem(405, "method_not_allowed");
                assert_eq!(r.header("allow"), "GET", "{method} {path}");
            }
        }
        for path in [
            "/api/v1/public/certificates".to_owned(),
            "/api/v1/public/certificates/".to_owned(),
            format!("/api/v1/public/certificates/{code}/extra"),
            "/verify".to_owned(),
            format!("/verify/{code}/"),
        ] {
            app.get(&path, None).assert_problem(404, "route_not_found");
        }
        // A longer word that starts like the prefix is another route.
        app.get(&format!("/verifyx/{code}"), None).assert_problem(404, "route_not_found");
    }

    // rule CRT-5, CRT-8: a replaced or cancelled certificate says so at once, with
    // the day it ended, and never leads to the code of its replacement
    fn a_replaced_or_cancelled_certificate_says_so_at_once(app: TestApp) {
        let (mut g, ann, bob) = issued(&app, "VER-E");
        g.c.at(&app, shanghai(2026, 5, 1, 9, 30));
        let s = &g.c.s;
        let r = file(&app, &s.org.reviewer, json!({"certificate_id": ann["id"], "kind": "reissue", "reason": "The card was lost"}));
        r.assert_status(201);
        let r = act(&app, &s.officer, &r.id(), "approve");
        r.assert_status(200);
        let new_id = r.body["new_certificate_id"].as_str().unwrap().to_owned();
        let new = app.get(&format!("/api/v1/certificates/{new_id}"), Some(&s.officer));
        new.assert_status(200);
        let new_code = new.body["code"].as_str().unwrap();

        let old = app.get(&verification_path(ann["code"].as_str().unwrap()), None);
        old.assert_status(200);
        assert_eq!(old.body["status"], "superseded");
        assert_eq!(old.body["ended_on"], "2026-05-01");
        assert_eq!(old.body["number"], ann["number"]);
        let text = old.body.to_string();
        assert!(!text.contains(new_code) && !text.contains(&new_id), "{text}");
        assert!(!text.contains(new.body["number"].as_str().unwrap()), "{text}");
        let page = html(&app, &qr_path(&ann));
        let page = page.body.as_str().unwrap();
        assert!(page.contains("Superseded") && page.contains("2026-05-01"), "{page}");
        assert!(!page.contains(new_code), "{page}");
        let replacement = app.get(&verification_path(new_code), None);
        assert_eq!(replacement.body["status"], "valid");
        assert_eq!(replacement.body["ended_on"], Value::Null);

        // Bob's certificate is cancelled: revoked at once.
        let r = file(&app, &s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "cancellation", "reason": "Left the trade"}));
        r.assert_status(201);
        act(&app, &s.officer, &r.id(), "approve").assert_status(200);
        let r = app.get(&verification_path(bob["code"].as_str().unwrap()), None);
        assert_eq!(r.body["status"], "revoked");
        assert_eq!(r.body["ended_on"], "2026-05-01");
    }

    // rule CRT-2: scans arriving together (answered in one batch) each get their own certificate
    fn simultaneous_scans_each_get_their_own_answer(app: TestApp) {
        let (_g, ann, bob) = issued(&app, "VER-F");
        let unknown = "AAAAAAAAAAAAAAAAAAAAAAAA";
        let asks: Vec<(String, Option<Value>)> = (0..48)
            .map(|i| match i % 3 {
                0 => (ann["code"].as_str().unwrap().to_owned(), Some(ann["number"].clone())),
                1 => (bob["code"].as_str().unwrap().to_owned(), Some(bob["number"].clone())),
                _ => (unknown.to_owned(), None),
            })
            .collect();
        std::thread::scope(|scope| {
            let app = &app;
            let handles: Vec<_> = asks
                .iter()
                .map(|(code, number)| {
                    scope.spawn(move || {
                        let r = app.get(&verification_path(code), None);
                        match number {
                            Some(number) => {
                                r.assert_status(200);
                                assert_eq!(&r.body["number"], number, "{code}");
                            }
                            None => {
                                r.assert_problem(404, "not_found");
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        });
    }
}
