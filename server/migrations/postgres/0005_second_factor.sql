-- Two-factor sign-in (TOTP, RFC 6238) with recovery codes, the idle time-out, audit retention, and sign-in
-- through the city's identity platform (OpenID Connect); wall pairing codes and last-seen times shared by
-- every instance.
CREATE TABLE second_factors (
    username   TEXT PRIMARY KEY,
    secret     TEXT,
    pending    TEXT,
    last_step  BIGINT,
    enabled_at BIGINT
);
CREATE TABLE recovery_codes (
    username  TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (username, code_hash)
);
ALTER TABLE sessions ADD COLUMN second_factor_due BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sessions ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
-- The audit log stays append-only; only entries older than the retention cutoff may be deleted.
CREATE TABLE audit_retention (only_row INTEGER PRIMARY KEY CHECK (only_row = 1), cutoff BIGINT NOT NULL);
INSERT INTO audit_retention (only_row, cutoff) VALUES (1, 0);
-- (One line: migrations are split into statements at a semicolon that ends a line.)
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'DELETE' AND OLD.at < (SELECT cutoff FROM audit_retention WHERE only_row = 1) THEN RETURN OLD; END IF; RAISE EXCEPTION 'audit log is append-only'; END $$;
-- A sign-in sent to the identity platform and not back yet: its state (the key), the PKCE verifier and
-- the nonce; taken once when the platform sends the person back, so a replayed answer finds nothing.
CREATE TABLE oidc_requests (
    state      TEXT PRIMARY KEY,
    verifier   TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    next       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- A screen waiting at /device with an activation code: the hash of the secret only it holds, and once
-- an administrator entered the code, the device made for it (its token is minted when the screen asks).
CREATE TABLE pairings (
    code        TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    device_id   BIGINT
);
ALTER TABLE devices ADD COLUMN last_seen_at BIGINT;
