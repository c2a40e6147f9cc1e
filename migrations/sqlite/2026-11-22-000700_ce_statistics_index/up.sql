-- CED-6: statistics by provider read one year's credits from this index alone
-- (an index-only scan), so they stay fast with a million credit records.
-- Keep in step with the other backend.
DROP INDEX ce_credits_year_provider_idx;
CREATE INDEX ce_credits_year_provider_idx ON ce_credits (year, provider_id, person_id, credits, hours, fee_fen);
