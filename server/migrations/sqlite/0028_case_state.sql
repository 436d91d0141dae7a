-- Every case event rewrites its case's state. On the case's own row (facts, summary, address, a
-- person's contact: a few hundred bytes) each change dirtied a page per case, and every commit wrote
-- those pages out again. The state that changes now lives in a narrow table of its own, numbered by an
-- integer (its index entries are small too), and the facts are written once: a durable batch writes a
-- sixth fewer pages (docs/BENCHMARKS.md). `cases` stays the name every read uses: a view of the two.
ALTER TABLE cases ADD COLUMN state_id INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET state_id = rowid;
CREATE TABLE case_state (
    id          INTEGER PRIMARY KEY,
    status      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    closed_at   INTEGER,
    escalations INTEGER NOT NULL DEFAULT 0,
    supervised  INTEGER NOT NULL DEFAULT 0,
    desk_seq    INTEGER NOT NULL DEFAULT 0,
    med_tier    TEXT,
    med_outcome TEXT
);
INSERT INTO case_state (id, status, seq, updated_at, closed_at, escalations, supervised, desk_seq, med_tier, med_outcome)
    SELECT state_id, status, seq, updated_at, closed_at, escalations, supervised, desk_seq, med_tier, med_outcome
    FROM cases ORDER BY state_id;
DROP INDEX IF EXISTS cases_open;
DROP INDEX IF EXISTS cases_by_updated;
-- The foreign key of case_events follows the rename.
ALTER TABLE cases RENAME TO case_facts;
ALTER TABLE case_facts DROP COLUMN status;
ALTER TABLE case_facts DROP COLUMN seq;
ALTER TABLE case_facts DROP COLUMN updated_at;
ALTER TABLE case_facts DROP COLUMN closed_at;
ALTER TABLE case_facts DROP COLUMN escalations;
ALTER TABLE case_facts DROP COLUMN supervised;
ALTER TABLE case_facts DROP COLUMN desk_seq;
ALTER TABLE case_facts DROP COLUMN med_tier;
ALTER TABLE case_facts DROP COLUMN med_outcome;
-- One state per case: a case's facts written without their state would collide here, not vanish.
CREATE UNIQUE INDEX case_facts_state ON case_facts (state_id);
CREATE INDEX cases_open ON case_state (id) WHERE status <> 'closed';
CREATE INDEX cases_by_updated ON case_state (updated_at);
CREATE VIEW cases AS
    SELECT f.feed, f.case_id, f.category, f.source, f.grid, f.reported_at, f.deadline, s.status, s.seq, s.updated_at,
           f.summary, f.department, f.person_name, f.person_phone, f.person_id_number, f.person_email, f.address,
           f.priority, f.warn_at, s.escalations, s.supervised, s.closed_at, s.desk_seq, s.med_tier, s.med_outcome
    FROM case_facts f JOIN case_state s ON s.id = f.state_id;
