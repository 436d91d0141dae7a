-- Quarantined records hold whatever the source sent (possibly personal data), so they are deleted after
-- the retention period. They stay counted as quarantined (received = stored + duplicate + quarantined);
-- this counts how many of them are gone.
ALTER TABLE feed_state ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;

-- A record delivered again while its earlier delivery sits in quarantine is a duplicate, found by this.
CREATE INDEX quarantine_record ON quarantine (feed, external_id);
