-- Dispute mediation: an attempt is a case event (action 'mediate') with its tier and outcome.
ALTER TABLE case_events ADD COLUMN tier TEXT;
ALTER TABLE case_events ADD COLUMN outcome TEXT;
