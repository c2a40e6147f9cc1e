//! Continuing education: providers (CED-4), activities and credits (CED-3),
//! the regional requirement, and the signing key.

use serde_json::{Value, json};

use super::World;
use super::setup::user;
use super::tour::Tour;

const PROVIDERS: &str = "/api/v1/ce/providers";
const ACTIVITIES: &str = "/api/v1/ce/activities";

fn application(name: &str) -> Value {
    json!({"name": name, "region": "Wucheng",
        "conditions": {"teaching_facilities": "Two classrooms; lease JH-2026-014",
            "teaching_staff": "12 teachers", "plans_and_rules": "Teaching plan 2026",
            "quality_assurance": "Quality manual", "legal_compliance": "Licence on file"},
        "scope": "Gas pipeline operators", "content": "Safety regulations",
        "fee_items": [{"name": "Offline class, per day", "amount_fen": 30000}],
        "standards": "Classes of at most 40 trainees", "contact_phone": "13800138000"})
}

/// A provider organisation with account `{tag}.provider` that has applied.
fn applied(t: &mut Tour, tag: &str) -> String {
    let org =
        json!({"name": format!("Skills Centre {tag}"), "kind": "provider", "region": "Wucheng"});
    let org = t.post("/api/v1/organisations", "admin", org).id();
    t.post(
        &format!("/api/v1/organisations/{org}/approve"),
        "admin",
        json!({}),
    );
    let username = format!("{tag}.provider");
    user(t, &username, "provider", Some(&org));
    t.post(
        PROVIDERS,
        &username,
        application(&format!("Skills Centre {tag}")),
    )
    .id()
}

fn activity(source: &str, credits: i64) -> Value {
    json!({"source": source, "title": format!("{source} on new pipe materials"),
        "subject_category": "professional", "credits": credits, "hours": 8, "fee_fen": 20000,
        "held_on": "2026-03-01", "has_exam": false, "evidence": ["photos/class.jpg"]})
}

/// One provider through every state, one rejected; the requirement of its region.
pub fn providers(t: &mut Tour, w: &World) {
    let jh = applied(t, "jh");
    let path = format!("{PROVIDERS}/{jh}");
    t.patch(&path, "jh.provider", json!({"scope": "All gas trades"}));
    t.post(&format!("{path}/accredit"), "authority", json!({}));
    t.post(
        &format!("{path}/suspend"),
        "authority",
        json!({"reason": "Inspection"}),
    );
    t.post(&format!("{path}/reinstate"), "authority", json!({}));
    let offline = t
        .post(ACTIVITIES, "jh.provider", activity("offline_class", 12))
        .id();
    let credits = json!({"credits": [{"person_id": w.ann_person}]});
    t.post(
        &format!("{ACTIVITIES}/{offline}/credits"),
        "jh.provider",
        credits,
    );
    let contest = t
        .post(ACTIVITIES, "jh.provider", activity("competition", 20))
        .id();
    let reason = json!({"reason": "Not a recognised competition"});
    t.post(
        &format!("{ACTIVITIES}/{contest}/reject"),
        "authority",
        reason,
    );
    t.post(
        &format!("{path}/withdraw"),
        "authority",
        json!({"reason": "Fraud"}),
    );
    let lx = applied(t, "lx");
    let reason = json!({"reason": "No teaching premises"});
    t.post(&format!("{PROVIDERS}/{lx}/reject"), "authority", reason);
    let requirement = json!({"total_credits": 50, "public_credits": 10,
        "professional_credits": 30, "exam_credits": 0});
    t.put("/api/v1/ce/requirements/Wucheng", "authority", requirement);
}

/// acme's own training, registered by the authority (CED-3).
pub fn employer_activity(t: &mut Tour) {
    let mut body = activity("employer_training", 10);
    body["region"] = json!("Wucheng");
    let own = t.post(ACTIVITIES, "acme.reviewer", body).id();
    t.post(
        &format!("{ACTIVITIES}/{own}/register"),
        "authority",
        json!({}),
    );
}

/// A new signing key (CRT-8).
pub fn signing_key(t: &mut Tour) {
    t.post("/api/v1/signing-keys/rotate", "admin", json!({}));
}
