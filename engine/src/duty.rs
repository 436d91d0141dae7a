//! Grid duty from the workers' rosters, kept in memory per grid: which grids have someone on shift at a
//! moment, whose worker is on leave, which are between shifts or vacant. The roster is a plan reaching
//! days ahead, so a grid's status changes with time alone: the edges of every span are kept so `sweep`
//! can tell the screens when one passes.
use crate::engine::Engine;
use app::duty::{DutyCount, DutyKind, DutyStatus, DutyView, GridDuty, DUTY_LISTED};
use std::collections::BTreeMap;

/// One roster line of a grid. A span with `to <= from` is a cancelled one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DutySpan {
    pub worker: String,
    pub kind: DutyKind,
    pub from: i64,
    pub to: i64,
}

impl DutySpan {
    fn covers(&self, t: i64) -> bool {
        self.from <= t && t < self.to
    }
}

/// Every grid's roster lines (by region index, sorted by start), and how many spans start or end at each
/// instant.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    by_grid: BTreeMap<usize, Vec<DutySpan>>,
    edges: BTreeMap<i64, u32>,
}

impl Roster {
    fn edge(&mut self, t: i64, add: bool) {
        if add {
            *self.edges.entry(t).or_default() += 1;
        } else if let Some(n) = self.edges.get_mut(&t) {
            *n -= 1;
            if *n == 0 {
                self.edges.remove(&t);
            }
        }
    }

    /// Puts `s` in grid `idx`'s roster, replacing the line of the same worker, kind and start.
    fn put(&mut self, idx: usize, s: DutySpan) {
        let spans = self.by_grid.entry(idx).or_default();
        let at = spans.iter().position(|x| x.worker == s.worker && x.kind == s.kind && x.from == s.from);
        if let Some(i) = at {
            let old = spans.remove(i);
            if old.to > old.from {
                self.edge(old.from, false);
                self.edge(old.to, false);
            }
        }
        let spans = self.by_grid.entry(idx).or_default();
        if s.to > s.from {
            let i = spans.partition_point(|x| (x.from, x.kind, &x.worker) < (s.from, s.kind, &s.worker));
            let (from, to) = (s.from, s.to);
            spans.insert(i, s);
            self.edge(from, true);
            self.edge(to, true);
        }
    }

    /// Whether any span starts or ends in `(after, upto]`.
    pub fn edge_between(&self, after: i64, upto: i64) -> bool {
        after < upto && self.edges.range(after.saturating_add(1)..=upto).next().is_some()
    }
}

impl Engine {
    /// Replaces the roster with `lines` (grid code, span); lines of grids the tree does not know are
    /// skipped and counted in the result.
    pub fn set_roster(&mut self, lines: impl IntoIterator<Item = (String, DutySpan)>) -> usize {
        self.roster = Roster::default();
        let unknown = self.put_duties(lines);
        self.bump();
        unknown
    }

    /// Adds or changes roster lines (same grid, worker, kind and start: the end is replaced).
    pub fn add_duties(&mut self, lines: impl IntoIterator<Item = (String, DutySpan)>) -> usize {
        let unknown = self.put_duties(lines);
        self.bump();
        unknown
    }

    fn put_duties(&mut self, lines: impl IntoIterator<Item = (String, DutySpan)>) -> usize {
        let mut unknown = 0;
        for (grid, s) in lines {
            match self.tree.find(&grid) {
                Some(idx) => self.roster.put(idx, s),
                None => unknown += 1,
            }
        }
        unknown
    }

    /// Grid `idx` at `t`: its status, who, and until when (see `GridDuty`).
    pub fn grid_duty(&self, idx: usize, t: i64) -> (DutyStatus, Option<String>, Option<i64>) {
        let (status, worker, until) = self.duty_at(idx, t);
        (status, worker.map(str::to_string), until)
    }

    /// `grid_duty` without copying the worker's name (counting every grid of a city).
    fn duty_at(&self, idx: usize, t: i64) -> (DutyStatus, Option<&str>, Option<i64>) {
        let spans: &[DutySpan] = self.roster.by_grid.get(&idx).map(Vec::as_slice).unwrap_or(&[]);
        let on_leave = |w: &str| spans.iter().find(|s| s.kind == DutyKind::Leave && s.worker == w && s.covers(t));
        if let Some(s) = spans.iter().find(|s| s.kind == DutyKind::Shift && s.covers(t) && on_leave(&s.worker).is_none()) {
            return (DutyStatus::OnDuty, Some(&s.worker), Some(s.to));
        }
        let Some(worker) = self.tree.get(idx).row.grid.as_ref().and_then(|g| g.worker.as_deref()) else {
            return (DutyStatus::Vacant, None, None);
        };
        if let Some(l) = on_leave(worker) {
            return (DutyStatus::OnLeave, Some(worker), Some(l.to));
        }
        let next = spans.iter().filter(|s| s.kind == DutyKind::Shift && s.from > t && on_leave(&s.worker).is_none()).map(|s| s.from).min();
        (DutyStatus::OffDuty, Some(worker), next)
    }

    /// The grids under `idx` by their status at `t`.
    pub fn duty_count(&self, idx: usize, t: i64) -> DutyCount {
        let mut c = DutyCount::default();
        for &g in self.tree.grids_under(idx) {
            if self.tree.get(g).row.grid.is_some() {
                c.add(self.duty_at(g, t).0);
            }
        }
        c
    }

    /// Who is on duty under `idx` at `t`: the count, per child, and the first `DUTY_LISTED` grids by code.
    pub fn duty(&self, idx: usize, t: i64) -> DutyView {
        let tree = &*self.tree;
        let mut count = DutyCount::default();
        let mut listed = Vec::new();
        for &g in tree.grids_under(idx) {
            if tree.get(g).row.grid.is_some() {
                count.add(self.duty_at(g, t).0);
                listed.push(g);
            }
        }
        let code = |g: usize| tree.get(g).row.code.as_str();
        crate::coverage::first_sorted(&mut listed, DUTY_LISTED, |&a, &b| code(a).cmp(code(b)));
        let grids = listed
            .into_iter()
            .map(|g| {
                let r = tree.get(g);
                let (status, worker, until) = self.grid_duty(g, t);
                GridDuty { code: r.row.code.clone(), name: r.row.name.clone(), place: tree.place(g), status, worker, until }
            })
            .collect();
        let by_child = tree.get(idx).children.iter().map(|&c| (tree.refer(c), self.duty_count(c, t))).filter(|(_, c)| c.grids > 0).collect();
        DutyView { count, by_child, grids, as_of: t }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// The engine's test tree: grids 11111 and 12112 staffed, 12111 vacant, in two districts.
    fn engine() -> Engine {
        Engine::new(crate::testing::tree())
    }

    fn shift(w: &str, from: i64, to: i64) -> DutySpan {
        DutySpan { worker: w.into(), kind: DutyKind::Shift, from, to }
    }

    #[test]
    fn a_grid_is_on_duty_exactly_within_a_shift_and_off_between_shifts() {
        let mut e = engine();
        // Morning and afternoon shifts with a lunch break between.
        e.set_roster([("11111".to_string(), shift("王伟", 8 * H, 12 * H)), ("11111".to_string(), shift("王伟", 13 * H, 17 * H))]);
        let g1 = e.tree().find("11111").unwrap();
        assert_eq!(e.grid_duty(g1, 8 * H - 1), (DutyStatus::OffDuty, Some("王伟".into()), Some(8 * H)));
        assert_eq!(e.grid_duty(g1, 8 * H), (DutyStatus::OnDuty, Some("王伟".into()), Some(12 * H)));
        assert_eq!(e.grid_duty(g1, 12 * H), (DutyStatus::OffDuty, Some("王伟".into()), Some(13 * H)), "lunch");
        assert_eq!(e.grid_duty(g1, 16 * H), (DutyStatus::OnDuty, Some("王伟".into()), Some(17 * H)));
        assert_eq!(e.grid_duty(g1, 17 * H), (DutyStatus::OffDuty, Some("王伟".into()), None), "nothing planned after");
        let g3 = e.tree().find("12111").unwrap();
        assert_eq!(e.grid_duty(g3, 9 * H).0, DutyStatus::Vacant);
        let c = e.duty_count(0, 9 * H);
        assert_eq!((c.grids, c.on_duty, c.off_duty, c.vacant, c.on_leave), (3, 1, 1, 1, 0));
        let v = e.duty(0, 9 * H);
        assert_eq!(v.count, c);
        assert_eq!(v.grids.iter().map(|g| (g.code.as_str(), g.status)).collect::<Vec<_>>(), [("11111", DutyStatus::OnDuty), ("12111", DutyStatus::Vacant), ("12112", DutyStatus::OffDuty)], "by code");
        let by_child: Vec<(&str, u32, u32)> = v.by_child.iter().map(|(r, n)| (r.code.as_str(), n.grids, n.on_duty)).collect();
        assert_eq!(by_child, [("11", 1, 1), ("12", 2, 0)]);
    }

    #[test]
    fn leave_across_midnight_cancels_the_workers_shifts_and_a_cover_counts() {
        let mut e = engine();
        let leave = DutySpan { worker: "王伟".into(), kind: DutyKind::Leave, from: 20 * H, to: 44 * H };
        e.set_roster([
            ("11111".to_string(), shift("王伟", 32 * H, 36 * H)),
            ("11111".to_string(), leave),
            ("11111".to_string(), shift("王伟", 56 * H, 60 * H)),
            // Another worker covers the vacant grid (代班).
            ("12111".to_string(), shift("李娜", 33 * H, 35 * H)),
        ]);
        let g1 = e.tree().find("11111").unwrap();
        let g3 = e.tree().find("12111").unwrap();
        assert_eq!(e.grid_duty(g1, 23 * H), (DutyStatus::OnLeave, Some("王伟".into()), Some(44 * H)), "before midnight");
        assert_eq!(e.grid_duty(g1, 33 * H), (DutyStatus::OnLeave, Some("王伟".into()), Some(44 * H)), "a shift on leave does not count");
        assert_eq!(e.grid_duty(g1, 44 * H), (DutyStatus::OffDuty, Some("王伟".into()), Some(56 * H)), "back, next shift after the leave");
        assert_eq!(e.grid_duty(g3, 34 * H), (DutyStatus::OnDuty, Some("李娜".into()), Some(35 * H)));
        assert_eq!(e.grid_duty(g3, 35 * H).0, DutyStatus::Vacant);
    }

    #[test]
    fn a_changed_line_replaces_the_old_one_and_a_cancelled_one_goes() {
        let mut e = engine();
        e.set_roster([("12112".to_string(), shift("张敏", 8 * H, 12 * H)), ("nowhere".to_string(), shift("x", 0, H))]);
        let g2 = e.tree().find("12112").unwrap();
        assert!(e.roster.edge_between(7 * H, 8 * H));
        assert!(!e.roster.edge_between(8 * H, 11 * H));
        let v = e.version();
        assert_eq!(e.add_duties([("12112".to_string(), shift("张敏", 8 * H, 10 * H))]), 0);
        assert!(e.version() > v, "screens are told");
        assert_eq!(e.grid_duty(g2, 11 * H).0, DutyStatus::OffDuty, "the shift now ends at 10");
        assert!(!e.roster.edge_between(11 * H, 12 * H), "the old end is gone");
        e.add_duties([("12112".to_string(), shift("张敏", 8 * H, 8 * H))]);
        assert_eq!(e.grid_duty(g2, 9 * H), (DutyStatus::OffDuty, Some("王伟".into()), None), "cancelled");
        assert!(!e.roster.edge_between(0, 100 * H));
        assert_eq!(e.add_duties([("nowhere".to_string(), shift("x", 0, H))]), 1, "unknown grids are counted");
    }

    #[test]
    fn sweeping_past_a_shift_edge_wakes_the_screens() {
        let mut e = engine();
        e.sweep(7 * H);
        e.set_roster([("11111".to_string(), shift("王伟", 8 * H, 12 * H))]);
        let v = e.version();
        e.sweep(7 * H + 1);
        assert_eq!(e.version(), v, "nothing passed");
        e.sweep(8 * H);
        assert!(e.version() > v, "the shift began");
    }
}
