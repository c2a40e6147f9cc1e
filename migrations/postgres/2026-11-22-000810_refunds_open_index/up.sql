-- REF-1, REF-4: a paid refund is over, not in progress. One open refund per
-- enrolment; after a paid personal refund (REF-2) the class-cancelled refund of
-- the exam fee still held can be filed.
DROP INDEX refunds_one_live_per_enrolment;
CREATE UNIQUE INDEX refunds_one_open_per_enrolment ON refunds (enrolment_id)
    WHERE status NOT IN ('rejected', 'paid');
