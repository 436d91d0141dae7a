-- Results owed to the systems that referred cases (a court's platform, 诉调对接). Rows are filled from
-- stored mediation events after a cursor, in the transaction that moves the cursor, so a result is
-- neither lost nor queued twice; a row is kept after delivery as the record of it.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    feed         TEXT NOT NULL,
    event_id     INTEGER NOT NULL,
    case_id      TEXT NOT NULL,
    tier         TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    at           INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error   TEXT,
    UNIQUE (feed, event_id)
);
CREATE INDEX outbox_pending ON outbox (feed, next_at) WHERE delivered_at IS NULL;
CREATE TABLE outbox_cursor (
    feed     TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL
);
