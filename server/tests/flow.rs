//! Case flows over HTTP against a real server: the tablet's list, oversight actions (who may take
//! which, on which case, with which refusal), their audit, and their arrival on the wall.
mod common;

use app::flow::{Action, Timeliness};
use app::model::{CaseView, DeskView, FlowReport, Level, WallSnapshot};
use common::{csrf, login, request, start, Resp};

fn json<T: serde::de::DeserializeOwned>(r: &Resp) -> T {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.body))
}

/// Four days of history hold at least two working days, whatever today is; at 4 cases a minute the
/// one street has late cases (at 2 a minute it had 2 to 4, and once none).
async fn start_busy(dir: &std::path::Path) -> common::Server {
    let mut cfg = common::config(dir);
    cfg.demo.backfill_days = 4;
    cfg.demo.backfill_rate_per_minute = 4.0;
    start(cfg).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversight_from_the_tablet_is_checked_recorded_audited_and_live() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_busy(dir.path()).await;
    let a = srv.addr.clone();
    let get = |cookie: String, path: String| {
        let a = a.clone();
        async move { request(&a, "GET", &path, &[("Cookie", cookie.as_str())], "").await }
    };
    let act = |cookie: String, token: String, c: CaseView, body: String| {
        let a = a.clone();
        async move {
            let path = format!("/api/cases/{}/{}/actions", c.feed, c.case_id);
            let headers = [("Cookie", cookie.as_str()), ("x-csrf-token", token.as_str()), ("Content-Type", "application/json")];
            request(&a, "POST", &path, &headers, &body).await
        }
    };

    // The tablet's list: the official's own street, due soon or overdue, soonest deadline first.
    let tashan = login(&a, "tashan").await;
    let tashan_token = csrf(&a, &tashan).await;
    let desk: DeskView = json(&get(tashan.clone(), "/api/desk".into()).await);
    assert_eq!(desk.region.code, "330602001");
    assert!(!desk.cases.is_empty(), "the demo has late cases in 塔山街道");
    assert!(desk.cases.iter().all(|c| c.grid.starts_with("330602001") && c.status.is_open()));
    assert!(desk.cases.iter().all(|c| matches!(c.timeliness, Some(Timeliness::DueSoon | Timeliness::Overdue))));
    assert!(desk.cases.windows(2).all(|w| w[0].deadline <= w[1].deadline));
    assert!(desk.cases.iter().filter_map(|c| c.person.as_ref()).all(|p| p.name.contains('*')), "lists are masked");
    assert_eq!(get(tashan.clone(), "/api/desk?region=330681".into()).await.status, 404, "another district");

    // The escalation rule may already have raised the most overdue ones: take one still at the street
    // (disputes and livelihood requests start at the village's centre, see `four_level_centres…`).
    let target = desk.cases.iter().find(|c| c.escalations == 0 && app::flow::first_holder(c.category) == Level::Town).expect("a case still held by the street").clone();
    assert!(target.actions.contains(&Action::Supervise) && target.actions.contains(&Action::Escalate));
    let holder = target.holder.clone().unwrap();
    assert_eq!((holder.level, holder.region.as_str()), (Level::Town, "330602001"));

    // Refusals, each with its own answer.
    let supervise = r#"{"action":"supervise","note":"请今日内办结并回复"}"#.to_string();
    let r = request(&a, "POST", &format!("/api/cases/{}/{}/actions", target.feed, target.case_id), &[("Cookie", tashan.as_str())], &supervise).await;
    assert_eq!(r.status, 403, "no CSRF token");
    assert_eq!(act(tashan.clone(), tashan_token.clone(), target.clone(), r#"{"action":"supervise","note":"  "}"#.into()).await.status, 400);
    // Closing is the source system's to record (only a resident's report is moved in the cockpit).
    let r = act(tashan.clone(), tashan_token.clone(), target.clone(), r#"{"action":"close"}"#.into()).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(act(tashan.clone(), tashan_token.clone(), target.clone(), r#"{"action":"report"}"#.into()).await.status, 400);
    assert_eq!(act(tashan.clone(), tashan_token.clone(), target.clone(), r#"{"action":"supervise","extra":1}"#.into()).await.status, 400);
    let huayuan = login(&a, "huayuan").await;
    let t = csrf(&a, &huayuan).await;
    assert_eq!(act(huayuan, t, target.clone(), supervise.clone()).await.status, 404, "community staff do not oversee");
    let fengqiao = login(&a, "fengqiao").await;
    let t = csrf(&a, &fengqiao).await;
    assert_eq!(act(fengqiao, t, target.clone(), supervise.clone()).await.status, 404, "another street's case");

    // Supervised: recorded as a case event with who and why.
    let r = act(tashan.clone(), tashan_token.clone(), target.clone(), supervise.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after: CaseView = json(&r);
    assert_eq!(after.supervised, 1);
    let last = after.timeline.iter().rfind(|e| e.action == Action::Supervise).unwrap();
    assert_eq!((last.actor.as_deref(), last.note.as_deref()), (Some("tashan"), Some("请今日内办结并回复")));

    // Escalated once to the district; the street cannot push it further, the city leader can, once.
    let escalate = r#"{"action":"escalate"}"#.to_string();
    let up: CaseView = json(&act(tashan.clone(), tashan_token.clone(), target.clone(), escalate.clone()).await);
    assert_eq!(up.holder.as_ref().map(|h| (h.level, h.region.as_str())), Some((Level::District, "330602")));
    assert!(!up.actions.contains(&Action::Escalate), "the street no longer may");
    let r = act(tashan.clone(), tashan_token.clone(), target.clone(), escalate.clone()).await;
    assert_eq!((r.status, r.body.as_str()), (409, "the case is held above your level"));
    let zhuji = login(&a, "zhuji").await;
    let t = csrf(&a, &zhuji).await;
    assert_eq!(act(zhuji, t, target.clone(), escalate.clone()).await.status, 404, "诸暨 is another district");
    let leader = login(&a, "leader").await;
    let lt = csrf(&a, &leader).await;
    let top: CaseView = json(&act(leader.clone(), lt.clone(), target.clone(), escalate.clone()).await);
    assert_eq!(top.holder.map(|h| h.level), Some(Level::City));
    let r = act(leader.clone(), lt.clone(), target.clone(), escalate.clone()).await;
    assert_eq!((r.status, r.body.as_str()), (409, "the case is already held at city level"));
    let ack: CaseView = json(&act(leader.clone(), lt.clone(), target.clone(), r#"{"action":"acknowledge"}"#.into()).await);
    assert_eq!(ack.timeline.iter().filter(|e| e.action.is_oversight()).count(), 4);

    // On the wall: the street's snapshot ticker carries the actions.
    let wall: WallSnapshot = json(&get(leader.clone(), "/api/wall?region=330602001".into()).await);
    let acts: Vec<Action> = wall.ticker.iter().filter(|i| i.case_id == target.case_id).map(|i| i.action).collect();
    assert!(acts.contains(&Action::Supervise) && acts.contains(&Action::Escalate), "{acts:?}");

    // Audited, with the acting account.
    let auditor = login(&a, "auditor").await;
    let log = get(auditor.clone(), "/api/audit?actor=tashan".into()).await.body;
    assert!(log.contains("case_supervise") && log.contains("case_escalate") && log.contains(&target.case_id), "{log}");

    // The flow report counts what happened, for the street only.
    let flow: FlowReport = json(&get(tashan.clone(), "/api/flow?days=7".into()).await);
    assert_eq!(flow.region.code, "330602001");
    assert!(flow.figures.supervised >= 1 && flow.figures.escalated >= 2, "{:?}", flow.figures);
    assert!(flow.by_region.iter().all(|r| r.key.starts_with("330602001")));
    assert_eq!(get(tashan.clone(), "/api/flow?region=330681".into()).await.status, 404);
    // Any period by dates, both days included; a bad one is refused with the reason.
    let today = app::model::date_time(common::now())[..10].to_string();
    let dated: FlowReport = json(&get(tashan.clone(), format!("/api/flow?from={today}&to={today}")).await);
    assert_eq!(dated.from, app::model::parse_day(&today).unwrap(), "from today's midnight");
    assert!(dated.to - dated.from < app::model::DAY_MS, "today so far");
    let yesterday = app::model::date_time(common::now() - app::model::DAY_MS)[..10].to_string();
    let whole: FlowReport = json(&get(tashan.clone(), format!("/api/flow?from={yesterday}&to={yesterday}")).await);
    assert_eq!(whole.to - whole.from, app::model::DAY_MS, "a past day is whole");
    let year: FlowReport = json(&get(tashan.clone(), "/api/flow?year=0".into()).await);
    assert_eq!(app::model::date_time(year.from), "2026-01-01 00:00", "this year so far");
    assert!(dated.figures.supervised >= 1, "today's supervision is in today's report");
    let r = get(tashan.clone(), format!("/api/flow?from={today}&to=2020-01-01")).await;
    assert!(r.status == 400 && r.body.contains("from must not be after to"), "{} {}", r.status, r.body);
    assert_eq!(get(tashan.clone(), "/api/flow?days=0".into()).await.status, 400);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_level_centres_hold_cases_from_the_village_up_each_with_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_busy(dir.path()).await;
    let a = srv.addr.clone();
    let get = |cookie: String, path: String| {
        let a = a.clone();
        async move { json::<DeskView>(&request(&a, "GET", &path, &[("Cookie", cookie.as_str())], "").await) }
    };
    let tashan = login(&a, "tashan").await;
    let token = csrf(&a, &tashan).await;
    // A dispute or livelihood request not yet escalated is held by its village's (community's) centre.
    let alerts = get(tashan.clone(), "/api/desk".into()).await;
    let target = alerts.cases.iter().find(|c| c.escalations == 0 && app::flow::first_holder(c.category) == Level::Village).expect("a case held by a village").clone();
    let holder = target.holder.clone().unwrap();
    assert_eq!(holder.level, Level::Village);
    assert!(target.grid.starts_with(&holder.region) && holder.region.starts_with("330602001"), "{holder:?}");
    let village = holder.region.clone();

    // Each centre's queue: every open case it holds, with its load.
    let queue = |who: String, region: &str| get(who, format!("/api/desk?queue=centre&region={region}"));
    let v = queue(tashan.clone(), &village).await;
    let load = v.centre.expect("the centre's load");
    assert_eq!(load.level, Level::Village);
    assert!(v.cases.iter().any(|c| c.case_id == target.case_id));
    assert!(v.cases.iter().all(|c| c.holder.as_ref().is_some_and(|h| h.level == Level::Village && h.region == village)), "only what the village holds");
    assert!(load.held as usize >= v.cases.len() && load.overdue <= load.held && load.on_time <= load.due, "{load:?}");
    let town = queue(tashan.clone(), "330602001").await;
    let town_load = town.centre.unwrap();
    assert_eq!(town_load.level, Level::Town);
    assert!(town.cases.iter().all(|c| c.holder.as_ref().is_some_and(|h| h.level == Level::Town && h.region == "330602001")));
    assert!(town.cases.iter().all(|c| c.case_id != target.case_id));

    // Escalated: from the village to the town's centre, out of the village's queue and into the town's.
    let path = format!("/api/cases/{}/{}/actions", target.feed, target.case_id);
    let headers = [("Cookie", tashan.as_str()), ("x-csrf-token", token.as_str()), ("Content-Type", "application/json")];
    let r = request(&a, "POST", &path, &headers, r#"{"action":"escalate"}"#).await;
    let up: CaseView = json(&r);
    assert_eq!(up.holder.as_ref().map(|h| (h.level, h.region.as_str())), Some((Level::Town, "330602001")));
    // (The live feed keeps opening and closing cases, so the loads are compared by membership, not count.)
    let v2 = queue(tashan.clone(), &village).await;
    assert!(v2.centre.is_some_and(|l| l.level == Level::Village));
    assert!(v2.cases.iter().all(|c| c.case_id != target.case_id));
    let town2 = queue(tashan.clone(), "330602001").await;
    let held = town2.centre.map(|l| l.held as usize).unwrap_or(0);
    assert!(held >= town2.cases.len().max(1), "{held}");
    // The queue lists the soonest deadlines first, up to its page; below a page it lists every case held.
    if held < 100 {
        assert!(town2.cases.iter().any(|c| c.case_id == target.case_id), "the escalated case is in the town's queue");
    }

    // A community official's desk shows their own centre's queue, and nobody else's.
    let huayuan = login(&a, "huayuan").await;
    let own = get(huayuan.clone(), "/api/desk?queue=centre".into()).await;
    assert_eq!((own.region.code.as_str(), own.centre.map(|c| c.level)), ("330602001004", Some(Level::Village)));
    assert!(own.cases.iter().all(|c| c.holder.as_ref().is_some_and(|h| h.region == "330602001004")));
    let r = request(&a, "GET", "/api/desk?queue=centre&region=330602001", &[("Cookie", huayuan.as_str())], "").await;
    assert_eq!(r.status, 404, "the town's queue is above the community");
    srv.stop().await;
}

/// Grid duty (网格员在岗): the demo's grid-management system sends its rosters; a community official's
/// tablet shows who is on duty in each of their grids, the wall counts them, a lunch break empties the
/// grids, another street's official cannot read them, and a restart reads the roster back from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duty_rosters_reach_the_tablet_and_the_wall_by_scope_and_survive_a_restart() {
    use app::duty::{DutyKind, DutyStatus};
    const MIN: i64 = 60_000;
    let dir = tempfile::tempdir().unwrap();
    // Wednesday 2026-12-02 10:00, a working morning.
    let clock = server::clock::Clock::manual(common::PINNED_MS);
    let mut cfg = common::config(dir.path());
    cfg.demo.backfill_days = 0;
    cfg.demo.rate_per_minute = 0.01;
    let srv = common::start_with_clock(cfg.clone(), clock.clone()).await;
    let a = srv.addr.clone();
    let huayuan = login(&a, "huayuan").await;
    let fengqiao = login(&a, "fengqiao").await;
    let leader = login(&a, "leader").await;
    let coverage = |cookie: String| {
        let a = a.clone();
        async move { request(&a, "GET", "/api/coverage?region=330602001004&days=3", &[("Cookie", cookie.as_str())], "").await }
    };
    let mut c: app::model::Coverage = json(&coverage(huayuan.clone()).await);
    for _ in 0..100 {
        if c.duty.count.on_duty > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        c = json(&coverage(huayuan.clone()).await);
    }
    let d = c.duty.clone();
    let n = d.count;
    assert!(n.grids > 0 && n.on_duty > 0, "{n:?}");
    assert_eq!(n.on_duty + n.on_leave + n.off_duty + n.vacant, n.grids);
    assert_eq!(d.grids.len() as u32, n.grids, "a community's grids are all listed");
    assert_eq!(d.as_of, common::PINNED_MS);

    // Each grid as the plan for today says (read independently of the engine): a worker on a shift
    // covering 10:00 and not on leave is on duty until the shift's end.
    let tree = server::city::RegionTree::new(server::city::shaoxing::build()).unwrap();
    let calendar = server::calendar::Calendar::new(&Default::default()).unwrap();
    let today = app::model::local_day(common::PINNED_MS);
    let plan: Vec<_> = (today - 1..=today).flat_map(|day| server::feeds::demo_roster::plan_day(&tree, &calendar, cfg.demo.seed, day)).collect();
    let t = common::PINNED_MS;
    for g in &d.grids {
        assert!(g.code.starts_with("330602001004"), "{} is not huayuan's", g.code);
        let covering = |kind| plan.iter().find(|p| p.grid == g.code && p.kind == kind && p.from <= t && t < p.to);
        match g.status {
            DutyStatus::OnDuty => {
                let s = covering(DutyKind::Shift).expect("a shift");
                assert_eq!((g.worker.as_ref(), g.until), (Some(&s.worker), Some(s.to)));
            }
            DutyStatus::OnLeave => assert_eq!(g.until, covering(DutyKind::Leave).map(|l| l.to)),
            DutyStatus::OffDuty | DutyStatus::Vacant => assert!(covering(DutyKind::Shift).is_none(), "{g:?}"),
        }
    }
    let wall: WallSnapshot = json(&request(&a, "GET", "/api/wall?region=330602001004", &[("Cookie", huayuan.as_str())], "").await);
    assert_eq!(wall.duty, n, "the wall counts the same");
    let street: WallSnapshot = json(&request(&a, "GET", "/api/wall?region=330602001", &[("Cookie", leader.as_str())], "").await);
    assert!(street.duty.grids > n.grids && street.duty.on_duty >= n.on_duty);
    assert_eq!(coverage(fengqiao.clone()).await.status, 404, "another street's official cannot read the roster");

    // Lunch: nobody is on shift; the wall says so at once.
    clock.advance(150 * MIN);
    // Two and a half hours without input sign a session out.
    let huayuan = login(&a, "huayuan").await;
    // The engine's horizon moves with its sweep, once a second.
    let mut lunch: WallSnapshot = json(&request(&a, "GET", "/api/wall?region=330602001004", &[("Cookie", huayuan.as_str())], "").await);
    for _ in 0..50 {
        if lunch.as_of >= clock.now_ms() - 1_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        lunch = json(&request(&a, "GET", "/api/wall?region=330602001004", &[("Cookie", huayuan.as_str())], "").await);
    }
    assert_eq!(lunch.duty.on_duty, 0, "{:?}", lunch.duty);
    assert_eq!(lunch.duty.grids, n.grids);
    srv.stop().await;

    // A restart without the demo feed reads the roster from the store: 14:00 on the same day.
    clock.advance(90 * MIN);
    cfg.demo.enabled = false;
    let srv = common::start_with_clock(cfg, clock.clone()).await;
    let a = srv.addr.clone();
    let huayuan = login(&a, "huayuan").await;
    let after: app::model::Coverage = json(&request(&a, "GET", "/api/coverage?region=330602001004&days=3", &[("Cookie", huayuan.as_str())], "").await);
    let t = clock.now_ms();
    let on_shift = after.duty.grids.iter().filter(|g| g.status == DutyStatus::OnDuty).count();
    assert!(on_shift > 0);
    for g in &after.duty.grids {
        let planned = plan.iter().any(|p| p.grid == g.code && p.kind == DutyKind::Shift && p.from <= t && t < p.to);
        let away = plan.iter().any(|p| p.grid == g.code && p.kind == DutyKind::Leave && p.from <= t && t < p.to);
        assert_eq!(g.status == DutyStatus::OnDuty, planned && !away, "{g:?}");
    }
    srv.stop().await;
}
