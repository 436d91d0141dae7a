//! Grid duty rosters in PostgreSQL.
use super::PgStore;

super::duty::duty_store!(PgStore, sqlx::Postgres, |s| s.pool().begin());
