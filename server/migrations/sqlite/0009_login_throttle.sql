-- Sign-in throttling, kept in the store so that it survives a restart (and, with a shared store, holds
-- across instances). One row per key: an account from one address, an account from anywhere, an address.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);
