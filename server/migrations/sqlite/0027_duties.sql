-- Grid duty rosters (网格员排班): a worker's shift in a grid, or their leave; one row per line.
CREATE TABLE duties (
    grid      TEXT NOT NULL,
    worker    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL,
    PRIMARY KEY (grid, worker, kind, starts_at)
);
CREATE INDEX duties_ends ON duties (ends_at);
