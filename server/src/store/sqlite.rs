//! The embedded store: one SQLite file, WAL mode, full sync (a batch acknowledged is a batch on disk).
use super::{OpenCase, Store, StoreError};
use crate::case::{CaseEvent, CaseFacts, Outcome};
use crate::city::{GridAttrs, RegionRow};
use app::model::{Category, GridKind, Level, Source, Status};
use futures::future::BoxFuture;
use futures::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::path::Path;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_access.sql")),
    (3, include_str!("../../migrations/sqlite/0003_case_details.sql")),
];

pub struct SqliteStore {
    pool: SqlitePool,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {v:?}"))
}

impl SqliteStore {
    /// Opens (creating if needed) `cockpit.db` in `dir` and applies pending migrations.
    pub async fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Db(format!("cannot create data directory {}: {e}", dir.display())))?;
        let opts = SqliteConnectOptions::new()
            .filename(dir.join("cockpit.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// For recounts in tests and tools: the raw connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    // Boxed: a plain async fn here trips rustc's higher-ranked Send inference in callers.
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            .execute(&self.pool)
            .await?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_none() {
                // A statement ends with `;` at the end of a line; a trigger keeps its body on one line.
                for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.lines().all(|l| l.trim().is_empty() || l.trim().starts_with("--"))) {
                    sqlx::query(stmt).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                    .bind(version)
                    .bind(crate::clock::now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
        })
    }

    async fn append_inner(&self, events: &[CaseEvent]) -> Result<Vec<Outcome>, StoreError> {
        let mut out = vec![Outcome::Duplicate; events.len()];
        let mut tx = self.pool.begin().await?;

        let reports: Vec<(&CaseEvent, &CaseFacts)> = events.iter().filter_map(|e| e.facts.as_ref().map(|f| (e, f))).collect();
        for chunk in reports.chunks(200) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO cases (feed, case_id, category, source, grid, reported_at, deadline, status, seq, updated_at, \
                 summary, department, person_name, person_phone, person_id_number, address) ",
            );
            q.push_values(chunk, |mut b, (e, f)| {
                b.push_bind(&e.feed)
                    .push_bind(&e.case_id)
                    .push_bind(f.category.as_str())
                    .push_bind(f.source.as_str())
                    .push_bind(&f.grid)
                    .push_bind(f.reported_at)
                    .push_bind(f.deadline)
                    .push_bind(Status::Reported.as_str())
                    .push_bind(0i64)
                    .push_bind(f.reported_at);
                let d = &f.details;
                let p = d.person.as_ref();
                b.push_bind(&d.summary)
                    .push_bind(&d.department)
                    .push_bind(p.map(|p| p.name.clone()))
                    .push_bind(p.map(|p| p.phone.clone()))
                    .push_bind(p.and_then(|p| p.id_number.clone()))
                    .push_bind(&d.address);
            });
            q.build().execute(&mut *tx).await?;
        }

        // A change to a case nobody reported cannot be stored: say so instead of losing it silently.
        let reported: HashSet<(&str, &str)> = reports.iter().map(|(e, _)| (e.feed.as_str(), e.case_id.as_str())).collect();
        let mut known: HashMap<(&str, &str), bool> = HashMap::new();
        for e in events.iter().filter(|e| e.facts.is_none()) {
            let key = (e.feed.as_str(), e.case_id.as_str());
            if reported.contains(&key) || known.contains_key(&key) {
                continue;
            }
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM cases WHERE feed = ? AND case_id = ?")
                .bind(key.0)
                .bind(key.1)
                .fetch_optional(&mut *tx)
                .await?;
            known.insert(key, exists.is_some());
        }
        let mut storable: Vec<usize> = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let key = (e.feed.as_str(), e.case_id.as_str());
            if e.facts.is_none() && !reported.contains(&key) && known.get(&key) == Some(&false) {
                out[i] = Outcome::Rejected(format!("no case {} reported by feed {}", e.case_id, e.feed));
            } else {
                storable.push(i);
            }
        }

        let mut inserted: HashSet<(String, String, i64)> = HashSet::new();
        for chunk in storable.chunks(500) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT OR IGNORE INTO case_events (feed, case_id, seq, status, at) ");
            q.push_values(chunk, |mut b, &i| {
                let e = &events[i];
                b.push_bind(&e.feed).push_bind(&e.case_id).push_bind(i64::from(e.seq)).push_bind(e.status.as_str()).push_bind(e.at);
            });
            q.push(" RETURNING feed, case_id, seq");
            for row in q.build().fetch_all(&mut *tx).await? {
                inserted.insert((row.try_get("feed")?, row.try_get("case_id")?, row.try_get("seq")?));
            }
        }

        // Latest state per case: an older event arriving late never moves a case backwards.
        let mut latest: HashMap<(&str, &str), &CaseEvent> = HashMap::new();
        for &i in &storable {
            let e = &events[i];
            if inserted.contains(&(e.feed.clone(), e.case_id.clone(), i64::from(e.seq))) {
                out[i] = Outcome::Stored;
                let slot = latest.entry((e.feed.as_str(), e.case_id.as_str())).or_insert(e);
                if e.seq > slot.seq {
                    *slot = e;
                }
            }
        }
        for e in latest.values().filter(|e| e.seq > 0) {
            sqlx::query("UPDATE cases SET status = ?, seq = ?, updated_at = ? WHERE feed = ? AND case_id = ? AND seq < ?")
                .bind(e.status.as_str())
                .bind(i64::from(e.seq))
                .bind(e.at)
                .bind(&e.feed)
                .bind(&e.case_id)
                .bind(i64::from(e.seq))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(out)
    }
}

fn stored_case(r: &sqlx::sqlite::SqliteRow) -> Result<super::StoredCase, StoreError> {
    let status: String = r.try_get("status")?;
    let category: String = r.try_get("category")?;
    let source: String = r.try_get("source")?;
    let name: Option<String> = r.try_get("person_name")?;
    Ok(super::StoredCase {
        feed: r.try_get("feed")?,
        case_id: r.try_get("case_id")?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        facts: CaseFacts {
            category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
            source: Source::parse(&source).ok_or_else(|| corrupt("source", &source))?,
            grid: r.try_get("grid")?,
            reported_at: r.try_get("reported_at")?,
            deadline: r.try_get("deadline")?,
            details: crate::case::CaseDetails {
                summary: r.try_get("summary")?,
                department: r.try_get("department")?,
                person: match name {
                    Some(name) => Some(app::model::Person {
                        name,
                        phone: r.try_get::<Option<String>, _>("person_phone")?.unwrap_or_default(),
                        id_number: r.try_get("person_id_number")?,
                    }),
                    None => None,
                },
                address: r.try_get("address")?,
            },
        },
        timeline: Vec::new(),
    })
}

impl Store for SqliteStore {
    fn case<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<super::StoredCase>, StoreError>> {
        Box::pin(async move {
            let Some(row) = sqlx::query("SELECT * FROM cases WHERE feed = ? AND case_id = ?").bind(feed).bind(case_id).fetch_optional(&self.pool).await?
            else {
                return Ok(None);
            };
            let mut c = stored_case(&row)?;
            let events = sqlx::query("SELECT status, at FROM case_events WHERE feed = ? AND case_id = ? ORDER BY seq")
                .bind(feed)
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
            for e in events {
                let s: String = e.try_get("status")?;
                c.timeline.push((Status::parse(&s).ok_or_else(|| corrupt("status", &s))?, e.try_get("at")?));
            }
            Ok(Some(c))
        })
    }

    fn cases<'a>(&'a self, q: &'a super::CaseQuery) -> BoxFuture<'a, Result<Vec<super::StoredCase>, StoreError>> {
        Box::pin(async move {
            let mut b = QueryBuilder::<Sqlite>::new("SELECT * FROM cases WHERE 1 = 1");
            if let Some(p) = &q.grid_prefix {
                b.push(" AND grid LIKE ").push_bind(format!("{p}%"));
            }
            if let Some(d) = &q.department {
                b.push(" AND department = ").push_bind(d);
            }
            if q.dispatched_only {
                b.push(" AND status NOT IN ('reported', 'accepted')");
            }
            if q.open_only {
                b.push(" AND status <> 'closed'");
            }
            b.push(" ORDER BY reported_at DESC LIMIT ").push_bind(i64::from(q.limit));
            let rows = b.build().fetch_all(&self.pool).await?;
            rows.iter().map(stored_case).collect()
        })
    }

    fn region_count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM regions").fetch_one(&self.pool).await?;
            Ok(n as u64)
        })
    }

    fn save_regions<'a>(&'a self, rows: &'a [RegionRow]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            for (n, chunk) in rows.chunks(500).enumerate() {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO regions (code, parent, level, name, schematic, shape, grid_kind, worker, households, population, ord) ",
                );
                q.push_values(chunk.iter().enumerate(), |mut b, (i, r)| {
                    let g = r.grid.as_ref();
                    b.push_bind(&r.code)
                        .push_bind(&r.parent)
                        .push_bind(r.level.as_str())
                        .push_bind(&r.name)
                        .push_bind(r.schematic)
                        .push_bind(serde_json::to_string(&r.shape).expect("rings serialise"))
                        .push_bind(g.map(|g| g.kind.as_str()))
                        .push_bind(g.and_then(|g| g.worker.clone()))
                        .push_bind(g.map(|g| i64::from(g.households)))
                        .push_bind(g.map(|g| i64::from(g.population)))
                        .push_bind((n * 500 + i) as i64);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn load_regions(&self) -> BoxFuture<'_, Result<Vec<RegionRow>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM regions ORDER BY ord").fetch_all(&self.pool).await?;
            rows.into_iter()
                .map(|r| {
                    let level: String = r.try_get("level")?;
                    let shape: String = r.try_get("shape")?;
                    let kind: Option<String> = r.try_get("grid_kind")?;
                    let grid = match kind {
                        None => None,
                        Some(k) => Some(GridAttrs {
                            kind: GridKind::parse(&k).ok_or_else(|| corrupt("grid kind", &k))?,
                            worker: r.try_get("worker")?,
                            households: r.try_get::<i64, _>("households")? as u32,
                            population: r.try_get::<i64, _>("population")? as u32,
                        }),
                    };
                    Ok(RegionRow {
                        code: r.try_get("code")?,
                        name: r.try_get("name")?,
                        level: Level::parse(&level).ok_or_else(|| corrupt("level", &level))?,
                        parent: r.try_get("parent")?,
                        shape: serde_json::from_str(&shape).map_err(|e| StoreError::Corrupt(format!("region shape: {e}")))?,
                        schematic: r.try_get("schematic")?,
                        grid,
                    })
                })
                .collect()
        })
    }

    fn append<'a>(&'a self, events: &'a [CaseEvent]) -> BoxFuture<'a, Result<Vec<Outcome>, StoreError>> {
        Box::pin(self.append_inner(events))
    }

    fn replay(&self) -> BoxFuture<'_, Result<Vec<CaseEvent>, StoreError>> {
        Box::pin(async move {
            let mut rows = sqlx::query(
                "SELECT e.feed, e.case_id, e.seq, e.status, e.at, c.category, c.source, c.grid, c.reported_at, c.deadline \
                 FROM case_events e JOIN cases c ON c.feed = e.feed AND c.case_id = e.case_id ORDER BY e.at, e.seq, e.id",
            )
            .fetch(&self.pool);
            let mut out = Vec::new();
            while let Some(r) = rows.try_next().await? {
                let status: String = r.try_get("status")?;
                let category: String = r.try_get("category")?;
                let source: String = r.try_get("source")?;
                out.push(CaseEvent {
                    feed: r.try_get("feed")?,
                    case_id: r.try_get("case_id")?,
                    seq: r.try_get::<i64, _>("seq")? as u32,
                    status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
                    at: r.try_get("at")?,
                    facts: Some(CaseFacts {
                        category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
                        source: Source::parse(&source).ok_or_else(|| corrupt("source", &source))?,
                        grid: r.try_get("grid")?,
                        reported_at: r.try_get("reported_at")?,
                        deadline: r.try_get("deadline")?,
                        // Counting needs no personal data: a replay does not read it.
                        details: Default::default(),
                    }),
                });
            }
            Ok(out)
        })
    }

    fn open_cases<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<Vec<OpenCase>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT case_id, status, seq, updated_at FROM cases WHERE feed = ? AND status <> 'closed'")
                .bind(feed)
                .fetch_all(&self.pool)
                .await?;
            rows.into_iter()
                .map(|r| {
                    let status: String = r.try_get("status")?;
                    Ok(OpenCase {
                        case_id: r.try_get("case_id")?,
                        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
                        seq: r.try_get::<i64, _>("seq")? as u32,
                        updated_at: r.try_get("updated_at")?,
                    })
                })
                .collect()
        })
    }

    fn last_event_at<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<Option<i64>, StoreError>> {
        Box::pin(async move {
            let at: Option<i64> =
                sqlx::query_scalar("SELECT MAX(at) FROM case_events WHERE feed = ?").bind(feed).fetch_one(&self.pool).await?;
            Ok(at)
        })
    }
}
