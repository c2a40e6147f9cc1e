//! Test harness for Guild's HTTP tests (STYLE habit 7).
//!
//! [`TestApp::spawn`] starts the real server on port 0 against a fresh database:
//! a temporary SQLite file, or a fresh PostgreSQL database created on the server
//! named by `GUILD_TEST_POSTGRES_URL` and dropped again when the app is dropped.
//! Tests talk to it over HTTP with a blocking client, and move time through the
//! shared [`ManualClock`]. [`backend_tests!`] runs each test body on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use guild_domain::ManualClock;
pub use reqwest::Method;
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

mod custom;
pub mod proxy;
pub use custom::AppOptions;

/// The first administrator's password in every test app.
pub const ADMIN_PASSWORD: &str = "Guild-Root-2026";
/// A password that satisfies the password rule for any test user name.
pub const USER_PASSWORD: &str = "Correct-Horse-2026";
/// The public base URL every test app is configured with (CRT-2).
pub const PUBLIC_BASE_URL: &str = "https://verify.guild.test";
/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "GUILD_TEST_POSTGRES_URL";
/// When `1`, PostgreSQL tests fail instead of being skipped without a server.
pub const REQUIRE_POSTGRES_VAR: &str = "GUILD_TEST_REQUIRE_POSTGRES";
/// The media type of every error body (API-2).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on `GUILD_TEST_POSTGRES_URL`.
    Postgres,
}

impl Backend {
    /// The name `/readyz` reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The PostgreSQL server URL for tests, or `None` when PostgreSQL tests are to be
/// skipped. Panics when `GUILD_TEST_REQUIRE_POSTGRES=1` and no URL is set.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty());
    if url.is_none() && std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1") {
        panic!(
            "{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set; \
             set it to e.g. postgres://postgres@127.0.0.1:5432/postgres"
        );
    }
    url
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh PostgreSQL database that is dropped (with `FORCE`) when this value is dropped.
#[derive(Debug)]
pub struct TempPgDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TempPgDatabase {
    /// Creates `guild_test_<uuid>` on the server at `server_url`.
    pub fn create(server_url: &str) -> TempPgDatabase {
        let name = format!("guild_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(server_url)
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR} ({server_url}): {e}"));
        // Concurrent CREATE DATABASE can briefly collide on the template; retry a few times.
        let mut attempt = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn) {
                Ok(_) => break,
                Err(e) if attempt < 10 => {
                    attempt += 1;
                    eprintln!("CREATE DATABASE {name} failed ({e}); retrying");
                    std::thread::sleep(Duration::from_millis(200 * attempt));
                }
                Err(e) => panic!("cannot create database {name}: {e}"),
            }
        }
        TempPgDatabase {
            server_url: server_url.to_owned(),
            url: with_database(server_url, &name),
            name,
        }
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TempPgDatabase {
    fn drop(&mut self) {
        match PgConnection::establish(&self.server_url) {
            Ok(mut conn) => {
                let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
                if let Err(e) = diesel::sql_query(sql).execute(&mut conn) {
                    eprintln!("warning: cannot drop test database {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!(
                "warning: cannot connect to drop test database {}: {e}",
                self.name
            ),
        }
    }
}

/// One HTTP answer: status, headers and the body parsed as JSON
/// (`Value::Null` when empty, `Value::String` when the body is not JSON).
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Value,
}

impl Resp {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body's `code` field ("" when absent).
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts a 2xx-style success with exactly `status`, printing the body otherwise.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {:#}",
            self.body
        );
        self
    }

    /// Asserts an error: `status`, `application/problem+json` and `code` (API-2).
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {:#}",
            self.body
        );
        assert!(
            self.header("content-type").starts_with(PROBLEM_JSON),
            "expected {PROBLEM_JSON}, got {:?}; body: {:#}",
            self.header("content-type"),
            self.body
        );
        assert_eq!(
            self.code(),
            code,
            "unexpected problem code; body: {:#}",
            self.body
        );
        assert_eq!(
            self.body["status"],
            json!(status),
            "problem status field; body: {:#}",
            self.body
        );
        assert!(
            self.body["type"].is_string() && self.body["title"].is_string(),
            "problem shape: {:#}",
            self.body
        );
        assert!(
            self.body["request_id"].is_string(),
            "problem without request_id: {:#}",
            self.body
        );
        self
    }

    /// Asserts a business-rule refusal: status, problem+json, code and the rule ID.
    #[track_caller]
    pub fn assert_rule(&self, status: u16, code: &str, rule: &str) -> &Self {
        self.assert_problem(status, code);
        assert_eq!(
            self.body["rule"],
            json!(rule),
            "unexpected rule; body: {:#}",
            self.body
        );
        self
    }

    /// The `errors[].field` names of a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The body's `id` as a string (panics when absent).
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {:#}", self.body))
            .to_owned()
    }
}

/// The ids of an organisation with its two accounts (ACC-3), for tests that need one.
#[derive(Debug, Clone)]
pub struct OrgFixture {
    /// The organisation id.
    pub id: String,
    /// The filler's account id.
    pub filler_id: String,
    /// The filler's access token.
    pub filler: String,
    /// The reviewer's account id.
    pub reviewer_id: String,
    /// The reviewer's access token.
    pub reviewer: String,
}

/// A running server on a fresh database.
pub struct TestApp {
    /// The database behind it.
    pub backend: Backend,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The port.
    pub port: u16,
    client: Client,
    clock: ManualClock,
    handle: Option<ServerHandle>,
    thread: Option<JoinHandle<()>>,
    _sqlite_dir: Option<tempfile::TempDir>,
    pg: Option<TempPgDatabase>,
}

/// One request of [`at_once`].
#[derive(Debug, Clone)]
pub struct Racer {
    /// The method (usually `POST` or `PATCH`).
    pub method: Method,
    /// The absolute URL ([`TestApp::url`]).
    pub url: String,
    /// The bearer token.
    pub token: String,
    /// Extra headers, e.g. `Idempotency-Key`.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Value,
}

impl Racer {
    /// `POST url` with `token` and `body`.
    pub fn post(url: String, token: impl Into<String>, body: Value) -> Racer {
        Racer {
            method: Method::POST,
            url,
            token: token.into(),
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Racer {
        self.headers.push((name, value.into()));
        self
    }
}

/// Sends every request at the same instant (one thread and one client each,
/// released together by a barrier); answers (status, JSON body) in order.
/// Two clients at once, as the races the suite proves need.
pub fn at_once(requests: Vec<Racer>) -> Vec<(u16, Value)> {
    let barrier = Arc::new(std::sync::Barrier::new(requests.len()));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let client = Client::builder().no_proxy().build().unwrap();
                let mut request = client
                    .request(r.method, r.url)
                    .bearer_auth(r.token)
                    .json(&r.body);
                for (name, value) in r.headers {
                    request = request.header(name, value);
                }
                barrier.wait();
                let res = request.send().unwrap();
                let status = res.status().as_u16();
                let text = res.text().unwrap();
                let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (status, body)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// The instant every test app's clock starts at.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
        .single()
        .expect("valid start time")
}

impl TestApp {
    /// Starts a server on `backend`. For PostgreSQL, panics when no server is
    /// configured; use [`TestApp::try_spawn`] to skip instead.
    pub fn spawn(backend: Backend) -> TestApp {
        Self::try_spawn(backend).unwrap_or_else(|| {
            panic!("{POSTGRES_URL_VAR} is not set; PostgreSQL tests need a server")
        })
    }

    /// Starts a server on `backend`, or `None` for PostgreSQL when
    /// `GUILD_TEST_POSTGRES_URL` is unset (and not required).
    pub fn try_spawn(backend: Backend) -> Option<TestApp> {
        Self::try_spawn_with(backend, &AppOptions::default(), str::to_owned)
    }

    /// The absolute URL of `path` (e.g. `/api/v1/users`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The clock the server reads; tests move it.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// The underlying HTTP client, for unusual requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends a request with an optional bearer token, JSON body and extra headers.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::finish(req)
    }

    /// Sends raw bytes with the given content type (for malformed-input tests).
    pub fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path)).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Self::finish(req)
    }

    fn finish(req: reqwest::blocking::RequestBuilder) -> Resp {
        let res = req.send().expect("the request reached the server");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().expect("a readable body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None, &[])
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::POST, path, token, Some(&body), &[])
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(&body), &[])
    }

    /// `POST /api/v1/auth/login`, returning the raw answer.
    pub fn try_login(&self, username: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
    }

    /// Logs in and returns the whole token answer.
    #[track_caller]
    pub fn login_tokens(&self, username: &str, password: &str) -> Value {
        let r = self.try_login(username, password);
        assert_eq!(r.status, 200, "login as {username} failed: {:#}", r.body);
        r.body
    }

    /// Logs in and returns the access token.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str) -> String {
        self.login_tokens(username, password)["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The first administrator's access token.
    #[track_caller]
    pub fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD)
    }

    /// Registers an organisation of kind `member_company` and approves it (PPL-4); returns its id.
    #[track_caller]
    pub fn create_org(&self, admin: &str, name: &str) -> String {
        let id = self.create_pending_org(admin, name);
        self.post(
            &format!("/api/v1/organisations/{id}/approve"),
            Some(admin),
            json!({}),
        )
        .assert_status(200);
        id
    }

    /// Registers an organisation and leaves it pending; returns its id.
    #[track_caller]
    pub fn create_pending_org(&self, admin: &str, name: &str) -> String {
        let r = self.post(
            "/api/v1/organisations",
            Some(admin),
            json!({"name": name, "kind": "member_company"}),
        );
        r.assert_status(201);
        r.id()
    }

    /// Creates an account (password [`USER_PASSWORD`]) and returns its access token.
    #[track_caller]
    pub fn create_user(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        org_id: Option<&str>,
    ) -> String {
        self.create_user_with_id(admin, username, role, org_id).1
    }

    /// Creates an account and returns its id and access token.
    #[track_caller]
    pub fn create_user_with_id(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        org_id: Option<&str>,
    ) -> (String, String) {
        let mut body = json!({
            "username": username,
            "display_name": format!("User {username}"),
            "password": USER_PASSWORD,
            "role": role,
        });
        if let Some(org) = org_id {
            body["organisation_id"] = json!(org);
        }
        let r = self.post("/api/v1/users", Some(admin), body);
        r.assert_status(201);
        (r.id(), self.login(username, USER_PASSWORD))
    }

    /// An approved organisation with a filler and a reviewer; `tag` makes the names unique.
    #[track_caller]
    pub fn org_with_accounts(&self, admin: &str, tag: &str) -> OrgFixture {
        let id = self.create_org(admin, &format!("Organisation {tag}"));
        let (filler_id, filler) =
            self.create_user_with_id(admin, &format!("{tag}.filler"), "org_filler", Some(&id));
        let (reviewer_id, reviewer) =
            self.create_user_with_id(admin, &format!("{tag}.reviewer"), "org_reviewer", Some(&id));
        OrgFixture {
            id,
            filler_id,
            filler,
            reviewer_id,
            reviewer,
        }
    }

    /// Enters a person with a resident ID number and returns the answer.
    pub fn create_person(
        &self,
        token: &str,
        name: &str,
        id_number: &str,
        org_id: Option<&str>,
    ) -> Resp {
        let mut body = json!({
            "name": name,
            "gender": "female",
            "id_type": "resident_id",
            "id_number": id_number,
        });
        if let Some(org) = org_id {
            body["organisation_id"] = json!(org);
        }
        self.post("/api/v1/people", Some(token), body)
    }

    /// All items of a list, following `next_cursor` (`path` may already have a query).
    #[track_caller]
    pub fn list_all(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
                None => format!("{path}{sep}limit=200"),
            };
            let r = self.get(&url, Some(token));
            r.assert_status(200);
            items.extend(r.body["items"].as_array().cloned().unwrap_or_default());
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
        panic!("the list at {path} does not end");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // The stop command is sent at once; the returned future only waits for completion.
            drop(handle.stop(false));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Drop the database after the server (and its pool) are gone.
        self.pg.take();
    }
}

/// A valid GB 11643 resident ID number, different for each `n`: region 440301
/// (Shenzhen), a birth date from 1990-01-01, a sequence number and the check character.
pub fn valid_id_number(n: u32) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).expect("date")
        + chrono::Duration::days(i64::from(n / 1000));
    let body = format!("440301{}{:03}", birth.format("%Y%m%d"), n % 1000);
    format!("{body}{}", id_check_char(&body))
}

/// The GB 11643 check character of the first 17 digits.
pub fn id_check_char(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    char::from(CHECK[(sum % 11) as usize])
}

/// `id` with its check character replaced by a wrong one.
pub fn with_wrong_check_digit(id: &str) -> String {
    let (head, last) = id.split_at(17);
    let wrong = if last == "0" { '1' } else { '0' };
    format!("{head}{wrong}")
}

/// The masked form of an 18-character ID number (PPL-3): first 6 and last 4 kept.
pub fn masked(id: &str) -> String {
    format!("{}********{}", &id[..6], &id[14..])
}

/// Runs each test body once per backend: `mod sqlite { #[test] fn name() }` and
/// `mod postgres { #[test] fn name() }`. The PostgreSQL variant passes without
/// running when `GUILD_TEST_POSTGRES_URL` is unset, unless
/// `GUILD_TEST_REQUIRE_POSTGRES=1`, when it fails.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* fn $name:ident($app:ident : TestApp) $body:block )*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    let $app = $crate::TestApp::spawn($crate::Backend::Sqlite);
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    let Some($app) = $crate::TestApp::try_spawn($crate::Backend::Postgres) else {
                        eprintln!("skipped: {} is not set", $crate::POSTGRES_URL_VAR);
                        return;
                    };
                    $body
                }
            )*
        }
    };
}
