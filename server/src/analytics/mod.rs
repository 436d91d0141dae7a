//! Case-flow analytics for any scope and period: figures (on-time rate counting open overdue cases as
//! late), a Sankey of transitions with returns, stage durations (median, 90th percentile), backlog by
//! age, breakdowns by child region, department, category and source, and the comparison with the
//! period before (环比) and a year before (同比). Pure functions over case timelines, so every figure
//! can be checked by hand (see tests.rs). Dispute mediation is counted per tier with its settlement
//! rate. Every figure; the store selects the cases (`Store::histories`).
use crate::city::RegionTree;
use crate::store::StoredCase;
use app::flow::Action;
use app::flow::{Outcome, Tier};
use app::model::{FlowFigures, FlowLink, FlowReport, FlowRow, StageTime, Status, TierRow, BACKLOG_AGE_DAYS, DAY_MS};
use std::collections::BTreeMap;

/// The three windows a report compares, each `[from, to)`.
pub struct Windows {
    pub from: i64,
    pub to: i64,
}

impl Windows {
    pub fn previous(&self) -> (i64, i64) {
        (2 * self.from - self.to, self.from)
    }

    pub fn year_ago(&self) -> (i64, i64) {
        (self.from - 365 * DAY_MS, self.to - 365 * DAY_MS)
    }
}

/// When the case was closed, if it was before `to` (a report evaluated in the past ignores later closes).
fn closed_before(c: &StoredCase, to: i64) -> Option<i64> {
    c.timeline.iter().find(|e| e.action == Action::Close && e.at < to).map(|e| e.at)
}

/// Adds what one case did in `[from, to)`, as seen at `to`.
pub fn add(f: &mut FlowFigures, c: &StoredCase, from: i64, to: i64) {
    let inside = |t: i64| (from..to).contains(&t);
    let closed = closed_before(c, to);
    f.reported += u32::from(inside(c.facts.reported_at));
    f.closed += u32::from(closed.is_some_and(inside));
    if inside(c.facts.deadline) {
        f.due += 1;
        match closed {
            Some(t) if t <= c.facts.deadline => f.on_time += 1,
            Some(_) => f.late_closed += 1,
            None => f.late_open += 1,
        }
    }
    if c.facts.reported_at < to && closed.is_none() {
        f.open_end += 1;
        f.overdue_end += u32::from(c.facts.deadline <= to);
    }
    for e in c.timeline.iter().filter(|e| inside(e.at)) {
        match e.action {
            Action::Supervise => f.supervised += 1,
            Action::Escalate => f.escalated += 1,
            Action::Return => f.returned += 1,
            _ => {}
        }
    }
}

pub fn figures<'a>(cases: impl IntoIterator<Item = &'a StoredCase>, from: i64, to: i64) -> FlowFigures {
    let mut f = FlowFigures::default();
    for c in cases {
        add(&mut f, c, from, to);
    }
    f
}

/// Status changes of a case: (from, to, when it entered `from`, when it left). Oversight events do not
/// change the status and are skipped.
fn changes(c: &StoredCase) -> Vec<(Status, Status, i64, i64)> {
    let mut out = Vec::new();
    let mut it = c.timeline.iter().filter(|e| !e.action.is_oversight());
    let Some(first) = it.next() else { return out };
    let (mut status, mut since) = (first.status, first.at);
    for e in it {
        if e.status != status {
            out.push((status, e.status, since, e.at));
            (status, since) = (e.status, e.at);
        }
    }
    out
}

/// The value at rank `ceil(p·n)` of sorted values (nearest-rank percentile).
fn percentile(sorted: &[i64], p: f64) -> i64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Rows with something to show (a case outside the window leaves its group's figures empty).
fn rows(groups: BTreeMap<String, FlowFigures>) -> Vec<FlowRow> {
    groups.into_iter().filter(|(_, f)| *f != FlowFigures::default()).map(|(key, figures)| FlowRow { name: key.clone(), key, figures }).collect()
}

/// The report for the region `root` over `w`. `cases` must hold every case alive in `w`, `previous` and
/// `year_ago` those alive in the comparison windows (None: nothing stored that far back); one slice may
/// serve several windows, since a case counts only what falls inside each.
pub fn report(
    tree: &RegionTree,
    root: usize,
    w: &Windows,
    cases: &[StoredCase],
    previous: &[StoredCase],
    year_ago: Option<&[StoredCase]>,
    now: i64,
) -> FlowReport {
    let (from, to) = (w.from, w.to);
    let inside = |t: i64| (from..to).contains(&t);

    let mut links: BTreeMap<(Status, Status), u32> = BTreeMap::new();
    let mut stays: BTreeMap<Status, Vec<i64>> = BTreeMap::new();
    let mut backlog = vec![0u32; BACKLOG_AGE_DAYS.len() + 1];
    let mut tiers: BTreeMap<Tier, (u32, u32)> = BTreeMap::new();
    let (mut by_department, mut by_category, mut by_source) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    // Child regions in the tree's order, so rows come out as the map shows them.
    let children = &tree.get(root).children;
    let mut region_rows: Vec<FlowFigures> = vec![FlowFigures::default(); children.len()];

    for c in cases {
        for (a, b, entered, left) in changes(c) {
            if inside(left) {
                *links.entry((a, b)).or_default() += 1;
                stays.entry(a).or_default().push(left - entered);
            }
        }
        for m in c.timeline.iter().filter(|e| inside(e.at)).filter_map(|e| e.mediation) {
            let t = tiers.entry(m.tier).or_default();
            t.0 += 1;
            t.1 += u32::from(m.outcome == Outcome::Settled);
        }
        if c.facts.reported_at < to && closed_before(c, to).is_none() {
            let age = to - c.facts.reported_at;
            backlog[BACKLOG_AGE_DAYS.iter().take_while(|&&d| age >= d * DAY_MS).count()] += 1;
        }
        if let Some(slot) = tree.find(&c.facts.grid).and_then(|g| tree.ancestors(g).find_map(|a| children.iter().position(|&ch| ch == a))) {
            add(&mut region_rows[slot], c, from, to);
        }
        add(by_department.entry(c.facts.details.department.clone().unwrap_or_default()).or_default(), c, from, to);
        add(by_category.entry(c.facts.category.as_str().to_string()).or_default(), c, from, to);
        add(by_source.entry(c.facts.source.as_str().to_string()).or_default(), c, from, to);
    }
    let by_region: Vec<FlowRow> =
        children.iter().zip(region_rows).map(|(&ch, figures)| FlowRow { key: tree.get(ch).row.code.clone(), name: tree.get(ch).row.name.clone(), figures }).collect();

    let stages = stays
        .into_iter()
        .map(|(status, mut v)| {
            v.sort_unstable();
            StageTime { status, count: v.len() as u32, median_ms: percentile(&v, 0.5), p90_ms: percentile(&v, 0.9) }
        })
        .collect();
    let (pf, pt) = w.previous();
    let (yf, yt) = w.year_ago();
    FlowReport {
        region: tree.refer(root),
        from,
        to,
        figures: figures(cases, from, to),
        previous: figures(previous, pf, pt),
        year_ago: year_ago.map(|y| figures(y, yf, yt)),
        links: links.into_iter().map(|((from, to), count)| FlowLink { from, to, count }).collect(),
        stages,
        backlog,
        by_region,
        by_department: rows(by_department),
        by_category: rows(by_category),
        by_source: rows(by_source),
        mediation: tiers.into_iter().map(|(tier, (attempts, settled))| TierRow { tier, attempts, settled }).collect(),
        as_of: now,
    }
}

#[cfg(test)]
mod tests;
