-- Refunds, attendance and leave, exam sittings and results, discipline and the
-- public misconduct register (SPEC §5 to §8). Keep in step with the other backend.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    organisation_id TEXT REFERENCES organisations(id),
    kind TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    deferral_id TEXT REFERENCES deferrals(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users(id),
    requested_at TIMESTAMP NOT NULL,
    training_confirmed_by TEXT REFERENCES users(id),
    training_confirmed_at TIMESTAMP,
    finance_confirmed_by TEXT REFERENCES users(id),
    finance_confirmed_at TIMESTAMP,
    leader_approved_by TEXT REFERENCES users(id),
    leader_approved_at TIMESTAMP,
    paid_by TEXT REFERENCES users(id),
    paid_at TIMESTAMP,
    payment_reference TEXT,
    rejected_by TEXT REFERENCES users(id),
    rejected_at TIMESTAMP,
    rejection_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- REF-4: at most one refund in progress or paid per enrolment.
CREATE UNIQUE INDEX refunds_one_live_per_enrolment ON refunds (enrolment_id)
    WHERE status <> 'rejected';
CREATE INDEX refunds_organisation_idx ON refunds (organisation_id, id);
CREATE INDEX refunds_status_idx ON refunds (status, id);

CREATE TABLE attendance_records (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL REFERENCES classes(id),
    session_id TEXT NOT NULL REFERENCES class_sessions(id),
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    status TEXT NOT NULL,
    note TEXT,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, enrolment_id)
);
CREATE INDEX attendance_records_enrolment_idx ON attendance_records (enrolment_id);

CREATE TABLE leave_requests (
    id TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    session_id TEXT NOT NULL REFERENCES class_sessions(id),
    organisation_id TEXT REFERENCES organisations(id),
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
CREATE UNIQUE INDEX leave_requests_one_open_per_session ON leave_requests (enrolment_id, session_id)
    WHERE status <> 'refused';

CREATE TABLE sittings (
    id TEXT PRIMARY KEY NOT NULL,
    class_id TEXT NOT NULL REFERENCES classes(id),
    kind TEXT NOT NULL,
    held_on DATE NOT NULL,
    starts_at TIME NOT NULL,
    place TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sittings_class_idx ON sittings (class_id, held_on);

CREATE TABLE exam_registrations (
    id TEXT PRIMARY KEY NOT NULL,
    sitting_id TEXT NOT NULL REFERENCES sittings(id),
    enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    charged BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    theory_score INTEGER,
    practical_score INTEGER,
    passed BOOLEAN,
    result_entered_by TEXT REFERENCES users(id),
    result_entered_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (sitting_id, enrolment_id)
);
CREATE INDEX exam_registrations_enrolment_idx ON exam_registrations (enrolment_id, attempt);

CREATE TABLE sanctions (
    id TEXT PRIMARY KEY NOT NULL,
    sitting_id TEXT NOT NULL REFERENCES sittings(id),
    registration_id TEXT NOT NULL REFERENCES exam_registrations(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    organisation_id TEXT REFERENCES organisations(id),
    offence TEXT NOT NULL,
    outcome TEXT NOT NULL,
    rule TEXT NOT NULL,
    description TEXT NOT NULL,
    evidence_reference TEXT NOT NULL,
    invigilator_user_id TEXT NOT NULL REFERENCES users(id),
    occurred_at TIMESTAMP NOT NULL,
    ban_id TEXT REFERENCES bans(id),
    employer_notified_at TIMESTAMP,
    status TEXT NOT NULL,
    withdrawn_by TEXT REFERENCES users(id),
    withdrawn_at TIMESTAMP,
    withdrawal_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sanctions_registration_idx ON sanctions (registration_id);
CREATE INDEX sanctions_person_idx ON sanctions (person_id);

CREATE TABLE misconduct_entries (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT REFERENCES people(id),
    organisation_id TEXT REFERENCES organisations(id),
    offence TEXT NOT NULL,
    sanction_summary TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE,
    sanction_id TEXT REFERENCES sanctions(id),
    status TEXT NOT NULL,
    withdrawal_reason TEXT,
    withdrawn_at TIMESTAMP,
    published_at TIMESTAMP NOT NULL
);
CREATE INDEX misconduct_entries_published_idx ON misconduct_entries (published_at, id);

ALTER TABLE classes ADD COLUMN results_published_at TIMESTAMP;
ALTER TABLE classes ADD COLUMN results_published_by TEXT REFERENCES users(id);
