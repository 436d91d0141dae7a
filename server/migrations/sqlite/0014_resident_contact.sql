-- Residents reporting online may leave an email address instead of (or beside) a phone number.
ALTER TABLE cases ADD COLUMN person_email TEXT;
-- The public list of the city's requests (Open311 `updated_after`/`updated_before`, which a second
-- cockpit's open311 feed reads by) selects cases by their last change.
CREATE INDEX cases_by_updated ON cases (updated_at);
