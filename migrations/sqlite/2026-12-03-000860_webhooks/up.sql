-- API-8: webhook subscriptions and their deliveries. The dispatcher fans each
-- pending outbox row out to one delivery per matching enabled subscription,
-- then workers claim due deliveries (a lease on the injected clock) and send
-- them signed as the Standard Webhooks specification describes.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    owner_user_id TEXT NOT NULL,
    owner_role TEXT NOT NULL,
    organisation_id TEXT,
    url TEXT NOT NULL,
    description TEXT,
    -- A JSON array of event kinds, or ["*"] for every kind.
    event_types TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    -- The signing key, base64 (shown to the owner as whsec_<base64>).
    secret TEXT NOT NULL,
    -- The key before the last rotation, signing too until it expires.
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    -- The first failed delivery since the last successful one.
    failing_since TIMESTAMP,
    disabled_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_subscriptions_owner_idx ON webhook_subscriptions (owner_user_id, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    -- The outbox event id (the webhook-id header), or a ping's own id.
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    -- The JSON body sent, fixed at fan-out so every retry sends the same bytes.
    payload TEXT NOT NULL,
    -- pending, delivered or failed.
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_token TEXT,
    last_status_code INTEGER,
    last_response_excerpt TEXT,
    last_error TEXT,
    last_attempt_at TIMESTAMP,
    last_duration_ms BIGINT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
-- One delivery per event and subscription, whichever instance fans out.
CREATE UNIQUE INDEX webhook_deliveries_event_idx ON webhook_deliveries (subscription_id, event_id);
-- The claim queue: due pending deliveries.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
-- Order per entity within a subscription.
CREATE INDEX webhook_deliveries_entity_idx ON webhook_deliveries (subscription_id, entity_type, entity_id, event_id);
