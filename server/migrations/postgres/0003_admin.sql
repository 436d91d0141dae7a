-- The administrators' page: when and from where each person last signed in, where each session was
-- opened, and where each wall display hangs.
ALTER TABLE accounts ADD COLUMN last_sign_in_at BIGINT;
ALTER TABLE accounts ADD COLUMN last_sign_in_from TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN place TEXT NOT NULL DEFAULT '';
