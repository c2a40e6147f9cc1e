//! Coverage tests over the generated OpenAPI document (STYLE habit 9, API-7):
//! every non-public operation refuses an unauthenticated caller (ACC-1), and no
//! operation tells another organisation's real ids apart from unknown ones (ACC-2).

use std::collections::{BTreeMap, HashSet};

use guild_tests::{Method, OrgFixture, TestApp, backend_tests, valid_id_number};
use serde_json::{Value, json};

/// One operation of the document.
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    path: String,
    spec: Value,
}

impl Operation {
    fn public(&self) -> bool {
        self.spec.get("security") == Some(&json!([{}]))
    }

    fn has_path_parameter(&self) -> bool {
        self.path.contains('{')
    }

    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path with every `{param}` replaced by `value`.
    fn with_ids(&self, value: &str) -> String {
        let mut out = String::new();
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .map_or(rest.len(), |e| start + e + 1);
            out.push_str(value);
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    fn sends_body(&self) -> bool {
        self.method == Method::POST || self.method == Method::PATCH || self.method == Method::PUT
    }
}

fn document() -> Value {
    serde_json::from_str(&guild_api::app::openapi_json()).expect("the generated document is JSON")
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("path item") {
            let method = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            ops.push(Operation {
                method,
                path: path.clone(),
                spec: spec.clone(),
            });
        }
    }
    assert!(
        ops.len() >= 30,
        "the document lists too few operations: {}",
        ops.len()
    );
    ops
}

/// Resolves a `$ref` to `#/components/responses/...`.
fn resolve<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &doc["components"]["responses"][name]
        }
        None => response,
    }
}

#[test]
fn every_operation_documents_401_and_a_problem_response() {
    // rule API-7: every endpoint documents its error responses
    let doc = document();
    let mut missing = Vec::new();
    for op in operations(&doc) {
        let responses = op.spec["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if !op.public() && !responses.contains_key("401") {
            missing.push(format!("{}: no 401 response", op.name()));
        }
        let problem = responses.iter().any(|(status, r)| {
            let error = status.starts_with('4') || status.starts_with('5');
            error
                && resolve(&doc, r)["content"]
                    .get("application/problem+json")
                    .is_some()
        });
        if !problem {
            missing.push(format!(
                "{}: no 4xx/5xx application/problem+json response",
                op.name()
            ));
        }
        if op.spec["operationId"].as_str().is_none_or(str::is_empty) {
            missing.push(format!("{}: no operationId", op.name()));
        }
    }
    assert!(
        missing.is_empty(),
        "operations with undocumented errors:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_response_has_a_description_and_every_operation_a_summary() {
    // rule API-7: a Response Object without `description` is invalid OpenAPI,
    // and SDK generators use the summary as the method's documentation.
    let doc = document();
    for op in operations(&doc) {
        for (status, response) in op.spec["responses"].as_object().expect("responses") {
            let response = resolve(&doc, response);
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                !description.is_empty(),
                "{} answers {status} without a description",
                op.name()
            );
        }
        let summary = op.spec["summary"].as_str().unwrap_or_default();
        assert!(
            !summary.is_empty(),
            "{} has no summary (doc comment)",
            op.name()
        );
    }
}

#[test]
fn operation_ids_are_unique() {
    // rule API-7: client SDKs are generated from the document; operationId names their methods
    let doc = document();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for op in operations(&doc) {
        let id = op.spec["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        seen.entry(id).or_default().push(op.name());
    }
    let duplicates: Vec<String> = seen
        .iter()
        .filter(|(_, ops)| ops.len() > 1)
        .map(|(id, ops)| format!("{id}: {}", ops.join(", ")))
        .collect();
    assert!(
        duplicates.is_empty(),
        "duplicate operationIds (OpenAPI requires them unique):\n{}",
        duplicates.join("\n")
    );
}

#[test]
fn document_is_openapi_3_1_with_a_license_and_bearer_security() {
    // rule API-7
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let license = &doc["info"]["license"];
    assert!(
        license["name"].as_str().is_some_and(|s| !s.is_empty()),
        "info.license.name: {license}"
    );
    assert!(
        license["identifier"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "info.license.identifier: {license}"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["security"],
        json!([{"bearer": []}]),
        "operations are protected unless marked public"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[test]
fn committed_document_is_up_to_date() {
    // rule API-7: the committed openapi/openapi.json is the generated document
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read openapi/openapi.json ({e}); run make openapi"));
    let generated = guild_api::app::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code; run make openapi"
    );
}

/// Org A with every kind of resource, and org B's two accounts.
struct Tenants {
    a: OrgFixture,
    b: OrgFixture,
    person: String,
    account_change: String,
    /// Association data (PRG-1): a program every role may read.
    program: String,
    /// Association data (PLN-1): a published plan, and its year for the public path.
    plan: String,
    plan_year: String,
    /// Association data (CLS-1): a class every role may read.
    class: String,
    /// Association data (TCH-1): a teacher appointment (staff only).
    appointment: String,
    /// Org A's enrolment in the class (ENR-1), also the key of its ledger.
    enrolment: String,
    /// A notification in the inbox of org A's filler (its enrolment was returned).
    notification: String,
    /// Association data (DSC-4): a ban of org A's person (staff only; org users get 403).
    ban: String,
    /// Org A's deferral of a second, paid enrolment (DEF-1).
    deferral: String,
    /// Org A's substitution on its first enrolment (DEF-3).
    substitution: String,
    /// Org A's exam sanction: a cheating warning of a fifth person's
    /// registration in a sitting held on the start day (DSC-1).
    sanction: String,
    /// Org A's leave request for the deferral's (still paid) enrolment (ATT-2).
    leave_request: String,
    /// Association data (EXM-5): an exam sitting of the class, read by every role.
    sitting: String,
    /// Org A's personal refund of a fourth person's deferred enrolment (REF-2).
    refund: String,
    /// Org A's certificates, requests and archive (CRT-1 to CRT-7, ARC-1).
    certs: CertificateFixtures,
    /// Org A's CE provider application and employer activity (CED-3, CED-4).
    ce_provider: String,
    ce_activity: String,
    /// Org A's reviewer's webhook subscription (API-8).
    webhook: String,
}

/// A certificate of org A's sixth person (CRT-1), its verification code
/// (public, CRT-2), org A's reissue request for it (CRT-5), the archive its
/// class's publication opened (ARC-1) and a forgery report against org A
/// (CRT-7, staff only).
struct CertificateFixtures {
    certificate: String,
    code: String,
    request: String,
    archive: String,
    forgery_report: String,
}

fn tenants(app: &TestApp, admin: &str) -> Tenants {
    let a = app.org_with_accounts(admin, "alpha");
    let b = app.org_with_accounts(admin, "beta");
    let person = app.create_person(&a.filler, "Wang Wu", &valid_id_number(1), None);
    person.assert_status(201);
    let change = app.post(
        &format!("/api/v1/organisations/{}/account-changes", a.id),
        Some(&a.reviewer),
        json!({"role": "org_filler", "username": "alpha.next", "display_name": "Next", "password": "Next-Pass-2026", "reason": "more work"}),
    );
    change.assert_status(201);
    let program = app.post(
        "/api/v1/programs",
        Some(admin),
        json!({"code": "COV-1", "name": "Coverage program", "target_categories": ["safety_manager"], "training_fee_fen": 100, "exam_fee_fen": 50, "exam": {"theory": {"mode": "open_book", "pass_mark": 60}}, "certificate_name": "Coverage certificate"}),
    );
    program.assert_status(201);
    let plan = app.post(
        "/api/v1/plans",
        Some(admin),
        json!({"year": 2027, "title": "Coverage plan", "items": [{"program_id": program.id(), "planned_classes": 1}]}),
    );
    plan.assert_status(201);
    app.post(
        &format!("/api/v1/plans/{}/publish", plan.id()),
        Some(admin),
        json!({}),
    )
    .assert_status(200);
    let term = app.post(
        "/api/v1/teachers/terms",
        Some(admin),
        json!({"name": "Coverage board", "starts_on": "2026-01-01", "ends_on": "2029-12-31"}),
    );
    term.assert_status(201);
    let (teacher_id, _) = app.create_user_with_id(admin, "coverage.teacher", "teacher", None);
    let appointment = app.post(
        "/api/v1/teachers",
        Some(admin),
        json!({"user_id": teacher_id, "term_id": term.id()}),
    );
    appointment.assert_status(201);
    let class = app.post(
        "/api/v1/classes",
        Some(admin),
        json!({"program_id": program.id(), "code": "COV-1-2027-01", "title": "Coverage class", "start_date": "2027-03-01", "end_date": "2027-03-02", "place": "Room 1", "capacity": 10, "class_head_user_id": teacher_id}),
    );
    class.assert_status(201);
    let (enrolment, notification, ban) =
        enrolment_fixtures(app, admin, &a, &person.id(), &class.id());
    let (deferral, substitution) = deferral_fixtures(app, admin, &a, &enrolment, &class.id());
    let (leave_request, sitting) = attendance_fixtures(app, admin, &a, &class.id(), &deferral);
    let refund = refund_fixture(app, admin, &a, &class.id());
    let sanction = sanction_fixture(app, admin, &a, &program.id());
    let certs = certificate_fixtures(app, admin, &a, &program.id());
    let ce_provider = app.post(
        "/api/v1/ce/providers",
        Some(&a.reviewer),
        crate::ce_register::application("Alpha Academy", "Wucheng"),
    );
    ce_provider.assert_status(201);
    let ce_activity = crate::ce_register::employer_activity(app, &a.filler);
    let webhook = app.post(
        "/api/v1/webhooks",
        Some(&a.reviewer),
        json!({"url": "https://hooks.example.com/alpha", "event_types": ["refund.paid"]}),
    );
    webhook.assert_status(201);
    Tenants {
        webhook: webhook.id(),
        a,
        b,
        person: person.id(),
        account_change: change.id(),
        program: program.id(),
        plan: plan.id(),
        plan_year: "2027".to_owned(),
        class: class.id(),
        appointment: appointment.id(),
        enrolment,
        notification,
        ban,
        deferral,
        substitution,
        refund,
        leave_request,
        sitting,
        sanction,
        certs,
        ce_provider: ce_provider.id(),
        ce_activity,
    }
}

/// See [`CertificateFixtures`]: a class of the coverage program that starts
/// today, one paid enrolment of a new person of org A, passed, published and
/// issued by the administrator.
fn certificate_fixtures(
    app: &TestApp,
    admin: &str,
    a: &OrgFixture,
    program: &str,
) -> CertificateFixtures {
    use crate::classes::{action, check_mandatory_items, class_body, create_class};
    let today = (guild_tests::start_time() + chrono::Duration::hours(8))
        .date_naive()
        .to_string();
    let class = create_class(
        app,
        admin,
        class_body(program, "COV-1-2026-02", &today, &today),
    );
    action(app, admin, &class, "open", None).assert_status(200);
    check_mandatory_items(app, admin, &class);
    let finance = app.create_user(admin, "coverage.certificates", "finance", None);
    let person = app.create_person(&a.filler, "Qian Ba", &valid_id_number(51), None);
    person.assert_status(201);
    let paid = app.post(
        "/api/v1/enrolments",
        Some(&a.filler),
        json!({"class_id": class, "person_id": person.id(), "submit": true}),
    );
    paid.assert_status(201);
    let paid = paid.id();
    for (token, action) in [(a.reviewer.as_str(), "approve"), (admin, "confirm")] {
        app.post(
            &format!("/api/v1/enrolments/{paid}/{action}"),
            Some(token),
            json!({}),
        )
        .assert_status(200);
    }
    app.post(
        &format!("/api/v1/enrolments/{paid}/payments"),
        Some(&finance),
        json!({"amount_fen": 150, "reference": "COV-CERT"}),
    )
    .assert_status(201);
    action(app, admin, &class, "start", None).assert_status(200);
    let issued = crate::certificates::pass_and_issue(app, admin, &class, &[paid], &today);
    let certificate = issued[0]["id"].as_str().expect("a certificate").to_owned();
    let code = issued[0]["code"].as_str().expect("a code").to_owned();
    let request = app.post(
        "/api/v1/certificate-requests",
        Some(&a.reviewer),
        json!({"certificate_id": certificate, "kind": "reissue", "reason": "coverage", "physical_card": false}),
    );
    request.assert_status(201);
    let archives = app.get(&format!("/api/v1/archives?class_id={class}"), Some(admin));
    archives.assert_status(200);
    let archive = archives.body["items"][0]["id"]
        .as_str()
        .expect("an archive")
        .to_owned();
    let forgery = app.post(
        "/api/v1/forgery-reports",
        Some(admin),
        json!({"organisation_id": a.id, "description": "coverage", "evidence_reference": "COV-FORGERY"}),
    );
    forgery.assert_status(201);
    CertificateFixtures {
        certificate,
        code,
        request: request.id(),
        archive,
        forgery_report: forgery.id(),
    }
}

/// Org A's sanction (DSC-1): a fifth person's paid enrolment registered for a
/// sitting held today (the clock's start day in Asia/Shanghai) of a class of
/// the program starting today,
/// and a cheating incident recorded by the administrator (a warning).
fn sanction_fixture(app: &TestApp, admin: &str, a: &OrgFixture, program: &str) -> String {
    use crate::classes::{action, check_mandatory_items, class_body, create_class};
    let today = (guild_tests::start_time() + chrono::Duration::hours(8))
        .date_naive()
        .to_string();
    // A sitting is never dated before its class starts (EXM-5): a class of today.
    let class = &create_class(
        app,
        admin,
        class_body(program, "COV-1-2026-03", &today, &today),
    );
    action(app, admin, class, "open", None).assert_status(200);
    check_mandatory_items(app, admin, class);
    let finance = app.create_user(admin, "coverage.sanctions", "finance", None);
    let person = app.create_person(&a.filler, "Sun Qi", &valid_id_number(41), None);
    person.assert_status(201);
    let paid = app.post(
        "/api/v1/enrolments",
        Some(&a.filler),
        json!({"class_id": class, "person_id": person.id(), "submit": true}),
    );
    paid.assert_status(201);
    let paid = paid.id();
    for (token, action) in [(a.reviewer.as_str(), "approve"), (admin, "confirm")] {
        app.post(
            &format!("/api/v1/enrolments/{paid}/{action}"),
            Some(token),
            json!({}),
        )
        .assert_status(200);
    }
    app.post(
        &format!("/api/v1/enrolments/{paid}/payments"),
        Some(&finance),
        json!({"amount_fen": 150, "reference": "COV-SANCTION"}),
    )
    .assert_status(201);
    let sitting = app.post(
        "/api/v1/sittings",
        Some(admin),
        json!({"class_id": class, "kind": "first", "held_on": today, "starts_at": "09:00", "place": "Room 2"}),
    );
    sitting.assert_status(201);
    let registered = app.post(
        &format!("/api/v1/sittings/{}/registrations", sitting.id()),
        Some(admin),
        json!({"enrolment_ids": [paid]}),
    );
    registered.assert_status(201);
    let registration = registered.body["registered"][0]["id"]
        .as_str()
        .expect("a registration")
        .to_owned();
    let sanction = app.post(
        &format!("/api/v1/sittings/{}/incidents", sitting.id()),
        Some(admin),
        json!({"registration_id": registration, "offence": "cheating", "description": "coverage", "evidence_reference": "COV-CCTV"}),
    );
    sanction.assert_status(201);
    sanction.id()
}

/// Org A's leave request (ATT-2), filed by its reviewer for the paid
/// enrolment of `deferral` for a session added to the class, and an exam
/// sitting of the class (EXM-5).
fn attendance_fixtures(
    app: &TestApp,
    admin: &str,
    a: &OrgFixture,
    class: &str,
    deferral: &str,
) -> (String, String) {
    let r = app.patch(
        &format!("/api/v1/classes/{class}"),
        Some(admin),
        json!({"sessions": [{"session_date": "2027-03-01", "starts_at": "09:00", "ends_at": "12:00", "topic": "Coverage"}]}),
    );
    r.assert_status(200);
    let session = r.body["sessions"][0]["id"]
        .as_str()
        .expect("a session")
        .to_owned();
    let deferral = app.get(&format!("/api/v1/deferrals/{deferral}"), Some(admin));
    deferral.assert_status(200);
    let leave = app.post(
        "/api/v1/leave-requests",
        Some(&a.reviewer),
        json!({"enrolment_id": deferral.body["enrolment_id"], "session_id": session, "reason": "coverage"}),
    );
    leave.assert_status(201);
    let sitting = app.post(
        "/api/v1/sittings",
        Some(admin),
        json!({"class_id": class, "kind": "first", "held_on": "2027-03-02", "starts_at": "09:00", "place": "Room 1"}),
    );
    sitting.assert_status(201);
    (leave.id(), sitting.id())
}

/// Org A's personal refund (REF-2): a fourth person's paid enrolment, deferred
/// (filed by its reviewer, approved by the administrator), then the refund
/// requested by its reviewer.
fn refund_fixture(app: &TestApp, admin: &str, a: &OrgFixture, class: &str) -> String {
    let finance = app.create_user(admin, "coverage.refunds", "finance", None);
    let person = app.create_person(&a.filler, "Zhao Liu", &valid_id_number(4), None);
    person.assert_status(201);
    let paid = app.post(
        "/api/v1/enrolments",
        Some(&a.filler),
        json!({"class_id": class, "person_id": person.id(), "submit": true}),
    );
    paid.assert_status(201);
    let paid = paid.id();
    for (token, action) in [(a.reviewer.as_str(), "approve"), (admin, "confirm")] {
        app.post(
            &format!("/api/v1/enrolments/{paid}/{action}"),
            Some(token),
            json!({}),
        )
        .assert_status(200);
    }
    app.post(
        &format!("/api/v1/enrolments/{paid}/payments"),
        Some(&finance),
        json!({"amount_fen": 150, "reference": "COV-2"}),
    )
    .assert_status(201);
    let deferral = app.post(
        "/api/v1/deferrals",
        Some(&a.reviewer),
        json!({"enrolment_id": paid, "letter_reference": "COV-LETTER-2", "reason": "coverage"}),
    );
    deferral.assert_status(201);
    app.post(
        &format!("/api/v1/deferrals/{}/approve", deferral.id()),
        Some(admin),
        json!({}),
    )
    .assert_status(200);
    let refund = app.post(
        "/api/v1/refunds",
        Some(&a.reviewer),
        json!({"enrolment_id": paid, "reason": "coverage"}),
    );
    refund.assert_status(201);
    refund.id()
}

/// Org A's deferral (filed by its reviewer for a second person's paid
/// enrolment) and substitution (filed by its filler on `enrolment`, naming a
/// third person of org A).
fn deferral_fixtures(
    app: &TestApp,
    admin: &str,
    a: &OrgFixture,
    enrolment: &str,
    class: &str,
) -> (String, String) {
    let finance = app.create_user(admin, "coverage.finance", "finance", None);
    let person = app.create_person(&a.filler, "Li Si", &valid_id_number(2), None);
    person.assert_status(201);
    let paid = app.post(
        "/api/v1/enrolments",
        Some(&a.filler),
        json!({"class_id": class, "person_id": person.id(), "submit": true}),
    );
    paid.assert_status(201);
    let paid = paid.id();
    for (token, action) in [(a.reviewer.as_str(), "approve"), (admin, "confirm")] {
        app.post(
            &format!("/api/v1/enrolments/{paid}/{action}"),
            Some(token),
            json!({}),
        )
        .assert_status(200);
    }
    app.post(
        &format!("/api/v1/enrolments/{paid}/payments"),
        Some(&finance),
        json!({"amount_fen": 150, "reference": "COV-1"}),
    )
    .assert_status(201);
    let deferral = app.post(
        "/api/v1/deferrals",
        Some(&a.reviewer),
        json!({"enrolment_id": paid, "letter_reference": "COV-LETTER-1", "reason": "coverage"}),
    );
    deferral.assert_status(201);
    let other = app.create_person(&a.filler, "Zhang San", &valid_id_number(3), None);
    other.assert_status(201);
    let substitution = app.post(
        "/api/v1/substitutions",
        Some(&a.filler),
        json!({"enrolment_id": enrolment, "new_person_id": other.id(), "reason": "coverage"}),
    );
    substitution.assert_status(201);
    (deferral.id(), substitution.id())
}

/// Org A's enrolment (returned by its reviewer, which leaves a notification in
/// the filler's inbox) and a ban of org A's person.
fn enrolment_fixtures(
    app: &TestApp,
    admin: &str,
    a: &OrgFixture,
    person: &str,
    class: &str,
) -> (String, String, String) {
    let enrolment = app.post(
        "/api/v1/enrolments",
        Some(&a.filler),
        json!({"class_id": class, "person_id": person, "submit": true}),
    );
    enrolment.assert_status(201);
    app.post(
        &format!("/api/v1/enrolments/{}/reject", enrolment.id()),
        Some(&a.reviewer),
        json!({"reason": "coverage"}),
    )
    .assert_status(200);
    let inbox = app.get("/api/v1/notifications", Some(&a.filler));
    inbox.assert_status(200);
    let notification = inbox.body["items"][0]["id"]
        .as_str()
        .expect("a notification")
        .to_owned();
    let ban = app.post(
        "/api/v1/bans",
        Some(admin),
        json!({"person_id": person, "scope": "all", "starts_on": "2030-01-01", "ends_on": "2030-12-31", "reason": "coverage"}),
    );
    ban.assert_status(201);
    (enrolment.id(), notification, ban.id())
}

/// Org A's real id for an operation's path, by the resource the path starts with.
fn real_id<'a>(t: &'a Tenants, op: &Operation) -> &'a str {
    let prefixes: &[(&str, &str)] = &[
        ("/api/v1/organisations/{", &t.a.id),
        ("/api/v1/people/{", &t.person),
        ("/api/v1/users/{", &t.a.filler_id),
        ("/api/v1/account-changes/{", &t.account_change),
        ("/api/v1/programs/{", &t.program),
        ("/api/v1/plans/{", &t.plan),
        ("/api/v1/public/plans/{", &t.plan_year),
        ("/api/v1/classes/{", &t.class),
        ("/api/v1/teachers/{", &t.appointment),
        ("/api/v1/enrolments/{", &t.enrolment),
        ("/api/v1/notifications/{", &t.notification),
        ("/api/v1/bans/{", &t.ban),
        ("/api/v1/deferrals/{", &t.deferral),
        ("/api/v1/substitutions/{", &t.substitution),
        ("/api/v1/sanctions/{", &t.sanction),
        ("/api/v1/leave-requests/{", &t.leave_request),
        ("/api/v1/sittings/{", &t.sitting),
        ("/api/v1/refunds/{", &t.refund),
        ("/api/v1/certificates/{", &t.certs.certificate),
        ("/api/v1/certificate-requests/{", &t.certs.request),
        ("/api/v1/forgery-reports/{", &t.certs.forgery_report),
        ("/api/v1/public/certificates/{", &t.certs.code),
        ("/verify/{", &t.certs.code),
        ("/api/v1/archives/calendar/{", "2026-10-01"),
        ("/api/v1/archives/{", &t.certs.archive),
        ("/api/v1/ce/providers/{", &t.ce_provider),
        ("/api/v1/ce/activities/{", &t.ce_activity),
        ("/api/v1/ce/compliance/{", &t.person),
        ("/api/v1/ce/requirements/{", "Wucheng"),
        ("/api/v1/webhooks/{", &t.webhook),
    ];
    prefixes
        .iter()
        .find(|(p, _)| op.path.starts_with(p))
        .map(|(_, id)| *id)
        .unwrap_or_else(|| {
            panic!(
                "{}: add its resource to the tenant map in coverage.rs",
                op.name()
            )
        })
}

/// Shared, non-tenant resources: association data that every organisation user
/// may legitimately read (programs, PRG-1) or that is public (published plans, PLN-1; certificate verification by
/// code, CRT-2). Reading a real id answers 200 where a random id answers 404 (or 400
/// for a year), so their GET operations are skipped in the comparison of org A's
/// ids with unknown ones; their write operations are still compared.
const SHARED_READS: &[&str] = &[
    "/api/v1/programs/{",
    "/api/v1/public/plans/{",
    "/api/v1/public/certificates/{",
    "/verify/{",
];

/// Shared reads matched by their exact path, where the paths below them hold
/// organisation data that must still be compared: a class (CLS-1) is read by
/// every role, but e.g. its enrolments and waiting list are not.
///
/// The waiting list (CLS-3) answers every organisation 200 for any real class:
/// it filters the entries to the caller's own organisation, so org B sees the
/// class's capacity and seat counts (as on GET /classes/{id}) and an empty list.
///
/// The attendance sheet (ATT-1) and the results (EXM-5) of a class likewise
/// answer every organisation 200, with only its own trainees' rows (none for
/// org B). A sitting (EXM-5) is association data: its time and place are
/// read by every role, without any trainee's data.
const SHARED_EXACT_READS: &[&str] = &[
    "/api/v1/classes/{id}",
    "/api/v1/classes/{id}/waiting-list",
    "/api/v1/classes/{id}/attendance",
    "/api/v1/classes/{id}/results",
    "/api/v1/sittings/{id}",
];

fn is_shared_read(op: &Operation) -> bool {
    op.method == Method::GET
        && (SHARED_READS.iter().any(|p| op.path.starts_with(p))
            || SHARED_EXACT_READS.contains(&op.path.as_str()))
}

/// A body that passes validation, so the request reaches the visibility check.
fn plausible_body(op: &Operation, n: usize) -> Value {
    let path = op.path.as_str();
    if path.ends_with("/reject") || path.ends_with("/suspend") {
        json!({"reason": "coverage"})
    } else if path.ends_with("/transfer") {
        json!({"class_id": uuid::Uuid::new_v4()})
    } else if path.ends_with("/reset-password") {
        json!({"new_password": "Coverage-Pass-2026"})
    } else if path.ends_with("/account-changes") {
        json!({"role": "org_filler", "username": format!("coverage.{n}"), "display_name": "Coverage", "password": "Coverage-Pass-2026", "reason": "coverage"})
    } else if op.method == Method::PATCH && path.starts_with("/api/v1/organisations/") {
        json!({"region": "Coverage"})
    } else if op.method == Method::PATCH && path.starts_with("/api/v1/people/") {
        json!({"phone": "13800138000"})
    } else if op.method == Method::PATCH && path.starts_with("/api/v1/users/") {
        json!({"display_name": "Coverage"})
    } else {
        json!({})
    }
}

backend_tests! {
    // rule ACC-1: every non-public operation refuses a caller without a token
    fn every_protected_operation_refuses_an_unauthenticated_caller(app: TestApp) {
        let doc = document();
        let mut wrong = Vec::new();
        let mut protected = 0;
        for op in operations(&doc) {
            let path = op.with_ids(&uuid::Uuid::new_v4().to_string());
            let body = op.sends_body().then(|| json!({}));
            let r = app.request(op.method.clone(), &path, None, body.as_ref(), &[]);
            if op.public() {
                if r.status == 401 && r.code() == "unauthenticated" {
                    wrong.push(format!("{}: public but asks for a token", op.name()));
                }
                continue;
            }
            protected += 1;
            let problem = r.header("content-type").starts_with("application/problem+json");
            if r.status != 401 || r.code() != "unauthenticated" || !problem {
                wrong.push(format!("{}: {} {} ({})", op.name(), r.status, r.code(), r.header("content-type")));
            } else if !r.header("www-authenticate").starts_with("Bearer") {
                wrong.push(format!("{}: 401 without WWW-Authenticate: Bearer", op.name()));
            }
        }
        assert!(protected >= 25, "only {protected} protected operations found");
        assert!(wrong.is_empty(), "operations that do not answer 401 unauthenticated without a token:\n{}", wrong.join("\n"));
    }

    // rule ACC-1: a garbage token is as good as none
    fn every_protected_operation_refuses_a_forged_token(app: TestApp) {
        let doc = document();
        let mut wrong = Vec::new();
        for op in operations(&doc).into_iter().filter(|o| !o.public()) {
            let path = op.with_ids(&uuid::Uuid::new_v4().to_string());
            let body = op.sends_body().then(|| json!({}));
            let r = app.request(op.method.clone(), &path, Some("eyJhbGciOiJub25lIn0.e30."), body.as_ref(), &[]);
            if r.status != 401 || r.code() != "unauthenticated" {
                wrong.push(format!("{}: {} {}", op.name(), r.status, r.code()));
            }
        }
        assert!(wrong.is_empty(), "operations that accept a forged token:\n{}", wrong.join("\n"));
    }

    // rule ACC-2: another organisation's real ids answer exactly like ids that do not exist
    fn other_organisations_ids_answer_like_unknown_ids(app: TestApp) {
        let admin = app.admin();
        let t = tenants(&app, &admin);
        let doc = document();
        let ops: Vec<Operation> = operations(&doc).into_iter().filter(Operation::has_path_parameter).collect();
        assert!(ops.len() >= 15, "only {} operations with a path parameter", ops.len());
        // The ids are real: the admin can read each of them.
        for op in ops.iter().filter(|o| o.method == Method::GET) {
            app.get(&op.with_ids(real_id(&t, op)), Some(&admin)).assert_status(200);
        }
        let mut leaks = Vec::new();
        let mut checked = HashSet::new();
        for (n, op) in ops.iter().enumerate() {
            if is_shared_read(op) {
                checked.insert(op.name());
                continue;
            }
            for (who, token) in [("B filler", &t.b.filler), ("B reviewer", &t.b.reviewer)] {
                let body = op.sends_body().then(|| plausible_body(op, n));
                let unknown = app.request(
                    op.method.clone(),
                    &op.with_ids(&uuid::Uuid::new_v4().to_string()),
                    Some(token),
                    body.as_ref(),
                    &[],
                );
                let real = app.request(op.method.clone(), &op.with_ids(real_id(&t, op)), Some(token), body.as_ref(), &[]);
                checked.insert(op.name());
                let shape = |r: &guild_tests::Resp| (r.status, r.code().to_owned());
                if (200..300).contains(&real.status) {
                    leaks.push(format!("{} as {who}: {} for org A's id: {:#}", op.name(), real.status, real.body));
                } else if shape(&real) != shape(&unknown) {
                    leaks.push(format!(
                        "{} as {who}: org A's id answers {:?}, an unknown id {:?}",
                        op.name(),
                        shape(&real),
                        shape(&unknown)
                    ));
                } else if !real.header("content-type").starts_with("application/problem+json") {
                    leaks.push(format!("{} as {who}: not problem+json", op.name()));
                }
            }
        }
        assert!(leaks.is_empty(), "tenant isolation (ACC-2) broken:\n{}", leaks.join("\n"));
        assert_eq!(checked.len(), ops.len());
        // Nothing of org A changed.
        let org = app.get(&format!("/api/v1/organisations/{}", t.a.id), Some(&admin));
        assert_eq!(org.body["status"], "approved");
        assert_eq!(org.body["version"], 2);
        let person = app.get(&format!("/api/v1/people/{}", t.person), Some(&admin));
        assert_eq!(person.body["version"], 1);
        let change = app.get(&format!("/api/v1/account-changes/{}", t.account_change), Some(&admin));
        assert_eq!(change.body["status"], "submitted");
        app.get("/api/v1/me", Some(&t.a.filler)).assert_status(200);
    }

    // rule ACC-2: the lists of org B's users hold nothing of org A
    fn lists_hold_nothing_of_another_organisation(app: TestApp) {
        let admin = app.admin();
        let t = tenants(&app, &admin);
        let a_ids = [t.a.id.as_str(), t.a.filler_id.as_str(), t.a.reviewer_id.as_str(), t.person.as_str(), t.account_change.as_str(), t.enrolment.as_str(), t.notification.as_str(), t.deferral.as_str(), t.substitution.as_str(), t.refund.as_str(), t.leave_request.as_str(), t.sanction.as_str(), t.certs.certificate.as_str(), t.certs.request.as_str(), t.ce_provider.as_str(), t.ce_activity.as_str(), t.webhook.as_str()];
        for path in ["/api/v1/organisations", "/api/v1/users", "/api/v1/people", "/api/v1/account-changes", "/api/v1/audit-events", "/api/v1/enrolments", "/api/v1/notifications", "/api/v1/deferrals", "/api/v1/substitutions", "/api/v1/refunds", "/api/v1/leave-requests", "/api/v1/sanctions", "/api/v1/certificates", "/api/v1/certificate-requests", "/api/v1/ce/providers", "/api/v1/ce/activities", "/api/v1/ce/credits"] {
            for token in [&t.b.filler, &t.b.reviewer] {
                let items = Value::Array(app.list_all(path, token)).to_string();
                for id in a_ids {
                    assert!(!items.contains(id), "{path} shows org A's {id} to org B");
                }
            }
        }
    }

    // rule API-2: no bad input makes any operation answer 5xx or anything but problem+json
    fn no_operation_fails_with_5xx_on_bad_input(app: TestApp) {
        let doc = document();
        let nested = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let bodies: Vec<Vec<u8>> = vec![
            b"{}".to_vec(),
            b"[]".to_vec(),
            b"null".to_vec(),
            b"\"text\"".to_vec(),
            b"{\"x\":".to_vec(),
            vec![0xff, 0xfe, 0x7b, 0x7d],
            nested.into_bytes(),
            br#"{"name": "\u0000", "id_number": "\ud800", "limit": 1e400}"#.to_vec(),
        ];
        let queries = ["", "?limit=abc", "?cursor=%FF%FE", "?limit=99999999999", "?unknown=1", "?organisation_id=%00"];
        let long = "a".repeat(300);
        let mut failures = Vec::new();
        for op in operations(&doc) {
            // A fresh token per operation: some operations (logout, password) end the session.
            let token = app.admin();
            let ids: Vec<String> = if op.has_path_parameter() {
                vec![uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned(), "%FF%FE".to_owned(), long.clone()]
            } else {
                vec![String::new()]
            };
            for id in &ids {
                let path = op.with_ids(id);
                let mut answers = Vec::new();
                if op.sends_body() {
                    for body in &bodies {
                        answers.push((
                            format!("body {:?}", String::from_utf8_lossy(&body[..body.len().min(20)])),
                            app.send_raw(op.method.clone(), &path, Some(&token), Some("application/json"), body.clone()),
                        ));
                    }
                } else {
                    for q in queries {
                        answers.push((format!("query {q:?}"), app.request(op.method.clone(), &format!("{path}{q}"), Some(&token), None, &[])));
                    }
                }
                for (what, r) in answers {
                    let problem = r.header("content-type").starts_with("application/problem+json");
                    if r.status >= 500 || (r.status >= 400 && !problem) {
                        failures.push(format!("{} {path} with {what}: {} {} ({})", op.method, r.status, r.code(), r.header("content-type")));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "bad input answered with 5xx or without problem+json:\n{}", failures.join("\n"));
    }
}
