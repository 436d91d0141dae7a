-- The whole schema as SQLite's seventeen migrations leave it, in PostgreSQL's types: instants are Unix
-- milliseconds (BIGINT), flags BOOLEAN, so both stores bind the same Rust values. Positions that a
-- recount reads after (case_events.id, observations.taken) are given out under one advisory lock per
-- write transaction, so they are handed out in commit order, as SQLite's single writer does.
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    parent      TEXT REFERENCES regions(code),
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    schematic   BOOLEAN NOT NULL,
    shape       TEXT NOT NULL,
    grid_kind   TEXT,
    worker      TEXT,
    households  BIGINT,
    population  BIGINT,
    ord         BIGINT NOT NULL
);

CREATE TABLE cases (
    feed             TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    category         TEXT NOT NULL,
    source           TEXT NOT NULL,
    grid             TEXT NOT NULL REFERENCES regions(code),
    reported_at      BIGINT NOT NULL,
    deadline         BIGINT NOT NULL,
    status           TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    summary          TEXT NOT NULL DEFAULT '',
    department       TEXT,
    person_name      TEXT,
    person_phone     TEXT,
    person_id_number TEXT,
    person_email     TEXT,
    address          TEXT,
    priority         TEXT NOT NULL DEFAULT 'normal',
    warn_at          BIGINT,
    escalations      BIGINT NOT NULL DEFAULT 0,
    supervised       BIGINT NOT NULL DEFAULT 0,
    closed_at        BIGINT,
    desk_seq         BIGINT NOT NULL DEFAULT 0,
    med_tier         TEXT,
    med_outcome      TEXT,
    PRIMARY KEY (feed, case_id)
);
CREATE INDEX cases_by_status ON cases (feed, status);
CREATE INDEX cases_by_department ON cases (department, status);
CREATE INDEX cases_by_grid ON cases (grid text_pattern_ops);
CREATE INDEX cases_by_reported ON cases (reported_at);
CREATE INDEX cases_by_updated ON cases (updated_at);

CREATE TABLE case_events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed     TEXT NOT NULL,
    case_id  TEXT NOT NULL,
    origin   TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    action   TEXT NOT NULL,
    status   TEXT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT,
    note     TEXT,
    tier     TEXT,
    outcome  TEXT,
    -- No foreign key to cases: its check locks the case's row for every event (the store writes an
    -- event only for a case it has just read or created, under the write lock).
    UNIQUE (feed, case_id, origin, seq)
);

CREATE TABLE patrols (
    grid    TEXT NOT NULL REFERENCES regions(code),
    at      BIGINT NOT NULL,
    worker  TEXT,
    PRIMARY KEY (grid, at)
);

CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL REFERENCES regions(code),
    department    TEXT,
    clearance     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE password_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL REFERENCES accounts(username),
    password_hash TEXT NOT NULL,
    replaced_at   BIGINT NOT NULL
);
CREATE INDEX password_history_by_account ON password_history (username, replaced_at);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    username    TEXT NOT NULL REFERENCES accounts(username),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE devices (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL REFERENCES regions(code),
    issued_by   TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT,
    playlist    TEXT
);

CREATE TABLE api_keys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    issued_by   TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);

CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    region  TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE login_throttle (
    key      TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_at  BIGINT NOT NULL
);

CREATE TABLE feed_records (
    feed        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    version     BIGINT NOT NULL,
    taken_at    BIGINT NOT NULL,
    PRIMARY KEY (feed, external_id, version)
);

CREATE TABLE feed_state (
    feed          TEXT PRIMARY KEY,
    received      BIGINT NOT NULL DEFAULT 0,
    stored        BIGINT NOT NULL DEFAULT 0,
    duplicate     BIGINT NOT NULL DEFAULT 0,
    quarantined   BIGINT NOT NULL DEFAULT 0,
    expired       BIGINT NOT NULL DEFAULT 0,
    last_success  BIGINT,
    last_event_at BIGINT,
    cursor        TEXT,
    paused        BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE quarantine (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed        TEXT NOT NULL,
    external_id TEXT,
    reason      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX quarantine_feed ON quarantine (feed, id);
CREATE INDEX quarantine_record ON quarantine (feed, external_id);

CREATE TABLE observations (
    feed        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    version     BIGINT NOT NULL,
    indicator   TEXT NOT NULL,
    region      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    taken       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (feed, external_id, version)
);
CREATE INDEX observations_taken ON observations (taken);

CREATE TABLE photos (
    token    TEXT PRIMARY KEY,
    feed     TEXT,
    case_id  TEXT,
    mime     TEXT NOT NULL,
    width    BIGINT NOT NULL,
    height   BIGINT NOT NULL,
    bytes    BYTEA NOT NULL,
    held_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX photos_by_case ON photos (feed, case_id) WHERE case_id IS NOT NULL;
CREATE INDEX photos_held ON photos (held_at) WHERE case_id IS NULL;
