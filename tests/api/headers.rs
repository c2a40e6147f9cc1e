//! Response headers (issue 10 items 14 and 15): `nosniff` everywhere,
//! `no-store` on authenticated answers, a CSP and `X-Frame-Options` on the API
//! documentation, and request ids that are short tokens.

use std::sync::{Arc, Mutex, OnceLock};

use guild_tests::{Method, backend_tests};
use serde_json::json;

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// What the server (running in this process) logs under `guild::request`.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

/// Installs (once) a subscriber that keeps the request log of the whole test process.
fn request_log() -> &'static LogBuffer {
    static LOG: OnceLock<LogBuffer> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buffer.clone())
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("guild::request=info"))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        buffer
    })
}

/// The request-log lines that mention `request_id`.
fn logged(request_id: &str) -> Vec<String> {
    let bytes = request_log().0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| l.contains(&format!("request_id=\"{request_id}\"")))
        .map(str::to_owned)
        .collect()
}

backend_tests! {
    // X-Content-Type-Options on every response: success, problem, docs, unknown route
    fn every_response_says_nosniff(app: TestApp) {
        let admin = app.admin();
        let responses = [
            app.get("/healthz", None),
            app.get("/api/v1/me", Some(&admin)),
            app.get("/api/v1/me", None),
            app.get("/api/v1/nothing", None),
            app.get("/docs/", None),
            app.get("/openapi.json", None),
            app.post("/api/v1/organisations", Some(&admin), json!({})),
            app.try_login("admin", "wrong password"),
        ];
        for r in responses {
            assert_eq!(r.header("x-content-type-options"), "nosniff", "status {}: {:?}", r.status, r.headers);
        }
    }

    // personal data is never cached: every answer to an authenticated request is no-store
    fn authenticated_answers_are_not_cached(app: TestApp) {
        let admin = app.admin();
        for r in [
            app.get("/api/v1/me", Some(&admin)),
            app.get("/api/v1/users", Some(&admin)),
            app.get("/api/v1/organisations/not-a-uuid", Some(&admin)),
            app.post("/api/v1/organisations", Some(&admin), json!({"name": "Cached Co", "kind": "other"})),
        ] {
            assert_eq!(r.header("cache-control"), "no-store", "status {}: {:?}", r.status, r.headers);
        }
        // Public answers without a token are left to the handler.
        let r = app.get("/api/v1/public/plans", None);
        r.assert_status(200);
        assert_ne!(r.header("cache-control"), "no-store");
        // A handler's own Cache-Control is kept (login answers carry tokens: no-store).
        let r = app.try_login("admin", guild_tests::ADMIN_PASSWORD);
        r.assert_status(200);
        assert!(r.header("cache-control").contains("no-store"));
    }

    // the documentation page is not framed and runs only its own scripts
    fn the_docs_have_a_csp_and_cannot_be_framed(app: TestApp) {
        let page = app.client().get(app.url("/docs/")).send().unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let csp = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
        assert_eq!(page.headers().get("x-frame-options").unwrap(), "DENY");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-eval"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let html = page.text().unwrap();
        // script-src 'self' suffices: every script of the page is a file of the same origin.
        let mut scripts = 0;
        for tag in html.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap_or_default();
            let src = open.split("src=\"").nth(1).and_then(|s| s.split('"').next());
            let src = src.unwrap_or_else(|| panic!("an inline script would be blocked by the CSP: <script{open}>"));
            assert!(!src.contains("://"), "scripts come from the same origin: {src}");
            let script = app.client().get(app.url(&format!("/docs/{}", src.trim_start_matches("./")))).send().unwrap();
            assert_eq!(script.status().as_u16(), 200, "{src}");
            assert_eq!(script.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()), Some(csp.clone()));
            scripts += 1;
        }
        assert!(scripts >= 3, "{html}");
        // The initializer loads the document from the same origin.
        let init = app.client().get(app.url("/docs/swagger-initializer.js")).send().unwrap().text().unwrap();
        assert!(init.contains("\"/openapi.json\""), "{init}");
        app.get("/openapi.json", None).assert_status(200);
        // API answers need no CSP of the docs.
        assert_eq!(app.get("/healthz", None).header("x-frame-options"), "");
    }

    // a client's X-Request-Id is kept only when it is a short token
    fn request_ids_must_be_short_tokens(app: TestApp) {
        for good in ["trace-me-42", "A.b_c-9", &"x".repeat(64)] {
            let r = app.request(Method::GET, "/api/v1/me", None, None, &[("x-request-id", good)]);
            assert_eq!(r.header("x-request-id"), good);
            assert_eq!(r.body["request_id"], good);
        }
        for bad in ["has space", "semi;colon", "quote\"d", "<script>", "a=b", &"x".repeat(65), "line\tbreak"] {
            let r = app.request(Method::GET, "/api/v1/me", None, None, &[("x-request-id", bad)]);
            let id = r.header("x-request-id");
            assert!(is_uuid(id), "{bad:?} is replaced by a new id, got {id:?}");
            assert_eq!(r.body["request_id"], id, "the problem names the new id");
        }
        // Without one, each request gets its own.
        let a = app.get("/healthz", None);
        let b = app.get("/healthz", None);
        assert!(is_uuid(a.header("x-request-id")));
        assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
    }

    // each request is logged once: method, route, status, latency, request id and caller
    fn each_request_is_logged_once_with_its_caller(app: TestApp) {
        request_log();
        let admin = app.admin();
        let me = app.get("/api/v1/me", Some(&admin));
        let admin_id = me.body["id"].as_str().unwrap().to_owned();
        let probe = format!("log-probe-{}", uuid::Uuid::new_v4().simple());
        let path = format!("/api/v1/organisations/{}", uuid::Uuid::new_v4());
        app.request(Method::GET, &path, Some(&admin), None, &[("x-request-id", &probe)])
            .assert_problem(404, "not_found");
        let lines = logged(&probe);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        for part in [
            " INFO ",
            "guild::request",
            "method=\"GET\"",
            "route=/api/v1/organisations/{id}",
            "status=404",
            "latency_ms=",
            &format!("user_id=\"{admin_id}\""),
        ] {
            assert!(lines[0].contains(part), "{part} missing in {}", lines[0]);
        }
        // Without a token there is no caller.
        let anonymous = format!("log-probe-{}", uuid::Uuid::new_v4().simple());
        app.request(Method::GET, "/api/v1/me", None, None, &[("x-request-id", &anonymous)])
            .assert_problem(401, "unauthenticated");
        let lines = logged(&anonymous);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(lines[0].contains("status=401") && lines[0].contains("user_id=\"-\""), "{}", lines[0]);
        // A replaced client id is logged under the new id.
        let r = app.request(Method::GET, "/healthz", None, None, &[("x-request-id", "bad id")]);
        let id = r.header("x-request-id").to_owned();
        assert_eq!(logged(&id).len(), 1);
        assert!(logged("bad id").is_empty());
    }
}
