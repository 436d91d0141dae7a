//! Early warning end to end: a city's rules, run by the indicator engine over cases pushed by a real
//! webhook feed, raise warnings once; each goes to the walls of every scope that contains it and to the
//! centre that must acknowledge; people's steps are checked by the policy and the path, recorded and
//! audited; a warning nobody acknowledges escalates a level; a silent feed warns; all of it survives a
//! restart of the cockpit without a warning being raised twice. The clock is a manual one.
mod common;

use app::model::{Level, WallSnapshot};
use app::warning::{Warning, WarningKind, WarningLevel, WarningList, WarningOp, WarningState};
use common::{csrf, login, request, Resp, PINNED_MS};
use serde_json::{json, Value};
use std::time::Duration;

const MIN: i64 = 60_000;

fn json_of<T: serde::de::DeserializeOwned>(r: &Resp) -> T {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.body))
}

fn config(dir: &std::path::Path) -> server::config::Config {
    let text = r#"
[warnings]
evaluate_seconds = 1
ack_minutes = 30

[[warnings.rules]]
name = "order-cluster"
title = "同一网格治安事件聚集"
kind = "cluster"
level = "orange"
route = "town"
category = "public_order"
count = 3
within_minutes = 120

[[warnings.rules]]
name = "hazard-cluster"
title = "同一网格安全隐患集中"
kind = "cluster"
level = "yellow"
route = "village"
category = "hazard"
count = 3
within_minutes = 120

[[warnings.rules]]
name = "silent"
title = "数据源超时未更新"
kind = "feed_silent"
level = "blue"
route = "city"
feed = "petitions"

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
time = "时间"
time_format = "unix_ms"
status = "状态"
status_map = { "已受理" = "accepted" }
category = "类别"
category_map = { "治安" = "public_order", "隐患" = "hazard" }
source = "petition"
region = "网格"
"#;
    let mut cfg = server::config::Config::from_toml(text).unwrap();
    let base = common::config(dir);
    cfg.data_dir = base.data_dir;
    cfg.site_root = base.site_root;
    cfg.access = base.access;
    cfg.demo = server::config::DemoConfig { enabled: true, rate_per_minute: 0.01, backfill_days: 0, backfill_rate_per_minute: 0.01, seed: 1, systems: false };
    cfg
}

/// Grids of 花园社区 (330602001004) in 塔山街道 (330602001).
fn huayuan_grids() -> Vec<String> {
    let tree = server::city::RegionTree::new(server::city::shaoxing::build()).unwrap();
    tree.iter().filter(|(_, r)| r.row.level == Level::Grid && r.row.code.starts_with("330602001004")).map(|(_, r)| r.row.code.clone()).collect()
}

async fn push(addr: &str, records: &[Value], now: i64) {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/feeds/petitions/webhook");
    let (status, body) = server::sim::webhook::push(&client, &url, "petition-token", "petition-secret", records, now / 1000).await.unwrap();
    assert_eq!(status, 200, "{body}");
}

fn case(id: &str, category: &str, grid: &str, at: i64) -> Value {
    json!({"编号": id, "版本": 1, "时间": at, "状态": "已受理", "类别": category, "网格": grid})
}

async fn list(addr: &str, cookie: &str, region: Option<&str>) -> Resp {
    let path = match region {
        Some(r) => format!("/api/warnings?region={r}"),
        None => "/api/warnings".into(),
    };
    request(addr, "GET", &path, &[("Cookie", cookie)], "").await
}

async fn warnings(addr: &str, cookie: &str) -> Vec<Warning> {
    json_of::<WarningList>(&list(addr, cookie, None).await).warnings
}

async fn until_warnings(addr: &str, cookie: &str, what: &str, ok: impl Fn(&[Warning]) -> bool) -> Vec<Warning> {
    for _ in 0..150 {
        let w = warnings(addr, cookie).await;
        if ok(&w) {
            return w;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}: {:?}", warnings(addr, cookie).await);
}

async fn step(addr: &str, cookie: &str, id: i64, op: &str, note: &str) -> Resp {
    let token = csrf(addr, cookie).await;
    request(addr, "POST", &format!("/api/warnings/{id}/{op}"), &[("Cookie", cookie), ("x-csrf-token", &token), ("content-type", "application/json")], &json!({ "note": note }).to_string()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_are_raised_once_routed_acted_on_escalated_and_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = server::clock::Clock::manual(PINNED_MS);
    let srv = common::start_with_clock(config(dir.path()), clock.clone()).await;
    let a = srv.addr.clone();
    let grids = huayuan_grids();
    let (g1, g2) = (grids[0].clone(), grids[1 % grids.len()].clone());
    let t = PINNED_MS;
    // Three public-order cases in one grid within 40 minutes; two hazards in another (one short), and a
    // public-order case in the second grid that makes no cluster there.
    push(&a, &[case("P1", "治安", &g1, t - 40 * MIN), case("P2", "治安", &g1, t - 20 * MIN), case("P3", "治安", &g1, t - 5 * MIN), case("H1", "隐患", &g2, t - 30 * MIN), case("H2", "隐患", &g2, t - 10 * MIN), case("P4", "治安", &g2, t - 10 * MIN)], t).await;

    let leader = login(&a, "leader").await;
    let tashan = login(&a, "tashan").await;
    let huayuan = login(&a, "huayuan").await;
    let fengqiao = login(&a, "fengqiao").await;
    let all = until_warnings(&a, &leader, "the public-order cluster", |w| !w.is_empty()).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let order = all[0].clone();
    assert_eq!((order.rule.as_str(), order.kind, order.level, order.state), ("order-cluster", WarningKind::Cluster, WarningLevel::Orange, WarningState::Raised));
    assert_eq!((order.region.code.as_str(), order.route.code.as_str()), (g1.as_str(), "330602001"), "found in the grid, routed to its town's centre");
    assert_eq!((order.facts.value, order.facts.limit, order.facts.category), (3.0, 3.0, Some(app::model::Category::PublicOrder)));
    assert_eq!(order.escalate_at, Some(t + 30 * MIN));
    assert_eq!(order.events.iter().map(|e| e.op).collect::<Vec<_>>(), [WarningOp::Raise]);

    // Raised once: the rules keep running every second and find the same cluster.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(warnings(&a, &leader).await.len(), 1);

    // Every scope that contains it sees it, on the wall too; another street does not.
    for (who, cookie) in [("tashan", &tashan), ("huayuan", &huayuan)] {
        assert_eq!(warnings(&a, cookie).await.iter().map(|w| w.id).collect::<Vec<_>>(), [order.id], "{who}");
    }
    assert!(warnings(&a, &fengqiao).await.is_empty());
    assert_eq!(list(&a, &fengqiao, Some("330602001")).await.status, 404, "another street's list is not found");
    let wall: WallSnapshot = json_of(&request(&a, "GET", "/api/wall?region=330602001", &[("Cookie", leader.as_str())], "").await);
    assert_eq!(wall.warnings.iter().map(|w| w.id).collect::<Vec<_>>(), [order.id]);
    let wall: WallSnapshot = json_of(&request(&a, "GET", "/api/wall", &[("Cookie", fengqiao.as_str())], "").await);
    assert!(wall.warnings.is_empty());
    let elsewhere: WallSnapshot = json_of(&request(&a, "GET", "/api/wall?region=330602002", &[("Cookie", leader.as_str())], "").await);
    assert!(elsewhere.warnings.is_empty(), "a street beside it does not show it");

    // The community sees it but it is the town's to act on; another street cannot even find it.
    let w_h = warnings(&a, &huayuan).await;
    assert!(w_h[0].ops.is_empty());
    assert_eq!(step(&a, &huayuan, order.id, "acknowledge", "").await.status, 403);
    assert_eq!(step(&a, &fengqiao, order.id, "acknowledge", "").await.status, 404);
    assert_eq!(step(&a, &tashan, 999_999, "acknowledge", "").await.status, 404);
    assert_eq!(step(&a, &tashan, order.id, "escalate", "").await.status, 400, "escalation is the rule's");
    // The path: not handled before it is acknowledged; a handling says what was done.
    assert_eq!(warnings(&a, &tashan).await[0].ops, [WarningOp::Acknowledge]);
    assert_eq!(step(&a, &tashan, order.id, "handle", "巡逻").await.status, 409);
    let r = step(&a, &tashan, order.id, "acknowledge", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let w: Warning = json_of(&r);
    assert_eq!((w.state, w.escalate_at), (WarningState::Acknowledged, None));
    assert_eq!(step(&a, &tashan, order.id, "acknowledge", "").await.status, 409, "acknowledged once");
    assert_eq!(step(&a, &tashan, order.id, "handle", "  ").await.status, 400);
    assert_eq!(step(&a, &tashan, order.id, "handle", "派出所已加强该网格夜间巡逻").await.status, 200);
    let r = step(&a, &tashan, order.id, "close", "连续两日无新发").await;
    let w: Warning = json_of(&r);
    assert_eq!(w.state, WarningState::Closed);
    let trail: Vec<(WarningOp, &str)> = w.events.iter().map(|e| (e.op, e.actor.as_str())).collect();
    assert_eq!(trail, [(WarningOp::Raise, "rule:warning"), (WarningOp::Acknowledge, "tashan"), (WarningOp::Handle, "tashan"), (WarningOp::Close, "tashan")]);
    let wall: WallSnapshot = json_of(&request(&a, "GET", "/api/wall?region=330602001", &[("Cookie", leader.as_str())], "").await);
    assert!(wall.warnings.is_empty(), "a closed warning leaves the wall");
    let auditor = login(&a, "auditor").await;
    let log = request(&a, "GET", "/api/audit?actor=tashan", &[("Cookie", auditor.as_str())], "").await.body;
    for op in ["warning_acknowledge", "warning_handle", "warning_close"] {
        assert!(log.contains(op), "{op} audited: {log}");
    }
    // Closed, and still the same cluster: not raised again within its window.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(warnings(&a, &leader).await.len(), 1);

    // A third hazard: a cluster routed to the community's own centre, which may act on it.
    push(&a, &[case("H3", "隐患", &g2, t - 1 * MIN)], t).await;
    let w = until_warnings(&a, &huayuan, "the hazard cluster", |w| w.iter().any(|x| x.rule == "hazard-cluster")).await;
    let hazard = w.iter().find(|x| x.rule == "hazard-cluster").unwrap().clone();
    assert_eq!(hazard.route.code, "330602001004");
    assert_eq!(hazard.ops, [WarningOp::Acknowledge]);

    // Nobody acknowledges it in 30 minutes: it goes to the town; the community no longer acts on it.
    // The petitions feed has been silent past its cadence meanwhile: a city-level warning.
    clock.advance(31 * MIN);
    // Sessions end after a time without input: sign in again.
    let (leader, tashan, huayuan) = (login(&a, "leader").await, login(&a, "tashan").await, login(&a, "huayuan").await);
    let w = until_warnings(&a, &leader, "escalation and the silent feed", |w| w.iter().any(|x| x.rule == "hazard-cluster" && x.escalations == 1) && w.iter().any(|x| x.rule == "silent")).await;
    let hazard = w.iter().find(|x| x.rule == "hazard-cluster").unwrap().clone();
    assert_eq!((hazard.route.code.as_str(), hazard.state, hazard.escalate_at), ("330602001", WarningState::Raised, Some(t + 31 * MIN + 30 * MIN)));
    assert_eq!(hazard.events.last().map(|e| (e.op, e.actor.as_str())), Some((WarningOp::Escalate, "rule:warning")));
    assert_eq!(step(&a, &huayuan, hazard.id, "acknowledge", "").await.status, 403);
    let silent = w.iter().find(|x| x.rule == "silent").unwrap().clone();
    assert_eq!((silent.region.level, silent.route.level, silent.facts.feed.as_deref(), silent.escalate_at), (Level::City, Level::City, Some("petitions"), None));
    assert!(!warnings(&a, &tashan).await.iter().any(|x| x.rule == "silent"), "a city-wide warning is the city's wall's");
    let city_wall: WallSnapshot = json_of(&request(&a, "GET", "/api/wall", &[("Cookie", leader.as_str())], "").await);
    assert_eq!(city_wall.warnings.first().map(|w| w.level), Some(WarningLevel::Yellow), "most severe first");
    assert_eq!((city_wall.warnings.len(), city_wall.warning_count), (2, 2));

    // A restart: every warning and its state is read back; nothing is raised twice.
    let before: Vec<(i64, WarningState, String, u32)> = warnings(&a, &leader).await.into_iter().map(|w| (w.id, w.state, w.route.code, w.escalations)).collect();
    srv.stop().await;
    let srv = common::start_with_clock(config(dir.path()), clock.clone()).await;
    let a = srv.addr.clone();
    let leader = login(&a, "leader").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after: Vec<(i64, WarningState, String, u32)> = warnings(&a, &leader).await.into_iter().map(|w| (w.id, w.state, w.route.code, w.escalations)).collect();
    assert_eq!(after, before);
    srv.stop().await;
}
