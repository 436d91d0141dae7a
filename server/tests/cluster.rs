//! Three cockpit processes on one PostgreSQL and one nats-server (JetStream), as an operator runs them
//! behind a load balancer: walls (live streams) on two of them, a source system's webhook pushes into
//! the third, which is killed with SIGKILL in the middle of a push; the pusher retries elsewhere, as
//! it would through a balancer. Then: every record stored once, every surviving instance's figures
//! equal to a recount of the store, every surviving wall holding what its instance shows now, an
//! oversight action taken on one instance on the wall of the other, a sign-out on one refused on the
//! other within a second, and the demo feed's lease taken over by a survivor.
#[path = "common/peers.rs"]
mod peers;

mod common;
#[path = "common/cluster.rs"]
mod cluster;

use cluster::{petition, push, Instance, Wall, START};
use peers::{Broker, Pg};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What a snapshot says that the store decides (not the moment it was made).
fn figures(s: &Value) -> Value {
    let kpis: Vec<Value> = s["kpis"].as_array().unwrap().iter().map(|k| json!([k["key"], k["value"]])).collect();
    json!({ "kpis": kpis, "areas": s["areas"], "alerts": s["alerts"], "flow": s["flow"], "categories": s["categories"] })
}


#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_one_killed_mid_ingest_nothing_lost_or_doubled() {
    let pg = Pg::new().await;
    let nats = Broker::nats();
    // The first creates the city and the demo accounts and takes the demo feed's lease; the others
    // join it.
    let mut a = Instance::start("a", &pg, &nats);
    a.healthy().await;
    let mut b = Instance::start("b", &pg, &nats);
    let mut c = Instance::start("c", &pg, &nats);
    b.healthy().await;
    c.healthy().await;
    assert!(a.log_text().contains("lease taken") && a.log_text().contains("feed:demo"), "a runs the demo feed: {}", a.log_text());

    // A session made on b works on c (both read the shared store).
    let leader = common::login(&b.addr, "leader").await;
    let me = common::request(&c.addr, "GET", "/api/me", &[("Cookie", leader.as_str())], "").await;
    assert_eq!(me.status, 200, "the very next request, sent by the balancer to another instance, is signed in: {}", me.body);
    let wall_b = Wall::open(&b.addr, &leader).await;
    let wall_c = Wall::open(&c.addr, &leader).await;

    // 300 petitions into a, 10 to a push; a is killed while the 16th push is on its way.
    let grids: Vec<String> = server::city::shaoxing::build().into_iter().filter(|r| r.level == app::model::Level::Grid).step_by(97).take(30).map(|r| r.code).collect();
    let client = reqwest::Client::new();
    let batches: Vec<Vec<Value>> = (0..30).map(|k| (0..10).map(|j| petition(k * 10 + j, 1, "accepted", &grids[(k * 10 + j) % grids.len()])).collect()).collect();
    for batch in &batches[..15] {
        assert_eq!(push(&client, &a.addr, &c.addr, batch).await.0, 200);
    }
    let in_flight = {
        let (client, batch, a_addr, c_addr) = (client.clone(), batches[15].clone(), a.addr.clone(), c.addr.clone());
        tokio::spawn(async move { push(&client, &a_addr, &c_addr, &batch).await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    assert_eq!(in_flight.await.unwrap().0, 200, "the push in flight lands somewhere");
    for batch in &batches[16..] {
        assert_eq!(push(&client, &a.addr, &c.addr, batch).await.0, 200, "the balancer sends what a would have had to c");
    }
    // A hundred of them closed, through b.
    for k in 0..10 {
        let closes: Vec<Value> = (0..10).map(|j| petition(k * 10 + j, 2, "closed", &grids[(k * 10 + j) % grids.len()])).collect();
        assert_eq!(push(&client, &b.addr, &c.addr, &closes).await.0, 200);
    }

    // Every record once: 300 cases, 100 closed, 400 (id, version) pairs taken.
    let sql = |q: &'static str| pg.count(q);
    assert_eq!(sql("SELECT COUNT(*) FROM cases WHERE feed = 'petitions'").await, 300);
    assert_eq!(sql("SELECT COUNT(*) FROM cases WHERE feed = 'petitions' AND status = 'closed'").await, 100);
    assert_eq!(sql("SELECT COUNT(*) FROM feed_records WHERE feed = 'petitions'").await, 400, "each record version taken once");
    assert_eq!(sql("SELECT COUNT(*) FROM (SELECT 1 FROM case_events GROUP BY feed, case_id, origin, seq HAVING COUNT(*) > 1) AS d").await, 0);

    // An oversight action on b reaches the wall on c.
    let token = common::csrf(&b.addr, &leader).await;
    let sent = Instant::now();
    let r = common::post_json(&b.addr, &leader, &token, "/api/cases/petitions/XF-0200/actions", r#"{"action":"supervise","note":"请今日办结"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    while wall_c.supervised_at.lock().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the 督办 taken on b never reached the wall on c");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = wall_c.supervised_at.lock().unwrap().unwrap() - sent;
    println!("督办 on b → wall on c: {} ms", delivered.as_millis());
    assert!(delivered < Duration::from_secs(1), "within the live-update budget: {delivered:?}");

    // Quiet now: each survivor's figures equal a recount of the store, and each wall holds them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let store = server::store::PgStore::open(&pg.url(), None).await.unwrap();
    let tree = std::sync::Arc::new(server::city::RegionTree::new(server::store::Store::load_regions(&store).await.unwrap()).unwrap());
    let now = server::clock::parse_instant(START).unwrap() + 60_000;
    let recount = server::indicators::recount(tree.clone(), &store, now).await.unwrap();
    let want = figures(&serde_json::to_value(recount.snapshot(tree.root())).unwrap());
    assert_eq!(want["kpis"][1][1], json!(200.0), "the recount holds 200 open cases: {want}");
    for (inst, wall) in [(&b, &wall_b), (&c, &wall_c)] {
        assert_eq!(figures(&inst.snapshot(&leader).await), want, "instance {} equals the recount", inst.name);
        assert_eq!(figures(&wall.now()), want, "the wall on {} saw every change", inst.name);
    }

    // The demo feed's lease moved to a survivor within a few seconds of a's end.
    let deadline = Instant::now() + Duration::from_secs(10);
    while ![&b, &c].iter().any(|i| i.log_text().contains("lease taken") && i.log_text().lines().any(|l| l.contains("lease taken") && l.contains("feed:demo"))) {
        assert!(Instant::now() < deadline, "nobody took the demo feed over");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // c stops (SIGTERM: its last snapshot written and shared); d joins with an empty data directory and
    // starts from the shared snapshot and the store's tail, not from a recount of everything.
    wall_c.task.abort();
    let _ = std::process::Command::new("kill").args(["-TERM", &c.child.id().to_string()]).status();
    let stopped = Instant::now();
    while c.child.try_wait().unwrap().is_none() {
        assert!(stopped.elapsed() < Duration::from_secs(20), "c did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(c.log_text().contains("engine snapshot shared"), "c shared its snapshot: {}", c.log_text());
    let mut d = Instance::start("d", &pg, &nats);
    d.healthy().await;
    assert!(d.log_text().contains("the shared engine snapshot fetched") && d.log_text().contains("Snapshot {"), "d started from the shared snapshot: {}", d.log_text());
    assert_eq!(figures(&d.snapshot(&leader).await), want, "d equals the recount");
    let c = d;

    // Paused on b: c refuses the source's pushes within a second (retry later); resumed, c takes them.
    let admin = common::login(&b.addr, "admin").await;
    let admin_token = common::csrf(&b.addr, &admin).await;
    let m = common::request(&b.addr, "GET", "/metrics", &[("Cookie", admin.as_str())], "").await;
    assert!(m.body.contains("cockpit_bus_connected 1"), "b is on the bus: {}", m.body);
    let to_c = |records: Vec<Value>| {
        let (client, url) = (client.clone(), format!("http://{}/feeds/petitions/webhook", c.addr));
        async move { server::sim::webhook::push(&client, &url, "petition-token", "petition-secret", &records, common::now() / 1000).await.unwrap().0 }
    };
    assert_eq!(common::post_json(&b.addr, &admin, &admin_token, "/api/admin/feeds/petitions/pause", "").await.status, 200);
    let paused = Instant::now();
    while to_c(vec![petition(300, 1, "accepted", &grids[0])]).await != 503 {
        assert!(paused.elapsed() < Duration::from_secs(1), "c still takes pushes of a feed paused on b");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(to_c(vec![petition(301, 1, "accepted", &grids[0])]).await, 503);
    assert_eq!(pg.count("SELECT COUNT(*) FROM cases WHERE case_id = 'XF-0301'").await, 0, "nothing taken while paused");
    assert_eq!(common::post_json(&b.addr, &admin, &admin_token, "/api/admin/feeds/petitions/resume", "").await.status, 200);
    let resumed = Instant::now();
    while to_c(vec![petition(301, 1, "accepted", &grids[0])]).await != 200 {
        assert!(resumed.elapsed() < Duration::from_secs(1), "c still refuses pushes of a feed resumed on b");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(pg.count("SELECT COUNT(*) FROM cases WHERE case_id = 'XF-0301'").await, 1);

    // A holiday saved on b is in force on c within a second (new deadlines count on it there).
    let fields = common::form(&[("csrf", admin_token.as_str()), ("hours", "08:30-12:00, 13:30-17:30"), ("holidays", "2026-12-03"), ("extra_workdays", "")]);
    let h = [("Cookie", admin.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    assert_eq!(common::request(&b.addr, "POST", "/admin/settings/calendar", &h, &fields).await.status, 303);
    let saved = Instant::now();
    while !common::request(&c.addr, "GET", "/api/admin/settings", &[("Cookie", admin.as_str())], "").await.body.contains("2026-12-03") {
        assert!(saved.elapsed() < Duration::from_secs(1), "c still counts on the calendar before b's save");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A wall shows its code on b; the administrator enters it on c; the wall, asking b, gets its token.
    Box::pin(a_wall_pairs_across_instances(&b.addr, &c.addr, &admin, &admin_token)).await;

    // Signed out on b, refused on c within a second.
    let form = common::form(&[("csrf", token.as_str())]);
    let out = common::request(&b.addr, "POST", "/auth/logout", &[("Cookie", leader.as_str()), ("Content-Type", "application/x-www-form-urlencoded")], &form).await;
    assert!(out.status < 400, "signed out: {} {}", out.status, out.body);
    let signed_out = Instant::now();
    loop {
        let r = common::request(&c.addr, "GET", "/api/me", &[("Cookie", leader.as_str())], "").await;
        if r.status == 401 {
            break;
        }
        assert!(signed_out.elapsed() < Duration::from_secs(1), "c still honours a session ended on b: {}", r.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wall_b.task.abort();
}

/// The pairing code lives in the shared store: shown by one instance, entered on another, handed over
/// by the first; the wall's last sighting on one shows on the other's admin page.
async fn a_wall_pairs_across_instances(b: &str, c: &str, admin: &str, admin_token: &str) {
    let screen = common::request(b, "GET", "/device", &[], "").await;
    let pairing = screen.cookie("cockpit_pairing").expect("the screen holds its pairing secret");
    let code = screen.body.split("id=\"device-code\">").nth(1).and_then(|r| r.split('<').next()).unwrap().to_string();
    let fields = common::form(&[("csrf", admin_token), ("name", "指挥中心大屏"), ("place", "市综治中心"), ("scope", "330602"), ("code", &code)]);
    let h = [("Cookie", admin), ("Content-Type", "application/x-www-form-urlencoded")];
    let r = common::request(c, "POST", "/admin/devices", &h, &fields).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin?done=device"), "c knows the code b showed: {} {}", r.status, r.body);
    let ready = common::request(b, "GET", "/device/wait", &[("Cookie", pairing.as_str())], "").await;
    assert!(ready.body.contains("ready"), "{}", ready.body);
    let device = ready.cookie("cockpit_device").expect("the wall's token, from b");
    let on_c = common::request(c, "GET", "/api/me", &[("Cookie", device.as_str())], "").await;
    assert_eq!(on_c.status, 200, "the token minted on b works on c: {}", on_c.body);
    let started = Instant::now();
    loop {
        let list = common::request(b, "GET", "/api/admin/devices", &[("Cookie", admin)], "").await;
        let v: serde_json::Value = serde_json::from_str(&list.body).unwrap();
        let seen = v.as_array().unwrap().iter().find(|d| d["name"] == "指挥中心大屏").map(|d| !d["last_seen"].is_null());
        if seen == Some(true) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(2), "b's page shows the wall c saw: {}", list.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
