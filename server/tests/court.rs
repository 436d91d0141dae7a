//! 诉调对接 end to end: a simulated court platform refers disputes over its REST API, the centre that
//! holds each one records its mediation from the tablet, and the result goes back to the court signed,
//! through the outbox in the store: while the court is down it waits (and /api/admin/feeds says why),
//! across a restart of the cockpit it is kept, and it is delivered once.
mod common;

use app::flow::Action;
use app::model::{CaseView, Level, Source, Status};
use common::{csrf, login, request, start, Resp};
use server::sim::court::{feed_toml, Court, Dispute};
use std::time::Duration;

const TOKEN: &str = "court-token";
const SECRET: &str = "court-secret";

fn json<T: serde::de::DeserializeOwned>(r: &Resp) -> T {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.body))
}

/// Percent-encodes a path segment (case numbers carry Chinese and brackets).
fn seg(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Grids of the street 塔山街道 (330602001), for referrals its officials hold.
fn tashan_grids() -> Vec<String> {
    let tree = server::city::RegionTree::new(server::city::shaoxing::build()).unwrap();
    tree.iter().filter(|(_, r)| r.row.level == Level::Grid && r.row.code.starts_with("330602001")).map(|(_, r)| r.row.code.clone()).collect()
}

async fn serve_court(court: &Court) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let router = court.router();
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
    addr
}

fn config(dir: &std::path::Path, court_addr: &str) -> server::config::Config {
    let mut cfg = common::config(dir);
    cfg.demo.systems = false;
    cfg.demo.backfill_days = 0;
    let feeds: toml::Table = toml::from_str(&feed_toml("court", court_addr, TOKEN, SECRET)).unwrap();
    cfg.feeds = feeds["feeds"].as_array().unwrap().iter().map(|t| t.as_table().unwrap().clone()).collect();
    cfg
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    for _ in 0..300 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referred_dispute_is_mediated_and_its_result_reaches_the_court_once_across_downtime_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let court = Court::new(TOKEN, SECRET, common::clock());
    let grids = tashan_grids();
    let now = common::now();
    let cases: Vec<String> = (1..=3).map(|k| format!("(2026)浙0602民诉前调{k}号")).collect();
    for (k, case_no) in cases.iter().enumerate() {
        court.refer(&Dispute {
            case_no: case_no.clone(),
            court: "越城区人民法院".into(),
            claim: "民间借贷纠纷".into(),
            amount_yuan: 52_000,
            party: "王某某".into(),
            party_phone: "13800001111".into(),
            grid: grids[k * 3 % grids.len()].clone(),
            referred_at: now - 3_600_000 + k as i64,
        });
    }
    let court_addr = serve_court(&court).await;
    let srv = start(config(dir.path(), &court_addr)).await;
    let a = srv.addr.clone();

    // The referrals arrive as disputes from the court, in mediation, held by their village's centre.
    let tashan = login(&a, "tashan").await;
    let token = csrf(&a, &tashan).await;
    let case = |who: String, case_no: String| {
        let a = a.clone();
        async move { request(&a, "GET", &format!("/api/cases/court/{}", seg(&case_no)), &[("Cookie", who.as_str())], "").await }
    };
    until("the referrals", || { let c = case(tashan.clone(), cases[2].clone()); async move { c.await.status == 200 } }).await;
    // The mediators' worklist: every open referral in the street, due or not, and nothing else.
    let list: app::model::DeskView = json(&request(&a, "GET", "/api/desk?queue=referrals", &[("Cookie", tashan.as_str())], "").await);
    assert_eq!(list.cases.len(), 3, "{:?}", list.cases.iter().map(|c| &c.case_id).collect::<Vec<_>>());
    assert!(list.cases.iter().all(|c| c.source == Source::Court && cases.contains(&c.case_id)));
    let first: CaseView = json(&case(tashan.clone(), cases[0].clone()).await);
    assert_eq!((first.source, first.status, first.category), (Source::Court, Status::Handling, app::model::Category::Dispute));
    assert_eq!(first.holder.as_ref().map(|h| (h.level, h.department.as_deref())), Some((Level::Village, None)), "the centre mediates, not the court");
    assert_eq!(first.summary, "民间借贷纠纷（标的52000元，越城区人民法院委派）");
    assert!(first.actions.contains(&Action::Mediate), "{:?}", first.actions);
    assert_eq!(first.person.as_ref().map(|p| p.name.as_str()), Some("王某某"), "a street official is cleared for the parties");

    let mediate = |case_no: String, body: &'static str| {
        let (a, tashan, token) = (a.clone(), tashan.clone(), token.clone());
        async move {
            let headers = [("Cookie", tashan.as_str()), ("x-csrf-token", token.as_str()), ("Content-Type", "application/json")];
            request(&a, "POST", &format!("/api/cases/court/{}/actions", seg(&case_no)), &headers, body).await
        }
    };
    // Bad input is refused plainly, and nothing is recorded.
    assert_eq!(mediate(cases[0].clone(), r#"{"action":"mediate"}"#).await.status, 400);
    assert_eq!(mediate(cases[0].clone(), r#"{"action":"mediate","tier":"bench","outcome":"settled"}"#).await.status, 400);
    let r = mediate(cases[0].clone(), r#"{"action":"mediate","tier":"judicial","outcome":"settled"}"#).await;
    assert_eq!(r.status, 409, "confirmation needs an agreement first: {}", r.body);

    // Village fails, the town settles: both results reach the court, which closes the referral, and the
    // cockpit reads it back as closed.
    let r = mediate(cases[0].clone(), r#"{"action":"mediate","tier":"village","outcome":"failed"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = mediate(cases[0].clone(), r#"{"action":"mediate","tier":"town","outcome":"settled"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    until("both results at the court", || { let n = court.results().len(); async move { n == 2 } }).await;
    let got = court.results();
    let town = &got[&format!("{}/town", cases[0])];
    assert_eq!((town.outcome.as_str(), town.judicial_confirmation.as_deref()), ("settled", Some("eligible")));
    assert!(court.is_closed(&cases[0]));
    // 诉调对接 on the flow report: the three referrals, two attempts of people's mediation, one settled.
    let flow: app::model::FlowReport = json(&request(&a, "GET", "/api/flow?days=1", &[("Cookie", tashan.as_str())], "").await);
    let court_figures = flow.court.expect("court figures").figures;
    assert_eq!((court_figures.referred, court_figures.mediated, court_figures.settled, court_figures.confirmed), (3, 2, 1, 0));
    until("the referral closed in the cockpit", || { let c = case(tashan.clone(), cases[0].clone()); async move { json::<CaseView>(&c.await).status == Status::Closed } }).await;

    // The court goes down: the next result waits in the outbox, failing with the court's answer.
    court.set_down(true);
    assert_eq!(mediate(cases[1].clone(), r#"{"action":"mediate","tier":"village","outcome":"settled"}"#).await.status, 200);
    let admin = login(&a, "admin").await;
    let outbox = |who: String| {
        let a = a.clone();
        async move {
            let feeds: serde_json::Value = json(&request(&a, "GET", "/api/admin/feeds", &[("Cookie", who.as_str())], "").await);
            feeds["feeds"].as_array().unwrap().iter().find(|f| f["name"] == "court").unwrap()["results"].clone()
        }
    };
    until("a failing result", || { let o = outbox(admin.clone()); async move { o.await["failing"] == 1 } }).await;
    let o = outbox(admin.clone()).await;
    assert_eq!((o["pending"].as_u64(), o["delivered"].as_u64()), (Some(1), Some(2)), "{o}");
    assert!(o["last_error"].as_str().unwrap().contains("503"), "{o}");
    let page = request(&a, "GET", "/feeds", &[("Cookie", admin.as_str())], "").await;
    assert!(page.body.contains(r#"data-pending="1" data-delivered="2" data-failing="1""#), "{}", page.body);
    let metrics = request(&a, "GET", "/metrics", &[("Cookie", admin.as_str())], "").await;
    assert!(metrics.body.contains(r#"cockpit_results_pending{feed="court",state="failing"} 1"#), "{}", metrics.body);

    // The cockpit restarts while the court is still down: the result is still owed, then delivered once
    // the court is back, and only once.
    srv.stop().await;
    assert_eq!(court.results().len(), 2);
    let srv = start(config(dir.path(), &court_addr)).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let feeds: serde_json::Value = json(&request(&a, "GET", "/api/admin/feeds", &[("Cookie", admin.as_str())], "").await);
    let o = &feeds["feeds"].as_array().unwrap().iter().find(|f| f["name"] == "court").unwrap()["results"];
    assert_eq!((o["pending"].as_u64(), o["delivered"].as_u64()), (Some(1), Some(2)), "kept across the restart: {o}");
    let before = court.deliveries();
    court.set_down(false);
    until("the owed result at the court", || { let n = court.results().len(); async move { n == 3 } }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(court.deliveries(), before + 1, "delivered once");
    assert_eq!(court.results()[&format!("{}/village", cases[1])].outcome, "settled");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_court_referral_is_mediated_from_the_tablet_and_only_by_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let court = Court::new(TOKEN, SECRET, common::clock());
    let grids = tashan_grids();
    court.refer(&Dispute {
        case_no: "(2026)浙0602民诉前调9号".into(),
        court: "越城区人民法院".into(),
        claim: "相邻关系纠纷".into(),
        amount_yuan: 3_000,
        party: "李某某".into(),
        party_phone: "13900002222".into(),
        grid: grids[0].clone(),
        referred_at: common::now() - 60_000,
    });
    let court_addr = serve_court(&court).await;
    let mut cfg = config(dir.path(), &court_addr);
    cfg.demo.backfill_days = 1;
    let srv = start(cfg).await;
    let a = srv.addr.clone();
    let path = format!("/api/cases/court/{}", seg("(2026)浙0602民诉前调9号"));
    let tashan = login(&a, "tashan").await;
    until("the referral", || { let (a, p, t) = (a.clone(), path.clone(), tashan.clone()); async move { request(&a, "GET", &p, &[("Cookie", t.as_str())], "").await.status == 200 } }).await;

    // Another street's official does not see it at all.
    let fengqiao = login(&a, "fengqiao").await;
    let fq_token = csrf(&a, &fengqiao).await;
    let body = r#"{"action":"mediate","tier":"village","outcome":"settled"}"#;
    let headers = [("Cookie", fengqiao.as_str()), ("x-csrf-token", fq_token.as_str()), ("Content-Type", "application/json")];
    assert_eq!(request(&a, "POST", &format!("{path}/actions"), &headers, body).await.status, 404);

    // A case from the demo's own systems is mediated there, not from the tablet.
    let token = csrf(&a, &tashan).await;
    let list: Vec<CaseView> = json(&request(&a, "GET", "/api/cases?open=true", &[("Cookie", tashan.as_str())], "").await);
    let other = list.iter().find(|c| c.source != Source::Court && c.status == Status::Handling).expect("a demo case in handling");
    let headers = [("Cookie", tashan.as_str()), ("x-csrf-token", token.as_str()), ("Content-Type", "application/json")];
    let r = request(&a, "POST", &format!("/api/cases/{}/{}/actions", other.feed, seg(&other.case_id)), &headers, body).await;
    assert_eq!(r.status, 409, "{}", r.body);
    // And tier or outcome on anything but mediation is refused.
    let r = request(&a, "POST", &format!("{path}/actions"), &headers, r#"{"action":"supervise","note":"抓紧","tier":"village"}"#).await;
    assert_eq!(r.status, 400, "{}", r.body);
    srv.stop().await;
}
