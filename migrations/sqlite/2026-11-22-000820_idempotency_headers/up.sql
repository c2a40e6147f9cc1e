-- API-5: a replayed answer keeps its Location and ETag headers.
-- Keep in step with the other backend.
ALTER TABLE idempotency_keys ADD COLUMN location TEXT;
ALTER TABLE idempotency_keys ADD COLUMN etag TEXT;
