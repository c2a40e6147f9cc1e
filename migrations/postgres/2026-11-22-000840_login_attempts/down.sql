ALTER TABLE refresh_tokens DROP COLUMN used_at;
DROP INDEX login_failures_account_address_idx;
ALTER TABLE login_failures DROP COLUMN kind;
