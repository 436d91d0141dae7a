//! One test body, two back ends: the embedded SQLite store in a temp dir, and PostgreSQL (a real server
//! from Debian's packages started for the test, on a free port). Test SQL is written once with `?`
//! placeholders; for PostgreSQL they become `$1, $2, …`.
#![allow(dead_code)]
use crate::peers::Pg;
use server::store::{PgStore, SqliteStore, Store};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

pub struct TestStore {
    pub store: Arc<dyn Store>,
    /// The data directory (SQLite's file, the engine's snapshots).
    pub dir: tempfile::TempDir,
    pub backend: Backend,
    pool: Pool,
    /// The PostgreSQL server; stopped when the test ends.
    _pg: Option<Pg>,
}

/// `?` → `$n`, in order (no test query has a `?` inside a string).
fn numbered(sql: &str) -> String {
    let mut n = 0;
    sql.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

macro_rules! fetch {
    ($self:ident, $sql:ident, $args:ident, $method:ident, $t:ty) => {
        match &$self.pool {
            Pool::Sqlite(p) => {
                let mut q = sqlx::query_as::<_, $t>($sql);
                for a in $args {
                    q = q.bind(*a);
                }
                q.$method(p).await.unwrap()
            }
            Pool::Postgres(p) => {
                let sql = numbered($sql);
                let mut q = sqlx::query_as::<_, $t>(&sql);
                for a in $args {
                    q = q.bind(*a);
                }
                q.$method(p).await.unwrap()
            }
        }
    };
}

impl TestStore {
    pub async fn open(backend: Backend) -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let s = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
                TestStore { pool: Pool::Sqlite(s.pool().clone()), store: s, dir, backend, _pg: None }
            }
            Backend::Postgres => {
                let pg = Pg::new().await;
                let s = Arc::new(PgStore::open(&pg.url(), None).await.unwrap());
                TestStore { pool: Pool::Postgres(s.pool().clone()), store: s, dir, backend, _pg: Some(pg) }
            }
        }
    }

    /// One number (`COUNT(*)`, `SUM(…)`, …) from a query with integer parameters.
    pub async fn scalar(&self, sql: &str, args: &[i64]) -> i64 {
        fetch!(self, sql, args, fetch_one, (i64,)).0
    }

    pub async fn text_int(&self, sql: &str, args: &[i64]) -> Vec<(String, i64)> {
        fetch!(self, sql, args, fetch_all, (String, i64))
    }

    pub async fn int_int(&self, sql: &str, args: &[i64]) -> Vec<(i64, i64)> {
        fetch!(self, sql, args, fetch_all, (i64, i64))
    }

    pub async fn text_int_int(&self, sql: &str, args: &[i64]) -> Vec<(String, i64, i64)> {
        fetch!(self, sql, args, fetch_all, (String, i64, i64))
    }

    /// Whether a statement is refused (a test's deliberate damage, say).
    pub async fn refused(&self, sql: &str) -> bool {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
            Pool::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
        }
    }

    /// Runs a statement (a test's deliberate damage, say).
    pub async fn execute(&self, sql: &str) {
        match &self.pool {
            Pool::Sqlite(p) => drop(sqlx::query(sql).execute(p).await.unwrap()),
            Pool::Postgres(p) => drop(sqlx::query(sql).execute(p).await.unwrap()),
        }
    }
}
