-- Residents' photos, stripped of their metadata (residents::photo). A photo is held under a random
-- token from its upload until the report it goes with is taken (the form may be sent several times
-- while the resident places the report on the map); then it belongs to that case, one per case. A
-- held photo no report took within a day is deleted.
CREATE TABLE photos (
    token TEXT PRIMARY KEY,
    feed TEXT,
    case_id TEXT,
    mime TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    held_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX photos_by_case ON photos (feed, case_id) WHERE case_id IS NOT NULL;
CREATE INDEX photos_held ON photos (held_at) WHERE case_id IS NULL;
