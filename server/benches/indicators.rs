//! The indicator engine against SQL on a generated city-year: a fixed, seeded mix of queries (a random
//! region at each level × a random period from a day to a year × every report kind) timed on the engine
//! loaded from its snapshot; the same flow reports answered by SQLite (the store's `cockpit.db`, today's
//! path), PostgreSQL 15 and DuckDB over the same data in the same run, each answer checked against the
//! engine's report, and the ratios; then ingest rates (decoding from SQLite + take, take alone, JSON
//! parsing + take, durable through `Ingest::submit` into SQLite WAL), restart time, snapshot size and
//! memory. Prints Markdown tables for docs/BENCHMARKS.md on stdout; progress goes to stderr.
//!
//!     cockpit-gen --data-dir DIR --days 365 --cases-per-day 2900 --seed 2026 --end 2026-12-02T09:00:00+08:00
//!     INDICATORS_BENCH_DIR=DIR cargo bench -p server --bench indicators
//!
//! (`scripts/bench.sh` does both.) Settings, from the environment:
//! - `INDICATORS_BENCH_DIR` (required): the data directory (`cockpit.db`, `engine.snapshot`)
//! - `INDICATORS_BENCH_QUERIES` (1000): scope × period pairs; each is asked of every report kind
//! - `INDICATORS_BENCH_SQL_QUERIES` (50): flow-report queries of the mix (equal shares per level) each SQL
//!   engine answers; every answer is compared with the engine's report (0: no SQL baselines)
//! - `INDICATORS_BENCH_SQL_SMALL` (40): at least this many of them for villages and for grids each, where
//!   SQL is quickest (an index of the grid) and the ratio is tightest; they cost SQL under a second each
//! - `INDICATORS_BENCH_SEED` (2026): the query mix
//! - `INDICATORS_BENCH_PYTHON` (`target/bench-venv/bin/python3`): a Python with the `duckdb` package
//! - `INDICATORS_BENCH_JSON_EVENTS` (500000), `INDICATORS_BENCH_DURABLE_EVENTS` (100000): ingest samples
//!
//! PostgreSQL runs from Debian's binaries in a temp dir on a free port (`tests/common/peers.rs`; as
//! `nobody` when run as root), DuckDB in `tests/bench/duckdb_flow.py`; both load a CSV export of
//! `cockpit.db` made at the start. The SQL texts are `server/benches/sql/flow_{sqlite,postgres,duckdb}.sql`.
#[path = "../tests/common/peers.rs"]
mod peers;

use app::model::{local_day, FlowFigures, FlowReport, Level, Period, CST_OFFSET_MS, DAY_MS};
use engine::desk::DeskFilter;
use engine::Engine;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use server::case::{CaseDetails, CaseEvent, CaseFacts, Note, Origin};
use server::city::{RegionRow, RegionTree};
use server::store::{FeedStore, SqliteStore, Store};
use sqlx::Row;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const KINDS: [&str; 5] = ["flow report", "wall snapshot", "desk list", "coverage", "public rows"];
/// The server's desk list length (`web/backend.rs`).
const DESK_LIMIT: usize = 100;
/// Events per `replay_after` batch, as the server's recount reads them.
const REPLAY_BATCH: u32 = 50_000;
/// Events per `Ingest::submit` in the durable ingest.
const DURABLE_BATCH: usize = 500;
/// Feeds submitting at once in the second durable run (each with its own cases).
const DURABLE_FEEDS: usize = 8;

/// This thread's major page faults and involuntary context switches so far (/proc/thread-self); zeros
/// where there is none.
fn interruptions() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // After "pid (comm) ": state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt, majflt.
    let rest: Vec<&str> = stat.rsplit_once(") ").map_or(Vec::new(), |(_, r)| r.split_whitespace().collect());
    let majflt = rest.get(9).and_then(|v| v.parse().ok()).unwrap_or(0);
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    let preempted = status.lines().find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    (majflt, preempted)
}

/// What a durable ingest run measured.
struct DurableRun {
    time: Duration,
    stored: usize,
    refused: Option<String>,
    /// Batches submitted, and the store transactions that took them.
    batches: (u64, u64),
}

/// The server's clock in a durable run.
#[derive(Clone, Copy)]
enum DurableClock {
    /// At this instant, after every event: each arrives as history (a feed catching up).
    At(i64),
    /// Set to each batch's latest event before it is submitted: a live feed.
    Following,
}

/// `events` through `Ingest::submit` into a fresh store by `feeds` submitters at once: the events are
/// split by case (a feed owns its cases), each submitter's in their stored order, `DURABLE_BATCH` a batch.
async fn durable_run(rows: &[RegionRow], tree: &Arc<RegionTree>, clock: DurableClock, events: &[CaseEvent], feeds: usize) -> DurableRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(dir.path()).await.expect("temp store"));
    store.save_regions(rows).await.expect("regions");
    let engine = Arc::new(RwLock::new(Engine::new(tree.clone())));
    let (changed, _) = tokio::sync::watch::channel(0);
    let start = match clock {
        DurableClock::At(now) => now,
        DurableClock::Following => events.iter().map(|e| e.at).min().unwrap_or(0),
    };
    let server_clock = server::clock::Clock::manual(start);
    let ingest = server::ingest::Ingest::new(store.clone(), tree.clone(), engine, changed, server_clock.clone());
    let mut parts: Vec<Vec<CaseEvent>> = vec![Vec::new(); feeds];
    for e in events {
        let h = e.case_id.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        parts[(h % feeds as u64) as usize].push(e.clone());
    }
    let t = Instant::now();
    let tasks: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let (ingest, server_clock) = (ingest.clone(), server_clock.clone());
            tokio::spawn(async move {
                let (mut stored, mut refused) = (0usize, None);
                for chunk in part.chunks(DURABLE_BATCH) {
                    if let DurableClock::Following = clock {
                        server_clock.set(chunk.iter().map(|e| e.at).max().unwrap_or(0));
                    }
                    for o in ingest.submit(chunk.to_vec()).await.expect("submit") {
                        match o {
                            server::case::Outcome::Stored => stored += 1,
                            server::case::Outcome::Rejected(why) if refused.is_none() => refused = Some(why),
                            _ => {}
                        }
                    }
                }
                (stored, refused)
            })
        })
        .collect();
    let mut run = DurableRun { time: Duration::ZERO, stored: 0, refused: None, batches: (0, 0) };
    for task in tasks {
        let (stored, refused) = task.await.expect("submitter");
        run.stored += stored;
        run.refused = run.refused.or(refused);
    }
    run.time = t.elapsed();
    run.batches = ingest.batch_counts();
    run
}

/// The same-run baseline of the durable runs: `events` as rows of one plain table (no index, no key, no
/// check), `DURABLE_BATCH` a transaction, on a fresh file with the store's journal and sync settings. It
/// is what this disk allows on this day; the durable runs are read against it.
async fn plain_appends(events: &[CaseEvent]) -> Duration {
    use sqlx::{ConnectOptions, Connection};
    let dir = tempfile::tempdir().expect("temp dir");
    let mut conn = server::store::sqlite_connect_options(&dir.path().join("plain.db"))
        .create_if_missing(true)
        .connect()
        .await
        .expect("plain store");
    sqlx::query("CREATE TABLE e (feed TEXT, case_id TEXT, origin TEXT, seq INTEGER, action TEXT, status TEXT, at INTEGER, actor TEXT, note TEXT)")
        .execute(&mut conn)
        .await
        .expect("plain table");
    let t = Instant::now();
    for chunk in events.chunks(DURABLE_BATCH) {
        let mut tx = conn.begin().await.expect("begin");
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO e (feed, case_id, origin, seq, action, status, at, actor, note) ");
        q.push_values(chunk, |mut b, e| {
            let note = e.note.as_ref();
            b.push_bind(&e.feed)
                .push_bind(&e.case_id)
                .push_bind(e.origin.as_str())
                .push_bind(i64::from(e.seq))
                .push_bind(e.action.as_str())
                .push_bind(e.status.as_str())
                .push_bind(e.at)
                .push_bind(note.map(|n| n.actor.as_str()))
                .push_bind(note.map(|n| n.text.as_str()));
        });
        q.build().execute(&mut *tx).await.expect("plain insert");
        tx.commit().await.expect("commit");
    }
    t.elapsed()
}

fn env_usize(key: &str, default: usize) -> usize {
    match std::env::var(key) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{key} must be a whole number, not {v:?}")),
        Err(_) => default,
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the server crate sits in the workspace").to_path_buf()
}

fn log(what: impl std::fmt::Display) {
    eprintln!("[indicators] {what}");
}

/// splitmix64: a small seeded generator, so the mix is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn midnight(day: i64) -> i64 {
    day * DAY_MS - CST_OFFSET_MS
}

fn day_name(day: i64) -> String {
    app::model::date_time(midnight(day))[..10].to_string()
}

/// VmRSS or VmHWM of this process, in MiB.
fn vm(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Adds a section of the Markdown output, and shows it on stderr at once (a city-year run is long).
fn emit(md: &mut Vec<String>, section: String) {
    eprintln!("{section}");
    md.push(section);
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn sorted(v: impl IntoIterator<Item = Duration>) -> Vec<Duration> {
    let mut v: Vec<Duration> = v.into_iter().collect();
    v.sort_unstable();
    v
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1e3;
    if m < 1.0 {
        format!("{m:.3}")
    } else if m < 100.0 {
        format!("{m:.2}")
    } else {
        format!("{m:.0}")
    }
}

fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n.round());
    let (sign, digits) = if let Some(d) = s.strip_prefix('-') { ("-", d) } else { ("", s.as_str()) };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn ratio(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 100.0 {
        thousands(x)
    } else {
        format!("{x:.1}")
    }
}

// ------------------------------------------------------------------------------------------ queries

#[derive(Clone, Copy, Debug)]
struct Query {
    region: usize,
    level: Level,
    period: Period,
}

fn describe(p: Period) -> String {
    match p {
        Period::LastDays(n) => format!("last {n} days"),
        Period::Year(y) => format!("year({y})"),
        Period::Dates { from, to } => format!("{}..{}", day_name(local_day(from)), day_name(local_day(to) - 1)),
    }
}

/// `queries` pairs: levels in equal shares (then shuffled), a random region of the level, and a period:
/// the last 1–365 days, a range of whole days of 1–365 days starting inside the data, or this year.
fn query_mix(tree: &RegionTree, n: usize, seed: u64, first_day: i64, today: i64) -> Vec<Query> {
    let mut rng = Rng(seed);
    let by_level: Vec<Vec<usize>> = Level::ALL.iter().map(|l| tree.iter().filter(|(_, r)| r.row.level == *l).map(|(i, _)| i).collect()).collect();
    let mut mix: Vec<Query> = (0..n)
        .map(|k| {
            let level = Level::ALL[k % 5];
            let pool = &by_level[k % 5];
            let region = pool[rng.below(pool.len() as u64) as usize];
            let period = match rng.below(100) {
                0..45 => Period::LastDays(1 + rng.below(365) as u32),
                45..90 => {
                    let from = first_day + rng.below((today - first_day + 1) as u64) as i64;
                    let to = (from + 1 + rng.below(365) as i64).min(today + 1);
                    Period::Dates { from: midnight(from), to: midnight(to) }
                }
                _ => Period::Year(0),
            };
            Query { region, level, period }
        })
        .collect();
    for i in (1..mix.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        mix.swap(i, j);
    }
    mix
}

// ------------------------------------------------------------------------------------------ SQL

/// The statements of a SQL file: comment lines dropped, split at a `;` ending a line.
fn statements(text: &str) -> Vec<String> {
    let body: String = text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n") + "\n";
    body.split(";\n").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn substitute(sql: &str, params: &[(String, String)]) -> String {
    let mut s = sql.to_string();
    for (k, v) in params {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

fn sql_file(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/sql").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The prefix every grid code of `region` has, and no grid outside it: the longest common prefix of its
/// grids' codes (the city 330600's grids start with 3306). Checked against every grid of the tree.
fn scope_prefix(tree: &RegionTree, all_grids: &[String], region: usize) -> String {
    let grids = tree.grids_under(region);
    let codes: Vec<&str> = grids.iter().map(|&g| tree.get(g).row.code.as_str()).collect();
    let mut prefix = codes.first().copied().unwrap_or("").to_string();
    for c in &codes {
        while !c.starts_with(prefix.as_str()) {
            prefix.pop();
        }
    }
    let hi = format!("{prefix}~");
    let inside = all_grids.partition_point(|c| c.as_str() < hi.as_str()) - all_grids.partition_point(|c| c.as_str() < prefix.as_str());
    assert_eq!(inside, codes.len(), "region {}: the grids with prefix {prefix} are not exactly its grids", tree.get(region).row.code);
    // Each grid's child region (the breakdown by area) is the one whose code its code starts with.
    let r = tree.get(region);
    for &ch in &r.children {
        let code = &tree.get(ch).row.code;
        for &g in tree.grids_under(ch) {
            assert!(tree.get(g).row.code.starts_with(code.as_str()), "grid {} does not start with its area's code {code}", tree.get(g).row.code);
        }
    }
    prefix
}

/// The first instant after the Shanghai day that holds `at`.
fn day_end(at: i64) -> i64 {
    (local_day(at) + 1) * DAY_MS - CST_OFFSET_MS
}

/// The literals the SQL texts take for one query (see the head of `flow_sqlite.sql`).
fn sql_params(tree: &RegionTree, prefix: &str, q: &Query, now: i64) -> Vec<(String, String)> {
    let (f, t) = q.period.window(now);
    let t = t.max(f);
    // As engine/src/report.rs: the period before has as many days and ends at the same time of day; the
    // year before is 365 days earlier.
    let span = if t > f { local_day(t - 1) - local_day(f) + 1 } else { 0 };
    let (pf, pt) = (f - span * DAY_MS, t - span * DAY_MS);
    let (yf, yt) = (f - 365 * DAY_MS, t - 365 * DAY_MS);
    let r = tree.get(q.region);
    let child_len = r.children.first().map_or(0, |&c| tree.get(c).row.code.len());
    assert!(r.children.iter().all(|&c| tree.get(c).row.code.len() == child_len), "children of {} have codes of different lengths", r.row.code);
    assert!(prefix.bytes().all(|b| b.is_ascii_digit()), "region codes are digits");
    [
        ("lo", format!("'{prefix}'")),
        ("hi", format!("'{prefix}~'")),
        ("child_len", child_len.to_string()),
        ("f", f.to_string()),
        ("t", t.to_string()),
        ("pf", pf.to_string()),
        ("pt", pt.to_string()),
        ("yf", yf.to_string()),
        ("yt", yt.to_string()),
        // A comparison is made when the first stored report falls before the end of the compared
        // period's first day (engine/src/report.rs, `covered`).
        ("pc", day_end(pf).to_string()),
        ("yc", day_end(yf).to_string()),
        // SQLite only (see the head of flow_sqlite.sql): read the events first for the city.
        ("join", if q.level == Level::City { "CROSS JOIN" } else { "JOIN" }.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// One row of a SQL answer: (part, key, values).
#[derive(Clone, Debug)]
struct SqlRow {
    part: String,
    key: String,
    v: Vec<i64>,
}

/// A flow report reduced to what both sides compute, in one shape.
#[derive(Debug, Default, PartialEq)]
struct Answer {
    main: FlowFigures,
    prev: Option<FlowFigures>,
    year: Option<FlowFigures>,
    /// (child | category | source | department, key) → figures; rows with every figure 0 left out.
    rows: BTreeMap<(String, String), FlowFigures>,
    links: BTreeMap<String, i64>,
    /// status left → (count, median, p90)
    stages: BTreeMap<String, (i64, i64, i64)>,
    mediation: BTreeMap<String, (i64, i64)>,
    backlog: Vec<i64>,
}

fn figures(v: &[i64]) -> FlowFigures {
    let g = |i: usize| v.get(i).copied().unwrap_or(0);
    let u = |x: i64| x.clamp(0, i64::from(u32::MAX)) as u32;
    FlowFigures {
        reported: u(g(0)),
        closed: u(g(1)),
        due: u(g(2)),
        on_time: u(g(3)),
        late_closed: u(g(4)),
        late_open: u(g(2) - g(3) - g(4)),
        open_end: u(g(5)),
        overdue_end: u(g(6)),
        supervised: u(g(7)),
        escalated: u(g(8)),
        returned: u(g(9)),
    }
}

fn from_sql(rows: &[SqlRow]) -> Answer {
    let mut a = Answer { backlog: vec![0; 5], ..Answer::default() };
    let (mut prev, mut year) = (None, None);
    let (mut has_prev, mut has_year) = (false, false);
    for r in rows {
        let g = |i: usize| r.v.get(i).copied().unwrap_or(0);
        match r.part.as_str() {
            "main" => a.main = figures(&r.v),
            "prev" => prev = Some(figures(&r.v)),
            "year" => year = Some(figures(&r.v)),
            "year_flag" => has_year = g(0) != 0,
            "prev_flag" => has_prev = g(0) != 0,
            "child" | "category" | "source" | "department" => {
                let f = figures(&r.v);
                if f != FlowFigures::default() {
                    a.rows.insert((r.part.clone(), r.key.clone()), f);
                }
            }
            "backlog" => a.backlog = (0..5).map(g).collect(),
            "link" => {
                if g(0) > 0 {
                    a.links.insert(r.key.clone(), g(0));
                }
            }
            "stage" => {
                a.stages.insert(r.key.clone(), (g(0), g(1), g(2)));
            }
            "mediation" => {
                if g(0) > 0 {
                    a.mediation.insert(r.key.clone(), (g(0), g(1)));
                }
            }
            other => panic!("unknown part {other:?} in a SQL answer"),
        }
    }
    a.prev = if has_prev { Some(prev.unwrap_or_default()) } else { None };
    a.year = if has_year { Some(year.unwrap_or_default()) } else { None };
    a
}

fn from_report(r: &FlowReport) -> Answer {
    let mut rows = BTreeMap::new();
    for (part, list) in [("child", &r.by_region), ("category", &r.by_category), ("source", &r.by_source), ("department", &r.by_department)] {
        for row in list.iter().filter(|x| x.figures != FlowFigures::default()) {
            rows.insert((part.to_string(), row.key.clone()), row.figures.clone());
        }
    }
    Answer {
        main: r.figures.clone(),
        prev: r.previous.clone(),
        year: r.year_ago.clone(),
        rows,
        links: r.links.iter().map(|l| (format!("{}>{}", l.from.as_str(), l.to.as_str()), i64::from(l.count))).collect(),
        stages: r.stages.iter().map(|s| (s.status.as_str().to_string(), (i64::from(s.count), s.median_ms, s.p90_ms))).collect(),
        mediation: r.mediation.iter().map(|m| (m.tier.as_str().to_string(), (i64::from(m.attempts), i64::from(m.settled)))).collect(),
        backlog: r.backlog.iter().map(|&b| i64::from(b)).collect(),
    }
}

/// Where a SQL answer differs from the engine's report. Counts must be equal; stage durations too when
/// the engine scanned them exactly (`quantile_error` 0), else within its sketches' bound.
fn compare(engine: &Answer, sql: &Answer, quantile_error: f64) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: engine {a} | SQL {b}"));
        }
    };
    check("figures", format!("{:?}", engine.main), format!("{:?}", sql.main));
    check("previous (环比)", format!("{:?}", engine.prev), format!("{:?}", sql.prev));
    check("year ago (同比)", format!("{:?}", engine.year), format!("{:?}", sql.year));
    let keys: std::collections::BTreeSet<_> = engine.rows.keys().chain(sql.rows.keys()).collect();
    for k in keys {
        check(&format!("{} {}", k.0, k.1), format!("{:?}", engine.rows.get(k)), format!("{:?}", sql.rows.get(k)));
    }
    check("links", format!("{:?}", engine.links), format!("{:?}", sql.links));
    check("mediation", format!("{:?}", engine.mediation), format!("{:?}", sql.mediation));
    check("backlog", format!("{:?}", engine.backlog), format!("{:?}", sql.backlog));
    let stages: std::collections::BTreeSet<_> = engine.stages.keys().chain(sql.stages.keys()).collect();
    for s in stages {
        let (a, b) = (engine.stages.get(s), sql.stages.get(s));
        let ok = match (a, b) {
            (Some(&(n1, m1, p1)), Some(&(n2, m2, p2))) => {
                let near = |x: i64, exact: i64| (x - exact).abs() as f64 <= quantile_error * exact as f64 + 1.0;
                n1 == n2 && if quantile_error == 0.0 { m1 == m2 && p1 == p2 } else { near(m1, m2) && near(p1, p2) }
            }
            _ => false,
        };
        if !ok {
            out.push(format!("stage {s} (count, median, p90): engine {a:?} | SQL {b:?} (bound {quantile_error})"));
        }
    }
    out
}

/// An integer cell (NULL: 0): SQLite and PostgreSQL return 64-bit integers, PostgreSQL's literals 32-bit.
macro_rules! int_at {
    ($r:expr, $i:expr) => {
        $r.try_get::<Option<i64>, _>($i).ok().flatten().or_else(|| $r.try_get::<Option<i32>, _>($i).ok().flatten().map(i64::from)).unwrap_or(0)
    };
}

async fn answer_sqlite(pool: &sqlx::SqlitePool, flow: &[String], params: &[(String, String)]) -> Vec<SqlRow> {
    let mut out = Vec::new();
    for s in flow {
        let sql = substitute(s, params);
        let rows = sqlx::query(&sql).persistent(false).fetch_all(pool).await.unwrap_or_else(|e| panic!("SQLite: {e}\n{sql}"));
        for r in rows {
            out.push(SqlRow { part: r.get(0), key: r.try_get::<Option<String>, _>(1).ok().flatten().unwrap_or_default(), v: (2..r.len()).map(|i| int_at!(r, i)).collect() });
        }
    }
    out
}

async fn answer_postgres(pool: &sqlx::PgPool, flow: &[String], params: &[(String, String)]) -> Vec<SqlRow> {
    let mut out = Vec::new();
    for s in flow {
        let sql = substitute(s, params);
        let rows = sqlx::query(&sql).persistent(false).fetch_all(pool).await.unwrap_or_else(|e| panic!("PostgreSQL: {e}\n{sql}"));
        for r in rows {
            out.push(SqlRow { part: r.get(0), key: r.try_get::<Option<String>, _>(1).ok().flatten().unwrap_or_default(), v: (2..r.len()).map(|i| int_at!(r, i)).collect() });
        }
    }
    out
}

/// Writes `cases`, `case_events` and `regions` of cockpit.db as CSV (header, empty field for NULL).
async fn export_csv(pool: &sqlx::SqlitePool, dir: &Path) -> (usize, usize) {
    async fn table(pool: &sqlx::SqlitePool, path: &Path, sql: &str, text: &[bool]) -> usize {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("CSV file")));
        let mut rows = sqlx::query(sql).fetch(pool);
        let mut n = 0;
        let mut header = false;
        while let Some(r) = rows.try_next().await.expect("reading cockpit.db") {
            if !header {
                w.write_record(r.columns().iter().map(|c| sqlx::Column::name(c))).expect("CSV");
                header = true;
            }
            let fields: Vec<String> = (0..text.len())
                .map(|i| if text[i] { r.get::<Option<String>, _>(i).unwrap_or_default() } else { r.get::<Option<i64>, _>(i).map(|x| x.to_string()).unwrap_or_default() })
                .collect();
            w.write_record(&fields).expect("CSV");
            n += 1;
        }
        w.flush().expect("CSV");
        n
    }
    table(pool, &dir.join("regions.csv"), "SELECT code, parent, level, name FROM regions ORDER BY ord", &[true; 4]).await;
    let cases = table(
        pool,
        &dir.join("cases.csv"),
        "SELECT feed, case_id, category, source, grid, reported_at, deadline, status, seq, closed_at, department, priority, warn_at, escalations, supervised FROM cases",
        &[true, true, true, true, true, false, false, true, false, false, true, true, false, false, false],
    )
    .await;
    let events = table(
        pool,
        &dir.join("case_events.csv"),
        "SELECT id, feed, case_id, origin, seq, action, status, at, tier, outcome FROM case_events ORDER BY id",
        &[false, true, true, true, false, true, true, false, true, true],
    )
    .await;
    (cases, events)
}

struct Baseline {
    name: &'static str,
    /// Per query of the SQL list, or None when the engine could not run.
    timings: Vec<Duration>,
    answers: Vec<Vec<SqlRow>>,
    note: String,
}

async fn run_sqlite(dir: &Path, flow: &[String], params: &[Vec<(String, String)>], warmup: usize) -> Baseline {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    // Its best case, more than the store gives its readers: a 64 MiB page cache and the file mapped.
    let opts = SqliteConnectOptions::new().filename(dir.join("cockpit.db")).pragma("cache_size", "-65536").pragma("mmap_size", "1073741824");
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.expect("open cockpit.db");
    for p in params.iter().take(warmup) {
        answer_sqlite(&pool, flow, p).await;
    }
    let (mut timings, mut answers) = (Vec::new(), Vec::new());
    for (k, p) in params.iter().enumerate() {
        let t = Instant::now();
        let a = answer_sqlite(&pool, flow, p).await;
        timings.push(t.elapsed());
        answers.push(a);
        if (k + 1) % 10 == 0 {
            log(format!("sqlite: {}/{} queries", k + 1, params.len()));
        }
    }
    let version: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&pool).await.unwrap_or_default();
    pool.close().await;
    Baseline { name: "SQLite", timings, answers, note: format!("SQLite {version} (sqlx, bundled), cockpit.db as the store keeps it, 1 connection") }
}

async fn run_postgres(csv: &Path, flow: &[String], params: &[Vec<(String, String)>], warmup: usize) -> Result<Baseline, String> {
    use sqlx::postgres::{PgPoolCopyExt, PgPoolOptions};
    if !Path::new("/usr/lib/postgresql").exists() {
        return Err("PostgreSQL is not installed (scripts/lib.sh ensure_test_peers installs it)".into());
    }
    // The CSV files must be readable by the server process (`nobody` when run as root): streamed by COPY
    // FROM STDIN, so they never need to be.
    let mut pg = peers::Pg::new().await;
    {
        let admin = PgPoolOptions::new().max_connections(1).connect(&pg.url()).await.map_err(|e| e.to_string())?;
        // Memory for a city-year: the tables and indexes fit in shared buffers, sorts and hashes in work_mem.
        for s in [
            "ALTER SYSTEM SET shared_buffers = '3GB'",
            "ALTER SYSTEM SET work_mem = '256MB'",
            "ALTER SYSTEM SET maintenance_work_mem = '1GB'",
            "ALTER SYSTEM SET effective_cache_size = '12GB'",
            "ALTER SYSTEM SET max_wal_size = '8GB'",
        ] {
            sqlx::raw_sql(s).execute(&admin).await.map_err(|e| format!("{s}: {e}"))?;
        }
        admin.close().await;
    }
    pg.stop();
    pg.start().await;
    let pool = PgPoolOptions::new().max_connections(1).connect(&pg.url()).await.map_err(|e| e.to_string())?;
    let t = Instant::now();
    for s in statements(&sql_file("load_postgres.sql")) {
        if s.starts_with("COPY ") {
            let table = s.split_whitespace().nth(1).expect("COPY names its table");
            let mut copy = pool.copy_in_raw(&s).await.map_err(|e| format!("{s}: {e}"))?;
            use std::io::Read;
            let mut f = std::fs::File::open(csv.join(format!("{table}.csv"))).map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                copy.send(&buf[..n]).await.map_err(|e| format!("COPY {table}: {e}"))?;
            }
            copy.finish().await.map_err(|e| format!("COPY {table}: {e}"))?;
        } else {
            sqlx::raw_sql(&s).execute(&pool).await.map_err(|e| format!("{s}: {e}"))?;
        }
    }
    let load = t.elapsed();
    log(format!("postgres: loaded and indexed in {:.1} s", load.as_secs_f64()));
    for p in params.iter().take(warmup) {
        answer_postgres(&pool, flow, p).await;
    }
    let (mut timings, mut answers) = (Vec::new(), Vec::new());
    for (k, p) in params.iter().enumerate() {
        let t = Instant::now();
        let a = answer_postgres(&pool, flow, p).await;
        timings.push(t.elapsed());
        answers.push(a);
        if (k + 1) % 10 == 0 {
            log(format!("postgres: {}/{} queries", k + 1, params.len()));
        }
    }
    let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&pool).await.unwrap_or_default();
    let workers: String = sqlx::query_scalar("SHOW max_parallel_workers_per_gather").fetch_one(&pool).await.unwrap_or_default();
    let jit: String = sqlx::query_scalar("SHOW jit").fetch_one(&pool).await.unwrap_or_default();
    pool.close().await;
    drop(pg);
    Ok(Baseline {
        name: "PostgreSQL",
        timings,
        answers,
        note: format!(
            "PostgreSQL {version}, shared_buffers 3 GB, work_mem 256 MB, {workers} parallel workers per gather, jit {jit}; indexes on cases (feed, case_id), (grid), (reported_at), (department, status) and case_events (id), (feed, case_id, origin, seq), (at); loaded by COPY, indexed and analysed in {:.0} s (not timed)",
            load.as_secs_f64()
        ),
    })
}

#[derive(Deserialize)]
struct DuckOut {
    duckdb: String,
    threads: serde_json::Value,
    load_s: f64,
    timings_ms: Vec<f64>,
    results: Vec<Vec<Vec<serde_json::Value>>>,
}

fn run_duckdb(csv: &Path, work: &Path, params: &[Vec<(String, String)>], warmup: usize) -> Result<Baseline, String> {
    let python = std::env::var_os("INDICATORS_BENCH_PYTHON").map(PathBuf::from).unwrap_or_else(|| root().join("target/bench-venv/bin/python3"));
    if !python.exists() {
        return Err(format!("{} is missing (python3 -m venv target/bench-venv && target/bench-venv/bin/pip install duckdb)", python.display()));
    }
    let queries = serde_json::json!({
        "warmup": warmup,
        "queries": params.iter().enumerate().map(|(i, p)| serde_json::json!({
            "i": i,
            "params": p.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
    });
    let qfile = work.join("queries.json");
    let out = work.join("duckdb.json");
    std::fs::write(&qfile, serde_json::to_vec(&queries).expect("JSON")).map_err(|e| e.to_string())?;
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/sql");
    let status = std::process::Command::new(&python)
        .arg(root().join("tests/bench/duckdb_flow.py"))
        .arg("--csv")
        .arg(csv)
        .arg("--load")
        .arg(sql.join("load_duckdb.sql"))
        .arg("--sql")
        .arg(sql.join("flow_duckdb.sql"))
        .arg("--queries")
        .arg(&qfile)
        .arg("--out")
        .arg(&out)
        .status()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !status.success() {
        return Err(format!("duckdb_flow.py failed ({status})"));
    }
    let o: DuckOut = serde_json::from_slice(&std::fs::read(&out).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let answers = o
        .results
        .iter()
        .map(|rows| {
            rows.iter()
                .map(|r| SqlRow {
                    part: r[0].as_str().unwrap_or_default().to_string(),
                    key: r[1].as_str().unwrap_or_default().to_string(),
                    v: r[2..].iter().map(|x| x.as_i64().unwrap_or(0)).collect(),
                })
                .collect()
        })
        .collect();
    Ok(Baseline {
        name: "DuckDB",
        timings: o.timings_ms.iter().map(|&m| Duration::from_secs_f64(m / 1e3)).collect(),
        answers,
        note: format!("DuckDB {} (Python, in memory, {} threads); loaded from CSV in {:.0} s (not timed)", o.duckdb, o.threads, o.load_s),
    })
}

// ------------------------------------------------------------------------------------------ ingest

/// A case event as a feed might send it, one JSON object a line.
#[derive(Serialize, Deserialize)]
struct WireEvent {
    feed: String,
    case_id: String,
    origin: String,
    seq: u32,
    action: String,
    status: String,
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    facts: Option<WireFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mediation: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WireFacts {
    category: String,
    source: String,
    grid: String,
    reported_at: i64,
    priority: String,
    warn_at: i64,
    deadline: i64,
    department: Option<String>,
}

impl WireEvent {
    fn from_event(e: &CaseEvent) -> WireEvent {
        WireEvent {
            feed: e.feed.clone(),
            case_id: e.case_id.clone(),
            origin: e.origin.as_str().into(),
            seq: e.seq,
            action: e.action.as_str().into(),
            status: e.status.as_str().into(),
            at: e.at,
            facts: e.facts.as_ref().map(|f| WireFacts {
                category: f.category.as_str().into(),
                source: f.source.as_str().into(),
                grid: f.grid.clone(),
                reported_at: f.reported_at,
                priority: f.priority.as_str().into(),
                warn_at: f.warn_at,
                deadline: f.deadline,
                department: f.details.department.clone(),
            }),
            mediation: e.mediation.map(|m| (m.tier.as_str().into(), m.outcome.as_str().into())),
            actor: e.note.as_ref().map(|n| n.actor.clone()),
        }
    }

    fn into_event(self) -> CaseEvent {
        let bad = |what: &str| -> ! { panic!("a JSON event with a bad {what}") };
        CaseEvent {
            origin: Origin::parse(&self.origin).unwrap_or_else(|| bad("origin")),
            seq: self.seq,
            action: app::flow::Action::parse(&self.action).unwrap_or_else(|| bad("action")),
            status: app::model::Status::parse(&self.status).unwrap_or_else(|| bad("status")),
            at: self.at,
            facts: self.facts.map(|f| CaseFacts {
                category: app::model::Category::parse(&f.category).unwrap_or_else(|| bad("category")),
                source: app::model::Source::parse(&f.source).unwrap_or_else(|| bad("source")),
                grid: f.grid,
                reported_at: f.reported_at,
                priority: app::flow::Priority::parse(&f.priority).unwrap_or_else(|| bad("priority")),
                warn_at: f.warn_at,
                deadline: f.deadline,
                details: CaseDetails { department: f.department, ..Default::default() },
            }),
            mediation: self.mediation.map(|(t, o)| app::flow::Mediation {
                tier: app::flow::Tier::parse(&t).unwrap_or_else(|| bad("tier")),
                outcome: app::flow::Outcome::parse(&o).unwrap_or_else(|| bad("outcome")),
            }),
            note: self.actor.map(|actor| Note { actor, text: String::new() }),
            feed: self.feed,
            case_id: self.case_id,
        }
    }
}

/// A stored event as a source (or an official) delivers it: facts only on the report, who acted on an
/// oversight action.
fn as_delivered(mut e: CaseEvent) -> CaseEvent {
    if !(e.origin == Origin::Feed && e.action == app::flow::Action::Report) {
        e.facts = None;
    }
    if e.origin == Origin::Desk && e.note.is_none() {
        e.note = Some(Note { actor: "leader".into(), text: String::new() });
    }
    e
}

// ------------------------------------------------------------------------------------------ main

fn main() {
    let Some(dir) = std::env::var_os("INDICATORS_BENCH_DIR").map(PathBuf::from) else {
        eprintln!(
            "INDICATORS_BENCH_DIR is not set: it names a data directory made by cockpit-gen, e.g.\n  \
             cargo build --release -p server --bin cockpit-gen\n  \
             target/release/cockpit-gen --data-dir /tmp/city-year --days 365 --cases-per-day 2900 --seed 2026 --end 2026-12-02T09:00:00+08:00\n  \
             INDICATORS_BENCH_DIR=/tmp/city-year cargo bench -p server --bench indicators\n\
             (scripts/bench.sh does all of it)"
        );
        std::process::exit(2);
    };
    for f in ["cockpit.db", "engine.snapshot"] {
        if !dir.join(f).exists() {
            eprintln!("INDICATORS_BENCH_DIR={}: there is no {f} (make it with cockpit-gen)", dir.display());
            std::process::exit(2);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    rt.block_on(run(dir));
}

async fn run(dir: PathBuf) {
    let nqueries = env_usize("INDICATORS_BENCH_QUERIES", 1000);
    let nsql = env_usize("INDICATORS_BENCH_SQL_QUERIES", 50);
    let nsmall = env_usize("INDICATORS_BENCH_SQL_SMALL", 40);
    let seed = env_usize("INDICATORS_BENCH_SEED", 2026) as u64;
    let json_events = env_usize("INDICATORS_BENCH_JSON_EVENTS", 500_000);
    let durable_events = env_usize("INDICATORS_BENCH_DURABLE_EVENTS", 100_000);
    let mut md: Vec<String> = Vec::new();

    // ---- load
    let rss_start = vm("VmRSS");
    let store = SqliteStore::open(&dir).await.expect("open the store");
    let rows: Vec<RegionRow> = store.load_regions().await.expect("regions");
    let tree = Arc::new(RegionTree::new(rows.clone()).expect("region tree"));
    let rss_tree = vm("VmRSS");
    let snap = server::indicators::snapshot_path(&dir);
    let snap_size = std::fs::metadata(&snap).expect("snapshot").len();
    let load = |tree: Arc<RegionTree>| {
        let f = std::fs::File::open(&snap).expect("snapshot");
        Engine::load(tree, std::io::BufReader::with_capacity(1 << 20, f), snap_size)
            .unwrap_or_else(|e| panic!("{}: {e} (make the data again with this build's cockpit-gen)", snap.display()))
    };
    let t = Instant::now();
    let (mut engine, positions) = load(tree.clone());
    let load_time = t.elapsed();
    let stored_events: i64 = store.replay_position().await.expect("position");
    let at_events = positions.iter().find(|(n, _)| n == "case_events").map_or(0, |p| p.1);
    let mut tail = 0;
    if at_events < stored_events {
        let mut pos = at_events;
        loop {
            let batch = store.replay_after(pos, REPLAY_BATCH).await.expect("replay");
            let Some(&(last, _)) = batch.last() else { break };
            for (_, e) in &batch {
                engine.take(e);
            }
            tail += batch.len();
            pos = last;
        }
    }
    let rss_loaded = vm("VmRSS");
    let now = engine.now();
    let pool = store.pool().clone();
    let (first_report, cases_stored, events_stored): (i64, i64, i64) =
        sqlx::query_as("SELECT (SELECT MIN(reported_at) FROM case_facts), (SELECT COUNT(*) FROM case_facts), (SELECT COUNT(*) FROM case_events)")
            .fetch_one(&pool)
            .await
            .expect("counts");
    let db_bytes: u64 = ["cockpit.db", "cockpit.db-wal"].iter().filter_map(|f| std::fs::metadata(dir.join(f)).ok()).map(|m| m.len()).sum();
    let (first_day, today) = (local_day(first_report), local_day(now));
    log(format!(
        "loaded {} cases ({} events stored, tail {tail}) in {:.2} s; now {}; data {}..{}",
        engine.case_count(),
        events_stored,
        load_time.as_secs_f64(),
        app::model::date_time(now),
        day_name(first_day),
        day_name(today)
    ));
    emit(&mut md, "## Indicator engine: queries against SQL, ingest, restart, memory\n".into());
    emit(&mut md, format!(
        "Data: `cockpit-gen` city-year in `{}`: {} days ({} .. {}), {} cases, {} case events, {} regions ({} grids); \
         engine horizon {} (Asia/Shanghai). SQLite file {:.0} MiB; engine snapshot {:.1} MiB.\n",
        dir.display(),
        today - first_day + 1,
        day_name(first_day),
        day_name(today),
        thousands(cases_stored as f64),
        thousands(events_stored as f64),
        thousands(tree.len() as f64),
        thousands(tree.iter().filter(|(_, r)| r.row.level == Level::Grid).count() as f64),
        app::model::date_time(now),
        db_bytes as f64 / 1048576.0,
        snap_size as f64 / 1048576.0,
    ));

    // ---- the query mix on the engine
    let mix = query_mix(&tree, nqueries, seed, first_day, today);
    let run_kind = |e: &Engine, q: &Query, kind: usize| {
        match kind {
            0 => drop(black_box(e.flow_report(q.region, q.period))),
            1 => drop(black_box(e.snapshot(q.region))),
            2 => drop(black_box(e.alerting(&DeskFilter { region: q.region, department: None, limit: DESK_LIMIT, queue: engine::desk::Queue::Alerting }))),
            3 => {
                let (f, t) = q.period.window(now);
                let days = ((t - f + DAY_MS - 1) / DAY_MS).clamp(1, 92) as u32;
                drop(black_box(e.coverage(q.region, now, days)))
            }
            _ => drop(black_box(e.public_rows())),
        }
    };
    let run_one = |e: &Engine, q: &Query, kind: usize| -> Duration {
        let t = Instant::now();
        run_kind(e, q, kind);
        t.elapsed()
    };
    log(format!("engine: {} scope × period pairs × {} report kinds", mix.len(), KINDS.len()));
    for q in mix.iter().take(100) {
        for k in 0..KINDS.len() {
            run_one(&engine, q, k);
        }
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(mix.len()); KINDS.len()];
    // Page faults and preemptions each call met (read outside its timing): a call that had to bring a
    // page back from disk, or lost the core to another process, says so instead of passing for a slow
    // query.
    let mut interrupted: Vec<Vec<(u64, u64)>> = vec![Vec::with_capacity(mix.len()); KINDS.len()];
    let t_all = Instant::now();
    for q in &mix {
        for (k, v) in times.iter_mut().enumerate() {
            let before = interruptions();
            v.push(run_one(&engine, q, k));
            let after = interruptions();
            interrupted[k].push((after.0 - before.0, after.1 - before.1));
        }
    }
    let engine_wall = t_all.elapsed();
    let flow_json_bytes: usize = mix.iter().take(200).map(|q| serde_json::to_vec(&engine.flow_report(q.region, q.period)).map_or(0, |v| v.len())).sum::<usize>() / mix.len().clamp(1, 200);
    emit(&mut md, format!(
        "### Engine: {} queries ({} scope × period pairs × {} report kinds), one thread\n\n\
         Mix (seed {seed}): a region drawn at random at each level in equal shares (city, district, town, village, grid), a \
         period of the last 1–365 days (45 %), whole days from a random day inside the data for 1–365 days (45 %) or this \
         year so far (10 %); every pair asked of every report kind, interleaved, after 100 pairs of warm-up. Times are the \
         engine call alone (`Instant` around it, result dropped): what the server spends before serialising. A flow report is \
         {} bytes of JSON on average. All {} calls took {:.1} s.\n",
        thousands((mix.len() * KINDS.len()) as f64),
        thousands(mix.len() as f64),
        KINDS.len(),
        thousands(flow_json_bytes as f64),
        thousands((mix.len() * KINDS.len()) as f64),
        engine_wall.as_secs_f64()
    ));
    let mut t = String::from("| report | engine call | queries | p50 ms | p99 ms | max ms | mean ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    let calls = ["`flow_report(region, period)`", "`snapshot(region)`", "`alerting(region, limit 100)`", "`coverage(region, now, days ≤ 92)`", "`public_rows()`"];
    for (k, name) in KINDS.iter().enumerate() {
        let s = sorted(times[k].iter().copied());
        let mean = s.iter().sum::<Duration>() / s.len().max(1) as u32;
        t += &format!("| {name} | {} | {} | {} | {} | {} | {} |\n", calls[k], s.len(), ms(pct(&s, 0.5)), ms(pct(&s, 0.99)), ms(*s.last().unwrap_or(&Duration::ZERO)), ms(mean));
    }
    emit(&mut md, t);
    let mut t = String::from("By level of the region asked (p50 / p99 / max, ms; public rows take no region):\n\n| level | queries | flow report | wall snapshot | desk list | coverage | public rows |\n| --- | ---: | --- | --- | --- | --- | --- |\n");
    for level in Level::ALL {
        let idx: Vec<usize> = (0..mix.len()).filter(|&i| mix[i].level == level).collect();
        t += &format!("| {} | {} |", level.as_str(), idx.len());
        for v in &times {
            let s = sorted(idx.iter().map(|&i| v[i]));
            t += &format!(" {} / {} / {} |", ms(pct(&s, 0.5)), ms(pct(&s, 0.99)), ms(*s.last().unwrap_or(&Duration::ZERO)));
        }
        t.push('\n');
    }
    emit(&mut md, t);
    let mut t = String::from("Flow reports by kind of period (p50 / p99 / max, ms):\n\n| period | queries | flow report |\n| --- | ---: | --- |\n");
    for (name, pick) in [
        ("last N days", (|p: &Period| matches!(p, Period::LastDays(_))) as fn(&Period) -> bool),
        ("whole days (Dates)", |p: &Period| matches!(p, Period::Dates { .. })),
        ("this year (Year(0))", |p: &Period| matches!(p, Period::Year(_))),
    ] {
        let s = sorted((0..mix.len()).filter(|&i| pick(&mix[i].period)).map(|i| times[0][i]));
        t += &format!("| {name} | {} | {} / {} / {} |\n", s.len(), ms(pct(&s, 0.5)), ms(pct(&s, 0.99)), ms(*s.last().unwrap_or(&Duration::ZERO)));
    }
    emit(&mut md, t);
    let slowest: Vec<usize> = {
        let mut v: Vec<usize> = (0..mix.len()).collect();
        v.sort_by_key(|&i| std::cmp::Reverse(times[0][i]));
        v.into_iter().take(5).collect()
    };
    let mut t = String::from(
        "Slowest flow reports, and two of their parts timed alone: the region's total over the period \
         (`total_between`), and the totals of its child regions (the breakdown by area, one `total_between` each):\n\n\
         | region | level | period | report ms | major page faults / preemptions in the call | the report asked again, ms | region total ms | children's totals ms (children) |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for i in slowest {
        let q = &mix[i];
        let r = &tree.get(q.region).row;
        let (f, to) = q.period.window(now);
        let to = to.max(f);
        let t0 = Instant::now();
        black_box(engine.total_between(q.region, f, to));
        let own = t0.elapsed();
        let children = &tree.get(q.region).children;
        let t0 = Instant::now();
        for &c in children {
            black_box(engine.total_between(c, f, to));
        }
        let kids = t0.elapsed();
        let again = run_one(&engine, q, 0);
        t += &format!(
            "| {} {} | {} | {} | {} | {} / {} | {} | {} | {} ({}) |\n",
            r.code,
            r.name,
            r.level.as_str(),
            describe(q.period),
            ms(times[0][i]),
            interrupted[0][i].0,
            interrupted[0][i].1,
            ms(again),
            ms(own),
            ms(kids),
            children.len()
        );
    }
    emit(&mut md, t);
    let every: Vec<(usize, usize)> = (0..KINDS.len()).flat_map(|k| (0..mix.len()).map(move |i| (k, i))).collect();
    let slow: Vec<(usize, usize)> = every.iter().copied().filter(|&(k, i)| times[k][i] > Duration::from_millis(2)).collect();
    // Of these calls: how many took a major page fault, and how many lost the core.
    let count = |calls: &[(usize, usize)]| {
        let n = |pick: fn(&(u64, u64)) -> bool| calls.iter().filter(|&&(k, i)| pick(&interrupted[k][i])).count();
        (n(|x| x.0 > 0), n(|x| x.1 > 0))
    };
    let ((faults, preempted), (slow_faults, slow_preempted)) = (count(&every), count(&slow));
    let t = format!(
        "Interruptions: {} of {} calls took a major page fault (a page read back from disk) and {} lost the core to \
         another thread (an involuntary context switch); of the {} calls over 2 ms, {slow_faults} took a major fault and {slow_preempted} lost the core.\n",
        thousands(faults as f64),
        thousands(every.len() as f64),
        thousands(preempted as f64),
        slow.len(),
    );
    emit(&mut md, t);

    // ---- SQL baselines on a stratified part of the mix's flow reports
    let mut mismatches: Vec<String> = Vec::new();
    let mut checked = 0usize;
    if nsql > 0 {
        let quota = nsql.div_ceil(5);
        let quota_of = |l: Level| if matches!(l, Level::Village | Level::Grid) { quota.max(nsmall) } else { quota };
        let mut per_level = [0usize; 5];
        let mut picked: Vec<usize> = Vec::new();
        for (i, q) in mix.iter().enumerate() {
            let l = q.level as usize;
            if per_level[l] < quota_of(q.level) {
                per_level[l] += 1;
                picked.push(i);
            }
        }
        let mut all_grids: Vec<String> = tree.iter().filter(|(_, r)| r.row.level == Level::Grid).map(|(_, r)| r.row.code.clone()).collect();
        all_grids.sort();
        let params: Vec<Vec<(String, String)>> = picked
            .iter()
            .map(|&i| {
                let prefix = scope_prefix(&tree, &all_grids, mix[i].region);
                sql_params(&tree, &prefix, &mix[i], now)
            })
            .collect();
        // The SQL reads closed_at from `cases`; it must be what the events say (the last source event's
        // time when that event closed the case), or the SQL would answer another question.
        let off: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases c WHERE COALESCE(c.closed_at, -1) <> COALESCE((SELECT CASE WHEN e.status = 'closed' THEN e.at END \
             FROM case_events e WHERE e.feed = c.feed AND e.case_id = c.case_id AND e.origin = 'feed' ORDER BY e.seq DESC LIMIT 1), -1)",
        )
        .fetch_one(&pool)
        .await
        .expect("closed_at check");
        assert_eq!(off, 0, "{off} cases have a closed_at that their events do not give");
        let warmup = 3.min(params.len());
        let work = tempfile::tempdir().expect("temp dir");
        let csv = work.path().join("csv");
        std::fs::create_dir_all(&csv).expect("csv dir");
        let t = Instant::now();
        let (nc, ne) = export_csv(&pool, &csv).await;
        let export = t.elapsed();
        log(format!("exported {nc} cases, {ne} events as CSV in {:.1} s", export.as_secs_f64()));

        log(format!("SQL: {} flow-report queries per engine ({warmup} of warm-up)", params.len()));
        let mut baselines: Vec<Baseline> = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        baselines.push(run_sqlite(&dir, &statements(&sql_file("flow_sqlite.sql")), &params, warmup).await);
        match run_postgres(&csv, &statements(&sql_file("flow_postgres.sql")), &params, warmup).await {
            Ok(b) => baselines.push(b),
            Err(e) => skipped.push(format!("PostgreSQL: {e}")),
        }
        match run_duckdb(&csv, work.path(), &params, warmup) {
            Ok(b) => baselines.push(b),
            Err(e) => skipped.push(format!("DuckDB: {e}")),
        }
        drop(work);

        // Every answer against the engine's report.
        let mut per_engine_ok: Vec<(String, usize, usize)> = Vec::new();
        let reports: Vec<FlowReport> = picked.iter().map(|&i| engine.flow_report(mix[i].region, mix[i].period)).collect();
        for b in &baselines {
            let mut ok = 0;
            for (j, &i) in picked.iter().enumerate() {
                let rep = &reports[j];
                let diffs = compare(&from_report(rep), &from_sql(&b.answers[j]), rep.quantile_error);
                checked += 1;
                if diffs.is_empty() {
                    ok += 1;
                } else {
                    let r = &tree.get(mix[i].region).row;
                    mismatches.push(format!(
                        "{} vs engine, {} {} ({}), {} = [{}, {}): {}",
                        b.name,
                        r.code,
                        r.name,
                        r.level.as_str(),
                        describe(mix[i].period),
                        rep.from,
                        rep.to,
                        diffs.iter().take(6).cloned().collect::<Vec<_>>().join("; ")
                    ));
                }
            }
            per_engine_ok.push((b.name.to_string(), ok, picked.len()));
        }

        let eng: Vec<Duration> = picked.iter().map(|&i| times[0][i]).collect();
        let es = sorted(eng.iter().copied());
        let best: Vec<Duration> = (0..picked.len()).map(|j| baselines.iter().map(|b| b.timings[j]).min().unwrap_or(Duration::ZERO)).collect();
        let mut t = format!(
            "### Flow reports: the engine against SQL on the same {} queries, same run\n\n\
             The queries are the first of the mix at each level ({} per level{}); each SQL engine answers the whole report with \
             one SQL text per dialect (`server/benches/sql/flow_*.sql`: figures of the period, the period before (环比) and a \
             year earlier (同比), breakdowns by area, category, source and department, Sankey links, stage median and p90, \
             mediation per tier, backlog by age), parameters as literals, every row fetched, after {warmup} queries of warm-up. \
             SQL time is per query, all statements. Ratio = SQL time ÷ engine time (engine times from the run above).\n\n\
             | answered by | p50 ms | p99 ms | max ms | ratio of p50s | ratio of p99s | per-query ratio: min | median |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n\
             | engine (`flow_report`) | {} | {} | {} | 1 | 1 | 1 | 1 |\n",
            picked.len(),
            quota,
            if nsmall > quota { format!(", {nsmall} for villages and for grids") } else { String::new() },
            ms(pct(&es, 0.5)),
            ms(pct(&es, 0.99)),
            ms(*es.last().unwrap_or(&Duration::ZERO)),
        );
        let mut line = |name: &str, tim: &[Duration]| {
            let s = sorted(tim.iter().copied());
            let mut r: Vec<f64> = tim.iter().zip(&eng).map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(1e-9)).collect();
            r.sort_by(f64::total_cmp);
            let rmin = r.first().copied().unwrap_or(f64::NAN);
            let rmed = if r.is_empty() { f64::NAN } else { r[(r.len() - 1) / 2] };
            t += &format!(
                "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
                ms(pct(&s, 0.5)),
                ms(pct(&s, 0.99)),
                ms(*s.last().unwrap_or(&Duration::ZERO)),
                ratio(pct(&s, 0.5).as_secs_f64() / pct(&es, 0.5).as_secs_f64().max(1e-9)),
                ratio(pct(&s, 0.99).as_secs_f64() / pct(&es, 0.99).as_secs_f64().max(1e-9)),
                ratio(rmin),
                ratio(rmed)
            );
        };
        for b in &baselines {
            line(b.name, &b.timings);
        }
        if baselines.len() > 1 {
            line("best of the SQL engines, per query", &best);
        }
        emit(&mut md, t);
        let mut t = String::from("By level (p50 ms; ratio of the best SQL engine per query to the engine, median):\n\n| level | queries | engine |");
        for b in &baselines {
            t += &format!(" {} |", b.name);
        }
        t += " best SQL ÷ engine |\n| --- | ---: | ---: |";
        for _ in &baselines {
            t += " ---: |";
        }
        t += " ---: |\n";
        for level in Level::ALL {
            let js: Vec<usize> = (0..picked.len()).filter(|&j| mix[picked[j]].level == level).collect();
            if js.is_empty() {
                continue;
            }
            t += &format!("| {} | {} | {} |", level.as_str(), js.len(), ms(pct(&sorted(js.iter().map(|&j| eng[j])), 0.5)));
            for b in &baselines {
                t += &format!(" {} |", ms(pct(&sorted(js.iter().map(|&j| b.timings[j])), 0.5)));
            }
            let mut r: Vec<f64> = js.iter().map(|&j| best[j].as_secs_f64() / eng[j].as_secs_f64().max(1e-9)).collect();
            r.sort_by(f64::total_cmp);
            t += &format!(" {} |\n", ratio(r[(r.len() - 1) / 2]));
        }
        emit(&mut md, t);
        // The queries where the engine is least ahead: what a per-query bound rests on.
        let mut order: Vec<usize> = (0..picked.len()).collect();
        order.sort_by(|&a, &b| (best[a].as_secs_f64() / eng[a].as_secs_f64().max(1e-9)).total_cmp(&(best[b].as_secs_f64() / eng[b].as_secs_f64().max(1e-9))));
        let mut t = String::from(
            "The five queries with the lowest ratio (best SQL engine ÷ engine):\n\n\
             | region | level | period | engine ms | best SQL ms (by) | ratio |\n| --- | --- | --- | ---: | ---: | ---: |\n",
        );
        for &j in order.iter().take(5) {
            let (q, r) = (&mix[picked[j]], tree.get(mix[picked[j]].region));
            let by = baselines.iter().min_by_key(|b| b.timings[j]).map_or("", |b| b.name);
            t += &format!(
                "| {} {} | {} | {} | {} | {} ({by}) | {} |\n",
                r.row.code,
                r.row.name,
                q.level.as_str(),
                describe(q.period),
                ms(eng[j]),
                ms(best[j]),
                ratio(best[j].as_secs_f64() / eng[j].as_secs_f64().max(1e-9))
            );
        }
        emit(&mut md, t);
        let mut t = String::from("SQL engines (on the same 2 cores as the engine, which answers on one thread; PostgreSQL and DuckDB may use both):\n\n");
        for b in &baselines {
            t += &format!("- {}: {}\n", b.name, b.note);
        }
        for s in &skipped {
            t += &format!("- skipped: {s}\n");
        }
        t += &format!("- CSV export of cockpit.db for PostgreSQL and DuckDB: {:.1} s (not timed)\n", export.as_secs_f64());
        emit(&mut md, t);
        let mut t = String::from("Cross-check: every SQL answer above compared with the engine's `flow_report` for the same query: every count \
             (figures, 环比, 同比, each breakdown row, links, mediation, backlog) equal; stage count, median and p90 equal where the \
             engine scans exactly (villages, grids), within its sketches' bound (< 1 %) where it sums per-day sketches.\n\n");
        for (name, ok, n) in &per_engine_ok {
            t += &format!("- {name}: {ok} of {n} answers equal the engine's\n");
        }
        let with_year = reports.iter().filter(|r| r.year_ago.is_some()).count();
        let exact = reports.iter().filter(|r| r.quantile_error == 0.0).count();
        let links: usize = reports.iter().map(|r| r.links.len()).sum();
        t += &format!(
            "\nOf the {} reports, {with_year} have a year-ago period (同比; for the others it ends before the first stored case, \
             and the SQL must say so too), {exact} have exact stage durations; {links} Sankey links compared in all.\n",
            reports.len()
        );
        emit(&mut md, t);
    }

    // ---- restart
    log("restart: Engine::load + sweep, three times; then the server's start (snapshot + store tail + patrols + observations)");
    let mut restarts = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let (mut e, _) = load(tree.clone());
        e.sweep(now + 60_000);
        restarts.push(t.elapsed());
        drop(e);
    }
    let restarts = sorted(restarts);
    let t = Instant::now();
    let (started, origin) = server::indicators::start(tree.clone(), &store, &dir, now + 60_000).await.expect("server start path");
    let server_start = t.elapsed();
    drop(started);
    let t = Instant::now();
    let mut buf: Vec<u8> = Vec::with_capacity(snap_size as usize + 1024);
    engine.save(&mut buf, &positions).expect("save");
    let save_time = t.elapsed();

    // ---- ingest: replay of the store into a fresh engine
    log("ingest: replaying every stored event into a fresh engine");
    let mut fresh = Engine::new(tree.clone());
    let mut pos = 0;
    let (mut n, mut take_time) = (0usize, Duration::ZERO);
    let mut sample: Vec<CaseEvent> = Vec::new();
    let t_all = Instant::now();
    loop {
        let batch = store.replay_after(pos, REPLAY_BATCH).await.expect("replay");
        let Some(&(last, _)) = batch.last() else { break };
        let t = Instant::now();
        for (_, e) in &batch {
            fresh.take(e);
        }
        take_time += t.elapsed();
        n += batch.len();
        pos = last;
        let want = json_events.max(durable_events);
        if sample.len() < want {
            sample.extend(batch.into_iter().take(want - sample.len()).map(|(_, e)| as_delivered(e)));
        }
    }
    let replay_time = t_all.elapsed();
    let t = Instant::now();
    fresh.sweep(now);
    let sweep_time = t.elapsed();
    for (grid, at) in store.last_patrols().await.expect("patrols") {
        fresh.patrolled(&grid, at);
    }
    for (_, feed, (id, version, o)) in store.observations_after(-1).await.expect("observations") {
        fresh.observe(&feed, &id, version, &o);
    }
    let recount = match engine.difference(&fresh) {
        None => "the recount holds exactly the snapshot's figures (`Engine::difference`: none)".to_string(),
        Some(d) => format!("**the recount differs from the snapshot**: {d}"),
    };
    drop(fresh);

    // ---- JSON parse + take
    let lines: Vec<String> = sample.iter().take(json_events).map(|e| serde_json::to_string(&WireEvent::from_event(e)).expect("JSON")).collect();
    let json_bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    log(format!("ingest: {} JSON lines ({:.0} MiB): parse, then parse + take", lines.len(), json_bytes as f64 / 1048576.0));
    let t = Instant::now();
    for l in &lines {
        black_box(serde_json::from_str::<WireEvent>(l).expect("JSON").into_event());
    }
    let parse_time = t.elapsed();
    let mut json_engine = Engine::new(tree.clone());
    json_engine.sweep(now);
    let t = Instant::now();
    let mut taken = 0usize;
    for l in &lines {
        let e = serde_json::from_str::<WireEvent>(l).expect("JSON").into_event();
        taken += usize::from(json_engine.take(&e));
    }
    let json_time = t.elapsed();
    drop(json_engine);
    drop(lines);

    // ---- durable: Ingest::submit into a fresh SQLite store, from one feed and from eight at once
    let durable: Vec<CaseEvent> = sample.into_iter().take(durable_events).collect();
    log(format!("ingest: {} events through Ingest::submit into a fresh SQLite store (WAL, synchronous=FULL), {DURABLE_BATCH} a batch", durable.len()));
    let one = durable_run(&rows, &tree, DurableClock::At(now), &durable, 1).await;
    log(format!("ingest: the same events from {DURABLE_FEEDS} feeds at once"));
    let many = durable_run(&rows, &tree, DurableClock::At(now), &durable, DURABLE_FEEDS).await;
    log("ingest: the same events from one feed, the server's clock following them");
    let live = durable_run(&rows, &tree, DurableClock::Following, &durable, 1).await;
    let (durable_time, stored, refused) = (one.time, one.stored, one.refused.clone());
    log("ingest: the same events appended to one plain table (the disk's baseline)");
    let plain_time = plain_appends(&durable).await;
    let share = |d: Duration| format!("{:.0} %", 100.0 * plain_time.as_secs_f64() / d.as_secs_f64().max(1e-9));

    let rate = |n: usize, d: Duration| thousands(n as f64 / d.as_secs_f64().max(1e-9));
    emit(&mut md, format!(
        "### Ingest, restart, memory\n\n\
         | what | figure | note |\n| --- | --- | --- |\n\
         | live ingest, take alone | {} events/s | `Engine::take` over all {} stored events, already decoded (batches of {}), one thread; then `sweep` to the horizon {:.2} s |\n\
         | live ingest, decoding from SQLite + take | {} events/s | `Store::replay_after` + `Engine::take`, {:.1} s in all: the server's recount without a snapshot |\n\
         | live ingest, JSON parsing + take | {} events/s | {} events as JSON lines ({:.0} bytes a line): `serde_json` into a struct, enums parsed, `Engine::take` ({} taken); parsing alone {} events/s |\n\
         | durable ingest (SQLite WAL, synchronous=FULL) | {} events/s | `Ingest::submit` (check, store, count) of the first {} stored events into a fresh store, {DURABLE_BATCH} a batch, one after another; {} stored{} |\n\
         | durable ingest, {DURABLE_FEEDS} feeds at once | {} events/s | the same events split by case among {DURABLE_FEEDS} submitters, {DURABLE_BATCH} a batch each; group commit stored {} batches in {} transactions; {} stored{} |\n\
         | durable ingest, one feed, the clock following the events | {} events/s | as the first durable row, with the server's clock set to each batch's latest event before it is submitted, as for a live feed (in the rows above the clock stands after the data's end, so every event arrives as history); {} stored{} |\n\
         | durable baseline: plain appends | {} events/s | the same events as rows of one table without index, key or check, {DURABLE_BATCH} a transaction, same journal and sync: what this disk allows today. The store reaches {} of it from one feed, {} from {DURABLE_FEEDS} |\n\
         | restart: `Engine::load` + `sweep` | {} s (median of 3; {} .. {}) | `Engine::load` of the {:.1} MiB snapshot, then `sweep` one minute on; the first load took {:.2} s |\n\
         | restart: the server's path | {:.2} s | `indicators::start`: snapshot, store tail, last patrols, observations, sweep ({origin:?}) |\n\
         | snapshot write (to memory) | {:.2} s | `Engine::save`, {:.1} MiB |\n\
         | memory (VmRSS of the bench process) | {:.0} MiB after loading; {:.0} MiB of it the engine | {:.0} MiB at start, {:.0} MiB with the region tree (with geometry) and the store open; the server adds its web parts and caches |\n\
         | recount check | {} | fresh engine from the replay, with patrols and observations, against the loaded snapshot |\n",
        rate(n, take_time),
        thousands(n as f64),
        REPLAY_BATCH,
        sweep_time.as_secs_f64(),
        rate(n, replay_time),
        replay_time.as_secs_f64(),
        rate(json_events.min(n), json_time),
        thousands(json_events.min(n) as f64),
        json_bytes as f64 / json_events.min(n).max(1) as f64,
        thousands(taken as f64),
        rate(json_events.min(n), parse_time),
        rate(durable_events.min(n), durable_time),
        thousands(durable_events.min(n) as f64),
        thousands(stored as f64),
        refused.map(|r| format!("; first refusal: {r}")).unwrap_or_default(),
        rate(durable_events.min(n), many.time),
        thousands(many.batches.0 as f64),
        thousands(many.batches.1 as f64),
        thousands(many.stored as f64),
        many.refused.map(|r| format!("; first refusal: {r}")).unwrap_or_default(),
        rate(durable_events.min(n), live.time),
        thousands(live.stored as f64),
        live.refused.map(|r| format!("; first refusal: {r}")).unwrap_or_default(),
        rate(durable.len(), plain_time),
        share(durable_time),
        share(many.time),
        format!("{:.2}", pct(&restarts, 0.5).as_secs_f64()),
        format!("{:.2}", restarts[0].as_secs_f64()),
        format!("{:.2}", restarts[restarts.len() - 1].as_secs_f64()),
        snap_size as f64 / 1048576.0,
        load_time.as_secs_f64(),
        server_start.as_secs_f64(),
        save_time.as_secs_f64(),
        buf.len() as f64 / 1048576.0,
        rss_loaded,
        rss_loaded - rss_tree,
        rss_start,
        rss_tree,
        recount,
    ));
    drop(buf);

    if !mismatches.is_empty() {
        let mut t = format!("### Cross-check failures ({} of {checked} answers)\n\n", mismatches.len());
        for m in mismatches.iter().take(40) {
            t += &format!("- {m}\n");
        }
        emit(&mut md, t);
    }
    println!("{}", md.join("\n"));
    if !mismatches.is_empty() {
        eprintln!("[indicators] {} of {checked} SQL answers differ from the engine's reports (listed above)", mismatches.len());
        std::process::exit(1);
    }
}
