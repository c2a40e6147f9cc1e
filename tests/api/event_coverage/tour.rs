//! The [`Tour`]: every state-changing call of the walk goes through it, so it
//! can check that the call wrote an outbox row (API-8) and record which
//! operation of the OpenAPI document it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guild_tests::{ADMIN_PASSWORD, Method, Resp, TestApp, USER_PASSWORD};
use serde_json::Value;

/// One state-changing operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub template: String,
    pub id: String,
}

impl Operation {
    /// Whether `path` (no query) is an instance of the template: `{x}` matches one segment.
    fn matches(&self, method: &Method, path: &str) -> bool {
        let want: Vec<&str> = self.template.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        self.method == *method
            && want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| (w.starts_with('{') && !g.is_empty()) || w == g)
    }

    fn literal_segments(&self) -> usize {
        self.template
            .split('/')
            .filter(|s| !s.starts_with('{'))
            .count()
    }
}

/// Every POST, PUT, PATCH and DELETE operation of the generated document.
pub fn state_changing_operations() -> Vec<Operation> {
    let doc: Value = serde_json::from_str(&guild_api::app::openapi_json())
        .expect("the generated document is JSON");
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("path item") {
            let method = match method.as_str() {
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            let id = spec["operationId"].as_str().expect("an operationId");
            ops.push(Operation {
                method,
                template: path.clone(),
                id: id.to_owned(),
            });
        }
    }
    ops
}

/// The app, an open store on its database, the tokens of the walk's accounts
/// and the operations covered so far (operationId → the first call).
pub struct Tour<'a> {
    pub app: &'a TestApp,
    store: guild_store::Store,
    ops: Vec<Operation>,
    tokens: HashMap<String, String>,
    pub covered: BTreeMap<String, String>,
    /// Operations called through [`Tour::silent`]: they wrote no outbox row.
    pub silent: BTreeSet<String>,
}

impl<'a> Tour<'a> {
    pub fn new(app: &'a TestApp) -> Tour<'a> {
        Tour {
            app,
            store: app.store(),
            ops: state_changing_operations(),
            tokens: HashMap::new(),
            covered: BTreeMap::new(),
            silent: BTreeSet::new(),
        }
    }

    /// The access token of `user` (`admin` or an account with [`USER_PASSWORD`]).
    pub fn token(&mut self, user: &str) -> String {
        if let Some(t) = self.tokens.get(user) {
            return t.clone();
        }
        let password = if user == "admin" {
            ADMIN_PASSWORD
        } else {
            USER_PASSWORD
        };
        let t = self.app.login(user, password);
        self.tokens.insert(user.to_owned(), t.clone());
        t
    }

    /// Moves the injected clock; tokens live 15 minutes of it, so they are dropped.
    pub fn at(&mut self, when: DateTime<Utc>) {
        self.app.clock().set(when);
        self.tokens.clear();
    }

    /// The document operation `path` is an instance of: the one with the most
    /// literal segments when several match (`/teachers/terms` over `/teachers/{id}`).
    fn operation(&self, method: &Method, path: &str) -> Operation {
        let path = path.split('?').next().unwrap_or(path);
        self.ops
            .iter()
            .filter(|op| op.matches(method, path))
            .max_by_key(|op| op.literal_segments())
            .cloned()
            .unwrap_or_else(|| panic!("{method} {path} is no operation of the document"))
    }

    /// Sends a state-changing request as `user`; asserts a 2xx answer and a new
    /// outbox row, and records the operation as covered.
    #[track_caller]
    pub fn send(&mut self, method: Method, path: &str, user: &str, body: Option<&Value>) -> Resp {
        let token = self.token(user);
        let op = self.operation(&method, path);
        let before = TestApp::outbox_len_in(&self.store);
        let r = self.app.request(method, path, Some(&token), body, &[]);
        self.check(&op, before, r)
    }

    /// Like [`Tour::send`] with a raw body of `content_type` (the CSV upload).
    #[track_caller]
    pub fn send_raw(&mut self, path: &str, user: &str, content_type: &str, body: &str) -> Resp {
        let token = self.token(user);
        let op = self.operation(&Method::POST, path);
        let before = TestApp::outbox_len_in(&self.store);
        let r = self.app.send_raw(
            Method::POST,
            path,
            Some(&token),
            Some(content_type),
            body.as_bytes().to_vec(),
        );
        self.check(&op, before, r)
    }

    #[track_caller]
    fn check(&mut self, op: &Operation, before: usize, r: Resp) -> Resp {
        let name = format!("{} {}", op.method, op.template);
        assert!(
            (200..300).contains(&r.status),
            "{name} ({}) answered {}: {:#}",
            op.id,
            r.status,
            r.body
        );
        let after = TestApp::outbox_len_in(&self.store);
        assert!(
            after > before,
            "{name} changed state without writing an outbox event"
        );
        self.covered.entry(op.id.clone()).or_insert(name);
        r
    }

    /// Sends a request that must succeed WITHOUT writing an outbox row (an
    /// allow-listed operation, audited only), with `token` if any.
    #[track_caller]
    pub fn silent(&mut self, method: Method, path: &str, token: Option<&str>, body: Value) -> Resp {
        let op = self.operation(&method, path);
        let before = TestApp::outbox_len_in(&self.store);
        let r = self.app.request(method, path, token, Some(&body), &[]);
        let name = format!("{} {}", op.method, op.template);
        assert!(
            (200..300).contains(&r.status),
            "{name} answered {}: {:#}",
            r.status,
            r.body
        );
        let after = TestApp::outbox_len_in(&self.store);
        assert_eq!(
            after, before,
            "{name} is allow-listed but wrote an outbox event"
        );
        self.silent.insert(op.id);
        r
    }

    #[track_caller]
    pub fn post(&mut self, path: &str, user: &str, body: Value) -> Resp {
        self.send(Method::POST, path, user, Some(&body))
    }

    #[track_caller]
    pub fn patch(&mut self, path: &str, user: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, user, Some(&body))
    }

    #[track_caller]
    pub fn put(&mut self, path: &str, user: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, user, Some(&body))
    }

    #[track_caller]
    pub fn delete(&mut self, path: &str, user: &str) -> Resp {
        self.send(Method::DELETE, path, user, None)
    }

    /// A read as `user` (not state-changing: nothing is checked but the status).
    #[track_caller]
    pub fn get(&mut self, path: &str, user: &str) -> Resp {
        let token = self.token(user);
        let r = self.app.get(path, Some(&token));
        r.assert_status(200);
        r
    }
}
