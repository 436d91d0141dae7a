//! Requests per second of the residents' side over real HTTP (keep-alive, 8 clients at once, client and
//! server on the same 2 cores): `POST requests.json` (every report checked, placed, stored durably
//! through the ingest path and counted), `GET requests.json` (the last 90 days, up to 1,000 requests),
//! `GET requests/{id}.json` (one request with its history), against `GET /healthz` measured in the same
//! run (the floor of HTTP on this machine).
//!
//! `cargo bench -p server --bench open311`. `OPEN311_BENCH_N` sets the reports posted (default 4,000).
use server::config::Config;
use std::sync::Arc;
use std::time::Instant;

const CLIENTS: usize = 8;
/// 2026-12-02 10:00 in Shanghai: the bench never reads the machine's clock for the city's time.
const PINNED_MS: i64 = 1_796_176_800_000;

fn n() -> usize {
    std::env::var("OPEN311_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(4_000)
}

/// `total` requests made by `CLIENTS` tasks; `make(i)` is the i-th request. Returns requests per second.
async fn run<F>(client: &reqwest::Client, total: usize, make: F) -> f64
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, make, next) = (client.clone(), make.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let r = make(&client, i).send().await.expect("request");
                    let status = r.status();
                    let body = r.bytes().await.expect("body");
                    assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / t.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config { data_dir: dir.path().to_path_buf(), site_root: dir.path().join("site"), ..Config::default() };
    cfg.demo.backfill_days = 1;
    cfg.demo.backfill_rate_per_minute = 2.0;
    cfg.demo.rate_per_minute = 0.0;
    cfg.demo.systems = false;
    cfg.residents.posts_per_address_per_hour = u32::MAX;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, mut rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(server::run_with_clock(listener, cfg, server::clock::Clock::pinned(PINNED_MS, 1.0), async move {
        let _ = rx.changed().await;
    }));
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Grids to report in, from the city the server built.
    let grids: Arc<Vec<String>> = Arc::new(server::city::shaoxing::build().into_iter().filter(|r| r.level == app::model::Level::Grid).map(|r| r.code).collect());
    let n = n();

    let b = base.clone();
    let health = run(&client, 20_000, move |c, _| c.get(format!("{b}/healthz"))).await;
    let b = base.clone();
    let g = grids.clone();
    let post = run(&client, n, move |c, i| {
        let desc = format!("路灯不亮，第{i}号杆");
        c.post(format!("{b}/open311/v2/requests.json")).form(&[("service_code", "livelihood"), ("address_id", g[i * 7 % g.len()].as_str()), ("description", desc.as_str())])
    })
    .await;
    let stored: Vec<serde_json::Value> = client.get(format!("{base}/open311/v2/requests.json?service_code=livelihood&max_results=1000")).send().await.unwrap().json().await.unwrap();
    let ids: Arc<Vec<String>> = Arc::new(stored.iter().filter_map(|r| r["service_request_id"].as_str().map(str::to_string)).collect());
    assert!(ids.len() >= 1000.min(n), "{} requests read back", ids.len());
    let b = base.clone();
    let list = run(&client, 200, move |c, _| c.get(format!("{b}/open311/v2/requests.json"))).await;
    let list_len = client.get(format!("{base}/open311/v2/requests.json")).send().await.unwrap().json::<Vec<serde_json::Value>>().await.unwrap().len();
    let b = base.clone();
    let one = run(&client, 10_000, move |c, i| c.get(format!("{b}/open311/v2/requests/{}.json", ids[i % ids.len()]))).await;

    println!("| what | requests/s | against /healthz |");
    println!("| --- | --- | --- |");
    println!("| GET /healthz (baseline) | {health:.0} | 1 |");
    println!("| POST requests.json ({n} reports, each stored durably) | {post:.0} | {:.3} |", post / health);
    println!("| GET requests.json ({list_len} requests an answer) | {list:.1} | {:.4} |", list / health);
    println!("| GET requests/{{id}}.json | {one:.0} | {:.3} |", one / health);
    stop.send(true).unwrap();
    server.await.unwrap().unwrap();
}
