-- Keys issued by administrators to the apps that send residents' reports over Open311. Only a key's
-- hash is kept; a revoked key stays, with who revoked it and when, for the record.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    issued_by   TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoked_by  TEXT
);
