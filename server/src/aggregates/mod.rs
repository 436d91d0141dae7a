//! Live aggregates that dashboards read: counts by region, category, status and day, open and overdue
//! cases, today's transitions. Kept incrementally as events arrive and rolled up the region tree (an
//! event touches its grid and each ancestor), so pages never recount with SQL. `rebuild` replays stored
//! events through the same code, which is also how a recount proves the live figures right.
mod snapshot;

use crate::case::CaseEvent;
use crate::city::RegionTree;
use app::model::{local_day, Category, Status, TickerItem};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// Days of per-day history kept: 30-day windows plus their previous period.
const KEEP_DAYS: i64 = 62;
const TICKER_LEN: usize = 200;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Day {
    pub reported: u32,
    pub closed: u32,
    /// Cases whose deadline passed on this day while still open.
    pub overdue: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub open: u32,
    pub overdue: u32,
    pub open_by_category: [u32; 5],
    pub days: BTreeMap<i64, Day>,
    /// (day, from, to) → transitions.
    pub flow: BTreeMap<(i64, Status, Status), u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct OpenCase {
    grid: usize,
    status: Status,
    category: Category,
    deadline: i64,
    overdue: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Tick {
    grid: usize,
    item: TickerItem,
}

type CaseKey = (String, String);

pub struct Aggregates {
    tree: Arc<RegionTree>,
    nodes: Vec<Node>,
    open: HashMap<CaseKey, OpenCase>,
    deadlines: BTreeSet<(i64, CaseKey)>,
    ticker: VecDeque<Tick>,
    /// Everything due up to here has been swept.
    swept_to: i64,
    /// Bumped on every change, so live streams know when to send.
    version: u64,
}

impl PartialEq for Aggregates {
    /// Same figures, whatever the order events were counted in.
    fn eq(&self, o: &Self) -> bool {
        self.nodes == o.nodes && self.open == o.open && self.deadlines == o.deadlines && self.ticker == o.ticker
    }
}

impl std::fmt::Debug for Aggregates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregates").field("open", &self.open.len()).field("version", &self.version).finish()
    }
}

impl Aggregates {
    pub fn new(tree: Arc<RegionTree>) -> Aggregates {
        let nodes = vec![Node::default(); tree.len()];
        Aggregates {
            tree,
            nodes,
            open: HashMap::new(),
            deadlines: BTreeSet::new(),
            ticker: VecDeque::new(),
            swept_to: i64::MIN,
            version: 0,
        }
    }

    /// Replays stored events (in time order) and sweeps deadlines up to `now`.
    pub fn rebuild(tree: Arc<RegionTree>, events: impl IntoIterator<Item = CaseEvent>, now: i64) -> Aggregates {
        let mut a = Aggregates::new(tree);
        for e in events {
            a.apply(&e);
        }
        a.sweep(now);
        a
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn node(&self, idx: usize) -> &Node {
        &self.nodes[idx]
    }

    pub fn tree(&self) -> &RegionTree {
        &self.tree
    }

    pub fn open_cases(&self) -> usize {
        self.open.len()
    }

    /// Counts one stored event. Returns whether anything changed; events for unknown grids, unknown
    /// cases or that would move a case backwards change nothing.
    pub fn apply(&mut self, e: &CaseEvent) -> bool {
        self.sweep(e.at);
        let key = (e.feed.clone(), e.case_id.clone());
        let day = local_day(e.at);
        let changed = if e.status == Status::Reported {
            let Some(f) = &e.facts else { return false };
            let Some(grid) = self.tree.find(&f.grid) else { return false };
            if self.open.contains_key(&key) {
                return false;
            }
            self.for_path(grid, |n| {
                n.open += 1;
                n.open_by_category[f.category.index()] += 1;
                n.days.entry(day).or_default().reported += 1;
            });
            self.deadlines.insert((f.deadline, key.clone()));
            self.open.insert(key, OpenCase { grid, status: Status::Reported, category: f.category, deadline: f.deadline, overdue: false });
            self.ticker.push_front(Tick {
                grid,
                item: TickerItem {
                    case_id: e.case_id.clone(),
                    category: f.category,
                    source: f.source,
                    place: self.tree.place(grid),
                    at: e.at,
                },
            });
            self.ticker.truncate(TICKER_LEN);
            true
        } else {
            let Some(c) = self.open.get_mut(&key) else { return false };
            if e.status <= c.status {
                return false;
            }
            let (from, to) = (c.status, e.status);
            c.status = to;
            let c = c.clone();
            self.for_path(c.grid, |n| *n.flow.entry((day, from, to)).or_default() += 1);
            if to == Status::Closed {
                self.open.remove(&key);
                self.deadlines.remove(&(c.deadline, key));
                self.for_path(c.grid, |n| {
                    n.open -= 1;
                    n.open_by_category[c.category.index()] -= 1;
                    n.overdue -= u32::from(c.overdue);
                    n.days.entry(day).or_default().closed += 1;
                });
            }
            true
        };
        if changed {
            self.version += 1;
        }
        changed
    }

    /// Marks open cases whose deadline has passed by `now` as overdue. Returns whether any did.
    pub fn sweep(&mut self, now: i64) -> bool {
        let mut any = false;
        while let Some((deadline, _)) = self.deadlines.first() {
            if *deadline > now {
                break;
            }
            let (deadline, key) = self.deadlines.pop_first().expect("checked non-empty");
            let Some(c) = self.open.get_mut(&key) else { continue };
            c.overdue = true;
            let grid = c.grid;
            let day = local_day(deadline);
            self.for_path(grid, |n| {
                n.overdue += 1;
                n.days.entry(day).or_default().overdue += 1;
            });
            any = true;
        }
        if local_day(now) > local_day(self.swept_to.max(i64::MIN / 2)) {
            let oldest = local_day(now) - KEEP_DAYS;
            for n in &mut self.nodes {
                n.days = n.days.split_off(&oldest);
                n.flow = n.flow.split_off(&(oldest, Status::Reported, Status::Reported));
            }
            any = true;
        }
        self.swept_to = self.swept_to.max(now);
        if any {
            self.version += 1;
        }
        any
    }

    fn for_path(&mut self, grid: usize, mut f: impl FnMut(&mut Node)) {
        let tree = Arc::clone(&self.tree);
        for a in tree.ancestors(grid) {
            f(&mut self.nodes[a]);
        }
    }

    /// Newest first, only cases inside `region`.
    pub fn ticker(&self, region: usize, n: usize) -> Vec<TickerItem> {
        self.ticker.iter().filter(|t| self.tree.is_within(t.grid, region)).take(n).map(|t| t.item.clone()).collect()
    }
}

#[cfg(test)]
mod tests;
