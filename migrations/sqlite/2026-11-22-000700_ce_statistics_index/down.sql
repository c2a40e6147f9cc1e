DROP INDEX ce_credits_year_provider_idx;
CREATE INDEX ce_credits_year_provider_idx ON ce_credits (year, provider_id);
