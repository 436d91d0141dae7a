//! The embedded store: one SQLite file, WAL mode, full sync (a batch acknowledged is a batch on disk).
//! Write transactions begin IMMEDIATE: a deferred one that reads first cannot become a writer once another
//! connection has written (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
use super::rows::{self, CaseState};
use super::{OpenCase, Store, StoreError};
use crate::case::{CaseEvent, CaseFacts, Outcome};
use crate::city::RegionRow;
use app::model::Status;
use futures::future::BoxFuture;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::path::Path;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_access.sql")),
    (3, include_str!("../../migrations/sqlite/0003_case_details.sql")),
    (4, include_str!("../../migrations/sqlite/0004_case_flow.sql")),
    (5, include_str!("../../migrations/sqlite/0005_patrols.sql")),
    (6, include_str!("../../migrations/sqlite/0006_mediation.sql")),
    (7, include_str!("../../migrations/sqlite/0007_feeds.sql")),
    (8, include_str!("../../migrations/sqlite/0008_quarantine_expiry.sql")),
    (9, include_str!("../../migrations/sqlite/0009_login_throttle.sql")),
    (10, include_str!("../../migrations/sqlite/0010_observation_order.sql")),
    (11, include_str!("../../migrations/sqlite/0011_case_state.sql")),
    (12, include_str!("../../migrations/sqlite/0012_drop_event_time_index.sql")),
    (13, include_str!("../../migrations/sqlite/0013_device_playlist.sql")),
    (14, include_str!("../../migrations/sqlite/0014_resident_contact.sql")),
    (15, include_str!("../../migrations/sqlite/0015_api_keys.sql")),
    (16, include_str!("../../migrations/sqlite/0016_photos.sql")),
    (17, include_str!("../../migrations/sqlite/0017_password_history.sql")),
    (18, include_str!("../../migrations/sqlite/0018_password_change.sql")),
    (19, include_str!("../../migrations/sqlite/0019_admin.sql")),
    (20, include_str!("../../migrations/sqlite/0020_settings.sql")),
    (21, include_str!("../../migrations/sqlite/0021_second_factor.sql")),
    (22, include_str!("../../migrations/sqlite/0022_pairings.sql")),
    (23, include_str!("../../migrations/sqlite/0023_case_indexes.sql")),
    (24, include_str!("../../migrations/sqlite/0024_outbox.sql")),
    (25, include_str!("../../migrations/sqlite/0025_warnings.sql")),
    (26, include_str!("../../migrations/sqlite/0026_base_data.sql")),
    (27, include_str!("../../migrations/sqlite/0027_duties.sql")),
    (28, include_str!("../../migrations/sqlite/0028_case_state.sql")),
];

/// Page cache of each reading connection (8 MiB; SQLite's own default is 2 MiB).
const READER_CACHE: &str = "-8192";

/// How the store connects to its file for writing: WAL, full sync (a batch acknowledged is on disk),
/// foreign keys, a busy timeout, a page cache for the indexes it inserts into, statement journals in
/// memory and a checkpoint every 4,000 WAL pages. The benchmark's baseline of plain appends uses the same, so the two are read against each
/// other.
pub fn connect_options(file: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(file)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10))
        // A city-year is over a GB of pages: a 64 MiB cache keeps index inserts from reading and
        // writing the same pages over and over.
        .pragma("cache_size", "-65536")
        // A batch's multi-row statements each keep the pages they change in a statement journal;
        // SQLite's default spills it to a temporary file past 64 KiB, a write() per page. In memory,
        // one feed's durable ingest ran 17 % faster on average (a statement's journal is a few MiB at most).
        .pragma("temp_store", "memory")
        // SQLite checkpoints after the commit that takes the WAL past this many pages (its default is
        // 1,000), in the writer's own time. A batch dirties about 500 pages, so the default copied them
        // back every other commit, the same hot index pages again each time; at 4,000 the commit's share
        // of one feed's write fell from about a third to under 30 % (docs/BENCHMARKS.md), for a WAL of
        // 16 MiB at most to read back after a crash.
        .pragma("wal_autocheckpoint", "4000")
}

pub struct SqliteStore {
    pool: SqlitePool,
    /// Every write transaction takes this one connection. SQLite empties a connection's page cache
    /// whenever another connection has written, so writers taking turns over a pool would each start
    /// cold; one writer keeps its cache of the indexes it inserts into (2.3× the durable rate measured
    /// on 100,000 events in batches of 500).
    writer: SqlitePool,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `cockpit.db` in `dir` and applies pending migrations.
    pub async fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Db(format!("cannot create data directory {}: {e}", dir.display())))?;
        let writes = connect_options(&dir.join("cockpit.db")).create_if_missing(true);
        // Readers start cold whenever the writer has written (SQLite empties their caches then), so a
        // large cache there buys little and costs up to its size per connection, for as long as the
        // server runs: with 64 MiB each, the server at a city-year held 45 MiB more.
        // Readers journal nothing; their sorts keep SQLite's default of spilling to a file.
        let reads = writes.clone().pragma("cache_size", READER_CACHE).pragma("temp_store", "default");
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(reads).await?;
        // Migrations rewrite whole tables in one statement: their statement journals may spill to a
        // file, so they run on a connection of their own before the writer's.
        let migrations = SqlitePoolOptions::new().max_connections(1).connect_with(writes.clone().pragma("temp_store", "file")).await?;
        let mut store = SqliteStore { pool, writer: migrations };
        store.migrate().await?;
        store.writer.close().await;
        store.writer = SqlitePoolOptions::new().max_connections(1).connect_with(writes).await?;
        Ok(store)
    }

    /// For recounts in tests and tools: the raw connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The one connection write transactions go through (see `writer`).
    pub(super) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    // Boxed: a plain async fn here trips rustc's higher-ranked Send inference in callers.
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
            .execute(&self.writer)
            .await?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_none() {
                for stmt in statements(sql) {
                    sqlx::query(stmt).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                    .bind(version)
                    // When the migration ran on this machine: a fact of the machine, not of the city's clock.
                    .bind(crate::clock::Clock::system().now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
        })
    }

    async fn append_inner(&self, events: &[CaseEvent]) -> Result<Vec<Outcome>, StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let out = append_in(&mut tx, events).await?;
            tx.commit().await?;
        Ok(out)
    }
}

/// A migration's statements. A statement ends with `;` at the end of a line; a trigger keeps its body on
/// one line.
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(str::trim).filter(|s| !s.lines().all(|l| l.trim().is_empty() || l.trim().starts_with("--")))
}

/// Stores case events inside the caller's write transaction; one outcome per event.
pub(super) async fn append_in(conn: &mut sqlx::SqliteConnection, events: &[CaseEvent]) -> Result<Vec<Outcome>, StoreError> {
    let mut out = vec![Outcome::Duplicate; events.len()];

    let reports: Vec<(&CaseEvent, &CaseFacts)> = events.iter().filter_map(|e| e.facts.as_ref().map(|f| (e, f))).collect();
    // The current state of every case the batch touches, as the state machine needs it, and the number
    // of each one's state row; a case this batch creates also keeps its facts (its state row is new).
    let mut state: HashMap<(&str, &str), Option<CaseState>> = HashMap::new();
    let mut ids: HashMap<(&str, &str), (i64, Option<&CaseFacts>)> = HashMap::new();
    // Cases this batch creates (a report of a known case is a duplicate): each report is numbered after
    // the last state row in the order of the reports, and the rows that went in name their report by it.
    let first: i64 = if reports.is_empty() { 0 } else { sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM case_state").fetch_one(&mut *conn).await? };
    for (n, chunk) in reports.chunks(200).enumerate() {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO case_facts (state_id, feed, case_id, category, source, grid, reported_at, deadline, \
             summary, department, person_name, person_phone, person_id_number, person_email, address, priority, warn_at) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, (e, f))| {
            b.push_bind(first + (n * 200 + i) as i64)
                .push_bind(&e.feed)
                .push_bind(&e.case_id)
                .push_bind(f.category.as_str())
                .push_bind(f.source.as_str())
                .push_bind(&f.grid)
                .push_bind(f.reported_at)
                .push_bind(f.deadline);
            let d = &f.details;
            let p = d.person.as_ref();
            b.push_bind(&d.summary)
                .push_bind(&d.department)
                .push_bind(p.map(|p| p.name.clone()))
                .push_bind(p.map(|p| p.phone.clone()))
                .push_bind(p.and_then(|p| p.id_number.clone()))
                .push_bind(p.and_then(|p| p.email.clone()))
                .push_bind(&d.address)
                .push_bind(f.priority.as_str())
                .push_bind(f.warn_at);
        });
        q.push(" RETURNING state_id");
        for row in q.build().fetch_all(&mut *conn).await? {
            let id: i64 = row.try_get("state_id")?;
            let Some(&(e, f)) = usize::try_from(id - first).ok().and_then(|i| reports.get(i)) else {
                return Err(StoreError::Corrupt(format!("a new case's state number {id} names no report of the batch")));
            };
            // Only the first report of a case goes in; a repeat in the same batch is a duplicate.
            let key = (e.feed.as_str(), e.case_id.as_str());
            state.insert(key, Some(CaseState::fresh(f)));
            ids.insert(key, (id, Some(f)));
        }
    }
    // The rest are read a few hundred at a time.
    let unknown = rows::unknown_cases(events, &state);
    for chunk in unknown.chunks(400) {
        // Joined to a list of keys (SQLite scans the whole table for a row-value IN list).
        let mut q = QueryBuilder::<Sqlite>::new("WITH k(feed, case_id) AS (VALUES ");
        let mut sep = q.separated(", ");
        for (feed, id) in chunk {
            sep.push("(").push_bind_unseparated(*feed).push_unseparated(", ").push_bind_unseparated(*id).push_unseparated(")");
        }
        q.push(
            ") SELECT f.feed, f.case_id, f.category, s.id, s.status, s.seq, s.escalations, s.supervised, s.desk_seq, s.med_tier, s.med_outcome \
             FROM k JOIN case_facts f ON f.feed = k.feed AND f.case_id = k.case_id JOIN case_state s ON s.id = f.state_id",
        );
        let mut found: HashMap<(String, String), (i64, CaseState)> = HashMap::new();
        for r in q.build().fetch_all(&mut *conn).await? {
            let (key, cur) = CaseState::read(&r)?;
            found.insert(key, (r.try_get("id")?, cur));
        }
        for &(feed, case_id) in chunk {
            let known = found.remove(&(feed.to_string(), case_id.to_string()));
            if let Some((id, _)) = &known {
                ids.insert((feed, case_id), (*id, None));
            }
            state.insert((feed, case_id), known.map(|(_, cur)| cur));
        }
    }

    // The state machine decides first; then each chunk is inserted. When every row went in (the usual
    // case) all are stored, otherwise each row is looked up: stored by this batch if its id is above the
    // largest id before it began (reading back every row is far slower).
    let rows = rows::decide(events, &mut state, &mut out);
    let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM case_events").fetch_one(&mut *conn).await?;
    for chunk in rows.chunks(500) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO case_events (feed, case_id, origin, seq, action, status, at, actor, note, tier, outcome) ",
        );
        q.push_values(chunk, |mut b, &(i, seq, status, _)| {
            let e = &events[i];
            let note = e.note.as_ref();
            b.push_bind(&e.feed)
                .push_bind(&e.case_id)
                .push_bind(e.origin.as_str())
                .push_bind(i64::from(seq))
                .push_bind(e.action.as_str())
                .push_bind(status.as_str())
                .push_bind(e.at)
                .push_bind(note.map(|n| n.actor.clone()))
                .push_bind(note.map(|n| n.text.clone()))
                .push_bind(e.mediation.map(|m| m.tier.as_str()))
                .push_bind(e.mediation.map(|m| m.outcome.as_str()));
        });
        let all_new = q.build().execute(&mut *conn).await?.rows_affected() as usize == chunk.len();
        for &(i, seq, _, moves) in chunk {
            let e = &events[i];
            let stored = all_new || {
                let id: i64 = sqlx::query_scalar("SELECT id FROM case_events WHERE feed = ? AND case_id = ? AND origin = ? AND seq = ?")
                    .bind(&e.feed)
                    .bind(&e.case_id)
                    .bind(e.origin.as_str())
                    .bind(i64::from(seq))
                    .fetch_one(&mut *conn)
                    .await?;
                id > before
            };
            if stored {
                out[i] = Outcome::Stored;
            } else if moves {
                // Only possible if the store was changed behind our back: refuse rather than miscount.
                return Err(StoreError::Corrupt(format!("case {}: event {seq} already stored above the case's state", e.case_id)));
            }
        }
    }

    // The batch's new cases with the state they reached in it, written once.
    let born: Vec<(i64, &CaseFacts, &CaseState)> =
        ids.iter().filter_map(|(k, &(id, f))| Some((id, f?, state.get(k)?.as_ref()?))).collect();
    for chunk in born.chunks(300) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO case_state (id, status, seq, updated_at, closed_at, escalations, supervised, desk_seq, med_tier, med_outcome) ",
        );
        q.push_values(chunk, |mut b, (id, f, c)| {
            b.push_bind(*id)
                .push_bind(c.status.as_str())
                .push_bind(i64::from(c.seq))
                .push_bind(c.at.unwrap_or(f.reported_at))
                .push_bind(c.at.filter(|_| c.status == Status::Closed))
                .push_bind(i64::from(c.escalations))
                .push_bind(i64::from(c.supervised))
                .push_bind(i64::from(c.desk_seq))
                .push_bind(c.mediation.map(|m| m.tier.as_str()))
                .push_bind(c.mediation.map(|m| m.outcome.as_str()));
        });
        q.build().execute(&mut *conn).await?;
    }

    // Every other changed case in a few statements: UPDATE … FROM a list of new states.
    let dirty: Vec<(i64, &CaseState)> =
        ids.iter().filter(|(_, (_, f))| f.is_none()).filter_map(|(k, &(id, _))| state.get(k)?.as_ref().filter(|c| c.dirty).map(|c| (id, c))).collect();
    for chunk in dirty.chunks(300) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "WITH v(id, status, seq, at, escalations, supervised, desk_seq, med_tier, med_outcome) AS (VALUES ",
        );
        let mut sep = q.separated(", ");
        for (id, c) in chunk {
            sep.push("(")
                .push_bind_unseparated(*id)
                .push_unseparated(", ")
                .push_bind_unseparated(c.status.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(i64::from(c.seq))
                .push_unseparated(", ")
                .push_bind_unseparated(c.at)
                .push_unseparated(", ")
                .push_bind_unseparated(i64::from(c.escalations))
                .push_unseparated(", ")
                .push_bind_unseparated(i64::from(c.supervised))
                .push_unseparated(", ")
                .push_bind_unseparated(i64::from(c.desk_seq))
                .push_unseparated(", ")
                .push_bind_unseparated(c.mediation.map(|m| m.tier.as_str()))
                .push_unseparated(", ")
                .push_bind_unseparated(c.mediation.map(|m| m.outcome.as_str()))
                .push_unseparated(")");
        }
        q.push(
            ") UPDATE case_state SET status = v.status, seq = v.seq, updated_at = COALESCE(v.at, case_state.updated_at), escalations = v.escalations, \
             supervised = v.supervised, desk_seq = v.desk_seq, med_tier = v.med_tier, med_outcome = v.med_outcome, \
             closed_at = CASE WHEN v.status = 'closed' THEN COALESCE(v.at, case_state.closed_at) ELSE NULL END \
             FROM v WHERE case_state.id = v.id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(out)
}

/// The first string after every string that begins with `prefix`, when its last character is an ASCII
/// digit (as region codes' are): the prefix with that digit one higher.
fn after_prefix(prefix: &str) -> Option<String> {
    let (&last, head) = prefix.as_bytes().split_last()?;
    if !last.is_ascii_digit() {
        return None;
    }
    // `head` ends on a character boundary: the byte after it is ASCII.
    Some(format!("{}{}", std::str::from_utf8(head).ok()?, char::from(last + 1)))
}

/// A case list: `head` (a `SELECT … FROM cases c WHERE`), the query's conditions, its order and limit.
fn case_list<'a>(head: &str, q: &'a super::CaseQuery) -> QueryBuilder<'a, Sqlite> {
    let mut b = QueryBuilder::<Sqlite>::new(head);
    push_filters(&mut b, q);
    b.push(if q.alerting_at.is_some() { " ORDER BY c.deadline LIMIT " } else { " ORDER BY c.reported_at DESC LIMIT " }).push_bind(i64::from(q.limit));
    b
}

/// `WHERE` conditions of a case query (without the keyword).
fn push_filters(b: &mut QueryBuilder<'_, Sqlite>, q: &super::CaseQuery) {
    b.push(" 1 = 1");
    if let Some(p) = &q.grid_prefix {
        // `cases_by_grid` answers a range; it cannot answer `LIKE`, which ignores case.
        match q.by_area.then(|| after_prefix(p)).flatten() {
            Some(end) => b.push(" AND c.grid >= ").push_bind(p.clone()).push(" AND c.grid < ").push_bind(end),
            None => b.push(" AND c.grid LIKE ").push_bind(format!("{p}%")),
        };
    }
    if let Some(d) = &q.department {
        b.push(" AND c.department = ").push_bind(d.clone());
    }
    if q.dispatched_only {
        b.push(" AND c.status NOT IN ('reported', 'accepted')");
    }
    if q.open_only || q.alerting_at.is_some() {
        b.push(" AND c.status <> 'closed'");
    }
    if let Some(t) = q.alerting_at {
        b.push(" AND c.warn_at <= ").push_bind(t);
    }
}

impl Store for SqliteStore {
    fn case<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<super::StoredCase>, StoreError>> {
        Box::pin(async move {
            let Some(row) = sqlx::query("SELECT * FROM cases WHERE feed = ? AND case_id = ?").bind(feed).bind(case_id).fetch_optional(&self.pool).await?
            else {
                return Ok(None);
            };
            let mut c = rows::stored_case(&row)?;
            let events = sqlx::query("SELECT action, status, at, actor, note, tier, outcome FROM case_events WHERE feed = ? AND case_id = ? ORDER BY at, id")
                .bind(feed)
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
            c.timeline = events.iter().map(rows::timeline_entry).collect::<Result<_, _>>()?;
            Ok(Some(c))
        })
    }

    fn cases<'a>(&'a self, q: &'a super::CaseQuery) -> BoxFuture<'a, Result<Vec<super::StoredCase>, StoreError>> {
        Box::pin(async move {
            let rows = case_list("SELECT * FROM cases c WHERE", q).build().fetch_all(&self.pool).await?;
            rows.iter().map(rows::stored_case).collect()
        })
    }

    fn cases_by_keys<'a>(&'a self, keys: &'a [(String, String)]) -> BoxFuture<'a, Result<Vec<super::StoredCase>, StoreError>> {
        Box::pin(async move {
            let mut found: HashMap<(String, String), super::StoredCase> = HashMap::with_capacity(keys.len());
            for chunk in keys.chunks(200) {
                let mut b = QueryBuilder::<Sqlite>::new("WITH k(feed, case_id) AS (VALUES ");
                let mut sep = b.separated(", ");
                for (feed, id) in chunk {
                    sep.push("(").push_bind_unseparated(feed).push_unseparated(", ").push_bind_unseparated(id).push_unseparated(")");
                }
                b.push(") SELECT c.* FROM k JOIN cases c ON c.feed = k.feed AND c.case_id = k.case_id");
                for r in b.build().fetch_all(&self.pool).await? {
                    let c = rows::stored_case(&r)?;
                    found.insert((c.feed.clone(), c.case_id.clone()), c);
                }
            }
            Ok(keys.iter().filter_map(|k| found.remove(k)).collect())
        })
    }

    fn append_patrols<'a>(&'a self, patrols: &'a [crate::patrol::Patrol]) -> BoxFuture<'a, Result<Vec<Outcome>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            // In batches: rows of known grids are inserted, new ones come back; the rest are duplicates or
            // of a grid that does not exist, which only those few rows are asked about.
            let mut stored: HashSet<(String, i64)> = HashSet::new();
            for chunk in patrols.chunks(300) {
                let mut q = QueryBuilder::<Sqlite>::new("INSERT OR IGNORE INTO patrols (grid, at, worker) SELECT v.column1, v.column2, v.column3 FROM (");
                q.push_values(chunk, |mut b, p| {
                    b.push_bind(&p.grid).push_bind(p.at).push_bind(&p.worker);
                });
                q.push(") AS v JOIN regions r ON r.code = v.column1 AND r.grid_kind IS NOT NULL WHERE true RETURNING grid, at");
                for r in q.build().fetch_all(&mut *tx).await? {
                    stored.insert((r.try_get("grid")?, r.try_get("at")?));
                }
            }
            let mut out = Vec::with_capacity(patrols.len());
            for p in patrols {
                if stored.remove(&(p.grid.clone(), p.at)) {
                    out.push(Outcome::Stored);
                    continue;
                }
                let grid: Option<i64> = sqlx::query_scalar("SELECT 1 FROM regions WHERE code = ? AND grid_kind IS NOT NULL")
                    .bind(&p.grid)
                    .fetch_optional(&mut *tx)
                    .await?;
                out.push(match grid {
                    Some(_) => Outcome::Duplicate,
                    None => Outcome::Rejected(format!("patrol of unknown grid {:?}", p.grid)),
                });
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    fn last_patrols(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT grid, MAX(at) AS at FROM patrols GROUP BY grid").fetch_all(&self.pool).await?;
            rows.iter().map(|r| Ok((r.try_get("grid")?, r.try_get("at")?))).collect()
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
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            for (n, chunk) in rows.chunks(500).enumerate() {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO regions (code, parent, level, name, schematic, shape, grid_kind, worker, households, population, base_updated_at, ord) ",
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
                        .push_bind(g.and_then(|g| g.base_updated))
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
            rows.iter().map(rows::region_row).collect()
        })
    }

    fn append<'a>(&'a self, events: &'a [CaseEvent]) -> BoxFuture<'a, Result<Vec<Outcome>, StoreError>> {
        Box::pin(self.append_inner(events))
    }

    fn replay_after(&self, after: i64, limit: u32) -> BoxFuture<'_, Result<Vec<(i64, CaseEvent)>, StoreError>> {
        Box::pin(async move {
            // Facts only with reports (what the engine reads them from): the join is skipped for the rest.
            // Columns by position: this reads every stored event at a restart without a snapshot.
            let rows = sqlx::query(
                "SELECT e.id, e.feed, e.case_id, e.origin, e.seq, e.action, e.status, e.at, e.tier, e.outcome, c.category, c.source, c.grid, \
                 c.reported_at, c.deadline, c.priority, c.warn_at, c.department \
                 FROM case_events e LEFT JOIN case_facts c ON e.seq = 0 AND e.origin = 'feed' AND c.feed = e.feed AND c.case_id = e.case_id \
                 WHERE e.id > ? ORDER BY e.id LIMIT ?",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(rows::replayed).collect()
        })
    }

    fn replay_position(&self) -> BoxFuture<'_, Result<i64, StoreError>> {
        Box::pin(async move { Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM case_events").fetch_one(&self.pool).await?) })
    }

    fn open_cases<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<Vec<OpenCase>, StoreError>> {
        Box::pin(async move {
            // From the open states (`cases_open`) to their facts: through the view, SQLite would read every
            // case of the feed.
            let rows = sqlx::query("SELECT f.case_id, s.status, s.seq, s.updated_at, f.reported_at, f.deadline, f.category, \
                 (SELECT COUNT(*) FROM case_events e WHERE e.feed = f.feed AND e.case_id = f.case_id AND e.action = 'mediate') AS mediated \
                 FROM case_state s CROSS JOIN case_facts f ON f.state_id = s.id WHERE s.status <> 'closed' AND f.feed = ?")
                .bind(feed)
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(rows::open_case).collect()
        })
    }

    fn cases_in<'a>(&'a self, q: &'a super::WindowQuery) -> BoxFuture<'a, Result<Vec<super::StoredCase>, StoreError>> {
        Box::pin(async move {
            let column = match q.on {
                super::WindowOn::Reported => "c.reported_at",
                super::WindowOn::Updated => "c.updated_at",
            };
            let mut b = QueryBuilder::<Sqlite>::new(format!("SELECT * FROM cases c WHERE {column} >= "));
            b.push_bind(q.from).push(format!(" AND {column} < ")).push_bind(q.to);
            if !q.categories.is_empty() {
                b.push(" AND c.category IN (");
                let mut sep = b.separated(", ");
                for c in &q.categories {
                    sep.push_bind(c.as_str());
                }
                b.push(")");
            }
            b.push(" AND c.source IN (");
            let mut sep = b.separated(", ");
            for s in &q.sources {
                sep.push_bind(s.as_str());
            }
            if q.sources.is_empty() {
                sep.push("NULL");
            }
            b.push(")");
            match q.open {
                Some(true) => b.push(" AND c.status <> 'closed'"),
                Some(false) => b.push(" AND c.status = 'closed'"),
                None => &mut b,
            };
            b.push(format!(" ORDER BY {column}, c.feed, c.case_id LIMIT ")).push_bind(i64::from(q.limit));
            let rows = b.build().fetch_all(&self.pool).await?;
            rows.iter().map(rows::stored_case).collect()
        })
    }

    fn has_cases<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            // The primary key's first column: one index probe, whatever the size of the history.
            let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM cases WHERE feed = ? LIMIT 1").bind(feed).fetch_optional(&self.pool).await?;
            Ok(any.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;

    // 0 is SQLite's default (here: temporary files), 1 a file, 2 memory.
    async fn temp_store(pool: &sqlx::SqlitePool) -> i64 {
        sqlx::query_scalar("PRAGMA temp_store").fetch_one(pool).await.expect("temp_store")
    }

    #[tokio::test]
    async fn the_writer_journals_statements_in_memory_and_readers_keep_the_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("store");
        assert_eq!(temp_store(store.writer()).await, 2, "the writer's statement journals are in memory");
        assert_eq!(temp_store(store.pool()).await, 0, "readers sort as SQLite does by default");
        let migrated: i64 = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(store.writer()).await.expect("migrations");
        assert_eq!(migrated, super::MIGRATIONS.last().expect("migrations").0, "every migration ran before the writer opened");
    }

    #[tokio::test]
    async fn the_writer_checkpoints_late_and_sqlite_keeps_no_memory_statistics() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("store");
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(store.writer()).await.expect("wal_autocheckpoint");
        assert_eq!(pages, 4000, "the writer checkpoints after 4,000 WAL pages, not every other batch");
        // Built from `LIBSQLITE3_FLAGS` in .cargo/config.toml; a build without it loses a mutex per malloc.
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options").fetch_all(store.pool()).await.expect("compile_options");
        for want in ["DEFAULT_MEMSTATUS=0", "USE_ALLOCA"] {
            assert!(options.iter().any(|o| o == want), "SQLite built without {want}: {options:?}");
        }
    }

    /// Every case as the reads see it, one line each, in key order.
    async fn case_lines<'e>(db: impl sqlx::SqliteExecutor<'e>) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT quote(feed) || ',' || quote(case_id) || ',' || quote(category) || ',' || quote(grid) || ',' || quote(reported_at) || ',' || \
             quote(deadline) || ',' || quote(status) || ',' || quote(seq) || ',' || quote(updated_at) || ',' || quote(closed_at) || ',' || \
             quote(escalations) || ',' || quote(supervised) || ',' || quote(desk_seq) || ',' || quote(med_tier) || ',' || quote(med_outcome) || ',' || \
             quote(summary) || ',' || quote(person_name) || ',' || quote(warn_at) FROM cases ORDER BY feed, case_id",
        )
        .fetch_all(db)
        .await
        .expect("cases")
    }

    #[tokio::test]
    async fn moving_the_case_state_to_its_own_table_keeps_every_case_and_the_store_carries_on() {
        use super::super::Store;
        use crate::case::{CaseEvent, Outcome};
        use app::flow::Action;
        use app::model::Status;
        use sqlx::{ConnectOptions, Connection};
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("cockpit.db");
        // A store of the layout before: every migration up to the one that moves the state.
        let mut conn = super::connect_options(&file).create_if_missing(true).connect().await.expect("old store");
        sqlx::query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)").execute(&mut conn).await.expect("table");
        for (version, sql) in super::MIGRATIONS.iter().filter(|(v, _)| *v < 28) {
            for stmt in super::statements(sql) {
                sqlx::query(stmt).execute(&mut conn).await.unwrap_or_else(|e| panic!("migration {version}: {e}"));
            }
            sqlx::query("INSERT INTO schema_migrations VALUES (?, 0)").bind(version).execute(&mut conn).await.expect("version");
        }
        sqlx::query("INSERT INTO regions (code, level, name, schematic, shape, ord) VALUES ('g1', 'grid', 'g1', 0, '[]', 0)").execute(&mut conn).await.expect("grid");
        // An open case mediated and escalated, a closed one, and one with an oversight action, each with its events.
        for (id, status, seq, closed_at, escalations, desk_seq, tier, outcome) in [
            ("a", "handling", 3, None, 1, 0, Some("village"), Some("failed")),
            ("b", "closed", 6, Some(9_000), 0, 0, None, None),
            ("c", "accepted", 1, None, 0, 2, None, None),
        ] {
            sqlx::query(
                "INSERT INTO cases (feed, case_id, category, source, grid, reported_at, deadline, status, seq, updated_at, summary, person_name, \
                 priority, warn_at, escalations, supervised, closed_at, desk_seq, med_tier, med_outcome) \
                 VALUES ('f', ?, 'dispute', 'hotline_12345', 'g1', 1000, 100000, ?, ?, 5000, '楼道堆物', '张三', 'normal', 80000, ?, 1, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(status)
            .bind(seq)
            .bind(escalations)
            .bind(closed_at)
            .bind(desk_seq)
            .bind(tier)
            .bind(outcome)
            .execute(&mut conn)
            .await
            .expect("case");
            for n in 0..=seq {
                sqlx::query("INSERT INTO case_events (feed, case_id, origin, seq, action, status, at) VALUES ('f', ?, 'feed', ?, 'accept', 'accepted', ?)")
                    .bind(id)
                    .bind(n)
                    .bind(1000 + n)
                    .execute(&mut conn)
                    .await
                    .expect("event");
            }
        }
        let before = case_lines(&mut conn).await;
        conn.close().await.expect("close");
        assert_eq!(before.len(), 3);

        let store = SqliteStore::open(dir.path()).await.expect("migrated store");
        assert_eq!(case_lines(store.pool()).await, before, "every case reads as it did");
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('case_facts')").fetch_all(store.pool()).await.expect("columns");
        assert!(!columns.iter().any(|c| c == "status" || c == "seq"), "the facts no longer carry a state: {columns:?}");

        // The next event of a migrated case moves its state; a repeat is a duplicate; a new case gets a state of its own.
        let next = CaseEvent::change("f", "a", 4, Action::Resolve, Status::Resolved, 6_000);
        assert_eq!(store.append(std::slice::from_ref(&next)).await.expect("append"), [Outcome::Stored]);
        assert_eq!(store.append(&[next]).await.expect("again"), [Outcome::Duplicate]);
        let a = store.case("f", "a").await.expect("read").expect("case a");
        assert_eq!((a.status, a.updated_at, a.escalations), (Status::Resolved, 6_000, 1));
        let facts = crate::case::CaseFacts {
            category: app::model::Category::Dispute,
            source: app::model::Source::Hotline12345,
            grid: "g1".into(),
            reported_at: 7_000,
            priority: app::flow::Priority::Normal,
            warn_at: 8_000,
            deadline: 9_000,
            details: Default::default(),
        };
        let mut report = CaseEvent::change("f", "d", 0, Action::Report, Status::Reported, 7_000);
        report.facts = Some(facts.clone());
        assert_eq!(store.append(&[report]).await.expect("report"), [Outcome::Stored]);
        let after = case_lines(store.pool()).await;
        assert_eq!((after.len(), &after[1..3]), (4, &before[1..3]), "the new case is added and the other cases are untouched");
        let open: Vec<String> = store.open_cases("f").await.expect("open").into_iter().map(|c| c.case_id).collect();
        assert_eq!(open.len(), 3, "a, c and d are open: {open:?}");

        // A case reported twice in one batch keeps the first report, facts and state alike.
        let report_at = |at: i64, category| {
            let mut r = CaseEvent::change("f", "e", 0, Action::Report, Status::Reported, at);
            r.facts = Some(crate::case::CaseFacts { category, reported_at: at, warn_at: at + 1_000, deadline: at + 2_000, ..facts.clone() });
            r
        };
        let twice = [report_at(10_000, app::model::Category::Dispute), report_at(10_500, app::model::Category::Hazard)];
        assert_eq!(store.append(&twice).await.expect("twice"), [Outcome::Stored, Outcome::Duplicate]);
        let e = store.case("f", "e").await.expect("read").expect("case e");
        assert_eq!((e.facts.reported_at, e.updated_at, e.facts.category), (10_000, 10_000, app::model::Category::Dispute));
    }

    fn scope(prefix: &str, by_area: bool) -> super::super::CaseQuery {
        super::super::CaseQuery { grid_prefix: Some(prefix.into()), by_area, open_only: true, limit: 50, ..Default::default() }
    }

    #[tokio::test]
    async fn a_small_scope_is_read_by_area_and_a_large_one_newest_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("store");
        for (q, index) in [(scope("330602012", true), "cases_by_grid"), (scope("330602", false), "cases_by_reported")] {
            let plan: Vec<String> = super::case_list("EXPLAIN QUERY PLAN SELECT * FROM cases c WHERE", &q)
                .build()
                .fetch_all(store.pool())
                .await
                .expect("plan")
                .iter()
                .map(|r| sqlx::Row::get::<String, _>(r, "detail"))
                .collect();
            assert!(plan.iter().any(|d| d.contains(index)), "{q:?} should read {index}: {plan:?}");
        }
    }

    #[tokio::test]
    async fn by_area_lists_exactly_the_cases_whose_grid_begins_with_the_prefix() {
        use super::super::Store;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("store");
        // Codes on both sides of each prefix's range [prefix, the prefix with its last digit one higher).
        let grids = ["330602012899", "3306020129", "330602012900", "330602012999", "330602013", "3306020130"];
        for (i, g) in grids.iter().enumerate() {
            sqlx::query("INSERT INTO regions (code, level, name, schematic, shape, ord) VALUES (?, 'grid', ?, 0, '[]', ?)")
                .bind(g)
                .bind(g)
                .bind(i as i64)
                .execute(store.writer())
                .await
                .expect("region");
            sqlx::query(
                "INSERT INTO case_facts (state_id, feed, case_id, category, source, grid, reported_at, deadline) \
                 VALUES (?, 'f', ?, 'dispute', 'hotline_12345', ?, ?, ?)",
            )
            .bind(i as i64)
            .bind(format!("c{i}"))
            .bind(g)
            .bind(1_000 * i as i64)
            .bind(1_000_000 + i as i64)
            .execute(store.writer())
            .await
            .expect("case");
            sqlx::query("INSERT INTO case_state (id, status, seq, updated_at) VALUES (?, 'reported', 0, ?)")
                .bind(i as i64)
                .bind(1_000 * i as i64)
                .execute(store.writer())
                .await
                .expect("case state");
        }
        for prefix in ["3306020129", "33060201299", "330602012"] {
            let want: Vec<&str> = grids.iter().rev().filter(|g| g.starts_with(prefix)).copied().collect();
            for by_area in [true, false] {
                let got: Vec<String> = store.cases(&scope(prefix, by_area)).await.expect("cases").into_iter().map(|c| c.facts.grid).collect();
                assert_eq!(got, want, "prefix {prefix}, by area: {by_area}");
            }
        }
        assert_eq!(super::after_prefix("3306020129").as_deref(), Some("330602012:"));
        assert_eq!(super::after_prefix(""), None);
        assert_eq!(super::after_prefix("33060x"), None);
    }
}
