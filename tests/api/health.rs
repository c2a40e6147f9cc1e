//! `/healthz`, `/readyz`, `/openapi.json` and `/docs/` (SPEC §14).

use guild_tests::backend_tests;
use serde_json::json;

backend_tests! {
    fn healthz_answers_ok(app: TestApp) {
        let r = app.get("/healthz", None);
        r.assert_status(200);
        assert_eq!(r.body, json!({"status": "ok"}));
        assert!(r.header("content-type").starts_with("application/json"));
        assert!(!r.header("x-request-id").is_empty(), "every response carries X-Request-Id");
    }

    fn readyz_names_the_backend(app: TestApp) {
        let r = app.get("/readyz", None);
        r.assert_status(200);
        assert_eq!(r.body, json!({"status": "ready", "database": app.backend.name()}));
    }

    fn openapi_json_is_served_and_equals_the_generated_document(app: TestApp) {
        // rule API-7: /openapi.json is the same document as openapi/openapi.json
        let r = app.get("/openapi.json", None);
        r.assert_status(200);
        let generated: serde_json::Value =
            serde_json::from_str(&guild_api::app::openapi_json()).expect("the generated document is JSON");
        assert_eq!(r.body, generated);
        assert_eq!(r.body["openapi"], "3.1.0");
    }

    fn docs_serve_swagger_ui_offline(app: TestApp) {
        let r = app.get("/docs", None);
        assert!(matches!(r.status, 301 | 302 | 307 | 308), "/docs redirects to /docs/: {}", r.status);
        let r = app.get("/docs/", None);
        r.assert_status(200);
        assert!(r.header("content-type").starts_with("text/html"), "{}", r.header("content-type"));
        let html = r.body.as_str().unwrap_or_default();
        assert!(html.contains("swagger"), "Swagger UI page: {html}");
        // Vendored assets: nothing is fetched from a CDN.
        assert!(!html.contains("unpkg.com") && !html.contains("cdn."), "docs must work offline: {html}");
        let init = app.get("/docs/swagger-initializer.js", None);
        init.assert_status(200);
        let js = init.body.as_str().unwrap_or_default();
        assert!(js.contains("/openapi.json"), "the UI loads our document: {js}");
    }

    fn healthz_needs_no_token_and_ignores_a_bad_one(app: TestApp) {
        app.get("/healthz", Some("not-a-token")).assert_status(200);
        app.get("/readyz", Some("not-a-token")).assert_status(200);
    }
}
