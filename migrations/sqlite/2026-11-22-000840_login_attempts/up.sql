-- ACC-5: login_failures holds every attempt that reached (or is about to reach)
-- a password check: reserved before the check, removed again by a success.
-- `kind` tells login attempts from password-change attempts.
ALTER TABLE login_failures ADD COLUMN kind TEXT NOT NULL DEFAULT 'login';
CREATE INDEX login_failures_account_address_idx ON login_failures (username, address, created_at);

-- ACC-1: a refresh token exchanged for a new pair is `used`, not merely revoked,
-- so a dead token can say why it is dead.
ALTER TABLE refresh_tokens ADD COLUMN used_at TIMESTAMP;
