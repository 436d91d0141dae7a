//! The engine by hand on a small tree, and as properties on random data: the cells equal an exact scan
//! for any region and period, and nothing depends on the order events arrive in or when sweeps run.
use crate::case::{CaseEvent, CaseFacts, Note};
use crate::testing::{row, tree};
use crate::tree::{RegionRow, RegionTree};
use crate::Engine;
use app::flow::{Action, Priority};
use app::model::{local_day, Category, GridKind, KpiKey, Period, Source, Status, DAY_MS};
use std::sync::Arc;

const H: i64 = 3_600_000;
const M: i64 = 60_000;
/// 2026-11-21 10:00 in Shanghai.
const T0: i64 = 1_795_190_400_000 + 10 * H;

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

fn live() -> (Engine, usize) {
    let t = tree();
    let mut a = Engine::new(t.clone());
    for e in story() {
        assert!(a.take(&e), "{e:?} counted");
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
    let days = a.days(root, today - 1, today);
    assert_eq!((days[1].reported, days[1].closed, days[1].overdue), (3, 1, 1));
    assert_eq!((days[0].reported, days[0].closed, days[0].overdue), (1, 0, 1));
    assert_eq!(a.node(root).open_by_category[Category::Hazard.index()], 3);
    assert_eq!(a.node(root).open_by_category[Category::Dispute.index()], 0);
    let links = |r: usize| a.snapshot(r).flow.into_iter().map(|l| (l.from, l.to, l.count)).collect::<Vec<_>>();
    assert_eq!(links(d11), [(Status::Reported, Status::Accepted, 1), (Status::Accepted, Status::Dispatched, 1), (Status::Dispatched, Status::Closed, 1)]);
    assert_eq!(links(d12), [(Status::Reported, Status::Accepted, 1)]);
    // A grid is scanned, not summed: the same figures.
    let g = t.find("11111").unwrap();
    assert_eq!(links(g).len(), 3);
    assert_eq!(a.days(g, today, today)[0].closed, 1);
}

#[test]
fn repeats_and_strangers_change_nothing() {
    let (mut a, root) = live();
    let before = a.node(root).clone();
    let v = a.version();
    assert!(!a.take(&report("b", "12111", T0 + 1, T0 + H, Category::Hazard)), "repeated report");
    assert!(!a.take(&step("y", 1, Status::Reported, T0 + 4 * H)), "the same event number again");
    assert!(!a.take(&step("zz", 1, Status::Accepted, T0 + 4 * H)), "unknown case");
    assert!(!a.take(&report("q", "999", T0 + 4 * H, T0 + 5 * H, Category::Hazard)), "unknown grid");
    assert!(!a.take(&report("q", "1211", T0 + 4 * H, T0 + 5 * H, Category::Hazard)), "a village is not a grid");
    assert_eq!(a.node(root), &before);
    assert_eq!(a.version(), v);
}

#[test]
fn rebuild_from_events_equals_live_counts() {
    let (a, _) = live();
    let b = Engine::rebuild(tree(), story(), T0 + 3 * H);
    assert_eq!(a.difference(&b), None);
    let c = Engine::rebuild(tree(), story().into_iter().take(5), T0 + 3 * H);
    assert!(a.difference(&c).is_some(), "the comparison can fail");
}

#[test]
fn snapshot_figures_by_hand() {
    let (a, root) = live();
    let s = a.snapshot(root);
    let k = |key| s.kpis.iter().find(|k| k.key == key).unwrap().clone();
    assert_eq!(k(KpiKey::NewToday).value, 3.0);
    assert_eq!(k(KpiKey::NewToday).previous, Some(1.0), "yesterday up to 13:00: y");
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
    assert_eq!(s.ticker[1].place, "R121·R1211");
    let d11 = a.tree().find("11").unwrap();
    let ids: Vec<String> = a.snapshot(d11).ticker.into_iter().map(|t| t.case_id).collect();
    assert_eq!(ids, ["a"], "a district's ticker holds only its own cases");
    // City, district 11, town 111, district 12, town 121: every count here is small, so all are withheld
    // but the zeros.
    use app::model::Cell::{Count, Suppressed};
    let rows = a.public_rows();
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
fn returns_oversight_due_soon_and_escalation() {
    let (mut a, root) = live();
    // c was reported at T0 + 30 min, due at T0 + 5 h: due soon from T0 + 4 h 6 min (four fifths of its time).
    a.sweep(T0 + 4 * H);
    assert_eq!(a.node(root).due_soon, 0);
    a.sweep(T0 + 4 * H + 6 * M);
    assert_eq!((a.node(root).due_soon, a.node(root).overdue), (1, 2));

    // The department returns c to the centre that dispatched it.
    assert!(a.take(&step("c", 1, Status::Accepted, T0 + 4 * H + 10 * M)));
    assert!(a.take(&step("c", 2, Status::Dispatched, T0 + 4 * H + 11 * M)));
    assert!(a.take(&CaseEvent::change("t", "c", 3, Action::Return, Status::Accepted, T0 + 4 * H + 12 * M)));
    assert!(!a.take(&step("c", 2, Status::Dispatched, T0 + 4 * H + 13 * M)), "a re-delivery changes nothing");
    a.sweep(T0 + 4 * H + 13 * M);
    let back = a.snapshot(root).flow.into_iter().find(|l| (l.from, l.to) == (Status::Dispatched, Status::Accepted)).map(|l| l.count);
    assert_eq!(back, Some(1));

    // Supervised twice (one case, two actions), y escalated once.
    assert!(a.take(&oversight("c", Action::Supervise, Status::Accepted, T0 + 4 * H + 20 * M)));
    assert!(a.take(&oversight("c", Action::Supervise, Status::Accepted, T0 + 4 * H + 21 * M)));
    assert!(a.take(&oversight("y", Action::Escalate, Status::Accepted, T0 + 4 * H + 22 * M)));
    a.sweep(T0 + 4 * H + 23 * M);
    assert_eq!((a.node(root).supervised, a.node(root).escalated), (1, 1), "cases, not actions");
    let s = a.snapshot(root);
    assert_eq!((s.alerts.due_soon, s.alerts.supervised, s.alerts.escalated), (1, 1, 1));
    let front: Vec<(Action, String)> = a.ticker(root, 3).into_iter().map(|t| (t.action, t.case_id)).collect();
    assert_eq!(front, [(Action::Escalate, "y".to_string()), (Action::Supervise, "c".into()), (Action::Supervise, "c".into())]);

    // c's deadline passes: no longer due soon but overdue. Overdue for 0 ms: b and c wait for escalation
    // (y already went up).
    a.sweep(T0 + 5 * H);
    assert_eq!((a.node(root).due_soon, a.node(root).overdue), (0, 3));
    let due: Vec<String> = a.due_for_escalation(|_| true).into_iter().map(|c| c.1).collect();
    assert_eq!(due, ["b", "c"]);
    let hour_late = |deadline| deadline + H <= T0 + 5 * H;
    assert_eq!(a.due_for_escalation(hour_late), vec![("t".to_string(), "b".to_string(), Status::Reported)], "c is not an hour late yet");

    // Closing c takes it out of every count.
    assert!(a.take(&step("c", 4, Status::Closed, T0 + 5 * H + M)));
    a.sweep(T0 + 5 * H + M);
    assert_eq!((a.node(root).open, a.node(root).overdue, a.node(root).supervised, a.node(root).escalated), (2, 2, 0, 1));
}

#[test]
fn an_event_dated_ahead_counts_when_its_time_comes() {
    let (mut a, root) = live();
    assert!(a.take(&report("f", "11111", T0 + 6 * H, T0 + 9 * H, Category::Hazard)));
    assert_eq!(a.node(root).open, 3, "not yet");
    a.sweep(T0 + 6 * H);
    assert_eq!(a.node(root).open, 4);
    assert_eq!(a.days(root, local_day(T0), local_day(T0))[0].reported, 4);
}

#[test]
fn coverage_by_hand_with_dedicated_grids_apart() {
    // As `tree()`, but grid 12112 serves a school (专属网格).
    let mut rows: Vec<RegionRow> = (0..tree().len()).map(|i| tree().get(i).row.clone()).collect();
    rows.iter_mut().find(|r| r.code == "12112").unwrap().grid.as_mut().unwrap().kind = GridKind::School;
    let mut a = Engine::new(Arc::new(RegionTree::new(rows).unwrap()));
    let d = DAY_MS;
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

#[test]
fn fitness_by_hand_each_condition_and_rolled_up() {
    use app::model::{Fitness, FitnessGap};
    let d = DAY_MS;
    // 11111: staffed, walked yesterday, base data 10 days old: fit. 12111: vacant, never walked, base
    // data never recorded. 12112: staffed, walked yesterday, base data 91 days old: stale.
    let mut rows: Vec<RegionRow> = (0..tree().len()).map(|i| tree().get(i).row.clone()).collect();
    let mut set = |code: &str, at: Option<i64>| rows.iter_mut().find(|r| r.code == code).unwrap().grid.as_mut().unwrap().base_updated = at;
    set("11111", Some(T0 - 10 * d));
    set("12112", Some(T0 - 91 * d));
    let mut a = Engine::new(Arc::new(RegionTree::new(rows).unwrap()));
    assert!(a.patrolled("11111", T0 - d));
    assert!(a.patrolled("12112", T0 - d));
    let root = a.tree().root();
    let c = a.coverage(root, T0, 3);
    assert_eq!(c.fitness, Fitness { grids: 3, fit: 1, vacant: 1, not_patrolled: 1, base_stale: 2 });
    let unfit: Vec<(&str, &[FitnessGap])> = c.unfit.iter().map(|g| (g.code.as_str(), g.gaps.as_slice())).collect();
    assert_eq!(unfit, [("12111", &[FitnessGap::Vacant, FitnessGap::NotPatrolled, FitnessGap::BaseDataStale][..]), ("12112", &[FitnessGap::BaseDataStale][..])], "most gaps first");
    let by_child: Vec<(&str, u32, u32)> = c.fitness_by_child.iter().map(|(r, f)| (r.code.as_str(), f.grids, f.fit)).collect();
    assert_eq!(by_child, [("11", 1, 1), ("12", 2, 0)]);
    // The rule's edges: base data exactly 90 days old is still current; a patrol exactly 3 days ago counts.
    let mut rows: Vec<RegionRow> = (0..tree().len()).map(|i| tree().get(i).row.clone()).collect();
    rows.iter_mut().find(|r| r.code == "11111").unwrap().grid.as_mut().unwrap().base_updated = Some(T0 - 90 * d);
    let mut b = Engine::new(Arc::new(RegionTree::new(rows).unwrap()));
    assert!(b.patrolled("11111", T0 - 3 * d));
    let d11 = b.tree().find("11").unwrap();
    assert_eq!(b.fitness(d11, T0, 3).0.fit, 1);
    assert_eq!(b.fitness(d11, T0 + 1, 3).0, Fitness { grids: 1, fit: 0, vacant: 0, not_patrolled: 1, base_stale: 1 });
    // The wall's grid tile carries the rate, at the engine's time.
    b.sweep(T0);
    let k = b.snapshot(d11).kpis.into_iter().find(|k| k.key == app::model::KpiKey::GridCoverage).unwrap();
    assert_eq!(k.also, Some(1.0));
}

/// A bigger tree: 2 districts × 2 towns × 2 villages × 3 grids.
fn wide_tree() -> Arc<RegionTree> {
    use app::model::Level;
    let mut rows = vec![row("1", Level::City, None, false)];
    for d in 1..=2 {
        let dc = format!("1{d}");
        rows.push(row(&dc, Level::District, Some("1"), false));
        for t in 1..=2 {
            let tc = format!("{dc}{t}");
            rows.push(row(&tc, Level::Town, Some(&dc), false));
            for v in 1..=2 {
                let vc = format!("{tc}{v}");
                rows.push(row(&vc, Level::Village, Some(&tc), false));
                for g in 1..=3 {
                    rows.push(row(&format!("{vc}{g}"), Level::Grid, Some(&vc), g != 3));
                }
            }
        }
    }
    rows.sort_by_key(|r| r.level);
    Arc::new(RegionTree::new(rows).unwrap())
}

/// Random cases over `days` days before `end`: random paths with returns, gaps filled late, oversight,
/// mediation, departments; each case's events in a list of their own.
fn random_cases(seed: u64, tree: &RegionTree, end: i64, days: i64) -> Vec<Vec<CaseEvent>> {
    let grids: Vec<String> = tree.iter().filter(|(_, r)| r.row.grid.is_some()).map(|(_, r)| r.row.code.clone()).collect();
    let mut h = crate::cases::key("seed", &seed.to_string()) as u64;
    let mut next = move || {
        h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        h >> 17
    };
    let mut out = Vec::new();
    for n in 0..150 {
        let id = format!("c{n}");
        let at = end - (next() % (days * DAY_MS) as u64) as i64;
        let deadline = at + 1 + (next() % (40 * H as u64)) as i64;
        let category = Category::ALL[(next() % 5) as usize];
        let source = Source::ALL[(next() % Source::ALL.len() as u64) as usize];
        let department = ["", "城管局", "公安局"][(next() % 3) as usize];
        let facts = CaseFacts {
            category,
            source,
            grid: grids[(next() % grids.len() as u64) as usize].clone(),
            reported_at: at,
            priority: Priority::Normal,
            warn_at: at + (deadline - at) * 4 / 5,
            deadline,
            details: crate::case::CaseDetails { department: (!department.is_empty()).then(|| department.to_string()), ..Default::default() },
        };
        let mut events = vec![CaseEvent { facts: Some(facts), ..CaseEvent::change("t", &id, 0, Action::Report, Status::Reported, at) }];
        let (mut t, mut status, mut seq) = (at, Status::Reported, 0);
        while status != Status::Closed && next() % 9 != 0 {
            t += 1 + (next() % (12 * H as u64)) as i64;
            seq += 1;
            let (action, to) = match (status, next() % 10) {
                (Status::Dispatched | Status::Handling, 0) => (Action::Return, Status::Accepted),
                (Status::Handling, 1) => (Action::Mediate, Status::Handling),
                (s, _) => (Action::into_status(s.next().unwrap()), s.next().unwrap()),
            };
            let mediation = (action == Action::Mediate).then_some(app::flow::Mediation { tier: app::flow::Tier::Village, outcome: app::flow::Outcome::Settled });
            events.push(CaseEvent { mediation, ..CaseEvent::change("t", &id, seq, action, to, t) });
            status = to;
            if next() % 6 == 0 {
                let a = [Action::Supervise, Action::Escalate][(next() % 2) as usize];
                events.push(oversight(&id, a, status, t + 1));
            }
        }
        out.push(events);
    }
    out
}

/// Property: for every region, period and ending (a past midnight, the horizon, a past time of day),
/// the cells give exactly what a scan of the cases gives, and the durations' quantiles stay within
/// the sketch's bound.
#[test]
fn cells_equal_an_exact_scan_for_any_region_and_period() {
    let tree = wide_tree();
    for seed in 0..12u64 {
        // Horizons at whole hours and inside them (a comparison period ends at the same time of day).
        let now = T0 + (seed as i64) * 7 * H + (seed as i64 * 17 % 60) * 60_000;
        let mut e = Engine::new(tree.clone());
        for c in random_cases(seed, &tree, now, 50) {
            for ev in c {
                e.take(&ev);
            }
        }
        e.sweep(now);
        let d = |s: &str| app::model::parse_day(s).unwrap();
        let periods = [
            Period::LastDays(1),
            Period::LastDays(7),
            Period::LastDays(30),
            Period::LastDays(45),
            Period::Year(0),
            Period::Dates { from: d("2026-10-01"), to: d("2026-11-01") },
            Period::Dates { from: d("2026-11-15"), to: d("2026-11-19") },
        ];
        for (idx, _) in tree.iter() {
            for p in periods {
                let (cells, scan) = (e.flow_report(idx, p), e.flow_report_by_scan(idx, p));
                let what = format!("seed {seed}, region {}, {p:?}", tree.get(idx).row.code);
                assert_eq!(cells.figures, scan.figures, "{what}: figures");
                assert_eq!(cells.previous, scan.previous, "{what}: previous period");
                assert_eq!(cells.year_ago, scan.year_ago, "{what}: a year ago");
                assert_eq!(cells.links, scan.links, "{what}: transitions");
                assert_eq!(cells.backlog, scan.backlog, "{what}: backlog");
                assert_eq!(cells.by_region, scan.by_region, "{what}: by region");
                // Each child's row is that child's own report, however the parent's was computed.
                for (row, &ch) in cells.by_region.iter().zip(&tree.get(idx).children) {
                    assert_eq!(row.figures, e.flow_report(ch, p).figures, "{what}: row of child {}", row.key);
                }
                assert_eq!(cells.by_department, scan.by_department, "{what}: by department");
                assert_eq!(cells.by_category, scan.by_category, "{what}: by category");
                assert_eq!(cells.by_source, scan.by_source, "{what}: by source");
                assert_eq!(cells.mediation, scan.mediation, "{what}: mediation");
                assert_eq!(cells.stages.len(), scan.stages.len(), "{what}: stages");
                assert_eq!(cells.time_to_close.is_some(), scan.time_to_close.is_some(), "{what}: time to close");
                for (a, b) in cells.stages.iter().chain(&cells.time_to_close).zip(scan.stages.iter().chain(&scan.time_to_close)) {
                    assert_eq!((a.status, a.count), (b.status, b.count), "{what}");
                    for (x, y) in [(a.median_ms, b.median_ms), (a.p90_ms, b.p90_ms)] {
                        assert!((x - y).abs() as f64 <= cells.quantile_error * y as f64 + 1.0, "{what}: {x} vs exact {y}");
                    }
                }
                // Breakdowns add up.
                let due: u32 = cells.by_category.iter().map(|r| r.figures.due).sum();
                assert_eq!(due, cells.figures.due, "{what}");
            }
        }
    }
}

/// Property: a scan may skip a case whose span does not meet its period (`GridCase::meets`): such a case
/// adds nothing, for windows at and around each of its instants and at random; and every grid's list
/// keeps each case's span up to date as its events arrive (late and out of order ones included).
#[test]
fn a_case_whose_span_misses_a_period_adds_nothing_to_its_scan() {
    use crate::engine::GridCase;
    use crate::scan::{Acc, Window};
    let tree = wide_tree();
    let mut skipped = 0;
    for seed in 0..6u64 {
        let now = T0 + (seed as i64) * 5 * H;
        let mut e = Engine::new(tree.clone());
        let mut cases = random_cases(seed, &tree, now, 40);
        // The later half of each case's events arrive in reverse (a feed catching up out of order).
        for c in cases.iter_mut() {
            let k = c.len() / 2;
            c[k..].reverse();
        }
        for c in &cases {
            for ev in c {
                e.take(ev);
            }
        }
        e.sweep(now);
        for list in &e.by_grid {
            for g in list {
                assert_eq!(*g, GridCase::of(g.n, e.cases.get(g.n)), "seed {seed}: the grid list holds the case's span");
            }
        }
        let mut x = seed + 1;
        for list in &e.by_grid {
            for g in list {
                let c = e.cases.get(g.n);
                let mut times: Vec<i64> = [c.reported_at, c.deadline].into_iter().chain(c.events.iter().map(|v| v.at)).collect();
                for _ in 0..4 {
                    x = crate::testing::mix(x);
                    times.push(now - (x % (60 * DAY_MS as u64)) as i64);
                }
                let around: Vec<i64> = times.iter().flat_map(|&t| [t - 1, t, t + 1]).collect();
                for &f in &around {
                    for &t in &around {
                        if t < f || g.meets(f, t) {
                            continue;
                        }
                        skipped += 1;
                        let mut acc = Acc::new(e.cells.slots());
                        let fig = acc.add(c, &Window { f, a: f, t, since: None }, &mut Vec::new());
                        let fresh = Acc::new(e.cells.slots());
                        let what = format!("seed {seed}, case {}, [{f}, {t})", c.id);
                        assert_eq!(fig, crate::scan::Fig::default(), "{what}");
                        assert_eq!((acc.slots, acc.links, acc.mediation, acc.stays, acc.backlog), (fresh.slots, fresh.links, fresh.mediation, fresh.stays, fresh.backlog), "{what}");
                    }
                }
            }
        }
    }
    assert!(skipped > 10_000, "the windows tried include many a scan skips ({skipped})");
}

/// Property: a centre's deadlines of the last days, read from the cases that meet them, are those of
/// every case of the region (held at the centre's level, due in the days before now).
#[test]
fn a_centres_deadlines_are_counted_from_every_case_they_concern() {
    let tree = wide_tree();
    for seed in 0..4u64 {
        let now = T0 + (seed as i64) * 11 * H;
        let mut e = Engine::new(tree.clone());
        for c in random_cases(seed, &tree, now, 40) {
            for ev in c {
                e.take(&ev);
            }
        }
        e.sweep(now);
        for days in [1, 7, 30] {
            let from = now - days * DAY_MS;
            let mut seen = 0;
            for (idx, r) in tree.iter() {
                let level = r.row.level;
                let mine: Vec<&crate::cases::Case> = (0..e.cases.len() as u32)
                    .map(|n| e.cases.get(n))
                    .filter(|c| tree.is_within(c.grid as usize, idx) && app::flow::holder_level(c.category, c.escalations()) == level && (from..now).contains(&c.deadline))
                    .collect();
                let on_time = mine.iter().filter(|c| c.closed_at().is_some_and(|at| at <= c.deadline)).count() as u32;
                let load = e.centre_load(idx, now, days);
                assert_eq!((load.due, load.on_time), (mine.len() as u32, on_time), "seed {seed}, {} over {days} days", r.row.code);
                seen += mine.len();
            }
            assert!(seen > 0 || days == 1, "seed {seed}: some deadlines fell in {days} days");
        }
    }
}

/// Property: the figures do not depend on when events arrive or when the sweep runs. Cases are
/// delivered with random delays (each case in its own order) with sweeps at random times in between;
/// after a final sweep every region's counters, cells and reports equal counting them in time order.
#[test]
fn counts_do_not_depend_on_arrival_or_sweep_times() {
    let tree = wide_tree();
    for seed in 0..30u64 {
        let now = T0 + 80 * DAY_MS;
        let cases = random_cases(seed + 100, &tree, now - 20 * DAY_MS, 60);
        let mut in_time: Vec<CaseEvent> = cases.iter().flatten().cloned().collect();
        in_time.sort_by_key(|e| e.at);
        let want = Engine::rebuild(tree.clone(), in_time.clone(), now);
        let mut h = seed.wrapping_mul(0x9e37_79b9) + 1;
        let mut next = move || {
            h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            h >> 20
        };
        // Arrival: each case delayed by up to three days, one in five by up to ninety.
        let mut arrivals: Vec<(i64, usize, usize)> = Vec::new();
        for (ci, events) in cases.iter().enumerate() {
            let delay = if next() % 5 == 0 { next() % (90 * DAY_MS as u64) } else { next() % (72 * H as u64) } as i64;
            for (ei, e) in events.iter().enumerate() {
                arrivals.push(((e.at + delay).min(now), ci, ei));
            }
        }
        arrivals.sort();
        let mut live = Engine::new(tree.clone());
        for (arrives, ci, ei) in arrivals {
            if next() % 3 == 0 {
                live.sweep(arrives);
            }
            live.take(&cases[ci][ei]);
        }
        live.sweep(now);
        for (i, _) in tree.iter() {
            assert_eq!(live.node(i), want.node(i), "seed {seed}, region {i}");
            for p in [Period::LastDays(30), Period::LastDays(90)] {
                assert_eq!(live.flow_report(i, p), want.flow_report(i, p), "seed {seed}, region {i}, {p:?}");
            }
        }
        // (Cells themselves are numbered by department in arrival order; the reports name departments.)
    }
}

/// A snapshot written and read back holds the same figures; a damaged one is refused with the reason.
#[test]
fn snapshots_round_trip_and_damaged_ones_are_refused() {
    use crate::persist::LoadError;
    let tree = wide_tree();
    let now = T0 + 40 * DAY_MS;
    let mut e = Engine::new(tree.clone());
    for c in random_cases(7, &tree, now, 30) {
        for ev in c {
            e.take(&ev);
        }
    }
    e.sweep(now);
    e.patrolled("111111", now - H);
    e.observe("video", "ch1", 3, &crate::safety::Observation { indicator: app::model::Indicator::VideoOnline, region: "111".into(), at: now - H, value: 1.0 });
    let positions = vec![("case_events".to_string(), 4242i64)];
    let mut bytes = Vec::new();
    e.save(&mut bytes, &positions).unwrap();
    let load = |b: &[u8], t: &Arc<RegionTree>| Engine::load(t.clone(), b, b.len() as u64);
    let (back, pos) = load(&bytes, &tree).unwrap();
    assert_eq!(pos, positions);
    assert_eq!(back.difference(&e), None);
    for p in [Period::LastDays(7), Period::Year(0)] {
        assert_eq!(back.flow_report(tree.root(), p), e.flow_report(tree.root(), p));
    }
    // Truncated anywhere, a flipped byte, another version, another tree: refused, never trusted.
    for cut in [3, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(load(&bytes[..cut], &tree).is_err(), "cut at {cut}");
    }
    for at in [30, bytes.len() / 3, bytes.len() - 20] {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        assert!(load(&b, &tree).is_err(), "a flipped byte at {at}");
    }
    let mut b = bytes.clone();
    b[8] = 99;
    assert!(matches!(load(&b, &tree), Err(LoadError::Version { found: 99, .. })));
    assert!(matches!(load(&bytes, &crate::testing::tree()), Err(LoadError::OtherTree)));
    assert!(matches!(load(b"not a snapshot at all", &tree), Err(LoadError::NotASnapshot)));
}
