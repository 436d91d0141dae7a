//! Live streams on the real server: one publisher per region shared by all of its streams (and gone
//! when the last leaves), and the walls' watchdog reloads counted on /metrics.
mod common;

use common::{login, open_live, request, start};
use std::time::Duration;

/// The value of an unlabelled or labelled series in a Prometheus text body.
fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

async fn metrics(addr: &str) -> String {
    let r = request(addr, "GET", "/metrics", &[("Authorization", "Bearer scrape-me")], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Polls /metrics until `series` reads `want` (a stream ends asynchronously after its client leaves).
async fn settles(addr: &str, series: &str, want: f64) -> bool {
    for _ in 0..50 {
        if metric(&metrics(addr).await, series) == Some(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_of_a_region_share_one_publisher_and_walls_report_their_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.access.metrics_token = Some("scrape-me".into());
    let srv = start(cfg).await;
    let a = srv.addr.clone();
    let leader = login(&a, "leader").await;

    let mut yuecheng = Vec::new();
    for _ in 0..3 {
        let s = open_live(&a, "/api/live?region=330602", &leader).await;
        assert_eq!(s.status, 200);
        yuecheng.push(s);
    }
    let m = metrics(&a).await;
    assert_eq!(metric(&m, "cockpit_live_streams"), Some(3.0), "{m}");
    assert_eq!(metric(&m, "cockpit_live_regions"), Some(1.0), "three streams of one region, one publisher: {m}");
    let zhuji = open_live(&a, "/api/live?region=330681", &leader).await;
    assert_eq!(zhuji.status, 200);
    assert!(settles(&a, "cockpit_live_regions", 2.0).await);
    let computed = metric(&metrics(&a).await, "cockpit_live_snapshots_computed_total").unwrap();
    let published = metric(&metrics(&a).await, "cockpit_live_snapshots_published_total").unwrap();
    assert!(computed >= 2.0 && published >= 2.0 && published <= computed, "computed {computed}, published {published}");

    // The demo moves on (600 cases a minute): the region's publisher computes each change once, however
    // many streams listen; the counters only grow.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let m = metrics(&a).await;
    assert!(metric(&m, "cockpit_live_snapshots_computed_total").unwrap() > computed, "{m}");
    assert!(metric(&m, "cockpit_live_published_bytes_total").unwrap() > 1000.0, "{m}");

    // The last stream of a region leaving stops its publisher.
    drop(yuecheng);
    assert!(settles(&a, "cockpit_live_regions", 1.0).await, "{}", metrics(&a).await);
    drop(zhuji);
    assert!(settles(&a, "cockpit_live_regions", 0.0).await);
    assert!(settles(&a, "cockpit_live_streams", 0.0).await);

    // A wall whose watchdog reloaded it says why on its next stream; nothing else moves the count.
    let heap = r#"cockpit_wall_reloads_total{reason="heap"}"#;
    let stream = r#"cockpit_wall_reloads_total{reason="stream"}"#;
    assert_eq!(metric(&metrics(&a).await, heap), Some(0.0));
    let s = open_live(&a, "/api/live?region=330602&reloaded=heap", &leader).await;
    assert_eq!(s.status, 200);
    assert_eq!(open_live(&a, "/api/live?reloaded=later", &leader).await.status, 400, "an unknown reason is refused");
    assert_eq!(open_live(&a, "/api/live?reloaded=stream", "cockpit_session=nobody").await.status, 401);
    assert_eq!(open_live(&a, "/api/live?region=330000&reloaded=stream", &leader).await.status, 404, "outside the scope: not counted");
    let m = metrics(&a).await;
    assert_eq!(metric(&m, heap), Some(1.0), "{m}");
    assert_eq!(metric(&m, stream), Some(0.0), "{m}");
    drop(s);
    srv.stop().await;
}
