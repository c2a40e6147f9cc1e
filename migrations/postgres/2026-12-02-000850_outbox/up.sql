-- API-8: the transactional outbox. Every state change writes one row here in
-- the same transaction as the change and its audit event (same id), so the
-- webhook dispatcher reads what happened without reading the tables of the
-- change, and nothing is announced that was rolled back.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    organisation_id TEXT,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivery_state TEXT NOT NULL DEFAULT 'pending',
    dispatched_at TIMESTAMP
);
-- The dispatcher's queue: pending events, oldest first.
CREATE INDEX outbox_pending_idx ON outbox (delivery_state, id);
CREATE INDEX outbox_entity_idx ON outbox (entity_type, entity_id, id);
