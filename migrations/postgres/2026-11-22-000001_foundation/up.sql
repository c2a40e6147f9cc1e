-- Foundation: organisations, people, accounts, tokens, audit log, idempotency (PostgreSQL).
-- Keep in step with ../sqlite: tests/api/schema_parity.rs compares both.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    credit_code TEXT UNIQUE,
    region TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    address TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    phone TEXT,
    organisation_id TEXT REFERENCES organisations(id),
    category TEXT,
    occupation TEXT,
    skill_level TEXT,
    skill_certificate_number TEXT,
    skill_certificate_issued_on DATE,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (id_type, id_number)
);
CREATE INDEX people_organisation_idx ON people (organisation_id, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations(id),
    person_id TEXT REFERENCES people(id),
    status TEXT NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_organisation_idx ON users (organisation_id, id);

CREATE TABLE account_changes (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    role TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    replaces_user_id TEXT REFERENCES users(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_by TEXT NOT NULL REFERENCES users(id),
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP,
    decision_reason TEXT,
    created_user_id TEXT REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX account_changes_organisation_idx ON account_changes (organisation_id, id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, created_at);
CREATE INDEX login_failures_address_idx ON login_failures (address, created_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_user_id TEXT,
    actor_role TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    organisation_id TEXT,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT,
    address TEXT
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, id);
CREATE INDEX audit_events_organisation_idx ON audit_events (organisation_id, id);

CREATE TABLE idempotency_keys (
    id TEXT PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    content_type TEXT,
    created_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    UNIQUE (scope, idempotency_key)
);
