-- A password an administrator reset must be changed at the next sign-in; a city may make passwords
-- expire (GB/T 22239-2019 level 3): when each was set.
ALTER TABLE accounts ADD COLUMN must_change BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN password_set_at BIGINT NOT NULL DEFAULT 0;
UPDATE accounts SET password_set_at = created_at;
