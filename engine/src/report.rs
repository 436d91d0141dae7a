//! A flow report for any region and period, as the engine stands. A period starts at a local midnight
//! and ends at one, or at the engine's horizon when it runs into today; the period before (环比) has
//! as many days and ends at the same time of day, the year-ago one (同比) is 365 days earlier.
//!
//! Rollup regions (city, districts, towns) sum their cells over whole days; a comparison period that
//! ends inside a day adds that day's part by scanning the cases active on it. A village's totals (a
//! town's breakdown) come from its slim cells the same way; a village's full report and every grid are
//! scanned whole (they hold few cases), exactly.
use crate::cells::{self, local_hour, NodeCells, HOUR_MS, COUNTERS, FIXED_SLOTS, LINKS, MEDIATION, STATUSES};
use crate::engine::Engine;
use crate::instant::{age_bucket, Instant};
use crate::scan::{Acc, Fig, Window};
use crate::sketch::{self, Merged};
use app::flow::Tier;
use app::model::{day_start, local_day, Category, FlowLink, FlowReport, FlowRow, Period, Source, StageTime, Status, TierRow, CST_OFFSET_MS, DAY_MS};

fn is_midnight(t: i64) -> bool {
    (t + CST_OFFSET_MS).rem_euclid(DAY_MS) == 0
}

/// Stage durations: exact values, or merged sketches.
enum Stays {
    Exact(Vec<Vec<i64>>),
    Sketched(Vec<Merged>),
}

/// Everything a period sums to for one region.
struct Sums {
    slots: Vec<Fig>,
    links: [i64; LINKS],
    mediation: [i64; MEDIATION],
    stays: Stays,
    backlog: [i64; 5],
}

/// How much of a report to compute.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// The total only.
    Total,
    /// Every slot, transitions, durations, mediation and the backlog.
    Full,
}

/// Time per stage left, and (from the slot of Closed, which nothing leaves) the time from report to
/// close; with the quantiles' error bound (0 when exact).
fn stage_times(stays: Stays) -> (Vec<StageTime>, Option<StageTime>, f64) {
    let (mut stages, error): (Vec<StageTime>, f64) = match stays {
        Stays::Exact(mut v) => {
            let s = v
                .iter_mut()
                .enumerate()
                .filter(|(_, x)| !x.is_empty())
                .map(|(i, x)| StageTime { status: Status::ALL[i], count: x.len() as u32, median_ms: sketch::exact(x, 0.5), p90_ms: sketch::exact(x, 0.9) })
                .collect();
            (s, 0.0)
        }
        Stays::Sketched(m) => {
            let s = (0..STATUSES)
                .filter(|&i| m[i].count() > 0)
                .map(|i| StageTime { status: Status::ALL[i], count: m[i].count() as u32, median_ms: m[i].quantile(0.5), p90_ms: m[i].quantile(0.9) })
                .collect();
            (s, sketch::RELATIVE_ERROR)
        }
    };
    let close = stages.iter().position(|s| s.status == Status::Closed).map(|k| stages.remove(k));
    (stages, close, error)
}

impl Engine {
    /// The flow report of `region` over `period`, as of the engine's horizon.
    pub fn flow_report(&self, region: usize, period: Period) -> FlowReport {
        self.report_with(region, period, false)
    }

    /// The same report with every figure scanned from the cases, never read from cells: the exact
    /// reference the cells are held to (tests, benchmarks).
    pub fn flow_report_by_scan(&self, region: usize, period: Period) -> FlowReport {
        self.report_with(region, period, true)
    }

    fn report_with(&self, region: usize, period: Period, scan_only: bool) -> FlowReport {
        let sums = |r: usize, f: i64, t: i64, d: Depth| if scan_only { self.scan_sums(r, f, t) } else { self.sums(r, f, t, d) };
        let now = self.now();
        let (f, t) = period.window(now);
        let t = t.max(f);
        // A region without full cells is scanned, and its children's totals come out of the same scan.
        let (main, child_totals) = match self.cells.total(region) {
            Some(c) if c.full && !scan_only => (self.sums(region, f, t, Depth::Full), None),
            _ => {
                let (s, c) = self.scan_by_child(region, f, t);
                (s, Some(c))
            }
        };
        let span = if t > f { local_day(t - 1) - local_day(f) + 1 } else { 0 };
        let (pf, pt) = (f - span * DAY_MS, t - span * DAY_MS);
        // A comparison is made only with a period the stored history covers from its first day: a period
        // before anything was stored would read as a rise from zero.
        let covered = |from: i64| self.first_report.is_some_and(|r| local_day(r) <= local_day(from));
        let previous = covered(pf).then(|| sums(region, pf, pt, Depth::Total).slots[0].to_figures());
        let (yf, yt) = (f - 365 * DAY_MS, t - 365 * DAY_MS);
        let year_ago = covered(yf).then(|| sums(region, yf, yt, Depth::Total).slots[0].to_figures());
        let tree = &*self.tree;
        let by_region = tree
            .get(region)
            .children
            .iter()
            .enumerate()
            .map(|(i, &ch)| {
                let figures = match &child_totals {
                    Some(c) => c[i].to_figures(),
                    None => sums(ch, f, t, Depth::Total).slots[0].to_figures(),
                };
                FlowRow { key: tree.get(ch).row.code.clone(), name: tree.get(ch).row.name.clone(), figures }
            })
            .collect();
        let row = |key: String, name: String, fig: &Fig| FlowRow { key, name, figures: fig.to_figures() };
        let nonempty = |fig: &&Fig| fig.to_figures() != app::model::FlowFigures::default();
        let slot = |i: usize| main.slots.get(i).copied().unwrap_or_default();
        let by_category = Category::ALL.iter().map(|c| (c.as_str(), slot(1 + c.index()))).filter(|(_, f)| nonempty(&f)).map(|(k, f)| row(k.into(), k.into(), &f)).collect();
        let by_source = Source::ALL.iter().map(|s| (s.as_str(), slot(6 + cells::source_index(*s)))).filter(|(_, f)| nonempty(&f)).map(|(k, f)| row(k.into(), k.into(), &f)).collect();
        let mut by_department: Vec<FlowRow> = (0..self.cases.departments.len())
            .map(|d| (self.cases.departments.name(d as u16), slot(FIXED_SLOTS + d)))
            .filter(|(_, f)| nonempty(&f))
            .map(|(k, f)| row(k.into(), k.into(), &f))
            .collect();
        by_department.sort_by(|a, b| a.key.cmp(&b.key));
        let links = (0..LINKS)
            .filter(|&i| main.links[i] > 0)
            .map(|i| FlowLink { from: Status::ALL[i / 7], to: Status::ALL[i % 7], count: main.links[i] as u32 })
            .collect();
        let (stages, time_to_close, quantile_error) = stage_times(main.stays);
        let mediation = Tier::ALL
            .iter()
            .map(|&tier| TierRow { tier, attempts: main.mediation[tier as usize * 2] as u32, settled: main.mediation[tier as usize * 2 + 1] as u32 })
            .filter(|r| r.attempts > 0)
            .collect();
        FlowReport {
            region: tree.refer(region),
            from: f,
            to: t,
            figures: main.slots[0].to_figures(),
            previous,
            year_ago,
            links,
            stages,
            time_to_close,
            backlog: main.backlog.iter().map(|&b| b.max(0) as u32).collect(),
            by_region,
            by_department,
            by_category,
            by_source,
            mediation,
            court: self.court_report(region, (f, t), (pf, pt), (yf, yt), &covered),
            quantile_error,
            as_of: now,
        }
    }

    /// How long the cases closed under `region` in `period` took from report to close (the flow
    /// report's `time_to_close` without the rest of the report), and the quantiles' error bound.
    pub fn time_to_close(&self, region: usize, period: Period) -> (Option<StageTime>, f64) {
        let (f, t) = period.window(self.now());
        let t = t.max(f);
        let main = match self.cells.total(region) {
            Some(c) if c.full => self.sums(region, f, t, Depth::Full),
            _ => self.scan_by_child(region, f, t).0,
        };
        let (_, close, error) = stage_times(main.stays);
        (close, error)
    }

    /// The total figures of `region` over `[f, t)` (`f` a local midnight, `t` at most the horizon).
    pub fn total_between(&self, region: usize, f: i64, t: i64) -> app::model::FlowFigures {
        self.sums(region, f, t.max(f), Depth::Total).slots[0].to_figures()
    }

    fn sums(&self, region: usize, f: i64, t: i64, depth: Depth) -> Sums {
        match self.cells.total(region) {
            Some(cells) if cells.full || depth == Depth::Total => self.rollup_sums(cells, region, f, t, depth),
            _ => self.scan_sums(region, f, t),
        }
    }

    /// Scans every case of a small region.
    fn scan_sums(&self, region: usize, f: i64, t: i64) -> Sums {
        let mut acc = Acc::new(self.cells.slots());
        let w = Window { f, a: f, t, since: None };
        let mut buf: Vec<Instant> = Vec::new();
        for c in self.cases_meeting(region, f, t) {
            acc.add(c, &w, &mut buf);
        }
        Sums { slots: acc.slots, links: acc.links, mediation: acc.mediation, stays: Stays::Exact(acc.stays), backlog: acc.backlog }
    }

    /// `scan_sums`, and the total figures of each child of `region` from the same pass (every case is
    /// in a grid, so the children's grids are the region's).
    fn scan_by_child(&self, region: usize, f: i64, t: i64) -> (Sums, Vec<Fig>) {
        let children = &self.tree.get(region).children;
        if children.is_empty() {
            return (self.scan_sums(region, f, t), Vec::new());
        }
        let mut acc = Acc::new(self.cells.slots());
        let w = Window { f, a: f, t, since: None };
        let mut buf: Vec<Instant> = Vec::new();
        let totals = children
            .iter()
            .map(|&ch| {
                let mut total = Fig::default();
                for c in self.cases_meeting(ch, f, t) {
                    total.add(&acc.add(c, &w, &mut buf));
                }
                total
            })
            .collect();
        (Sums { slots: acc.slots, links: acc.links, mediation: acc.mediation, stays: Stays::Exact(acc.stays), backlog: acc.backlog }, totals)
    }

    /// Sums the cells of whole days, and scans the cases of the part of a day a period ends in.
    fn rollup_sums(&self, cells: &NodeCells, region: usize, f: i64, t: i64, depth: Depth) -> Sums {
        let first = local_day(f);
        // The whole days: up to `t`'s day, or through it when `t` is the horizon (its cells hold
        // exactly what happened before the horizon).
        let (end, partial) = if is_midnight(t) {
            (local_day(t), None)
        } else if t >= self.swept_to {
            (local_day(t) + 1, None)
        } else {
            (local_day(t), Some(day_start(local_day(t))))
        };
        let nslots = if depth == Depth::Full { self.cells.slots() } else { 1 };
        let mut slots = Vec::with_capacity(nslots);
        for s in 0..nslots {
            let a = cells.sums(s, first, end);
            let p = cells.before(s, end);
            let i = |x: u64| x as i64;
            slots.push(Fig {
                reported: i(a[cells::REPORTED]),
                closed: i(a[cells::CLOSED]),
                due: i(a[cells::DUE]),
                on_time: i(a[cells::ON_TIME]),
                late_closed: i(cells.late_within(s, first, end)),
                open_end: i(p[cells::REPORTED]) - i(p[cells::CLOSED]),
                overdue_end: i(p[cells::DUE]) - i(p[cells::ON_TIME]) - i(p[cells::LATE_CLOSED]),
                supervised: i(a[cells::SUPERVISED]),
                escalated: i(a[cells::ESCALATED]),
                returned: i(a[cells::RETURNED]),
            });
        }
        debug_assert_eq!(COUNTERS, 8);
        let mut links = [0i64; LINKS];
        let mut mediation = [0i64; MEDIATION];
        let mut merged = vec![Merged::default(); STATUSES];
        if depth == Depth::Full {
            for (o, x) in links.iter_mut().zip(cells.links(first, end)) {
                *o = x as i64;
            }
            for (o, x) in mediation.iter_mut().zip(cells.mediation(first, end)) {
                *o = x as i64;
            }
            cells.stays(first, end, &mut merged);
        }
        if let (Some(m), Depth::Total, true) = (partial, depth, cells.full) {
            // The day's whole hours from the hourly counters, the rest of the hour from its cases.
            let h = day_start(local_day(t)) + (t - m) / HOUR_MS * HOUR_MS;
            let (hm, hh) = (local_hour(m), local_hour(h));
            let a = cells.hour_sums(hm, hh);
            let i = |x: u64| x as i64;
            let fig = &mut slots[0];
            fig.reported += i(a[cells::REPORTED]);
            fig.closed += i(a[cells::CLOSED]);
            fig.due += i(a[cells::DUE]);
            fig.on_time += i(a[cells::ON_TIME]);
            fig.late_closed += i(cells.late_in_hours(first, hm, hh));
            fig.open_end += i(a[cells::REPORTED]) - i(a[cells::CLOSED]);
            fig.overdue_end += i(a[cells::DUE]) - i(a[cells::ON_TIME]) - i(a[cells::LATE_CLOSED]);
            fig.supervised += i(a[cells::SUPERVISED]);
            fig.escalated += i(a[cells::ESCALATED]);
            fig.returned += i(a[cells::RETURNED]);
            if t > h {
                let mut acc = Acc::new(1);
                let w = Window { f, a: h, t, since: Some(h) };
                let mut buf = Vec::new();
                for n in self.active_in_hours(hh, hh + 1, region) {
                    acc.add(self.cases.get(n), &w, &mut buf);
                }
                slots[0].add(&acc.slots[0]);
            }
        } else if let Some(m) = partial {
            let mut acc = Acc::new(self.cells.slots());
            let w = Window { f, a: m, t, since: Some(m) };
            let mut buf = Vec::new();
            for n in self.active_under(local_day(t), region) {
                acc.add(self.cases.get(n), &w, &mut buf);
            }
            for (s, fig) in slots.iter_mut().enumerate() {
                fig.add(&acc.slots[s]);
            }
            for (o, x) in links.iter_mut().zip(acc.links) {
                *o += x;
            }
            for (o, x) in mediation.iter_mut().zip(acc.mediation) {
                *o += x;
            }
            for (m, v) in merged.iter_mut().zip(&acc.stays) {
                for &x in v {
                    m.add_bucket(sketch::bucket(x), 1);
                }
            }
        }
        let backlog = if depth == Depth::Full { self.rollup_backlog(cells, region, t, &slots[0]) } else { [0; 5] };
        Sums { slots, links, mediation, stays: Stays::Sketched(merged), backlog }
    }

    /// Open cases at `t` by how long ago they were reported: from the open set at the horizon, from
    /// the cells at a past midnight.
    fn rollup_backlog(&self, cells: &NodeCells, region: usize, t: i64, total: &Fig) -> [i64; 5] {
        let mut b = [0i64; 5];
        if t >= self.swept_to {
            for &n in &self.open {
                let c = self.cases.get(n);
                if self.tree.is_within(c.grid as usize, region) {
                    b[age_bucket(c.reported_at, t)] += 1;
                }
            }
        } else if is_midnight(t) {
            let day = local_day(t);
            let bounds = [0, 1, 3, 7, 14];
            for k in 0..4 {
                let (lo, hi) = (day - bounds[k + 1], day - bounds[k]);
                b[k] = cells.sums(0, lo, hi)[cells::REPORTED] as i64 - cells.young_closed(lo, hi, day) as i64;
            }
            b[4] = total.open_end - b[..4].iter().sum::<i64>();
        }
        b
    }
}
