-- Two-factor sign-in (TOTP, RFC 6238) with recovery codes, the idle time-out, audit retention, and sign-in
-- through the city's identity platform (OpenID Connect); wall pairing codes and last-seen times shared by
-- every instance.
CREATE TABLE second_factors (
    username   TEXT PRIMARY KEY,
    -- Base32 secret in force (NULL while the person is still enrolling).
    secret     TEXT,
    -- Base32 secret shown for enrolment and not yet confirmed by a code.
    pending    TEXT,
    -- The newest 30-second step accepted: a code is good once.
    last_step  INTEGER,
    enabled_at INTEGER
);
CREATE TABLE recovery_codes (
    username  TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (username, code_hash)
);
-- A session opened by a password whose second factor is still to come: good for nothing else.
ALTER TABLE sessions ADD COLUMN second_factor_due INTEGER NOT NULL DEFAULT 0;
-- The person's last input (not the page's background reads), for the idle time-out. 0: created_at.
ALTER TABLE sessions ADD COLUMN last_active_at INTEGER NOT NULL DEFAULT 0;
-- The audit log stays append-only; only entries older than the retention cutoff may be deleted, and the
-- cutoff is set by the retention task, never closer than 180 days (checked in the server).
CREATE TABLE audit_retention (only_row INTEGER PRIMARY KEY CHECK (only_row = 1), cutoff INTEGER NOT NULL);
INSERT INTO audit_retention (only_row, cutoff) VALUES (1, 0);
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN OLD.at >= (SELECT cutoff FROM audit_retention WHERE only_row = 1)
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- A sign-in sent to the identity platform and not back yet: its state (the key), the PKCE verifier and
-- the nonce; taken once when the platform sends the person back, so a replayed answer finds nothing.
CREATE TABLE oidc_requests (
    state      TEXT PRIMARY KEY,
    verifier   TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    next       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
-- A screen waiting at /device with an activation code: the hash of the secret only it holds, and once
-- an administrator entered the code, the device made for it (its token is minted when the screen asks).
CREATE TABLE pairings (
    code        TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    device_id   INTEGER
);
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
