DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE account_changes;
DROP TABLE users;
DROP TABLE people;
DROP TABLE organisations;
