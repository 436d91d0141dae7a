-- Early warnings (预警): one row per warning with its state and the centre it is routed to now, and
-- every step taken on it. Raising checks for an open warning of the same rule, region and subject.
CREATE TABLE warnings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule        TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    level       TEXT NOT NULL,
    region      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    route       TEXT NOT NULL,
    facts       TEXT NOT NULL,
    state       TEXT NOT NULL,
    raised_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    escalations INTEGER NOT NULL DEFAULT 0,
    escalate_at INTEGER
);
CREATE INDEX warnings_open ON warnings (state) WHERE state <> 'closed';
CREATE INDEX warnings_updated ON warnings (updated_at);
CREATE INDEX warnings_same ON warnings (rule, region, subject, raised_at);
CREATE TABLE warning_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    warning INTEGER NOT NULL REFERENCES warnings (id),
    at      INTEGER NOT NULL,
    op      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    note    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX warning_events_of ON warning_events (warning, id);
