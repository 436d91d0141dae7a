//! Reading the engine for the wall and the public: one region's wall snapshot, and the public table.
use crate::cells;
use crate::engine::Engine;
use crate::instant::{instants, Kind};
use app::model::{day_start, local_day, AreaValue, Category, FlowLink, Kpi, KpiKey, PublicRow, Status, TickerItem, WallSnapshot, DAY_MS};

/// Days in each KPI sparkline.
const SERIES_DAYS: i64 = 14;
const TICKER_ITEMS: usize = 30;

/// One day's counts of a region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub reported: u32,
    pub closed: u32,
    /// Cases whose deadline passed that day while they were open.
    pub overdue: u32,
}

impl Engine {
    /// The counts of `region` for each day `first..=last` (today: so far).
    pub fn days(&self, region: usize, first: i64, last: i64) -> Vec<DayCounts> {
        let n = (last - first + 1).max(0) as usize;
        match self.cells.total(region) {
            Some(c) => (first..=last)
                .map(|d| {
                    let s = c.sums(0, d, d + 1);
                    DayCounts { reported: s[cells::REPORTED] as u32, closed: s[cells::CLOSED] as u32, overdue: (s[cells::DUE] - s[cells::ON_TIME]) as u32 }
                })
                .collect(),
            None => {
                let mut out = vec![DayCounts::default(); n];
                let mut buf = Vec::new();
                let (from, to) = (day_start(first), day_start(last + 1));
                for c in self.cases_meeting(region, from, to) {
                    buf.clear();
                    instants(c, self.swept_to, &mut buf);
                    for i in &buf {
                        let d = local_day(i.at);
                        if d < first || d > last {
                            continue;
                        }
                        let x = &mut out[(d - first) as usize];
                        match i.kind {
                            Kind::Reported => x.reported += 1,
                            Kind::Closed => x.closed += 1,
                            Kind::Due { on_time: false } => x.overdue += 1,
                            _ => {}
                        }
                    }
                }
                out
            }
        }
    }

    /// Today's transitions in `region`.
    fn links_today(&self, region: usize, today: i64) -> Vec<FlowLink> {
        let mut counts = [0u64; cells::LINKS];
        match self.cells.node(region) {
            Some(c) => counts = c.links(today, today + 1),
            None => {
                let mut buf = Vec::new();
                for k in self.active_under(today, region) {
                    buf.clear();
                    instants(self.cases.get(k), self.swept_to, &mut buf);
                    for i in buf.iter().filter(|i| local_day(i.at) == today) {
                        if let Kind::Link { from, to, .. } = i.kind {
                            counts[crate::instant::link_index(from, to)] += 1;
                        }
                    }
                }
            }
        }
        (0..cells::LINKS).filter(|&i| counts[i] > 0).map(|i| FlowLink { from: Status::ALL[i / 7], to: Status::ALL[i % 7], count: counts[i] as u32 }).collect()
    }

    /// Newest first, only cases inside `region`.
    pub fn ticker(&self, region: usize, n: usize) -> Vec<TickerItem> {
        self.ticker
            .iter()
            .filter(|t| self.tree.is_within(self.cases.get(t.case).grid as usize, region))
            .take(n)
            .map(|t| {
                let c = self.cases.get(t.case);
                TickerItem { action: t.action, case_id: c.id.to_string(), category: c.category, source: c.source, place: self.tree.place(c.grid as usize), at: t.at }
            })
            .collect()
    }

    pub fn snapshot(&self, idx: usize) -> WallSnapshot {
        let tree = &*self.tree;
        let now = self.now();
        let n = &self.nodes[idx];
        let today = local_day(now);
        let first = today - SERIES_DAYS + 1;
        let days = self.days(idx, first, today);

        let reported: Vec<f64> = days.iter().map(|d| f64::from(d.reported)).collect();
        // Open at the end of each day, walked back from now: open(d-1) = open(d) - reported(d) + closed(d).
        let mut open_series = vec![0.0; SERIES_DAYS as usize];
        let mut open_end = f64::from(n.open);
        for i in (0..SERIES_DAYS as usize).rev() {
            open_series[i] = open_end;
            open_end = open_end - f64::from(days[i].reported) + f64::from(days[i].closed);
        }
        let overdue_series: Vec<f64> = days.iter().map(|d| f64::from(d.overdue)).collect();
        let rate = |from: usize, to: usize| {
            let r: u32 = days[from..=to].iter().map(|d| d.reported).sum();
            (r > 0).then(|| f64::from(days[from..=to].iter().map(|d| d.closed).sum::<u32>()) / f64::from(r))
        };
        let closure_series: Vec<f64> = (0..SERIES_DAYS as usize).map(|i| rate(i, i).unwrap_or(0.0)).collect();
        let region = tree.get(idx);
        let last = SERIES_DAYS as usize - 1;
        // Today so far against yesterday up to the same time of day.
        let midnight = day_start(today);
        let yesterday_so_far = self.total_between(idx, midnight - DAY_MS, self.swept_to - DAY_MS).reported;

        let kpis = vec![
            Kpi { key: KpiKey::NewToday, value: f64::from(days[last].reported), previous: Some(f64::from(yesterday_so_far)), series: reported, also: None },
            Kpi { key: KpiKey::Open, value: f64::from(n.open), previous: Some(open_series[last - 1]), series: open_series, also: None },
            Kpi {
                key: KpiKey::Overdue,
                value: f64::from(n.overdue),
                // For overdue, "previous" carries the share of open cases that are overdue.
                previous: Some(if n.open > 0 { f64::from(n.overdue) / f64::from(n.open) } else { 0.0 }),
                series: overdue_series,
                also: None,
            },
            Kpi { key: KpiKey::ClosureRate, value: rate(last - 6, last).unwrap_or(0.0), previous: rate(0, last - 7), series: closure_series, also: None },
            Kpi {
                key: KpiKey::GridCoverage,
                value: if region.grids > 0 { f64::from(region.staffed) / f64::from(region.grids) } else { 0.0 },
                // For coverage, "previous" carries the number of vacant grids.
                previous: Some(f64::from(region.grids - region.staffed)),
                series: Vec::new(),
                also: self.fitness_count(idx, now, app::model::PATROL_DAYS).rate(),
            },
        ];

        // New cases today per child, from today's active cases.
        let children = &region.children;
        let mut new_today = vec![0u32; children.len()];
        for k in self.active_under(today, idx) {
            let c = self.cases.get(k);
            if local_day(c.reported_at) == today && c.reported_at < self.swept_to {
                if let Some(slot) = tree.ancestors(c.grid as usize).find_map(|a| children.iter().position(|&ch| ch == a)) {
                    new_today[slot] += 1;
                }
            }
        }
        let areas = children
            .iter()
            .zip(new_today)
            .map(|(&c, new_today)| {
                let cn = &self.nodes[c];
                AreaValue { code: tree.get(c).row.code.clone(), name: tree.get(c).row.name.clone(), open: cn.open, overdue: cn.overdue, new_today }
            })
            .collect();

        WallSnapshot {
            region: tree.refer(idx),
            kpis,
            flow: self.links_today(idx, today),
            ticker: self.ticker(idx, TICKER_ITEMS),
            areas,
            categories: Category::ALL.iter().map(|&c| (c, n.open_by_category[c.index()])).collect(),
            alerts: app::model::Alerts { due_soon: n.due_soon, supervised: n.supervised, escalated: n.escalated },
            stale: Vec::new(),
            warnings: Vec::new(),
            warning_count: 0,
            duty: self.duty_count(idx, now),
            as_of: now,
        }
    }

    /// The public table: the city, then each district followed by its towns. Counts only, never a case
    /// or a person; small counts and their complements withheld (see `disclosure`).
    pub fn public_rows(&self) -> Vec<PublicRow> {
        let today = local_day(self.now());
        let tree = &*self.tree;
        let root = tree.root();
        let mut order = vec![root];
        for &d in &tree.get(root).children {
            order.push(d);
            order.extend(tree.get(d).children.iter().copied());
        }
        let pos = |idx: usize| order.iter().position(|&o| o == idx);
        let parent: Vec<Option<usize>> = order.iter().map(|&i| tree.get(i).parent.and_then(pos)).collect();
        let column = |f: &dyn Fn(usize) -> u32| {
            let values: Vec<u32> = order.iter().map(|&i| f(i)).collect();
            let hidden = crate::disclosure::suppress(&parent, &values);
            crate::disclosure::cells(&values, &hidden)
        };
        let last30 = |i: usize, k: usize| self.days(i, today - 29, today).iter().map(|d| if k == 0 { d.reported } else { d.closed }).sum::<u32>();
        let reported = column(&|i| last30(i, 0));
        let closed = column(&|i| last30(i, 1));
        let open = column(&|i| self.nodes[i].open);
        order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let r = tree.get(i);
                PublicRow {
                    code: r.row.code.clone(),
                    name: r.row.name.clone(),
                    level: r.row.level,
                    parent: r.parent.map(|p| tree.get(p).row.code.clone()),
                    reported_30d: reported[k],
                    closed_30d: closed[k],
                    open: open[k],
                    grids: r.grids,
                }
            })
            .collect()
    }
}
