-- Case flows: every event says what it did (action); oversight actions taken in the cockpit (origin
-- 'desk') get their own sequence beside the source system's ('feed'), so the two never collide.
-- SQLite cannot change a UNIQUE constraint in place: the table is rebuilt and its rows copied.
CREATE TABLE case_events_v4 (
    id          INTEGER PRIMARY KEY,
    feed        TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    origin      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT,
    note        TEXT,
    UNIQUE (feed, case_id, origin, seq),
    FOREIGN KEY (feed, case_id) REFERENCES cases (feed, case_id)
);
INSERT INTO case_events_v4 (id, feed, case_id, origin, seq, action, status, at)
    SELECT id, feed, case_id, 'feed', seq,
           CASE status WHEN 'reported' THEN 'report' WHEN 'accepted' THEN 'accept' WHEN 'dispatched' THEN 'dispatch'
                       WHEN 'handling' THEN 'start' WHEN 'resolved' THEN 'resolve' WHEN 'verified' THEN 'verify'
                       ELSE 'close' END,
           status, at
    FROM case_events;
DROP TABLE case_events;
ALTER TABLE case_events_v4 RENAME TO case_events;
CREATE INDEX case_events_by_time ON case_events (at);

-- Priority and the due-soon instant; the holder's level rises with escalations.
ALTER TABLE cases ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE cases ADD COLUMN warn_at INTEGER;
UPDATE cases SET warn_at = reported_at + (deadline - reported_at) * 4 / 5;
ALTER TABLE cases ADD COLUMN escalations INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
-- When it was closed: flow analytics select periods by it.
ALTER TABLE cases ADD COLUMN closed_at INTEGER;
UPDATE cases SET closed_at = updated_at WHERE status = 'closed';
CREATE INDEX cases_by_reported ON cases (reported_at);
