-- The PostgreSQL copy of the city-year for the flow-report baseline: the columns of `cases`,
-- `case_events` and `regions` the reports read (as in server/migrations/sqlite), loaded from the
-- bench's CSV export of cockpit.db (each `COPY t … FROM STDIN` is fed `t.csv`), with the indexes the
-- SQLite store has, then analysed.
CREATE TABLE regions (
    code   text PRIMARY KEY,
    parent text,
    level  text NOT NULL,
    name   text NOT NULL
);
CREATE TABLE cases (
    feed        text NOT NULL,
    case_id     text NOT NULL,
    category    text NOT NULL,
    source      text NOT NULL,
    grid        text NOT NULL,
    reported_at bigint NOT NULL,
    deadline    bigint NOT NULL,
    status      text NOT NULL,
    seq         bigint NOT NULL,
    closed_at   bigint,
    department  text,
    priority    text NOT NULL,
    warn_at     bigint,
    escalations bigint NOT NULL,
    supervised  bigint NOT NULL
);
CREATE TABLE case_events (
    id      bigint NOT NULL,
    feed    text NOT NULL,
    case_id text NOT NULL,
    origin  text NOT NULL,
    seq     bigint NOT NULL,
    action  text NOT NULL,
    status  text NOT NULL,
    at      bigint NOT NULL,
    tier    text,
    outcome text
);
COPY regions (code, parent, level, name) FROM STDIN WITH (FORMAT csv, HEADER true);
COPY cases (feed, case_id, category, source, grid, reported_at, deadline, status, seq, closed_at, department, priority, warn_at, escalations, supervised) FROM STDIN WITH (FORMAT csv, HEADER true);
COPY case_events (id, feed, case_id, origin, seq, action, status, at, tier, outcome) FROM STDIN WITH (FORMAT csv, HEADER true);
ALTER TABLE cases ADD PRIMARY KEY (feed, case_id);
ALTER TABLE case_events ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX case_events_key ON case_events (feed, case_id, origin, seq);
CREATE INDEX case_events_by_time ON case_events (at);
CREATE INDEX cases_by_grid ON cases (grid);
CREATE INDEX cases_by_reported ON cases (reported_at);
CREATE INDEX cases_by_department ON cases (department, status);
ANALYZE;
