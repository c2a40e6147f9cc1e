-- One tiny row that `/readyz` rewrites to prove the database accepts writes
-- (a full disk, read-only files or a read-only server fail it), and that
-- start-up work on SQLite locks on before it reads (Store::write_exclusive).
-- Keep in step with the other backend.
CREATE TABLE readiness (
    id INTEGER NOT NULL PRIMARY KEY,
    probes BIGINT NOT NULL
);
INSERT INTO readiness (id, probes) VALUES (1, 0);
