ALTER TABLE idempotency_keys DROP COLUMN etag;
ALTER TABLE idempotency_keys DROP COLUMN location;
