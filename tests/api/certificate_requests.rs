//! Certificate requests over HTTP (CRT-5, CRT-6) and forgery reports (CRT-7):
//! reissue with a card supersedes the old certificate at once and charges the
//! card fee, a change of name or employer is noticed publicly with the name
//! masked, a cancellation revokes and is noticed, rejection and withdrawal
//! charge nothing, one open request per certificate, organisation isolation,
//! the holder filing for their own certificate, and forgeries listed in the
//! public misconduct register.

use guild_tests::{Resp, TestApp, USER_PASSWORD, backend_tests, valid_id_number};
use serde_json::{Value, json};

use crate::certificates::{ANN, Graduates, issued};
use crate::classes::shanghai;

/// The default card fee (`GUILD_CARD_FEE_FEN`): 20 yuan.
const CARD_FEE: i64 = 2000;

/// A certificate request fixture for "org A" (`acme`): the graduates, their
/// two certificates (Ann's, Bob's) and a `submitted` reissue of Ann's filed
/// by acme's reviewer, with a physical card.
pub fn filed_reissue(app: &TestApp, code: &str) -> (Graduates, Vec<Value>, String) {
    let (g, certs) = issued(app, code);
    let r = file(
        app,
        &g.c.s.org.reviewer,
        json!({"certificate_id": certs[0]["id"], "kind": "reissue", "reason": "The card was lost", "physical_card": true}),
    );
    r.assert_status(201);
    let id = r.id();
    (g, certs, id)
}

/// A forgery report fixture (shared by every organisation: staff only).
pub fn forgery_report(app: &TestApp, token: &str, organisation: &str) -> String {
    let r = app.post(
        "/api/v1/forgery-reports",
        Some(token),
        json!({"organisation_id": organisation, "description": "Presented fake certificates at a tender",
               "evidence_reference": "Tender file 2026-17"}),
    );
    r.assert_status(201);
    r.id()
}

pub fn file(app: &TestApp, token: &str, body: Value) -> Resp {
    app.post("/api/v1/certificate-requests", Some(token), body)
}

pub fn act(app: &TestApp, token: &str, id: &str, action: &str) -> Resp {
    let body = if action == "reject" {
        json!({"reason": "The certificate is not lost: it was seen at the site last week"})
    } else {
        json!({})
    };
    app.post(
        &format!("/api/v1/certificate-requests/{id}/{action}"),
        Some(token),
        body,
    )
}

fn cert(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/certificates/{id}"), Some(token));
    r.assert_status(200);
    r.body.clone()
}

/// What anyone verifying `code` is told (CRT-2).
fn verified(app: &TestApp, code: &Value) -> String {
    let r = app.get(
        &format!("/api/v1/public/certificates/{}", code.as_str().unwrap()),
        None,
    );
    r.assert_status(200);
    r.body["status"].as_str().unwrap().to_owned()
}

/// The card fee charges of an enrolment's ledger.
fn card_fees(app: &TestApp, token: &str, enrolment: &str) -> Vec<Value> {
    let r = app.get(
        &format!("/api/v1/enrolments/{enrolment}/ledger"),
        Some(token),
    );
    r.assert_status(200);
    r.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["item"] == "card_fee")
        .cloned()
        .collect()
}

fn notices(app: &TestApp, kind: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/public/notices?kind={kind}"), None);
    r.assert_status(200);
    r.body["items"].as_array().unwrap().clone()
}

/// Asserts a 422 validation problem naming `field` with `code`.
#[track_caller]
fn assert_field(r: &Resp, field: &str, code: &str) {
    r.assert_problem(422, "validation_failed");
    let errors = r.body["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "{:#}",
        r.body
    );
}

#[track_caller]
fn assert_transition(r: &Resp, allowed: &[&str]) {
    r.assert_problem(409, "invalid_transition");
    assert_eq!(r.body["allowed_actions"], json!(allowed), "{:#}", r.body);
}

backend_tests! {
    // rule CRT-5: a reissue with a card gives a new number and QR code, the old
    // code answers `superseded` at once, the card fee goes to the ledger
    fn a_reissue_supersedes_the_old_certificate_at_once(app: TestApp) {
        let (g, certs, id) = filed_reissue(&app, "CRQ-RE");
        let s = &g.c.s;
        let old = &certs[0];
        let r = app.get(&format!("/api/v1/certificate-requests/{id}"), Some(&s.org.reviewer));
        r.assert_status(200);
        assert_eq!(r.header("etag"), "\"1\"");
        let req = &r.body;
        assert_eq!(req["status"], "submitted");
        assert_eq!(req["kind"], "reissue");
        assert_eq!(req["certificate_number"], old["number"]);
        assert_eq!(req["holder_name"], "Zhang Anna");
        assert_eq!(req["physical_card"], true);
        assert_eq!(req["card_fee_fen"], CARD_FEE);
        assert_eq!(req["organisation_id"], json!(s.org.id));
        assert_eq!(req["allowed_actions"], json!(["approve", "reject", "withdraw"]));
        // rule CRT-5: one open request per certificate
        file(&app, &s.org.reviewer, json!({"certificate_id": old["id"], "kind": "cancellation", "reason": "again"}))
            .assert_rule(409, "request_open", "CRT-5");
        // nothing is charged while the request waits
        assert!(card_fees(&app, &s.officer, &g.ann.1).is_empty());
        assert_eq!(verified(&app, &old["code"]), "valid");

        let r = act(&app, &s.officer, &id, "approve");
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["allowed_actions"], json!([]));
        assert!(r.body["decided_by"].is_string());
        let new_id = r.body["new_certificate_id"].as_str().unwrap().to_owned();
        // the old code answers superseded immediately, the new one valid
        assert_eq!(verified(&app, &old["code"]), "superseded");
        let new = cert(&app, &s.org.reviewer, &new_id);
        assert_ne!(new["number"], old["number"]);
        assert_ne!(new["code"], old["code"]);
        assert_eq!(verified(&app, &new["code"]), "valid");
        assert_eq!(new["status"], "valid");
        assert_eq!(new["replaces_id"], old["id"]);
        assert_eq!(new["holder_name"], "Zhang Anna");
        assert_eq!(new["issued_on"], "2026-04-10");
        // the validity period is kept
        assert_eq!(new["valid_until"], old["valid_until"]);
        assert_eq!(new["period_started_on"], old["period_started_on"]);
        assert_eq!(new["enrolment_id"], json!(g.ann.1));
        let was = cert(&app, &s.officer, old["id"].as_str().unwrap());
        assert_eq!(was["status"], "superseded");
        assert_eq!(was["record_status"], "superseded");
        assert_eq!(was["superseded_by_id"], json!(new_id));
        assert!(was["ended_at"].is_string());
        // the card fee is charged to Ann's enrolment
        let fees = card_fees(&app, &s.officer, &g.ann.1);
        assert_eq!(fees.len(), 1, "{fees:?}");
        assert_eq!(fees[0]["kind"], "charge");
        assert_eq!(fees[0]["amount_fen"], CARD_FEE);
        // rule ENR-3: finance records the card fee's payment on the paid
        // enrolment, which stays as it was; nothing more can be paid
        let before = app.get(&format!("/api/v1/enrolments/{}", g.ann.1), Some(&s.officer));
        let r = crate::enrolments::pay(&app, &s.finance, &g.ann.1, CARD_FEE);
        r.assert_status(201);
        assert_eq!(r.body["balance"]["due"], 0, "{:#}", r.body);
        let after = app.get(&format!("/api/v1/enrolments/{}", g.ann.1), Some(&s.officer));
        assert_eq!(after.body["status"], before.body["status"]);
        crate::enrolments::pay(&app, &s.finance, &g.ann.1, 1).assert_problem(409, "invalid_transition");
        // a reissue is not a public notice (CRT-6 lists changes and cancellations)
        assert!(notices(&app, "certificate_change").is_empty());
        assert!(notices(&app, "certificate_cancellation").is_empty());
        // decided: no second decision
        assert_transition(&act(&app, &s.head, &id, "approve"), &[]);
        assert_transition(&act(&app, &s.org.reviewer, &id, "withdraw"), &[]);
        // the superseded certificate cannot be asked for again; the new one can
        file(&app, &s.org.reviewer, json!({"certificate_id": old["id"], "kind": "reissue", "reason": "lost again"}))
            .assert_rule(422, "certificate_not_active", "CRT-5");
        file(&app, &s.org.reviewer, json!({"certificate_id": new_id, "kind": "reissue", "reason": "lost again"}))
            .assert_status(201);
        // the filer hears of it
        let inbox = app.list_all("/api/v1/notifications", &s.org.reviewer);
        assert!(inbox.iter().any(|n| n["kind"] == "certificate_request_approved" && n["entity_id"] == json!(id)), "{inbox:?}");
        // rule API-6: audited
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={id}"), &s.admin);
        let actions: Vec<&str> = audit.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"certificate_request.file") && actions.contains(&"certificate_request.approve"), "{actions:?}");
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={}", old["id"].as_str().unwrap()), &s.admin);
        assert!(audit.iter().any(|e| e["action"] == "certificate.supersede"), "{audit:?}");
        // rule API-8: every change of the approval wrote its outbox row
        let events = app.outbox("certificate_request", &id);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["certificate_request.filed", "certificate_request.approved"], "{events:?}");
        assert_eq!(events[1].organisation_id.as_deref(), Some(s.org.id.as_str()));
        let events = app.outbox("certificate", old["id"].as_str().unwrap());
        assert!(events.iter().any(|e| e.kind == "certificate.superseded" && !e.payload.contains(old["code"].as_str().unwrap())), "{events:?}");
        assert_eq!(app.outbox("certificate", &new_id)[0].kind, "certificate.reissued");
        assert!(app.outbox("enrolment", &g.ann.1).iter().any(|e| e.kind == "enrolment.card_fee_charged"));
    }

    // rule CRT-5, CRT-6: the holder files a change of name; approval issues a
    // certificate in the new name and a public notice with the names masked
    fn a_change_of_name_is_noticed_with_the_name_masked(app: TestApp) {
        let (g, certs) = issued(&app, "CRQ-CH");
        let s = &g.c.s;
        let ann = app.login(ANN, USER_PASSWORD);
        let old = &certs[0];
        // a change names something new
        assert_field(&file(&app, &ann, json!({"certificate_id": old["id"], "kind": "change", "reason": "Married"})), "new_holder_name", "nothing_to_change");
        assert_field(&file(&app, &ann, json!({"certificate_id": old["id"], "kind": "change", "reason": "Married", "new_holder_name": "Zhang Anna"})), "new_holder_name", "nothing_to_change");
        // the trainee files for their own certificate only
        file(&app, &ann, json!({"certificate_id": certs[1]["id"], "kind": "reissue", "reason": "x"}))
            .assert_problem(404, "not_found");
        let r = file(&app, &ann, json!({"certificate_id": old["id"], "kind": "change", "reason": "Name changed on marriage", "new_holder_name": "Zhang Annie"}));
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.body["card_fee_fen"], 0);
        assert_eq!(r.body["new_holder_name"], "Zhang Annie");
        // the organisation sees its employee's request
        let listed = app.list_all("/api/v1/certificate-requests?kind=change", &s.org.reviewer);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(id));
        assert_eq!(app.list_all("/api/v1/certificate-requests", &ann).len(), 1);

        let r = act(&app, &s.head, &id, "approve");
        r.assert_status(200);
        let new = cert(&app, &ann, r.body["new_certificate_id"].as_str().unwrap());
        assert_eq!(new["holder_name"], "Zhang Annie");
        assert_eq!(new["organisation_id"], json!(s.org.id));
        assert_eq!(verified(&app, &old["code"]), "superseded");
        assert_eq!(verified(&app, &new["code"]), "valid");
        // no card, no fee
        assert!(card_fees(&app, &s.officer, &g.ann.1).is_empty());
        // rule CRT-6: the public notice names the number and the masked names
        let list = notices(&app, "certificate_change");
        assert_eq!(list.len(), 1, "{list:?}");
        let text = format!("{} {}", list[0]["title"], list[0]["body"]);
        assert!(text.contains(old["number"].as_str().unwrap()), "{text}");
        assert!(text.contains(new["number"].as_str().unwrap()), "{text}");
        assert!(text.contains("Z**** A***") && text.contains("Z**** A****"), "{text}");
        assert!(!text.contains("Zhang") && !text.contains(&valid_id_number(1)), "{text}");
        // the holder hears of it
        let inbox = app.list_all("/api/v1/notifications", &ann);
        assert!(inbox.iter().any(|n| n["kind"] == "certificate_request_approved"), "{inbox:?}");

        // rule CRT-5: a change of employer moves the certificate to an approved organisation
        let pending = app.create_pending_org(&s.admin, "Pending Gas Co");
        let bob = &certs[1];
        file(&app, &s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "change", "reason": "Moved", "new_organisation_id": pending}))
            .assert_rule(422, "organisation_not_approved", "CRT-5");
        assert_field(&file(&app, &s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "change", "reason": "Moved", "new_organisation_id": s.org.id})), "new_organisation_id", "nothing_to_change");
        assert_field(&file(&app, &s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "change", "reason": "Moved", "new_organisation_id": uuid_like()})), "new_organisation_id", "unknown_organisation");
        let beta = app.create_org(&s.admin, "Beta Gas Co");
        let r = file(&app, &s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "change", "reason": "Moved to Beta", "new_organisation_id": beta, "physical_card": true}));
        r.assert_status(201);
        let r = act(&app, &s.officer, &r.id(), "approve");
        r.assert_status(200);
        let moved = cert(&app, &s.officer, r.body["new_certificate_id"].as_str().unwrap());
        assert_eq!(moved["organisation_id"], json!(beta));
        assert_eq!(moved["holder_name"], "Li Bo");
        assert_eq!(card_fees(&app, &s.officer, &g.bob.1).len(), 1);
        let list = notices(&app, "certificate_change");
        assert_eq!(list.len(), 2);
        assert!(list[1]["body"].as_str().unwrap().contains("Beta Gas Co"), "{:?}", list[1]);
        assert!(!list[1]["body"].as_str().unwrap().contains("Li Bo"), "{:?}", list[1]);
    }

    // rule CRT-5, CRT-6: a cancellation revokes at once and is noticed; a
    // lapsed certificate can be cancelled but not reissued
    fn a_cancellation_revokes_and_is_noticed(app: TestApp) {
        let (mut g, certs) = issued(&app, "CRQ-CA");
        let bob = &certs[1];
        assert_field(&file(&app, &g.c.s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "cancellation", "reason": "Left the trade", "physical_card": true})), "physical_card", "card_not_for_cancellation");
        assert_field(&file(&app, &g.c.s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "cancellation", "reason": "Left the trade", "new_holder_name": "Li Bob"})), "new_holder_name", "only_for_change");
        let r = file(&app, &g.c.s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "cancellation", "reason": "Left the trade"}));
        r.assert_status(201);
        let r = act(&app, &g.c.s.officer, &r.id(), "approve");
        r.assert_status(200);
        assert_eq!(r.body["new_certificate_id"], Value::Null);
        assert_eq!(verified(&app, &bob["code"]), "revoked");
        assert_eq!(cert(&app, &g.c.s.officer, bob["id"].as_str().unwrap())["record_status"], "revoked");
        let list = notices(&app, "certificate_cancellation");
        assert_eq!(list.len(), 1);
        let text = format!("{} {}", list[0]["title"], list[0]["body"]);
        assert!(text.contains(bob["number"].as_str().unwrap()) && text.contains("L* B*"), "{text}");
        assert!(!text.contains("Li Bo"), "{text}");
        file(&app, &g.c.s.org.reviewer, json!({"certificate_id": bob["id"], "kind": "reissue", "reason": "x"}))
            .assert_rule(422, "certificate_not_active", "CRT-5");

        // rule CRT-5 with CRT-4: Ann's certificate lapses without CE (valid until
        // 2029-04-09, 90 days of grace): void, so no reissue, but cancellation is fine
        g.c.at(&app, shanghai(2029, 8, 1, 9, 0));
        let ann = &certs[0];
        assert_eq!(verified(&app, &ann["code"]), "lapsed");
        file(&app, &g.c.s.org.reviewer, json!({"certificate_id": ann["id"], "kind": "reissue", "reason": "lost"}))
            .assert_rule(422, "certificate_lapsed", "CRT-5");
        let r = file(&app, &g.c.s.org.reviewer, json!({"certificate_id": ann["id"], "kind": "cancellation", "reason": "void anyway"}));
        r.assert_status(201);
        act(&app, &g.c.s.head, &r.id(), "approve").assert_status(200);
        assert_eq!(verified(&app, &ann["code"]), "revoked");
    }

    // rule CRT-5, API-4: rejection and withdrawal close a request with nothing
    // charged; only the decider decides, only the filer's side withdraws
    fn reject_and_withdraw_charge_nothing(app: TestApp) {
        let (g, certs, id) = filed_reissue(&app, "CRQ-RJ");
        let s = &g.c.s;
        let ann = app.login(ANN, USER_PASSWORD);
        // role refusals
        act(&app, &s.finance, &id, "approve").assert_problem(403, "forbidden");
        act(&app, &s.org.reviewer, &id, "approve").assert_problem(403, "forbidden");
        act(&app, &s.admin, &id, "reject").assert_problem(403, "forbidden");
        act(&app, &s.officer, &id, "withdraw").assert_problem(403, "forbidden");
        // the holder did not file it and is not the organisation
        act(&app, &ann, &id, "withdraw").assert_problem(403, "forbidden");
        app.post(&format!("/api/v1/certificate-requests/{id}/reject"), Some(&s.officer), json!({"reason": "  "}))
            .assert_problem(422, "validation_failed");
        let r = act(&app, &s.officer, &id, "reject");
        r.assert_status(200);
        assert_eq!(r.body["status"], "rejected");
        assert!(r.body["decision_reason"].as_str().unwrap().contains("not lost"));
        assert_transition(&act(&app, &s.officer, &id, "approve"), &[]);
        assert_eq!(verified(&app, &certs[0]["code"]), "valid");
        assert!(card_fees(&app, &s.officer, &g.ann.1).is_empty());
        let inbox = app.list_all("/api/v1/notifications", &s.org.reviewer);
        assert!(inbox.iter().any(|n| n["kind"] == "certificate_request_rejected"), "{inbox:?}");

        // a closed request frees the certificate for a new one; the holder withdraws their own
        let r = file(&app, &ann, json!({"certificate_id": certs[0]["id"], "kind": "reissue", "reason": "Lost it", "physical_card": true}));
        r.assert_status(201);
        let mine = r.id();
        let r = act(&app, &ann, &mine, "withdraw");
        r.assert_status(200);
        assert_eq!(r.body["status"], "withdrawn");
        assert_transition(&act(&app, &s.officer, &mine, "approve"), &[]);
        // and the organisation's reviewer withdraws the organisation's request
        let r = file(&app, &ann, json!({"certificate_id": certs[0]["id"], "kind": "reissue", "reason": "Lost it"}));
        r.assert_status(201);
        act(&app, &s.org.reviewer, &r.id(), "withdraw").assert_status(200);
        assert!(card_fees(&app, &s.officer, &g.ann.1).is_empty());
        assert_eq!(verified(&app, &certs[0]["code"]), "valid");
        // filters
        assert_eq!(app.list_all("/api/v1/certificate-requests?status=withdrawn", &s.officer).len(), 2);
        assert_eq!(app.list_all("/api/v1/certificate-requests?status=rejected", &s.officer).len(), 1);
        let by_cert = app.list_all(&format!("/api/v1/certificate-requests?certificate_id={}", certs[1]["id"].as_str().unwrap()), &s.officer);
        assert!(by_cert.is_empty());
    }

    // rule ACC-2, CRT-5: another organisation's certificates and requests are
    // 404; the organisation's filler and association staff do not file
    fn other_organisations_and_roles_are_refused(app: TestApp) {
        let (g, certs, id) = filed_reissue(&app, "CRQ-ISO");
        let s = &g.c.s;
        let beta = app.org_with_accounts(&s.admin, "beta");
        file(&app, &beta.reviewer, json!({"certificate_id": certs[0]["id"], "kind": "reissue", "reason": "x"}))
            .assert_problem(404, "not_found");
        app.get(&format!("/api/v1/certificate-requests/{id}"), Some(&beta.reviewer)).assert_problem(404, "not_found");
        act(&app, &beta.reviewer, &id, "withdraw").assert_problem(404, "not_found");
        assert!(app.list_all("/api/v1/certificate-requests", &beta.filler).is_empty());
        // the filler sees the organisation's requests but does not file (SPEC §1: the reviewer does)
        assert_eq!(app.list_all("/api/v1/certificate-requests", &s.org.filler).len(), 1);
        file(&app, &s.org.filler, json!({"certificate_id": certs[1]["id"], "kind": "reissue", "reason": "x"}))
            .assert_problem(403, "forbidden");
        file(&app, &s.officer, json!({"certificate_id": certs[1]["id"], "kind": "reissue", "reason": "x"}))
            .assert_problem(403, "forbidden");
        file(&app, &s.org.reviewer, json!({"certificate_id": uuid_like(), "kind": "reissue", "reason": "x"}))
            .assert_problem(404, "not_found");
        file(&app, &s.org.reviewer, json!({"certificate_id": certs[1]["id"], "kind": "renew", "reason": "x"}))
            .assert_problem(422, "invalid_body");
        app.get("/api/v1/certificate-requests", None).assert_problem(401, "unauthenticated");
        app.get(&format!("/api/v1/certificate-requests/{}", uuid_like()), Some(&s.officer)).assert_problem(404, "not_found");
        // forgery reports are the association's
        app.post("/api/v1/forgery-reports", Some(&s.org.reviewer), json!({"organisation_id": beta.id, "description": "x", "evidence_reference": "y"}))
            .assert_problem(403, "forbidden");
        app.get("/api/v1/forgery-reports", Some(&s.org.reviewer)).assert_problem(403, "forbidden");
        app.post("/api/v1/forgery-reports", Some(&s.finance), json!({"organisation_id": beta.id, "description": "x", "evidence_reference": "y"}))
            .assert_problem(403, "forbidden");
    }

    // rule CRT-7: a forgery report lists the person and/or organisation in the
    // public misconduct register, the person's name masked
    fn forgeries_are_listed_in_the_misconduct_register(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let beta = app.org_with_accounts(&admin, "beta");
        let r = app.create_person(&beta.filler, "Wang Xiaoming", &valid_id_number(7), None);
        r.assert_status(201);
        let person = r.id();
        // a subject is required, and must exist
        assert_field(&app.post("/api/v1/forgery-reports", Some(&officer), json!({"description": "x", "evidence_reference": "y"})), "person_id", "forgery_subject_required");
        assert_field(&app.post("/api/v1/forgery-reports", Some(&officer), json!({"person_id": uuid_like(), "description": "x", "evidence_reference": "y"})), "person_id", "unknown_person");
        assert_field(&app.post("/api/v1/forgery-reports", Some(&officer), json!({"person_id": person, "description": " ", "evidence_reference": "y"})), "description", "required");
        let r = app.post(
            "/api/v1/forgery-reports",
            Some(&officer),
            json!({"person_id": person, "claimed_number": "GA2025009999",
                   "description": "Showed a certificate the association never issued at a site inspection",
                   "evidence_reference": "Inspection report 2026-041, photos 1-3"}),
        );
        r.assert_status(201);
        let report = r.id();
        assert_eq!(r.body["person_name"], "Wang Xiaoming");
        // API-8: the report is one event, kept out of any organisation's view
        let events = app.outbox("forgery_report", &report);
        assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["forgery_report.created"]);
        assert_eq!(events[0].organisation_id, None);
        let org_report = forgery_report(&app, &admin, &beta.id);

        let r = app.get("/api/v1/public/misconduct?offence=certificate_forgery", None);
        r.assert_status(200);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{:#}", r.body);
        // newest first: the organisation's, then the person's
        assert_eq!(items[0]["subject"], "organisation");
        assert_eq!(items[0]["organisation_name"], "Organisation beta");
        assert_eq!(items[0]["person_name"], Value::Null);
        assert_eq!(items[1]["subject"], "person");
        assert_eq!(items[1]["person_name"], "W*** X*******");
        assert_eq!(items[1]["organisation_name"], Value::Null);
        assert_eq!(items[1]["offence"], "certificate_forgery");
        assert_eq!(items[1]["status"], "listed");
        assert_eq!(items[1]["starts_on"], "2026-03-02");
        assert!(items[1]["sanction_summary"].as_str().unwrap().contains("GA2025009999"));
        let public = r.body.to_string();
        assert!(!public.contains("Wang") && !public.contains(&valid_id_number(7)), "{public}");

        let r = app.get(&format!("/api/v1/forgery-reports/{report}"), Some(&admin));
        r.assert_status(200);
        assert_eq!(r.body["claimed_number"], "GA2025009999");
        assert_eq!(r.body["misconduct_entry_id"], items[1]["id"]);
        let all = app.list_all("/api/v1/forgery-reports", &officer);
        assert_eq!(all.len(), 2);
        let about_beta = app.list_all(&format!("/api/v1/forgery-reports?organisation_id={}", beta.id), &officer);
        assert_eq!(about_beta.len(), 1);
        assert_eq!(about_beta[0]["id"], json!(org_report));
        // rule API-6
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={report}"), &admin);
        assert!(audit.iter().any(|e| e["action"] == "forgery_report.create"), "{audit:?}");
    }
}

fn uuid_like() -> &'static str {
    "0193a5f0-6a2b-7c8d-9e0f-112233445566"
}
