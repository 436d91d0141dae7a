-- What the state machine needs of a case, kept on its row, so that a batch reads the state of all its
-- cases in a few statements: the cockpit's last oversight number and the latest mediation attempt.
ALTER TABLE cases ADD COLUMN desk_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN med_tier TEXT;
ALTER TABLE cases ADD COLUMN med_outcome TEXT;
UPDATE cases SET desk_seq = COALESCE((SELECT MAX(e.seq) FROM case_events e WHERE e.feed = cases.feed AND e.case_id = cases.case_id AND e.origin = 'desk'), 0);
UPDATE cases SET med_tier = (SELECT e.tier FROM case_events e WHERE e.feed = cases.feed AND e.case_id = cases.case_id AND e.action = 'mediate' ORDER BY e.seq DESC LIMIT 1), med_outcome = (SELECT e.outcome FROM case_events e WHERE e.feed = cases.feed AND e.case_id = cases.case_id AND e.action = 'mediate' ORDER BY e.seq DESC LIMIT 1);
