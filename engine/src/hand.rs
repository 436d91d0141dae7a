//! Every figure of a small dataset worked out by hand (see the comments on each case), read both from
//! the cells (the city and its districts are rollups) and by scanning.
use crate::case::{CaseDetails, CaseEvent, CaseFacts, Note};
use crate::tree::RegionTree;
use crate::Engine;
use app::flow::{Action, Priority};
use app::model::{Category, FlowFigures, FlowReport, Level, Period, Source, Status, DAY_MS};
use std::sync::Arc;
use Action::*;
use Status::*;

const H: i64 = 3_600_000;
const D: i64 = DAY_MS;
/// Start of the period: 2026-11-02 00:00 in Shanghai; the period is 7 days.
pub(crate) const P: i64 = 1_793_548_800_000;

pub(crate) fn tree() -> Arc<RegionTree> {
    let row = |code: &str, level, parent: Option<&str>| crate::testing::row(code, level, parent, false);
    Arc::new(
        RegionTree::new(vec![
            row("1", Level::City, None),
            row("11", Level::District, Some("1")),
            row("111", Level::Town, Some("11")),
            row("1111", Level::Village, Some("111")),
            row("11111", Level::Grid, Some("1111")),
            row("12", Level::District, Some("1")),
            row("121", Level::Town, Some("12")),
            row("1211", Level::Village, Some("121")),
            row("12111", Level::Grid, Some("1211")),
        ])
        .unwrap(),
    )
}

/// A case's events: the source's numbered in order, oversight taken in the cockpit apart.
fn case(id: &str, grid: &str, dept: Option<&str>, category: Category, source: Source, deadline: i64, events: &[(Action, Status, i64)]) -> Vec<CaseEvent> {
    let facts = CaseFacts {
        category,
        source,
        grid: grid.into(),
        reported_at: events[0].2,
        priority: Priority::Normal,
        warn_at: deadline,
        deadline,
        details: CaseDetails { department: dept.map(Into::into), ..Default::default() },
    };
    let mut seq = 0;
    events
        .iter()
        .enumerate()
        .map(|(i, &(action, status, at))| {
            if action.is_oversight() {
                CaseEvent::oversight("t", id, action, status, at, Note { actor: "x".into(), text: String::new() })
            } else {
                let e = CaseEvent { facts: (i == 0).then(|| facts.clone()), ..CaseEvent::change("t", id, seq, action, status, at) };
                seq += 1;
                e
            }
        })
        .collect()
}

fn dataset() -> Vec<CaseEvent> {
    [
        // A: reported, handled and closed inside the period, before its deadline.
        case("A", "11111", Some("城管局"), Category::Environment, Source::GridPatrol, P + 3 * D, &[
            (Report, Reported, P + D),
            (Accept, Accepted, P + D + H),
            (Dispatch, Dispatched, P + D + 2 * H),
            (Start, Handling, P + D + 4 * H),
            (Resolve, Resolved, P + 2 * D),
            (Verify, Verified, P + 2 * D + 2 * H),
            (Close, Closed, P + 2 * D + 3 * H),
        ]),
        // B: reported before the period, due inside it, dispatched and returned; still open: late.
        case("B", "12111", Some("公安局"), Category::PublicOrder, Source::Police, P + D, &[
            (Report, Reported, P - 2 * D),
            (Accept, Accepted, P - 2 * D + H),
            (Dispatch, Dispatched, P + 2 * D),
            (Return, Accepted, P + 2 * D + 2 * H),
        ]),
        // C: reported inside, supervised and escalated, due after the period.
        case("C", "12111", Some("司法局"), Category::Dispute, Source::Hotline12345, P + 10 * D, &[
            (Report, Reported, P + 3 * D),
            (Accept, Accepted, P + 3 * D + 2 * H),
            (Supervise, Accepted, P + 4 * D),
            (Escalate, Accepted, P + 5 * D),
        ]),
        // D: all before the period: nothing in it (but due, on time, in the period before).
        case("D", "11111", Some("城管局"), Category::Livelihood, Source::Hotline12345, P - 5 * D, &[
            (Report, Reported, P - 10 * D),
            (Accept, Accepted, P - 10 * D + H),
            (Dispatch, Dispatched, P - 10 * D + 2 * H),
            (Start, Handling, P - 10 * D + 3 * H),
            (Resolve, Resolved, P - 10 * D + 4 * H),
            (Verify, Verified, P - 10 * D + 5 * H),
            (Close, Closed, P - 9 * D),
        ]),
        // E: reported and closed inside, four hours after its deadline.
        case("E", "11111", None, Category::Hazard, Source::VideoAlert, P + 6 * D + 4 * H, &[
            (Report, Reported, P + 6 * D),
            (Accept, Accepted, P + 6 * D + H),
            (Dispatch, Dispatched, P + 6 * D + 2 * H),
            (Start, Handling, P + 6 * D + 3 * H),
            (Resolve, Resolved, P + 6 * D + 5 * H),
            (Verify, Verified, P + 6 * D + 6 * H),
            (Close, Closed, P + 6 * D + 8 * H),
        ]),
    ]
    .concat()
}

fn figures_of(reported: u32, closed: u32, due: u32, on_time: u32, late_closed: u32, late_open: u32, open_end: u32, overdue_end: u32) -> FlowFigures {
    FlowFigures { reported, closed, due, on_time, late_closed, late_open, open_end, overdue_end, ..FlowFigures::default() }
}

/// The week, seen three weeks later, from the cells and from a scan: they must agree, and both are
/// checked by hand below.
fn run() -> FlowReport {
    let e = Engine::rebuild(tree(), dataset(), P + 30 * D);
    let period = Period::Dates { from: P, to: P + 7 * D };
    let (cells, scan) = (e.flow_report(0, period), e.flow_report_by_scan(0, period));
    // Every count agrees exactly; durations are compared (within the bound) in their own test.
    let same = FlowReport { quantile_error: 0.0, stages: scan.stages.clone(), time_to_close: scan.time_to_close.clone(), ..cells.clone() } == scan;
    assert!(same, "cells and scan agree");
    cells
}

#[test]
fn period_figures_count_open_overdue_as_late() {
    let r = run();
    // Reported A, C, E; closed A, E; due A (on time), B (open: late), E (closed late); open at the end
    // B and C, B past its deadline.
    let want = FlowFigures { supervised: 1, escalated: 1, returned: 1, ..figures_of(3, 2, 3, 1, 1, 1, 2, 1) };
    assert_eq!(r.figures, want);
    assert_eq!(r.figures.on_time_rate(), Some(1.0 / 3.0));
    // Closed cases only would say 1 of 2: the open overdue B must pull it down.
    assert_ne!(r.figures.on_time_rate(), Some(0.5));
}

#[test]
fn comparisons_with_the_period_before_and_a_year_before() {
    let r = run();
    // The week before: B reported; D due (on time); B open at its end, not yet overdue.
    assert_eq!(r.previous, Some(figures_of(1, 0, 1, 1, 0, 0, 1, 0)));
    assert_eq!(r.year_ago, None, "nothing stored a year back");
}

#[test]
fn no_comparison_with_a_period_the_history_does_not_cover() {
    // The first case (D) was reported on the day P-10D. The week before P-3D and the fortnight before
    // P+4D both start on that day: covered. The fortnight before P+3D starts a day earlier, before
    // anything was stored: no comparison rather than a rise from zero.
    let e = Engine::rebuild(tree(), dataset(), P + 30 * D);
    let prev = |from: i64, days: i64| e.flow_report(0, Period::Dates { from, to: from + days * D }).previous;
    assert!(prev(P - 3 * D, 7).is_some());
    assert!(prev(P + 4 * D, 14).is_some());
    assert_eq!(prev(P + 3 * D, 14), None);
    assert_eq!(e.flow_report_by_scan(0, Period::Dates { from: P + 3 * D, to: P + 17 * D }).previous, None, "the scan says the same");
}

#[test]
fn sankey_links_include_returns() {
    let r = run();
    let link = |from, to| r.links.iter().find(|l| l.from == from && l.to == to).map(|l| l.count);
    assert_eq!(link(Reported, Accepted), Some(3), "A, C, E");
    assert_eq!(link(Accepted, Dispatched), Some(3), "A, B, E");
    assert_eq!(link(Dispatched, Handling), Some(2));
    assert_eq!(link(Handling, Resolved), Some(2));
    assert_eq!(link(Resolved, Verified), Some(2));
    assert_eq!(link(Verified, Closed), Some(2));
    assert_eq!(link(Dispatched, Accepted), Some(1), "B returned");
    assert_eq!(r.links.len(), 7, "D's transitions were before the period");
}

#[test]
fn stage_durations_median_and_p90() {
    let r = run();
    let stage = |s| r.stages.iter().find(|x| x.status == s).map(|x| (x.count, x.median_ms, x.p90_ms));
    // Whole hours are not bucket centres: the cells answer within their bound.
    let near = |got: Option<(u32, i64, i64)>, want: (u32, i64, i64)| {
        let (c, m, p) = got.expect("a stage");
        let ok = |x: i64, y: i64| (x - y).abs() as f64 <= r.quantile_error * y as f64 + 1.0;
        assert!(c == want.0 && ok(m, want.1) && ok(p, want.2), "{got:?} vs {want:?}");
    };
    // Reported: A 1 h, C 2 h, E 1 h.
    near(stage(Reported), (3, H, 2 * H));
    // Accepted: A 1 h, E 1 h, B from P-2d+1h to P+2d (95 h). C is still accepted: no exit, not counted.
    near(stage(Accepted), (3, H, 95 * H));
    // Dispatched: A 2 h, B 2 h, E 1 h.
    near(stage(Dispatched), (3, 2 * H, 2 * H));
    // Handling: A 20 h, E 2 h.
    near(stage(Handling), (2, 2 * H, 20 * H));
    near(stage(Resolved), (2, H, 2 * H));
    near(stage(Verified), (2, H, 2 * H));
    assert_eq!(stage(Closed), None, "nothing leaves Closed");
    // Report to close, of the cases closed in the period: E 8 h, A 27 h (D closed before it).
    let close = r.time_to_close.as_ref().map(|x| (x.count, x.median_ms, x.p90_ms));
    near(close, (2, 8 * H, 27 * H));
    // The portal's read of it alone gives the same, and a grid's is exact (A's grid: A and E).
    let e = Engine::rebuild(tree(), dataset(), P + 30 * D);
    let week = Period::Dates { from: P, to: P + 7 * D };
    assert_eq!(e.time_to_close(0, week), (r.time_to_close.clone(), r.quantile_error));
    let grid = e.time_to_close(tree().find("11111").unwrap(), week);
    assert_eq!((grid.0.map(|x| (x.count, x.median_ms, x.p90_ms)), grid.1), (Some((2, 8 * H, 27 * H)), 0.0));
    assert!(r.quantile_error > 0.0 && r.quantile_error < 0.01, "the city's durations come from sketches, within 1 %");
    // A grid's are exact.
    let e = Engine::rebuild(tree(), dataset(), P + 30 * D);
    let g = e.flow_report(tree().find("11111").unwrap(), Period::Dates { from: P, to: P + 7 * D });
    assert_eq!(g.quantile_error, 0.0);
    assert_eq!(g.stages.iter().find(|x| x.status == Handling).map(|x| (x.median_ms, x.p90_ms)), Some((2 * H, 20 * H)));
}

#[test]
fn backlog_by_age() {
    // At the end: B is 9 days old (7–14), C 4 days (3–7).
    assert_eq!(run().backlog, vec![0, 0, 1, 1, 0]);
}

#[test]
fn breakdowns_by_region_department_category_source() {
    let r = run();
    let keys: Vec<&str> = r.by_region.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(keys, ["11", "12"]);
    assert_eq!(r.by_region[0].figures, figures_of(2, 2, 2, 1, 1, 0, 0, 0));
    assert_eq!(r.by_region[1].figures, FlowFigures { supervised: 1, escalated: 1, returned: 1, ..figures_of(1, 0, 1, 0, 0, 1, 2, 1) });
    let dept = |k: &str| r.by_department.iter().find(|x| x.key == k).map(|x| x.figures.clone());
    assert_eq!(dept("城管局"), Some(figures_of(1, 1, 1, 1, 0, 0, 0, 0)), "A; D counts nothing in this period");
    assert_eq!(dept("公安局").map(|f| (f.late_open, f.returned)), Some((1, 1)));
    assert_eq!(dept("司法局").map(|f| (f.reported, f.supervised, f.escalated)), Some((1, 1, 1)));
    assert_eq!(dept("").map(|f| f.late_closed), Some(1), "E has no department yet");
    let cat = |k: &str| r.by_category.iter().find(|x| x.key == k).map(|x| x.figures.on_time_rate());
    assert_eq!(cat("environment"), Some(Some(1.0)));
    assert_eq!(cat("hazard"), Some(Some(0.0)));
    assert_eq!(cat("dispute"), Some(None), "nothing due");
    let src: u32 = r.by_source.iter().map(|x| x.figures.reported).sum();
    assert_eq!(src, 3, "breakdowns add up to the total");
}

#[test]
fn mediation_outcome_rates_per_tier() {
    use app::flow::{Mediation, Outcome as O, Tier as T};
    let with_mediation = |id: &str, attempts: &[(T, O, i64)]| {
        let mut c = case(id, "11111", Some("司法局"), Category::Dispute, Source::Hotline12345, P + 9 * D, &[
            (Report, Reported, P - D),
            (Accept, Accepted, P - D + H),
            (Dispatch, Dispatched, P - D + 2 * H),
            (Start, Handling, P - D + 3 * H),
        ]);
        for (k, &(tier, outcome, at)) in attempts.iter().enumerate() {
            c.push(CaseEvent::mediation("t", id, 4 + k as u32, Mediation { tier, outcome }, at));
        }
        c
    };
    let events = [
        // M: village fails, town settles, the agreement is confirmed by a court.
        with_mediation("M", &[(T::Village, O::Failed, P + D), (T::Town, O::Settled, P + 2 * D), (T::Judicial, O::Settled, P + 3 * D)]),
        // N: reconciliation before the period (not counted), village fails, goes to court.
        with_mediation("N", &[(T::Reconciliation, O::Failed, P - D + 5 * H), (T::Village, O::Failed, P + D), (T::Litigation, O::Settled, P + 8 * D)]),
    ]
    .concat();
    let e = Engine::rebuild(tree(), events, P + 30 * D);
    let r = e.flow_report(0, Period::Dates { from: P, to: P + 7 * D });
    let rows: Vec<(T, u32, u32)> = r.mediation.iter().map(|m| (m.tier, m.attempts, m.settled)).collect();
    // Village 2 attempts, none settled; town 1 of 1; judicial 1 of 1. N's reconciliation was before the
    // period and its litigation after it.
    assert_eq!(rows, [(T::Village, 2, 0), (T::Town, 1, 1), (T::Judicial, 1, 1)]);
    assert!(r.links.is_empty(), "mediation does not change the status");
}
