-- The order observations were taken in, so that a restart reads only those after the engine's snapshot.
-- Rows from before this migration are 0: older than any snapshot, read by a full recount.
ALTER TABLE observations ADD COLUMN taken INTEGER NOT NULL DEFAULT 0;
CREATE INDEX observations_taken ON observations (taken);
