-- The continuing-education credit register (SPEC §10, seed 004): providers,
-- activities, credits, the per-person yearly roll-up and regional
-- requirements. Keep in step with the other backend.
CREATE TABLE ce_providers (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    conditions_json TEXT NOT NULL,
    scope TEXT NOT NULL,
    content TEXT NOT NULL,
    fee_items_json TEXT NOT NULL,
    standards TEXT NOT NULL,
    contact_phone TEXT,
    status_reason TEXT,
    applied_by TEXT NOT NULL REFERENCES users(id),
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- CED-4: one live application or accreditation per organisation.
CREATE UNIQUE INDEX ce_providers_one_live_per_organisation ON ce_providers (organisation_id)
    WHERE status IN ('applied', 'accredited', 'suspended');
CREATE INDEX ce_providers_status_idx ON ce_providers (status, id);

CREATE TABLE ce_activities (
    id TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT REFERENCES ce_providers(id),
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    subject_category TEXT NOT NULL,
    credits INTEGER NOT NULL CHECK (credits > 0),
    hours INTEGER NOT NULL CHECK (hours >= 0),
    fee_fen BIGINT NOT NULL CHECK (fee_fen >= 0),
    held_on DATE NOT NULL,
    year INTEGER NOT NULL,
    has_exam BOOLEAN NOT NULL,
    region TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    status TEXT NOT NULL,
    review_reason TEXT,
    reviewed_by TEXT REFERENCES users(id),
    reviewed_at TIMESTAMP,
    created_by TEXT NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ce_activities_provider_idx ON ce_activities (provider_id, id);
CREATE INDEX ce_activities_organisation_idx ON ce_activities (organisation_id, id);

CREATE TABLE ce_credits (
    id TEXT PRIMARY KEY NOT NULL,
    activity_id TEXT NOT NULL REFERENCES ce_activities(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    year INTEGER NOT NULL,
    earned_on DATE NOT NULL,
    source TEXT NOT NULL,
    subject_category TEXT NOT NULL,
    credits INTEGER NOT NULL CHECK (credits > 0),
    hours INTEGER NOT NULL CHECK (hours >= 0),
    fee_fen BIGINT NOT NULL CHECK (fee_fen >= 0),
    exam_based BOOLEAN NOT NULL,
    exam_score INTEGER,
    exam_passed BOOLEAN,
    provider_id TEXT REFERENCES ce_providers(id),
    organisation_id TEXT REFERENCES organisations(id),
    occupation TEXT,
    region TEXT,
    evidence_json TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (activity_id, person_id)
);
CREATE INDEX ce_credits_person_year_idx ON ce_credits (person_id, year);
CREATE INDEX ce_credits_year_provider_idx ON ce_credits (year, provider_id);

-- One row per person and year, kept in step with ce_credits in the same
-- transaction: compliance (CED-5) reads one row, statistics (CED-6) scan
-- person-years instead of every credit.
CREATE TABLE ce_person_years (
    person_id TEXT NOT NULL REFERENCES people(id),
    year INTEGER NOT NULL,
    region TEXT,
    organisation_id TEXT REFERENCES organisations(id),
    occupation TEXT,
    total_credits INTEGER NOT NULL,
    public_credits INTEGER NOT NULL,
    professional_credits INTEGER NOT NULL,
    exam_credits INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    fee_fen BIGINT NOT NULL,
    records INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (person_id, year)
);
CREATE INDEX ce_person_years_year_idx ON ce_person_years (year, organisation_id);

-- CED-2: the yearly requirement per region (a region without a row uses the defaults).
CREATE TABLE ce_requirements (
    region TEXT PRIMARY KEY NOT NULL,
    total_credits INTEGER NOT NULL CHECK (total_credits >= 0),
    public_credits INTEGER NOT NULL CHECK (public_credits >= 0),
    professional_credits INTEGER NOT NULL CHECK (professional_credits >= 0),
    exam_credits INTEGER NOT NULL CHECK (exam_credits >= 0),
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);
