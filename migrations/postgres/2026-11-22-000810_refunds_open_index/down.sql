DROP INDEX refunds_one_open_per_enrolment;
CREATE UNIQUE INDEX refunds_one_live_per_enrolment ON refunds (enrolment_id)
    WHERE status <> 'rejected';
