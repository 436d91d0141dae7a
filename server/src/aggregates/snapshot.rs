//! Reading the aggregates: what one region's wall shows, and the public district table.
use super::{Aggregates, Day};
use app::model::{local_day, AreaValue, Category, FlowLink, Kpi, KpiKey, PublicRow, WallSnapshot};

/// Days in each KPI sparkline.
const SERIES_DAYS: i64 = 14;
const TICKER_ITEMS: usize = 30;

impl Aggregates {
    fn day(&self, idx: usize, day: i64) -> Day {
        self.nodes[idx].days.get(&day).copied().unwrap_or_default()
    }

    fn sum(&self, idx: usize, days: std::ops::RangeInclusive<i64>, f: impl Fn(Day) -> u32) -> u32 {
        days.map(|d| f(self.day(idx, d))).sum()
    }

    pub fn snapshot(&self, idx: usize, now: i64) -> WallSnapshot {
        let tree = &*self.tree;
        let n = &self.nodes[idx];
        let today = local_day(now);
        let first = today - SERIES_DAYS + 1;

        let reported: Vec<f64> = (first..=today).map(|d| f64::from(self.day(idx, d).reported)).collect();
        // Open at the end of each day, walked back from now: open(d-1) = open(d) - reported(d) + closed(d).
        let mut open_series = vec![0.0; SERIES_DAYS as usize];
        let mut open_end = f64::from(n.open);
        for i in (0..SERIES_DAYS as usize).rev() {
            let d = first + i as i64;
            open_series[i] = open_end;
            let day = self.day(idx, d);
            open_end = open_end - f64::from(day.reported) + f64::from(day.closed);
        }
        let overdue_series: Vec<f64> = (first..=today).map(|d| f64::from(self.day(idx, d).overdue)).collect();
        let rate = |from: i64, to: i64| {
            let r = self.sum(idx, from..=to, |d| d.reported);
            (r > 0).then(|| f64::from(self.sum(idx, from..=to, |d| d.closed)) / f64::from(r))
        };
        let closure_series: Vec<f64> = (first..=today).map(|d| rate(d, d).unwrap_or(0.0)).collect();
        let region = tree.get(idx);

        let kpis = vec![
            Kpi {
                key: KpiKey::NewToday,
                value: f64::from(self.day(idx, today).reported),
                previous: Some(f64::from(self.day(idx, today - 1).reported)),
                series: reported,
            },
            Kpi { key: KpiKey::Open, value: f64::from(n.open), previous: Some(open_series[SERIES_DAYS as usize - 2]), series: open_series },
            Kpi {
                key: KpiKey::Overdue,
                value: f64::from(n.overdue),
                // For overdue, "previous" carries the share of open cases that are overdue.
                previous: Some(if n.open > 0 { f64::from(n.overdue) / f64::from(n.open) } else { 0.0 }),
                series: overdue_series,
            },
            Kpi {
                key: KpiKey::ClosureRate,
                value: rate(today - 6, today).unwrap_or(0.0),
                previous: rate(today - 13, today - 7),
                series: closure_series,
            },
            Kpi {
                key: KpiKey::GridCoverage,
                value: if region.grids > 0 { f64::from(region.staffed) / f64::from(region.grids) } else { 0.0 },
                // For coverage, "previous" carries the number of vacant grids.
                previous: Some(f64::from(region.grids - region.staffed)),
                series: Vec::new(),
            },
        ];

        let flow = n
            .flow
            .range((today, app::model::Status::Reported, app::model::Status::Reported)..)
            .filter(|((d, _, _), _)| *d == today)
            .map(|((_, from, to), count)| FlowLink { from: *from, to: *to, count: *count })
            .collect();

        let areas = region
            .children
            .iter()
            .map(|&c| {
                let cn = &self.nodes[c];
                AreaValue {
                    code: tree.get(c).row.code.clone(),
                    name: tree.get(c).row.name.clone(),
                    open: cn.open,
                    overdue: cn.overdue,
                    new_today: self.day(c, today).reported,
                }
            })
            .collect();

        WallSnapshot {
            region: tree.refer(idx),
            kpis,
            flow,
            ticker: self.ticker(idx, TICKER_ITEMS),
            areas,
            categories: Category::ALL.iter().map(|&c| (c, n.open_by_category[c.index()])).collect(),
            alerts: app::model::Alerts { due_soon: n.due_soon, supervised: n.supervised, escalated: n.escalated },
            stale: Vec::new(),
            as_of: now,
        }
    }

    /// The public table: the city, then each district followed by its towns. Counts only, never a case
    /// or a person; small counts and their complements withheld (see `disclosure`).
    pub fn public_rows(&self, now: i64) -> Vec<PublicRow> {
        let today = local_day(now);
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
        let reported = column(&|i| self.sum(i, today - 29..=today, |x| x.reported));
        let closed = column(&|i| self.sum(i, today - 29..=today, |x| x.closed));
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
