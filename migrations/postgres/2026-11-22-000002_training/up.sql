-- Training: programs, plans, teachers, classes, enrolments, fees, deferrals,
-- substitutions, bans, notifications and public notices (SPEC §3, §4, §11).
-- Keep in step with the other backend's folder: tests/api/schema_parity.rs compares both.
CREATE TABLE programs (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    target_categories TEXT NOT NULL,
    training_fee_fen BIGINT NOT NULL CHECK (training_fee_fen >= 0),
    exam_fee_fen BIGINT NOT NULL CHECK (exam_fee_fen >= 0),
    theory_mode TEXT,
    theory_pass_mark INTEGER,
    practical_pass_mark INTEGER,
    skill_level BOOLEAN NOT NULL,
    certificate_name TEXT NOT NULL,
    validity_years INTEGER NOT NULL CHECK (validity_years > 0),
    status TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL UNIQUE,
    title TEXT NOT NULL,
    items_json TEXT NOT NULL,
    notes TEXT,
    status TEXT NOT NULL,
    latest_version INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE plan_versions (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    items_json TEXT NOT NULL,
    notes TEXT,
    change_note TEXT,
    published_by TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    UNIQUE (plan_id, number)
);

CREATE TABLE terms (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (starts_on < ends_on)
);

CREATE TABLE teacher_appointments (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    term_id TEXT NOT NULL REFERENCES terms(id),
    subjects TEXT,
    status TEXT NOT NULL,
    appointed_by TEXT NOT NULL,
    dismissed_at TIMESTAMP,
    dismissed_by TEXT,
    dismissal_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, term_id)
);

CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL
);
CREATE INDEX notices_kind_idx ON notices (kind, id);

CREATE TABLE classes (
    id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL REFERENCES programs(id),
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    year INTEGER NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    place TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    class_head_user_id TEXT REFERENCES users(id),
    status TEXT NOT NULL,
    cancellation_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (start_date <= end_date)
);
CREATE INDEX classes_program_idx ON classes (program_id, start_date);
CREATE INDEX classes_year_idx ON classes (year, id);

CREATE TABLE class_teachers (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL REFERENCES classes(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    UNIQUE (class_id, user_id)
);

CREATE TABLE class_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL REFERENCES classes(id),
    session_date DATE NOT NULL,
    starts_at TIME NOT NULL,
    ends_at TIME NOT NULL,
    topic TEXT NOT NULL,
    teacher_user_id TEXT REFERENCES users(id)
);
CREATE INDEX class_sessions_class_idx ON class_sessions (class_id, session_date);

CREATE TABLE checklist_items (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL REFERENCES classes(id),
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    mandatory BOOLEAN NOT NULL,
    checked_by TEXT REFERENCES users(id),
    checked_at TIMESTAMP,
    note TEXT,
    UNIQUE (class_id, position)
);

CREATE TABLE enrolments (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL REFERENCES classes(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    organisation_id TEXT REFERENCES organisations(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_at TIMESTAMP,
    org_approved_by TEXT REFERENCES users(id),
    org_approved_at TIMESTAMP,
    confirmed_by TEXT REFERENCES users(id),
    confirmed_at TIMESTAMP,
    waitlisted_at TIMESTAMP,
    paid_at TIMESTAMP,
    notified_at TIMESTAMP,
    rejected_by TEXT REFERENCES users(id),
    rejected_at TIMESTAMP,
    rejection_reason TEXT,
    transferred_from_id TEXT REFERENCES enrolments(id),
    created_by TEXT NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- ENR-5: one live enrolment per person and class.
CREATE UNIQUE INDEX enrolments_one_live_per_class ON enrolments (class_id, person_id)
    WHERE status NOT IN ('cancelled', 'transferred');
CREATE INDEX enrolments_class_idx ON enrolments (class_id, status);
CREATE INDEX enrolments_organisation_idx ON enrolments (organisation_id, id);
CREATE INDEX enrolments_person_idx ON enrolments (person_id);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    reference TEXT,
    note TEXT,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entries_enrolment_idx ON ledger_entries (enrolment_id, id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    recipient_user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_recipient_idx ON notifications (recipient_user_id, id);

CREATE TABLE bans (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id),
    scope TEXT NOT NULL,
    program_id TEXT REFERENCES programs(id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    reason TEXT NOT NULL,
    rule TEXT NOT NULL,
    sanction_id TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    withdrawn_at TIMESTAMP,
    withdrawn_by TEXT REFERENCES users(id),
    withdrawal_reason TEXT,
    CHECK (starts_on <= ends_on)
);
CREATE INDEX bans_person_idx ON bans (person_id, ends_on);

CREATE TABLE deferrals (
    id TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    organisation_id TEXT REFERENCES organisations(id),
    letter_reference TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    filed_by TEXT NOT NULL REFERENCES users(id),
    filed_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP,
    decision_reason TEXT,
    transferred_to_id TEXT REFERENCES enrolments(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX deferrals_enrolment_idx ON deferrals (enrolment_id);
CREATE INDEX deferrals_organisation_idx ON deferrals (organisation_id, id);

CREATE TABLE substitutions (
    id TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    organisation_id TEXT REFERENCES organisations(id),
    old_person_id TEXT NOT NULL REFERENCES people(id),
    new_person_id TEXT NOT NULL REFERENCES people(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    filed_by TEXT NOT NULL REFERENCES users(id),
    filed_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP,
    decision_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX substitutions_enrolment_idx ON substitutions (enrolment_id);
CREATE INDEX substitutions_organisation_idx ON substitutions (organisation_id, id);
