//! Grid duty rosters in SQLite (writes take the writer's lock at once).
use super::SqliteStore;

super::duty::duty_store!(SqliteStore, sqlx::Sqlite, |s| s.writer().begin_with("BEGIN IMMEDIATE"));
