//! Classes, enrolments and what happens to them before and during the class:
//! leave, deferrals, substitutions, the start, attendance and a no-show.

use guild_tests::valid_id_number;
use serde_json::{Value, json};

use super::setup::person;
use super::tour::Tour;
use super::{World, shanghai};

const CLASSES: &str = "/api/v1/classes";
const ENROLMENTS: &str = "/api/v1/enrolments";

fn class_body(
    w: &World,
    program: &str,
    code: &str,
    start: &str,
    end: &str,
    sessions: Value,
) -> Value {
    json!({"program_id": program, "code": code, "title": format!("Class {code}"),
        "start_date": start, "end_date": end, "place": "Futian training centre",
        "capacity": 20, "class_head_user_id": w.class_head_id, "sessions": sessions})
}

/// The April class (three sessions, 6–8 April) with its checklist, and the
/// September and May classes, all open (CLS-1, CLS-2).
pub fn classes(t: &mut Tour, w: &mut World) {
    let session = |day: &str| {
        json!({"session_date": day, "starts_at": "09:00",
            "ends_at": "12:00", "topic": "Rules"})
    };
    let sessions = json!([
        session("2026-04-06"),
        session("2026-04-07"),
        session("2026-04-08")
    ]);
    let r = t.post(
        CLASSES,
        "officer",
        class_body(
            w,
            &w.program,
            "GAS-04",
            "2026-04-06",
            "2026-04-08",
            sessions,
        ),
    );
    w.april = r.id();
    w.sessions = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let path = format!("{CLASSES}/{}", w.april);
    t.patch(
        &path,
        "officer",
        json!({"place": "Futian training centre, room 301"}),
    );
    let item = json!({"label": "Interpreter booked", "mandatory": false});
    let item = t.post(&format!("{path}/checklist"), "officer", item).id();
    t.post(
        &format!("{path}/checklist/{item}/check"),
        "officer",
        json!({"note": "booked"}),
    );
    t.post(
        &format!("{path}/checklist/{item}/uncheck"),
        "officer",
        json!({}),
    );
    let september = class_body(
        w,
        &w.program,
        "GAS-09",
        "2026-09-07",
        "2026-09-09",
        json!([]),
    );
    w.september = t.post(CLASSES, "officer", september).id();
    let may = class_body(
        w,
        &w.other_program,
        "GAS-05",
        "2026-05-11",
        "2026-05-13",
        json!([]),
    );
    w.may = t.post(CLASSES, "officer", may).id();
    for class in [w.april.clone(), w.september.clone(), w.may.clone()] {
        t.post(&format!("{CLASSES}/{class}/open"), "officer", json!({}));
    }
}

/// A new person of acme enrolled in `class` and taken to `paid` (ENR-1 to ENR-3).
pub fn paid(t: &mut Tour, class: &str, name: &str, n: u32) -> String {
    let p = person(t, name, n);
    let body = json!({"class_id": class, "person_id": p, "submit": true});
    let e = t.post(ENROLMENTS, "acme.filler", body).id();
    t.post(
        &format!("{ENROLMENTS}/{e}/approve"),
        "acme.reviewer",
        json!({}),
    );
    t.post(&format!("{ENROLMENTS}/{e}/confirm"), "officer", json!({}));
    let pay = json!({"amount_fen": 150_000, "reference": format!("RCPT-{n}")});
    t.post(&format!("{ENROLMENTS}/{e}/payments"), "finance", pay);
    e
}

/// The April trainees, one rejected and one withdrawn enrolment, the CSV
/// upload, and the notices (ENR-1 to ENR-5).
pub fn enrolments(t: &mut Tour, w: &mut World) {
    let april = w.april.clone();
    let body = json!({"class_id": april, "person_id": w.ann_person, "submit": false});
    w.ann = t.post(ENROLMENTS, "acme.filler", body).id();
    t.post(
        &format!("{ENROLMENTS}/{}/submit", w.ann),
        "acme.filler",
        json!({}),
    );
    t.post(
        &format!("{ENROLMENTS}/{}/approve", w.ann),
        "acme.reviewer",
        json!({}),
    );
    t.post(
        &format!("{ENROLMENTS}/{}/confirm", w.ann),
        "officer",
        json!({}),
    );
    let pay = json!({"amount_fen": 150_000, "reference": "RCPT-1"});
    t.post(&format!("{ENROLMENTS}/{}/payments", w.ann), "finance", pay);
    t.post(
        &format!("{ENROLMENTS}/{}/notify", w.ann),
        "officer",
        json!({}),
    );
    w.bob = paid(t, &april, "Li Bo", 2);
    w.cleo = paid(t, &april, "Chen Le", 3);
    w.dave = paid(t, &april, "Wang Dave", 4);
    w.eve = paid(t, &april, "Zhao Eve", 5);
    w.hal = paid(t, &april, "Sun Hal", 6);
    w.ivy = paid(t, &april, "Qian Ivy", 7);
    w.lee = paid(t, &april, "Zhou Lee", 8);
    paid(t, &w.may.clone(), "Wu Kim", 9);
    let fay = person(t, "Zheng Fay", 10);
    let body = json!({"class_id": april, "person_id": fay, "submit": true});
    let fay = t.post(ENROLMENTS, "acme.filler", body).id();
    t.post(
        &format!("{ENROLMENTS}/{fay}/reject"),
        "acme.reviewer",
        json!({"reason": "the phone number is wrong"}),
    );
    t.post(
        &format!("{ENROLMENTS}/{fay}/submit"),
        "acme.filler",
        json!({}),
    );
    t.post(
        &format!("{ENROLMENTS}/{fay}/cancel"),
        "acme.reviewer",
        json!({}),
    );
    let csv = format!(
        "name,gender,id_number,phone,category\nFeng Zed,male,{},13800138000,operations_staff\n",
        valid_id_number(11)
    );
    let path = format!("{CLASSES}/{april}/enrolments/bulk?submit=true");
    t.send_raw(&path, "acme.filler", "text/csv", &csv);
    t.post(&format!("{CLASSES}/{april}/notify"), "officer", json!({}));
}

/// Leave (ATT-2), deferrals (DEF-1, DEF-2) and substitutions (DEF-3), filed
/// before the class starts.
pub fn before_the_start(t: &mut Tour, w: &World) {
    leave(t, w);
    deferrals(t, w);
    substitutions(t, w);
}

/// Ann's leave for the second session granted, Bob's refused (ATT-2).
fn leave(t: &mut Tour, w: &World) {
    let leave = |e: &str, s: &str| {
        json!({"enrolment_id": e, "session_id": s,
            "reason": "family emergency"})
    };
    let granted = t
        .post(
            "/api/v1/leave-requests",
            "acme.reviewer",
            leave(&w.ann, &w.sessions[1]),
        )
        .id();
    t.post(
        &format!("/api/v1/leave-requests/{granted}/approve"),
        "class.head",
        json!({}),
    );
    let refused = t
        .post(
            "/api/v1/leave-requests",
            "acme.reviewer",
            leave(&w.bob, &w.sessions[1]),
        )
        .id();
    t.post(
        &format!("/api/v1/leave-requests/{refused}/refuse"),
        "class.head",
        json!({"reason": "the site needs no one"}),
    );
}

/// Dave deferred and moved to September (DEF-2), Hal deferred (his refund
/// follows), Lee's deferral rejected.
fn deferrals(t: &mut Tour, w: &World) {
    let deferral = |e: &str| {
        json!({"enrolment_id": e, "letter_reference": "ACME-2026-017",
            "reason": "repair duty"})
    };
    let moved = t
        .post("/api/v1/deferrals", "acme.reviewer", deferral(&w.dave))
        .id();
    t.post(
        &format!("/api/v1/deferrals/{moved}/approve"),
        "head",
        json!({}),
    );
    t.post(
        &format!("/api/v1/deferrals/{moved}/transfer"),
        "acme.reviewer",
        json!({"class_id": w.september}),
    );
    let refunded = t
        .post("/api/v1/deferrals", "acme.reviewer", deferral(&w.hal))
        .id();
    t.post(
        &format!("/api/v1/deferrals/{refunded}/approve"),
        "head",
        json!({}),
    );
    let refused = t
        .post("/api/v1/deferrals", "acme.reviewer", deferral(&w.lee))
        .id();
    t.post(
        &format!("/api/v1/deferrals/{refused}/reject"),
        "head",
        json!({"reason": "no stamp"}),
    );
}

/// Eve's place goes to Sun Qi; Lee's to Tang Tom is rejected (DEF-3).
fn substitutions(t: &mut Tour, w: &World) {
    let sub =
        |e: &str, p: &str| json!({"enrolment_id": e, "new_person_id": p, "reason": "changed jobs"});
    let sun = person(t, "Sun Qi", 12);
    let approved = t
        .post("/api/v1/substitutions", "acme.filler", sub(&w.eve, &sun))
        .id();
    t.post(
        &format!("/api/v1/substitutions/{approved}/approve"),
        "officer",
        json!({}),
    );
    let tom = person(t, "Tang Tom", 13);
    let rejected = t
        .post("/api/v1/substitutions", "acme.filler", sub(&w.lee, &tom))
        .id();
    t.post(
        &format!("/api/v1/substitutions/{rejected}/reject"),
        "officer",
        json!({"reason": "not qualified"}),
    );
}

/// The class starts on 6 April once its mandatory items are checked (CLS-2);
/// attendance of the first session (ATT-1); Ivy never came (DEF-4).
pub fn the_class(t: &mut Tour, w: &World) {
    t.at(shanghai(2026, 4, 6, 8, 0));
    let path = format!("{CLASSES}/{}", w.april);
    let checklist = t.get(&format!("{path}/checklist"), "officer");
    for item in checklist.body["items"].as_array().unwrap() {
        if item["mandatory"] == true && item["state"] == "unchecked" {
            let id = item["id"].as_str().unwrap();
            t.post(
                &format!("{path}/checklist/{id}/check"),
                "officer",
                json!({}),
            );
        }
    }
    t.post(&format!("{path}/start"), "officer", json!({}));
    t.at(shanghai(2026, 4, 6, 12, 30));
    let records: Vec<Value> = [&w.ann, &w.bob, &w.cleo]
        .iter()
        .map(|e| json!({"enrolment_id": e, "status": "present"}))
        .collect();
    let sheet = format!("{path}/sessions/{}/attendance", w.sessions[0]);
    t.post(&sheet, "class.head", json!({ "records": records }));
    t.post(
        &format!("{ENROLMENTS}/{}/no-show", w.ivy),
        "officer",
        json!({}),
    );
}
