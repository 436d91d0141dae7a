//! The file_drop and sql_pull feed kinds for real: CSV/XLSX exports written into a temp folder, and a
//! PostgreSQL server from Debian's packages started on a free port in a temp dir. For each: the happy
//! path, malformed rows quarantined with their reason, duplicates and late versions, the peer failing
//! (an unreadable file, PostgreSQL stopped and restarted) and the feed restarting mid-stream.
#[path = "common/peers.rs"]
mod peers;
#[path = "common/time.rs"]
mod time;

use peers::Pg;
use app::model::{Level, Status};
use engine::Engine;
use server::city::RegionTree;
use server::feeds::locate::Locator;
use server::feeds::mapping::Mapping;
use server::feeds::registry::FeedCtx;
use server::feeds::{file_drop, sql_pull};
use server::ingest::Ingest;
use server::sim::files::{self, Cell};
use server::store::feeds::FeedRow;
use server::store::{SqliteStore, Store};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(30);

const CASES: &str = r#"
record = "case"
id = "编号"
time = "更新时间"
time_format = "local"
status = "状态"
status_map = { "已受理" = "accepted", "办理中" = "handling", "已办结" = "closed" }
category = "类别"
category_map = { "纠纷" = "dispute", "隐患" = "hazard", "治安" = "public_order", "环境" = "environment", "民生" = "livelihood" }
source = "petition"
region = "网格编码"
summary = "内容"
"#;

const COUNTS: &str = r#"
record = "observation"
id = "编号"
time = "日期"
time_format = "excel"
indicator = "criminal_filed"
value = "数量"
region = "区县编码"
"#;

const HEADER: [&str; 6] = ["编号", "状态", "类别", "网格编码", "内容", "更新时间"];

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    ctx: FeedCtx,
    grids: Vec<String>,
}

async fn env(feed: &str, mapping: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let regions = server::city::shaoxing::build();
    let grids = regions.iter().filter(|r| r.level == Level::Grid).map(|r| r.code.clone()).take(5).collect::<Vec<_>>();
    assert_eq!(grids.len(), 5);
    store.save_regions(&regions).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let (tx, _rx) = watch::channel(0u64);
    let ingest = Ingest::new(store.clone(), tree.clone(), Arc::new(std::sync::RwLock::new(Engine::new(tree.clone()))), tx, time::clock());
    let locator = Arc::new(Locator::new(tree.clone()));
    let mapping: Mapping = toml::from_str(mapping).unwrap();
    let ctx = FeedCtx { name: feed.into(), ingest, mapper: Arc::new(mapping.compile(locator).unwrap()), health: Default::default() };
    Env { _dir: dir, store, ctx, grids }
}

impl Env {
    async fn row(&self) -> FeedRow {
        let row = self.store.feed_rows().await.unwrap().into_iter().find(|r| r.feed == self.ctx.name).unwrap_or_default();
        assert_eq!(row.received, row.stored + row.duplicate + row.quarantined, "every input is accounted for: {row:?}");
        row
    }

    async fn reasons(&self) -> Vec<String> {
        self.store.quarantine(Some(&self.ctx.name), 1000).await.unwrap().into_iter().map(|q| q.reason).collect()
    }

    async fn status(&self, id: &str) -> Option<Status> {
        self.store.case(&self.ctx.name, id).await.unwrap().map(|c| c.status)
    }

    /// Waits until the feed's counts satisfy `f`; panics with them after WAIT.
    async fn until(&self, what: &str, f: impl Fn(&FeedRow) -> bool) -> FeedRow {
        let deadline = Instant::now() + WAIT;
        loop {
            let row = self.row().await;
            if f(&row) {
                return row;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {row:?}; quarantine: {:?}", self.reasons().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn until<F: Future<Output = bool>>(what: &str, f: impl Fn() -> F) {
    let deadline = Instant::now() + WAIT;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running feed task and its stop switch.
struct Task(watch::Sender<bool>, tokio::task::JoinHandle<()>);

impl Task {
    fn file_drop(cfg: &file_drop::Config, ctx: &FeedCtx) -> Task {
        let (tx, rx) = watch::channel(false);
        Task(tx, tokio::spawn(file_drop::run(cfg.clone(), ctx.clone(), rx)))
    }

    fn sql_pull(cfg: &sql_pull::Config, ctx: &FeedCtx) -> Task {
        let (tx, rx) = watch::channel(false);
        Task(tx, tokio::spawn(sql_pull::run(cfg.clone(), ctx.clone(), rx)))
    }

    async fn stop(self) {
        self.0.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.1).await.expect("the feed stops when told").unwrap();
    }
}

/// A local time `i` seconds after 2026-11-20 08:00:00.
fn at(i: u32) -> String {
    format!("2026-11-20 {:02}:{:02}:{:02}", 8 + i / 3600, (i / 60) % 60, i % 60)
}

fn case(id: &str, status: &str, category: &str, grid: &str, t: u32) -> Vec<String> {
    vec![id.into(), status.into(), category.into(), grid.into(), format!("{id} 的诉求"), at(t)]
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    v.sort();
    v
}

fn drop_cfg(dir: &Path, batch_rows: usize) -> file_drop::Config {
    toml::from_str(&format!("dir = {:?}\ninterval_seconds = 0.1\nbatch_rows = {batch_rows}", dir.to_str().unwrap())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_drop_takes_csv_gbk_and_xlsx_quarantines_bad_rows_and_fails_bad_files() {
    let e = env("petitions", CASES).await;
    let drop = tempfile::tempdir().unwrap();
    let d = drop.path();
    let g = &e.grids;
    let mut rows = vec![case("P1", "已受理", "纠纷", &g[0], 0), case("P2", "已办结", "隐患", &g[1], 1), case("P3", "丢失", "隐患", &g[1], 2)];
    let mut extra = case("P9", "已受理", "纠纷", &g[0], 3);
    extra.push("多出来的一列".into());
    rows.push(extra);
    rows.push(case("P4", "办理中", "环境", "999", 4));
    files::write_csv(d, "a.csv", &HEADER, &rows).unwrap();
    // GBK, as many Chinese systems still export, and a BOM'd UTF-8 file.
    let gbk = files::csv_text(&HEADER, &[case("P5", "已受理", "民生", &g[2], 5)]).unwrap();
    let gbk = encoding_rs::GBK.encode(std::str::from_utf8(&gbk).unwrap()).0.into_owned();
    assert!(std::str::from_utf8(&gbk).is_err());
    files::write_atomic(d, "gbk.csv", &gbk).unwrap();
    let bom = [b"\xEF\xBB\xBF".to_vec(), files::csv_text(&HEADER, &[case("P6", "已受理", "治安", &g[3], 6)]).unwrap()].concat();
    files::write_atomic(d, "bom.csv", &bom).unwrap();
    // An XLSX export with an error cell, a garbage ".xlsx", and a file still being written.
    let x = |s: &str| Cell::from(s);
    let xrows = vec![
        vec![x("X1"), x("已受理"), x("纠纷"), x(&g[4]), x("xlsx 行"), x(&at(7))],
        vec![x("X2"), x("已受理"), x("纠纷"), Cell::Error("#N/A".into()), x("坏格"), x(&at(8))],
    ];
    files::write_xlsx(d, "b.xlsx", &HEADER, &xrows).unwrap();
    std::fs::write(d.join("broken.xlsx"), b"this is no workbook").unwrap();
    std::fs::write(d.join("later.csv.tmp"), files::csv_text(&HEADER, &[case("P7", "已受理", "纠纷", &g[0], 9)]).unwrap()).unwrap();

    let cfg = drop_cfg(d, 2);
    let task = Task::file_drop(&cfg, &e.ctx);
    let row = e.until("the four files", |r| r.received >= 9).await;
    until("the files to move", || async { names(d) == ["failed", "later.csv.tmp", "processed"] }).await;
    assert_eq!((row.received, row.stored, row.quarantined, row.duplicate), (9, 5, 4, 0), "{row:?}");
    for (id, s) in [("P1", Status::Accepted), ("P2", Status::Closed), ("P5", Status::Accepted), ("P6", Status::Accepted), ("X1", Status::Accepted)] {
        assert_eq!(e.status(id).await, Some(s), "{id}");
    }
    let c = e.store.case("petitions", "P5").await.unwrap().unwrap();
    assert_eq!(c.facts.details.summary, "P5 的诉求", "GBK decoded");
    for id in ["P3", "P9", "P4", "X2"] {
        assert_eq!(e.status(id).await, None, "{id}");
    }
    let reasons = e.reasons().await;
    let has = |parts: &[&str]| assert!(reasons.iter().any(|r| parts.iter().all(|p| r.contains(p))), "no reason with {parts:?} in {reasons:?}");
    has(&["status \"丢失\" has no mapping"]);
    has(&["a.csv row 5 column G", "beyond the header"]);
    has(&["unknown region code \"999\""]);
    has(&["b.xlsx row 3 column D (\"网格编码\")", "#N/A"]);
    assert_eq!(names(&d.join("processed")), ["a.csv", "b.xlsx", "bom.csv", "gbk.csv"]);
    assert_eq!(names(&d.join("failed")), ["broken.xlsx", "broken.xlsx.error.txt"]);
    let why = std::fs::read_to_string(d.join("failed/broken.xlsx.error.txt")).unwrap();
    assert!(why.contains("broken.xlsx") && why.contains("not a readable XLSX"), "{why}");
    assert!(e.ctx.health.get().last_error.unwrap().1.contains("broken.xlsx"));

    // The writer finishes: the renamed file is taken.
    std::fs::rename(d.join("later.csv.tmp"), d.join("later.csv")).unwrap();
    e.until("the renamed file", |r| r.stored == 6).await;
    assert_eq!(e.status("P7").await, Some(Status::Accepted));
    task.stop().await;

    // Retention: quarantined payloads (personal data, possibly) are deleted when they expire, and stay
    // counted as quarantined, so received still adds up.
    let now = time::now();
    assert_eq!(e.store.expire_quarantine(now - 3_600_000).await.unwrap(), 0, "none is an hour old yet");
    assert_eq!(e.reasons().await.len(), 4);
    assert_eq!(e.store.expire_quarantine(now + 1).await.unwrap(), 4);
    assert!(e.reasons().await.is_empty());
    let row = e.row().await;
    assert_eq!((row.received, row.stored, row.quarantined, row.expired), (10, 6, 4, 4), "{row:?}");
}

/// A source that sends a bad record again (a pull feed re-reading its overlap window, a sender
/// retrying) gets one quarantine row for it, not one per delivery; a changed record is a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_sent_again_is_a_duplicate_of_its_quarantined_copy() {
    use server::feeds::record::Input;
    let e = env("petitions", CASES).await;
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    let record = |cells: Vec<String>| Input::Record(serde_json::Value::Object(header.iter().cloned().zip(cells.into_iter().map(serde_json::Value::from)).collect()));
    let bad = || record(case("Q1", "丢失", "纠纷", &e.grids[0], 0));
    let good = record(case("Q2", "已受理", "纠纷", &e.grids[1], 1));
    let t = e.ctx.take(vec![bad(), good], None).await.unwrap();
    assert_eq!((t.stored, t.duplicate, t.quarantined), (1, 0, 1));
    let t = e.ctx.take(vec![bad()], None).await.unwrap();
    assert_eq!((t.stored, t.duplicate, t.quarantined), (0, 1, 0), "the same bad record again");
    assert_eq!(e.reasons().await.len(), 1);
    // Fixed at the source (a new version with a status we know): stored; the quarantined copy stays
    // listed until replayed or expired.
    let t = e.ctx.take(vec![record(case("Q1", "已受理", "纠纷", &e.grids[0], 2))], None).await.unwrap();
    assert_eq!((t.stored, t.duplicate, t.quarantined), (1, 0, 0));
    let row = e.row().await;
    assert_eq!((row.received, row.stored, row.duplicate, row.quarantined), (4, 2, 1, 1), "{row:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_drop_reads_excel_dates_as_observations() {
    let e = env("crime", COUNTS).await;
    let drop = tempfile::tempdir().unwrap();
    let t0 = 1_763_688_600_000i64; // 2025-11-21 09:30 Beijing
    let rows = vec![
        vec![Cell::from("越城-1121"), Cell::Date(files::excel_serial(t0)), Cell::Number(12.0), Cell::from("330602")],
        vec![Cell::from("柯桥-1121"), Cell::Date(files::excel_serial(t0)), Cell::Number(7.0), Cell::from("330603")],
        vec![Cell::from("越城-1121"), Cell::Date(files::excel_serial(t0)), Cell::Number(12.0), Cell::from("330602")],
    ];
    files::write_xlsx(drop.path(), "counts.xlsx", &["编号", "日期", "数量", "区县编码"], &rows).unwrap();
    let task = Task::file_drop(&drop_cfg(drop.path(), 100), &e.ctx);
    let row = e.until("the workbook", |r| r.received == 3).await;
    assert_eq!((row.stored, row.duplicate), (2, 1));
    let obs = e.store.observations_after(-1).await.unwrap();
    let (_, _, (id, _, o)) = obs.iter().find(|(_, _, (id, _, _))| id == "越城-1121").unwrap();
    assert_eq!((id.as_str(), o.region.as_str(), o.value), ("越城-1121", "330602", 12.0));
    assert!((o.at - t0).abs() < 1000, "the Excel date is the same instant: {} vs {t0}", o.at);
    task.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_drop_duplicates_and_late_versions_never_move_a_case_back() {
    let e = env("petitions", CASES).await;
    let drop = tempfile::tempdir().unwrap();
    let d = drop.path();
    let g = &e.grids[0];
    let task = Task::file_drop(&drop_cfg(d, 10), &e.ctx);
    files::write_csv(d, "1.csv", &HEADER, &[case("P1", "已受理", "纠纷", g, 0), case("P2", "已受理", "纠纷", g, 0)]).unwrap();
    e.until("the first file", |r| r.stored == 2).await;
    files::write_csv(d, "2.csv", &HEADER, &[case("P1", "已办结", "纠纷", g, 600)]).unwrap();
    e.until("the second file", |r| r.stored == 3).await;
    assert_eq!(e.status("P1").await, Some(Status::Closed));
    // A late export: P1 as it was before it closed, P2 unchanged; then the first file dropped again.
    files::write_csv(d, "3.csv", &HEADER, &[case("P1", "办理中", "纠纷", g, 300), case("P2", "已受理", "纠纷", g, 0)]).unwrap();
    let again = std::fs::read(d.join("processed/1.csv")).unwrap();
    files::write_atomic(d, "1.csv", &again).unwrap();
    let row = e.until("the late and repeated files", |r| r.received == 7).await;
    until("the files to move", || async { names(d) == ["processed"] }).await;
    assert_eq!((row.stored, row.duplicate, row.quarantined), (3, 4, 0), "{row:?}");
    assert_eq!(e.status("P1").await, Some(Status::Closed), "a late version does not move a case back");
    let timeline = e.store.case("petitions", "P1").await.unwrap().unwrap().timeline;
    assert!(timeline.iter().all(|t| t.status != Status::Handling), "{timeline:?}");
    assert_eq!(names(&d.join("processed")).len(), 4, "the repeated file kept its own copy");
    task.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_drop_restarts_mid_file_without_losing_or_doubling_rows() {
    let e = env("petitions", CASES).await;
    let drop = tempfile::tempdir().unwrap();
    let d = drop.path();
    let g = &e.grids;
    let mut big: Vec<Vec<String>> = (0..400).map(|i| case(&format!("B{i:03}"), "已受理", "纠纷", &g[i % 5], i as u32)).collect();
    big.insert(7, case("BAD", "已受理", "天灾", &g[0], 0));
    files::write_csv(d, "big.csv", &HEADER, &big).unwrap();
    let cfg = drop_cfg(d, 4);
    let task = Task::file_drop(&cfg, &e.ctx);
    e.until("a few batches", |r| r.received >= 12).await;
    task.stop().await;
    let mid = e.row().await;
    let mid_file = names(d).contains(&"big.csv".to_string());
    eprintln!("stopped after {} of 401 rows; the file was {}", mid.received, if mid_file { "still in the folder" } else { "done" });
    // More arrives while the cockpit is down.
    let more: Vec<Vec<String>> = (0..30).map(|i| case(&format!("M{i:02}"), "已受理", "环境", &g[i % 5], 1000 + i as u32)).collect();
    files::write_csv(d, "more.csv", &HEADER, &more).unwrap();
    let task = Task::file_drop(&cfg, &e.ctx);
    let row = e.until("everything", |r| r.stored == 430).await;
    until("the files to move", || async { names(d) == ["processed"] }).await;
    let row = e.row().await.max_by_received(row);
    assert_eq!((row.received, row.stored, row.duplicate, row.quarantined), (431, 430, 0, 1), "each row exactly once: {row:?}");
    assert_eq!(e.reasons().await.len(), 1, "the bad row is quarantined once");
    for i in 0..400 {
        assert!(e.status(&format!("B{i:03}")).await.is_some(), "B{i:03}");
    }
    for i in 0..30 {
        assert!(e.status(&format!("M{i:02}")).await.is_some(), "M{i:02}");
    }
    task.stop().await;
}

trait Latest {
    fn max_by_received(self, o: FeedRow) -> FeedRow;
}

impl Latest for FeedRow {
    fn max_by_received(self, o: FeedRow) -> FeedRow {
        if self.received >= o.received {
            self
        } else {
            o
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

/// An update time on the exchange: `i` seconds after 2026-11-21 08:00 Beijing.
fn upd(i: u32) -> String {
    format!("2026-11-21T{:02}:{:02}:{:02}+08:00", 8 + i / 3600, (i / 60) % 60, i % 60)
}

const TABLE: &str = "信访件";

async fn table(pg: &Pg) -> sqlx::PgPool {
    let pool = server::sim::pg::connect(&pg.url()).await.unwrap();
    server::sim::pg::create_table(&pool, TABLE, &HEADER).await.unwrap();
    pool
}

async fn put(pool: &sqlx::PgPool, rows: Vec<(Vec<String>, String)>) {
    server::sim::pg::upsert(pool, TABLE, &HEADER, &rows).await.unwrap();
}

fn pull_cfg(pg: &Pg, batch: u32) -> sql_pull::Config {
    toml::from_str(&format!("url = {:?}\ntable = \"{TABLE}\"\nid_column = \"编号\"\nbatch_size = {batch}\ninterval_seconds = 0.1", pg.url())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pull_pages_through_equal_times_quarantines_and_ignores_late_versions() {
    let pg = Pg::new().await;
    let pool = table(&pg).await;
    let e = env("petitions", CASES).await;
    let g = &e.grids;
    // P2, P3 and P4 share one update time and the page holds two rows: keyset paging must not skip any.
    put(
        &pool,
        vec![
            (case("P1", "已受理", "纠纷", &g[0], 0), upd(0)),
            (case("P2", "已办结", "隐患", &g[1], 10), upd(1)),
            (case("P3", "已受理", "隐患", &g[2], 20), upd(1)),
            (case("P4", "办理中", "环境", &g[3], 30), upd(1)),
            (case("P5", "已受理", "民生", &g[4], 40), upd(2)),
            (case("P6", "已受理", "未知", &g[0], 50), upd(3)),
            (case("P7", "已受理", "纠纷", "999", 60), upd(3)),
        ],
    )
    .await;
    let task = Task::sql_pull(&pull_cfg(&pg, 2), &e.ctx);
    let row = e.until("the first rows", |r| r.received == 7).await;
    assert_eq!((row.stored, row.quarantined, row.duplicate), (5, 2, 0), "{row:?}");
    for (id, s) in [("P1", Status::Accepted), ("P2", Status::Closed), ("P3", Status::Accepted), ("P4", Status::Handling), ("P5", Status::Accepted)] {
        assert_eq!(e.status(id).await, Some(s), "{id}");
    }
    let reasons = e.reasons().await;
    assert!(reasons.iter().any(|r| r.contains("category \"未知\" has no mapping")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("unknown region code \"999\"")), "{reasons:?}");
    assert!(e.row().await.cursor.unwrap().ends_with("|P7"), "the cursor is after the last row");
    // The same version again (a rewrite of the row), a late version of P2 (older than its stored one),
    // and a real change of P3.
    put(
        &pool,
        vec![
            (case("P1", "已受理", "纠纷", &g[0], 0), upd(100)),
            (case("P2", "办理中", "隐患", &g[1], 5), upd(101)),
            (case("P3", "已办结", "隐患", &g[2], 200), upd(102)),
        ],
    )
    .await;
    let row = e.until("the changes", |r| r.received == 10).await;
    assert_eq!((row.stored, row.duplicate, row.quarantined), (6, 2, 2), "{row:?}");
    assert_eq!(e.status("P2").await, Some(Status::Closed), "a late version does not move a case back");
    assert_eq!(e.status("P3").await, Some(Status::Closed));
    assert!(row.cursor.as_deref().unwrap().ends_with("|P3"), "{:?}", row.cursor);
    task.stop().await;
}

/// A writer's transaction stamps its row with its start time (`now()`) and commits after a newer row
/// was already pulled: with `settle_seconds` the feed waits until such rows are visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pull_with_a_settle_time_sees_rows_committed_late_with_an_older_time() {
    let pg = Pg::new().await;
    let pool = table(&pg).await;
    let e = env("petitions", CASES).await;
    let g = &e.grids;
    let mut cfg = pull_cfg(&pg, 50);
    cfg.settle_seconds = 2.0;
    let task = Task::sql_pull(&cfg, &e.ctx);
    put(&pool, vec![(case("OLD", "已受理", "纠纷", &g[0], 0), upd(0))]).await;
    e.until("an old row", |r| r.stored == 1).await;
    // The long transaction starts (its time is now), a short one commits a newer row, polls pass…
    let long_started: String = sqlx::query_scalar("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')").fetch_one(&pool).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query(&format!("INSERT INTO \"{TABLE}\" SELECT '新', 状态, 类别, 网格编码, 内容, 更新时间, now() FROM \"{TABLE}\" WHERE 编号 = 'OLD'")).execute(&pool).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(e.row().await.received, 1, "a row younger than the settle time is not read yet");
    // …and the long one commits its older row.
    put(&pool, vec![(case("LATE", "已受理", "纠纷", &g[1], 1), long_started)]).await;
    let row = e.until("both rows", |r| r.stored == 3).await;
    assert_eq!((row.received, row.duplicate, row.quarantined), (3, 0, 0), "{row:?}");
    assert!(e.status("LATE").await.is_some() && e.status("新").await.is_some());
    task.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pull_backs_off_while_postgres_is_down_and_catches_up_without_a_gap() {
    let mut pg = Pg::new().await;
    let pool = table(&pg).await;
    let e = env("petitions", CASES).await;
    let g = &e.grids;
    let task = Task::sql_pull(&pull_cfg(&pg, 50), &e.ctx);
    put(&pool, (0..3).map(|i| (case(&format!("A{i}"), "已受理", "纠纷", &g[i % 5], i as u32), upd(i as u32))).collect()).await;
    e.until("the first rows", |r| r.stored == 3).await;
    // Two more rows, and the database goes down, maybe before the feed saw them.
    put(&pool, (3..5).map(|i| (case(&format!("A{i}"), "已受理", "纠纷", &g[i % 5], i as u32), upd(i as u32))).collect()).await;
    pool.close().await;
    let errors = e.ctx.health.get().errors;
    pg.stop();
    until("the feed to notice", || async { e.ctx.health.get().errors >= errors + 2 }).await;
    let why = e.ctx.health.get().last_error.unwrap().1;
    assert!(why.contains("PostgreSQL 127.0.0.1") && !why.contains("postgres@"), "{why}");
    pg.start().await;
    let pool = server::sim::pg::connect(&pg.url()).await.unwrap();
    put(&pool, (5..8).map(|i| (case(&format!("A{i}"), "已受理", "纠纷", &g[i % 5], i as u32), upd(i as u32))).collect()).await;
    let row = e.until("everything after the restart", |r| r.stored == 8).await;
    assert_eq!((row.received, row.duplicate, row.quarantined), (8, 0, 0), "{row:?}");
    for i in 0..8 {
        assert!(e.status(&format!("A{i}")).await.is_some(), "A{i}");
    }
    task.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pull_restarts_mid_stream_and_takes_everything_once() {
    let pg = Pg::new().await;
    let pool = table(&pg).await;
    let e = env("petitions", CASES).await;
    let g = &e.grids;
    put(&pool, (0..300).map(|i| (case(&format!("R{i:03}"), "已受理", "纠纷", &g[i % 5], i as u32), upd(i as u32 / 3))).collect()).await;
    let cfg = pull_cfg(&pg, 7);
    let task = Task::sql_pull(&cfg, &e.ctx);
    e.until("a few pages", |r| r.stored >= 20).await;
    task.stop().await;
    let mid = e.row().await;
    eprintln!("stopped after {} of 300 rows, cursor {:?}", mid.received, mid.cursor);
    // While the cockpit is down: new rows and five rows changed.
    let mut rows: Vec<(Vec<String>, String)> = (300..330).map(|i| (case(&format!("R{i:03}"), "已受理", "环境", &g[i % 5], i as u32), upd(1000 + i as u32))).collect();
    rows.extend((0..5).map(|i| (case(&format!("R{i:03}"), "已办结", "纠纷", &g[i % 5], 5000 + i as u32), upd(2000 + i as u32))));
    put(&pool, rows).await;
    let task = Task::sql_pull(&cfg, &e.ctx);
    let row = e.until("everything", |r| r.stored == 335).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = e.row().await.max_by_received(row);
    assert_eq!((row.received, row.stored, row.duplicate, row.quarantined), (335, 335, 0, 0), "{row:?}");
    for i in 0..330 {
        let want = if i < 5 { Status::Closed } else { Status::Accepted };
        assert_eq!(e.status(&format!("R{i:03}")).await, Some(want), "R{i:03}");
    }
    task.stop().await;
}
