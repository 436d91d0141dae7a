//! Feeds end to end against simulated source systems speaking their real protocols (Open311 server,
//! REST API, webhook sender) and a real cockpit on a free port: everything stored once, bad records
//! quarantined with their reason and replayed after the mapping is fixed, pause and resume, restarts.
mod common;
#[path = "common/tls.rs"]
mod tls;

use common::{csrf, login, request, start};
use serde_json::{json, Value};
use server::sim::{open311::Hotline, rest::RestApi};
use std::time::Duration;

/// Three days ago: history the hotline publishes before the feed's first pull.
fn t0() -> i64 {
    static T: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T.get_or_init(|| common::now() - 3 * 86_400_000)
}

fn now() -> i64 {
    common::now()
}

async fn serve(router: axum::Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
    addr
}

/// A point inside a real grid of the demo city, in GCJ-02 as a Chinese map vendor would send it.
fn grid_point(n: usize) -> (String, f64, f64) {
    let rows = server::city::shaoxing::build();
    let g = rows.iter().filter(|r| r.level == app::model::Level::Grid).nth(n * 37).unwrap();
    let [lon, lat] = geom::label_point(&g.shape);
    let (x, y) = geom::china::wgs84_to_gcj02(lon, lat);
    (g.code.clone(), x, y)
}

fn w3c(ms: i64) -> String {
    server::feeds::open311::w3c(ms)
}

fn request_json(id: usize, status: &str, code: &str, updated: i64) -> Value {
    let (_, lon, lat) = grid_point(id % 20);
    json!({"service_request_id": format!("R-{id}"), "status": status, "service_code": code, "description": "路灯不亮",
        "requested_datetime": w3c(t0() + id as i64 * 60_000), "updated_datetime": w3c(updated), "long": lon, "lat": lat,
        "agency_responsible": "城管局"})
}

fn config_text(hotline: &str, api: &str, category_map: &str) -> String {
    format!(
        r#"
[[feeds]]
name = "hotline"
type = "open311"
endpoint = "http://{hotline}/open311/v2"
backfill_days = 3650
window_hours = 1000000
max_results = 25
interval_seconds = 1
overlap_seconds = 5
cadence_seconds = 60
[feeds.mapping]
record = "case"
id = "service_request_id"
time = "updated_datetime"
status = "status"
status_map = {{ open = "accepted", closed = "closed" }}
category = "service_code"
category_map = {category_map}
source = "hotline_12345"
reported_at = "requested_datetime"
summary = "description"
department = "agency_responsible"
lon = "long"
lat = "lat"
datum = "gcj02"

[[feeds]]
name = "alarms"
type = "http_pull"
url = "http://{api}/api/records"
interval_seconds = 1
cadence_seconds = 60
[feeds.mapping]
record = "observation"
id = "alarm_id"
version = "rev"
time = "ts"
time_format = "unix_ms"
indicator = "alarm"
region = "district"

[[feeds]]
name = "petitions"
type = "webhook"
token = "petition-token"
secret = "petition-secret"
cadence_seconds = 60
[feeds.mapping]
record = "case"
id = "编号"
version = "版本"
time = "更新时间"
time_format = "local"
status = "状态"
status_map = {{ "已受理" = "accepted", "办理中" = "handling", "已办结" = "closed" }}
category = "类别"
category_map = {{ "矛盾纠纷" = "dispute" }}
source = "petition"
region = "网格"
"#
    )
}

async fn feeds(addr: &str, cookie: &str) -> Value {
    let r = request(addr, "GET", "/api/admin/feeds", &[("Cookie", cookie)], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

fn feed<'a>(all: &'a Value, name: &str) -> &'a Value {
    all["feeds"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("feed {name} listed"))
}

/// Polls the admin API until `pred` holds for the feed, or fails with what it last saw.
async fn until(addr: &str, cookie: &str, name: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let all = feeds(addr, cookie).await;
        let f = feed(&all, name).clone();
        if pred(&f) {
            let sum = f["stored"].as_u64().unwrap() + f["duplicate"].as_u64().unwrap() + f["quarantined"].as_u64().unwrap();
            assert_eq!(sum, f["received"].as_u64().unwrap(), "every input is stored, duplicate or quarantined: {f}");
            return f;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name}: {what}; last seen {f}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn post(addr: &str, cookie: &str, path: &str) -> common::Resp {
    let token = csrf(addr, cookie).await;
    request(addr, "POST", path, &[("Cookie", cookie), ("x-csrf-token", &token)], "").await
}

fn petition(id: &str, version: i64, status: &str, grid: &str) -> Value {
    json!({"编号": id, "版本": version, "更新时间": "2025-11-20 09:30:00", "状态": status, "类别": "矛盾纠纷", "网格": grid})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_and_push_feeds_store_everything_once_and_quarantine_with_reasons() {
    let hotline = Hotline::new(25);
    let api = RestApi::new(50);
    let (h_addr, a_addr) = (serve(hotline.router()).await, serve(api.router()).await);
    // 60 requests (more than two full pages: windows must split), one with a service code we do not map.
    for i in 0..60 {
        hotline.publish(request_json(i, if i % 3 == 0 { "closed" } else { "open" }, "001", t0() + i as i64 * 120_000));
    }
    hotline.publish(request_json(60, "open", "099", t0() + 60 * 120_000));
    let districts = ["330602", "330603", "330681"];
    for i in 0..120 {
        let district = districts[i as usize % 3];
        api.publish(i + 1, json!({"alarm_id": format!("A{i}"), "rev": 1, "ts": t0() + i, "district": district}));
    }
    api.publish(0, json!({"alarm_id": "A0", "rev": 1, "ts": t0(), "district": "330602"})); // delivered twice
    api.publish(0, json!({"alarm_id": "A-bad", "rev": 1, "ts": "yesterday", "district": "330602"}));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cockpit.toml");
    std::fs::write(&file, config_text(&h_addr, &a_addr, r#"{ "001" = "hazard" }"#)).unwrap();
    let mut cfg = server::config::Config::from_toml(&std::fs::read_to_string(&file).unwrap()).unwrap();
    cfg.file = Some(file.clone());
    cfg.access.metrics_token = Some("scrape-me".into());
    let srv = start(onto_test_dir(dir.path(), cfg)).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;

    let h = until(&a, &admin, "hotline", "61 requests in", |f| f["received"] == 61).await;
    assert_eq!((h["stored"].as_u64(), h["quarantined"].as_u64(), h["quarantine_expired"].as_u64()), (Some(60), Some(1), Some(0)));
    let al = until(&a, &admin, "alarms", "122 alarms in", |f| f["received"] == 122).await;
    assert_eq!((al["stored"].as_u64(), al["duplicate"].as_u64(), al["quarantined"].as_u64()), (Some(120), Some(1), Some(1)));
    let q = feeds(&a, &admin).await["quarantine"].clone();
    let reasons: Vec<String> = q.as_array().unwrap().iter().map(|r| format!("{} {} {}", r["feed"], r["external_id"], r["reason"])).collect();
    assert!(reasons.iter().any(|r| r.contains("hotline") && r.contains("R-60") && r.contains("category \\\"099\\\" has no mapping")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("alarms") && r.contains("A-bad") && r.contains("yesterday")), "{reasons:?}");
    assert!(!q.to_string().contains("路灯不亮"), "the operator API shows reasons, not record contents");

    // A case moves forward with a newer version; an older version arriving late moves nothing.
    let leader = login(&a, "leader").await;
    let case = |id: &'static str| {
        let (a, leader) = (a.clone(), leader.clone());
        async move {
            let r = request(&a, "GET", &format!("/api/cases/hotline/{id}"), &[("Cookie", &leader)], "").await;
            assert_eq!(r.status, 200, "{}", r.body);
            serde_json::from_str::<Value>(&r.body).unwrap()
        }
    };
    assert_eq!(case("R-4").await["status"], "Accepted");
    hotline.publish(request_json(4, "closed", "001", now()));
    until(&a, &admin, "hotline", "R-4 closed", |f| f["stored"] == 61).await;
    assert_eq!(case("R-4").await["status"], "Closed");

    // An older version arriving after a newer one (a source replaying its log) is a duplicate and moves nothing.
    let closed_at = now();
    hotline.publish(request_json(7, "closed", "001", closed_at));
    until(&a, &admin, "hotline", "R-7 closed", |f| f["stored"] == 62).await;
    let mut stale_version = request_json(7, "open", "001", closed_at - 60_000);
    stale_version["updated_datetime"] = json!(w3c(closed_at - 1_000));
    hotline.publish(stale_version);
    until(&a, &admin, "hotline", "the older version seen", |f| f["duplicate"].as_u64().unwrap() >= 1).await;
    assert_eq!(case("R-7").await["status"], "Closed", "a late, older version does not reopen a case");
    // Same for a pulled REST record: revision 2 then revision 1 of one alarm.
    api.publish(200, json!({"alarm_id": "A5", "rev": 2, "ts": t0() + 5, "district": "330603"}));
    api.publish(201, json!({"alarm_id": "A5", "rev": 1, "ts": t0() + 5, "district": "330602"}));
    // The REST API goes down and comes back: the feed backs off and takes what was published meanwhile.
    api.set_down(true);
    until(&a, &admin, "alarms", "an error seen", |f| f["errors"].as_u64().unwrap() > 0).await;
    api.publish(202, json!({"alarm_id": "A-late", "rev": 1, "ts": now(), "district": "330602"}));
    api.set_down(false);
    let al = until(&a, &admin, "alarms", "caught up after the outage", |f| f["received"] == 125).await;
    assert_eq!((al["stored"].as_u64(), al["duplicate"].as_u64()), (Some(122), Some(2)), "rev 2 and A-late stored; rev 1 after rev 2 is a duplicate");

    // The hotline goes down: errors are counted, nothing is lost, the feed catches up when it is back.
    hotline.set_down(true);
    until(&a, &admin, "hotline", "an error seen", |f| f["errors"].as_u64().unwrap() > 0).await;
    for i in 61..70 {
        hotline.publish(request_json(i, "open", "001", now()));
    }
    hotline.set_down(false);
    until(&a, &admin, "hotline", "caught up after the outage", |f| f["stored"] == 71).await;

    // Webhook: signed pushes are stored once; wrong signatures, stale timestamps and pushes while paused are refused.
    let client = reqwest::Client::new();
    let url = format!("http://{a}/feeds/petitions/webhook");
    let grid = grid_point(3).0;
    let batch = vec![petition("P1", 1, "已受理", &grid), petition("P2", 1, "办理中", &grid), petition("P3", 1, "错误状态", &grid)];
    let now = common::now() / 1000;
    let push = |records: Vec<Value>, secret: &'static str, ts: i64| {
        let (client, url) = (client.clone(), url.clone());
        async move { server::sim::webhook::push(&client, &url, "petition-token", secret, &records, ts).await.unwrap() }
    };
    let (status, body) = push(batch.clone(), "petition-secret", now).await;
    assert_eq!((status, body.as_str()), (200, r#"{"duplicate":0,"quarantined":1,"stored":2}"#));
    assert_eq!(push(batch.clone(), "petition-secret", now).await, (200, r#"{"duplicate":3,"quarantined":0,"stored":0}"#.to_string()), "a replay within the window is a duplicate, the bad record's too");
    assert_eq!(push(batch.clone(), "wrong-secret", now).await.0, 401);
    assert_eq!(push(batch.clone(), "petition-secret", now - 3600).await.0, 401, "a replay after the window is refused");
    assert_eq!(post(&a, &admin, "/api/admin/feeds/petitions/pause").await.status, 200);
    assert_eq!(push(vec![petition("P1", 2, "已办结", &grid)], "petition-secret", now).await.0, 503, "paused: retry later");
    assert_eq!(post(&a, &admin, "/api/admin/feeds/petitions/resume").await.status, 200);
    assert_eq!(push(vec![petition("P1", 2, "已办结", &grid), petition("P1", 1, "已受理", &grid)], "petition-secret", now).await.1, r#"{"duplicate":1,"quarantined":0,"stored":1}"#);
    let p1 = request(&a, "GET", "/api/cases/petitions/P1", &[("Cookie", &leader)], "").await;
    assert!(p1.body.contains(r#""status":"Closed""#), "{}", p1.body);
    until(&a, &admin, "petitions", "pushes counted", |f| f["received"] == 8).await;

    // The mapping is fixed in the config file; reload restarts the feed, replay takes the quarantined record.
    std::fs::write(&file, config_text(&h_addr, &a_addr, r#"{ "001" = "hazard", "099" = "environment" }"#)).unwrap();
    let r = post(&a, &admin, "/api/admin/feeds/reload").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""restarted":["hotline"]"#), "{}", r.body);
    let r = post(&a, &admin, "/api/admin/feeds/hotline/replay").await;
    assert_eq!(r.body, r#"{"duplicate":0,"feed":"hotline","quarantined":0,"stored":1}"#);
    let h = until(&a, &admin, "hotline", "R-60 replayed", |f| f["quarantined"] == 0).await;
    assert_eq!(h["stored"].as_u64(), Some(72), "each request and update stored once; re-reads of the overlap are duplicates");
    assert_eq!(case("R-60").await["category"], "Environment");

    // A bad config on reload changes nothing and says why.
    std::fs::write(&file, config_text(&h_addr, &a_addr, r#"{ "001" = "fire" }"#)).unwrap();
    let r = post(&a, &admin, "/api/admin/feeds/reload").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("hotline") && r.body.contains("category_map") && r.body.contains("fire"), "{}", r.body);

    // Operators' views and machines' endpoints.
    assert_eq!(request(&a, "GET", "/api/admin/feeds", &[("Cookie", &leader)], "").await.status, 404, "only administrators operate feeds");
    let m = request(&a, "GET", "/metrics", &[("Authorization", "Bearer scrape-me")], "").await;
    assert_eq!(m.status, 200);
    assert!(m.body.contains(r#"cockpit_feed_records_total{feed="hotline",outcome="stored"} 72"#), "{}", m.body);
    assert_eq!(request(&a, "GET", "/metrics", &[("Authorization", "Bearer nope")], "").await.status, 401);
    assert_eq!(request(&a, "GET", "/readyz", &[], "").await.status, 200);
    let auditor = login(&a, "auditor").await;
    let log = request(&a, "GET", "/api/audit?actor=admin", &[("Cookie", &auditor)], "").await.body;
    for action in ["feed_pause", "feed_resume", "feed_replay", "feeds_reload"] {
        assert!(log.contains(action), "{action} is audited: {log}");
    }
    let page = request(&a, "GET", "/feeds", &[("Cookie", &admin)], "").await;
    assert!(page.body.contains("数据接入") && page.body.contains("hotline"), "{}", page.status);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cockpit_restart_mid_stream_loses_and_doubles_nothing() {
    let hotline = Hotline::new(25);
    let api = RestApi::new(7);
    let (h_addr, a_addr) = (serve(hotline.router()).await, serve(api.router()).await);
    for i in 0..40 {
        hotline.publish(request_json(i, "open", "001", t0() + i as i64 * 60_000));
        api.publish(i as i64 + 1, json!({"alarm_id": format!("A{i}"), "rev": 1, "ts": t0() + i as i64, "district": "330602"}));
    }
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(&h_addr, &a_addr, r#"{ "001" = "hazard" }"#);
    let config = || {
        onto_test_dir(dir.path(), server::config::Config::from_toml(&text).unwrap())
    };
    let srv = start(config()).await;
    let admin = login(&srv.addr, "admin").await;
    // Stop as soon as some, not all, of the alarms are in: pages of 7 are taken one at a time.
    until(&srv.addr, &admin, "alarms", "some alarms in", |f| f["stored"].as_u64().unwrap() >= 7).await;
    srv.stop().await;
    for i in 40..60 {
        hotline.publish(request_json(i, "open", "001", now()));
        api.publish(i as i64 + 1, json!({"alarm_id": format!("A{i}"), "rev": 1, "ts": t0() + i as i64, "district": "330602"}));
    }
    let srv = start(config()).await;
    let admin = login(&srv.addr, "admin").await;
    let al = until(&srv.addr, &admin, "alarms", "all 60 alarms", |f| f["stored"] == 60).await;
    assert_eq!(al["quarantined"], 0);
    let h = until(&srv.addr, &admin, "hotline", "all 60 requests", |f| f["stored"] == 60).await;
    assert_eq!(h["quarantined"], 0);
    // A push source retries until it gets a 2xx: across a restart each record is stored once.
    let client = reqwest::Client::new();
    let url = format!("http://{}/feeds/petitions/webhook", srv.addr);
    let grid = grid_point(5).0;
    let batch = vec![petition("Q1", 1, "已受理", &grid), petition("Q2", 1, "已受理", &grid)];
    let push = || server::sim::webhook::push(&client, &url, "petition-token", "petition-secret", &batch, now() / 1000);
    assert_eq!(push().await.unwrap().0, 200);
    let addr = srv.addr.clone();
    srv.stop().await;
    assert!(push().await.is_err(), "nobody listens while the cockpit restarts");
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::run_with_clock(listener, config(), common::clock(), async move {
        let _ = stop_rx.changed().await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (status, body) = loop {
        match push().await {
            Ok(r) => break r,
            Err(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!((status, body.as_str()), (200, r#"{"duplicate":2,"quarantined":0,"stored":0}"#), "the retry finds both already stored");
    stop_tx.send(true).unwrap();
    task.await.unwrap().unwrap();
    let srv = start(config()).await;
    // Every request is a case, in the status its source gives.
    let leader = login(&srv.addr, "leader").await;
    for i in 0..60 {
        let r = request(&srv.addr, "GET", &format!("/api/cases/hotline/R-{i}"), &[("Cookie", &leader)], "").await;
        assert!(r.status == 200 && r.body.contains(r#""status":"Accepted""#), "R-{i}: {} {}", r.status, r.body);
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_citys_systems_reach_the_safety_scene_through_real_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    for name in ["hotline", "alarms", "video", "stats"] {
        let f = until(&a, &admin, name, "history taken", |f| f["stored"].as_u64().unwrap() > 0 && f["lag_ms"].is_number()).await;
        assert_eq!(f["quarantined"], 0, "{name}: {f}");
    }
    until(&a, &admin, "petitions", "a petition pushed", |f| f["stored"].as_u64().unwrap() > 0).await;
    let leader = login(&a, "leader").await;
    let r = request(&a, "GET", "/api/safety", &[("Cookie", &leader)], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: app::model::SafetyView = serde_json::from_str(&r.body).unwrap();
    let fig = |k: app::model::SafetyKey| v.figures.iter().find(|f| f.key == k).unwrap().clone();
    use app::model::SafetyKey::*;
    for k in [VideoOnline, Alarms, CriminalFiled, CriminalSolved, SafetySurvey, PsychServed, HazardsFound, HazardsFixed, MajorIncidents, BacklogResolution, LawSatisfaction] {
        let f = fig(k);
        assert!(f.value.is_some() && f.year_ago.is_some() && !f.sources.is_empty() && f.as_of.is_some() && !f.stale, "{k:?}: {f:?}");
    }
    assert!(fig(CriminalFiled).previous.is_some());
    assert!(fig(VideoOnline).value.unwrap() > 0.8);
    // Rates are averaged over the districts' reports (70–95 %), never summed; counts are summed.
    let resolved = fig(BacklogResolution).value.unwrap();
    assert!((70.0..=95.0).contains(&resolved), "积案化解率 {resolved}");
    assert!((90.0..=97.5).contains(&fig(LawSatisfaction).value.unwrap()));
    assert!(fig(HazardsFixed).value.unwrap() <= fig(HazardsFound).value.unwrap());
    assert!(fig(HazardsFound).value.unwrap() >= 30.0 * 6.0 * 3.0, "six districts, 30 days, at least 3 a day each");
    assert!(fig(MajorIncidents).value.unwrap() >= 0.0);
    assert!(fig(Petitions).sources.contains(&"petitions".to_string()) || fig(Petitions).sources.contains(&"demo".to_string()));
    assert_eq!(v.areas.len(), 6, "one bar per district");
    assert!(v.areas.iter().map(|a| a.channels).sum::<u32>() > 100);
    // A street official's scene covers their street only.
    let street = login(&a, "fengqiao").await;
    let r = request(&a, "GET", "/api/safety?region=330602", &[("Cookie", &street)], "").await;
    assert_eq!(r.status, 404, "outside the scope");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_past_its_cadence_marks_the_panels_it_feeds_stale() {
    let hotline = Hotline::new(25);
    let api = RestApi::new(50);
    api.publish(1, json!({"alarm_id": "A1", "rev": 1, "ts": now(), "district": "330602"}));
    let (h_addr, a_addr) = (serve(hotline.router()).await, serve(api.router()).await);
    hotline.set_down(true);
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(&h_addr, &a_addr, r#"{ "001" = "hazard" }"#).replace("cadence_seconds = 60", "cadence_seconds = 2");
    let srv = start(onto_test_dir(dir.path(), server::config::Config::from_toml(&text).unwrap())).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let leader = login(&a, "leader").await;
    until(&a, &admin, "alarms", "the one alarm in", |f| f["stored"] == 1).await;
    let fresh: app::model::WallSnapshot = serde_json::from_str(&request(&a, "GET", "/api/wall", &[("Cookie", &leader)], "").await.body).unwrap();
    assert!(fresh.stale.is_empty(), "within the cadence nothing is stale: {:?}", fresh.stale);
    // Both sources go quiet: the hotline is down, and now the alarm API too.
    api.set_down(true);
    until(&a, &admin, "alarms", "stale", |f| f["stale"] == true).await;
    until(&a, &admin, "hotline", "stale", |f| f["stale"] == true).await;
    let wall: app::model::WallSnapshot = serde_json::from_str(&request(&a, "GET", "/api/wall", &[("Cookie", &leader)], "").await.body).unwrap();
    assert_eq!(wall.stale, vec!["hotline".to_string(), "petitions".to_string()], "the case panels name their stale feeds");
    let safety: app::model::SafetyView = serde_json::from_str(&request(&a, "GET", "/api/safety", &[("Cookie", &leader)], "").await.body).unwrap();
    let alarms = safety.figures.iter().find(|f| f.key == app::model::SafetyKey::Alarms).unwrap();
    assert!(alarms.stale && alarms.sources == vec!["alarms".to_string()], "{alarms:?}");
    let video = safety.figures.iter().find(|f| f.key == app::model::SafetyKey::VideoOnline).unwrap();
    assert!(!video.stale && video.value.is_none(), "a figure without a source is unknown, not stale: {video:?}");
    // The source answering again clears it.
    api.set_down(false);
    api.publish(2, json!({"alarm_id": "A2", "rev": 1, "ts": now(), "district": "330602"}));
    until(&a, &admin, "alarms", "fresh again", |f| f["stale"] == false).await;
    srv.stop().await;
}

/// The simulator as its own process prints feed declarations a cockpit accepts, and serves what they name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_binary_prints_feeds_a_cockpit_accepts() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cockpit-sim"))
        .args(["--cockpit", "127.0.0.1:9", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        for l in std::io::BufReader::new(stdout).lines() {
            let l = l.unwrap();
            let last = l == "# end of feeds";
            text.push_str(&l);
            text.push('\n');
            if last {
                break;
            }
        }
        text
    });
    let text = tokio::time::timeout(Duration::from_secs(60), read).await.expect("the simulator prints its feeds").unwrap();
    let cfg = server::config::Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let specs = server::feeds::registry::FeedSpec::parse_all(&cfg.feeds).unwrap();
    let kinds: Vec<&str> = specs.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, vec!["open311", "http_pull", "http_pull", "file_drop", "webhook", "http_pull"]);
    assert!(specs[5].results.as_ref().is_some_and(|r| r.url.ends_with("/api/mediation-results")), "the court takes its results back");
    let server::feeds::kinds::KindConfig::Open311(o) = &specs[0].kind else { panic!() };
    let r = reqwest::get(format!("{}/requests.json?start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00Z", o.endpoint)).await.unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    assert!(list.len() >= 200, "the hotline serves its history");
    child.kill().unwrap();
    let _ = child.wait();
}

/// An `https` source whose certificate a city's own CA signed: read with that CA as `ca_file`, refused
/// without it (the system's store does not know the CA), and a bad `ca_file` is refused at load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_pull_reads_an_https_source_signed_by_the_citys_own_ca() {
    let api = RestApi::new(50);
    for i in 0..30 {
        api.publish(i + 1, json!({"alarm_id": format!("A{i}"), "rev": 1, "ts": t0() + i, "district": "330602"}));
    }
    let front = tls::front(&serve(api.router()).await).await;
    let feed = |name: &str, ca: &str| {
        format!(
            "[[feeds]]\nname = \"{name}\"\ntype = \"http_pull\"\nurl = \"https://{}/api/records\"\ninterval_seconds = 1\n{ca}\n\
             [feeds.mapping]\nrecord = \"observation\"\nid = \"alarm_id\"\nversion = \"rev\"\ntime = \"ts\"\ntime_format = \"unix_ms\"\nindicator = \"alarm\"\nregion = \"district\"\n",
            front.addr
        )
    };
    let text = feed("alarms", &format!("ca_file = {:?}", front.ca_file.display().to_string())) + &feed("alarms-untrusted", "");
    let dir = tempfile::tempdir().unwrap();
    let srv = start(onto_test_dir(dir.path(), server::config::Config::from_toml(&text).unwrap())).await;
    let admin = login(&srv.addr, "admin").await;

    let f = until(&srv.addr, &admin, "alarms", "30 alarms over TLS", |f| f["stored"] == 30).await;
    assert_eq!(f["quarantined"], 0);
    let u = until(&srv.addr, &admin, "alarms-untrusted", "a certificate error", |f| f["errors"].as_u64().unwrap() > 0).await;
    assert_eq!(u["received"], 0, "nothing is read from a source whose certificate is not trusted");
    let why = u["last_error"]["error"].as_str().unwrap().to_string();
    assert!(why.contains("cannot connect") && why.contains("certificate") && why.contains("UnknownIssuer"), "{why}");

    let bad = std::env::temp_dir().join(format!("cockpit-not-a-ca-{}.pem", std::process::id()));
    std::fs::write(&bad, "not a certificate").unwrap();
    let e = server::config::Config::from_toml(&feed("alarms", &format!("ca_file = {:?}", bad.display().to_string()))).unwrap_err();
    assert!(e.0.contains("feeds[0] (\"alarms\")") && e.0.contains("no PEM certificate"), "{e}");
    let _ = std::fs::remove_file(&bad);
    srv.stop().await;
}

/// A feed config on the test's data directory and demo, with administrators signing in by password
/// alone (the second factor has its own tests).
fn onto_test_dir(dir: &std::path::Path, cfg: server::config::Config) -> server::config::Config {
    let base = common::config(dir);
    let mut cfg = server::config::Config { data_dir: base.data_dir, site_root: base.site_root, demo: base.demo, ..cfg };
    cfg.access.two_factor = base.access.two_factor;
    cfg
}

/// Rosters from a city's own grid-management system through a signed webhook (record = "duty"): lines
/// stored once, a bad line quarantined with why, the tablet shows who is on duty, a line again changes
/// nothing, and a changed end moves the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_pushed_by_the_grid_system_reaches_the_tablet() {
    use app::duty::DutyStatus;
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[[feeds]]
name = "roster"
type = "webhook"
token = "roster-token"
secret = "roster-secret"
[feeds.mapping]
record = "duty"
id = "行号"
version = "修改时间"
time = "开始"
time_format = "unix_ms"
until = "结束"
worker = "姓名"
duty_kind = "类型"
duty_kind_map = { "值班" = "shift", "请假" = "leave" }
region = "网格"
"#;
    let cfg = onto_test_dir(dir.path(), server::config::Config::from_toml(text).unwrap());
    const H: i64 = 3_600_000;
    // 22:00 on the pinned Wednesday: the demo's own roster has nobody on shift (its leave may count).
    let t = common::PINNED_MS + 12 * H;
    let clock = server::clock::Clock::manual(t);
    let seed = cfg.demo.seed;
    let srv = common::start_with_clock(cfg, clock.clone()).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let huayuan = login(&a, "huayuan").await;
    let tree = server::city::RegionTree::new(server::city::shaoxing::build()).unwrap();
    let grids: Vec<String> = tree.iter().filter(|(_, r)| r.row.grid.is_some() && r.row.code.starts_with("330602001004")).map(|(_, r)| r.row.code.clone()).collect();
    let worker = |g: &str| tree.get(tree.find(g).unwrap()).row.grid.as_ref().and_then(|a| a.worker.clone());
    let calendar = server::calendar::Calendar::new(&Default::default()).unwrap();
    let today = app::model::local_day(t);
    let demo_plan: Vec<_> = (today - 3..=today + 2).flat_map(|d| server::feeds::demo_roster::plan_day(&tree, &calendar, seed, d)).collect();
    let demo_leave = |g: &str| demo_plan.iter().any(|p| p.grid == g && p.kind == app::duty::DutyKind::Leave && p.from <= t + 30 * H && t - 20 * H < p.to);
    let staffed: Vec<&String> = grids.iter().filter(|g| worker(g).is_some() && !demo_leave(g)).collect();
    assert!(staffed.len() >= 2, "花园社区 has staffed grids");
    let (g1, g2) = (staffed[0].clone(), staffed[1].clone());
    let line = |n: u32, v: i64, g: &str, kind: &str, from: i64, to: i64| json!({"行号": n, "修改时间": v, "开始": from, "结束": to, "姓名": worker(g).unwrap_or_else(|| "王伟".into()), "类型": kind, "网格": g});
    let client = reqwest::Client::new();
    let url = format!("http://{a}/feeds/roster/webhook");
    let push = |records: Vec<Value>| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let (status, body) = server::sim::webhook::push(&client, &url, "roster-token", "roster-secret", &records, t / 1000).await.unwrap();
            assert_eq!(status, 200, "{body}");
        }
    };
    push(vec![
        line(1, 1, &g1, "值班", t - 2 * H, t + 2 * H),
        line(2, 1, &g2, "请假", t - 20 * H, t + 30 * H),
        // A district is not a grid; a 30-hour shift is a typing error; an unknown kind has no mapping.
        line(3, 1, "330602", "值班", t - H, t + H),
        line(4, 1, &g1, "值班", t + 20 * H, t + 50 * H),
        line(5, 1, &g1, "调休", t, t + H),
    ])
    .await;
    let f = until(&a, &admin, "roster", "five lines taken", |f| f["received"] == 5).await;
    assert_eq!((f["stored"].as_u64(), f["quarantined"].as_u64()), (Some(2), Some(3)), "{f}");
    let q = feeds(&a, &admin).await["quarantine"].to_string();
    assert!(q.contains("330602") && q.contains("longer than a day") && q.contains("调休"), "{q}");

    let coverage = || async {
        let r = request(&a, "GET", "/api/coverage?region=330602001004", &[("Cookie", huayuan.as_str())], "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str::<app::model::Coverage>(&r.body).unwrap().duty
    };
    let status_of = |d: &app::duty::DutyView, g: &str| d.grids.iter().find(|x| x.code == g).map(|x| (x.status, x.until)).unwrap();
    let d = coverage().await;
    assert_eq!(status_of(&d, &g1), (DutyStatus::OnDuty, Some(t + 2 * H)));
    assert_eq!(status_of(&d, &g2), (DutyStatus::OnLeave, Some(t + 30 * H)));
    assert_eq!(d.count.on_duty, 1, "only the pushed shift at 22:00");

    // The same line again is a duplicate; a new version ending the shift now takes the worker off duty.
    push(vec![line(1, 1, &g1, "值班", t - 2 * H, t + 2 * H), line(1, 2, &g1, "值班", t - 2 * H, t)]).await;
    let f = until(&a, &admin, "roster", "the second delivery", |f| f["received"] == 7).await;
    assert_eq!((f["stored"].as_u64(), f["duplicate"].as_u64()), (Some(3), Some(1)), "{f}");
    assert_eq!(status_of(&coverage().await, &g1).0, DutyStatus::OffDuty);
    srv.stop().await;
}
