-- When a grid's base data (households, population) was last updated: stale base data counts against
-- the grid's fitness (网格达标). NULL: never recorded.
ALTER TABLE regions ADD COLUMN base_updated_at INTEGER;
