-- Deferrals, substitutions and transfers (DEF-1 to DEF-3): the invariants that
-- protect seats and money, enforced by the database as well as by the code.
-- Keep in step with the other backend's folder.

-- DEF-1: at most one open (submitted, or approved and not yet transferred)
-- deferral per enrolment.
CREATE UNIQUE INDEX deferrals_one_open_per_enrolment ON deferrals (enrolment_id)
    WHERE status IN ('submitted', 'approved');

-- DEF-3: at most one pending substitution per enrolment.
CREATE UNIQUE INDEX substitutions_one_pending_per_enrolment ON substitutions (enrolment_id)
    WHERE status = 'submitted';

-- DEF-2: an enrolment's money moves to at most one later enrolment.
CREATE UNIQUE INDEX enrolments_one_transfer_per_source ON enrolments (transferred_from_id)
    WHERE transferred_from_id IS NOT NULL;
