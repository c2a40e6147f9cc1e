//! The association's set-up: organisations, accounts, account changes,
//! people, programs, teachers and the annual plan.

use guild_tests::{Method, USER_PASSWORD, valid_id_number};
use serde_json::{Value, json};

use super::World;
use super::tour::Tour;

const ORGS: &str = "/api/v1/organisations";

/// Organisations through every state (PPL-4); the walk's organisation `acme`.
pub fn organisations(t: &mut Tour, w: &mut World) {
    let body = |name: &str| json!({"name": name, "kind": "member_company"});
    w.acme = t.post(ORGS, "admin", body("Acme Gas")).id();
    t.post(&format!("{ORGS}/{}/approve", w.acme), "admin", json!({}));
    t.patch(
        &format!("{ORGS}/{}", w.acme),
        "admin",
        json!({"region": "Wucheng"}),
    );
    let beta = t.post(ORGS, "admin", body("Beta Gas")).id();
    t.post(
        &format!("{ORGS}/{beta}/reject"),
        "admin",
        json!({"reason": "incomplete"}),
    );
    let gamma = t.post(ORGS, "admin", body("Gamma Gas")).id();
    t.post(&format!("{ORGS}/{gamma}/approve"), "admin", json!({}));
    t.post(
        &format!("{ORGS}/{gamma}/suspend"),
        "admin",
        json!({"reason": "audit"}),
    );
    t.post(&format!("{ORGS}/{gamma}/reinstate"), "admin", json!({}));
}

/// Creates an account with [`USER_PASSWORD`]; returns its id.
pub fn user(t: &mut Tour, username: &str, role: &str, org: Option<&str>) -> String {
    let mut body = json!({"username": username, "display_name": format!("User {username}"),
        "password": USER_PASSWORD, "role": role});
    if let Some(org) = org {
        body["organisation_id"] = json!(org);
    }
    t.post("/api/v1/users", "admin", body).id()
}

/// The staff, acme's filler and reviewer, and a spare account that goes
/// through every account operation (ACC-1, ACC-3, ACC-5).
pub fn accounts(t: &mut Tour, w: &World) {
    for (name, role) in [
        ("officer", "training_officer"),
        ("head", "training_head"),
        ("finance", "finance"),
        ("leader", "leader"),
        ("authority", "authority"),
    ] {
        user(t, name, role, None);
    }
    let acme = w.acme.clone();
    user(t, "acme.filler", "org_filler", Some(&acme));
    user(t, "acme.reviewer", "org_reviewer", Some(&acme));
    let spare = user(t, "spare", "training_officer", None);
    let path = format!("/api/v1/users/{spare}");
    t.patch(&path, "admin", json!({"display_name": "Spare officer"}));
    t.post(&format!("{path}/disable"), "admin", json!({}));
    t.post(&format!("{path}/enable"), "admin", json!({}));
    let reset = json!({"new_password": "Another-Pass-2026"});
    t.post(&format!("{path}/reset-password"), "admin", reset);
    t.post(&format!("{path}/unlock"), "admin", json!({}));
}

/// Two change requests of acme (ACC-4): one approved, one rejected.
pub fn account_changes(t: &mut Tour, w: &World) {
    let path = format!("{ORGS}/{}/account-changes", w.acme);
    let body = |username: &str| {
        json!({"role": "org_filler", "username": username, "display_name": "Wang Fang",
            "password": USER_PASSWORD, "reason": "a second filler"})
    };
    let approved = t.post(&path, "acme.reviewer", body("acme.wang")).id();
    t.post(
        &format!("/api/v1/account-changes/{approved}/approve"),
        "admin",
        json!({}),
    );
    let rejected = t.post(&path, "acme.reviewer", body("acme.li")).id();
    let reason = json!({"reason": "one filler is enough"});
    t.post(
        &format!("/api/v1/account-changes/{rejected}/reject"),
        "admin",
        reason,
    );
}

/// A person of acme entered by its filler (PPL-1), with ID number `n`.
pub fn person(t: &mut Tour, name: &str, n: u32) -> String {
    let body = json!({"name": name, "gender": "female", "id_type": "resident_id",
        "id_number": valid_id_number(n), "category": "operations_staff"});
    t.post("/api/v1/people", "acme.filler", body).id()
}

/// Ann, acme's first trainee, entered and edited (PPL-1, PPL-2).
pub fn people(t: &mut Tour, w: &mut World) {
    w.ann_person = person(t, "Zhang Anna", 1);
    let path = format!("/api/v1/people/{}", w.ann_person);
    t.patch(&path, "acme.filler", json!({"phone": "13800138000"}));
}

/// The walk's program, edited, and a second one retired and reinstated (PRG-1).
pub fn programs(t: &mut Tour, w: &mut World) {
    let body = |code: &str| {
        json!({"code": code, "name": format!("Program {code}"),
            "target_categories": ["operations_staff"], "training_fee_fen": 120_000,
            "exam_fee_fen": 30_000, "exam": {"theory": {"mode": "closed_book", "pass_mark": 60}},
            "certificate_name": "Gas operations certificate"})
    };
    w.program = t.post("/api/v1/programs", "admin", body("GAS-OPS")).id();
    let path = format!("/api/v1/programs/{}", w.program);
    t.patch(
        &path,
        "admin",
        json!({"description": "Operating gas networks safely"}),
    );
    let old = t.post("/api/v1/programs", "admin", body("GAS-OLD")).id();
    t.post(
        &format!("/api/v1/programs/{old}/retire"),
        "admin",
        json!({}),
    );
    t.post(
        &format!("/api/v1/programs/{old}/reinstate"),
        "admin",
        json!({}),
    );
    w.other_program = old;
}

/// A board term, the class head's appointment and a dismissed one (TCH-1, TCH-2).
pub fn teachers(t: &mut Tour, w: &mut World) {
    let term = json!({"name": "Fifth board", "starts_on": "2026-01-01", "ends_on": "2029-12-31"});
    let term = t.post("/api/v1/teachers/terms", "admin", term).id();
    w.class_head_id = user(t, "class.head", "teacher", None);
    let appoint = |user_id: &str| json!({"user_id": user_id, "term_id": term});
    t.post("/api/v1/teachers", "admin", appoint(&w.class_head_id));
    let other = user(t, "teacher.two", "teacher", None);
    let appointment = t.post("/api/v1/teachers", "admin", appoint(&other)).id();
    let reason = json!({"reason": "violated regulations"});
    t.post(
        &format!("/api/v1/teachers/{appointment}/dismiss"),
        "admin",
        reason,
    );
}

/// The 2026 plan: drafted, edited, published and amended (PLN-1).
pub fn plan(t: &mut Tour, w: &World) {
    let items = |n: u32| -> Value { json!([{"program_id": w.program, "planned_classes": n}]) };
    let body = json!({"year": 2026, "title": "2026 annual training plan", "items": items(2)});
    let plan = t.post("/api/v1/plans", "officer", body).id();
    let path = format!("/api/v1/plans/{plan}");
    t.patch(&path, "officer", json!({"notes": "two classes"}));
    t.post(&format!("{path}/publish"), "head", json!({}));
    let amendment = json!({"items": items(3), "change_note": "one more class"});
    t.post(&format!("{path}/amendments"), "admin", amendment);
}

/// Account `quiet` changes its password (a published `user.*` event); the
/// allow-listed operations run once each to prove they write no outbox row:
/// the `auth.*` ones on `quiet`, and a read marker in acme's inbox.
pub fn silent_operations(t: &mut Tour) {
    user(t, "quiet", "training_officer", None);
    let change = json!({"current_password": USER_PASSWORD, "new_password": "Another-Pass-2026"});
    t.post("/api/v1/me/password", "quiet", change);
    let login = json!({"username": "quiet", "password": "Another-Pass-2026"});
    let r = t.silent(Method::POST, "/api/v1/auth/login", None, login);
    let refresh = json!({"refresh_token": r.body["refresh_token"]});
    let r = t.silent(Method::POST, "/api/v1/auth/refresh", None, refresh);
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    t.silent(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&access),
        json!({}),
    );
    let inbox = t.get("/api/v1/notifications", "acme.filler");
    let id = inbox.body["items"][0]["id"].as_str().unwrap().to_owned();
    let filler = t.token("acme.filler");
    let read = format!("/api/v1/notifications/{id}/read");
    t.silent(Method::POST, &read, Some(&filler), json!({}));
}
