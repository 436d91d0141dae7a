-- Wall pairing codes and device last-seen times shared by every instance.
-- A screen waiting at /device with an activation code: the hash of the secret only it holds, and once
-- an administrator entered the code, the device made for it (its token is minted when the screen asks).
CREATE TABLE pairings (
    code        TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    device_id   INTEGER
);
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
