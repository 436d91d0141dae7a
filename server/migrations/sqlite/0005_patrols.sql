-- Grid patrols: one row per visit; (grid, at) makes delivery idempotent.
CREATE TABLE patrols (
    grid    TEXT NOT NULL REFERENCES regions(code),
    at      INTEGER NOT NULL,
    worker  TEXT,
    PRIMARY KEY (grid, at)
);
