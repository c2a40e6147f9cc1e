-- Time-driven events (CRT-4, CRT-8, ARC-2, CED-2).
--
-- worker_leases: one instance at a time runs a background worker. A lease
-- is taken by inserting its row or by taking over a row whose holder let it
-- expire (one upsert statement); the holder renews it on every run.
CREATE TABLE worker_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
-- scheduled_events: one row per announced occasion, inserted in the same
-- transaction as the event it announces. The primary key makes each
-- occasion fire exactly once, even when two instances race or the lease
-- changes hands: the loser's insert does nothing and it emits nothing.
CREATE TABLE scheduled_events (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    occasion TEXT NOT NULL,
    event_id TEXT NOT NULL,
    emitted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, entity_id, occasion)
);
