-- Settings an administrator saves at /admin/settings (the working calendar, the flow rules): JSON by
-- name; they win over the config file's values.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    changed_by TEXT NOT NULL
);
