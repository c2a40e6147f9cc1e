//! Time-driven events over HTTP (CRT-4, CRT-8, ARC-2, CED-1, CED-2): the
//! scheduler announces each occasion once when the injected clock passes
//! its date, into the outbox and the inboxes.
//!
//! Each test runs an app with the scheduler on (polling every 50 ms; the
//! usual test app has it off), builds its records over HTTP and moves the
//! clock. The scheduler shares the app's store, as in production: on SQLite
//! a second instance's writes would make the app's own requests fail with
//! `SQLITE_BUSY`, which only the two-instance test accepts. [`Worker::at`]
//! waits until the scheduler has run completely at least once on the new
//! date (three lease renewals seen), so "still one" is asserted after real
//! runs, never after a sleep.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use guild_tests::{AppOptions, Backend, TestApp, USER_PASSWORD, backend_tests};
use serde_json::{Value, json};

use crate::ce_compliance::{earn, setup as ce_setup, skilled};
use crate::certificates::{ANN, graduates, issued};
use crate::classes::shanghai;

/// How long a test waits for the scheduler before it fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// An app with the scheduler on, and a store on its database to watch it.
struct Worker {
    app: TestApp,
    store: guild_store::Store,
}

/// The scheduler's options: polling every 50 ms.
fn scheduler_on() -> AppOptions {
    AppOptions::default().with("GUILD_SCHEDULER_POLL_MS", "50")
}

impl Worker {
    /// Replaces the test's `app` (scheduler off) by one on a fresh database
    /// of the same backend with the scheduler on.
    fn fresh(app: TestApp) -> Worker {
        let backend = app.backend;
        drop(app);
        let app = TestApp::try_spawn_with(backend, &scheduler_on(), str::to_owned).unwrap();
        let store = app.store();
        Worker { app, store }
    }

    /// Another instance with the scheduler on, on the existing database at `url`.
    fn start_on(backend: Backend, url: &str) -> Worker {
        let app = TestApp::start_on(backend, url, &scheduler_on()).unwrap();
        let store = guild_store::Store::open(url, 1).unwrap();
        Worker { app, store }
    }

    /// The scheduler's lease expiry as stored (renewed by every run).
    fn lease(&self) -> Option<NaiveDateTime> {
        self.store
            .read(|c| guild_store::scheduler::lease(c, "scheduler"))
            .unwrap()
            .map(|(_, expires_at)| expires_at)
    }

    /// Moves the scheduler's clock to `when` and waits for a complete run
    /// on it: the third renewal after the move belongs to a run that
    /// started after a run that read the new time had finished.
    fn at(&self, when: DateTime<Utc>) {
        self.app.clock().set(when);
        settle(self);
    }
}

/// Waits until the scheduler lease was renewed three times, by whichever
/// instance on `w`'s database holds it.
fn settle(w: &Worker) {
    let read = || w.lease();
    let started = Instant::now();
    let mut last = read();
    let mut renewals = 0;
    while renewals < 3 {
        assert!(started.elapsed() < PATIENCE, "the scheduler did not run");
        std::thread::sleep(Duration::from_millis(20));
        let now = read();
        if now != last {
            renewals += 1;
            last = now;
        }
    }
}

/// The outbox kinds about `entity_type` `id` of the scheduled `kind`.
fn events(app: &TestApp, entity_type: &str, id: &str, kind: &str) -> Vec<Value> {
    app.outbox(entity_type, id)
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect()
}

/// The notifications of `kind` in `token`'s inbox about `id`.
fn inbox(app: &TestApp, token: &str, kind: &str, id: &str) -> Vec<Value> {
    app.list_all("/api/v1/notifications", token)
        .into_iter()
        .filter(|n| n["kind"] == kind && n["entity_id"] == id)
        .collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

backend_tests! {
    // rule CRT-4, CRT-8: reminders 90 and 30 days before the end of
    // validity, then expired and lapsed, each announced once; a certificate
    // renewed by CE gets no reminder of the old period
    fn certificate_occasions_fire_once_each(app: TestApp) {
        let w = Worker::fresh(app);
        let app = &w.app;
        let (mut g, certs) = issued(app, "SCH-CRT");
        let (ann, bob) = (id_of(&certs[0]), id_of(&certs[1]));
        assert_eq!(certs[0]["valid_until"], "2029-04-09");
        // the day before the 90-day reminder: nothing
        w.at(shanghai(2029, 1, 8, 9, 0));
        assert!(events(app, "certificate", &ann, "certificate.expiring").is_empty());
        // 90 days before 9 April 2029
        w.at(shanghai(2029, 1, 9, 0, 30));
        let expiring = events(app, "certificate", &ann, "certificate.expiring");
        assert_eq!(expiring.len(), 1);
        assert_eq!(expiring[0]["certificate"]["id"], json!(ann));
        assert_eq!(expiring[0]["certificate"]["status"], "valid");
        assert_eq!(expiring[0]["occasion"]["reminder_days"], 90);
        assert_eq!(expiring[0]["occasion"]["days_left"], 90);
        assert_eq!(events(app, "certificate", &bob, "certificate.expiring").len(), 1);
        // the holder's and the organisation's inboxes
        g.c.at(app, shanghai(2029, 1, 10, 9, 0));
        let holder = app.login(ANN, USER_PASSWORD);
        assert_eq!(inbox(app, &holder, "certificate_expiring", &ann).len(), 1);
        assert_eq!(inbox(app, &g.c.s.org.filler, "certificate_expiring", &ann).len(), 1);
        assert_eq!(inbox(app, &g.c.s.org.reviewer, "certificate_expiring", &bob).len(), 1);
        // the audit row has no actor (rule API-6)
        let audit = app.list_all(&format!("/api/v1/audit-events?entity_id={ann}"), &g.c.s.admin);
        let row = audit.iter().find(|e| e["action"] == "certificate.expiring").unwrap();
        assert!(row["actor_user_id"].is_null(), "{row:#}");
        // Bob records CE within the period: renewed until 2032
        let r = app.post(
            &format!("/api/v1/certificates/{bob}/ce-records"),
            Some(&g.c.s.officer),
            json!({"kind": "association_learning", "title": "Gas safety update", "hours": 8, "completed_on": "2029-01-05"}),
        );
        r.assert_status(201);
        // more runs on later days: still one
        w.at(shanghai(2029, 1, 12, 9, 0));
        assert_eq!(events(app, "certificate", &ann, "certificate.expiring").len(), 1);
        // 30 days before: a second reminder for Ann, none for Bob
        w.at(shanghai(2029, 3, 10, 9, 0));
        let expiring = events(app, "certificate", &ann, "certificate.expiring");
        assert_eq!(expiring.len(), 2);
        assert_eq!(expiring[1]["occasion"]["reminder_days"], 30);
        assert_eq!(events(app, "certificate", &bob, "certificate.expiring").len(), 1);
        w.at(shanghai(2029, 3, 11, 9, 0));
        assert_eq!(events(app, "certificate", &ann, "certificate.expiring").len(), 2);
        // the day after the validity: expired, once
        w.at(shanghai(2029, 4, 10, 0, 30));
        let expired = events(app, "certificate", &ann, "certificate.expired");
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0]["certificate"]["status"], "expired");
        w.at(shanghai(2029, 4, 11, 9, 0));
        assert_eq!(events(app, "certificate", &ann, "certificate.expired").len(), 1);
        assert!(events(app, "certificate", &bob, "certificate.expired").is_empty());
        // the day after the grace window (8 July): lapsed, once
        w.at(shanghai(2029, 7, 9, 9, 0));
        let lapsed = events(app, "certificate", &ann, "certificate.lapsed");
        assert_eq!(lapsed.len(), 1);
        assert_eq!(lapsed[0]["certificate"]["status"], "lapsed");
        w.at(shanghai(2029, 7, 10, 9, 0));
        assert_eq!(events(app, "certificate", &ann, "certificate.lapsed").len(), 1);
        g.c.at(app, shanghai(2029, 7, 10, 9, 0));
        let holder = app.login(ANN, USER_PASSWORD);
        assert_eq!(inbox(app, &holder, "certificate_expiring", &ann).len(), 2);
        assert_eq!(inbox(app, &holder, "certificate_expired", &ann).len(), 1);
        assert_eq!(inbox(app, &holder, "certificate_lapsed", &ann).len(), 1);
    }

    // rule CRT-4: a date further back than the catch-up window is not
    // announced (a freshly imported database does not flood the outbox)
    fn occasions_older_than_the_catch_up_window_are_skipped(app: TestApp) {
        let w = Worker::fresh(app);
        let app = &w.app;
        let (_g, certs) = issued(app, "SCH-OLD");
        let ann = id_of(&certs[0]);
        // 20 days after the 90-day reminder, with the default 7-day window
        w.at(shanghai(2029, 1, 29, 9, 0));
        assert!(events(app, "certificate", &ann, "certificate.expiring").is_empty());
        // a down-time of a few days is caught up: expired on 10 April,
        // announced on 13 April
        w.at(shanghai(2029, 4, 13, 9, 0));
        assert_eq!(events(app, "certificate", &ann, "certificate.expired").len(), 1);
    }

    // rule ARC-2: an open archive is overdue the day after the 5th working
    // day after publication (10 April 2026 → due 17 April), announced once
    fn an_overdue_archive_is_announced_once(app: TestApp) {
        let w = Worker::fresh(app);
        let app = &w.app;
        let mut g = graduates(app, "SCH-ARC");
        let archives = app.list_all(&format!("/api/v1/archives?class_id={}", g.c.class), &g.c.s.officer);
        assert_eq!(archives.len(), 1);
        let archive = id_of(&archives[0]);
        assert_eq!(archives[0]["due_on"], "2026-04-17");
        w.at(shanghai(2026, 4, 17, 18, 0));
        assert!(events(app, "archive", &archive, "archive.overdue").is_empty());
        w.at(shanghai(2026, 4, 18, 9, 0));
        let overdue = events(app, "archive", &archive, "archive.overdue");
        assert_eq!(overdue.len(), 1);
        assert_eq!(overdue[0]["archive"]["id"], json!(archive));
        assert_eq!(overdue[0]["archive"]["overdue"], json!(true));
        w.at(shanghai(2026, 4, 20, 9, 0));
        assert_eq!(events(app, "archive", &archive, "archive.overdue").len(), 1);
        // the training staff are told
        g.c.at(app, shanghai(2026, 4, 20, 9, 0));
        assert_eq!(inbox(app, &g.c.s.officer, "archive_overdue", &archive).len(), 1);
        assert_eq!(inbox(app, &g.c.s.head, "archive_overdue", &archive).len(), 1);
        assert!(inbox(app, &g.c.s.org.filler, "archive_overdue", &archive).is_empty());
    }

    // rule CED-1, CED-2: on 1 December a person under obligation and short
    // of the year's credits is told once; one who has enough, or is not yet
    // under obligation, is not
    fn ce_shortfall_is_announced_on_the_first_of_december(app: TestApp) {
        let w = Worker::fresh(app);
        let app = &w.app;
        let ce = ce_setup(app, "sch", "Wucheng");
        let short = skilled(app, &ce.admin, "Dai Short", 7101, &ce.org, Some("2024-06-01"));
        let met = skilled(app, &ce.admin, "Fu Enough", 7102, &ce.org, Some("2024-06-01"));
        let new = skilled(app, &ce.admin, "Gao New", 7103, &ce.org, Some("2026-02-01"));
        earn(app, &ce, "public", 12, &[&short, &met]);
        earn(app, &ce, "professional", 43, &[&short]);
        earn(app, &ce, "professional", 48, &[&met]);
        w.at(shanghai(2026, 11, 30, 9, 0));
        assert!(events(app, "person", &short, "ce.requirement_unmet").is_empty());
        w.at(shanghai(2026, 12, 1, 0, 30));
        let unmet = events(app, "person", &short, "ce.requirement_unmet");
        assert_eq!(unmet.len(), 1);
        assert_eq!(unmet[0]["compliance"]["person_id"], json!(short));
        assert_eq!(unmet[0]["compliance"]["credits_needed"], 5);
        assert_eq!(unmet[0]["occasion"]["year"], 2026);
        assert_eq!(unmet[0]["occasion"]["credits_short"], 5);
        assert!(events(app, "person", &met, "ce.requirement_unmet").is_empty());
        assert!(events(app, "person", &new, "ce.requirement_unmet").is_empty());
        w.at(shanghai(2026, 12, 3, 9, 0));
        assert_eq!(events(app, "person", &short, "ce.requirement_unmet").len(), 1);
        // the organisation's filler is told
        app.clock().set(shanghai(2026, 12, 3, 9, 0));
        let filler = app.login("sch.filler", USER_PASSWORD);
        assert_eq!(inbox(app, &filler, "ce_requirement_unmet", &short).len(), 1);
        assert!(inbox(app, &filler, "ce_requirement_unmet", &met).is_empty());
    }

    // rule CRT-4: two instances on one database announce each occasion once;
    // when the lease holder stops, the other takes the lease over and
    // announces the next occasion, still once
    fn two_instances_announce_each_occasion_once(app: TestApp) {
        let (_g, certs) = issued(&app, "SCH-TWO");
        let (ann, bob) = (id_of(&certs[0]), id_of(&certs[1]));
        let url = app.database_url().unwrap();
        let holder = |w: &Worker| {
            w.store
                .read(|c| guild_store::scheduler::lease(c, "scheduler"))
                .unwrap()
                .map(|(holder, _)| holder)
        };
        // the first instance takes the lease
        let first = Worker::start_on(app.backend, &url);
        first.at(shanghai(2029, 1, 9, 9, 0));
        let taken = holder(&first);
        assert!(taken.is_some());
        // a second instance runs next to it on the same dates
        let second = Worker::start_on(app.backend, &url);
        let when = shanghai(2029, 1, 10, 9, 0);
        second.app.clock().set(when);
        first.app.clock().set(when);
        settle(&first);
        assert_eq!(events(&app, "certificate", &ann, "certificate.expiring").len(), 1);
        assert_eq!(events(&app, "certificate", &bob, "certificate.expiring").len(), 1);
        // the holder stops; the other instance takes the lease over once it
        // expires, and announces nothing twice
        drop(first);
        second.app.clock().set(shanghai(2029, 1, 11, 9, 0));
        let started = Instant::now();
        while holder(&second) == taken {
            assert!(started.elapsed() < PATIENCE, "the lease was not taken over");
            std::thread::sleep(Duration::from_millis(50));
        }
        settle(&second);
        assert_eq!(events(&app, "certificate", &ann, "certificate.expiring").len(), 1);
        second.at(shanghai(2029, 3, 10, 9, 0));
        assert_eq!(events(&app, "certificate", &ann, "certificate.expiring").len(), 2);
        assert_eq!(events(&app, "certificate", &bob, "certificate.expiring").len(), 2);
    }
}
