//! The CE register's read side over HTTP (CED-1, CED-2, CED-5, CED-6):
//! regional requirements, a person's yearly compliance with what is missing,
//! an organisation's list of who is behind, the credit register's visibility
//! and the authority's statistics as JSON and CSV. Credits are recorded
//! through the write side's endpoints (fixtures in `ce_register.rs`).

use guild_tests::{TestApp, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

use crate::ce_register::{
    Provider, accredited_provider, activity, activity_body, authority, organisation,
    record_credits, record_credits_with,
};
use crate::enrolments::trainee_account;

/// The year the tests' credits count for (the test clock starts in March 2026).
const YEAR: i32 = 2026;

/// An accredited provider, the authority and one member company (region
/// `region`) with a filler account.
pub struct Ce {
    pub admin: String,
    pub authority: String,
    pub provider: Provider,
    pub org: String,
    pub filler: String,
}

/// The CE world of a test: the provider `{tag}` and the organisation "Alpha Gas {tag}".
pub fn setup(app: &TestApp, tag: &str, region: &str) -> Ce {
    let admin = app.admin();
    let authority = authority(app, &admin, &format!("{tag}.authority"));
    let provider = accredited_provider(app, &admin, &authority, tag);
    let org = organisation(
        app,
        &admin,
        &format!("Alpha Gas {tag}"),
        "member_company",
        region,
    );
    let filler = app.create_user(&admin, &format!("{tag}.filler"), "org_filler", Some(&org));
    Ce {
        admin,
        authority,
        provider,
        org,
        filler,
    }
}

/// A skilled person of `org` (occupation "Pipeline fitter", level 4) whose
/// skill certificate was issued on `issued_on` (none: not skilled yet); the
/// ID number is `valid_id_number(n)`. Returns the person id.
#[track_caller]
pub fn skilled(
    app: &TestApp,
    admin: &str,
    name: &str,
    n: u32,
    org: &str,
    issued_on: Option<&str>,
) -> String {
    let mut body = json!({
        "name": name,
        "gender": "male",
        "id_type": "resident_id",
        "id_number": guild_tests::valid_id_number(n),
        "organisation_id": org,
        "occupation": "Pipeline fitter",
    });
    if let Some(date) = issued_on {
        body["skill_level"] = json!("level_4");
        body["skill_certificate_number"] = json!(format!("JH-{n}"));
        body["skill_certificate_issued_on"] = json!(date);
    }
    let r = app.post("/api/v1/people", Some(admin), body);
    r.assert_status(201);
    r.id()
}

/// The provider runs an activity of `credits` credits in `subject` and
/// records them for `people`; returns the activity id.
#[track_caller]
pub fn earn(app: &TestApp, ce: &Ce, subject: &str, credits: i64, people: &[&str]) -> String {
    let act = activity(
        app,
        &ce.provider.token,
        activity_body("offline_class", subject, credits, false),
    );
    record_credits(app, &ce.provider.token, &act, people);
    act
}

/// The provider runs a professional online test worth `credits` and records
/// them for `person`, who passed (CED-2: exam-based credits).
#[track_caller]
fn pass_exam(app: &TestApp, ce: &Ce, subject: &str, credits: i64, person: &str) {
    let act = activity(
        app,
        &ce.provider.token,
        activity_body("online_test", subject, credits, true),
    );
    let r = record_credits_with(
        app,
        &ce.provider.token,
        &act,
        json!([{"person_id": person, "exam_passed": true, "exam_score": 86}]),
        &[],
    );
    r.assert_status(200);
    assert_eq!(r.body["recorded"], json!(1), "{:#}", r.body);
}

/// `GET /ce/compliance/{person}?year=YEAR`.
fn compliance(app: &TestApp, token: &str, person: &str) -> guild_tests::Resp {
    app.get(
        &format!("/api/v1/ce/compliance/{person}?year={YEAR}"),
        Some(token),
    )
}

/// `PUT /ce/requirements/{region}` with the four thresholds and extra headers.
fn set_requirement(
    app: &TestApp,
    token: &str,
    region: &str,
    [total, public, professional, exam]: [i64; 4],
    headers: &[(&str, &str)],
) -> guild_tests::Resp {
    app.request(
        Method::PUT,
        &format!("/api/v1/ce/requirements/{region}"),
        Some(token),
        Some(&json!({"total_credits": total, "public_credits": public, "professional_credits": professional, "exam_credits": exam})),
        headers,
    )
}

fn names(items: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = items
        .iter()
        .map(|i| i["person_name"].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

backend_tests! {
    fn fifty_five_credits_with_twelve_public_are_five_short_ced_2(app: TestApp) {
        // rule CED-2, CED-5: 12 public + 43 professional = 55 < 60
        let ce = setup(&app, "c55", "Wucheng");
        let ann = skilled(&app, &ce.admin, "Ann Zhao", 7001, &ce.org, Some("2024-06-01"));
        earn(&app, &ce, "public", 12, &[&ann]);
        earn(&app, &ce, "professional", 43, &[&ann]);
        let r = compliance(&app, &ce.admin, &ann);
        r.assert_status(200);
        let b = &r.body;
        assert_eq!(b["year"], json!(YEAR));
        assert_eq!(b["credits"], json!({"total": 55, "public": 12, "professional": 43, "exam": 0}));
        assert_eq!(b["met"], json!(false));
        assert_eq!(b["missing"], json!({"total": 5, "public": 0, "professional": 0, "exam": 0}));
        assert_eq!(b["credits_needed"], json!(5));
        assert_eq!(b["behind"], json!(true));
        assert_eq!(b["records"], json!(2));
        assert_eq!(b["hours"], json!(16));
        assert_eq!(b["fee_fen"], json!(40000));
        assert_eq!(b["requirement"]["region"], "Wucheng");
        assert_eq!(b["requirement"]["is_default"], json!(true));
        assert_eq!(
            [&b["requirement"]["total_credits"], &b["requirement"]["public_credits"], &b["requirement"]["professional_credits"], &b["requirement"]["exam_credits"]],
            [&json!(60), &json!(10), &json!(40), &json!(0)]
        );
        assert_eq!(b["obligation"]["status"], "required");
        assert_eq!(b["obligation"]["first_year"], json!(2025));
        assert_eq!(b["year_over"], json!(false));
        // the year defaults to the current one
        let now = app.get(&format!("/api/v1/ce/compliance/{ann}"), Some(&ce.admin));
        now.assert_status(200);
        assert_eq!(now.body["year"], json!(YEAR));
        assert_eq!(now.body["credits"]["total"], json!(55));
        // another year holds nothing of these credits
        let before = app.get(&format!("/api/v1/ce/compliance/{ann}?year=2025"), Some(&ce.admin));
        assert_eq!(before.body["credits"]["total"], json!(0));
        assert_eq!(before.body["missing"]["total"], json!(60));
        assert_eq!(before.body["year_over"], json!(true));
    }

    fn sixty_credits_with_eight_public_miss_two_public_until_met_ced_2(app: TestApp) {
        // rule CED-2, CED-5: the total is met, the public minimum is not
        let ce = setup(&app, "c60", "Wucheng");
        let bob = skilled(&app, &ce.admin, "Bob Qian", 7002, &ce.org, Some("2023-03-10"));
        earn(&app, &ce, "public", 8, &[&bob]);
        earn(&app, &ce, "professional", 52, &[&bob]);
        let r = compliance(&app, &ce.filler, &bob);
        r.assert_status(200);
        assert_eq!(r.body["credits"], json!({"total": 60, "public": 8, "professional": 52, "exam": 0}));
        assert_eq!(r.body["met"], json!(false));
        assert_eq!(r.body["missing"], json!({"total": 0, "public": 2, "professional": 0, "exam": 0}));
        assert_eq!(r.body["credits_needed"], json!(2));
        // two more public credits meet the year
        earn(&app, &ce, "public", 2, &[&bob]);
        let r = compliance(&app, &ce.filler, &bob);
        assert_eq!(r.body["credits"]["total"], json!(62));
        assert_eq!(r.body["met"], json!(true));
        assert_eq!(r.body["behind"], json!(false));
        assert_eq!(r.body["missing"], json!({"total": 0, "public": 0, "professional": 0, "exam": 0}));
        assert_eq!(r.body["credits_needed"], json!(0));
    }

    fn a_region_sets_its_own_thresholds_ced_2(app: TestApp) {
        // rule CED-2: thresholds are configuration per region, defaults elsewhere
        let ce = setup(&app, "creg", "Lanxi");
        let ann = skilled(&app, &ce.admin, "Ann Sun", 7011, &ce.org, Some("2020-01-01"));
        earn(&app, &ce, "public", 12, &[&ann]);
        earn(&app, &ce, "professional", 43, &[&ann]);
        assert_eq!(compliance(&app, &ce.admin, &ann).body["met"], json!(false));

        let listed = app.get("/api/v1/ce/requirements", Some(&ce.authority));
        listed.assert_status(200);
        assert_eq!(listed.body["defaults"]["total_credits"], json!(60));
        assert_eq!(listed.body["defaults"]["exam_credits"], json!(0));
        assert_eq!(listed.body["regions"], json!([]));

        // only the authority and the admin set them; organisations do not even read them
        set_requirement(&app, &ce.filler, "Lanxi", [50, 10, 30, 0], &[]).assert_status(403);
        app.get("/api/v1/ce/requirements/Lanxi", Some(&ce.filler)).assert_status(403);
        // thresholds must fit together; a refusal changes nothing
        let bad = set_requirement(&app, &ce.authority, "Lanxi", [50, 10, 30, 31], &[]);
        bad.assert_problem(422, "validation_failed");
        assert!(bad.body.to_string().contains("exam_credits"), "{:#}", bad.body);
        set_requirement(&app, &ce.authority, "Lanxi", [30, 10, 30, 0], &[]).assert_problem(422, "validation_failed");
        set_requirement(&app, &ce.authority, "Lanxi", [50, -1, 30, 0], &[]).assert_status(422);
        assert_eq!(app.get("/api/v1/ce/requirements/Lanxi", Some(&ce.authority)).body["is_default"], json!(true));
        // a stale If-Match on a region without its own row is 412
        set_requirement(&app, &ce.authority, "Lanxi", [50, 10, 30, 0], &[("if-match", "\"3\"")]).assert_status(412);

        let created = set_requirement(&app, &ce.authority, "Lanxi", [50, 10, 30, 0], &[]);
        created.assert_status(201);
        assert_eq!(created.body["version"], json!(1));
        assert_eq!(created.body["is_default"], json!(false));
        assert_eq!(created.header("etag"), "\"1\"");
        let r = compliance(&app, &ce.filler, &ann);
        assert_eq!(r.body["requirement"]["region"], "Lanxi");
        assert_eq!(r.body["requirement"]["total_credits"], json!(50));
        assert_eq!(r.body["met"], json!(true));

        // API-5: replacing needs the current version when one is named
        set_requirement(&app, &ce.admin, "Lanxi", [70, 15, 40, 0], &[("if-match", "\"9\"")]).assert_status(412);
        let replaced = set_requirement(&app, &ce.admin, "Lanxi", [70, 15, 40, 0], &[("if-match", "\"1\"")]);
        replaced.assert_status(200);
        assert_eq!(replaced.body["version"], json!(2));
        let r = compliance(&app, &ce.admin, &ann);
        assert_eq!(r.body["missing"], json!({"total": 15, "public": 3, "professional": 0, "exam": 0}));
        assert_eq!(r.body["credits_needed"], json!(15));

        // other regions keep the defaults
        let other = app.get("/api/v1/ce/requirements/Wucheng", Some(&ce.authority));
        other.assert_status(200);
        assert_eq!(other.body["is_default"], json!(true));
        assert_eq!(other.body["region"], "Wucheng");
        assert_eq!(other.body["total_credits"], json!(60));
        let listed = app.get("/api/v1/ce/requirements", Some(&ce.admin));
        assert_eq!(listed.body["regions"].as_array().map(Vec::len), Some(1));
        assert_eq!(listed.body["regions"][0]["region"], "Lanxi");
        // API-6: every change is audited
        let events = app.list_all("/api/v1/audit-events?entity_type=ce_requirement", &ce.admin);
        assert_eq!(events.len(), 2, "{events:#?}");
        // API-8: one event per change, none for the refusals
        let kinds: Vec<String> = app.outbox("ce_requirement", "Lanxi").into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["ce_requirement.set", "ce_requirement.set"]);
    }

    fn the_exam_based_minimum_counts_passed_professional_exams_ced_2(app: TestApp) {
        // rule CED-2: a configurable minimum of the professional credits from subject exams
        let ce = setup(&app, "cexam", "Yiwu");
        set_requirement(&app, &ce.authority, "Yiwu", [60, 10, 40, 20], &[]).assert_status(201);
        let cleo = skilled(&app, &ce.admin, "Cleo Li", 7021, &ce.org, Some("2022-09-09"));
        earn(&app, &ce, "public", 10, &[&cleo]);
        earn(&app, &ce, "professional", 50, &[&cleo]);
        let r = compliance(&app, &ce.admin, &cleo);
        assert_eq!(r.body["met"], json!(false));
        assert_eq!(r.body["missing"], json!({"total": 0, "public": 0, "professional": 0, "exam": 20}));
        // a public-subject exam is not a professional one
        pass_exam(&app, &ce, "public", 10, &cleo);
        let r = compliance(&app, &ce.admin, &cleo);
        assert_eq!(r.body["credits"]["exam"], json!(0));
        assert_eq!(r.body["missing"]["exam"], json!(20));
        pass_exam(&app, &ce, "professional", 15, &cleo);
        let r = compliance(&app, &ce.admin, &cleo);
        assert_eq!(r.body["credits"], json!({"total": 85, "public": 20, "professional": 65, "exam": 15}));
        assert_eq!(r.body["missing"]["exam"], json!(5));
        assert_eq!(r.body["credits_needed"], json!(5));
        pass_exam(&app, &ce, "professional", 5, &cleo);
        let r = compliance(&app, &ce.admin, &cleo);
        assert_eq!(r.body["credits"]["exam"], json!(20));
        assert_eq!(r.body["met"], json!(true));
        // the register shows which credits came from exams
        let exams = app.list_all(&format!("/api/v1/ce/credits?person_id={cleo}&subject_category=professional"), &ce.admin);
        assert_eq!(exams.len(), 3);
        assert_eq!(exams.iter().filter(|c| c["exam_based"] == json!(true)).count(), 2);
    }

    fn an_organisation_sees_who_is_behind_ced_5(app: TestApp) {
        // rule CED-5: an organisation's staff, with who is behind for the year
        let ce = setup(&app, "cbehind", "Wucheng");
        let ann = skilled(&app, &ce.admin, "Ann", 7031, &ce.org, Some("2021-01-01"));
        let bob = skilled(&app, &ce.admin, "Bob", 7032, &ce.org, Some("2021-01-01"));
        let cleo = skilled(&app, &ce.admin, "Cleo", 7033, &ce.org, Some("2024-12-31"));
        let dan = skilled(&app, &ce.admin, "Dan", 7034, &ce.org, None);
        let eve = skilled(&app, &ce.admin, "Eve", 7035, &ce.org, Some("2026-02-01"));
        earn(&app, &ce, "public", 10, &[&ann, &bob]);
        earn(&app, &ce, "professional", 50, &[&ann]);
        earn(&app, &ce, "professional", 30, &[&bob]);

        let behind = app.list_all(&format!("/api/v1/ce/compliance?year={YEAR}&behind=true"), &ce.filler);
        // Cleo has no credit at all and is the furthest behind; Dan has no
        // certificate (CED-1) and Eve was certified this year: neither is behind
        assert_eq!(names(&behind), ["Bob", "Cleo"]);
        let cleo_row = behind.iter().find(|v| v["person_id"] == json!(cleo)).unwrap();
        assert_eq!(cleo_row["missing"], json!({"total": 60, "public": 10, "professional": 40, "exam": 0}));
        assert_eq!(cleo_row["records"], json!(0));
        let bob_row = behind.iter().find(|v| v["person_id"] == json!(bob)).unwrap();
        assert_eq!(bob_row["missing"]["total"], json!(20));
        assert_eq!(bob_row["missing"]["professional"], json!(10));

        let all = app.list_all(&format!("/api/v1/ce/compliance?year={YEAR}"), &ce.filler);
        assert_eq!(names(&all), ["Ann", "Bob", "Cleo", "Dan", "Eve"]);
        let status = |p: &str| all.iter().find(|v| v["person_id"] == json!(p)).unwrap()["obligation"]["status"].clone();
        assert_eq!(status(&ann), "required");
        assert_eq!(status(&dan), "no_certificate");
        assert_eq!(status(&eve), "not_yet_required");
        // paging walks the same list
        let first = app.get(&format!("/api/v1/ce/compliance?year={YEAR}&behind=true&limit=1"), Some(&ce.filler));
        first.assert_status(200);
        assert_eq!(first.body["items"].as_array().map(Vec::len), Some(1));
        assert!(first.body["next_cursor"].is_string());

        // association staff and the authority name the organisation
        app.get(&format!("/api/v1/ce/compliance?year={YEAR}"), Some(&ce.authority)).assert_problem(422, "validation_failed");
        let by_authority = app.list_all(&format!("/api/v1/ce/compliance?year={YEAR}&behind=true&organisation_id={}", ce.org), &ce.authority);
        assert_eq!(names(&by_authority), ["Bob", "Cleo"]);
        // another organisation sees none of them (ACC-2)
        let other = app.org_with_accounts(&ce.admin, "cbehind.b");
        assert!(app.list_all(&format!("/api/v1/ce/compliance?year={YEAR}"), &other.filler).is_empty());
        assert!(app.list_all(&format!("/api/v1/ce/compliance?organisation_id={}", ce.org), &other.reviewer).is_empty());
        // a trainee reads only their own year
        let (_, ann_token) = trainee_account(&app, &ce.admin, "cbehind.ann", &ann);
        app.get("/api/v1/ce/compliance", Some(&ann_token)).assert_status(403);
    }

    fn each_sees_only_their_own_register_ced_5(app: TestApp) {
        // rule CED-5, ACC-2: the person themself, their organisation, staff and the authority
        let ce = setup(&app, "cvis", "Wucheng");
        let ann = skilled(&app, &ce.admin, "Ann Wu", 7041, &ce.org, Some("2021-01-01"));
        let bob = skilled(&app, &ce.admin, "Bob Wu", 7042, &ce.org, Some("2021-01-01"));
        let act = earn(&app, &ce, "professional", 20, &[&ann, &bob]);
        let (_, ann_token) = trainee_account(&app, &ce.admin, "cvis.ann", &ann);

        compliance(&app, &ann_token, &ann).assert_status(200);
        compliance(&app, &ann_token, &bob).assert_problem(404, "not_found");
        compliance(&app, &ce.filler, &ann).assert_status(200);
        compliance(&app, &ce.authority, &ann).assert_status(200);
        let other = app.org_with_accounts(&ce.admin, "cvis.b");
        compliance(&app, &other.filler, &ann).assert_problem(404, "not_found");
        compliance(&app, &other.filler, "0193a5f0-6a2b-7c8d-9e0f-112233445566").assert_problem(404, "not_found");
        compliance(&app, &ce.provider.token, &ann).assert_status(403);
        app.get(&format!("/api/v1/ce/compliance/{ann}?year=1800"), Some(&ce.admin)).assert_problem(422, "validation_failed");

        // the register: a trainee their own credits only
        let own = app.list_all("/api/v1/ce/credits", &ann_token);
        assert_eq!(own.len(), 1);
        assert_eq!(own[0]["person_id"], json!(ann));
        assert_eq!(own[0]["person_name"], "Ann Wu");
        assert_eq!(own[0]["credits"], json!(20));
        assert_eq!(own[0]["subject_category"], "professional");
        assert_eq!(own[0]["provider_id"], json!(ce.provider.id));
        assert!(app.list_all(&format!("/api/v1/ce/credits?person_id={bob}"), &ann_token).is_empty());
        // the organisation its staff's; another organisation nothing
        assert_eq!(app.list_all("/api/v1/ce/credits", &ce.filler).len(), 2);
        assert!(app.list_all("/api/v1/ce/credits", &other.filler).is_empty());
        // the provider the credits of its own activities; another provider none
        assert_eq!(app.list_all(&format!("/api/v1/ce/credits?activity_id={act}"), &ce.provider.token).len(), 2);
        let rival = accredited_provider(&app, &ce.admin, &ce.authority, "cvis2");
        assert!(app.list_all("/api/v1/ce/credits", &rival.token).is_empty());
        // staff and the authority filter the whole register
        assert_eq!(app.list_all(&format!("/api/v1/ce/credits?year={YEAR}&provider_id={}", ce.provider.id), &ce.authority).len(), 2);
        assert!(app.list_all("/api/v1/ce/credits?year=2025", &ce.admin).is_empty());
        app.get("/api/v1/ce/credits?subject_category=civic", Some(&ce.admin)).assert_status(400);
    }

    fn the_authority_reads_statistics_as_json_and_csv_ced_6(app: TestApp) {
        // rule CED-6: people, credits, hours and fees by year, region, organisation, occupation and provider
        let ce = setup(&app, "cstat", "Wucheng");
        let second = accredited_provider(&app, &ce.admin, &ce.authority, "cstat2");
        let lanxi = organisation(&app, &ce.admin, "Lanxi Water", "member_company", "Lanxi");
        let ann = skilled(&app, &ce.admin, "Ann", 7051, &ce.org, Some("2021-01-01"));
        let bob = skilled(&app, &ce.admin, "Bob", 7052, &ce.org, Some("2021-01-01"));
        let cleo = skilled(&app, &ce.admin, "Cleo", 7053, &lanxi, Some("2021-01-01"));
        earn(&app, &ce, "public", 10, &[&ann, &bob, &cleo]);
        earn(&app, &ce, "professional", 40, &[&ann]);
        let act = activity(&app, &second.token, activity_body("workshop", "professional", 5, false));
        record_credits(&app, &second.token, &act, &[&ann, &cleo]);

        let stat = |by: &str| {
            let r = app.get(&format!("/api/v1/ce/statistics?year={YEAR}&by={by}"), Some(&ce.authority));
            r.assert_status(200);
            r.body
        };
        let by_region = stat("region");
        assert_eq!(by_region["year"], json!(YEAR));
        assert_eq!(by_region["by"], "region");
        assert_eq!(
            by_region["groups"],
            json!([
                {"key": "Lanxi", "name": null, "people": 1, "credits": 15, "hours": 16, "fee_fen": 40000},
                {"key": "Wucheng", "name": null, "people": 2, "credits": 65, "hours": 32, "fee_fen": 80000}
            ])
        );
        assert_eq!(by_region["totals"], json!({"people": 3, "credits": 80, "hours": 48, "fee_fen": 120000}));
        let by_org = stat("organisation");
        let alpha = by_org["groups"].as_array().unwrap().iter().find(|g| g["key"] == json!(ce.org)).unwrap().clone();
        assert_eq!(alpha["name"], "Alpha Gas cstat");
        assert_eq!(alpha["people"], json!(2));
        let by_occupation = stat("occupation");
        assert_eq!(by_occupation["groups"], json!([{"key": "Pipeline fitter", "name": null, "people": 3, "credits": 80, "hours": 48, "fee_fen": 120000}]));
        // a person learning with two providers counts in both, once in the totals
        let by_provider = stat("provider");
        let groups = by_provider["groups"].as_array().unwrap();
        let first = groups.iter().find(|g| g["key"] == json!(ce.provider.id)).unwrap();
        assert_eq!((&first["people"], &first["credits"], &first["name"]), (&json!(3), &json!(70), &json!("Skills Centre cstat")));
        let other = groups.iter().find(|g| g["key"] == json!(second.id)).unwrap();
        assert_eq!((&other["people"], &other["credits"], &other["hours"], &other["fee_fen"]), (&json!(2), &json!(10), &json!(16), &json!(40000)));
        assert_eq!(by_provider["totals"]["people"], json!(3));
        let by_year = app.get("/api/v1/ce/statistics?by=year", Some(&ce.admin));
        by_year.assert_status(200);
        assert_eq!(by_year.body["year"], Value::Null);
        assert_eq!(by_year.body["groups"], json!([{"key": "2026", "name": null, "people": 3, "credits": 80, "hours": 48, "fee_fen": 120000}]));
        // a year without credits
        let empty = app.get("/api/v1/ce/statistics?year=2024&by=region", Some(&ce.authority));
        assert_eq!(empty.body["groups"], json!([]));
        assert_eq!(empty.body["totals"], json!({"people": 0, "credits": 0, "hours": 0, "fee_fen": 0}));

        // CSV three ways
        let csv = app.get(&format!("/api/v1/ce/statistics?year={YEAR}&by=region&format=csv"), Some(&ce.authority));
        csv.assert_status(200);
        assert!(csv.header("content-type").starts_with("text/csv"), "{}", csv.header("content-type"));
        assert_eq!(
            csv.body,
            json!("region,name,people,credits,hours,fee_fen\r\nLanxi,,1,15,16,40000\r\nWucheng,,2,65,32,80000\r\n,(total),3,80,48,120000\r\n")
        );
        let accept = app.request(Method::GET, &format!("/api/v1/ce/statistics?year={YEAR}&by=region"), Some(&ce.authority), None, &[("accept", "text/csv")]);
        assert_eq!(accept.body, csv.body);
        let export = app.get(&format!("/api/v1/ce/statistics/export?year={YEAR}&by=provider"), Some(&ce.authority));
        export.assert_status(200);
        assert!(export.header("content-disposition").contains("ce-statistics-2026-by-provider.csv"));
        let text = export.body.as_str().unwrap_or_default().to_owned();
        assert!(text.starts_with("provider,name,people,credits,hours,fee_fen\r\n"), "{text}");
        assert!(text.contains(&format!("{},Skills Centre cstat,3,70,", ce.provider.id)), "{text}");
        assert!(text.ends_with(",(total),3,80,48,120000\r\n"), "{text}");

        // the authority and association staff only
        app.get("/api/v1/ce/statistics", Some(&ce.filler)).assert_status(403);
        app.get("/api/v1/ce/statistics/export", Some(&ce.provider.token)).assert_status(403);
        app.get("/api/v1/ce/statistics?by=colour", Some(&ce.authority)).assert_status(400);
        app.get("/api/v1/ce/statistics?year=3000", Some(&ce.authority)).assert_problem(422, "validation_failed");
    }

    fn the_obligation_starts_the_year_after_the_certificate_ced_1(app: TestApp) {
        // rule CED-1: CE starts once a skill certificate is held; the certificate year itself is not required
        let ce = setup(&app, "cstart", "Wucheng");
        let new = skilled(&app, &ce.admin, "Fay New", 7061, &ce.org, Some("2026-01-15"));
        let none = skilled(&app, &ce.admin, "Gus None", 7062, &ce.org, None);
        earn(&app, &ce, "public", 10, &[&new, &none]);

        let r = compliance(&app, &ce.admin, &new);
        assert_eq!(r.body["obligation"], json!({"status": "not_yet_required", "first_year": 2027, "certificate_issued_on": "2026-01-15"}));
        assert_eq!(r.body["met"], json!(false));
        assert_eq!(r.body["behind"], json!(false));
        assert_eq!(r.body["credits"]["total"], json!(10), "credits before the obligation are still on the register");
        let next = app.get(&format!("/api/v1/ce/compliance/{new}?year=2027"), Some(&ce.admin));
        assert_eq!(next.body["obligation"]["status"], "required");
        assert_eq!(next.body["behind"], json!(true));
        assert_eq!(next.body["missing"]["total"], json!(60));

        let r = compliance(&app, &ce.admin, &none);
        assert_eq!(r.body["obligation"], json!({"status": "no_certificate", "first_year": null, "certificate_issued_on": null}));
        assert_eq!(r.body["behind"], json!(false));
        // entering the certificate later starts the obligation from the next year
        app.patch(&format!("/api/v1/people/{none}"), Some(&ce.admin), json!({"skill_certificate_issued_on": "2025-05-20", "skill_level": "level_5"})).assert_status(200);
        let r = compliance(&app, &ce.admin, &none);
        assert_eq!(r.body["obligation"]["status"], "required");
        assert_eq!(r.body["behind"], json!(true));
        assert_eq!(r.body["missing"], json!({"total": 50, "public": 0, "professional": 40, "exam": 0}));
    }
}
