//! The exam and what follows it: sitting, discipline, results, certificates
//! and their requests, the archive, refunds and bans.

use serde_json::{Value, json};

use super::tour::Tour;
use super::{World, shanghai};

/// The first sitting on 8 April: registrations (EXM-2), a cheating warning
/// withdrawn again (DSC-1), results (EXM-5) and their publication.
pub fn sitting(t: &mut Tour, w: &World) {
    let body = json!({"class_id": w.april, "kind": "first", "held_on": "2026-04-08",
        "starts_at": "09:00", "place": "Exam hall 2"});
    let sitting = t.post("/api/v1/sittings", "officer", body).id();
    let path = format!("/api/v1/sittings/{sitting}");
    let trainees = json!({"enrolment_ids": [w.ann, w.bob, w.cleo]});
    let r = t.post(&format!("{path}/registrations"), "officer", trainees);
    let regs: Vec<String> = [&w.ann, &w.bob, &w.cleo]
        .iter()
        .map(|e| {
            let reg = r.body["registered"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["enrolment_id"] == json!(e));
            reg.unwrap_or_else(|| panic!("{e} not registered: {:#}", r.body))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    t.at(shanghai(2026, 4, 8, 9, 30));
    let incident = json!({"registration_id": regs[2], "offence": "cheating",
        "description": "notes under the desk", "evidence_reference": "CCTV hall 2"});
    let sanction = t
        .post(&format!("{path}/incidents"), "officer", incident)
        .id();
    let reason = json!({"reason": "the notes were the trainee's own ID"});
    t.post(
        &format!("/api/v1/sanctions/{sanction}/withdraw"),
        "head",
        reason,
    );
    t.at(shanghai(2026, 4, 8, 15, 0));
    let results: Vec<Value> = regs
        .iter()
        .zip([90, 75, 40])
        .map(|(id, s)| json!({"registration_id": id, "theory_score": s}))
        .collect();
    t.post(
        &format!("{path}/results"),
        "officer",
        json!({ "results": results }),
    );
    t.at(shanghai(2026, 4, 10, 10, 0));
    t.post(
        &format!("/api/v1/classes/{}/results/publish", w.april),
        "officer",
        json!({}),
    );
    t.post(
        &format!("/api/v1/classes/{}/finish", w.april),
        "officer",
        json!({}),
    );
}

/// Ann's and Bob's certificates (CRT-1), a CE record (CRT-4), requests
/// approved, rejected and withdrawn (CRT-5, CRT-6) and a forgery report (CRT-7).
pub fn certificates(t: &mut Tour, w: &World) {
    let r = t.post(
        &format!("/api/v1/classes/{}/certificates", w.april),
        "officer",
        json!({}),
    );
    let issued = r.body["issued"].as_array().unwrap().clone();
    let cert = |enrolment: &str| -> String {
        let c = issued
            .iter()
            .find(|c| c["enrolment_id"] == json!(enrolment));
        c.unwrap_or_else(|| panic!("no certificate for {enrolment}: {issued:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ann, bob) = (cert(&w.ann), cert(&w.bob));
    let ce = json!({"kind": "association_learning", "title": "New gas safety regulations",
        "hours": 8, "completed_on": "2026-04-10", "evidence_reference": "ASSOC-LEARN-031"});
    t.post(
        &format!("/api/v1/certificates/{ann}/ce-records"),
        "officer",
        ce,
    );
    let request = |c: &str| {
        json!({"certificate_id": c, "kind": "reissue", "reason": "The card was lost",
            "physical_card": true})
    };
    let requests = "/api/v1/certificate-requests";
    let approved = t.post(requests, "acme.reviewer", request(&ann)).id();
    t.post(
        &format!("{requests}/{approved}/approve"),
        "officer",
        json!({}),
    );
    let rejected = t.post(requests, "acme.reviewer", request(&bob)).id();
    let reason = json!({"reason": "The card was seen at the site last week"});
    t.post(&format!("{requests}/{rejected}/reject"), "officer", reason);
    let withdrawn = t.post(requests, "acme.reviewer", request(&bob)).id();
    t.post(
        &format!("{requests}/{withdrawn}/withdraw"),
        "acme.reviewer",
        json!({}),
    );
    let report = json!({"organisation_id": w.acme,
        "description": "Presented fake certificates at a tender",
        "evidence_reference": "Tender file 2026-17"});
    t.post("/api/v1/forgery-reports", "admin", report);
}

/// The class archive completed (ARC-1) and a calendar day set and removed.
pub fn archive(t: &mut Tour, w: &World) {
    let list = t.get(&format!("/api/v1/archives?class_id={}", w.april), "officer");
    let id = list.body["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no archive: {:#}", list.body))
        .to_owned();
    let day = "/api/v1/archives/calendar/2026-04-14";
    t.put(
        day,
        "head",
        json!({"kind": "holiday", "name": "Spring holiday"}),
    );
    t.delete(day, "head");
    for kind in ["training_agreement", "class_notice", "timetable"] {
        let doc = json!({"reference": format!("{kind}-2026-04")});
        t.put(
            &format!("/api/v1/archives/{id}/documents/{kind}"),
            "officer",
            doc,
        );
    }
    t.post(
        &format!("/api/v1/archives/{id}/complete"),
        "officer",
        json!({}),
    );
}

/// Hal's personal refund paid through every step (REF-2, REF-3); the May
/// class cancelled, its refunds filed (REF-1) and one rejected.
pub fn refunds(t: &mut Tour, w: &World) {
    let body = json!({"enrolment_id": w.hal, "reason": "deferred for good"});
    let refund = t.post("/api/v1/refunds", "acme.reviewer", body).id();
    let path = format!("/api/v1/refunds/{refund}");
    t.post(&format!("{path}/confirm-training"), "officer", json!({}));
    t.post(&format!("{path}/confirm-finance"), "finance", json!({}));
    t.post(&format!("{path}/approve"), "leader", json!({}));
    t.post(
        &format!("{path}/pay"),
        "finance",
        json!({"payment_reference": "PAY-2026-001"}),
    );
    let may = format!("/api/v1/classes/{}", w.may);
    t.post(
        &format!("{may}/cancel"),
        "admin",
        json!({"reason": "no teacher"}),
    );
    let r = t.post(&format!("{may}/refunds"), "head", json!({}));
    let filed = r.body["refund_ids"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no refund: {:#}", r.body))
        .to_owned();
    let reason = json!({"reason": "the company owes the exam fee"});
    t.post(
        &format!("/api/v1/refunds/{filed}/reject"),
        "officer",
        reason,
    );
}

/// A ban of Cleo (ENR-4), withdrawn on appeal.
pub fn bans(t: &mut Tour, w: &World) {
    let cleo = t
        .get(&format!("/api/v1/enrolments/{}", w.cleo), "officer")
        .body["person_id"]
        .clone();
    let ban = json!({"person_id": cleo, "scope": "program", "program_id": w.program,
        "starts_on": "2026-05-01", "ends_on": "2026-12-31", "reason": "impersonation"});
    let ban = t.post("/api/v1/bans", "head", ban).id();
    t.post(
        &format!("/api/v1/bans/{ban}/withdraw"),
        "head",
        json!({"reason": "appeal upheld"}),
    );
}
