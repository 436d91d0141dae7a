//! Live aggregates that dashboards read: counts by region, category, status and day, open and overdue
//! cases, today's transitions. Kept incrementally as events arrive and rolled up the region tree (an
//! event touches its grid and each ancestor), so pages never recount with SQL. `rebuild` replays stored
//! events through the same code, which is also how a recount proves the live figures right.
mod coverage;
mod diff;
pub use diff::day_name;
mod recount;
pub mod safety;
mod snapshot;

use crate::case::{CaseEvent, Origin};
use crate::city::RegionTree;
use app::flow::Action;
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
    /// Open, not overdue, with less than a fifth of their time left.
    pub due_soon: u32,
    /// Open cases supervised at least once, and escalated at least once.
    pub supervised: u32,
    pub escalated: u32,
    pub open_by_category: [u32; 5],
    pub days: BTreeMap<i64, Day>,
    /// (day, from, to) → transitions.
    pub flow: BTreeMap<(i64, Status, Status), u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct OpenCase {
    grid: usize,
    status: Status,
    /// The newest source-system event counted: an older one arriving late moves nothing.
    seq: u32,
    category: Category,
    source: app::model::Source,
    deadline: i64,
    warn_at: i64,
    due_soon: bool,
    overdue: bool,
    /// Times escalated (升级) and supervised (督办).
    escalations: u32,
    supervised: u32,
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
    warnings: BTreeSet<(i64, CaseKey)>,
    ticker: VecDeque<Tick>,
    /// The last patrol of each grid, by region index (None: never, or not a grid).
    last_patrol: Vec<Option<i64>>,
    /// Everything due up to here has been swept.
    swept_to: i64,
    /// Bumped on every change, so live streams know when to send.
    version: u64,
    pub safety: safety::Safety,
}

impl PartialEq for Aggregates {
    /// Same figures, whatever the order events were counted in.
    fn eq(&self, o: &Self) -> bool {
        self.difference(o).is_none()
    }
}

impl std::fmt::Debug for Aggregates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregates").field("open", &self.open.len()).field("version", &self.version).finish()
    }
}

impl Aggregates {
    pub fn new(tree: Arc<RegionTree>) -> Aggregates {
        let n_regions = tree.len();
        let nodes = vec![Node::default(); n_regions];
        Aggregates {
            tree,
            nodes,
            open: HashMap::new(),
            deadlines: BTreeSet::new(),
            warnings: BTreeSet::new(),
            ticker: VecDeque::new(),
            last_patrol: vec![None; n_regions],
            swept_to: i64::MIN,
            version: 0,
            safety: Default::default(),
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

    /// Open cases from one kind of source system in a region's subtree.
    pub fn open_of_source(&self, region: usize, source: app::model::Source) -> u32 {
        self.open.values().filter(|c| c.source == source && self.tree.is_within(c.grid, region)).count() as u32
    }

    /// Counts one stored observation of an indicator.
    pub fn observe(&mut self, feed: &str, id: &str, version: i64, o: &crate::feeds::record::Observation) {
        self.safety.observe(&self.tree, feed, id, version, o);
        self.version += 1;
    }

    /// Counts one stored event. Returns whether anything changed; events for unknown grids, unknown or
    /// closed cases, or older than what was counted (a late delivery) change nothing.
    pub fn apply(&mut self, e: &CaseEvent) -> bool {
        self.sweep(e.at);
        let key = (e.feed.clone(), e.case_id.clone());
        // A day before the window is no longer kept: an event that old still moves the case, but adds
        // to no day. (The window follows the sweep, so live and recount drop the same days.)
        let day = Some(local_day(e.at)).filter(|&d| d >= self.first_kept_day());
        let changed = if e.action == Action::Report {
            let Some(f) = &e.facts else { return false };
            let Some(grid) = self.tree.find(&f.grid) else { return false };
            if self.open.contains_key(&key) {
                return false;
            }
            self.for_path(grid, |n| {
                n.open += 1;
                n.open_by_category[f.category.index()] += 1;
                if let Some(day) = day {
                    n.days.entry(day).or_default().reported += 1;
                }
            });
            self.deadlines.insert((f.deadline, key.clone()));
            self.warnings.insert((f.warn_at, key.clone()));
            if f.source == app::model::Source::Petition {
                self.safety.petition(&self.tree, &e.feed, grid, f.reported_at);
            }
            let c = OpenCase {
                grid,
                status: Status::Reported,
                seq: 0,
                category: f.category,
                source: f.source,
                deadline: f.deadline,
                warn_at: f.warn_at,
                due_soon: false,
                overdue: false,
                escalations: 0,
                supervised: 0,
            };
            self.open.insert(key, c);
            self.tick(e, grid, f.category, f.source);
            true
        } else {
            let Some(c) = self.open.get_mut(&key) else { return false };
            if e.origin == Origin::Feed {
                if e.seq <= c.seq {
                    return false;
                }
                c.seq = e.seq;
            }
            // Oversight never moves the status, whatever the event says.
            let (from, to) = (c.status, if e.action.is_oversight() { c.status } else { e.status });
            c.status = to;
            let first_supervision = e.action == Action::Supervise && c.supervised == 0;
            let first_escalation = e.action == Action::Escalate && c.escalations == 0;
            c.supervised += u32::from(e.action == Action::Supervise);
            c.escalations += u32::from(e.action == Action::Escalate);
            let c = c.clone();
            self.for_path(c.grid, |n| {
                if let (Some(day), true) = (day, from != to) {
                    *n.flow.entry((day, from, to)).or_default() += 1;
                }
                n.supervised += u32::from(first_supervision);
                n.escalated += u32::from(first_escalation);
            });
            if matches!(e.action, Action::Return | Action::Supervise | Action::Escalate | Action::Acknowledge) {
                self.tick(e, c.grid, c.category, c.source);
            }
            if to == Status::Closed {
                self.open.remove(&key);
                self.deadlines.remove(&(c.deadline, key.clone()));
                self.warnings.remove(&(c.warn_at, key));
                // Closed by its deadline, it never was overdue, even if the close reached us after the
                // sweep had passed the deadline (feeds deliver late): the deadline day's count is taken
                // back, so the figures do not depend on when the close arrived.
                let on_time_after_all = (c.overdue && e.at <= c.deadline).then(|| local_day(c.deadline));
                self.for_path(c.grid, |n| {
                    n.open -= 1;
                    n.open_by_category[c.category.index()] -= 1;
                    n.overdue -= u32::from(c.overdue);
                    n.due_soon -= u32::from(c.due_soon);
                    n.supervised -= u32::from(c.supervised > 0);
                    n.escalated -= u32::from(c.escalations > 0);
                    if let Some(day) = day {
                        n.days.entry(day).or_default().closed += 1;
                    }
                    if let Some(d) = on_time_after_all {
                        if let Some(x) = n.days.get_mut(&d) {
                            x.overdue -= 1;
                            if *x == Day::default() {
                                n.days.remove(&d);
                            }
                        }
                    }
                });
            }
            true
        };
        if changed {
            self.version += 1;
        }
        changed
    }

    fn tick(&mut self, e: &CaseEvent, grid: usize, category: Category, source: app::model::Source) {
        self.ticker.push_front(Tick {
            grid,
            item: TickerItem { action: e.action, case_id: e.case_id.clone(), category, source, place: self.tree.place(grid), at: e.at },
        });
        self.ticker.truncate(TICKER_LEN);
    }

    /// Overdue open cases never escalated whose deadline `late_enough`: what the escalation rule raises
    /// one level. (feed, case id, status), in key order.
    pub fn due_for_escalation(&self, late_enough: impl Fn(i64) -> bool) -> Vec<(String, String, Status)> {
        let mut out: Vec<_> = self
            .open
            .iter()
            .filter(|(_, c)| c.overdue && c.escalations == 0 && late_enough(c.deadline))
            .map(|((feed, id), c)| (feed.clone(), id.clone(), c.status))
            .collect();
        out.sort();
        out
    }

    /// The oldest local day whose counts are kept, as of the latest sweep.
    fn first_kept_day(&self) -> i64 {
        local_day(self.swept_to.max(i64::MIN / 2)) - KEEP_DAYS
    }

    /// Marks open cases whose deadline has passed by `now` as overdue. Returns whether any did.
    pub fn sweep(&mut self, now: i64) -> bool {
        let mut any = false;
        let oldest = local_day(now.max(self.swept_to).max(i64::MIN / 2)) - KEEP_DAYS;
        while let Some((warn_at, _)) = self.warnings.first() {
            if *warn_at > now {
                break;
            }
            let (_, key) = self.warnings.pop_first().expect("checked non-empty");
            let Some(c) = self.open.get_mut(&key) else { continue };
            if c.overdue {
                continue;
            }
            c.due_soon = true;
            let grid = c.grid;
            self.for_path(grid, |n| n.due_soon += 1);
            any = true;
        }
        while let Some((deadline, _)) = self.deadlines.first() {
            if *deadline > now {
                break;
            }
            let (deadline, key) = self.deadlines.pop_first().expect("checked non-empty");
            let Some(c) = self.open.get_mut(&key) else { continue };
            c.overdue = true;
            let was_due_soon = std::mem::replace(&mut c.due_soon, false);
            let grid = c.grid;
            let day = local_day(deadline);
            self.for_path(grid, |n| {
                n.overdue += 1;
                n.due_soon -= u32::from(was_due_soon);
                if day >= oldest {
                    n.days.entry(day).or_default().overdue += 1;
                }
            });
            any = true;
        }
        if local_day(now) > local_day(self.swept_to.max(i64::MIN / 2)) {
            for n in &mut self.nodes {
                n.days = n.days.split_off(&oldest);
                n.flow = n.flow.split_off(&(oldest, Status::Reported, Status::Reported));
            }
            self.safety.trim(local_day(now));
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
