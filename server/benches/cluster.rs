//! Scale-out figures (issue 15), one run, printed as Markdown for docs/BENCHMARKS.md:
//! - ingest through webhook pushes (200 records a push, 4 pushers) into 1 instance and into 3 (pushes
//!   spread over them), timed until the last push is answered (a push is answered once stored);
//!   1 instance is the baseline;
//! - event → wall latency: a 督办 taken on one instance until a wall shows it, on the same instance
//!   (1) and on another (3);
//! - live clients: walls spread over the three instances, each 督办 timed until every wall shows it.
//! Every instance is a `cockpit` process (release build) on this machine's one PostgreSQL and one
//! nats-server: all share the same 2 cores.
//!
//!     cargo bench -p server --bench cluster        (CLUSTER_BENCH_RECORDS, CLUSTER_BENCH_WALLS)
#[path = "../tests/common/peers.rs"]
mod peers;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/cluster.rs"]
mod cluster;

use cluster::{petition, push, Instance, Wall};
use peers::{Broker, Pg};
use std::time::{Duration, Instant};

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn grids() -> Vec<String> {
    server::city::shaoxing::build().into_iter().filter(|r| r.level == app::model::Level::Grid).step_by(7).map(|r| r.code).collect()
}

async fn start(n: usize, pg: &Pg, nats: &Broker) -> Vec<Instance> {
    const NAMES: [&str; 3] = ["a", "b", "c"];
    let mut all = Vec::new();
    for name in NAMES.iter().take(n) {
        let mut i = Instance::start(name, pg, nats);
        i.healthy().await;
        all.push(i);
    }
    all
}

/// Records per second from the first push until PostgreSQL holds all of them.
async fn ingest(instances: &[Instance], pg: &Pg, records: usize) -> f64 {
    let grids = grids();
    let batches: Vec<Vec<serde_json::Value>> =
        (0..records).collect::<Vec<_>>().chunks(200).map(|c| c.iter().map(|&i| petition(i, 1, "accepted", &grids[i % grids.len()])).collect()).collect();
    let addrs: Vec<String> = instances.iter().map(|i| i.addr.clone()).collect();
    let t = Instant::now();
    let mut pushers = Vec::new();
    for p in 0..4 {
        let (mine, addrs) = (batches.iter().skip(p).step_by(4).cloned().collect::<Vec<_>>(), addrs.clone());
        pushers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for (k, b) in mine.iter().enumerate() {
                let to = &addrs[(p + k) % addrs.len()];
                assert_eq!(push(&client, to, to, b).await.0, 200);
            }
        }));
    }
    for p in pushers {
        p.await.unwrap();
    }
    // A webhook is answered 200 only once its batch is stored: nothing to wait for after the last answer.
    let rate = records as f64 / t.elapsed().as_secs_f64();
    assert_eq!(pg.count("SELECT COUNT(*) FROM cases WHERE feed = 'petitions'").await, records as i64, "every record stored");
    rate
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Milliseconds from each of `n` 督办 taken on `on` until every wall shows it.
async fn oversight(on: &Instance, cookie: &str, walls: &[Wall], n: usize, first_case: usize) -> Vec<f64> {
    let token = common::csrf(&on.addr, cookie).await;
    let already = walls.iter().map(|w| w.supervised.lock().unwrap().last().map(|l| l.1).unwrap_or(0)).max().unwrap_or(0);
    let mut out = Vec::new();
    for k in 0..n {
        let sent = Instant::now();
        let path = format!("/api/cases/petitions/XF-{:04}/actions", first_case + k);
        let r = common::post_json(&on.addr, cookie, &token, &path, r#"{"action":"supervise","note":"bench"}"#).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let posted = sent.elapsed();
        let want = already + k as u64 + 1;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = sent;
        for w in walls {
            loop {
                if let Some(t) = w.showed(want) {
                    last = last.max(t);
                    break;
                }
                assert!(Instant::now() < deadline, "a wall never showed 督办 {want}");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        out.push((last - sent).as_secs_f64() * 1000.0);
        if std::env::var("CLUSTER_BENCH_VERBOSE").is_ok() {
            eprintln!("督办 {k} on {}: {:.1} ms (answered in {:.1} ms)", on.name, (last - sent).as_secs_f64() * 1000.0, posted.as_secs_f64() * 1000.0);
        }
        // Apart from the hub's 250 ms coalescing of the change before.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    out
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let records = env_or("CLUSTER_BENCH_RECORDS", 6000);
    let walls_n = env_or("CLUSTER_BENCH_WALLS", 600);
    println!("## Cluster: 1 and 3 instances on one PostgreSQL and one nats-server (this machine, 2 cores)\n");
    println!("| what | 1 instance (baseline) | 3 instances | ratio |");
    println!("| --- | ---: | ---: | ---: |");

    let mut rates = Vec::new();
    let mut latencies = Vec::new();
    for n in [1usize, 3] {
        let pg = Pg::new().await;
        let nats = Broker::nats();
        let instances = start(n, &pg, &nats).await;
        rates.push(ingest(&instances, &pg, records).await);

        let leader = common::login(&instances[0].addr, "leader").await;
        // The wall on the last instance, the 督办 on the first: across instances when there are three.
        let on_wall = if std::env::var("CLUSTER_BENCH_SAME").is_ok() { 0 } else { n - 1 };
        let wall = Wall::open(&instances[on_wall].addr, &leader).await;
        let mut l = oversight(&instances[0], &leader, std::slice::from_ref(&wall), 15, 0).await;
        latencies.push((quantile(&mut l, 0.5), quantile(&mut l, 0.99)));
        wall.task.abort();
        if std::env::var("CLUSTER_BENCH_VERBOSE").is_ok() {
            for i in &instances {
                eprintln!("--- {} ---\n{}", i.name, i.log_text().lines().filter(|l| !l.contains("feed started")).collect::<Vec<_>>().join("\n"));
            }
        }
        if n == 3 {
            let mut walls = Vec::new();
            for k in 0..walls_n {
                walls.push(Wall::open(&instances[k % 3].addr, &leader).await);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut l = oversight(&instances[1], &leader, &walls, 5, 100).await;
            let rss: Vec<String> = instances.iter().map(|i| format!("{:.0}", rss_mib(i.child.id()))).collect();
            println!(
                "| rows below: {records} records, 15 督办 timed to one wall; then {walls_n} walls ({} per instance), 5 督办 each timed until every wall showed it | | | |",
                walls_n / 3
            );
            println!("| ingest, records/s (webhook, 4 pushers, 200 a push) | {:.0} | {:.0} | {:.2} |", rates[0], rates[1], rates[1] / rates[0]);
            println!(
                "| 督办 → wall, p50 / p99 ms (same instance; 3: taken on a, wall on c) | {:.0} / {:.0} | {:.0} / {:.0} | {:.2} |",
                latencies[0].0,
                latencies[0].1,
                latencies[1].0,
                latencies[1].1,
                latencies[1].0 / latencies[0].0
            );
            println!("| {walls_n} walls over the three: 督办 → the last wall, p50 / max ms | | {:.0} / {:.0} | |", quantile(&mut l, 0.5), quantile(&mut l, 1.0));
            println!("| instances' RSS with the walls, MiB | | {} | |", rss.join(" / "));
            for w in walls {
                w.task.abort();
            }
        }
    }
}
