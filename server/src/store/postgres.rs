//! The shared store for scale-out: PostgreSQL through sqlx, the same `Store` trait as SQLite, its own
//! migrations (`migrations/postgres`). Writes of positioned rows (case events, observations) take one
//! transaction-scoped advisory lock, so positions are handed out in commit order and a recount that reads
//! "after position p" never misses a row committed late under a lower number.
use super::rows::{self, CaseState};
use super::{OpenCase, Store, StoreError, StoredCase};
use crate::case::{CaseEvent, Outcome};
use crate::city::RegionRow;
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_password_change.sql")),
    (3, include_str!("../../migrations/postgres/0003_admin.sql")),
    (4, include_str!("../../migrations/postgres/0004_settings.sql")),
    (5, include_str!("../../migrations/postgres/0005_second_factor.sql")),
    (6, include_str!("../../migrations/postgres/0006_pairings.sql")),
    (7, include_str!("../../migrations/postgres/0007_case_indexes.sql")),
    (8, include_str!("../../migrations/postgres/0008_outbox.sql")),
    (9, include_str!("../../migrations/postgres/0009_warnings.sql")),
    (10, include_str!("../../migrations/postgres/0010_base_data.sql")),
    (11, include_str!("../../migrations/postgres/0011_duties.sql")),
];

/// The advisory lock key of positioned writes ("cockpit" in ASCII).
pub(super) const WRITE_LOCK: i64 = 0x636f_636b_7069_74;

pub struct PgStore {
    pool: PgPool,
}

/// Feed leases (`cluster::lease`) as PostgreSQL advisory locks: session-level, so each lives exactly as
/// long as the connection that took it, which leaves the pool with it.
pub struct PgLeases {
    pool: PgPool,
}

/// The advisory lock class of feed leases ("ck"), apart from `WRITE_LOCK`'s single-key space.
const LEASE_CLASS: i32 = 0x636b;

fn lease_key(name: &str) -> i32 {
    // FNV-1a: the same name gives the same lock on every instance and every version.
    name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193)) as i32
}

struct PgLease {
    conn: PgConnection,
}

impl crate::cluster::Lease for PgLease {
    fn alive(&mut self) -> BoxFuture<'_, bool> {
        Box::pin(async move { sqlx::query("SELECT 1").execute(&mut self.conn).await.is_ok() })
    }
}

impl crate::cluster::Leases for PgLeases {
    fn try_take<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Box<dyn crate::cluster::Lease>>, String>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.map_err(|e| e.to_string())?;
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(LEASE_CLASS)
                .bind(lease_key(name))
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| e.to_string())?;
            // Taken: the connection leaves the pool with the lock (closing it ends the lease).
            Ok(got.then(|| Box::new(PgLease { conn: conn.detach() }) as Box<dyn crate::cluster::Lease>))
        })
    }
}

impl PgStore {
    /// Whether `url` names a PostgreSQL database; from a file (`in_file`) it must not carry a password,
    /// which belongs in the environment.
    pub fn check_url(url: &str, in_file: bool) -> Result<PgConnectOptions, String> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err("store.url must start with postgres:// (or be left out for the embedded SQLite store)".into());
        }
        // The parser's message may quote the URL: say only what is wrong.
        let opts = PgConnectOptions::from_str(url).map_err(|_| "store.url is not a valid PostgreSQL URL".to_string())?;
        let password = url.split_once("://").and_then(|(_, rest)| rest.split_once('@')).is_some_and(|(user, _)| user.contains(':'));
        if in_file && password {
            return Err("store.url must not hold the password: set COCKPIT_STORE_PASSWORD in the environment".into());
        }
        Ok(opts)
    }

    /// Connects to `url` (`postgres://user@host:port/database`, the password given apart) and applies
    /// pending migrations.
    pub async fn open(url: &str, password: Option<&str>) -> Result<PgStore, StoreError> {
        let mut opts = Self::check_url(url, false).map_err(StoreError::Db)?;
        if let Some(p) = password {
            opts = opts.password(p);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Db(format!("cannot connect to PostgreSQL: {e}")))?;
        let store = PgStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// For recounts in tests and tools: the raw connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Leases of feeds, granted by this database to one instance at a time.
    pub fn leases(&self) -> PgLeases {
        PgLeases { pool: self.pool.clone() }
    }

    // Boxed: a plain async fn here trips rustc's higher-ranked Send inference in callers.
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            // Instances starting together migrate one after another.
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK + 1).execute(&mut *tx).await?;
            sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)").execute(&mut *tx).await?;
            for (version, sql) in MIGRATIONS {
                let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1").bind(version).fetch_optional(&mut *tx).await?;
                if done.is_none() {
                    // A statement ends with `;` at the end of a line; a function keeps its body on one line.
                    for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.lines().all(|l| l.trim().is_empty() || l.trim().starts_with("--"))) {
                        sqlx::query(stmt).execute(&mut *tx).await?;
                    }
                    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(version)
                        // When the migration ran: a fact of the machine, not of the city's clock.
                        .bind(crate::clock::Clock::system().now_ms())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Takes the positioned-write lock for the rest of the caller's transaction.
pub(super) async fn lock_writes(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *conn).await?;
    Ok(())
}

/// Stores case events inside the caller's write transaction (which must hold `lock_writes`); one
/// outcome per event. Columns travel as arrays (`UNNEST`): one statement per step whatever the batch.
pub(super) async fn append_in(conn: &mut PgConnection, events: &[CaseEvent]) -> Result<Vec<Outcome>, StoreError> {
    let mut out = vec![Outcome::Duplicate; events.len()];
    let reports: Vec<(&CaseEvent, &crate::case::CaseFacts)> = events.iter().filter_map(|e| e.facts.as_ref().map(|f| (e, f))).collect();
    let mut new_cases: HashSet<(String, String)> = HashSet::new();
    if !reports.is_empty() {
        let col = |f: &dyn Fn(&(&CaseEvent, &crate::case::CaseFacts)) -> Option<String>| reports.iter().map(f).collect::<Vec<_>>();
        let int = |f: &dyn Fn(&(&CaseEvent, &crate::case::CaseFacts)) -> Option<i64>| reports.iter().map(f).collect::<Vec<_>>();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "INSERT INTO cases (feed, case_id, category, source, grid, reported_at, deadline, status, seq, updated_at, \
             summary, department, person_name, person_phone, person_id_number, person_email, address, priority, warn_at) \
             SELECT feed, case_id, category, source, grid, reported_at, deadline, 'reported', 0, reported_at, \
             summary, department, person_name, person_phone, person_id_number, person_email, address, priority, warn_at \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], \
             $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[]) \
             AS v(feed, case_id, category, source, grid, reported_at, deadline, summary, department, person_name, person_phone, \
             person_id_number, person_email, address, priority, warn_at) \
             ON CONFLICT DO NOTHING RETURNING feed, case_id",
        )
        .bind(col(&|(e, _)| Some(e.feed.clone())))
        .bind(col(&|(e, _)| Some(e.case_id.clone())))
        .bind(col(&|(_, f)| Some(f.category.as_str().to_string())))
        .bind(col(&|(_, f)| Some(f.source.as_str().to_string())))
        .bind(col(&|(_, f)| Some(f.grid.clone())))
        .bind(int(&|(_, f)| Some(f.reported_at)))
        .bind(int(&|(_, f)| Some(f.deadline)))
        .bind(col(&|(_, f)| Some(f.details.summary.clone())))
        .bind(col(&|(_, f)| f.details.department.clone()))
        .bind(col(&|(_, f)| f.details.person.as_ref().map(|p| p.name.clone())))
        .bind(col(&|(_, f)| f.details.person.as_ref().map(|p| p.phone.clone())))
        .bind(col(&|(_, f)| f.details.person.as_ref().and_then(|p| p.id_number.clone())))
        .bind(col(&|(_, f)| f.details.person.as_ref().and_then(|p| p.email.clone())))
        .bind(col(&|(_, f)| f.details.address.clone()))
        .bind(col(&|(_, f)| Some(f.priority.as_str().to_string())))
        .bind(int(&|(_, f)| Some(f.warn_at)))
        .fetch_all(&mut *conn)
        .await?;
        new_cases.extend(rows);
    }

    let mut state: HashMap<(&str, &str), Option<CaseState>> = HashMap::new();
    for (e, f) in &reports {
        if new_cases.contains(&(e.feed.clone(), e.case_id.clone())) {
            // The first report is the one stored; a repeat in the same batch is a duplicate.
            state.entry((e.feed.as_str(), e.case_id.as_str())).or_insert_with(|| Some(CaseState::fresh(f)));
        }
    }
    let unknown = rows::unknown_cases(events, &state);
    if !unknown.is_empty() {
        let feeds: Vec<&str> = unknown.iter().map(|k| k.0).collect();
        let ids: Vec<&str> = unknown.iter().map(|k| k.1).collect();
        let found = sqlx::query(
            "SELECT c.feed, c.case_id, c.status, c.seq, c.escalations, c.supervised, c.category, c.desk_seq, c.med_tier, c.med_outcome \
             FROM UNNEST($1::text[], $2::text[]) AS k(feed, case_id) JOIN cases c ON c.feed = k.feed AND c.case_id = k.case_id",
        )
        .bind(&feeds)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        let mut found: HashMap<(String, String), CaseState> = found.iter().map(CaseState::read).collect::<Result<_, _>>()?;
        for (feed, id) in unknown {
            state.insert((feed, id), found.remove(&(feed.to_string(), id.to_string())));
        }
    }

    let admitted = rows::decide(events, &mut state, &mut out);
    if !admitted.is_empty() {
        let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM case_events").fetch_one(&mut *conn).await?;
        let ev = |i: usize| &events[i];
        let stored: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "INSERT INTO case_events (feed, case_id, origin, seq, action, status, at, actor, note, tier, outcome) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[], \
             $9::text[], $10::text[], $11::text[]) ON CONFLICT DO NOTHING RETURNING feed, case_id, origin, seq, id",
        )
        .bind(admitted.iter().map(|&(i, ..)| ev(i).feed.as_str()).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).case_id.as_str()).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).origin.as_str()).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(_, seq, ..)| i64::from(seq)).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).action.as_str()).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(_, _, status, _)| status.as_str()).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).at).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).note.as_ref().map(|n| n.actor.clone())).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).note.as_ref().map(|n| n.text.clone())).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).mediation.map(|m| m.tier.as_str())).collect::<Vec<_>>())
        .bind(admitted.iter().map(|&(i, ..)| ev(i).mediation.map(|m| m.outcome.as_str())).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?;
        let new: HashSet<(String, String, String, i64)> = stored.into_iter().filter(|r| r.4 > before).map(|(f, c, o, s, _)| (f, c, o, s)).collect();
        for &(i, seq, _, moves) in &admitted {
            let e = ev(i);
            if new.contains(&(e.feed.clone(), e.case_id.clone(), e.origin.as_str().to_string(), i64::from(seq))) {
                out[i] = Outcome::Stored;
            } else if moves {
                // Only possible if the store was changed behind our back: refuse rather than miscount.
                return Err(StoreError::Corrupt(format!("case {}: event {seq} already stored above the case's state", e.case_id)));
            }
        }
    }

    let dirty: Vec<(&(&str, &str), &CaseState)> = state.iter().filter_map(|(k, c)| c.as_ref().filter(|c| c.dirty).map(|c| (k, c))).collect();
    if !dirty.is_empty() {
        sqlx::query(
            "UPDATE cases SET status = v.status, seq = v.seq, updated_at = COALESCE(v.at, cases.updated_at), escalations = v.escalations, \
             supervised = v.supervised, desk_seq = v.desk_seq, med_tier = v.med_tier, med_outcome = v.med_outcome, \
             closed_at = CASE WHEN v.status = 'closed' THEN COALESCE(v.at, cases.closed_at) ELSE NULL END \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], \
             $9::text[], $10::text[]) AS v(feed, case_id, status, seq, at, escalations, supervised, desk_seq, med_tier, med_outcome) \
             WHERE cases.feed = v.feed AND cases.case_id = v.case_id",
        )
        .bind(dirty.iter().map(|((f, _), _)| *f).collect::<Vec<_>>())
        .bind(dirty.iter().map(|((_, id), _)| *id).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| c.status.as_str()).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| i64::from(c.seq)).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| c.at).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| i64::from(c.escalations)).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| i64::from(c.supervised)).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| i64::from(c.desk_seq)).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| c.mediation.map(|m| m.tier.as_str())).collect::<Vec<_>>())
        .bind(dirty.iter().map(|(_, c)| c.mediation.map(|m| m.outcome.as_str())).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(out)
}

/// `WHERE` conditions of a case query (without the keyword).
fn push_filters(b: &mut QueryBuilder<'_, Postgres>, q: &super::CaseQuery) {
    b.push(" true");
    if let Some(p) = &q.grid_prefix {
        // Region codes are digits: no LIKE wildcard to escape.
        b.push(" AND c.grid LIKE ").push_bind(format!("{p}%"));
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

impl Store for PgStore {
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
                let mut q = QueryBuilder::<Postgres>::new("INSERT INTO regions (code, parent, level, name, schematic, shape, grid_kind, worker, households, population, base_updated_at, ord) ");
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
                // Instances starting together on an empty store write the same city: the first one wins.
                q.push(" ON CONFLICT (code) DO NOTHING");
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
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            lock_writes(&mut tx).await?;
            let out = append_in(&mut tx, events).await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    fn replay_after(&self, after: i64, limit: u32) -> BoxFuture<'_, Result<Vec<(i64, CaseEvent)>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                // LATERAL: one index probe per report, never a join over the whole case table (which a
                // plan for an unknown position would choose, and which grows with the city).
                "SELECT e.id, e.feed, e.case_id, e.origin, e.seq, e.action, e.status, e.at, e.tier, e.outcome, c.category, c.source, c.grid, \
                 c.reported_at, c.deadline, c.priority, c.warn_at, c.department \
                 FROM (SELECT * FROM case_events WHERE id > $1 ORDER BY id LIMIT $2) e \
                 LEFT JOIN LATERAL (SELECT * FROM cases c WHERE e.seq = 0 AND e.origin = 'feed' AND c.feed = e.feed AND c.case_id = e.case_id) c ON true \
                 ORDER BY e.id",
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
            let rows = sqlx::query(
                "SELECT case_id, status, seq, updated_at, reported_at, deadline, category, \
                 (SELECT COUNT(*) FROM case_events e WHERE e.feed = c.feed AND e.case_id = c.case_id AND e.action = 'mediate') AS mediated \
                 FROM cases c WHERE feed = $1 AND status <> 'closed'",
            )
            .bind(feed)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(rows::open_case).collect()
        })
    }

    fn case<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<StoredCase>, StoreError>> {
        Box::pin(async move {
            let Some(row) = sqlx::query("SELECT * FROM cases WHERE feed = $1 AND case_id = $2").bind(feed).bind(case_id).fetch_optional(&self.pool).await? else {
                return Ok(None);
            };
            let mut c = rows::stored_case(&row)?;
            let events = sqlx::query("SELECT action, status, at, actor, note, tier, outcome FROM case_events WHERE feed = $1 AND case_id = $2 ORDER BY at, id")
                .bind(feed)
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
            c.timeline = events.iter().map(rows::timeline_entry).collect::<Result<_, _>>()?;
            Ok(Some(c))
        })
    }

    fn cases_by_keys<'a>(&'a self, keys: &'a [(String, String)]) -> BoxFuture<'a, Result<Vec<StoredCase>, StoreError>> {
        Box::pin(async move {
            let feeds: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
            let ids: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
            let rows = sqlx::query("SELECT c.* FROM UNNEST($1::text[], $2::text[]) AS k(feed, case_id) JOIN cases c ON c.feed = k.feed AND c.case_id = k.case_id")
                .bind(&feeds)
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
            let mut found: HashMap<(String, String), StoredCase> = HashMap::with_capacity(rows.len());
            for r in &rows {
                let c = rows::stored_case(r)?;
                found.insert((c.feed.clone(), c.case_id.clone()), c);
            }
            Ok(keys.iter().filter_map(|k| found.remove(k)).collect())
        })
    }

    fn cases<'a>(&'a self, q: &'a super::CaseQuery) -> BoxFuture<'a, Result<Vec<StoredCase>, StoreError>> {
        Box::pin(async move {
            let mut b = QueryBuilder::<Postgres>::new("SELECT * FROM cases c WHERE");
            push_filters(&mut b, q);
            b.push(if q.alerting_at.is_some() { " ORDER BY c.deadline LIMIT " } else { " ORDER BY c.reported_at DESC LIMIT " }).push_bind(i64::from(q.limit));
            let rows = b.build().fetch_all(&self.pool).await?;
            rows.iter().map(rows::stored_case).collect()
        })
    }

    fn cases_in<'a>(&'a self, q: &'a super::WindowQuery) -> BoxFuture<'a, Result<Vec<StoredCase>, StoreError>> {
        Box::pin(async move {
            let column = match q.on {
                super::WindowOn::Reported => "c.reported_at",
                super::WindowOn::Updated => "c.updated_at",
            };
            let categories: Vec<&str> = q.categories.iter().map(|c| c.as_str()).collect();
            let sources: Vec<&str> = q.sources.iter().map(|s| s.as_str()).collect();
            let open = match q.open {
                Some(true) => " AND c.status <> 'closed'",
                Some(false) => " AND c.status = 'closed'",
                None => "",
            };
            let rows = sqlx::query(&format!(
                "SELECT * FROM cases c WHERE {column} >= $1 AND {column} < $2 AND (cardinality($3::text[]) = 0 OR c.category = ANY($3)) \
                 AND c.source = ANY($4::text[]){open} ORDER BY {column}, c.feed, c.case_id LIMIT $5"
            ))
            .bind(q.from)
            .bind(q.to)
            .bind(&categories)
            .bind(&sources)
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(rows::stored_case).collect()
        })
    }

    fn append_patrols<'a>(&'a self, patrols: &'a [crate::patrol::Patrol]) -> BoxFuture<'a, Result<Vec<Outcome>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let stored: Vec<(String, i64)> = sqlx::query_as(
                "INSERT INTO patrols (grid, at, worker) SELECT v.grid, v.at, v.worker \
                 FROM UNNEST($1::text[], $2::bigint[], $3::text[]) AS v(grid, at, worker) \
                 JOIN regions r ON r.code = v.grid AND r.grid_kind IS NOT NULL ON CONFLICT DO NOTHING RETURNING grid, at",
            )
            .bind(patrols.iter().map(|p| p.grid.as_str()).collect::<Vec<_>>())
            .bind(patrols.iter().map(|p| p.at).collect::<Vec<_>>())
            .bind(patrols.iter().map(|p| p.worker.as_deref()).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await?;
            let mut stored: HashSet<(String, i64)> = stored.into_iter().collect();
            let mut out = Vec::with_capacity(patrols.len());
            for p in patrols {
                if stored.remove(&(p.grid.clone(), p.at)) {
                    out.push(Outcome::Stored);
                    continue;
                }
                let grid: Option<i32> = sqlx::query_scalar("SELECT 1 FROM regions WHERE code = $1 AND grid_kind IS NOT NULL").bind(&p.grid).fetch_optional(&mut *tx).await?;
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
        Box::pin(async move { Ok(sqlx::query_as("SELECT grid, MAX(at) FROM patrols GROUP BY grid").fetch_all(&self.pool).await?) })
    }

    fn has_cases<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let any: Option<i32> = sqlx::query_scalar("SELECT 1 FROM cases WHERE feed = $1 LIMIT 1").bind(feed).fetch_optional(&self.pool).await?;
            Ok(any.is_some())
        })
    }
}
