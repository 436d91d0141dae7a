-- The region tree, in parent-before-child order (ord), with its geometry as JSON rings.
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    parent      TEXT REFERENCES regions(code),
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    schematic   INTEGER NOT NULL,
    shape       TEXT NOT NULL,
    grid_kind   TEXT,
    worker      TEXT,
    households  INTEGER,
    population  INTEGER,
    ord         INTEGER NOT NULL
);

-- One row per case: its facts and its latest state.
CREATE TABLE cases (
    feed        TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    category    TEXT NOT NULL,
    source      TEXT NOT NULL,
    grid        TEXT NOT NULL REFERENCES regions(code),
    reported_at INTEGER NOT NULL,
    deadline    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (feed, case_id)
);
CREATE INDEX cases_by_status ON cases (feed, status);

-- Every state change, once: (feed, case_id, seq) makes delivery idempotent.
CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    feed        TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    status      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    UNIQUE (feed, case_id, seq),
    FOREIGN KEY (feed, case_id) REFERENCES cases (feed, case_id)
);
CREATE INDEX case_events_by_time ON case_events (at);
