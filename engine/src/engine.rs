//! The engine: takes stored events (in the order the store took them), keeps the compact case table,
//! the rollup cells and the live counters, and moves its clock forward with `sweep`.
//!
//! What a case contributes is a function of its events and of the engine's horizon (`swept_to`: every
//! instant before it has happened). When a case gets an event, or the horizon passes one of its
//! instants (a deadline, a due-soon time, an event dated ahead), its contribution is taken back and
//! counted again. So the figures depend only on the events held and the horizon, never on the order
//! events arrived in or when sweeps ran: live counting and any recount agree by construction.
use crate::case::{CaseEvent, Origin};
use crate::cases::{Case, Cases, Ev};
use crate::cells::{local_hour, Cells};
use crate::instant::{instants, open_at, Instant};
use crate::tree::RegionTree;
use app::flow::Action;
use app::model::{day_start, local_day, Category, Level};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// Items kept for the ticker.
pub const TICKER_LEN: usize = 200;

/// Current counters of one region (its whole subtree).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub open: u32,
    pub overdue: u32,
    /// Open, not overdue, past its due-soon time.
    pub due_soon: u32,
    /// Open cases supervised at least once, and escalated at least once.
    pub supervised: u32,
    pub escalated: u32,
    pub open_by_category: [u32; 5],
}

/// A case's part in the current counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LiveState {
    pub open: bool,
    pub overdue: bool,
    pub due_soon: bool,
    pub supervised: bool,
    pub escalated: bool,
}

pub(crate) fn live_state(c: &Case, h: i64) -> LiveState {
    let open = open_at(c, h);
    let overdue = open && c.deadline < h;
    let desk = |a: Action| open && c.desk_events().any(|e| e.action() == a && e.at < h);
    LiveState { open, overdue, due_soon: open && !overdue && c.warn_at < h, supervised: desk(Action::Supervise), escalated: desk(Action::Escalate) }
}

/// One ticker line: which case, what happened, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    pub case: u32,
    pub action: Action,
    pub at: i64,
}

/// A case in its grid's list: its number, and from when to when it can count (`Case::span`) in whole
/// seconds, widened outwards (12 bytes a case, a city-year's million cases in 12 MB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GridCase {
    pub n: u32,
    first: u32,
    last: u32,
}

impl GridCase {
    pub(crate) fn of(n: u32, c: &Case) -> GridCase {
        let (first, last) = c.span();
        let (down, up) = (first.max(0) / 1000, last.max(0).saturating_add(999) / 1000);
        let secs = |s: i64| s.min(i64::from(u32::MAX)) as u32;
        GridCase { n, first: secs(down), last: secs(up) }
    }

    /// Whether a scan of `[f, t)` can count the case: an instant in it, or open at `t`. Never false
    /// for a case that counts; rarely true for one that does not (the span's seconds are widened).
    pub fn meets(&self, f: i64, t: i64) -> bool {
        i64::from(self.first) * 1000 < t && (self.last == u32::MAX || i64::from(self.last) * 1000 >= f)
    }
}

/// How many cases ahead a scan asks for the case's row.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU for the memory at `p` without waiting for it.
#[cfg(target_arch = "x86_64")]
fn prefetch<T>(p: *const T) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: a prefetch is a hint that never faults, whatever the address; SSE is part of x86_64.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch<T>(_: *const T) {}

pub struct Engine {
    pub(crate) tree: Arc<RegionTree>,
    pub(crate) cases: Cases,
    pub(crate) cells: Cells,
    pub(crate) nodes: Vec<Node>,
    /// Cases by grid (region index), in the order they were reported to us (ascending case number),
    /// each with its span (`Case::span`) so that a scan reads only the cases a period can count.
    pub(crate) by_grid: Vec<Vec<GridCase>>,
    /// Local hour → cases with an instant in it (for the part of a day or hour a period ends in).
    pub(crate) active: HashMap<i64, Vec<u32>>,
    /// Cases open at the horizon.
    pub(crate) open: BTreeSet<u32>,
    pub(crate) live: Vec<LiveState>,
    /// (the next time a case's contribution changes, case).
    pending: BTreeSet<(i64, u32)>,
    pending_at: Vec<i64>,
    pub(crate) ticker: VecDeque<Tick>,
    pub(crate) last_patrol: Vec<Option<i64>>,
    pub safety: crate::safety::Safety,
    /// Everything before this instant has happened (i64::MIN: nothing counted yet).
    pub(crate) swept_to: i64,
    /// The earliest report held.
    pub(crate) first_report: Option<i64>,
    /// Cases a court referred (source `Court`) with their grid's pre-order number, ordered by it (then
    /// by case): a region's referrals are one run, which the 诉调对接 figures scan.
    pub(crate) referred: Vec<(u32, u32)>,
    /// The grid workers' rosters (not in the snapshot: the store's roster is read at start).
    pub(crate) roster: crate::duty::Roster,
    version: u64,
}

impl Engine {
    pub fn new(tree: Arc<RegionTree>) -> Engine {
        let n = tree.len();
        Engine {
            cells: Cells::new(&tree),
            nodes: vec![Node::default(); n],
            by_grid: vec![Vec::new(); n],
            last_patrol: vec![None; n],
            tree,
            cases: Cases::new(),
            active: HashMap::new(),
            open: BTreeSet::new(),
            live: Vec::new(),
            pending: BTreeSet::new(),
            pending_at: Vec::new(),
            referred: Vec::new(),
            ticker: VecDeque::new(),
            safety: Default::default(),
            swept_to: i64::MIN,
            first_report: None,
            roster: Default::default(),
            version: 0,
        }
    }

    pub fn tree(&self) -> &RegionTree {
        &self.tree
    }

    pub fn tree_arc(&self) -> &Arc<RegionTree> {
        &self.tree
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// Something a screen shows changed without a case event (a roster).
    pub(crate) fn bump(&mut self) {
        self.version += 1;
    }

    /// The instant the engine's figures stand at: everything up to and including it is counted.
    pub fn now(&self) -> i64 {
        self.swept_to.saturating_sub(1)
    }

    /// The earliest report held (None: no case yet): comparisons with periods before it have no data.
    pub fn first_report(&self) -> Option<i64> {
        self.first_report
    }

    pub fn node(&self, idx: usize) -> &Node {
        &self.nodes[idx]
    }

    pub fn open_cases(&self) -> usize {
        self.open.len()
    }

    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// Takes one stored event. False when it changes nothing: a repeat, an event of a case never
    /// reported, a report of a grid that does not exist.
    pub fn take(&mut self, e: &CaseEvent) -> bool {
        let changed = if e.action == Action::Report {
            self.report(e)
        } else {
            let Some(n) = self.cases.find(&e.feed, &e.case_id) else { return false };
            let desk = e.origin == Origin::Desk;
            // The store numbers the cockpit's own events one after another; so does a live take.
            let seq = if desk && e.seq == 0 { self.cases.get(n).last_desk_seq().unwrap_or(0) + 1 } else { e.seq };
            let ev = Ev::new(e.at, seq, desk, e.action, e.status, e.mediation);
            let h = self.swept_to;
            let taken = self.change(n, h, h, |c| c.insert(ev));
            if taken && matches!(e.action, Action::Return | Action::Supervise | Action::Escalate | Action::Acknowledge) {
                self.tick(Tick { case: n, action: e.action, at: e.at });
            }
            taken
        };
        if changed {
            self.version += 1;
        }
        changed
    }

    fn report(&mut self, e: &CaseEvent) -> bool {
        let Some(f) = &e.facts else { return false };
        let Some(grid) = self.tree.find(&f.grid).filter(|&g| self.tree.get(g).row.level == Level::Grid) else { return false };
        if self.cases.find(&e.feed, &e.case_id).is_some() {
            return false;
        }
        let feed = self.cases.feeds.intern(&e.feed);
        let department = self.cases.departments.intern(f.details.department.as_deref().unwrap_or(""));
        self.cells.ensure_departments(self.cases.departments.len());
        let c = Case {
            feed,
            id: e.case_id.as_str().into(),
            grid: grid as u32,
            category: f.category,
            source: f.source,
            priority: f.priority,
            department,
            reported_at: f.reported_at,
            warn_at: f.warn_at,
            deadline: f.deadline,
            events: smallvec::smallvec![Ev::new(e.at, 0, false, Action::Report, e.status, None)],
        };
        let Some(n) = self.cases.add(c) else {
            // Two ids with one 128-bit key: never seen in practice; refusing is the safe side.
            eprintln!("engine: case key collision for {}/{}; event ignored", e.feed, e.case_id);
            return false;
        };
        self.live.push(LiveState::default());
        self.pending_at.push(i64::MAX);
        self.by_grid[grid].push(GridCase::of(n, self.cases.get(n)));
        if f.source == app::model::Source::Court {
            let key = (self.tree.pre_order(grid), n);
            let at = self.referred.partition_point(|&k| k < key);
            self.referred.insert(at, key);
        }
        self.first_report = Some(self.first_report.map_or(f.reported_at, |r| r.min(f.reported_at)));
        if f.source == app::model::Source::Petition {
            self.safety.petition(&self.tree, &e.feed, grid, f.reported_at);
        }
        let h = self.swept_to;
        self.contribute(n, &[], h);
        self.tick(Tick { case: n, action: Action::Report, at: e.at });
        true
    }

    fn tick(&mut self, t: Tick) {
        self.ticker.push_front(t);
        self.ticker.truncate(TICKER_LEN);
    }

    /// Changes case `n` with `f` (false: nothing changed) and moves its contribution from horizon
    /// `old_h` to `new_h`.
    fn change(&mut self, n: u32, old_h: i64, new_h: i64, f: impl FnOnce(&mut Case) -> bool) -> bool {
        let mut before = Vec::new();
        instants(self.cases.get(n), old_h, &mut before);
        if !f(self.cases.get_mut(n)) {
            return false;
        }
        let c = self.cases.get(n);
        let list = &mut self.by_grid[c.grid as usize];
        let i = list.binary_search_by_key(&n, |g| g.n).expect("every case is in its grid's list");
        list[i] = GridCase::of(n, c);
        self.contribute(n, &before, new_h);
        true
    }

    /// Replaces the instants `before` (counted for `n` so far) by what `n` contributes at horizon `h`,
    /// and brings its live counters, open-set membership and pending time up to date.
    fn contribute(&mut self, n: u32, before: &[Instant], h: i64) {
        let tree = Arc::clone(&self.tree);
        let c = self.cases.get(n);
        let mut after = Vec::with_capacity(before.len() + 2);
        instants(c, h, &mut after);
        let mut before = before.to_vec();
        before.sort_unstable();
        after.sort_unstable();
        let (mut i, mut j) = (0, 0);
        let mut new_hours: Vec<i64> = Vec::new();
        while i < before.len() || j < after.len() {
            match (before.get(i), after.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    self.cells.apply(&tree, c, a, -1);
                    i += 1;
                }
                (Some(a), None) => {
                    self.cells.apply(&tree, c, a, -1);
                    i += 1;
                }
                (_, Some(b)) => {
                    self.cells.apply(&tree, c, b, 1);
                    new_hours.push(local_hour(b.at));
                    j += 1;
                }
                (None, None) => unreachable!(),
            }
        }
        // A case joins an hour's list once: its hours only grow, so an hour it had before is already there.
        new_hours.sort_unstable();
        new_hours.dedup();
        for h in new_hours {
            if !before.iter().any(|x| local_hour(x.at) == h) {
                self.active.entry(h).or_default().push(n);
            }
        }
        let old = self.live[n as usize];
        let new = live_state(c, h);
        if old != new {
            let (category, grid) = (c.category, c.grid as usize);
            self.count_live(grid, category, old, -1);
            self.count_live(grid, category, new, 1);
            self.live[n as usize] = new;
            if new.open != old.open {
                if new.open {
                    self.open.insert(n);
                } else {
                    self.open.remove(&n);
                }
            }
        }
        if h != i64::MIN {
            self.reschedule(n, h);
        }
    }

    /// `contribute` for a case the cells already hold: its day lists, live counters, open-set
    /// membership and pending time.
    fn contribute_beside_cells(&mut self, n: u32, h: i64) {
        let c = self.cases.get(n);
        let mut after = Vec::new();
        instants(c, h, &mut after);
        let mut hours: Vec<i64> = after.iter().map(|i| local_hour(i.at)).collect();
        hours.sort_unstable();
        hours.dedup();
        for h in hours {
            self.active.entry(h).or_default().push(n);
        }
        let new = live_state(c, h);
        let (category, grid) = (c.category, c.grid as usize);
        self.count_live(grid, category, new, 1);
        self.live[n as usize] = new;
        if new.open {
            self.open.insert(n);
        }
        self.reschedule(n, h);
    }

    fn count_live(&mut self, grid: usize, category: Category, s: LiveState, sign: i32) {
        let tree = Arc::clone(&self.tree);
        let add = |x: &mut u32, on: bool| {
            if on {
                *x = x.wrapping_add_signed(sign);
            }
        };
        for a in tree.ancestors(grid) {
            let node = &mut self.nodes[a];
            add(&mut node.open, s.open);
            add(&mut node.overdue, s.overdue);
            add(&mut node.due_soon, s.due_soon);
            add(&mut node.supervised, s.supervised);
            add(&mut node.escalated, s.escalated);
            add(&mut node.open_by_category[category.index()], s.open);
        }
    }

    /// The next time at or after `h` that case `n`'s contribution changes.
    fn reschedule(&mut self, n: u32, h: i64) {
        let c = self.cases.get(n);
        let next = [c.reported_at, c.warn_at, c.deadline].into_iter().chain(c.events.iter().map(|e| e.at)).filter(|&t| t >= h).min().unwrap_or(i64::MAX);
        let slot = &mut self.pending_at[n as usize];
        if *slot == next {
            return;
        }
        if *slot != i64::MAX {
            self.pending.remove(&(*slot, n));
        }
        *slot = next;
        if next != i64::MAX {
            self.pending.insert((next, n));
        }
    }

    /// Moves the horizon to just after `now`: deadlines and due-soon times passed by then count, and
    /// events dated up to `now` count. Returns whether any figure changed.
    pub fn sweep(&mut self, now: i64) -> bool {
        let h = now.saturating_add(1);
        if h <= self.swept_to {
            return false;
        }
        let old_h = self.swept_to;
        let mut changed = false;
        if old_h == i64::MIN {
            // The first sweep after a recount: every case is counted once, at the new horizon.
            self.swept_to = h;
            for n in 0..self.cases.len() as u32 {
                self.contribute(n, &[], h);
            }
            changed = !self.cases.is_empty();
        } else {
            self.swept_to = h;
            while let Some(&(t, n)) = self.pending.first() {
                if t >= h {
                    break;
                }
                self.pending.remove(&(t, n));
                self.pending_at[n as usize] = i64::MAX;
                let mut before = Vec::new();
                instants(self.cases.get(n), old_h, &mut before);
                self.contribute(n, &before, h);
                changed = true;
            }
        }
        if local_day(h) != local_day(old_h.max(i64::MIN / 2)) || self.roster.edge_between(old_h.saturating_sub(1), h - 1) {
            changed = true;
        }
        if changed {
            self.version += 1;
        }
        changed
    }

    /// Open cases past their deadline that were never escalated and whose deadline `late_enough`: what
    /// the escalation rule raises one level. (feed, case id, status), in key order.
    pub fn due_for_escalation(&self, late_enough: impl Fn(i64) -> bool) -> Vec<(String, String, app::model::Status)> {
        let mut out: Vec<_> = self
            .open
            .iter()
            .map(|&n| (n, self.cases.get(n)))
            .filter(|(n, c)| self.live[*n as usize].overdue && c.escalations() == 0 && late_enough(c.deadline))
            .map(|(_, c)| (self.cases.feeds.name(c.feed).to_string(), c.id.to_string(), c.status()))
            .collect();
        out.sort();
        out
    }

    /// Open cases from one kind of source system in a region's subtree.
    pub fn open_of_source(&self, region: usize, source: app::model::Source) -> u32 {
        self.open.iter().map(|&n| self.cases.get(n)).filter(|c| c.source == source && self.tree.is_within(c.grid as usize, region)).count() as u32
    }

    /// Counts one stored observation of an indicator.
    pub fn observe(&mut self, feed: &str, id: &str, version: i64, o: &crate::safety::Observation) {
        self.safety.observe(&self.tree, feed, id, version, o);
        self.version += 1;
    }

    /// Counts a patrol of the grid `code`; an older one than the last known changes nothing.
    pub fn patrolled(&mut self, code: &str, at: i64) -> bool {
        let Some(idx) = self.tree.find(code).filter(|&i| self.tree.get(i).row.level == Level::Grid) else { return false };
        if self.last_patrol[idx].is_some_and(|last| last >= at) {
            return false;
        }
        self.last_patrol[idx] = Some(at);
        self.version += 1;
        true
    }

    pub fn last_patrol(&self, idx: usize) -> Option<i64> {
        self.last_patrol.get(idx).copied().flatten()
    }

    /// Cases under `region` that a scan of `[f, t)` can count (`GridCase::meets`); the others add
    /// nothing to it.
    pub(crate) fn cases_meeting(&self, region: usize, f: i64, t: i64) -> impl Iterator<Item = &Case> + '_ {
        self.meeting(region, f, t).map(move |(list, k)| {
            // The cases of a grid lie far apart in the table: ask for a later one's row (its events
            // are in it) while this one is counted.
            if let Some(ahead) = list.get(k + PREFETCH_AHEAD) {
                let row = self.cases.get(ahead.n) as *const Case as *const u8;
                for line in (0..std::mem::size_of::<Case>()).step_by(64) {
                    prefetch(row.wrapping_add(line));
                }
            }
            self.cases.get(list[k].n)
        })
    }

    /// Each case under `region` that a scan of `[f, t)` can count, as its grid's list and its place in it.
    fn meeting(&self, region: usize, f: i64, t: i64) -> impl Iterator<Item = (&[GridCase], usize)> + '_ {
        self.tree.grids_under(region).iter().flat_map(move |&g| {
            let list = self.by_grid[g].as_slice();
            list.iter().enumerate().filter(move |(_, c)| c.meets(f, t)).map(move |(k, _)| (list, k))
        })
    }

    /// Cases with an instant on `day`, in `region`, each once, in ascending order; for a region
    /// without full cells (a village, a grid), also those of its cases whose span meets the day without
    /// an instant in it (the open ones): callers look at each case's instants, and reading the region's
    /// own lists is far quicker than filtering every case the city had active that day.
    pub(crate) fn active_under(&self, day: i64, region: usize) -> Vec<u32> {
        if self.cells.node(region).is_some() {
            return self.active_in_hours(day * 24, day * 24 + 24, region);
        }
        let mut v: Vec<u32> = self.meeting(region, day_start(day), day_start(day + 1)).map(|(list, k)| list[k].n).collect();
        v.sort_unstable();
        v
    }

    /// Cases with an instant in hours `[from, to)` (see `cells::local_hour`), in `region`, each once.
    pub(crate) fn active_in_hours(&self, from: i64, to: i64, region: usize) -> Vec<u32> {
        let mut v: Vec<u32> = (from..to)
            .filter_map(|h| self.active.get(&h))
            .flat_map(|l| l.iter().copied().filter(|&n| self.tree.is_within(self.cases.get(n).grid as usize, region)))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// An engine from a snapshot's parts and its cells: the live counters, open set, day lists and
    /// pending times are counted again from the cases, at the snapshot's horizon, by the same code that
    /// counts live; the cells are taken as read.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn restore(
        &mut self,
        feeds: crate::cases::Names,
        departments: crate::cases::Names,
        cases: Vec<Case>,
        ticker: Vec<Tick>,
        last_patrol: Vec<Option<i64>>,
        safety: crate::safety::Safety,
        swept_to: i64,
        first_report: Option<i64>,
        cells: Cells,
    ) -> Result<(), crate::persist::LoadError> {
        self.cases.feeds = feeds;
        self.cases.departments = departments;
        if cells.slots() < crate::cells::FIXED_SLOTS + self.cases.departments.len().max(1) {
            return Err(crate::persist::LoadError::Corrupt("cells for fewer departments than the cases name".into()));
        }
        self.cells = cells;
        self.cases.adopt(cases).map_err(|id| crate::persist::LoadError::Corrupt(format!("case {id} twice")))?;
        // Each grid's list sized to what it will hold, not grown by doubling (up to half of it unused).
        let mut per_grid = vec![0usize; self.by_grid.len()];
        for c in &self.cases.all {
            per_grid[c.grid as usize] += 1;
        }
        for (list, n) in self.by_grid.iter_mut().zip(per_grid) {
            list.reserve_exact(n);
        }
        for (n, c) in self.cases.all.iter().enumerate() {
            let (n, grid) = (n as u32, c.grid as usize);
            self.by_grid[grid].push(GridCase::of(n, c));
            if c.source == app::model::Source::Court {
                self.referred.push((self.tree.pre_order(grid), n));
            }
        }
        self.live.resize(self.cases.len(), LiveState::default());
        self.pending_at.resize(self.cases.len(), i64::MAX);
        self.referred.sort_unstable();
        self.ticker = ticker.into_iter().collect();
        self.last_patrol = last_patrol;
        self.safety = safety;
        self.first_report = first_report;
        self.swept_to = swept_to;
        if swept_to != i64::MIN {
            for n in 0..self.cases.len() as u32 {
                self.contribute_beside_cells(n, swept_to);
            }
        }
        self.version += 1;
        Ok(())
    }

    /// Rebuilds an engine from events in store order, then sweeps to `now`.
    pub fn rebuild(tree: Arc<RegionTree>, events: impl IntoIterator<Item = CaseEvent>, now: i64) -> Engine {
        let mut e = Engine::new(tree);
        for ev in events {
            e.take(&ev);
        }
        e.sweep(now);
        e
    }
}
