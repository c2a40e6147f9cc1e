//! Webhooks (API-8): subscriptions, signed deliveries (Standard Webhooks),
//! retries on the injected clock, the subscriber policy (ACC-2), secret
//! rotation, redelivery, ping, the delivery log and the URL policy, over HTTP
//! against a real receiver on 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use guild_tests::{AppOptions, Backend, Method, TestApp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const WEBHOOKS: &str = "/api/v1/webhooks";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

/// Writes a real delivery to `target/webhook-capture.json` for
/// `.ci/webhook-snippets`, which verifies it with the Python and TypeScript
/// snippets of docs/webhooks.md. `now` is the injected clock's instant the
/// delivery was signed at, so the snippets' 5-minute check passes.
fn capture(request: &Received, secret: &str) {
    let now: i64 = request
        .header("webhook-timestamp")
        .parse()
        .expect("a Unix timestamp");
    let headers: HashMap<&str, &str> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .into_iter()
        .map(|h| (h, request.header(h)))
        .collect();
    let capture =
        json!({"secrets": [secret], "headers": headers, "body": request.body, "now": now + 1});
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&dir).expect("the target directory");
    // Written aside and renamed, so the two backends' tests never interleave.
    let part = dir.join(format!("webhook-capture.{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&part, capture.to_string()).expect("the capture is written");
    std::fs::rename(&part, dir.join("webhook-capture.json")).expect("the capture is moved");
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// A webhook receiver on 127.0.0.1: records every request and answers with
/// the status set (and a short body).
#[derive(Clone)]
struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = Receiver {
            port,
            requests: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
        };
        let r = receiver.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || r.serve(stream));
            }
        });
        receiver
    }

    fn serve(&self, stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let path = request_line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.trim_end().split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let status = self.status.load(Ordering::SeqCst);
        self.requests.lock().unwrap().push(Received {
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let answer = format!("answered {status}");
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        );
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests once there are at least `n` (panics after 30 s).
    #[track_caller]
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {n}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts that the count stays at `n` for a while (the dispatcher polls
    /// every 20 ms in these tests).
    #[track_caller]
    fn stays_at(&self, n: usize) {
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(self.received().len(), n, "{:#?}", self.received());
    }
}

/// HMAC-SHA256 written out from RFC 2104, independent of the server's code.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// The Standard Webhooks signature of a request with `secret` (`whsec_…`).
fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("a base64 secret");
    let mac = hmac_sha256(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac))
}

/// Whether `request` carries a valid signature made with `secret`.
fn signed_with(request: &Received, secret: &str) -> bool {
    let expected = expected_signature(
        secret,
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
        &request.body,
    );
    request
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

fn options() -> AppOptions {
    AppOptions::default()
        .with("GUILD_WEBHOOK_ALLOW_PRIVATE", "1")
        .with("GUILD_WEBHOOK_POLL_MS", "20")
        .with("GUILD_WEBHOOK_RETRY_JITTER", "0")
        .with("GUILD_WEBHOOK_RETRY_SCHEDULE", "60,120")
}

/// Subscribes with `token`; answers the id and the secret.
#[track_caller]
fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let r = app.post(
        WEBHOOKS,
        Some(token),
        json!({"url": url, "event_types": types}),
    );
    r.assert_status(201);
    let secret = r.body["secret"].as_str().expect("the secret").to_owned();
    (r.id(), secret)
}

fn deliveries(app: &TestApp, token: &str, webhook: &str) -> Vec<Value> {
    app.list_all(&format!("{WEBHOOKS}/{webhook}/deliveries"), token)
}

/// Waits until the newest delivery of `webhook` is no longer leased (its
/// last attempt is recorded) and has made `attempts` attempts.
#[track_caller]
fn delivery_after(app: &TestApp, token: &str, webhook: &str, attempts: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = deliveries(app, token, webhook);
        if let Some(d) = list.first()
            && d["attempts"] == json!(attempts)
        {
            return d.clone();
        }
        assert!(Instant::now() < deadline, "deliveries: {list:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

macro_rules! webhook_tests {
    ($( $(#[$meta:meta])* fn $name:ident($app:ident : TestApp) $body:block )*) => {
        mod sqlite {
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    let $app = TestApp::try_spawn_with(Backend::Sqlite, &options(), str::to_owned).unwrap();
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $name() {
                    let Some($app) = TestApp::try_spawn_with(Backend::Postgres, &options(), str::to_owned) else {
                        eprintln!("skipped: {} is not set", guild_tests::POSTGRES_URL_VAR);
                        return;
                    };
                    $body
                }
            )*
        }
    };
}

#[test]
fn the_tests_hmac_matches_the_standard_webhooks_vector() {
    // rule API-8: the independent verifier of these tests is right
    assert_eq!(
        expected_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            r#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

webhook_tests! {
    // rule API-8: a subscriber gets the event signed as Standard Webhooks says
    fn a_subscription_receives_a_correctly_signed_delivery(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.admin();
        let (_, secret) = subscribe(&app, &admin, &receiver.url("/hook"), &["organisation.created"]);
        assert!(secret.starts_with("whsec_"));
        let org = app.create_pending_org(&admin, "Signed Co");
        let got = receiver.wait_for(1);
        let request = &got[0];
        assert_eq!(request.path, "/hook");
        assert_eq!(request.header("content-type"), "application/json");
        let event = &app.outbox("organisation", &org)[0];
        assert_eq!(request.header("webhook-id"), event.id);
        assert!(request.header("webhook-timestamp").parse::<i64>().is_ok());
        assert!(signed_with(request, &secret), "{request:#?}");
        assert!(!signed_with(request, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let body = request.json();
        assert_eq!(body["id"], json!(event.id));
        assert_eq!(body["type"], "organisation.created");
        assert!(body["timestamp"].as_str().unwrap().starts_with("2026-03-02T01:00:00"));
        assert_eq!(body["data"]["id"], json!(org));
        receiver.stays_at(1);
        capture(request, &secret);
    }

    // rule API-8: a failed delivery is retried on the schedule of the injected
    // clock (60 s, then 120 s here), then failed; redelivery sends it again
    fn a_failing_receiver_is_retried_on_the_backoff_schedule(app: TestApp) {
        let receiver = Receiver::start();
        receiver.set_status(500);
        let admin = app.admin();
        let (hook, secret) = subscribe(&app, &admin, &receiver.url("/retry"), &["organisation.created"]);
        app.create_pending_org(&admin, "Retry Co");
        receiver.wait_for(1);
        let d = delivery_after(&app, &admin, &hook, 1);
        assert_eq!(d["status"], "pending");
        assert_eq!(d["last_status_code"], 500);
        assert_eq!(d["last_response_excerpt"], "answered 500");
        assert_eq!(d["next_attempt_at"], json!("2026-03-02T01:01:00Z"));
        // Not before the clock passes next_attempt_at.
        app.clock().advance(chrono::Duration::seconds(59));
        receiver.stays_at(1);
        app.clock().advance(chrono::Duration::seconds(2));
        let got = receiver.wait_for(2);
        assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"), "the id is stable across retries");
        assert!(signed_with(&got[1], &secret));
        delivery_after(&app, &admin, &hook, 2);
        app.clock().advance(chrono::Duration::seconds(119));
        receiver.stays_at(2);
        app.clock().advance(chrono::Duration::seconds(2));
        receiver.wait_for(3);
        let d = delivery_after(&app, &admin, &hook, 3);
        assert_eq!(d["status"], "failed", "{d:#}");
        assert!(d["next_attempt_at"].is_null());
        app.clock().advance(chrono::Duration::hours(1));
        receiver.stays_at(3);
        let admin = app.admin(); // the access token expired meanwhile
        // Redelivery: sent again at once, counted afresh.
        receiver.set_status(204);
        let id = d["id"].as_str().unwrap();
        let r = app.post(&format!("{WEBHOOKS}/{hook}/deliveries/{id}/redeliver"), Some(&admin), json!({}));
        r.assert_status(202);
        let got = receiver.wait_for(4);
        assert_eq!(got[3].body, got[0].body, "the same event is sent again");
        let d = delivery_after(&app, &admin, &hook, 1);
        assert_eq!(d["status"], "delivered", "{d:#}");
        assert_eq!(d["last_status_code"], 204);
        assert!(d["delivered_at"].is_string() && d["last_duration_ms"].is_number());
    }

    // rule API-8, ACC-2: an organisation's reviewer receives only its own
    // organisation's events, and sees only its own subscriptions
    fn an_organisation_subscription_never_receives_another_organisations_events(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "wha");
        let b = app.org_with_accounts(&admin, "whb");
        let (hook_a, _) = subscribe(&app, &a.reviewer, &receiver.url("/a"), &["*"]);
        let (hook_b, _) = subscribe(&app, &b.reviewer, &receiver.url("/b"), &["organisation.updated"]);
        for org in [&b.id, &a.id] {
            app.patch(&format!("/api/v1/organisations/{org}"), Some(&admin), json!({"region": "Hook"}))
                .assert_status(200);
        }
        // A (everything of its own): its subscription's creation and its
        // organisation's change; B: its organisation's change.
        let got = receiver.wait_for(3);
        receiver.stays_at(3);
        let to_a: Vec<_> = got.iter().filter(|r| r.path == "/a").map(Received::json).collect();
        let to_b: Vec<_> = got.iter().filter(|r| r.path == "/b").map(Received::json).collect();
        let types: Vec<_> = to_a.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["webhook.created", "organisation.updated"], "{got:#?}");
        assert_eq!(to_a[0]["data"]["id"], json!(hook_a));
        assert_eq!(to_a[0]["data"]["organisation_id"], json!(a.id));
        assert_eq!(to_a[1]["data"]["id"], json!(a.id));
        assert_eq!(to_b.len(), 1);
        assert_eq!(to_b[0]["data"]["id"], json!(b.id));
        // Another organisation's subscription is unknown to it (404), and the
        // lists are each one's own; the admin sees both.
        app.get(&format!("{WEBHOOKS}/{hook_b}"), Some(&a.reviewer)).assert_status(404);
        app.post(&format!("{WEBHOOKS}/{hook_b}/ping"), Some(&a.reviewer), json!({})).assert_status(404);
        let mine = app.list_all(WEBHOOKS, &a.reviewer);
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["id"], json!(hook_a));
        assert_eq!(app.list_all(WEBHOOKS, &admin).len(), 2);
        // Other roles cannot subscribe.
        app.post(WEBHOOKS, Some(&a.filler), json!({"url": receiver.url("/f"), "event_types": ["*"]}))
            .assert_status(403);
        app.get(WEBHOOKS, Some(&a.filler)).assert_status(403);
    }

    // rule API-8: after a rotation both secrets sign until the old one
    // expires 24 h later on the clock
    fn a_rotated_secret_double_signs_until_it_expires(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.admin();
        let (hook, old) = subscribe(&app, &admin, &receiver.url("/rot"), &["organisation.created"]);
        let r = app.post(&format!("{WEBHOOKS}/{hook}/rotate-secret"), Some(&admin), json!({}));
        r.assert_status(200);
        let new = r.body["secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert_eq!(r.body["previous_secret_expires_at"], "2026-03-03T01:00:00Z");
        app.create_pending_org(&admin, "Rotation One");
        let got = receiver.wait_for(1);
        assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
        assert!(signed_with(&got[0], &old) && signed_with(&got[0], &new));
        app.clock().advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
        let admin = app.admin(); // the access token expired meanwhile
        app.create_pending_org(&admin, "Rotation Two");
        let got = receiver.wait_for(2);
        assert_eq!(got[1].header("webhook-signature").split(' ').count(), 1);
        assert!(signed_with(&got[1], &new) && !signed_with(&got[1], &old));
        assert!(app.get(&format!("{WEBHOOKS}/{hook}"), Some(&admin)).body["previous_secret_expires_at"].is_null());
        // The event of the rotation never carries a secret.
        let rotated = app.outbox("webhook", &hook);
        let kinds: Vec<_> = rotated.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["webhook.created", "webhook.secret_rotated"]);
        for e in &rotated {
            assert!(!e.payload.contains(old.trim_start_matches("whsec_")) && !e.payload.contains(new.trim_start_matches("whsec_")));
            assert!(!e.payload.contains("secret\""), "{}", e.payload);
        }
    }

    // rule API-8: deliveries about one entity keep the event order: a later
    // one waits while an earlier one to the same subscription is pending
    fn deliveries_about_one_entity_keep_their_order(app: TestApp) {
        let receiver = Receiver::start();
        receiver.set_status(500);
        let admin = app.admin();
        let (hook, _) = subscribe(&app, &admin, &receiver.url("/order"), &["organisation.created", "organisation.approved"]);
        let org = app.create_pending_org(&admin, "Order Co");
        receiver.wait_for(1);
        delivery_after(&app, &admin, &hook, 1);
        app.post(&format!("/api/v1/organisations/{org}/approve"), Some(&admin), json!({})).assert_status(200);
        // The approval waits for the creation, which waits for its retry.
        receiver.stays_at(1);
        receiver.set_status(200);
        app.clock().advance(chrono::Duration::seconds(61));
        let got = receiver.wait_for(3);
        let types: Vec<_> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
        assert_eq!(types, ["organisation.created", "organisation.created", "organisation.approved"]);
        receiver.stays_at(3);
    }

    // rule API-8: a ping goes to the one subscription; the log shows it
    fn ping_sends_a_test_event_and_the_log_shows_it(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.admin();
        let (hook, secret) = subscribe(&app, &admin, &receiver.url("/ping"), &["refund.paid"]);
        let r = app.post(&format!("{WEBHOOKS}/{hook}/ping"), Some(&admin), json!({}));
        r.assert_status(202);
        assert_eq!(r.body["type"], "webhook.ping");
        let got = receiver.wait_for(1);
        assert!(signed_with(&got[0], &secret));
        let body = got[0].json();
        assert_eq!(body["type"], "webhook.ping");
        assert_eq!(body["data"]["webhook_id"], json!(hook));
        let d = delivery_after(&app, &admin, &hook, 1);
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["type"], "webhook.ping");
        assert_eq!(d["last_status_code"], 200);
        assert_eq!(d["last_response_excerpt"], "answered 200");
        assert_eq!(d["event_id"], json!(got[0].header("webhook-id")));
        receiver.stays_at(1);
    }

    // rule API-8: subscriptions are created, listed, read, changed and
    // deleted, each change an event; unknown kinds are refused
    fn subscriptions_are_managed_and_each_change_is_an_event(app: TestApp) {
        let admin = app.admin();
        let types = app.get(&format!("{WEBHOOKS}/event-types"), Some(&admin));
        types.assert_status(200);
        let kinds: Vec<_> = types.body.as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap().to_owned()).collect();
        assert!(kinds.contains(&"refund.paid".to_owned()) && kinds.contains(&"webhook.created".to_owned()));
        assert!(!kinds.iter().any(|k| k.starts_with("auth.")));
        assert_eq!(types.body[0]["schema"], "AccountChangeView");
        app.post(WEBHOOKS, Some(&admin), json!({"url": "https://example.com/h", "event_types": ["auth.logged_in"]}))
            .assert_rule(422, "webhook_event_type_unknown", "API-8");
        app.post(WEBHOOKS, Some(&admin), json!({"url": "https://example.com/h", "event_types": []}))
            .assert_problem(422, "validation_failed");
        let r = app.post(WEBHOOKS, Some(&admin), json!({"url": "https://example.com/h", "event_types": ["refund.paid"], "description": "ERP"}));
        r.assert_status(201);
        let id = r.id();
        assert_eq!(r.header("location"), format!("{WEBHOOKS}/{id}"));
        assert_eq!(r.body["enabled"], true);
        let got = app.get(&format!("{WEBHOOKS}/{id}"), Some(&admin));
        assert!(got.body.get("secret").is_none(), "the secret is shown once");
        assert_eq!(got.body["description"], "ERP");
        let r = app.patch(&format!("{WEBHOOKS}/{id}"), Some(&admin), json!({"enabled": false, "event_types": ["*"]}));
        r.assert_status(200);
        assert_eq!(r.body["enabled"], false);
        assert_eq!(r.body["event_types"], json!(["*"]));
        app.request(Method::DELETE, &format!("{WEBHOOKS}/{id}"), Some(&admin), None, &[]).assert_status(204);
        app.get(&format!("{WEBHOOKS}/{id}"), Some(&admin)).assert_status(404);
        let kinds: Vec<_> = app.outbox("webhook", &id).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["webhook.created", "webhook.updated", "webhook.deleted"]);
    }

    // rule API-8: a subscription whose deliveries all failed for 5 days is
    // disabled and its owner notified
    fn a_subscription_failing_for_five_days_is_disabled(app: TestApp) {
        let receiver = Receiver::start();
        receiver.set_status(503);
        let admin = app.admin();
        let (hook, _) = subscribe(&app, &admin, &receiver.url("/down"), &["organisation.created"]);
        app.create_pending_org(&admin, "Down One");
        receiver.wait_for(1);
        delivery_after(&app, &admin, &hook, 1);
        // The retries (60 s, 120 s here) fail over 4 days: still enabled.
        app.clock().advance(chrono::Duration::days(4));
        receiver.wait_for(2);
        let admin = app.admin();
        delivery_after(&app, &admin, &hook, 2);
        app.clock().advance(chrono::Duration::minutes(3));
        receiver.wait_for(3);
        eventually("the first delivery failed", || deliveries(&app, &admin, &hook)[0]["status"] == "failed");
        assert_eq!(app.get(&format!("{WEBHOOKS}/{hook}"), Some(&admin)).body["enabled"], true);
        app.clock().advance(chrono::Duration::days(1));
        let admin = app.admin();
        app.create_pending_org(&admin, "Down Two");
        receiver.wait_for(4);
        eventually("the subscription is disabled", || {
            app.get(&format!("{WEBHOOKS}/{hook}"), Some(&admin)).body["enabled"] == false
        });
        let w = app.get(&format!("{WEBHOOKS}/{hook}"), Some(&admin)).body;
        assert!(w["disabled_reason"].as_str().unwrap().contains("5 days"), "{w:#}");
        let kinds: Vec<_> = app.outbox("webhook", &hook).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["webhook.created", "webhook.disabled"]);
        let inbox = app.list_all("/api/v1/notifications", &admin);
        assert!(inbox.iter().any(|n| n["kind"] == "webhook_disabled"), "{inbox:#?}");
        // Nothing more is sent; enabling it again starts afresh.
        app.create_pending_org(&admin, "Down Three");
        receiver.stays_at(4);
        let r = app.patch(&format!("{WEBHOOKS}/{hook}"), Some(&admin), json!({"enabled": true}));
        assert_eq!(r.body["enabled"], true);
        assert!(r.body["disabled_reason"].is_null());
    }

    // rule API-8: delivered outbox rows and delivery logs go after 30 days
    fn old_deliveries_and_outbox_rows_are_pruned(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.admin();
        let (hook, _) = subscribe(&app, &admin, &receiver.url("/old"), &["organisation.created"]);
        let org = app.create_pending_org(&admin, "Old Co");
        receiver.wait_for(1);
        delivery_after(&app, &admin, &hook, 1);
        app.clock().advance(chrono::Duration::days(29));
        std::thread::sleep(Duration::from_millis(300));
        let admin = app.admin();
        assert_eq!(deliveries(&app, &admin, &hook).len(), 1, "kept for 30 days");
        assert_eq!(app.outbox("organisation", &org).len(), 1);
        app.clock().advance(chrono::Duration::days(2));
        let admin = app.admin();
        eventually("the delivery log is pruned", || deliveries(&app, &admin, &hook).is_empty());
        eventually("the outbox row is pruned", || app.outbox("organisation", &org).is_empty());
    }

    // rule PPL-3: subscribers who do not see full ID numbers get them masked
    fn id_numbers_are_masked_for_subscribers_who_do_not_see_them(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.admin();
        let a = app.org_with_accounts(&admin, "mask");
        subscribe(&app, &a.reviewer, &receiver.url("/reviewer"), &["person.created"]);
        subscribe(&app, &admin, &receiver.url("/admin"), &["person.created"]);
        let id_number = guild_tests::valid_id_number(7);
        app.create_person(&a.filler, "Li Si", &id_number, None).assert_status(201);
        let got = receiver.wait_for(2);
        let by = |path: &str| got.iter().find(|r| r.path == path).unwrap().json();
        // The admin gets the record as published; the reviewer never the full number.
        let person = by("/admin")["data"]["id"].as_str().unwrap().to_owned();
        let published: Value = serde_json::from_str(&app.outbox("person", &person)[0].payload).unwrap();
        assert_eq!(by("/admin")["data"]["id_number"], published["id_number"]);
        assert_eq!(by("/reviewer")["data"]["id_number"], json!(guild_tests::masked(&id_number)));
    }
}

/// Waits until `check` holds (panics after 30 s).
#[track_caller]
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An app without `GUILD_WEBHOOK_ALLOW_PRIVATE`, and one with it.
fn url_policy(backend: Backend) {
    let Some(strict) = TestApp::try_spawn_with(backend, &AppOptions::default(), str::to_owned)
    else {
        eprintln!("skipped: {} is not set", guild_tests::POSTGRES_URL_VAR);
        return;
    };
    let admin = strict.admin();
    let create = |url: &str| {
        strict.post(
            WEBHOOKS,
            Some(&admin),
            json!({"url": url, "event_types": ["*"]}),
        )
    };
    create("http://127.0.0.1:9/hook").assert_rule(422, "webhook_url_not_https", "API-8");
    create("https://127.0.0.1/hook").assert_rule(422, "webhook_url_private", "API-8");
    create("https://[::1]:8443/hook").assert_rule(422, "webhook_url_private", "API-8");
    create("https://10.0.0.1/hook").assert_rule(422, "webhook_url_private", "API-8");
    create("https://localhost/hook").assert_rule(422, "webhook_url_private", "API-8");
    create("ftp://example.com/").assert_rule(422, "webhook_url_invalid", "API-8");
    assert!(
        strict.list_all(WEBHOOKS, &admin).is_empty(),
        "a refused request changed nothing"
    );
    create("https://hooks.example.com/hook").assert_status(201);
    let r = strict.list_all(WEBHOOKS, &admin);
    let id = r[0]["id"].as_str().unwrap();
    strict
        .patch(
            &format!("{WEBHOOKS}/{id}"),
            Some(&admin),
            json!({"url": "https://192.168.1.1/"}),
        )
        .assert_rule(422, "webhook_url_private", "API-8");
    drop(strict);
    let open = TestApp::try_spawn_with(backend, &options(), str::to_owned).unwrap();
    let admin = open.admin();
    open.post(
        WEBHOOKS,
        Some(&admin),
        json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}),
    )
    .assert_status(201);
}

#[test]
fn sqlite_a_private_url_is_refused_without_the_flag() {
    // rule API-8: HTTPS and public hosts only, unless GUILD_WEBHOOK_ALLOW_PRIVATE=1
    url_policy(Backend::Sqlite);
}

#[test]
fn postgres_a_private_url_is_refused_without_the_flag() {
    // rule API-8
    url_policy(Backend::Postgres);
}

#[test]
fn two_instances_on_one_postgres_database_deliver_each_event_once() {
    // rule API-8: instances share the queue (FOR UPDATE SKIP LOCKED, leases):
    // 200 events, 200 deliveries, none twice
    let Some(first) = TestApp::try_spawn_with(Backend::Postgres, &options(), str::to_owned) else {
        eprintln!("skipped: {} is not set", guild_tests::POSTGRES_URL_VAR);
        return;
    };
    let url = first.database_url().unwrap();
    let second = TestApp::start_on(Backend::Postgres, &url, &options()).unwrap();
    let receiver = Receiver::start();
    let admin = first.admin();
    subscribe(
        &first,
        &admin,
        &receiver.url("/many"),
        &["organisation.created"],
    );
    for n in 0..200 {
        let app = if n % 2 == 0 { &first } else { &second };
        app.post(
            "/api/v1/organisations",
            Some(&admin),
            json!({"name": format!("Many {n}"), "kind": "member_company"}),
        )
        .assert_status(201);
    }
    let got = receiver.wait_for(200);
    receiver.stays_at(200);
    let mut ids: Vec<_> = got
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every event exactly once");
}
