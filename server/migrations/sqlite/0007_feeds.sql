-- Every record a real feed delivered and the store took, by its identity in its source. A record seen
-- again (same version) or superseded (an older version) is a duplicate; see feed_counts.
CREATE TABLE feed_records (
    feed        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    taken_at    INTEGER NOT NULL,
    PRIMARY KEY (feed, external_id, version)
) WITHOUT ROWID;

-- Per feed: every input record ends as stored, duplicate or quarantined, so received = the three.
-- The pull cursor and the paused switch live here, so both survive a restart.
CREATE TABLE feed_state (
    feed          TEXT PRIMARY KEY,
    received      INTEGER NOT NULL DEFAULT 0,
    stored        INTEGER NOT NULL DEFAULT 0,
    duplicate     INTEGER NOT NULL DEFAULT 0,
    quarantined   INTEGER NOT NULL DEFAULT 0,
    last_success  INTEGER,
    last_event_at INTEGER,
    cursor        TEXT,
    paused        INTEGER NOT NULL DEFAULT 0
);

-- Records that could not be taken, with the reason and the record itself, to replay once the mapping is fixed.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    feed        TEXT NOT NULL,
    external_id TEXT,
    reason      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX quarantine_feed ON quarantine (feed, id);

-- Indicator observations (video channels, alarms, criminal cases, surveys).
CREATE TABLE observations (
    feed        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    indicator   TEXT NOT NULL,
    region      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    value       REAL NOT NULL,
    PRIMARY KEY (feed, external_id, version)
) WITHOUT ROWID;
