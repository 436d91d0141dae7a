//! Records per second from each feed kind into the live aggregates and durable SQLite (WAL,
//! synchronous=FULL), against a baseline measured in the same run: `Ingest::take` called directly with
//! the same records in batches of the same size (mapping + dedupe + one SQLite transaction + counting
//! in the aggregates: the path every kind ends in). Each kind runs against its real peer (a cockpit
//! started with `server::run` for the webhook, the simulated REST API and Open311 hotline, Mosquitto,
//! nats-server with JetStream, CSV/XLSX files in a drop folder, PostgreSQL 15) with a fresh temp store,
//! timed from the first record published (push kinds) or available (pull kinds) to `feed_rows()`
//! showing all of them stored.
//!
//! `cargo bench -p server --bench feeds` (peers: `scripts/lib.sh` `ensure_test_peers`). `FEEDS_BENCH_N`
//! sets the records per kind (default 20,000).
#[path = "../tests/common/peers.rs"]
mod peers;

use peers::{Broker, Pg};
use serde_json::{json, Value};
use engine::Engine;
use server::city::RegionTree;
use server::feeds::locate::Locator;
use server::feeds::mapping::{Mapper, Mapping};
use server::feeds::record::{Body, Input};
use server::feeds::registry::FeedCtx;
use server::feeds::{file_drop, http_pull, mqtt, nats, open311, sql_pull};
use server::ingest::Ingest;
use server::sim::files::{self, Cell};
use server::sim::{open311::Hotline, rest::RestApi};
use server::store::{SqliteStore, Store};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Records per stored batch everywhere it can be set (the default of mqtt, nats, file_drop, sql_pull).
const BATCH: usize = 500;
const FEED: &str = "bench";
/// Records 7 s apart: an Open311 window of one hour holds ~514, under the server's 1,000 per answer.
const SPACING_MS: i64 = 7_000;
const COLUMNS: [&str; 5] = ["id", "seq", "ts", "state", "area"];
const MAPPING: &str = r#"
record = "observation"
id = "id"
version = "seq"
time = "ts"
indicator = "video_online"
value = "state"
value_map = { ON = 1, OFF = 0 }
region = "area"
"#;

fn regions() -> &'static Vec<server::city::RegionRow> {
    static R: OnceLock<Vec<server::city::RegionRow>> = OnceLock::new();
    R.get_or_init(server::city::shaoxing::build)
}

/// Records per kind (`FEEDS_BENCH_N`, default 20,000).
fn n() -> usize {
    std::env::var("FEEDS_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000)
}

/// Days the Open311 feed reads back on its first pull: the span of the records and one more.
fn backfill_days() -> i64 {
    (n() as i64 * SPACING_MS) / 86_400_000 + 1
}

/// The start of the records: just inside the Open311 feed's backfill.
fn t0() -> i64 {
    static T: OnceLock<i64> = OnceLock::new();
    *T.get_or_init(|| server::clock::Clock::system().now_ms() - backfill_days() * 86_400_000 + 60_000)
}

/// Record `i` as the cells of a row (CSV, XLSX, PostgreSQL): all text, as a row is read.
fn cells(i: usize) -> Vec<String> {
    let area = ["330602", "330603", "330681"][i % 3];
    vec![format!("C{i:06}"), "1".into(), open311::w3c(t0() + i as i64 * SPACING_MS), if i % 2 == 0 { "ON" } else { "OFF" }.into(), area.into()]
}

/// Record `i` as JSON (webhook, REST, MQTT, NATS, and the baseline).
fn record(i: usize) -> Value {
    let c = cells(i);
    json!({ "id": c[0], "seq": c[1], "ts": c[2], "state": c[3], "area": c[4] })
}

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    tree: Arc<RegionTree>,
    ctx: FeedCtx,
}

/// A fresh SQLite store with the demo city's regions, and a feed context over it.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    store.save_regions(regions()).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let (tx, _rx) = watch::channel(0u64);
    let ingest = Ingest::new(store.clone(), tree.clone(), Arc::new(std::sync::RwLock::new(Engine::new(tree.clone()))), tx, server::clock::Clock::system());
    let ctx = FeedCtx { name: FEED.into(), ingest, mapper: Arc::new(mapper(&tree)), health: Default::default() };
    Env { _dir: dir, store, tree, ctx }
}

fn mapper(tree: &Arc<RegionTree>) -> Mapper {
    toml::from_str::<Mapping>(MAPPING).unwrap().compile(Arc::new(Locator::new(tree.clone()))).unwrap()
}

impl Env {
    async fn stored(&self) -> u64 {
        self.store.feed_rows().await.unwrap().into_iter().find(|r| r.feed == FEED).map_or(0, |r| r.stored)
    }

    /// Polls `feed_rows()` every 10 ms until `n` are stored; the time since `start`.
    async fn until_stored(&self, n: usize, start: Instant) -> Result<Duration, String> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let s = self.stored().await;
            if s >= n as u64 {
                return Ok(start.elapsed());
            }
            if Instant::now() > deadline {
                return Err(format!("{s} of {n} stored after 600 s; health {:?}", self.ctx.health.get()));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Runs a feed's `run` in a task; stops it on `stop`.
struct Task(watch::Sender<bool>, tokio::task::JoinHandle<()>);

impl Task {
    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(f: impl FnOnce(watch::Receiver<bool>) -> F) -> Task {
        let (tx, rx) = watch::channel(false);
        Task(tx, tokio::spawn(f(rx)))
    }

    async fn stop(self) {
        let _ = self.0.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.1).await;
    }
}

async fn serve(router: axum::Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
    addr
}

/// One measured kind.
struct Row {
    kind: &'static str,
    n: usize,
    batch: String,
    took: Result<Duration, String>,
    note: String,
}

// ------------------------------------------------------------------------------------------ baseline

async fn baseline(n: usize) -> Row {
    let e = env().await;
    let records: Vec<Value> = (0..n).map(record).collect();
    let start = Instant::now();
    for chunk in records.chunks(BATCH) {
        let inputs = chunk.iter().cloned().map(Input::Record).collect();
        e.ctx.ingest.take(FEED, &e.ctx.mapper, inputs, None).await.unwrap();
    }
    let took = start.elapsed();
    assert_eq!(e.stored().await, n as u64);
    Row { kind: "baseline: Ingest::take", n, batch: BATCH.to_string(), took: Ok(took), note: "same records, no peer, no protocol".into() }
}

/// The live path alone: mapping the records, and counting the observations in fresh in-memory
/// aggregates (no store).
fn live(n: usize, tree: &Arc<RegionTree>) -> (Duration, Duration) {
    let records: Vec<Value> = (0..n).map(record).collect();
    let m = mapper(tree);
    let start = Instant::now();
    let mapped: Vec<(String, i64, server::feeds::record::Observation)> = records
        .iter()
        .map(|v| {
            let r = m.map(v).unwrap();
            let Body::Observation(o) = r.body else { panic!("an observation mapping") };
            (r.external_id, r.version, o)
        })
        .collect();
    let mapping = start.elapsed();
    let mut agg = Engine::new(tree.clone());
    let start = Instant::now();
    for (id, version, o) in &mapped {
        agg.observe(FEED, id, *version, o);
    }
    let counting = start.elapsed();
    assert_eq!(agg.version(), n as u64);
    (mapping, counting)
}

// ------------------------------------------------------------------------------------------- webhook

/// A real cockpit (`server::run` on port 0, demo off) with a webhook feed; batches of 500 pushed one
/// after another, signed, each answered 200 only once durable.
async fn webhook(n: usize) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("[[feeds]]\nname = \"{FEED}\"\ntype = \"webhook\"\ntoken = \"bench-token\"\nsecret = \"bench-secret\"\n[feeds.mapping]\n{MAPPING}");
    let cfg = server::config::Config {
        data_dir: dir.path().join("data"),
        site_root: dir.path().join("site"),
        demo: server::config::DemoConfig { enabled: false, ..Default::default() },
        ..server::config::Config::from_toml(&text).unwrap()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, mut rx) = watch::channel(false);
    let srv = tokio::spawn(server::run(listener, cfg, async move {
        let _ = rx.changed().await;
    }));
    let client = reqwest::Client::new();
    let healthy = async {
        for _ in 0..1200 {
            if client.get(format!("http://{addr}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert!(healthy.await, "the cockpit did not come up");
    let records: Vec<Value> = (0..n).map(record).collect();
    let url = format!("http://{addr}/feeds/{FEED}/webhook");
    let start = Instant::now();
    let mut stored = 0u64;
    let mut failed = None;
    for chunk in records.chunks(BATCH) {
        let (status, body) = server::sim::webhook::push(&client, &url, "bench-token", "bench-secret", chunk, server::clock::Clock::system().now_ms() / 1000).await.unwrap();
        if status != 200 {
            failed = Some(format!("HTTP {status}: {body}"));
            break;
        }
        stored += serde_json::from_str::<Value>(&body).unwrap()["stored"].as_u64().unwrap();
    }
    let took = start.elapsed();
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), srv).await.expect("the cockpit stops").unwrap().unwrap();
    // Checked in the store too, once the cockpit has closed it.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("data")).await.unwrap());
    let in_store = store.feed_rows().await.unwrap().into_iter().find(|r| r.feed == FEED).map_or(0, |r| r.stored);
    let took = match failed {
        Some(f) => Err(f),
        None if stored != n as u64 || in_store != n as u64 => Err(format!("{stored} answered stored, {in_store} in the store, of {n}")),
        None => Ok(took),
    };
    Row { kind: "webhook", n, batch: BATCH.to_string(), took, note: "real cockpit over HTTP, signed pushes one at a time".into() }
}

// ------------------------------------------------------------------------------------- pull over HTTP

async fn http_pull_kind(n: usize) -> Row {
    let e = env().await;
    let api = RestApi::new(BATCH);
    for i in 0..n {
        api.publish(i as i64 + 1, record(i));
    }
    let addr = serve(api.router()).await;
    let cfg: http_pull::Config = toml::from_str(&format!("url = \"http://{addr}/api/records\"\ninterval_seconds = 1")).unwrap();
    let start = Instant::now();
    let ctx = e.ctx.clone();
    let task = Task::spawn(|rx| http_pull::run(cfg, ctx, rx));
    let took = e.until_stored(n, start).await;
    task.stop().await;
    Row { kind: "http_pull", n, batch: format!("{BATCH} (page)"), took, note: "sim::rest::RestApi, all published before the first pull".into() }
}

async fn open311_kind(n: usize) -> Row {
    let e = env().await;
    let hotline = Hotline::new(1000);
    for i in 0..n {
        let mut r = record(i);
        r["service_request_id"] = r["id"].clone();
        r["updated_datetime"] = r["ts"].clone();
        hotline.publish(r);
    }
    let addr = serve(hotline.router()).await;
    let cfg: open311::Config = toml::from_str(&format!(
        "endpoint = \"http://{addr}/open311/v2\"\nbackfill_days = {}\nwindow_hours = 1\nmax_results = 1000\ninterval_seconds = 1\noverlap_seconds = 0",
        backfill_days()
    ))
    .unwrap();
    let start = Instant::now();
    let ctx = e.ctx.clone();
    let task = Task::spawn(|rx| open311::run(cfg, ctx, rx));
    let took = e.until_stored(n, start).await;
    task.stop().await;
    Row {
        kind: "open311",
        n,
        batch: "~514 (1 h window)".into(),
        took,
        note: format!("sim::open311::Hotline, one-hour windows over {} days, overlap 0", backfill_days()),
    }
}

// ------------------------------------------------------------------------------------------- brokers

/// Opens the feed's persistent session once, as a first run of the cockpit does.
async fn mqtt_session(b: &Broker) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let mut o = MqttOptions::new("cockpit-bench", "127.0.0.1", b.port);
    o.set_clean_session(false);
    let (c, mut el) = AsyncClient::new(o, 10);
    c.subscribe("city/video/#", QoS::AtLeastOnce).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = el.poll().await.unwrap() {
                break;
            }
        }
    })
    .await
    .unwrap();
    c.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(2), async { while el.poll().await.is_ok() {} }).await;
}

fn payloads(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| record(i).to_string().into_bytes()).collect()
}

async fn mqtt_kind(n: usize) -> Row {
    let b = Broker::mosquitto();
    let e = env().await;
    mqtt_session(&b).await;
    let cfg = toml::from_str::<mqtt::Config>(&format!("broker = \"{}\"\nclient_id = \"cockpit-bench\"\ntopics = [\"city/video/#\"]", b.addr())).unwrap().check().unwrap();
    let ctx = e.ctx.clone();
    let task = Task::spawn(|rx| mqtt::run(cfg, ctx, rx));
    let msgs = payloads(n);
    let start = Instant::now();
    let addr = b.addr();
    let publisher = tokio::spawn(async move {
        server::sim::mqtt::publish(&addr, "city/video/state", msgs).await.map(|_| Instant::now())
    });
    let took = e.until_stored(n, start).await;
    let published = publisher.await.unwrap();
    task.stop().await;
    let note = match published {
        Ok(at) => format!("Mosquitto, QoS 1 persistent session; publishing alone took {:.1} s", (at - start).as_secs_f64()),
        Err(why) => format!("Mosquitto; the publisher failed: {why}"),
    };
    Row { kind: "mqtt", n, batch: format!("≤{BATCH}"), took, note }
}

async fn nats_kind(n: usize) -> Row {
    let b = Broker::nats();
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(e) = server::sim::nats::ensure_stream(&b.url(), "CITY", &["city.>"]).await {
        assert!(Instant::now() < deadline, "no stream: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e = env().await;
    let cfg = toml::from_str::<nats::Config>(&format!("url = \"{}\"\nstream = \"CITY\"\ndurable = \"cockpit-bench\"\nfilter_subject = \"city.video.>\"", b.url()))
        .unwrap()
        .check()
        .unwrap();
    let ctx = e.ctx.clone();
    let task = Task::spawn(|rx| nats::run(cfg, ctx, rx));
    let msgs = payloads(n);
    let start = Instant::now();
    let url = b.url();
    let publisher = tokio::spawn(async move { server::sim::nats::publish(&url, "city.video.state", msgs).await.map(|_| Instant::now()) });
    let took = e.until_stored(n, start).await;
    let published = publisher.await.unwrap();
    task.stop().await;
    let note = match published {
        Ok(at) => format!("nats-server JetStream (file storage), durable pull consumer; publishing alone took {:.1} s", (at - start).as_secs_f64()),
        Err(why) => format!("nats-server; the publisher failed: {why}"),
    };
    Row { kind: "nats", n, batch: format!("≤{BATCH}"), took, note }
}

// --------------------------------------------------------------------------------- files and SQL

async fn file_drop_kind(n: usize, xlsx: bool) -> Row {
    let e = env().await;
    let drop = tempfile::tempdir().unwrap();
    let cfg: file_drop::Config = toml::from_str(&format!("dir = {:?}\ninterval_seconds = 0.1\nbatch_rows = {BATCH}", drop.path().to_str().unwrap())).unwrap();
    let ctx = e.ctx.clone();
    let task = Task::spawn(|rx| file_drop::run(cfg, ctx, rx));
    let rows: Vec<Vec<String>> = (0..n).map(cells).collect();
    // The file is written whole and renamed in, as an exchange does: the clock starts once it is there.
    let written = Instant::now();
    if xlsx {
        let rows: Vec<Vec<Cell>> = rows.into_iter().map(|r| r.into_iter().map(Cell::from).collect()).collect();
        files::write_xlsx(drop.path(), "bench.xlsx", &COLUMNS, &rows).unwrap();
    } else {
        files::write_csv(drop.path(), "bench.csv", &COLUMNS, &rows).unwrap();
    }
    let write = written.elapsed();
    let start = Instant::now();
    let took = e.until_stored(n, start).await;
    task.stop().await;
    let (kind, what) = if xlsx { ("file_drop (XLSX)", "one workbook") } else { ("file_drop (CSV)", "one CSV file") };
    Row { kind, n, batch: BATCH.to_string(), took, note: format!("{what}, looked at every 0.1 s (taken on the second look); writing it took {:.2} s", write.as_secs_f64()) }
}

async fn sql_pull_kind(n: usize) -> Row {
    let pg = Pg::new().await;
    let pool = server::sim::pg::connect(&pg.url()).await.unwrap();
    server::sim::pg::create_table(&pool, "readings", &COLUMNS).await.unwrap();
    let rows: Vec<(Vec<String>, String)> = (0..n).map(|i| {
        let c = cells(i);
        let ts = c[2].clone();
        (c, ts)
    }).collect();
    let loading = Instant::now();
    for chunk in rows.chunks(5_000) {
        server::sim::pg::upsert(&pool, "readings", &COLUMNS, chunk).await.unwrap();
    }
    let load = loading.elapsed();
    pool.close().await;
    let e = env().await;
    let cfg: sql_pull::Config = toml::from_str(&format!("url = {:?}\ntable = \"readings\"\nbatch_size = {BATCH}\ninterval_seconds = 0.1", pg.url())).unwrap();
    let start = Instant::now();
    let ctx = e.ctx.clone();
    let task = Task::spawn(|rx| sql_pull::run(cfg, ctx, rx));
    let took = e.until_stored(n, start).await;
    task.stop().await;
    Row {
        kind: "sql_pull",
        n,
        batch: BATCH.to_string(),
        took,
        note: format!("PostgreSQL 15 table, keyset pages by updated_at; loading it beforehand took {:.1} s", load.as_secs_f64()),
    }
}

// ---------------------------------------------------------------------------------------------- main

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let n = n();
    eprintln!("feeds bench: {n} observation records per kind, batches of {BATCH}, a fresh SQLite store (WAL, synchronous=FULL) each");
    let mut rows = Vec::new();
    let base = baseline(n).await;
    eprintln!("baseline done");
    let base_rate = rate(n, *base.took.as_ref().unwrap());
    rows.push(base);
    let tree = env().await.tree;
    let (mapping, counting) = live(n, &tree);
    rows.push(webhook(n).await);
    eprintln!("webhook done");
    rows.push(http_pull_kind(n).await);
    eprintln!("http_pull done");
    rows.push(open311_kind(n).await);
    eprintln!("open311 done");
    rows.push(mqtt_kind(n).await);
    eprintln!("mqtt done");
    rows.push(nats_kind(n).await);
    eprintln!("nats done");
    rows.push(file_drop_kind(n, false).await);
    rows.push(file_drop_kind(n, true).await);
    eprintln!("file_drop done");
    rows.push(sql_pull_kind(n).await);
    eprintln!("sql_pull done");

    println!();
    println!("| kind | records | batch | seconds | records/s | ratio to baseline | note |");
    println!("| --- | ---: | --- | ---: | ---: | ---: | --- |");
    for r in &rows {
        match &r.took {
            Ok(d) => {
                let rs = rate(r.n, *d);
                println!("| {} | {} | {} | {:.2} | {:.0} | {:.2} | {} |", r.kind, r.n, r.batch, d.as_secs_f64(), rs, rs / base_rate, r.note);
            }
            Err(why) => println!("| {} | {} | {} | – | – | – | FAILED: {why} |", r.kind, r.n, r.batch),
        }
    }
    println!(
        "| live path alone: map | {n} | – | {:.3} | {:.0} | {:.1} | Mapper::map of the same records, no store |",
        mapping.as_secs_f64(),
        rate(n, mapping),
        rate(n, mapping) / base_rate
    );
    println!(
        "| live path alone: count in the engine | {n} | – | {:.3} | {:.0} | {:.1} | Engine::observe on a fresh in-memory instance |",
        counting.as_secs_f64(),
        rate(n, counting),
        rate(n, counting) / base_rate
    );
}
