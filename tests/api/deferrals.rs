//! Deferrals over HTTP (DEF-1, DEF-2) and the no-show record (DEF-4): the
//! filing deadline at its edges in Asia/Shanghai, who files and who decides,
//! the seat going to the waiting list, the transfer to a later class with the
//! money moved in the ledger, and `no_show` once the class has started.

use chrono::{DateTime, Utc};
use guild_tests::{Resp, TestApp, USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

use crate::classes::{check_mandatory_items, shanghai};
use crate::enrolments::{
    EXAM_FEE, Setup, TRAINING_FEE, act, approved_enrolment, enrol, org_person, paid_enrolment,
    program, setup, trainee_account,
};

/// The full fee of the default program.
pub const FEE: i64 = TRAINING_FEE + EXAM_FEE;

/// An open class of `program` from `start` to `end` (dates `YYYY-MM-DD`).
#[track_caller]
pub fn class_on(
    app: &TestApp,
    admin: &str,
    program: &str,
    code: &str,
    start: &str,
    end: &str,
    capacity: i32,
) -> String {
    let r = app.post(
        "/api/v1/classes",
        Some(admin),
        json!({
            "program_id": program,
            "code": code,
            "title": format!("Class {code}"),
            "start_date": start,
            "end_date": end,
            "place": "Nanshan training centre",
            "capacity": capacity
        }),
    );
    r.assert_status(201);
    let id = r.id();
    app.post(
        &format!("/api/v1/classes/{id}/open"),
        Some(admin),
        json!({}),
    )
    .assert_status(200);
    id
}

/// `POST /deferrals`.
pub fn file(app: &TestApp, token: &str, enrolment: &str) -> Resp {
    app.post(
        "/api/v1/deferrals",
        Some(token),
        json!({"enrolment_id": enrolment, "letter_reference": "SGC-HR-2026-031", "reason": "emergency repair duty"}),
    )
}

/// `POST /deferrals/{id}/{approve|reject}` (a reason for reject).
pub fn decide(app: &TestApp, token: &str, deferral: &str, action: &str) -> Resp {
    let body = if action == "reject" {
        json!({"reason": "the letter carries no stamp"})
    } else {
        json!({})
    };
    app.post(
        &format!("/api/v1/deferrals/{deferral}/{action}"),
        Some(token),
        body,
    )
}

/// `POST /deferrals/{id}/transfer`.
pub fn transfer(app: &TestApp, token: &str, deferral: &str, class: &str) -> Resp {
    app.post(
        &format!("/api/v1/deferrals/{deferral}/transfer"),
        Some(token),
        json!({"class_id": class}),
    )
}

/// `POST /enrolments/{id}/no-show`.
pub fn no_show(app: &TestApp, token: &str, enrolment: &str) -> Resp {
    app.post(
        &format!("/api/v1/enrolments/{enrolment}/no-show"),
        Some(token),
        json!({}),
    )
}

/// Moves the clock to 08:00 of the start day (Asia/Shanghai), completes the
/// checklist and starts the class (CLS-1, CLS-2). Access tokens live 15
/// minutes of the injected clock: log in again afterwards ([`relogin`]).
pub fn start_class(app: &TestApp, class: &str, (y, m, d): (i32, u32, u32)) {
    app.clock().set(shanghai(y, m, d, 8, 0));
    let admin = app.admin();
    check_mandatory_items(app, &admin, class);
    let r = app.post(
        &format!("/api/v1/classes/{class}/start"),
        Some(&admin),
        json!({}),
    );
    r.assert_status(200);
    assert_eq!(r.body["status"], "in_progress");
}

/// Logs the setup's accounts in again: access tokens live 15 minutes of the
/// injected clock, so every move of the clock needs fresh ones.
pub fn relogin(app: &TestApp, s: &mut Setup) {
    s.admin = app.admin();
    s.officer = app.login("officer", USER_PASSWORD);
    s.head = app.login("head", USER_PASSWORD);
    s.finance = app.login("finance", USER_PASSWORD);
    s.org.filler = app.login("acme.filler", USER_PASSWORD);
    s.org.reviewer = app.login("acme.reviewer", USER_PASSWORD);
}

/// Moves the clock to `when` and logs the setup's accounts in again.
pub fn at(app: &TestApp, s: &mut Setup, when: DateTime<Utc>) {
    app.clock().set(when);
    relogin(app, s);
}

/// The enrolment as `token` sees it.
pub fn enrolment(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/enrolments/{id}"), Some(token));
    r.assert_status(200);
    r.body
}

/// A paid enrolment of a new person of the setup's organisation in `class`.
fn paid(app: &TestApp, s: &Setup, class: &str, name: &str, n: u32) -> String {
    paid_enrolment(app, s, class, &org_person(app, &s.org, name, n))
}

#[track_caller]
fn assert_transition(r: &Resp, allowed: &[&str]) {
    r.assert_problem(409, "invalid_transition");
    assert_eq!(r.body["allowed_actions"], json!(allowed), "{:#}", r.body);
}

fn kinds(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

backend_tests! {
    // rule DEF-1: filed no later than the day before the start, in the
    // association's time zone: 23:59 on the day before is in time, 00:00 of
    // the start day is too late (Asia/Shanghai, class starts 2026-04-06)
    fn the_filing_deadline_is_the_day_before_the_start(app: TestApp) {
        let mut s = setup(&app);
        let on_time = paid(&app, &s, &s.class, "On Time", 1);
        let late = paid(&app, &s, &s.class, "Too Late", 2);

        at(&app, &mut s, shanghai(2026, 4, 6, 0, 0));
        let r = file(&app, &s.org.reviewer, &late);
        r.assert_rule(422, "deferral_too_late", "DEF-1");
        assert!(r.body["detail"].as_str().unwrap().contains("2026-04-06"), "{:#}", r.body);
        at(&app, &mut s, shanghai(2026, 4, 7, 12, 0));
        file(&app, &s.org.reviewer, &late).assert_rule(422, "deferral_too_late", "DEF-1");

        at(&app, &mut s, shanghai(2026, 4, 5, 23, 59));
        let r = file(&app, &s.org.reviewer, &on_time);
        r.assert_status(201);
        assert_eq!(r.header("location"), format!("/api/v1/deferrals/{}", r.id()));
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["enrolment_id"], json!(on_time));
        assert_eq!(r.body["class_id"], json!(s.class));
        assert_eq!(r.body["person_name"], "On Time");
        assert_eq!(r.body["organisation_id"], json!(s.org.id));
        assert_eq!(r.body["letter_reference"], "SGC-HR-2026-031");
        assert_eq!(r.body["filed_by"], json!(s.org.reviewer_id));
        assert_eq!(r.body["filed_at"], "2026-04-05T15:59:00Z");
        assert_eq!(r.body["allowed_actions"], json!(["approve", "reject"]));
        // One open deferral per enrolment.
        file(&app, &s.org.filler, &on_time).assert_rule(409, "deferral_exists", "DEF-1");
        // Filing changes nothing on the enrolment until a training head decides.
        assert_eq!(enrolment(&app, &s.admin, &on_time)["status"], "paid");
        assert_eq!(enrolment(&app, &s.admin, &late)["status"], "paid");
    }

    // rules DEF-1, ACC-2: only paid enrolments, filed by their organisation,
    // the individual trainee or training staff, with the letter's reference
    fn who_files_a_deferral_and_for_what(app: TestApp) {
        let s = setup(&app);
        let other = app.org_with_accounts(&s.admin, "other");
        let person = org_person(&app, &s.org, "Wang Wu", 10);
        let (_, own_trainee) = trainee_account(&app, &s.admin, "wang.wu", &person);
        let paid_id = paid_enrolment(&app, &s, &s.class, &person);

        // An unpaid enrolment is simply cancelled, not deferred.
        let unpaid = approved_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Unpaid", 11));
        act(&app, &s.officer, &unpaid, "confirm").assert_status(200);
        file(&app, &s.org.reviewer, &unpaid).assert_rule(422, "deferral_requires_payment", "DEF-1");
        let draft = enrol(&app, &s.org.filler, &s.class, &org_person(&app, &s.org, "Draft", 12), false).id();
        file(&app, &s.org.filler, &draft).assert_rule(422, "deferral_requires_payment", "DEF-1");

        // The letter's reference is required, 1–200 characters.
        let post = |body: Value| app.post("/api/v1/deferrals", Some(&s.org.reviewer), body);
        let r = post(json!({"enrolment_id": paid_id, "reason": "x"}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["letter_reference"]);
        for bad in ["", " ", &"x".repeat(201)] {
            let r = post(json!({"enrolment_id": paid_id, "letter_reference": bad, "reason": "x"}));
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), ["letter_reference"]);
        }
        let r = post(json!({"enrolment_id": paid_id, "letter_reference": "L", "reason": "x", "extra": 1}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["extra"]);

        // Roles: finance and teachers file nothing; another organisation's enrolment is unknown (ACC-2);
        // a trainee files only for their own individual enrolment.
        file(&app, &s.finance, &paid_id).assert_problem(403, "forbidden");
        file(&app, &other.reviewer, &paid_id).assert_problem(404, "not_found");
        file(&app, &own_trainee, &paid_id).assert_problem(403, "forbidden");
        file(&app, &s.org.reviewer, &uuid::Uuid::new_v4().to_string()).assert_problem(404, "not_found");
        let r = file(&app, &s.org.filler, &paid_id);
        r.assert_status(201);
        assert_eq!(r.body["filed_by"], json!(s.org.filler_id));

        // An individual files for themself; training staff may file on someone's behalf.
        let solo = app.create_person(&s.admin, "Solo", &guild_tests::valid_id_number(13), None).id();
        let (_, solo_token) = trainee_account(&app, &s.admin, "solo", &solo);
        let solo_enrolment = enrol(&app, &solo_token, &s.class, &solo, true).id();
        act(&app, &s.officer, &solo_enrolment, "confirm").assert_status(200);
        crate::enrolments::pay(&app, &s.finance, &solo_enrolment, FEE).assert_status(201);
        act(&app, &s.officer, &solo_enrolment, "notify").assert_status(200);
        let r = file(&app, &solo_token, &solo_enrolment);
        r.assert_status(201);
        assert_eq!(r.body["organisation_id"], Value::Null);
        let staff_filed = paid(&app, &s, &s.class, "By Staff", 14);
        file(&app, &s.officer, &staff_filed).assert_status(201);
    }

    // rules DEF-1, CLS-3: only a training head (or the admin) decides; approval
    // defers the enrolment and its seat goes to the first waiting enrolment in
    // the same transaction
    fn a_training_head_approves_and_the_seat_is_released(app: TestApp) {
        let s = setup(&app);
        let small = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-SMALL", "2026-04-06", "2026-04-08", 1);
        let first = paid(&app, &s, &small, "First", 20);
        let waiting = approved_enrolment(&app, &s, &small, &org_person(&app, &s.org, "Waiting", 21));
        assert_eq!(act(&app, &s.officer, &waiting, "confirm").body["status"], "waitlisted");
        let d = file(&app, &s.org.reviewer, &first).id();

        for token in [&s.officer, &s.org.reviewer, &s.finance] {
            decide(&app, token, &d, "approve").assert_problem(403, "forbidden");
        }
        let r = decide(&app, &s.head, &d, "approve");
        r.assert_status(200);
        assert_eq!(r.body["status"], "approved");
        assert!(r.body["decided_by"].is_string());
        assert!(r.body["decided_at"].is_string());
        assert_eq!(r.body["allowed_actions"], json!(["transfer"]));
        let e = enrolment(&app, &s.admin, &first);
        assert_eq!(e["status"], "deferred");
        assert_eq!(e["is_paid_up"], false);
        assert_eq!(e["balance"]["paid"], json!(FEE), "the money stays until the transfer");
        // The freed seat went to the waiting list (CLS-3).
        let w = enrolment(&app, &s.admin, &waiting);
        assert_eq!(w["status"], "confirmed");
        assert_eq!(w["balance"]["due"], json!(FEE));
        let seats = app.get(&format!("/api/v1/classes/{small}/waiting-list"), Some(&s.officer));
        assert_eq!(seats.body["seats_taken"], 1);
        assert_eq!(seats.body["waiting"], 0);
        let inbox = kinds(&app.list_all("/api/v1/notifications", &s.org.filler));
        assert!(inbox.contains(&"deferral_approved".to_owned()), "{inbox:?}");
        assert!(inbox.contains(&"waitlist_promoted".to_owned()), "{inbox:?}");
        // Decided once.
        assert_transition(&decide(&app, &s.head, &d, "approve"), &["transfer"]);
        assert_transition(&decide(&app, &s.head, &d, "reject"), &["transfer"]);
        // A deferred enrolment is not deferred again.
        file(&app, &s.org.reviewer, &first).assert_rule(422, "already_deferred", "DEF-1");

        // Audited with before and after (API-6).
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={d}"), &s.admin);
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["deferral.file", "deferral.approve"]);
        assert_eq!(events[1]["before"]["status"], "submitted");
        assert_eq!(events[1]["after"]["status"], "approved");
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={first}&action=enrolment.defer"), &s.org.reviewer);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["before"]["status"], "paid");
        assert_eq!(events[0]["after"]["status"], "deferred");

        // A rejection needs a reason and leaves the enrolment as it was.
        let other = paid(&app, &s, &s.class, "Rejected", 22);
        let d2 = file(&app, &s.org.reviewer, &other).id();
        app.post(&format!("/api/v1/deferrals/{d2}/reject"), Some(&s.head), json!({"reason": " "})).assert_problem(422, "validation_failed");
        app.post(&format!("/api/v1/deferrals/{d2}/reject"), Some(&s.org.reviewer), json!({"reason": "x"})).assert_problem(403, "forbidden");
        let r = decide(&app, &s.admin, &d2, "reject");
        r.assert_status(200);
        assert_eq!(r.body["status"], "rejected");
        assert_eq!(r.body["decision_reason"], "the letter carries no stamp");
        assert_eq!(r.body["allowed_actions"], json!([]));
        assert_eq!(enrolment(&app, &s.admin, &other)["status"], "paid");
        assert!(kinds(&app.list_all("/api/v1/notifications", &s.org.reviewer)).contains(&"deferral_rejected".to_owned()));
        assert_transition(&transfer(&app, &s.officer, &d2, &s.class), &[]);
        // After a rejection the organisation may file again while in time.
        file(&app, &s.org.reviewer, &other).assert_status(201);
    }

    // rule DEF-1: approval may come after the class started; the filing time is what counts
    fn a_deferral_filed_in_time_is_approved_after_the_start(app: TestApp) {
        let mut s = setup(&app);
        let e = paid(&app, &s, &s.class, "Late Decision", 30);
        at(&app, &mut s, shanghai(2026, 4, 5, 23, 59));
        let d = file(&app, &s.org.reviewer, &e).id();
        start_class(&app, &s.class, (2026, 4, 6));
        relogin(&app, &mut s);
        // Not a no_show while the deferral waits for a decision (DEF-4).
        no_show(&app, &s.officer, &e).assert_rule(409, "deferral_pending", "DEF-4");
        let r = decide(&app, &s.head, &d, "approve");
        r.assert_status(200);
        assert_eq!(r.body["filed_at"], "2026-04-05T15:59:00Z");
        assert_eq!(enrolment(&app, &s.admin, &e)["status"], "deferred");
        // Deferred, so not a no_show.
        assert_transition(&no_show(&app, &s.officer, &e), &[]);
    }

    // rules DEF-2, CLS-3, ENR-4, ENR-5: the transfer goes to a later class of the
    // same program in the same calendar year, with a free seat; nothing is paid again
    fn a_deferred_trainee_transfers_to_a_later_class(app: TestApp) {
        let s = setup(&app);
        let person = org_person(&app, &s.org, "Mover", 40);
        let old = paid_enrolment(&app, &s, &s.class, &person);
        let d = file(&app, &s.org.reviewer, &old).id();
        let later = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-09", "2026-09-07", "2026-09-09", 10);

        // Only an approved deferral transfers.
        assert_transition(&transfer(&app, &s.officer, &d, &later), &["approve", "reject"]);
        decide(&app, &s.head, &d, "approve").assert_status(200);

        // DEF-2: same program, later start, same year, still taking enrolments.
        let other_program = program(&app, &s.admin, "GAS-MGR", 100_000, 0);
        let wrong_program = class_on(&app, &s.admin, &other_program, "GAS-MGR-2026-09", "2026-09-07", "2026-09-09", 10);
        transfer(&app, &s.officer, &d, &wrong_program).assert_rule(422, "transfer_other_program", "DEF-2");
        let same_day = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-02B", "2026-04-06", "2026-04-07", 10);
        transfer(&app, &s.officer, &d, &same_day).assert_rule(422, "transfer_not_later", "DEF-2");
        let earlier = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-00", "2026-03-20", "2026-03-21", 10);
        transfer(&app, &s.officer, &d, &earlier).assert_rule(422, "transfer_not_later", "DEF-2");
        let next_year = class_on(&app, &s.admin, &s.program, "GAS-OPS-2027-01", "2027-01-11", "2027-01-12", 10);
        transfer(&app, &s.officer, &d, &next_year).assert_rule(422, "transfer_other_year", "DEF-2");
        let cancelled = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-10", "2026-10-12", "2026-10-13", 10);
        app.post(&format!("/api/v1/classes/{cancelled}/cancel"), Some(&s.admin), json!({"reason": "no teacher"})).assert_status(200);
        transfer(&app, &s.officer, &d, &cancelled).assert_rule(422, "transfer_class_not_open", "DEF-2");
        transfer(&app, &s.officer, &d, &uuid::Uuid::new_v4().to_string()).assert_problem(404, "not_found");
        let r = app.post(&format!("/api/v1/deferrals/{d}/transfer"), Some(&s.officer), json!({}));
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), ["class_id"]);

        // CLS-3: a full class takes no transfer.
        let full = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-11", "2026-11-02", "2026-11-03", 1);
        paid(&app, &s, &full, "Seat Holder", 41);
        transfer(&app, &s.officer, &d, &full).assert_rule(409, "class_full", "CLS-3");

        // ENR-5: not into a class where the person is already enrolled.
        let draft = enrol(&app, &s.org.filler, &later, &person, false).id();
        transfer(&app, &s.org.reviewer, &d, &later).assert_rule(409, "already_enrolled", "ENR-5");
        act(&app, &s.org.filler, &draft, "cancel").assert_status(200);

        // ENR-4: not while banned from the program.
        let ban = app.post("/api/v1/bans", Some(&s.head), json!({"person_id": person, "scope": "program", "program_id": s.program, "starts_on": "2026-01-01", "ends_on": "2026-12-31", "reason": "impersonation"}));
        ban.assert_status(201);
        let r = transfer(&app, &s.org.reviewer, &d, &later);
        r.assert_rule(422, "person_banned", "ENR-4");
        assert!(r.body["detail"].as_str().unwrap().contains("until 2026-12-31"));
        app.post(&format!("/api/v1/bans/{}/withdraw", ban.id()), Some(&s.head), json!({"reason": "appeal upheld"})).assert_status(200);

        // Roles: another organisation cannot reach it; finance may not move trainees.
        let other = app.org_with_accounts(&s.admin, "other");
        transfer(&app, &other.reviewer, &d, &later).assert_problem(404, "not_found");
        transfer(&app, &s.finance, &d, &later).assert_problem(403, "forbidden");

        // The filing organisation transfers.
        let r = transfer(&app, &s.org.reviewer, &d, &later);
        r.assert_status(200);
        let new = r.body["enrolment"]["id"].as_str().unwrap().to_owned();
        assert_eq!(r.header("location"), format!("/api/v1/enrolments/{new}"));
        assert_eq!(r.body["deferral"]["status"], "transferred");
        assert_eq!(r.body["deferral"]["transferred_to_id"], json!(new));
        assert_eq!(r.body["deferral"]["allowed_actions"], json!([]));
        let e = &r.body["enrolment"];
        assert_eq!(e["status"], "paid");
        assert_eq!(e["is_paid_up"], true);
        assert_eq!(e["class_id"], json!(later));
        assert_eq!(e["person_id"], json!(person));
        assert_eq!(e["organisation_id"], json!(s.org.id));
        assert_eq!(e["channel"], "organisation");
        assert_eq!(e["transferred_from_id"], json!(old));
        assert_eq!(e["org_approved_by"], json!(s.org.reviewer_id));
        assert_eq!(e["balance"]["charged"], json!(FEE));
        assert_eq!(e["balance"]["transferred_in"], json!(FEE));
        assert_eq!(e["balance"]["paid"], 0);
        assert_eq!(e["balance"]["due"], 0);
        assert_eq!(e["balance"]["credit"], 0);

        // The old enrolment owes and holds nothing.
        let o = enrolment(&app, &s.org.filler, &old);
        assert_eq!(o["status"], "transferred");
        assert_eq!(o["balance"]["charged"], json!(FEE));
        assert_eq!(o["balance"]["charges_reversed"], json!(FEE));
        assert_eq!(o["balance"]["paid"], json!(FEE));
        assert_eq!(o["balance"]["transferred_out"], json!(FEE));
        assert_eq!(o["balance"]["due"], 0);
        assert_eq!(o["balance"]["credit"], 0);
        let ledger = app.get(&format!("/api/v1/enrolments/{old}/ledger"), Some(&s.finance));
        let entries: Vec<(String, String, i64)> = ledger.body["entries"].as_array().unwrap().iter()
            .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["item"].as_str().unwrap().to_owned(), e["amount_fen"].as_i64().unwrap()))
            .collect();
        let own = |k: &str, i: &str, a: i64| (k.to_owned(), i.to_owned(), a);
        assert_eq!(entries, [
            own("charge", "training_fee", TRAINING_FEE),
            own("charge", "exam_fee", EXAM_FEE),
            own("payment", "other", FEE),
            own("transfer_out", "other", FEE),
            own("charge_reversal", "training_fee", TRAINING_FEE),
            own("charge_reversal", "exam_fee", EXAM_FEE),
        ]);
        let ledger = app.get(&format!("/api/v1/enrolments/{new}/ledger"), Some(&s.org.reviewer));
        let kinds: Vec<&str> = ledger.body["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["charge", "charge", "transfer_in"]);
        // Nobody pays again: finance cannot record a payment on it.
        crate::enrolments::pay(&app, &s.finance, &new, 1).assert_problem(409, "invalid_transition");

        // The seat in the later class is taken; the deferral is closed.
        let seats = app.get(&format!("/api/v1/classes/{later}/waiting-list"), Some(&s.officer));
        assert_eq!(seats.body["seats_taken"], 1);
        assert_transition(&transfer(&app, &s.org.reviewer, &d, &later), &[]);
        let inbox = kinds_of(&app, &s.org.filler);
        assert!(inbox.contains(&"enrolment_transferred".to_owned()), "{inbox:?}");
        // The new enrolment gets its class notice like any paid one.
        act(&app, &s.officer, &new, "notify").assert_status(200);
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={new}"), &s.admin);
        assert_eq!(events[0]["action"], "enrolment.transfer_in");
    }

    // rule DEF-4: paid trainees who neither came nor deferred become no_show once the class started
    fn no_show_is_recorded_once_the_class_has_started(app: TestApp) {
        let mut s = setup(&app);
        let absent = paid(&app, &s, &s.class, "Absent", 50);
        act(&app, &s.officer, &absent, "notify").assert_status(200);
        let waits = paid(&app, &s, &s.class, "Waits", 51);
        let unpaid = approved_enrolment(&app, &s, &s.class, &org_person(&app, &s.org, "Unpaid", 52));
        act(&app, &s.officer, &unpaid, "confirm").assert_status(200);
        at(&app, &mut s, shanghai(2026, 4, 5, 20, 0));
        let d = file(&app, &s.org.reviewer, &waits).id();

        // Not before the class has started.
        no_show(&app, &s.officer, &absent).assert_rule(422, "class_not_started", "DEF-4");
        start_class(&app, &s.class, (2026, 4, 6));
        relogin(&app, &mut s);
        // Training staff only; another organisation's enrolment is unknown anyway.
        for token in [&s.org.reviewer, &s.finance] {
            no_show(&app, token, &absent).assert_problem(403, "forbidden");
        }
        let r = no_show(&app, &s.officer, &absent);
        r.assert_status(200);
        assert_eq!(r.body["status"], "no_show");
        assert_eq!(r.body["is_paid_up"], false);
        assert_eq!(r.body["allowed_actions"], json!([]));
        assert_eq!(r.body["balance"]["paid"], json!(FEE), "no refund is made");
        assert_transition(&no_show(&app, &s.officer, &absent), &[]);
        // An unpaid enrolment is not a no_show.
        assert_transition(&no_show(&app, &s.officer, &unpaid), &["pay", "cancel"]);
        // A pending deferral is decided first; once rejected the trainee is a no_show.
        no_show(&app, &s.head, &waits).assert_rule(409, "deferral_pending", "DEF-4");
        decide(&app, &s.head, &d, "reject").assert_status(200);
        no_show(&app, &s.head, &waits).assert_status(200);
        // A no_show is never deferred nor transferred (DEF-4).
        file(&app, &s.org.reviewer, &absent).assert_rule(422, "enrolment_no_show", "DEF-4");
        file(&app, &s.officer, &waits).assert_rule(422, "enrolment_no_show", "DEF-4");
        let later = class_on(&app, &s.admin, &s.program, "GAS-OPS-2026-09", "2026-09-07", "2026-09-09", 10);
        assert_transition(&transfer(&app, &s.officer, &d, &later), &[]);
        let events = app.list_all(&format!("/api/v1/audit-events?entity_id={absent}&action=enrolment.no_show"), &s.admin);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["before"]["status"], "notified");
        assert_eq!(events[0]["after"]["status"], "no_show");
        let listed = app.list_all(&format!("/api/v1/enrolments?class_id={}&status=no_show", s.class), &s.org.reviewer);
        assert_eq!(listed.len(), 2);
    }

    // rules DEF-1, ACC-2: each caller lists and reads only what they may see, with filters
    fn deferral_lists_are_scoped_and_filtered(app: TestApp) {
        let s = setup(&app);
        let other = app.org_with_accounts(&s.admin, "other");
        let person = org_person(&app, &s.org, "Mine", 60);
        let (_, trainee) = trainee_account(&app, &s.admin, "mine", &person);
        let mine = paid_enrolment(&app, &s, &s.class, &person);
        let theirs_person = app.create_person(&other.filler, "Theirs", &guild_tests::valid_id_number(61), None).id();
        let theirs = enrol(&app, &other.filler, &s.class, &theirs_person, true).id();
        act(&app, &other.reviewer, &theirs, "approve").assert_status(200);
        act(&app, &s.officer, &theirs, "confirm").assert_status(200);
        crate::enrolments::pay(&app, &s.finance, &theirs, FEE).assert_status(201);
        let d1 = file(&app, &s.org.reviewer, &mine).id();
        let d2 = file(&app, &other.reviewer, &theirs).id();
        decide(&app, &s.head, &d2, "reject").assert_status(200);
        let ids = |items: Vec<Value>| items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(app.list_all("/api/v1/deferrals", &s.org.filler)), [d1.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/deferrals", &other.reviewer)), [d2.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/deferrals", &trainee)), [d1.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/deferrals", &s.officer)), [d1.as_str(), d2.as_str()]);
        assert_eq!(ids(app.list_all("/api/v1/deferrals?status=rejected", &s.head)), [d2.as_str()]);
        assert_eq!(ids(app.list_all(&format!("/api/v1/deferrals?class_id={}&status=submitted", s.class), &s.finance)), [d1.as_str()]);
        assert_eq!(ids(app.list_all(&format!("/api/v1/deferrals?enrolment_id={theirs}"), &s.admin)), [d2.as_str()]);
        assert!(app.list_all(&format!("/api/v1/deferrals?class_id={}", uuid::Uuid::new_v4()), &s.admin).is_empty());
        let listed = app.list_all("/api/v1/deferrals", &s.org.reviewer);
        assert_eq!(listed[0]["person_name"], "Mine");
        assert_eq!(listed[0]["class_id"], json!(s.class));
        let r = app.get("/api/v1/deferrals?limit=1", Some(&s.admin));
        assert!(r.body["next_cursor"].is_string());
        app.get("/api/v1/deferrals?status=nonsense", Some(&s.admin)).assert_problem(400, "invalid_query");
        // Another organisation's deferral answers like an unknown one (ACC-2).
        app.get(&format!("/api/v1/deferrals/{d1}"), Some(&other.filler)).assert_problem(404, "not_found");
        app.get(&format!("/api/v1/deferrals/{}", uuid::Uuid::new_v4()), Some(&s.admin)).assert_problem(404, "not_found");
        let r = app.get(&format!("/api/v1/deferrals/{d1}"), Some(&trainee));
        r.assert_status(200);
        assert_eq!(r.header("etag"), "\"1\"");
        let teacher = app.create_user(&s.admin, "some.teacher", "teacher", None);
        app.get("/api/v1/deferrals", Some(&teacher)).assert_problem(403, "forbidden");
    }
}

fn kinds_of(app: &TestApp, token: &str) -> Vec<String> {
    kinds(&app.list_all("/api/v1/notifications", token))
}

/// Sends the requests at the same moment (one thread each) and answers their
/// statuses and bodies in the same order.
fn at_once(app: &TestApp, requests: Vec<(String, String, Value)>) -> Vec<(u16, Value)> {
    guild_tests::at_once(
        requests
            .into_iter()
            .map(|(path, token, body)| guild_tests::Racer::post(app.url(&path), token, body))
            .collect(),
    )
}

// rules DEF-1, DEF-2: two filings of one enrolment at once leave one open
// deferral, and two transfers of one deferral at once move the money once —
// enforced in the database (partial unique indexes, versioned rows), proven
// with concurrent requests against PostgreSQL (SQLite serialises every write)
#[test]
fn concurrent_filings_and_transfers_happen_once_on_postgres() {
    let Some(app) = TestApp::try_spawn(guild_tests::Backend::Postgres) else {
        eprintln!("skipped: {} is not set", guild_tests::POSTGRES_URL_VAR);
        return;
    };
    let s = setup(&app);
    let a = class_on(
        &app,
        &s.admin,
        &s.program,
        "GAS-OPS-2026-09",
        "2026-09-07",
        "2026-09-09",
        10,
    );
    let b = class_on(
        &app,
        &s.admin,
        &s.program,
        "GAS-OPS-2026-10",
        "2026-10-12",
        "2026-10-14",
        10,
    );
    for round in 0..5u32 {
        let e = paid(&app, &s, &s.class, &format!("Racer {round}"), 900 + round);
        let body = json!({"enrolment_id": e, "letter_reference": "L-1", "reason": "r"});
        let answers = at_once(
            &app,
            vec![
                (
                    "/api/v1/deferrals".to_owned(),
                    s.org.filler.clone(),
                    body.clone(),
                ),
                ("/api/v1/deferrals".to_owned(), s.org.reviewer.clone(), body),
            ],
        );
        let mut statuses: Vec<u16> = answers.iter().map(|(st, _)| *st).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}: {answers:#?}");
        let conflict = answers.iter().find(|(st, _)| *st == 409).unwrap();
        assert_eq!(conflict.1["code"], "deferral_exists", "round {round}");
        let d = answers.iter().find(|(st, _)| *st == 201).unwrap().1["id"]
            .as_str()
            .unwrap()
            .to_owned();
        decide(&app, &s.head, &d, "approve").assert_status(200);

        let path = format!("/api/v1/deferrals/{d}/transfer");
        let answers = at_once(
            &app,
            vec![
                (path.clone(), s.org.reviewer.clone(), json!({"class_id": a})),
                (path, s.officer.clone(), json!({"class_id": b})),
            ],
        );
        let ok: Vec<&(u16, Value)> = answers.iter().filter(|(st, _)| *st == 200).collect();
        assert_eq!(ok.len(), 1, "round {round}: {answers:#?}");
        let refused = answers.iter().find(|(st, _)| *st != 200).unwrap();
        assert!(
            [409, 412].contains(&refused.0),
            "round {round}: {answers:#?}"
        );
        let ledger = app.get(&format!("/api/v1/enrolments/{e}/ledger"), Some(&s.finance));
        let out = ledger.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["kind"] == "transfer_out")
            .count();
        assert_eq!(out, 1, "round {round}: the money moved once");
        assert_eq!(ledger.body["balance"]["due"], 0);
        let moved: usize = [&a, &b]
            .iter()
            .map(|c| {
                app.list_all(&format!("/api/v1/enrolments?class_id={c}"), &s.admin)
                    .iter()
                    .filter(|x| x["transferred_from_id"] == json!(e))
                    .count()
            })
            .sum();
        assert_eq!(moved, 1, "round {round}");
    }
}
