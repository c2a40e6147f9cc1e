-- Certificates with verification codes, continuing-education renewals, signing
-- keys, reissue/change/cancel requests, forgery reports (SPEC §9) and class
-- archives with the working-day calendar (SPEC §12). Keep in step with the other backend.
CREATE TABLE certificates (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    person_id TEXT NOT NULL REFERENCES people(id),
    organisation_id TEXT REFERENCES organisations(id),
    holder_name TEXT NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs(id),
    class_id TEXT REFERENCES classes(id),
    enrolment_id TEXT REFERENCES enrolments(id),
    registration_id TEXT REFERENCES exam_registrations(id),
    issued_on DATE NOT NULL,
    validity_years INTEGER NOT NULL CHECK (validity_years > 0),
    period_started_on DATE NOT NULL,
    valid_until DATE NOT NULL,
    renewals INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    replaces_id TEXT REFERENCES certificates(id),
    superseded_by_id TEXT REFERENCES certificates(id),
    ended_at TIMESTAMP,
    end_reason TEXT,
    issued_by TEXT NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- CRT-1: one original certificate per passed enrolment; reissues replace it.
CREATE UNIQUE INDEX certificates_one_original_per_enrolment ON certificates (enrolment_id)
    WHERE replaces_id IS NULL;
CREATE INDEX certificates_person_idx ON certificates (person_id, id);
CREATE INDEX certificates_organisation_idx ON certificates (organisation_id, valid_until, id);
CREATE INDEX certificates_valid_until_idx ON certificates (valid_until, id);
CREATE INDEX certificates_class_idx ON certificates (class_id);

-- The last certificate number given out in each year (CRT-1).
CREATE TABLE certificate_numbers (
    year INTEGER PRIMARY KEY NOT NULL,
    last_number INTEGER NOT NULL
);

CREATE TABLE certificate_ce_records (
    id TEXT PRIMARY KEY NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES certificates(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    hours INTEGER NOT NULL CHECK (hours > 0),
    completed_on DATE NOT NULL,
    evidence_reference TEXT,
    period_ended_on DATE NOT NULL,
    renewed_until DATE,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX certificate_ce_records_certificate_idx ON certificate_ce_records (certificate_id, id);

CREATE TABLE certificate_requests (
    id TEXT PRIMARY KEY NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES certificates(id),
    kind TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    reason TEXT NOT NULL,
    new_holder_name TEXT,
    new_organisation_id TEXT REFERENCES organisations(id),
    physical_card BOOLEAN NOT NULL,
    card_fee_fen BIGINT NOT NULL CHECK (card_fee_fen >= 0),
    status TEXT NOT NULL,
    filed_by TEXT NOT NULL REFERENCES users(id),
    filed_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP,
    decision_reason TEXT,
    new_certificate_id TEXT REFERENCES certificates(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- CRT-5: one open request per certificate.
CREATE UNIQUE INDEX certificate_requests_one_open ON certificate_requests (certificate_id)
    WHERE status = 'submitted';
CREATE INDEX certificate_requests_organisation_idx ON certificate_requests (organisation_id, id);
CREATE INDEX certificate_requests_status_idx ON certificate_requests (status, id);

CREATE TABLE forgery_reports (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT REFERENCES people(id),
    organisation_id TEXT REFERENCES organisations(id),
    claimed_number TEXT,
    certificate_id TEXT REFERENCES certificates(id),
    description TEXT NOT NULL,
    evidence_reference TEXT NOT NULL,
    misconduct_entry_id TEXT NOT NULL REFERENCES misconduct_entries(id),
    reported_by TEXT NOT NULL REFERENCES users(id),
    reported_at TIMESTAMP NOT NULL
);

CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
-- CRT-3: exactly one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';

CREATE TABLE calendar_days (
    day DATE PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE archives (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL UNIQUE REFERENCES classes(id),
    results_published_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    completed_by TEXT REFERENCES users(id),
    completed_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX archives_status_idx ON archives (status, results_published_at);

CREATE TABLE archive_documents (
    id TEXT PRIMARY KEY NOT NULL,
    archive_id TEXT NOT NULL REFERENCES archives(id),
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    note TEXT,
    attached_by TEXT NOT NULL REFERENCES users(id),
    attached_at TIMESTAMP NOT NULL,
    UNIQUE (archive_id, kind)
);
