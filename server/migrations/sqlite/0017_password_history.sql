-- Passwords an account had before its current one (argon2id PHC strings), so that a change cannot go
-- back to one of the last few (GB/T 22239-2019 level 3: no reuse). The current one stays in accounts.
CREATE TABLE password_history (
    username TEXT NOT NULL REFERENCES accounts(username),
    password_hash TEXT NOT NULL,
    replaced_at INTEGER NOT NULL
);
CREATE INDEX password_history_by_account ON password_history (username, replaced_at);
