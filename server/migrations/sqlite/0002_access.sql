-- Accounts: who may sign in, what they may see (scope subtree, clearance) and do (role).
CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL REFERENCES regions(code),
    department    TEXT,
    clearance     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

-- Sessions: only a hash of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES accounts(username),
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- Wall displays: a device token bound to a scope, issued and revoked by an administrator.
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL REFERENCES regions(code),
    issued_by   TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoked_by  TEXT
);

-- Who did what: sign-ins, grants, device tokens, views of sensitive records, exports. Append-only.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    region  TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
