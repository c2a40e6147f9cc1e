//! Webhook subscriptions (API-8): created, changed, rotated, pinged,
//! redelivered and deleted.

use guild_tests::Method;
use serde_json::json;

use super::tour::Tour;

const WEBHOOKS: &str = "/api/v1/webhooks";

/// One subscription through every operation. The URL is public HTTPS (the
/// walk's app does not allow private addresses); nothing need answer it.
pub fn subscription(t: &mut Tour) {
    let id = t
        .post(
            WEBHOOKS,
            "admin",
            json!({"url": "https://hooks.example.com/guild", "event_types": ["refund.paid"]}),
        )
        .id();
    let one = format!("{WEBHOOKS}/{id}");
    t.patch(&one, "admin", json!({"description": "the walk"}));
    t.post(&format!("{one}/rotate-secret"), "admin", json!({}));
    let admin = t.token("admin");
    let ping = t.silent(
        Method::POST,
        &format!("{one}/ping"),
        Some(&admin),
        json!({}),
    );
    let delivery = ping.id();
    t.silent(
        Method::POST,
        &format!("{one}/deliveries/{delivery}/redeliver"),
        Some(&admin),
        json!({}),
    );
    t.delete(&one, "admin");
}
