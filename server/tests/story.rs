//! End-to-end stories on the real server (real SQLite, real HTTP on a free port) and on the ingest path:
//! the state machine where cases are stored, flow analytics against SQL, mediation, patrols. (The live
//! figures against a recount, from pinned clocks: `recount.rs`.)
use app::model::{Status, WallSnapshot};
use engine::Engine;
use server::city::{shaoxing, RegionTree};
use server::config::DemoConfig;
use server::feeds::demo::DemoFeed;
use server::ingest::Ingest;
use server::store::Store;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

mod common;
#[path = "common/peers.rs"]
mod peers;
#[path = "common/stores.rs"]
mod stores;
use stores::{Backend, TestStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_serves_pages_health_and_a_scoped_live_stream() {
    let dir = tempfile::tempdir().unwrap();
    // A built site as scripts/hash-assets.mjs leaves it: content-hashed names, precompressed copies.
    let site = dir.path().join("site");
    for d in ["pkg", "assets"] {
        std::fs::create_dir_all(site.join(d)).unwrap();
    }
    for (f, body) in [("pkg/cockpit.0a1b2c3d4e5f.js", "js"), ("pkg/cockpit.0a1b2c3d4e5f.wasm", "wasm"), ("pkg/cockpit.99aa88bb77cc.css", "css"), ("assets/echarts.123456abcdef.js", "echarts"), ("assets/plain.js", "plain")] {
        std::fs::write(site.join(f), body).unwrap();
        std::fs::write(site.join(format!("{f}.br")), format!("br:{body}")).unwrap();
    }
    std::fs::write(site.join("assets.json"), r#"{"app":"cockpit.0a1b2c3d4e5f","css":"/pkg/cockpit.99aa88bb77cc.css","echarts":"/assets/echarts.123456abcdef.js"}"#).unwrap();
    let srv = common::start(common::config(dir.path())).await;
    let addr = srv.addr.clone();
    let br = |path: &'static str| {
        let addr = addr.clone();
        async move { common::request(&addr, "GET", path, &[("Accept-Encoding", "br, gzip")], "").await }
    };
    let r = br("/pkg/cockpit.0a1b2c3d4e5f.wasm").await;
    assert_eq!((r.status, r.body.as_str()), (200, "br:wasm"), "the build's brotli copy is sent as it is");
    assert_eq!(r.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"), "hashed: kept a year");
    let r = br("/assets/plain.js").await;
    assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"), "unhashed: revalidated");
    let r = common::request(&addr, "GET", "/assets/echarts.123456abcdef.js", &[], "").await;
    assert_eq!((r.status, r.body.as_str(), r.header("content-encoding")), (200, "echarts", None), "plain for a client without brotli");
    assert_eq!(br("/pkg/cockpit.ffffffffffff.wasm").await.status, 404, "an old build's file is gone, not another page");
    let get = |path: &'static str, cookie: Option<String>| {
        let addr = addr.clone();
        async move {
            let h: Vec<(&str, &str)> = cookie.as_deref().map(|c| vec![("Cookie", c)]).unwrap_or_default();
            common::request(&addr, "GET", path, &h, "").await
        }
    };

    let r = get("/healthz", None).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));

    let r = get("/public", None).await;
    assert_eq!(r.status, 200, "the public page needs no sign-in");
    for name in ["越城区", "柯桥区", "上虞区", "新昌县", "诸暨市", "嵊州市"] {
        assert!(r.body.contains(name), "/public lists {name}");
    }
    assert!(r.body.contains(r#"id="record-districts""#) && r.body.contains(r#"href="/report?lang=zh""#), "the portal, with the way to report");
    assert!(r.body.contains("/pkg/cockpit.99aa88bb77cc.css") && !r.body.contains("echarts"), "the public page has its style and no chart library");
    let r = get("/login", None).await;
    assert!(r.body.contains(r#"href="/pkg/cockpit.99aa88bb77cc.css""#), "server-made pages use the hashed stylesheet too");


    let r = get("/wall", None).await;
    assert_eq!(r.status, 303, "the wall needs a session");
    assert_eq!(r.header("location").as_deref(), Some("/login?next=/wall"));

    let leader = Some(common::login(&addr, "leader").await);
    let r = get("/no-such-page", leader.clone()).await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("/pkg/cockpit.99aa88bb77cc.css"), "the not-found page has its style too: {}", r.body);
    let r = get("/wall", leader.clone()).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#"data-kpi="open""#), "the wall is rendered on the server with its KPI tiles");
    assert!(r.body.contains(r#"src="/assets/echarts.123456abcdef.js""#), "ECharts comes from this server, not a CDN, under its build's name");
    assert!(r.body.contains(r#"href="/pkg/cockpit.99aa88bb77cc.css""#) && r.body.contains("/pkg/cockpit.0a1b2c3d4e5f.wasm"), "the page names this build's files");
    assert!(!r.body.contains("https://"), "no external address in the page");

    // The live stream sends the snapshot of the requested region at once.
    let r = get("/api/live?region=330681", leader.clone()).await;
    assert_eq!(r.status, 200, "{}", r.head);
    let data = r.body.lines().find_map(|l| l.strip_prefix("data: ")).expect("an SSE data line");
    let snap: WallSnapshot = serde_json::from_str(data).expect("snapshot JSON");
    assert_eq!(snap.region.name, "诸暨市");
    assert_eq!(snap.areas.len(), 23, "诸暨市's towns");
    assert!(snap.ticker.iter().all(|t| !t.place.is_empty()));

    assert_eq!(get("/api/live?region=999999", leader.clone()).await.status, 404, "unknown region refused");
    assert_eq!(get("/api/live?scope=330600", leader.clone()).await.status, 400, "unknown parameter refused");
    assert_eq!(get("/no-such-page", leader).await.status, 404);
    srv.stop().await;
}

/// The server on PostgreSQL instead of SQLite: the demo city and its history stored there, sign-in and
/// sessions kept there, and a second start with an empty data directory (no local snapshot) serves the
/// same figures from the shared store, adds no history twice, and honours the session of the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_on_postgresql_and_a_second_instance_sees_the_same() {
    let pg = peers::Pg::new().await;
    let sql = |q: &'static str| pg.count(q);
    let open_on = |addr: String, cookie: String| async move {
        let r = common::request(&addr, "GET", "/api/live?region=330600", &[("Cookie", cookie.as_str())], "").await;
        assert_eq!(r.status, 200, "{}", r.head);
        let data = r.body.lines().find_map(|l| l.strip_prefix("data: ")).expect("an SSE data line");
        let snap: WallSnapshot = serde_json::from_str(data).unwrap();
        snap.kpis.iter().find(|k| k.key == app::model::KpiKey::Open).unwrap().value as i64
    };
    let config = |dir: &std::path::Path| {
        let mut cfg = common::config(dir);
        cfg.store.url = Some(pg.url());
        // Only the history: the figures stand still while they are compared.
        cfg.demo.rate_per_minute = 0.0;
        cfg.demo.systems = false;
        cfg
    };
    let first = tempfile::tempdir().unwrap();
    let srv = common::start(config(first.path())).await;
    let leader = common::login(&srv.addr, "leader").await;
    // On a shared store the history is written by whichever instance holds the demo feed's lease, after
    // it has started: wait until it stands still (for 4 s: one batch of 20,000 events can take more
    // than a second to commit, and the count does not move meanwhile).
    let (mut cases, mut still) = (-1, 0);
    for _ in 0..480 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = sql("SELECT COUNT(*) FROM cases").await;
        still = if now == cases { still + 1 } else { 0 };
        cases = now;
        if cases > 1000 && still >= 8 {
            break;
        }
    }
    assert!(cases > 1000, "the demo history is stored in PostgreSQL ({cases} cases)");
    assert_eq!(sql("SELECT COUNT(*) FROM regions").await, 8220, "the demo city too");
    let open = sql("SELECT COUNT(*) FROM cases WHERE status <> 'closed'").await;
    assert_eq!(open_on(srv.addr.clone(), leader.clone()).await, open, "the wall's open cases equal PostgreSQL's");
    assert!(sql("SELECT COUNT(*) FROM audit_log WHERE action = 'login'").await >= 1, "the sign-in is audited there");
    srv.stop().await;

    let second = tempfile::tempdir().unwrap();
    let srv = common::start(config(second.path())).await;
    assert_eq!(sql("SELECT COUNT(*) FROM cases").await, cases, "no history added twice");
    assert_eq!(open_on(srv.addr.clone(), leader.clone()).await, open, "the same figure, counted from the shared store with no local snapshot");
    srv.stop().await;
}

/// Wednesday 2026-12-02 10:00 in Shanghai: these stories do not read the machine's clock.
const T: i64 = 1_796_176_800_000;

/// An ingest path whose clock stands an hour after `t`: every event of these stories has happened.
fn ingest_at(store: &Arc<dyn Store>, tree: &Arc<RegionTree>, live: &Arc<RwLock<Engine>>, t: i64) -> Ingest {
    let (changed, _) = watch::channel(0);
    Ingest::new(store.clone(), tree.clone(), live.clone(), changed, server::clock::Clock::manual(t + 3_600_000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_refused_with_a_reason_and_nothing_stored_is_lost() {
    bad_events_are_refused_with_a_reason_and_nothing_stored_is_lost_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_refused_with_a_reason_and_nothing_stored_is_lost_on_postgres() {
    bad_events_are_refused_with_a_reason_and_nothing_stored_is_lost_on(Backend::Postgres).await;
}

async fn bad_events_are_refused_with_a_reason_and_nothing_stored_is_lost_on(backend: Backend) {
    use server::case::{CaseEvent, CaseFacts, Outcome};
    let db = TestStore::open(backend).await;
    let store = db.store.clone();
    store.save_regions(&shaoxing::build()).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let live = Arc::new(RwLock::new(Engine::new(tree.clone())));
    let t = T;
    let ingest = ingest_at(&store, &tree, &live, t);
    let grid = tree.iter().find(|(_, r)| r.row.grid.is_some()).unwrap().1.row.code.clone();
    let facts = |grid: &str| CaseFacts {
        category: app::model::Category::Hazard,
        source: app::model::Source::Police,
        grid: grid.into(),
        reported_at: t,
        priority: app::flow::Priority::Normal,
        warn_at: t + 3_000_000,
        deadline: t + 3_600_000,
        details: Default::default(),
    };
    let ev = |id: &str, seq, status, f: Option<CaseFacts>| CaseEvent {
        facts: f,
        ..CaseEvent::change("t", id, seq, app::flow::Action::into_status(status), status, t)
    };
    let out = ingest
        .submit(vec![
            ev("a", 0, Status::Reported, Some(facts(&grid))),
            ev("b", 0, Status::Reported, Some(facts("330602"))),
            ev("c", 1, Status::Accepted, None),
            ev("a", 1, Status::Accepted, None),
        ])
        .await
        .unwrap();
    assert_eq!(out[0], Outcome::Stored);
    assert!(matches!(&out[1], Outcome::Rejected(r) if r.contains("unknown grid")), "{:?}", out[1]);
    assert!(matches!(&out[2], Outcome::Rejected(r) if r.contains("no case c")), "{:?}", out[2]);
    assert_eq!(out[3], Outcome::Stored);
    let again = ingest.submit(vec![ev("a", 1, Status::Accepted, None)]).await.unwrap();
    assert_eq!(again, [Outcome::Duplicate]);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM case_events", &[]).await, 2);
    assert_eq!(live.read().unwrap().node(tree.root()).open, 1);
}

/// The state machine, enforced where the status is kept: refused transitions say why, late events are
/// history that moves nothing, oversight actions have their own numbering, and a restart counts the same.
#[tokio::test]
async fn case_flow_through_the_store() {
    case_flow_through_the_store_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn case_flow_through_the_store_on_postgres() {
    case_flow_through_the_store_on(Backend::Postgres).await;
}

async fn case_flow_through_the_store_on(backend: Backend) {
    use app::flow::{Action, Priority};
    use server::case::{CaseEvent, CaseFacts, Note, Outcome};
    let db = TestStore::open(backend).await;
    let store = db.store.clone();
    store.save_regions(&shaoxing::build()).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let live = Arc::new(RwLock::new(Engine::new(tree.clone())));
    let t = T;
    let ingest = ingest_at(&store, &tree, &live, t);
    let grid = tree.iter().find(|(_, r)| r.row.grid.is_some()).unwrap().1.row.code.clone();
    let facts = CaseFacts {
        category: app::model::Category::Hazard,
        source: app::model::Source::Hotline12345,
        grid: grid.clone(),
        reported_at: t,
        priority: Priority::High,
        warn_at: t + 3_000_000,
        deadline: t + 3_600_000,
        details: Default::default(),
    };
    let ev = |seq, action, status| CaseEvent::change("t", "s", seq, action, status, t + i64::from(seq) * 1000);
    let desk = |action, actor: &str| CaseEvent::oversight("t", "s", action, Status::Handling, t + 60_000, Note { actor: actor.into(), text: "请今日办结".into() });
    let one = |e: CaseEvent| {
        let ingest = ingest.clone();
        async move { ingest.submit(vec![e]).await.unwrap().remove(0) }
    };
    let report = CaseEvent { facts: Some(facts), ..ev(0, Action::Report, Status::Reported) };
    assert_eq!(one(report).await, Outcome::Stored);
    assert_eq!(one(ev(1, Action::Accept, Status::Accepted)).await, Outcome::Stored);
    let refused = one(ev(2, Action::Close, Status::Closed)).await;
    assert_eq!(refused, Outcome::Rejected("case s: cannot close a case that is accepted".into()));
    let mismatched = one(ev(2, Action::Return, Status::Closed)).await;
    assert!(matches!(&mismatched, Outcome::Rejected(r) if r.contains("return cannot lead to closed")), "{mismatched:?}");
    assert_eq!(one(ev(2, Action::Dispatch, Status::Dispatched)).await, Outcome::Stored);
    assert_eq!(one(ev(3, Action::Return, Status::Accepted)).await, Outcome::Stored, "the department sends it back");
    assert_eq!(one(ev(4, Action::Dispatch, Status::Dispatched)).await, Outcome::Stored);
    // Out of order: 6 arrives before 5. 6 moves the case; 5 is kept as history and moves nothing.
    assert_eq!(one(ev(6, Action::Resolve, Status::Resolved)).await, Outcome::Stored);
    assert_eq!(one(ev(5, Action::Start, Status::Handling)).await, Outcome::Stored);
    assert_eq!(one(ev(5, Action::Start, Status::Handling)).await, Outcome::Duplicate);
    assert_eq!(one(ev(7, Action::Return, Status::Handling)).await, Outcome::Stored, "the check fails");

    // Oversight from the desk: numbered apart from the feed, so the feed's next event still fits.
    assert_eq!(one(desk(Action::Supervise, "tashan")).await, Outcome::Stored);
    assert_eq!(one(desk(Action::Supervise, "yuecheng")).await, Outcome::Stored);
    assert_eq!(one(desk(Action::Escalate, "tashan")).await, Outcome::Stored);
    assert_eq!(one(desk(Action::Escalate, "yuecheng")).await, Outcome::Stored);
    assert_eq!(one(desk(Action::Escalate, "leader")).await, Outcome::Rejected("case s: the case is already held at city level".into()));
    assert!(matches!(one(desk(Action::Supervise, "")).await, Outcome::Rejected(r) if r.contains("who took it")));
    assert!(matches!(one(CaseEvent { origin: server::case::Origin::Desk, ..ev(1, Action::Close, Status::Closed) }).await, Outcome::Rejected(r) if r.contains("not an oversight")));
    assert_eq!(one(ev(8, Action::Resolve, Status::Resolved)).await, Outcome::Stored);

    let c = store.case("t", "s").await.unwrap().unwrap();
    assert_eq!((c.status, c.escalations, c.supervised), (Status::Resolved, 2, 2));
    let actions: Vec<Action> = c.timeline.iter().map(|e| e.action).collect();
    use Action::*;
    // In time order (the late seq 5 sits where its time puts it), oversight a minute later.
    assert_eq!(actions, [Report, Accept, Dispatch, Return, Dispatch, Start, Resolve, Return, Resolve, Supervise, Supervise, Escalate, Escalate]);
    assert_eq!(c.timeline[9].actor.as_deref(), Some("tashan"));
    assert_eq!(c.timeline[9].note.as_deref(), Some("请今日办结"));
    assert_eq!(c.timeline[0].actor, None, "the source system's events have no actor");
    let holder = server::case::holder(&tree, &c.facts, c.status, c.escalations).unwrap();
    assert_eq!((holder.level, holder.region.as_str()), (app::model::Level::City, "330600"));

    let root = tree.root();
    {
        let a = live.read().unwrap();
        assert_eq!((a.node(root).open, a.node(root).supervised, a.node(root).escalated), (1, 1, 1));
        let back = a.snapshot(root).flow.into_iter().find(|l| (l.from, l.to) == (Status::Dispatched, Status::Accepted)).map(|l| l.count);
        assert_eq!(back, Some(1), "today's Sankey holds the return");
    }
    let later = t + 3_600_000;
    let recount = server::indicators::recount(tree.clone(), store.as_ref(), later).await.unwrap();
    live.write().unwrap().sweep(later);
    assert_eq!(live.read().unwrap().difference(&recount), None, "a restart counts the same");
}

/// The engine's flow report on the demo data: every period figure equals a plain SQL count over the
/// same window, and the breakdowns add up to the totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_analytics_equal_sql_recounts_on_demo_data() {
    flow_analytics_equal_sql_recounts_on_demo_data_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_analytics_equal_sql_recounts_on_demo_data_on_postgres() {
    flow_analytics_equal_sql_recounts_on_demo_data_on(Backend::Postgres).await;
}

async fn flow_analytics_equal_sql_recounts_on_demo_data_on(backend: Backend) {
    let db = TestStore::open(backend).await;
    let store = db.store.clone();
    store.save_regions(&shaoxing::build()).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let settings = Arc::new(server::settings::Settings::fixed(Default::default(), Default::default()).unwrap());
    let demo = DemoFeed::new(DemoConfig { enabled: true, rate_per_minute: 2.0, backfill_days: 12, backfill_rate_per_minute: 2.0, seed: 5, systems: false }, tree.clone(), settings);
    let now = T;
    for chunk in demo.backfill(now).chunks(20_000) {
        store.append(chunk).await.unwrap();
    }
    let engine = server::indicators::recount(tree.clone(), store.as_ref(), now).await.unwrap();
    let period = app::model::Period::LastDays(5);
    let r = engine.flow_report(tree.root(), period);
    // Five whole days up to today so far: from a midnight to just after now.
    struct W {
        from: i64,
        to: i64,
    }
    let (from, to) = period.window(now);
    let w = W { from, to };
    assert_eq!((r.from, r.to), (w.from, w.to));
    let sql = |cond: &str| format!("SELECT COUNT(*) FROM cases WHERE {}", cond.replace("FROM", &w.from.to_string()).replace("TO", &w.to.to_string()));
    let f = &r.figures;
    assert!(f.reported > 10_000, "{f:?}");
    assert_eq!(i64::from(f.reported), db.scalar(&sql("reported_at >= FROM AND reported_at < TO"), &[]).await);
    assert_eq!(i64::from(f.closed), db.scalar(&sql("closed_at >= FROM AND closed_at < TO"), &[]).await);
    assert_eq!(i64::from(f.due), db.scalar(&sql("deadline >= FROM AND deadline < TO"), &[]).await);
    assert_eq!(i64::from(f.on_time), db.scalar(&sql("deadline >= FROM AND deadline < TO AND closed_at <= deadline"), &[]).await);
    assert_eq!(i64::from(f.late_open), db.scalar(&sql("deadline >= FROM AND deadline < TO AND closed_at IS NULL"), &[]).await);
    assert_eq!(i64::from(f.open_end), db.scalar(&sql("reported_at < TO AND closed_at IS NULL"), &[]).await);
    let returns = db.scalar("SELECT COUNT(*) FROM case_events WHERE action = 'return' AND at >= ? AND at < ?", &[w.from, w.to]).await;
    assert!(returns > 0);
    assert_eq!(i64::from(f.returned), returns);
    assert!(f.late_open > 0 && f.late_closed > 0 && f.on_time > 0, "the demo has all three: {f:?}");
    for rows in [&r.by_region, &r.by_department, &r.by_category, &r.by_source] {
        let sum = rows.iter().fold(0, |n, x| n + x.figures.due);
        assert_eq!(sum, f.due, "breakdowns add up");
    }
    let transitions = db.scalar("SELECT COUNT(*) FROM case_events WHERE origin = 'feed' AND action NOT IN ('report', 'mediate') AND at >= ? AND at < ?", &[w.from, w.to]).await;
    assert_eq!(r.links.iter().map(|l| i64::from(l.count)).sum::<i64>(), transitions, "the Sankey holds every transition");
    let settled = db
        .text_int_int("SELECT tier, COUNT(*), SUM(CASE WHEN outcome = 'settled' THEN 1 ELSE 0 END) FROM case_events WHERE action = 'mediate' AND at >= ? AND at < ? GROUP BY tier", &[w.from, w.to])
        .await;
    assert!(settled.len() >= 4, "mediation reaches several tiers: {settled:?}");
    for (tier, attempts, ok) in settled {
        let row = r.mediation.iter().find(|m| m.tier.as_str() == tier).unwrap();
        assert_eq!((i64::from(row.attempts), i64::from(row.settled)), (attempts, ok), "{tier}");
    }
}

/// A store holding the demo city's regions, and one of its grids.
async fn city(backend: Backend) -> (TestStore, String) {
    let db = TestStore::open(backend).await;
    let mut rows = shaoxing::build();
    shaoxing::date_base_data(&mut rows, T);
    db.store.save_regions(&rows).await.unwrap();
    let loaded = db.store.load_regions().await.unwrap();
    assert_eq!(loaded, rows, "the region tree reads back as saved, base data dates included");
    let tree = RegionTree::new(loaded).unwrap();
    let grid = tree.iter().find(|(_, r)| r.row.grid.is_some()).unwrap().1.row.code.clone();
    (db, grid)
}

/// A case reported at `T` in `grid`, due two seconds later.
fn reported(feed: &str, id: &str, category: app::model::Category, source: app::model::Source, grid: &str) -> server::case::CaseEvent {
    use server::case::{CaseEvent, CaseFacts};
    CaseEvent {
        facts: Some(CaseFacts {
            category,
            source,
            grid: grid.into(),
            reported_at: T,
            priority: app::flow::Priority::Normal,
            warn_at: T + 1000,
            deadline: T + 2000,
            details: Default::default(),
        }),
        ..CaseEvent::change(feed, id, 0, app::flow::Action::Report, Status::Reported, T)
    }
}

/// Mediation attempts are checked where the case is kept: only disputes being handled, tiers climbed in order.
#[tokio::test]
async fn mediation_climbs_the_tiers_in_the_store() {
    mediation_climbs_the_tiers_in_the_store_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn mediation_climbs_the_tiers_in_the_store_on_postgres() {
    mediation_climbs_the_tiers_in_the_store_on(Backend::Postgres).await;
}

async fn mediation_climbs_the_tiers_in_the_store_on(backend: Backend) {
    use app::flow::{Action, Mediation, Outcome as O, Tier};
    use server::case::{CaseEvent, Outcome};
    let (db, grid) = city(backend).await;
    let store = db.store.clone();
    let t = T;
    let report = |id: &str, category| reported("t", id, category, app::model::Source::Hotline12345, &grid);
    let to_handling = |id: &str| {
        [(1, Action::Accept, Status::Accepted), (2, Action::Dispatch, Status::Dispatched), (3, Action::Start, Status::Handling)]
            .map(|(seq, a, s)| CaseEvent::change("t", id, seq, a, s, t + i64::from(seq)))
    };
    let mediate = |id: &str, seq, tier, outcome| CaseEvent::mediation("t", id, seq, Mediation { tier, outcome }, t + 10 + i64::from(seq));
    let mut batch = vec![report("d", app::model::Category::Dispute), report("h", app::model::Category::Hazard)];
    batch.extend(to_handling("d"));
    batch.extend(to_handling("h"));
    assert!(store.append(&batch).await.unwrap().iter().all(|o| *o == Outcome::Stored));
    let out = store
        .append(&[
            mediate("d", 4, Tier::Village, O::Failed),
            mediate("d", 5, Tier::Village, O::Settled),
            mediate("d", 5, Tier::Town, O::Settled),
            mediate("d", 6, Tier::Judicial, O::Settled),
            mediate("d", 7, Tier::Litigation, O::Settled),
            CaseEvent::change("t", "d", 7, Action::Mediate, Status::Handling, t + 20),
            mediate("h", 4, Tier::Village, O::Settled),
        ])
        .await
        .unwrap();
    assert_eq!(out[0], Outcome::Stored);
    assert_eq!(out[1], Outcome::Rejected("case d: village cannot follow mediation failed at village".into()));
    assert_eq!(out[2], Outcome::Stored, "up one tier");
    assert_eq!(out[3], Outcome::Stored, "a people's mediation agreement confirmed by a court");
    assert_eq!(out[4], Outcome::Rejected("case d: litigation cannot follow mediation settled at judicial".into()));
    assert!(matches!(&out[5], Outcome::Rejected(r) if r.contains("carries its tier")), "{:?}", out[5]);
    assert_eq!(out[6], Outcome::Rejected("case h: only a dispute being handled is mediated".into()));
    let d = store.case("t", "d").await.unwrap().unwrap();
    let tiers: Vec<Tier> = d.timeline.iter().filter_map(|e| e.mediation.map(|m| m.tier)).collect();
    assert_eq!(tiers, [Tier::Village, Tier::Town, Tier::Judicial]);
    assert_eq!(d.status, Status::Handling, "mediation leaves the case in handling");
}

/// The results outbox (诉调对接): mediation attempts on a feed's cases are queued once, from the desk or
/// the feed alike, a page at a time; a failure waits until its retry; delivered rows stay as the record.
#[tokio::test]
async fn the_results_outbox_queues_each_attempt_once_and_keeps_what_is_owed() {
    results_outbox_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_results_outbox_queues_each_attempt_once_and_keeps_what_is_owed_on_postgres() {
    results_outbox_on(Backend::Postgres).await;
}

async fn results_outbox_on(backend: Backend) {
    use app::flow::{Action, Mediation, Outcome as O, Tier};
    use server::case::{CaseEvent, Note, Outcome};
    let (db, grid) = city(backend).await;
    let store = db.store.clone();
    let t = T;
    let report = |feed: &str, id: &str, category| reported(feed, id, category, app::model::Source::Court, &grid);
    let desk = |feed: &str, id: &str, tier, outcome, at| CaseEvent {
        mediation: Some(Mediation { tier, outcome }),
        ..CaseEvent::oversight(feed, id, Action::Mediate, Status::Handling, at, Note { actor: "tashan".into(), text: String::new() })
    };
    let mut batch = vec![report("court", "a", app::model::Category::Dispute), report("court", "h", app::model::Category::Hazard), report("other", "x", app::model::Category::Dispute)];
    for (feed, id) in [("court", "a"), ("court", "h"), ("other", "x")] {
        batch.push(CaseEvent::change(feed, id, 2, Action::Start, Status::Handling, t + 1));
    }
    assert!(store.append(&batch).await.unwrap().iter().all(|o| *o == Outcome::Stored));
    let out = store
        .append(&[
            desk("court", "a", Tier::Village, O::Failed, t + 10),
            desk("court", "h", Tier::Village, O::Settled, t + 11),
            desk("court", "a", Tier::Judicial, O::Settled, t + 12),
            CaseEvent::mediation("other", "x", 3, Mediation { tier: Tier::Village, outcome: O::Settled }, t + 13),
        ])
        .await
        .unwrap();
    assert_eq!(out[0], Outcome::Stored, "the centre records an attempt from the desk");
    assert_eq!(out[1], Outcome::Rejected("case h: only a dispute being handled is mediated".into()));
    assert!(matches!(&out[2], Outcome::Rejected(r) if r.contains("judicial")), "{:?}", out[2]);
    assert_eq!(out[3], Outcome::Stored);

    // Queued once, and only the feed's own.
    assert_eq!(store.outbox_fill("court", t + 20, 500).await.unwrap(), 1);
    assert_eq!(store.outbox_fill("court", t + 21, 500).await.unwrap(), 0, "the cursor moved");
    let due = store.outbox_due("court", t + 20, 10).await.unwrap();
    assert_eq!(due.iter().map(|r| (r.case_id.as_str(), r.tier, r.outcome, r.at, r.attempts)).collect::<Vec<_>>(), [("a", Tier::Village, O::Failed, t + 10, 0)]);

    // A failure waits for its retry and says why.
    store.outbox_failed(due[0].id, "the receiver answered 503", t + 5_000).await.unwrap();
    assert!(store.outbox_due("court", t + 4_999, 10).await.unwrap().is_empty());
    assert_eq!(store.outbox_due("court", t + 5_000, 10).await.unwrap()[0].attempts, 1);
    let s = store.outbox_summary("court").await.unwrap();
    assert_eq!((s.pending, s.failing, s.delivered, s.last_error.as_deref(), s.oldest_pending_at), (1, 1, 0, Some("the receiver answered 503"), Some(t + 20)));

    // Two more attempts, taken a page of one at a time.
    let more = store.append(&[desk("court", "a", Tier::Town, O::Settled, t + 30), desk("court", "a", Tier::Judicial, O::Settled, t + 31)]).await.unwrap();
    assert!(more.iter().all(|o| *o == Outcome::Stored), "{more:?}");
    assert_eq!(store.outbox_fill("court", t + 40, 1).await.unwrap(), 1);
    assert_eq!(store.outbox_fill("court", t + 40, 1).await.unwrap(), 1);
    assert_eq!(store.outbox_fill("court", t + 40, 1).await.unwrap(), 0);
    for r in store.outbox_due("court", t + 5_000, 10).await.unwrap() {
        store.outbox_delivered(r.id, t + 6_000).await.unwrap();
    }
    assert!(store.outbox_due("court", i64::MAX, 10).await.unwrap().is_empty());
    let s = store.outbox_summary("court").await.unwrap();
    assert_eq!((s.pending, s.failing, s.delivered, s.last_error), (0, 0, 3, None));
    assert_eq!(store.outbox_summary("other").await.unwrap(), Default::default(), "a feed without results queues nothing");
}

/// Patrols: stored once, duplicates and unknown grids told apart, the last one per grid kept.
#[tokio::test]
async fn patrols_are_idempotent_and_checked() {
    patrols_are_idempotent_and_checked_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn patrols_are_idempotent_and_checked_on_postgres() {
    patrols_are_idempotent_and_checked_on(Backend::Postgres).await;
}

async fn patrols_are_idempotent_and_checked_on(backend: Backend) {
    use server::case::Outcome;
    use server::patrol::Patrol;
    let db = TestStore::open(backend).await;
    let store = db.store.clone();
    store.save_regions(&shaoxing::build()).await.unwrap();
    let tree = RegionTree::new(store.load_regions().await.unwrap()).unwrap();
    let grids: Vec<String> = tree.iter().filter(|(_, r)| r.row.grid.is_some()).take(2).map(|(_, r)| r.row.code.clone()).collect();
    let p = |grid: &str, at| Patrol { grid: grid.into(), at, worker: Some("王伟".into()) };
    let out = store.append_patrols(&[p(&grids[0], 10), p(&grids[0], 20), p(&grids[1], 5), p(&grids[0], 10), p("330602", 7), p("nowhere", 7)]).await.unwrap();
    assert_eq!(out[..4], [Outcome::Stored, Outcome::Stored, Outcome::Stored, Outcome::Duplicate]);
    assert!(matches!(&out[4], Outcome::Rejected(r) if r.contains("330602")), "a district is not a grid");
    assert!(matches!(&out[5], Outcome::Rejected(r) if r.contains("nowhere")));
    assert_eq!(store.append_patrols(&[p(&grids[1], 5)]).await.unwrap(), [Outcome::Duplicate]);
    let mut last = store.last_patrols().await.unwrap();
    last.sort();
    let mut want = vec![(grids[0].clone(), 20), (grids[1].clone(), 5)];
    want.sort();
    assert_eq!(last, want);
}

/// The access, photo and feed rows mean the same on both stores: accounts with their password history,
/// sessions, devices, keys, the append-only audit log with its filters, the sign-in throttle, a photo's
/// life, and a feed batch with observations and quarantine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_photo_and_feed_rows_behave_alike() {
    access_photo_and_feed_rows_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_photo_and_feed_rows_behave_alike_on_postgres() {
    access_photo_and_feed_rows_on(Backend::Postgres).await;
}

async fn access_photo_and_feed_rows_on(backend: Backend) {
    use app::model::{Clearance, Indicator, Role};
    use server::store::access::{Account, ApiKey, AuditEntry, AuditFilter, Device, Session};
    use server::store::feeds::{FeedBatch, Quarantined};
    use server::store::StoredPhoto;
    let db = TestStore::open(backend).await;
    let s = db.store.clone();
    s.save_regions(&shaoxing::build()).await.unwrap();
    let audit = |at, action: &str, region: Option<&str>| AuditEntry {
        at,
        actor: "admin".into(),
        action: action.into(),
        region: region.map(Into::into),
        detail: format!("{action} at {at}"),
    };
    let acc = wang(Role::StreetOfficial);
    s.create_account(&acc, &audit(T, "create_account", Some("330602001"))).await.unwrap();
    assert!(s.create_account(&acc, &audit(T, "create_account", Some("330602001"))).await.is_err(), "a name is taken once");
    for (i, h) in ["h1", "h2", "h3"].iter().enumerate() {
        // The last one a reset: to be changed at the next sign-in.
        s.set_password("wang", h, T + i as i64 + 1, i == 2, &audit(T + 10 + i as i64, "set_password", None)).await.unwrap();
    }
    assert_eq!(s.password_history("wang", 2).await.unwrap(), ["h2", "h1"], "newest first, at most n");
    assert!(s.set_account_disabled("wang", true).await.unwrap());
    assert!(!s.set_account_disabled("nobody", true).await.unwrap());
    let got = s.accounts().await.unwrap();
    assert_eq!((got.len(), got[0].password_hash.as_str(), got[0].disabled, got[0].clearance), (1, "h3", true, Clearance::Internal));
    assert_eq!((got[0].must_change, got[0].password_set_at), (true, T + 3), "a reset, and when");
    s.record_sign_in("wang", T + 20, "10.0.0.9").await.unwrap();
    let changed = Account { role: Role::CommunityStaff, scope: "330602001004".into(), clearance: Clearance::Sensitive, display_name: "王伟（社区）".into(), ..acc.clone() };
    assert!(s.update_account(&changed, &audit(T + 21, "account_changed", None)).await.unwrap());
    assert!(!s.update_account(&Account { username: "nobody".into(), ..changed.clone() }, &audit(T + 22, "account_changed", None)).await.unwrap());
    let got = s.accounts().await.unwrap();
    assert_eq!((got[0].role, got[0].scope.as_str(), got[0].clearance, got[0].display_name.as_str()), (Role::CommunityStaff, "330602001004", Clearance::Sensitive, "王伟（社区）"));
    assert_eq!((got[0].password_hash.as_str(), got[0].disabled), ("h3", true), "a change of role leaves password and state alone");
    assert_eq!((got[0].last_sign_in_at, got[0].last_sign_in_from.as_deref()), (Some(T + 20), Some("10.0.0.9")));

    let session = |t: &str, expires| Session {
        token_hash: t.into(),
        username: "wang".into(),
        csrf: "c".into(),
        created_at: T,
        expires_at: expires,
        address: "10.0.0.1".into(),
        second_factor_due: false,
        last_active_at: T,
    };
    s.insert_session(&session("a", T + 100)).await.unwrap();
    s.insert_session(&session("b", T + 10)).await.unwrap();
    s.insert_session(&session("c", T + 100)).await.unwrap();
    s.revoke_session("c", T + 1).await.unwrap();
    let live: Vec<String> = s.live_sessions(T + 50).await.unwrap().into_iter().map(|x| x.token_hash).collect();
    assert_eq!(live, ["a"], "neither expired nor revoked");
    assert_eq!(s.live_sessions(T + 50).await.unwrap()[0].address, "10.0.0.1");

    let device =
        Device { id: 0, name: "大屏".into(), token_hash: "d1".into(), scope: "330602".into(), issued_by: "admin".into(), issued_at: T, revoked_at: None, playlist: None, place: "指挥中心".into(), last_seen_at: None };
    let id = s.insert_device(&device).await.unwrap();
    assert!(s.set_device_playlist(id, "{\"scenes\":[]}", &audit(T, "set_playlist", Some("330602"))).await.unwrap());
    assert!(s.revoke_device(id, "admin", T + 5).await.unwrap());
    assert!(!s.revoke_device(id, "admin", T + 6).await.unwrap(), "revoked once");
    assert!(!s.set_device_playlist(id, "{}", &audit(T, "set_playlist", None)).await.unwrap(), "a revoked device keeps its playlist");
    let d = &s.devices().await.unwrap()[0];
    assert_eq!((d.revoked_at, d.playlist.as_deref(), d.place.as_str()), (Some(T + 5), Some("{\"scenes\":[]}"), "指挥中心"));
    let key = ApiKey { id: 0, name: "app".into(), key_hash: "k1".into(), issued_by: "admin".into(), issued_at: T, revoked_at: None };
    let k = s.insert_api_key(&key).await.unwrap();
    assert!(s.revoke_api_key(k, "admin", T + 7).await.unwrap());
    assert_eq!(s.api_keys().await.unwrap()[0].revoked_at, Some(T + 7));

    s.append_audit(&audit(T + 100, "view_case", Some("330602001004"))).await.unwrap();
    s.append_audit(&audit(T + 200, "view_case", Some("330603"))).await.unwrap();
    let under = |region: &str| AuditFilter { region: Some(region.into()), ..Default::default() };
    let actions = |v: Vec<AuditEntry>| v.into_iter().map(|e| (e.at, e.action)).collect::<Vec<_>>();
    assert_eq!(actions(s.audit(&under("330602001"), 10).await.unwrap()), [(T + 100, "view_case".to_string()), (T, "create_account".to_string())], "a subtree, newest first");
    assert_eq!(s.audit(&AuditFilter { from: Some(T + 150), ..Default::default() }, 10).await.unwrap().len(), 1);
    assert_eq!(s.audit(&AuditFilter::default(), 3).await.unwrap().len(), 3, "at most the limit");
    let total = db.scalar("SELECT COUNT(*) FROM audit_log", &[]).await;
    for damage in ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"] {
        assert!(db.refused(damage).await, "the audit log is append-only: {damage}");
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_log", &[]).await, total);

    let keys = vec!["acct:wang".to_string(), "ip:10.0.0.1".to_string()];
    s.throttle_fail(&keys, T).await.unwrap();
    s.throttle_fail(&keys, T + 1000).await.unwrap();
    let counts = s.throttle_counts(&keys).await.unwrap();
    assert_eq!((counts["acct:wang"].failures, counts["acct:wang"].last_at), (2, T + 1000));
    s.throttle_clear(&keys[..1]).await.unwrap();
    assert_eq!(s.throttle_counts(&keys).await.unwrap().len(), 1);

    let photo = StoredPhoto { mime: "image/jpeg".into(), width: 4, height: 3, bytes: vec![0xff, 0xd8, 0, 1, 2, 0xff, 0xd9] };
    s.hold_photo("t1", &photo, T).await.unwrap();
    s.hold_photo("t2", &photo, T).await.unwrap();
    assert_eq!(s.held_photo("t1").await.unwrap(), Some(7));
    s.release_photo("t2").await.unwrap();
    assert_eq!(s.held_photo("t2").await.unwrap(), None, "taken back");
    assert!(s.attach_photo("t1", "residents", "R1").await.unwrap());
    assert!(!s.attach_photo("t1", "residents", "R1").await.unwrap(), "held no more");
    assert_eq!(s.photo("residents", "R1").await.unwrap(), Some(photo.clone()), "the bytes as they were stored");
    s.hold_photo("t3", &photo, T + 25 * 3_600_000).await.unwrap();
    assert!(s.has_photo("residents", "R1").await.unwrap(), "a case's photo outlives the hold");

    let obs = |v: f64| server::feeds::record::Observation { indicator: Indicator::VideoOnline, region: "330602".into(), at: T, value: v };
    let batch = FeedBatch {
        feed: "video".into(),
        now: T,
        received: 3,
        taken: vec![("cam-1".into(), 1), ("cam-2".into(), 1)],
        observations: vec![("cam-1".into(), 1, obs(0.9)), ("cam-2".into(), 1, obs(0.8))],
        quarantine: vec![Quarantined { external_id: Some("cam-3".into()), reason: "no region".into(), payload: "{}".into() }],
        last_event_at: Some(T - 5),
        cursor: Some("p2".into()),
        ..Default::default()
    };
    s.take_batch(&batch).await.unwrap().unwrap();
    s.take_batch(&FeedBatch {
        received: 1,
        taken: vec![("cam-1".into(), 2)],
        observations: vec![("cam-1".into(), 2, obs(0.7))],
        quarantine: vec![],
        last_event_at: Some(T - 9),
        cursor: None,
        ..batch.clone()
    })
    .await
    .unwrap()
    .unwrap();
    let row = &s.feed_rows().await.unwrap()[0];
    assert_eq!(
        (row.received, row.stored, row.quarantined, row.last_event_at, row.cursor.as_deref()),
        (4, 3, 1, Some(T - 5), Some("p2")),
        "counts add up, the newest event and the last cursor stay"
    );
    assert_eq!(s.heads("video", &["cam-1".into(), "cam-9".into()]).await.unwrap()["cam-1"].version, Some(2));
    let after = s.observations_after(1).await.unwrap();
    assert_eq!(after.iter().map(|o| (o.0, o.2 .0.as_str(), o.2 .1)).collect::<Vec<_>>(), [(2, "cam-2", 1), (3, "cam-1", 2)], "in the order taken");
    assert_eq!(s.observation_position().await.unwrap(), 3);
    assert_eq!(s.quarantined("video", &["cam-3".into()]).await.unwrap().len(), 1);
    s.set_paused("video", true).await.unwrap();
    assert!(s.feed_rows().await.unwrap()[0].paused);
    assert_eq!(s.expire_quarantine(T + 1).await.unwrap(), 1);
    let row = &s.feed_rows().await.unwrap()[0];
    assert_eq!((row.expired, s.quarantine(None, 10).await.unwrap().len()), (1, 0));
}

/// Settings saved by an administrator mean the same on both stores: one row per name, replaced by the
/// next save, each save audited with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_rows_behave_alike() {
    settings_rows_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_rows_behave_alike_on_postgres() {
    settings_rows_on(Backend::Postgres).await;
}

async fn settings_rows_on(backend: Backend) {
    use server::store::access::{AuditEntry, AuditFilter};
    use server::store::StoredSetting;
    let db = TestStore::open(backend).await;
    let s = db.store.clone();
    assert!(s.settings().await.unwrap().is_empty());
    let audit = |at: i64, detail: &str| AuditEntry { at, actor: "admin".into(), action: "settings_changed".into(), region: Some("3306".into()), detail: detail.into() };
    let row = |value: &str, at: i64| StoredSetting { name: "calendar".into(), value: value.into(), changed_at: at, changed_by: "admin".into() };
    s.save_setting(&row(r#"{"holidays":["2026-12-03"]}"#, T), &audit(T, "first")).await.unwrap();
    s.save_setting(&row(r#"{"holidays":[]}"#, T + 1), &audit(T + 1, "second")).await.unwrap();
    s.save_setting(&StoredSetting { name: "flow".into(), value: "{}".into(), changed_at: T + 2, changed_by: "admin".into() }, &audit(T + 2, "third")).await.unwrap();
    let rows = s.settings().await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], row(r#"{"holidays":[]}"#, T + 1), "the later save replaced the first");
    let log = s.audit(&AuditFilter::default(), 10).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "settings_changed").count(), 3);
}

/// Second factors, session activity and audit retention mean the same on both stores: a TOTP step is
/// accepted once (never an older one), a recovery code once, a removal takes the codes too; activity
/// only moves forward; the audit log yields only entries older than the retention cutoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factor_activity_and_retention_rows_behave_alike() {
    second_factor_rows_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factor_activity_and_retention_rows_behave_alike_on_postgres() {
    second_factor_rows_on(Backend::Postgres).await;
}

async fn second_factor_rows_on(backend: Backend) {
    use server::store::access::{AuditEntry, AuditFilter, Session};
    let db = TestStore::open(backend).await;
    let s = db.store.clone();
    let audit = |at: i64, action: &str| AuditEntry { at, actor: "wang".into(), action: action.into(), region: None, detail: String::new() };
    assert_eq!(s.second_factor("wang").await.unwrap(), None);
    s.set_second_factor_pending("wang", "SECRET1").await.unwrap();
    s.set_second_factor_pending("wang", "SECRET2").await.unwrap();
    let f = s.second_factor("wang").await.unwrap().unwrap();
    assert_eq!((f.secret, f.pending.as_deref()), (None, Some("SECRET2")), "the later pending secret replaces the first");
    assert!(s.second_factor_users().await.unwrap().is_empty(), "pending is not in force");
    assert!(!s.take_totp_step("wang", 5).await.unwrap(), "no step is taken before enrolment");
    let hashes: Vec<String> = (0..3).map(|i| format!("h{i}")).collect();
    assert!(s.enable_second_factor("wang", 100, &hashes, &audit(T, "second_factor_enrolled")).await.unwrap());
    assert!(!s.enable_second_factor("wang", 100, &hashes, &audit(T, "second_factor_enrolled")).await.unwrap(), "nothing pending any more");
    let f = s.second_factor("wang").await.unwrap().unwrap();
    assert_eq!((f.secret.as_deref(), f.pending, f.last_step, f.enabled_at, f.recovery_left), (Some("SECRET2"), None, Some(100), Some(T), 3));
    assert_eq!(s.second_factor_users().await.unwrap(), ["wang"]);
    assert!(!s.take_totp_step("wang", 100).await.unwrap(), "the enrolment's step is used");
    assert!(!s.take_totp_step("wang", 99).await.unwrap(), "an older step never");
    assert!(s.take_totp_step("wang", 101).await.unwrap());
    assert!(!s.take_totp_step("wang", 101).await.unwrap(), "once");
    assert!(s.use_recovery_code("wang", "h1", T + 1).await.unwrap());
    assert!(!s.use_recovery_code("wang", "h1", T + 2).await.unwrap(), "a recovery code works once");
    assert!(!s.use_recovery_code("wang", "nope", T + 2).await.unwrap());
    assert_eq!(s.second_factor("wang").await.unwrap().unwrap().recovery_left, 2);
    assert!(s.remove_second_factor("wang", &audit(T + 3, "second_factor_removed")).await.unwrap());
    assert!(!s.remove_second_factor("wang", &audit(T + 3, "second_factor_removed")).await.unwrap());
    assert_eq!(s.second_factor("wang").await.unwrap(), None);
    assert!(!s.use_recovery_code("wang", "h0", T + 4).await.unwrap(), "the codes went with it");
    let log = s.audit(&AuditFilter::default(), 10).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action.starts_with("second_factor")).count(), 2, "enrolled and removed, each audited once");

    let acc = wang(app::model::Role::Admin);
    s.save_regions(&shaoxing::build()).await.unwrap();
    s.create_account(&acc, &audit(T, "create_account")).await.unwrap();
    let session = Session { token_hash: "t".into(), username: "wang".into(), csrf: "c".into(), created_at: T, expires_at: T + 10_000_000, address: String::new(), second_factor_due: true, last_active_at: T };
    s.insert_session(&session).await.unwrap();
    s.touch_session("t", T + 500).await.unwrap();
    s.touch_session("t", T + 200).await.unwrap();
    let got = s.find_session("t", T + 600).await.unwrap().unwrap();
    assert_eq!((got.second_factor_due, got.last_active_at), (true, T + 500), "activity only moves forward");

    let day = 86_400_000;
    s.append_audit(&audit(T - 200 * day, "old")).await.unwrap();
    s.append_audit(&audit(T - 170 * day, "recent")).await.unwrap();
    let before = db.scalar("SELECT COUNT(*) FROM audit_log", &[]).await;
    assert!(db.refused("DELETE FROM audit_log").await, "nothing deleted but by retention");
    assert_eq!(s.purge_audit(T - 180 * day).await.unwrap(), 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_log", &[]).await, before - 1);
    let left: Vec<String> = s.audit(&AuditFilter::default(), 100).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(left.contains(&"recent".to_string()) && !left.contains(&"old".to_string()), "{left:?}");
    assert!(db.refused("DELETE FROM audit_log").await, "entries inside retention still cannot be deleted");
    assert_eq!(s.purge_audit(T - 400 * day).await.unwrap(), 0, "an older cutoff never brings deletion closer");

    // Sign-ins under way at the identity platform: taken once, and not after they expired.
    use server::store::access::OidcRequest;
    let req = |state: &str, at: i64| OidcRequest { state: state.into(), verifier: "v".into(), nonce: "n".into(), next: "/desk".into(), created_at: at };
    s.put_oidc_request(&req("s1", T), T - 600_000).await.unwrap();
    s.put_oidc_request(&req("s2", T), T - 600_000).await.unwrap();
    assert_eq!(s.take_oidc_request("s1", T - 600_000).await.unwrap(), Some(req("s1", T)));
    assert_eq!(s.take_oidc_request("s1", T - 600_000).await.unwrap(), None, "a replayed answer finds nothing");
    assert_eq!(s.take_oidc_request("s2", T + 1).await.unwrap(), None, "begun too long ago");
    s.put_oidc_request(&req("s3", T + 700_000), T + 100_000).await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM oidc_requests", &[]).await, 1, "expired ones go when a new one comes");

    // Wall pairing codes, shared by every instance: a code once, its device once; the oldest give way.
    let since = T - 900_000;
    assert!(s.begin_pairing("ABCDEFGH", "sec1", T, since, 3).await.unwrap());
    assert!(!s.begin_pairing("ABCDEFGH", "sec9", T, since, 3).await.unwrap(), "a code in use is not given twice");
    assert!(s.pairing_waiting("ABCDEFGH", since).await.unwrap());
    let device = server::store::access::Device {
        id: 0,
        name: "大屏".into(),
        token_hash: "nobody-keeps-this".into(),
        scope: "330602".into(),
        issued_by: "admin".into(),
        issued_at: T,
        revoked_at: None,
        playlist: None,
        place: String::new(),
        last_seen_at: None,
    };
    let id = s.insert_device(&device).await.unwrap();
    assert!(s.complete_pairing("ABCDEFGH", id, since).await.unwrap());
    assert!(!s.complete_pairing("ABCDEFGH", id + 1, since).await.unwrap(), "a code pairs one device");
    assert!(!s.pairing_waiting("ABCDEFGH", since).await.unwrap());
    assert_eq!(s.pairing_of("sec1").await.unwrap().map(|p| (p.code, p.device_id)), Some(("ABCDEFGH".to_string(), Some(id))));
    assert!(s.rekey_device(id, "fresh").await.unwrap());
    assert!(s.find_device("fresh").await.unwrap().is_some() && s.find_device("nobody-keeps-this").await.unwrap().is_none());
    s.end_pairing("sec1").await.unwrap();
    assert_eq!(s.pairing_of("sec1").await.unwrap(), None);
    for (i, code) in ["C1", "C2", "C3", "C4"].iter().enumerate() {
        assert!(s.begin_pairing(code, &format!("h{code}"), T + i as i64, since, 3).await.unwrap());
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM pairings", &[]).await, 3, "at most three wait");
    assert_eq!(s.pairing_of("hC1").await.unwrap(), None, "the oldest gave way");
    assert!(!s.pairing_waiting("C2", T + 2).await.unwrap(), "begun before `since`: expired");
    s.device_seen(id, T + 50).await.unwrap();
    s.device_seen(id, T + 20).await.unwrap();
    assert_eq!(s.devices().await.unwrap().iter().find(|d| d.id == id).unwrap().last_seen_at, Some(T + 50), "never moves back");
    assert!(s.revoke_device(id, "admin", T + 60).await.unwrap());
    assert!(!s.rekey_device(id, "again").await.unwrap(), "a revoked device gets no new token");
}

/// The account the access stories are about: 王伟 in 塔山街道.
fn wang(role: app::model::Role) -> server::store::access::Account {
    server::store::access::Account {
        username: "wang".into(),
        display_name: "王伟".into(),
        role,
        scope: "330602001".into(),
        department: None,
        clearance: app::model::Clearance::Internal,
        password_hash: "h0".into(),
        created_at: T,
        created_by: "admin".into(),
        disabled: false,
        must_change: false,
        password_set_at: T,
        last_sign_in_at: None,
        last_sign_in_from: None,
    }
}

/// Early warnings: raised once per rule, region and subject while open or within the quiet period;
/// each step only from the state it was decided on, recorded, people's audited; read back as stored.
#[tokio::test]
async fn warnings_are_raised_once_and_step_only_from_the_state_read() {
    warnings_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn warnings_are_raised_once_and_step_only_from_the_state_read_on_postgres() {
    warnings_on(Backend::Postgres).await;
}

async fn warnings_on(backend: Backend) {
    use app::warning::{WarningKind, WarningLevel, WarningOp, WarningState};
    use server::store::access::AuditEntry;
    use server::store::warnings::{NewWarning, Step, RULE_ACTOR};
    let (db, grid) = city(backend).await;
    let store = db.store.clone();
    let t = T;
    let w = NewWarning {
        rule: "order-cluster".into(),
        title: "同一网格治安事件聚集".into(),
        kind: WarningKind::Cluster,
        level: WarningLevel::Orange,
        region: grid.clone(),
        subject: "public_order".into(),
        route: "330602001".into(),
        facts: r#"{"value":3.0,"limit":3.0}"#.into(),
        raised_at: t,
        escalate_at: Some(t + 1_800_000),
    };
    let id = store.warning_raise(&w, t - 7_200_000).await.unwrap().expect("raised");
    assert_eq!(store.warning_raise(&NewWarning { raised_at: t + 1, ..w.clone() }, t - 7_200_000).await.unwrap(), None, "open: not raised twice");
    let other = store.warning_raise(&NewWarning { subject: "hazard".into(), ..w.clone() }, t).await.unwrap();
    assert!(other.is_some(), "another subject is another warning");
    let got = store.warning(id).await.unwrap().unwrap();
    assert_eq!((got.new.clone(), got.state, got.escalations), (w.clone(), WarningState::Raised, 0));

    // Escalated by the rule: a new route and deadline, counted.
    let up = Step { id, from: WarningState::Raised, to: WarningState::Raised, op: WarningOp::Escalate, actor: RULE_ACTOR, note: "330602", at: t + 10, route: Some("330602"), escalate_at: Some(t + 99), audit: None };
    assert!(store.warning_step(&up).await.unwrap());
    let got = store.warning(id).await.unwrap().unwrap();
    assert_eq!((got.new.route.as_str(), got.new.escalate_at, got.escalations, got.updated_at), ("330602", Some(t + 99), 1, t + 10));

    // A person's steps: only from the state read; audited with the warning's region.
    let audit = AuditEntry { at: t + 20, actor: "tashan".into(), action: "warning_acknowledge".into(), region: Some(grid.clone()), detail: format!("warning {id}") };
    let ack = Step { id, from: WarningState::Raised, to: WarningState::Acknowledged, op: WarningOp::Acknowledge, actor: "tashan", note: "", at: t + 20, route: None, escalate_at: None, audit: Some(&audit) };
    assert!(store.warning_step(&ack).await.unwrap());
    assert!(!store.warning_step(&ack).await.unwrap(), "a second acknowledgement from the old state changes nothing");
    let got = store.warning(id).await.unwrap().unwrap();
    assert_eq!((got.state, got.new.route.as_str(), got.new.escalate_at), (WarningState::Acknowledged, "330602", None));
    for (from, to, op, note, at) in [(WarningState::Acknowledged, WarningState::Handled, WarningOp::Handle, "巡逻加强", t + 30), (WarningState::Handled, WarningState::Closed, WarningOp::Close, "无新发", t + 40)] {
        assert!(store.warning_step(&Step { id, from, to, op, actor: "tashan", note, at, route: None, escalate_at: None, audit: None }).await.unwrap());
    }
    let events: Vec<(WarningOp, String, String)> = store.warning_events(id).await.unwrap().into_iter().map(|e| (e.op, e.actor, e.note)).collect();
    assert_eq!(
        events,
        [
            (WarningOp::Raise, RULE_ACTOR.to_string(), String::new()),
            (WarningOp::Escalate, RULE_ACTOR.to_string(), "330602".to_string()),
            (WarningOp::Acknowledge, "tashan".to_string(), String::new()),
            (WarningOp::Handle, "tashan".to_string(), "巡逻加强".to_string()),
            (WarningOp::Close, "tashan".to_string(), "无新发".to_string()),
        ]
    );
    let audited = store.audit(&server::store::access::AuditFilter { actor: Some("tashan".into()), ..Default::default() }, 100).await.unwrap();
    assert_eq!(audited.iter().filter(|e| e.action == "warning_acknowledge").count(), 1);

    // Closed: raised again only past the quiet period.
    assert_eq!(store.warning_raise(&NewWarning { raised_at: t + 50, ..w.clone() }, t).await.unwrap(), None, "raised since the quiet period began");
    let again = store.warning_raise(&NewWarning { raised_at: t + 50, ..w.clone() }, t + 1).await.unwrap();
    assert!(again.is_some_and(|a| a > id));
    // Lists: the open ones, and the closed ones moved since a time; newest first.
    let open: Vec<i64> = store.warnings(i64::MAX).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(open, [again.unwrap(), other.unwrap()]);
    assert_eq!(store.warnings(t + 40).await.unwrap().len(), 3);
    assert_eq!(store.warnings(t + 41).await.unwrap().len(), 2);
    assert_eq!(store.warning(i64::MAX).await.unwrap(), None);
}

/// Rosters: a line stored once, a new end replaces the old, a cancelled line leaves the window, lines
/// that are not a grid's are refused with why; the engine holds what the store holds, and reading the
/// store again (a restart, another instance) gives the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rosters_are_idempotent_and_read_back_alike() {
    rosters_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rosters_are_idempotent_and_read_back_alike_on_postgres() {
    rosters_on(Backend::Postgres).await;
}

async fn rosters_on(backend: Backend) {
    use app::duty::{DutyKind, DutyStatus};
    use server::duty::Duty;
    const H: i64 = 3_600_000;
    let (db, grid) = city(backend).await;
    let store = db.store.clone();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let live = Arc::new(RwLock::new(Engine::new(tree.clone())));
    // The clock stands at T + 1 h (11:00).
    let ingest = ingest_at(&store, &tree, &live, T);
    let g = tree.find(&grid).unwrap();
    let worker = tree.get(g).row.grid.as_ref().unwrap().worker.clone().expect("the first grid has a worker");
    let line = |kind, from: i64, to: i64| Duty { grid: grid.clone(), worker: worker.clone(), kind, from, to };
    let morning = line(DutyKind::Shift, T - 90 * 60_000, T + 2 * H);
    let afternoon = line(DutyKind::Shift, T + 3 * H + 30 * 60_000, T + 7 * H + 30 * 60_000);
    let (n, refused) = ingest.submit_duties(vec![morning.clone(), afternoon.clone(), morning.clone()]).await.unwrap();
    assert_eq!((n, refused.len()), (2, 0), "the repeated line changes nothing");
    assert_eq!(live.read().unwrap().grid_duty(g, T + H), (DutyStatus::OnDuty, Some(worker.clone()), Some(T + 2 * H)));
    let (n, refused) = ingest
        .submit_duties(vec![
            Duty { grid: "330602".into(), ..morning.clone() },
            Duty { grid: "nowhere".into(), ..morning.clone() },
            Duty { to: morning.from + 30 * H, ..morning.clone() },
            morning.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(refused.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(refused[0].1.contains("not a grid") && refused[1].1.contains("nowhere") && refused[2].1.contains("longer than a day"), "{refused:?}");
    // The morning shift ends early; the worker takes the afternoon off.
    let early = Duty { to: T + H - 1, ..morning.clone() };
    let leave = line(DutyKind::Leave, T + 2 * H, T + 10 * H);
    assert_eq!(ingest.submit_duties(vec![early.clone(), leave.clone()]).await.unwrap().0, 2);
    assert_eq!(store.append_duties(&[early.clone(), leave.clone()]).await.unwrap(), 0, "the same again stores nothing");
    {
        let e = live.read().unwrap();
        assert_eq!(e.grid_duty(g, T + H).0, DutyStatus::OffDuty, "the new end counts");
        assert_eq!(e.grid_duty(g, T + 4 * H), (DutyStatus::OnLeave, Some(worker.clone()), Some(T + 10 * H)), "a shift during leave does not count");
    }
    let read = store.duties_between(T - 24 * H, T + 24 * H).await.unwrap();
    assert_eq!(read, vec![early.clone(), leave.clone(), afternoon.clone()], "in start order, the new end kept");
    assert_eq!(store.duties_between(T + 8 * H, T + 24 * H).await.unwrap(), vec![leave.clone()], "overlapping the window only");
    // Cancelled: the end at the start.
    assert_eq!(ingest.submit_duties(vec![Duty { to: afternoon.from, ..afternoon.clone() }]).await.unwrap().0, 1);
    assert_eq!(store.duties_between(T - 24 * H, T + 24 * H).await.unwrap(), vec![early.clone(), leave.clone()]);
    // Read back as a restart does: the same status at every hour of the day.
    let fresh = Arc::new(RwLock::new(Engine::new(tree.clone())));
    let again = ingest_at(&store, &tree, &fresh, T);
    assert_eq!(again.load_roster().await.unwrap(), 2);
    for h in -12..14 {
        let t = T + h * H;
        assert_eq!(fresh.read().unwrap().grid_duty(g, t), live.read().unwrap().grid_duty(g, t), "at {h} h");
    }
}
