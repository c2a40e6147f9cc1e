//! Refunds over HTTP (REF-1 to REF-4): the personal refund after an in-time
//! deferral and its one-year window at the edges in Asia/Shanghai, the
//! training-fee-only amount, the four-step approval with each wrong role
//! (403) and each wrong order (409), the refunds of a cancelled class, the
//! ledger after payment, tenant isolation, and concurrent requests and
//! payments that can never both succeed.

use guild_tests::{Racer, Resp, TestApp, at_once, backend_tests};
use serde_json::{Value, json};

use crate::classes::{action, shanghai};
use crate::deferrals::{FEE, at, class_on, decide, file, no_show, transfer};
use crate::enrolments::{
    EXAM_FEE, Setup, TRAINING_FEE, act, org_person, paid_enrolment, setup, trainee_account,
};

/// `POST /refunds` for `enrolment`.
fn request(app: &TestApp, token: &str, enrolment: &str) -> Resp {
    app.post(
        "/api/v1/refunds",
        Some(token),
        json!({"enrolment_id": enrolment, "reason": "the trainee left the company"}),
    )
}

/// `POST /refunds/{id}/{action}` with the body the action needs.
fn step(app: &TestApp, token: &str, refund: &str, action: &str) -> Resp {
    let body = match action {
        "reject" => json!({"reason": "the letter is not stamped"}),
        "pay" => json!({"payment_reference": "BOC-2026-0001"}),
        _ => json!({}),
    };
    app.post(
        &format!("/api/v1/refunds/{refund}/{action}"),
        Some(token),
        body,
    )
}

/// A leader account (the setup has none).
fn leader(app: &TestApp, s: &Setup) -> String {
    app.create_user(&s.admin, "leader", "leader", None)
}

/// A paid enrolment of a new person of the setup's organisation in the setup's class.
fn paid(app: &TestApp, s: &Setup, name: &str, n: u32) -> String {
    paid_enrolment(app, s, &s.class, &org_person(app, &s.org, name, n))
}

/// A paid enrolment with a deferral filed now by the reviewer and approved by
/// the training head (DEF-1); returns (enrolment, deferral).
fn deferred(app: &TestApp, s: &Setup, name: &str, n: u32) -> (String, String) {
    let e = paid(app, s, name, n);
    let d = file(app, &s.org.reviewer, &e);
    d.assert_status(201);
    decide(app, &s.head, &d.id(), "approve").assert_status(200);
    (e, d.id())
}

/// A personal refund of a fresh deferred enrolment; returns (enrolment, refund).
fn submitted(app: &TestApp, s: &Setup, name: &str, n: u32) -> (String, String) {
    let (e, _) = deferred(app, s, name, n);
    let r = request(app, &s.org.reviewer, &e);
    r.assert_status(201);
    (e, r.id())
}

#[track_caller]
fn assert_transition(r: &Resp, allowed: &[&str]) {
    r.assert_problem(409, "invalid_transition");
    assert_eq!(r.body["allowed_actions"], json!(allowed), "{:#}", r.body);
}

fn ledger(app: &TestApp, token: &str, enrolment: &str) -> Value {
    let r = app.get(
        &format!("/api/v1/enrolments/{enrolment}/ledger"),
        Some(token),
    );
    r.assert_status(200);
    r.body
}

/// The `(kind, item, amount)` of the ledger's entries of `kind`.
fn entries_of_kind(ledger: &Value, kind: &str) -> Vec<(String, i64)> {
    ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| {
            (
                e["item"].as_str().unwrap().to_owned(),
                e["amount_fen"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Sends `requests` (url, token, body) at the same instant from separate
/// threads; answers each (status, body) in order.
fn race(requests: Vec<(String, String, Value)>) -> Vec<(u16, Value)> {
    at_once(
        requests
            .into_iter()
            .map(|(url, token, body)| Racer::post(url, token, body))
            .collect(),
    )
}

backend_tests! {
    // rule REF-2: a personal refund needs an approved deferral filed before the
    // class started; without one it is refused citing REF-2
    fn a_refund_without_a_prior_deferral_is_refused_ref_2(app: TestApp) {
        let s = setup(&app);
        let e = paid(&app, &s, "No Deferral", 1);
        request(&app, &s.org.reviewer, &e).assert_rule(422, "refund_requires_deferral", "REF-2");
        // A deferral still waiting for the training head is not enough.
        let d = file(&app, &s.org.reviewer, &e);
        d.assert_status(201);
        request(&app, &s.org.filler, &e).assert_rule(422, "refund_requires_deferral", "REF-2");
        // A rejected one neither.
        decide(&app, &s.head, &d.id(), "reject").assert_status(200);
        request(&app, &s.org.filler, &e).assert_rule(422, "refund_requires_deferral", "REF-2");
        // Approved: the payer gets the training fee only, never the exam fee.
        let (e2, d2) = deferred(&app, &s, "Deferred", 2);
        let r = request(&app, &s.org.filler, &e2);
        r.assert_status(201);
        assert_eq!(r.body["kind"], "personal");
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["amount_fen"], TRAINING_FEE);
        assert_eq!(r.body["deferral_id"], json!(d2));
        assert_eq!(r.body["requested_by"], json!(s.org.filler_id));
        assert_eq!(r.body["organisation_id"], json!(s.org.id));
        assert_eq!(r.body["allowed_actions"], json!(["confirm_training", "reject"]));
        assert_eq!(r.header("location"), format!("/api/v1/refunds/{}", r.id()));
        // REF-4: one live refund per enrolment.
        request(&app, &s.org.reviewer, &e2).assert_rule(409, "refund_in_progress", "REF-4");
        // The body is checked.
        let r = app.post("/api/v1/refunds", Some(&s.org.reviewer), json!({"enrolment_id": e2, "reason": " "}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["reason"]);
        let r = app.post("/api/v1/refunds", Some(&s.org.reviewer), json!({"enrolment_id": e2, "reason": "x", "kind": "class_cancelled"}));
        r.assert_problem(422, "validation_failed");
    }

    // rules REF-2, REF-3, ACC-2: the payer requests: its own organisation's
    // enrolment, or the individual trainee's own; nobody else
    fn only_the_payer_requests_a_personal_refund_ref_2(app: TestApp) {
        let s = setup(&app);
        let other = app.org_with_accounts(&s.admin, "other");
        let person = org_person(&app, &s.org, "Org Trainee", 3);
        let (_, own_trainee) = trainee_account(&app, &s.admin, "org.trainee", &person);
        let e = paid_enrolment(&app, &s, &s.class, &person);
        let d = file(&app, &s.org.reviewer, &e).id();
        decide(&app, &s.head, &d, "approve").assert_status(200);
        request(&app, &other.reviewer, &e).assert_problem(404, "not_found");
        request(&app, &own_trainee, &e).assert_problem(403, "forbidden");
        for token in [&s.officer, &s.head, &s.finance, &s.admin] {
            request(&app, token, &e).assert_problem(403, "forbidden");
        }
        request(&app, &s.org.reviewer, &uuid::Uuid::new_v4().to_string()).assert_problem(404, "not_found");

        // An individual asks for their own money back.
        let solo = app.create_person(&s.admin, "Solo", &guild_tests::valid_id_number(4), None).id();
        let (_, solo_token) = trainee_account(&app, &s.admin, "solo", &solo);
        let mine = crate::enrolments::enrol(&app, &solo_token, &s.class, &solo, true).id();
        act(&app, &s.officer, &mine, "confirm").assert_status(200);
        crate::enrolments::pay(&app, &s.finance, &mine, FEE).assert_status(201);
        let d = file(&app, &solo_token, &mine).id();
        decide(&app, &s.head, &d, "approve").assert_status(200);
        request(&app, &s.org.reviewer, &mine).assert_problem(404, "not_found");
        let r = request(&app, &solo_token, &mine);
        r.assert_status(201);
        assert_eq!(r.body["organisation_id"], Value::Null);
        assert_eq!(r.body["amount_fen"], TRAINING_FEE);
    }

    // rule REF-2: within one year of the deferral, up to and including the same
    // calendar date a year later in Asia/Shanghai: 365 days later accepted,
    // 366 days later refused
    fn a_refund_366_days_after_the_deferral_is_refused_ref_2(app: TestApp) {
        let mut s = setup(&app);
        // Both deferrals are filed on 2026-03-02 (the clock's start, 09:00 in Shanghai).
        let (on_time, _) = deferred(&app, &s, "On Time", 5);
        let (late, _) = deferred(&app, &s, "Late", 6);
        // 2027-03-02 23:59 is 365 days after the filing date: the last day.
        at(&app, &mut s, shanghai(2027, 3, 2, 23, 59));
        let r = request(&app, &s.org.reviewer, &on_time);
        r.assert_status(201);
        assert_eq!(r.body["amount_fen"], TRAINING_FEE);
        // 2027-03-03 00:00 is the 366th day: too late.
        at(&app, &mut s, shanghai(2027, 3, 3, 0, 0));
        let r = request(&app, &s.org.reviewer, &late);
        r.assert_rule(422, "refund_too_late", "REF-2");
        assert!(r.body["detail"].as_str().unwrap().contains("2027-03-02"), "{:#}", r.body);
    }

    // rule REF-3: submitted → training_confirmed → finance_confirmed →
    // leader_approved → paid; each wrong role 403, each wrong order 409; every
    // step records who and when and is audited; payment writes the ledger
    fn the_four_step_approval_ref_3(app: TestApp) {
        let s = setup(&app);
        let leader = leader(&app, &s);
        let (e, id) = submitted(&app, &s, "Four Steps", 7);
        let steps = ["confirm-training", "confirm-finance", "approve", "pay"];
        // (status before the step, the step, its roles, the other staff)
        let plan: [(&str, &str, Vec<&String>, Vec<&String>); 4] = [
            ("submitted", "confirm-training", vec![&s.officer, &s.head], vec![&s.finance, &leader, &s.admin, &s.org.reviewer]),
            ("training_confirmed", "confirm-finance", vec![&s.finance], vec![&s.officer, &s.head, &leader, &s.admin, &s.org.reviewer]),
            ("finance_confirmed", "approve", vec![&leader], vec![&s.officer, &s.head, &s.finance, &s.admin, &s.org.reviewer]),
            ("leader_approved", "pay", vec![&s.finance], vec![&s.officer, &s.head, &leader, &s.admin, &s.org.reviewer]),
        ];
        let wire = |a: &str| a.replace('-', "_");
        for (n, (status, this, roles, others)) in plan.iter().enumerate() {
            // Each wrong role: 403.
            for token in others {
                step(&app, token, &id, this).assert_problem(403, "forbidden");
            }
            // Each wrong order: 409 with the allowed actions (by a role that may take that step).
            for other in steps.iter().filter(|a| *a != this) {
                let token = match *other {
                    "confirm-training" => &s.officer,
                    "approve" => &leader,
                    _ => &s.finance,
                };
                assert_transition(&step(&app, token, &id, other), &[&wire(this), "reject"]);
            }
            let current = app.get(&format!("/api/v1/refunds/{id}"), Some(&s.finance));
            assert_eq!(current.body["status"], *status);
            let r = step(&app, roles[n % roles.len()], &id, this);
            r.assert_status(200);
            assert_eq!(r.body["version"], n as i64 + 2);
        }
        let r = app.get(&format!("/api/v1/refunds/{id}"), Some(&s.org.reviewer));
        r.assert_status(200);
        let b = &r.body;
        assert_eq!(b["status"], "paid");
        assert_eq!(b["allowed_actions"], json!([]));
        assert_eq!(b["training_confirmed_by"], json!(app.get("/api/v1/me", Some(&s.officer)).body["id"]));
        assert_eq!(b["finance_confirmed_by"], json!(app.get("/api/v1/me", Some(&s.finance)).body["id"]));
        assert_eq!(b["leader_approved_by"], json!(app.get("/api/v1/me", Some(&leader)).body["id"]));
        assert_eq!(b["paid_by"], b["finance_confirmed_by"]);
        assert_eq!(b["payment_reference"], "BOC-2026-0001");
        for k in ["training_confirmed_at", "finance_confirmed_at", "leader_approved_at", "paid_at"] {
            assert!(b[k].is_string(), "{k}: {b:#}");
        }
        // A paid refund is final.
        for (a, token) in [("reject", &s.finance), ("pay", &s.finance), ("approve", &leader)] {
            assert_transition(&step(&app, token, &id, a), &[]);
        }
        // The ledger shows the refund of the training fee with its reference;
        // nothing is owed and the exam fee stays held.
        let l = ledger(&app, &s.org.reviewer, &e);
        assert_eq!(entries_of_kind(&l, "refund"), [("training_fee".to_owned(), TRAINING_FEE)]);
        assert_eq!(entries_of_kind(&l, "charge_reversal"), [("training_fee".to_owned(), TRAINING_FEE)]);
        let refund_entry = l["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "refund").unwrap();
        assert_eq!(refund_entry["reference"], "BOC-2026-0001");
        assert_eq!(l["balance"]["refunded"], TRAINING_FEE);
        assert_eq!(l["balance"]["paid"], FEE);
        assert_eq!(l["balance"]["due"], 0);
        assert_eq!(l["status"], "cancelled");
        // Every step is audited with before and after (API-6).
        let audit = app.get(&format!("/api/v1/audit-events?entity_type=refund&entity_id={id}"), Some(&s.admin));
        audit.assert_status(200);
        let actions: Vec<&str> = audit.body["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["refund.request", "refund.confirm_training", "refund.confirm_finance", "refund.approve", "refund.pay"]);
        // The payer hears of the payment.
        let inbox = app.get("/api/v1/notifications", Some(&s.org.filler));
        assert!(inbox.body["items"].as_array().unwrap().iter().any(|n| n["kind"] == "refund_paid" && n["entity_id"] == json!(id)), "{:#}", inbox.body);
        // Payment needs the payment reference.
        let (_, other) = submitted(&app, &s, "No Reference", 8);
        step(&app, &s.officer, &other, "confirm-training").assert_status(200);
        step(&app, &s.finance, &other, "confirm-finance").assert_status(200);
        step(&app, &leader, &other, "approve").assert_status(200);
        let r = app.post(&format!("/api/v1/refunds/{other}/pay"), Some(&s.finance), json!({"payment_reference": " "}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["payment_reference"]);
    }

    // rule REF-3: any step may reject with a reason, by the role whose step is
    // due; the payer is notified; a rejected refund no longer blocks a new one
    fn each_step_rejects_by_its_own_role_ref_3(app: TestApp) {
        let s = setup(&app);
        let leader = leader(&app, &s);
        // (steps to take first, who may reject then, who may not)
        type Case<'a> = (&'a [(&'a str, &'a String)], &'a String, Vec<&'a String>);
        let cases: [Case; 4] = [
            (&[], &s.head, vec![&s.finance, &leader, &s.admin, &s.org.reviewer]),
            (&[("confirm-training", &s.officer)], &s.finance, vec![&s.officer, &s.head, &leader, &s.admin]),
            (&[("confirm-training", &s.officer), ("confirm-finance", &s.finance)], &leader, vec![&s.officer, &s.finance, &s.admin]),
            (&[("confirm-training", &s.officer), ("confirm-finance", &s.finance), ("approve", &leader)], &s.finance, vec![&s.officer, &leader, &s.admin]),
        ];
        for (n, (before, rejecter, not)) in cases.iter().enumerate() {
            let (e, id) = submitted(&app, &s, &format!("Reject {n}"), 10 + n as u32);
            for (a, token) in before.iter() {
                step(&app, token, &id, a).assert_status(200);
            }
            for token in not {
                step(&app, token, &id, "reject").assert_problem(403, "forbidden");
            }
            let r = app.post(&format!("/api/v1/refunds/{id}/reject"), Some(rejecter), json!({}));
            r.assert_problem(422, "validation_failed");
            let r = step(&app, rejecter, &id, "reject");
            r.assert_status(200);
            assert_eq!(r.body["status"], "rejected");
            assert_eq!(r.body["rejection_reason"], "the letter is not stamped");
            assert!(r.body["rejected_by"].is_string() && r.body["rejected_at"].is_string());
            assert_transition(&step(&app, rejecter, &id, "reject"), &[]);
            // Nothing moved in the ledger; the enrolment stays deferred.
            let l = ledger(&app, &s.finance, &e);
            assert!(entries_of_kind(&l, "refund").is_empty());
            assert_eq!(l["status"], "deferred");
            // The payer may ask again.
            request(&app, &s.org.reviewer, &e).assert_status(201);
        }
        let inbox = app.get("/api/v1/notifications", Some(&s.org.reviewer));
        let rejected = inbox.body["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "refund_rejected").count();
        assert_eq!(rejected, 4);
    }

    // rule REF-1: cancelling a class with no later class of the program that
    // year files full refunds (training and exam fee) for every paid enrolment
    // in one action; a later class that year refuses it, naming the class
    fn a_cancelled_class_refunds_every_paid_enrolment_ref_1(app: TestApp) {
        let s = setup(&app);
        let leader = leader(&app, &s);
        let a = paid(&app, &s, "Paid A", 20);
        let b = paid(&app, &s, "Paid B", 21);
        // Partly paid: what was paid comes back.
        let partly = crate::enrolments::approved_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Partly", 22));
        act(&app, &s.officer, &partly, "confirm").assert_status(200);
        crate::enrolments::pay(&app, &s.finance, &partly, 50_000).assert_status(201);
        // Nothing paid: nothing to refund.
        let unpaid = crate::enrolments::approved_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Unpaid", 23));
        let file_refunds = |token: &str| app.post(&format!("/api/v1/classes/{}/refunds", s.class), Some(token), json!({}));

        // The class must be cancelled first.
        file_refunds(&s.officer).assert_rule(409, "class_not_cancelled", "REF-1");
        let later = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-09", "2026-09-01", "2026-09-03", 10);
        class_on(&app, &s.admin, &s.program, "GAS-OPS-2027-01", "2027-01-04", "2027-01-06", 10);
        action(&app, &s.officer, &s.class, "cancel", Some(json!({"reason": "the venue is closed"}))).assert_status(200);
        // A later class of the program this year can take them.
        let r = file_refunds(&s.officer);
        r.assert_rule(422, "later_class_available", "REF-1");
        assert!(r.body["detail"].as_str().unwrap().contains(&later), "{:#}", r.body);
        // Once it is cancelled too (a class next year does not count), the refunds are filed.
        action(&app, &s.officer, &later, "cancel", Some(json!({"reason": "no teacher"}))).assert_status(200);
        for token in [&s.org.reviewer, &s.finance, &leader, &s.admin] {
            file_refunds(token).assert_problem(403, "forbidden");
        }
        let r = file_refunds(&s.head);
        r.assert_status(201);
        let ids: Vec<String> = r.body["refund_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 3, "{:#}", r.body);
        assert_eq!(r.body["skipped"], json!([{"enrolment_id": unpaid, "code": "nothing_to_refund"}]));
        let list = app.get(&format!("/api/v1/refunds?class_id={}&kind=class_cancelled", s.class), Some(&s.finance));
        list.assert_status(200);
        let mut amounts: Vec<(String, i64)> = list.body["items"].as_array().unwrap().iter().map(|r| {
            assert_eq!(r["status"], "submitted");
            assert!(r["reason"].as_str().unwrap().contains("the venue is closed"));
            (r["enrolment_id"].as_str().unwrap().to_owned(), r["amount_fen"].as_i64().unwrap())
        }).collect();
        amounts.sort();
        let mut want = vec![(a.clone(), FEE), (b.clone(), FEE), (partly.clone(), 50_000)];
        want.sort();
        assert_eq!(amounts, want);
        // Filing again files nothing twice (REF-4).
        let again = file_refunds(&s.officer);
        again.assert_status(201);
        assert_eq!(again.body["refund_ids"], json!([]));
        assert_eq!(again.body["skipped"].as_array().unwrap().iter().filter(|x| x["code"] == "refund_in_progress").count(), 3);

        // The same four steps; the training department confirms what it filed.
        let refund_of_a = list.body["items"].as_array().unwrap().iter().find(|r| r["enrolment_id"] == json!(a)).unwrap()["id"].as_str().unwrap().to_owned();
        step(&app, &s.finance, &refund_of_a, "confirm-finance").assert_problem(409, "invalid_transition");
        step(&app, &s.officer, &refund_of_a, "confirm-training").assert_status(200);
        step(&app, &s.finance, &refund_of_a, "confirm-finance").assert_status(200);
        step(&app, &leader, &refund_of_a, "approve").assert_status(200);
        step(&app, &s.finance, &refund_of_a, "pay").assert_status(200);
        // The ledger shows the full refund: training and exam fee; nothing held, nothing owed.
        let l = ledger(&app, &s.org.reviewer, &a);
        assert_eq!(entries_of_kind(&l, "refund"), [("training_fee".to_owned(), TRAINING_FEE), ("exam_fee".to_owned(), EXAM_FEE)]);
        assert_eq!(l["balance"]["refunded"], FEE);
        assert_eq!(l["balance"]["due"], 0);
        assert_eq!(l["balance"]["credit"], 0);
        assert_eq!(l["status"], "cancelled");
        // The partly paid one gets back what was paid.
        let refund_of_partly = list.body["items"].as_array().unwrap().iter().find(|r| r["enrolment_id"] == json!(partly)).unwrap()["id"].as_str().unwrap().to_owned();
        for (a, token) in [("confirm-training", &s.head), ("confirm-finance", &s.finance), ("approve", &leader), ("pay", &s.finance)] {
            step(&app, token, &refund_of_partly, a).assert_status(200);
        }
        let l = ledger(&app, &s.finance, &partly);
        assert_eq!(entries_of_kind(&l, "refund"), [("training_fee".to_owned(), 50_000)]);
        assert_eq!(l["balance"]["due"], 0);
    }

    // rule REF-1: a paid personal refund (REF-2) of the training fee is over,
    // not "in progress"; when the class is then cancelled, the exam fee still
    // held comes back too
    fn a_cancelled_class_refunds_the_exam_fee_a_personal_refund_left_ref_1(app: TestApp) {
        let s = setup(&app);
        let leader = leader(&app, &s);
        let (e, personal) = submitted(&app, &s, "Left Early", 25);
        for (a, token) in [("confirm-training", &s.officer), ("confirm-finance", &s.finance), ("approve", &leader), ("pay", &s.finance)] {
            step(&app, token, &personal, a).assert_status(200);
        }
        action(&app, &s.officer, &s.class, "cancel", Some(json!({"reason": "the venue is closed"}))).assert_status(200);
        let r = app.post(&format!("/api/v1/classes/{}/refunds", s.class), Some(&s.head), json!({}));
        r.assert_status(201);
        assert_eq!(r.body["skipped"], json!([]), "{:#}", r.body);
        let ids = r.body["refund_ids"].as_array().unwrap();
        assert_eq!(ids.len(), 1, "{:#}", r.body);
        let id = ids[0].as_str().unwrap().to_owned();
        let refund = app.get(&format!("/api/v1/refunds/{id}"), Some(&s.finance));
        refund.assert_status(200);
        assert_eq!(refund.body["enrolment_id"], json!(e));
        assert_eq!(refund.body["kind"], "class_cancelled");
        assert_eq!(refund.body["amount_fen"], EXAM_FEE);
        // An open refund still blocks a second one (REF-4).
        let again = app.post(&format!("/api/v1/classes/{}/refunds", s.class), Some(&s.head), json!({}));
        again.assert_status(201);
        assert_eq!(again.body["skipped"], json!([{"enrolment_id": e, "code": "refund_in_progress"}]));
        for (a, token) in [("confirm-training", &s.officer), ("confirm-finance", &s.finance), ("approve", &leader), ("pay", &s.finance)] {
            step(&app, token, &id, a).assert_status(200);
        }
        let l = ledger(&app, &s.finance, &e);
        assert_eq!(entries_of_kind(&l, "refund"), [("training_fee".to_owned(), TRAINING_FEE), ("exam_fee".to_owned(), EXAM_FEE)]);
        assert_eq!(l["balance"]["refunded"], FEE);
        assert_eq!(l["balance"]["due"], 0);
        assert_eq!(l["balance"]["credit"], 0);
        // Nothing is held any more: nothing more is filed.
        let last = app.post(&format!("/api/v1/classes/{}/refunds", s.class), Some(&s.head), json!({}));
        last.assert_status(201);
        assert_eq!(last.body["refund_ids"], json!([]));
    }

    // rules DEF-4, REF-1, REF-2: a no_show never gets a refund, neither on request
    // nor when the class is cancelled afterwards
    fn a_no_show_gets_no_refund_def_4(app: TestApp) {
        let mut s = setup(&app);
        let absent = paid(&app, &s, "Absent", 30);
        let present = paid(&app, &s, "Present", 31);
        crate::deferrals::start_class(&app, &s.class, (2026, 4, 6));
        crate::deferrals::relogin(&app, &mut s);
        no_show(&app, &s.officer, &absent).assert_status(200);
        request(&app, &s.org.reviewer, &absent).assert_rule(422, "no_show_no_refund", "DEF-4");
        action(&app, &s.officer, &s.class, "cancel", Some(json!({"reason": "teacher fell ill"}))).assert_status(200);
        let r = app.post(&format!("/api/v1/classes/{}/refunds", s.class), Some(&s.officer), json!({}));
        r.assert_status(201);
        assert_eq!(r.body["refund_ids"].as_array().unwrap().len(), 1);
        assert_eq!(r.body["skipped"], json!([{"enrolment_id": absent, "code": "no_show_no_refund"}]));
        let list = app.get("/api/v1/refunds", Some(&s.org.reviewer));
        assert_eq!(list.body["items"][0]["enrolment_id"], json!(present));
    }

    // rules REF-2, DEF-2: once the money moved to a later class, nothing is left to
    // refund on the old enrolment
    fn a_transferred_enrolment_has_nothing_to_refund_ref_2(app: TestApp) {
        let s = setup(&app);
        let (e, d) = deferred(&app, &s, "Moved", 40);
        let later = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-09", "2026-09-01", "2026-09-03", 10);
        transfer(&app, &s.org.reviewer, &d, &later).assert_status(200);
        request(&app, &s.org.reviewer, &e).assert_rule(422, "nothing_to_refund", "REF-2");
    }

    // rule ACC-2: refunds of another organisation answer 404 like unknown ids,
    // and lists hold only one's own
    fn refunds_are_isolated_by_organisation_acc_2(app: TestApp) {
        let s = setup(&app);
        let other = app.org_with_accounts(&s.admin, "other");
        let leader = leader(&app, &s);
        let (_, id) = submitted(&app, &s, "Isolated", 50);
        for token in [&other.filler, &other.reviewer] {
            let real = app.get(&format!("/api/v1/refunds/{id}"), Some(token));
            real.assert_problem(404, "not_found");
            let unknown = app.get(&format!("/api/v1/refunds/{}", uuid::Uuid::new_v4()), Some(token));
            unknown.assert_problem(404, "not_found");
            assert_eq!(real.body["detail"], unknown.body["detail"]);
            let list = app.get("/api/v1/refunds", Some(token));
            assert_eq!(list.body["items"], json!([]));
        }
        for token in [&s.org.filler, &s.org.reviewer, &s.officer, &s.finance, &leader, &s.admin] {
            app.get(&format!("/api/v1/refunds/{id}"), Some(token)).assert_status(200);
            let list = app.get("/api/v1/refunds?status=submitted", Some(token));
            assert_eq!(list.body["items"][0]["id"], json!(id), "{:#}", list.body);
        }
        let teacher = app.create_user(&s.admin, "teacher.x", "teacher", None);
        app.get(&format!("/api/v1/refunds/{id}"), Some(&teacher)).assert_problem(403, "forbidden");
        let list = app.get("/api/v1/refunds?status=paid", Some(&s.finance));
        assert_eq!(list.body["items"], json!([]));
        let r = app.get("/api/v1/refunds?status=nope", Some(&s.finance));
        r.assert_status(400);
    }

    // rule REF-4: two requests for one enrolment at the same instant: exactly one 201
    fn concurrent_requests_for_one_enrolment_file_one_refund_ref_4(app: TestApp) {
        let s = setup(&app);
        for round in 0..3u32 {
            let (e, _) = deferred(&app, &s, &format!("Racer {round}"), 60 + round);
            let body = json!({"enrolment_id": e, "reason": "left the company"});
            let url = app.url("/api/v1/refunds");
            let answers = race(vec![
                (url.clone(), s.org.filler.clone(), body.clone()),
                (url, s.org.reviewer.clone(), body),
            ]);
            let mut statuses: Vec<u16> = answers.iter().map(|(st, _)| *st).collect();
            statuses.sort_unstable();
            assert_eq!(statuses, [201, 409], "round {round}: {answers:?}");
            let conflict = &answers.iter().find(|(st, _)| *st == 409).unwrap().1;
            assert_eq!(conflict["code"], "refund_in_progress", "{conflict:#}");
            assert_eq!(conflict["rule"], "REF-4");
            let list = app.get(&format!("/api/v1/refunds?enrolment_id={e}"), Some(&s.finance));
            assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "round {round}");
        }
    }

    // API-5: two training staff taking the same step at the same instant
    // without If-Match: one 200, one 409 with the allowed actions, never a
    // 412 version race (the refund row is locked before it is read)
    fn concurrent_steps_without_if_match_answer_409_not_412(app: TestApp) {
        let s = setup(&app);
        for round in 0..3u32 {
            let (_, id) = submitted(&app, &s, &format!("Stepper {round}"), 70 + round);
            let url = app.url(&format!("/api/v1/refunds/{id}/confirm-training"));
            let answers = race(vec![
                (url.clone(), s.officer.clone(), json!({})),
                (url, s.head.clone(), json!({})),
            ]);
            let mut statuses: Vec<u16> = answers.iter().map(|(st, _)| *st).collect();
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409], "round {round}: {answers:?}");
            let conflict = &answers.iter().find(|(st, _)| *st == 409).unwrap().1;
            assert_eq!(conflict["code"], "invalid_transition", "{conflict:#}");
            let refund = app.get(&format!("/api/v1/refunds/{id}"), Some(&s.finance));
            assert_eq!(refund.body["status"], "training_confirmed");
            assert_eq!(refund.body["version"], 2);
        }
    }

    // rule REF-4: two finance users paying one approved refund at the same
    // instant: exactly one succeeds and the ledger has exactly one refund entry
    fn concurrent_payments_pay_once_ref_4(app: TestApp) {
        let s = setup(&app);
        let leader = leader(&app, &s);
        let finance2 = app.create_user(&s.admin, "finance2", "finance", None);
        for round in 0..3u32 {
            let (e, id) = submitted(&app, &s, &format!("Payee {round}"), 70 + round);
            step(&app, &s.officer, &id, "confirm-training").assert_status(200);
            step(&app, &s.finance, &id, "confirm-finance").assert_status(200);
            step(&app, &leader, &id, "approve").assert_status(200);
            let url = app.url(&format!("/api/v1/refunds/{id}/pay"));
            let answers = race(vec![
                (url.clone(), s.finance.clone(), json!({"payment_reference": "A"})),
                (url, finance2.clone(), json!({"payment_reference": "B"})),
            ]);
            let ok = answers.iter().filter(|(st, _)| *st == 200).count();
            assert_eq!(ok, 1, "round {round}: {answers:?}");
            let other = answers.iter().find(|(st, _)| *st != 200).unwrap();
            assert!(matches!(other.0, 409 | 412), "round {round}: {other:?}");
            let l = ledger(&app, &s.finance, &e);
            assert_eq!(entries_of_kind(&l, "refund"), [("training_fee".to_owned(), TRAINING_FEE)], "round {round}");
            assert_eq!(l["balance"]["refunded"], TRAINING_FEE);
        }
    }
}
