-- Quarantined records hold whatever the source sent (possibly personal data), so they are deleted after
-- the retention period. They stay counted as quarantined (received = stored + duplicate + quarantined);
-- this counts how many of them are gone.
ALTER TABLE feed_state ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
