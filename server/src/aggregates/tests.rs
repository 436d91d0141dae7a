use super::*;
use crate::case::CaseFacts;
use crate::city::{GridAttrs, RegionRow};
use crate::case::Note;
use app::flow::{Action, Priority};
use app::model::{GridKind, KpiKey, Level, Source};

const H: i64 = 3_600_000;
/// 2026-11-21 10:00 in Shanghai.
const T0: i64 = 1_795_190_400_000 + 10 * H;

fn row(code: &str, level: Level, parent: Option<&str>, worker: bool) -> RegionRow {
    RegionRow {
        code: code.into(),
        name: format!("R{code}"),
        level,
        parent: parent.map(Into::into),
        shape: vec![vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]],
        schematic: false,
        grid: (level == Level::Grid).then(|| GridAttrs {
            kind: GridKind::Comprehensive,
            worker: worker.then(|| "王伟".into()),
            households: 10,
            population: 30,
        }),
    }
}

/// City 1 → districts 11, 12 → towns 111, 121 → villages 1111, 1211 → grids 11111, 12111 (vacant), 12112.
fn tree() -> Arc<RegionTree> {
    Arc::new(
        RegionTree::new(vec![
            row("1", Level::City, None, false),
            row("11", Level::District, Some("1"), false),
            row("12", Level::District, Some("1"), false),
            row("111", Level::Town, Some("11"), false),
            row("121", Level::Town, Some("12"), false),
            row("1111", Level::Village, Some("111"), false),
            row("1211", Level::Village, Some("121"), false),
            row("11111", Level::Grid, Some("1111"), true),
            row("12111", Level::Grid, Some("1211"), false),
            row("12112", Level::Grid, Some("1211"), true),
        ])
        .unwrap(),
    )
}

fn report(id: &str, grid: &str, at: i64, deadline: i64, category: Category) -> CaseEvent {
    let facts = CaseFacts {
        category,
        source: Source::Hotline12345,
        grid: grid.into(),
        reported_at: at,
        priority: Priority::Normal,
        warn_at: at + (deadline - at) * 4 / 5,
        deadline,
        details: Default::default(),
    };
    CaseEvent { facts: Some(facts), ..CaseEvent::change("t", id, 0, Action::Report, Status::Reported, at) }
}

fn step(id: &str, seq: u32, status: Status, at: i64) -> CaseEvent {
    CaseEvent::change("t", id, seq, Action::into_status(status), status, at)
}

fn story() -> Vec<CaseEvent> {
    vec![
        report("y", "12112", T0 - 24 * H, T0 - 23 * H, Category::Hazard), // yesterday; overdue since yesterday
        report("a", "11111", T0, T0 + H, Category::Dispute),
        report("b", "12111", T0 + 1, T0 + H, Category::Hazard),
        step("a", 1, Status::Accepted, T0 + H / 6),
        step("a", 2, Status::Dispatched, T0 + H / 3),
        report("c", "12112", T0 + H / 2, T0 + 5 * H, Category::Hazard),
        step("a", 3, Status::Closed, T0 + H / 2 + 1),
        step("y", 1, Status::Accepted, T0 + 2 * H),
    ]
}

fn live() -> (Aggregates, usize) {
    let t = tree();
    let mut a = Aggregates::new(t.clone());
    for e in story() {
        assert!(a.apply(&e), "{e:?} counted");
    }
    a.sweep(T0 + 3 * H);
    (a, t.root())
}

#[test]
fn counts_roll_up_the_tree() {
    let (a, root) = live();
    let t = a.tree();
    let d11 = t.find("11").unwrap();
    let d12 = t.find("12").unwrap();
    let today = local_day(T0);
    assert_eq!(a.node(root).open, 3, "b, c and y are open");
    assert_eq!(a.node(d11).open, 0);
    assert_eq!(a.node(d12).open, 3);
    // y overdue yesterday, b at T0+1h; c is due at T0+5h.
    assert_eq!(a.node(root).overdue, 2);
    assert_eq!(a.node(root).days[&today], Day { reported: 3, closed: 1, overdue: 1 });
    assert_eq!(a.node(root).days[&(today - 1)], Day { reported: 1, closed: 0, overdue: 1 });
    assert_eq!(a.node(root).open_by_category[Category::Hazard.index()], 3);
    assert_eq!(a.node(root).open_by_category[Category::Dispute.index()], 0);
    assert_eq!(a.node(d11).flow[&(today, Status::Dispatched, Status::Closed)], 1);
    assert_eq!(a.node(d11).flow.len(), 3);
    assert_eq!(a.node(d12).flow[&(today, Status::Reported, Status::Accepted)], 1);
}

#[test]
fn repeats_backward_moves_and_strangers_change_nothing() {
    let (mut a, root) = live();
    let before = a.node(root).clone();
    let v = a.version();
    assert!(!a.apply(&report("b", "12111", T0 + 1, T0 + H, Category::Hazard)), "repeated report");
    assert!(!a.apply(&step("y", 1, Status::Reported, T0 + 4 * H)), "backwards");
    assert!(!a.apply(&step("zz", 1, Status::Accepted, T0 + 4 * H)), "unknown case");
    assert!(!a.apply(&report("q", "999", T0 + 4 * H, T0 + 5 * H, Category::Hazard)), "unknown grid");
    assert_eq!(a.node(root), &before);
    assert_eq!(a.version(), v);
}

#[test]
fn rebuild_from_events_equals_live_counts() {
    let (a, _) = live();
    let b = Aggregates::rebuild(tree(), story(), T0 + 3 * H);
    assert_eq!(a, b);
    let c = Aggregates::rebuild(tree(), story().into_iter().take(5), T0 + 3 * H);
    assert_ne!(a, c, "the comparison can fail");
}

#[test]
fn snapshot_figures_by_hand() {
    let (a, root) = live();
    let s = a.snapshot(root, T0 + 3 * H);
    let k = |key| s.kpis.iter().find(|k| k.key == key).unwrap().clone();
    assert_eq!(k(KpiKey::NewToday).value, 3.0);
    assert_eq!(k(KpiKey::NewToday).previous, Some(1.0));
    assert_eq!(k(KpiKey::Open).value, 3.0);
    // End of yesterday: 3 open now - 3 reported today + 1 closed today = 1 (y).
    assert_eq!(k(KpiKey::Open).previous, Some(1.0));
    assert_eq!(k(KpiKey::Overdue).value, 2.0);
    assert_eq!(k(KpiKey::Overdue).previous, Some(2.0 / 3.0));
    // Last 7 days: 1 closed of 4 reported.
    assert_eq!(k(KpiKey::ClosureRate).value, 0.25);
    assert_eq!(k(KpiKey::ClosureRate).previous, None, "nothing reported the week before");
    // 3 grids, one vacant.
    assert_eq!(k(KpiKey::GridCoverage).value, 2.0 / 3.0);
    assert_eq!(k(KpiKey::GridCoverage).previous, Some(1.0));
    assert_eq!(s.areas.len(), 2);
    assert_eq!((s.areas[1].code.as_str(), s.areas[1].open, s.areas[1].overdue, s.areas[1].new_today), ("12", 3, 2, 2));
    assert_eq!(s.flow.iter().map(|f| f.count).sum::<u32>(), 4);
    let ids: Vec<&str> = s.ticker.iter().map(|t| t.case_id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a", "y"]);
    let d11 = a.tree().find("11").unwrap();
    let ids: Vec<String> = a.snapshot(d11, T0 + 3 * H).ticker.into_iter().map(|t| t.case_id).collect();
    assert_eq!(ids, ["a"], "a district's ticker holds only its own cases");
    // City, district 11, town 111, district 12, town 121: every count here is small, so all are withheld
    // but the zeros.
    use app::model::Cell::{Count, Suppressed};
    let rows = a.public_rows(T0 + 3 * H);
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["1", "11", "111", "12", "121"]);
    assert_eq!(rows[1].closed_30d, Suppressed);
    assert_eq!(rows[1].open, Count(0));
    assert!(rows.iter().all(|r| r.reported_30d == Suppressed));
}

fn oversight(id: &str, action: Action, status: Status, at: i64) -> CaseEvent {
    CaseEvent::oversight("t", id, action, status, at, Note { actor: "tashan".into(), text: "请加快".into() })
}

#[test]
fn returns_oversight_due_soon_and_late_events() {
    let (mut a, root) = live();
    let today = local_day(T0);
    let m = H / 60;
    // c was reported at T0 + 30 min, due at T0 + 5 h: due soon from T0 + 4 h 6 min (four fifths of its time).
    a.sweep(T0 + 4 * H);
    assert_eq!(a.node(root).due_soon, 0);
    a.sweep(T0 + 4 * H + 6 * m);
    assert_eq!((a.node(root).due_soon, a.node(root).overdue), (1, 2));

    // The department returns c to the centre that dispatched it.
    assert!(a.apply(&step("c", 1, Status::Accepted, T0 + 4 * H + 10 * m)));
    assert!(a.apply(&step("c", 2, Status::Dispatched, T0 + 4 * H + 11 * m)));
    assert!(a.apply(&CaseEvent::change("t", "c", 3, Action::Return, Status::Accepted, T0 + 4 * H + 12 * m)));
    assert!(!a.apply(&step("c", 2, Status::Dispatched, T0 + 4 * H + 13 * m)), "a late re-delivery moves nothing");
    assert_eq!(a.node(root).flow[&(today, Status::Dispatched, Status::Accepted)], 1);

    // Supervised twice (one case, two actions), y escalated once.
    assert!(a.apply(&oversight("c", Action::Supervise, Status::Accepted, T0 + 4 * H + 20 * m)));
    assert!(a.apply(&oversight("c", Action::Supervise, Status::Accepted, T0 + 4 * H + 21 * m)));
    assert!(a.apply(&oversight("y", Action::Escalate, Status::Accepted, T0 + 4 * H + 22 * m)));
    assert_eq!((a.node(root).supervised, a.node(root).escalated), (1, 1), "cases, not actions");
    let s = a.snapshot(root, T0 + 4 * H + 23 * m);
    assert_eq!((s.alerts.due_soon, s.alerts.supervised, s.alerts.escalated), (1, 1, 1));
    let front: Vec<(Action, &str)> = a.ticker.iter().take(3).map(|t| (t.item.action, t.item.case_id.as_str())).collect();
    assert_eq!(front, [(Action::Escalate, "y"), (Action::Supervise, "c"), (Action::Supervise, "c")]);

    // c's deadline passes: no longer due soon but overdue. Overdue for 0 ms: b and c wait for escalation
    // (y already went up).
    a.sweep(T0 + 5 * H);
    assert_eq!((a.node(root).due_soon, a.node(root).overdue), (0, 3));
    let due: Vec<String> = a.due_for_escalation(|_| true).into_iter().map(|c| c.1).collect();
    assert_eq!(due, ["b", "c"]);
    let hour_late = |deadline| deadline + H <= T0 + 5 * H;
    assert_eq!(a.due_for_escalation(hour_late), vec![("t".to_string(), "b".to_string(), Status::Reported)], "c is not an hour late yet");

    // Closing c takes it out of every count.
    assert!(a.apply(&step("c", 4, Status::Closed, T0 + 5 * H + m)));
    assert_eq!((a.node(root).open, a.node(root).overdue, a.node(root).supervised, a.node(root).escalated), (2, 2, 0, 1));
    assert!(!a.apply(&oversight("c", Action::Supervise, Status::Closed, T0 + 5 * H + 2 * m)), "closed cases take no action");
}

#[test]
fn coverage_by_hand_with_dedicated_grids_apart() {
    // As `tree()`, but grid 12112 serves a school (专属网格).
    let mut rows: Vec<RegionRow> = (0..tree().len()).map(|i| tree().get(i).row.clone()).collect();
    rows.iter_mut().find(|r| r.code == "12112").unwrap().grid.as_mut().unwrap().kind = GridKind::School;
    let mut a = Aggregates::new(Arc::new(RegionTree::new(rows).unwrap()));
    let d = app::model::DAY_MS;
    assert!(a.patrolled("11111", T0 - d));
    assert!(!a.patrolled("11111", T0 - 10 * d), "an older patrol changes nothing");
    assert!(a.patrolled("12112", T0 - 5 * d));
    assert!(!a.patrolled("1211", T0), "a village is not a grid");
    assert!(!a.patrolled("99999", T0));
    let root = a.tree().root();
    let c = a.coverage(root, T0, 3);
    use app::model::GridCount;
    // Comprehensive: 11111 (staffed, walked yesterday) and 12111 (vacant, never walked).
    assert_eq!(c.comprehensive, GridCount { grids: 2, staffed: 1, patrolled: 1 });
    assert_eq!(c.dedicated, GridCount { grids: 1, staffed: 1, patrolled: 0 });
    let stale: Vec<(&str, Option<i64>)> = c.stale.iter().map(|g| (g.code.as_str(), g.last_patrol)).collect();
    assert_eq!(stale, [("12111", None), ("12112", Some(T0 - 5 * d))], "never first, then the oldest");
    assert_eq!(c.stale_total, 2);
    assert_eq!(c.stale[1].place, "R121·R1211");
    // Six days back, 12112 counts as patrolled; district 11 has only its one fresh grid.
    assert_eq!(a.coverage(root, T0, 6).dedicated.patrolled, 1);
    let d11 = a.tree().find("11").unwrap();
    assert_eq!((a.coverage(d11, T0, 3).comprehensive, a.coverage(d11, T0, 3).stale_total), (GridCount { grids: 1, staffed: 1, patrolled: 1 }, 0));
}

/// Property: the counts do not depend on when events arrive or when the sweep runs. Cases are
/// delivered with random delays (each case in its own order), the sweep runs at random times in
/// between, and old events arrive after the day they belong to left the window; after a final sweep
/// every figure but the ticker (which is in arrival order by design) equals counting in time order.
#[test]
fn counts_do_not_depend_on_arrival_or_sweep_times() {
    let grids = ["11111", "12111", "12112"];
    let base = T0 - 70 * 24 * H;
    for seed in 0..60u64 {
        let mut h = crate::city::shaoxing::mix(seed + 1);
        let mut next = || {
            h = crate::city::shaoxing::mix(h);
            h
        };
        // Cases over 70 days, each a few steps, some closed before, some after their deadline.
        let mut cases: Vec<Vec<CaseEvent>> = Vec::new();
        for c in 0..40 {
            let id = format!("c{c}");
            let at = base + (next() % (70 * 24 * H as u64)) as i64;
            let deadline = at + 1 + (next() % (30 * H as u64)) as i64;
            let mut events = vec![report(&id, grids[(next() % 3) as usize], at, deadline, Category::Hazard)];
            let mut t = at;
            for (seq, s) in [Status::Accepted, Status::Dispatched, Status::Handling, Status::Resolved, Status::Verified, Status::Closed].into_iter().enumerate() {
                if next() % 7 == 0 {
                    break;
                }
                t += 1 + (next() % (8 * H as u64)) as i64;
                events.push(step(&id, seq as u32 + 1, s, t));
            }
            cases.push(events);
        }
        let now = base + 71 * 24 * H;
        let mut in_time: Vec<CaseEvent> = cases.iter().flatten().cloned().collect();
        in_time.sort_by_key(|e| e.at);
        let want = Aggregates::rebuild(tree(), in_time, now);
        // Arrival: each case delayed by up to three days, and one in five by up to ninety.
        let mut arrivals: Vec<(i64, usize, usize)> = Vec::new();
        for (ci, events) in cases.iter().enumerate() {
            let delay = if next() % 5 == 0 { next() % (90 * 24 * H as u64) } else { next() % (72 * H as u64) } as i64;
            for (ei, e) in events.iter().enumerate() {
                arrivals.push(((e.at + delay).min(now), ci, ei));
            }
        }
        arrivals.sort();
        let mut live = Aggregates::new(tree());
        for (arrives, ci, ei) in arrivals {
            if next() % 3 == 0 {
                live.sweep(arrives);
            }
            live.apply(&cases[ci][ei]);
        }
        live.sweep(now);
        for (i, (a, b)) in live.nodes.iter().zip(&want.nodes).enumerate() {
            assert_eq!((a.open, a.overdue, a.due_soon, &a.open_by_category), (b.open, b.overdue, b.due_soon, &b.open_by_category), "seed {seed}, node {i}");
            assert_eq!(a.days, b.days, "seed {seed}, node {i}: days");
            assert_eq!(a.flow, b.flow, "seed {seed}, node {i}: transitions");
        }
    }
}
