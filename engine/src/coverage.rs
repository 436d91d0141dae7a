//! Grid coverage and fitness (网格达标) from the base data of each grid and its last patrol, kept in
//! memory, counted over a region's grids.
use crate::engine::Engine;
use app::model::{Coverage, Fitness, FitnessGap, GridCount, GridKind, StaleGrid, UnfitGrid, BASE_DATA_DAYS, DAY_MS, STALE_LISTED};

impl Engine {
    /// A grid's card on the wall's map: its base data, its last patrol and who is on duty now.
    pub fn grid_info(&self, idx: usize) -> Option<app::model::GridInfo> {
        let g = self.tree.grid_info(idx)?;
        let now = self.now();
        let (status, worker, until) = self.grid_duty(idx, now);
        let duty = app::duty::GridDuty { code: g.code.clone(), name: g.name.clone(), place: self.tree.place(idx), status, worker, until };
        Some(app::model::GridInfo { last_patrol: self.last_patrol(idx), duty: Some(duty), ..g })
    }

    /// Coverage of the grids under region `idx`, patrols counted in the `days` days before `now`.
    /// Counted without allocating per grid: only the listed stale and unfit grids are written out.
    pub fn coverage(&self, idx: usize, now: i64, days: u32) -> Coverage {
        let tree = &*self.tree;
        let since = now - i64::from(days) * DAY_MS;
        let (mut comprehensive, mut dedicated) = (GridCount::default(), GridCount::default());
        let mut stale: Vec<(Option<i64>, usize)> = Vec::new();
        for &i in tree.grids_under(idx) {
            let Some(g) = tree.get(i).row.grid.as_ref() else { continue };
            let count = if g.kind == GridKind::Comprehensive { &mut comprehensive } else { &mut dedicated };
            let last = self.last_patrol(i);
            let fresh = last.is_some_and(|t| t >= since);
            count.grids += 1;
            count.staffed += u32::from(g.worker.is_some());
            count.patrolled += u32::from(fresh);
            if !fresh {
                stale.push((last, i));
            }
        }
        let stale_total = stale.len() as u32;
        // Never patrolled first, then the longest ago; ties by code so the list is stable.
        let code = |i: usize| tree.get(i).row.code.as_str();
        first_sorted(&mut stale, STALE_LISTED, |a, b| (a.0, code(a.1)).cmp(&(b.0, code(b.1))));
        let stale = stale
            .into_iter()
            .map(|(last, i)| {
                let r = &tree.get(i).row;
                let g = r.grid.as_ref().expect("a grid");
                StaleGrid { code: r.code.clone(), name: r.name.clone(), place: tree.place(i), kind: g.kind, worker: g.worker.clone(), last_patrol: last }
            })
            .collect();
        let mut unfit: Vec<(u8, usize)> = Vec::new();
        let fitness = self.fitness_scan(idx, now, days, |i, gaps| unfit.push((gaps, i)));
        // Those failing most conditions first, then by code.
        first_sorted(&mut unfit, STALE_LISTED, |a, b| b.0.count_ones().cmp(&a.0.count_ones()).then(code(a.1).cmp(code(b.1))));
        let unfit = unfit.into_iter().map(|(gaps, i)| self.unfit_grid(i, gaps)).collect();
        let fitness_by_child = tree.get(idx).children.iter().map(|&c| (tree.refer(c), self.fitness_count(c, now, days))).filter(|(_, f)| f.grids > 0).collect();
        Coverage { region: tree.refer(idx), days, comprehensive, dedicated, stale, stale_total, fitness, fitness_by_child, unfit, duty: self.duty(idx, now), as_of: now }
    }

    /// 网格达标 of the grids under `idx` at `now`: a grid is fit when it has a worker, was patrolled in
    /// the `days` days before `now`, and its base data was updated in the `BASE_DATA_DAYS` before `now`.
    /// The counts, and every grid that is not fit with why.
    pub fn fitness(&self, idx: usize, now: i64, days: u32) -> (Fitness, Vec<UnfitGrid>) {
        let mut unfit = Vec::new();
        let f = self.fitness_scan(idx, now, days, |i, gaps| unfit.push((i, gaps)));
        (f, unfit.into_iter().map(|(i, gaps)| self.unfit_grid(i, gaps)).collect())
    }

    /// The counts of `fitness` alone (the wall's tile, each child's row).
    pub fn fitness_count(&self, idx: usize, now: i64, days: u32) -> Fitness {
        self.fitness_scan(idx, now, days, |_, _| {})
    }

    /// Counts the grids under `idx`, calling `unfit` with each grid that is not fit and its gaps (bits
    /// in the order of `GAPS`).
    fn fitness_scan(&self, idx: usize, now: i64, days: u32, mut unfit: impl FnMut(usize, u8)) -> Fitness {
        let tree = &*self.tree;
        let patrolled_since = now - i64::from(days) * DAY_MS;
        let base_since = now - i64::from(BASE_DATA_DAYS) * DAY_MS;
        let mut f = Fitness::default();
        for &i in tree.grids_under(idx) {
            let Some(g) = tree.get(i).row.grid.as_ref() else { continue };
            let vacant = g.worker.is_none();
            let not_patrolled = !self.last_patrol(i).is_some_and(|t| t >= patrolled_since);
            let base_stale = !g.base_updated.is_some_and(|t| t >= base_since);
            f.grids += 1;
            f.vacant += u32::from(vacant);
            f.not_patrolled += u32::from(not_patrolled);
            f.base_stale += u32::from(base_stale);
            let gaps = u8::from(vacant) | u8::from(not_patrolled) << 1 | u8::from(base_stale) << 2;
            if gaps == 0 {
                f.fit += 1;
            } else {
                unfit(i, gaps);
            }
        }
        f
    }

    fn unfit_grid(&self, i: usize, gaps: u8) -> UnfitGrid {
        let tree = &*self.tree;
        let r = &tree.get(i).row;
        let gaps = GAPS.iter().enumerate().filter(|(b, _)| gaps & (1 << b) != 0).map(|(_, &g)| g).collect();
        UnfitGrid { code: r.code.clone(), name: r.name.clone(), place: tree.place(i), gaps, base_updated: r.grid.as_ref().and_then(|g| g.base_updated) }
    }
}

/// A grid's fitness gaps, bit by bit.
const GAPS: [FitnessGap; 3] = [FitnessGap::Vacant, FitnessGap::NotPatrolled, FitnessGap::BaseDataStale];

/// Leaves the first `n` of `v` in `order`, sorted (the rest dropped) without sorting all of it.
pub(crate) fn first_sorted<T>(v: &mut Vec<T>, n: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if v.len() > n && n > 0 {
        v.select_nth_unstable_by(n - 1, &order);
    }
    v.truncate(n);
    v.sort_by(order);
}

#[cfg(test)]
mod tests {
    use super::first_sorted;

    #[test]
    fn the_first_n_are_those_a_full_sort_would_keep_ties_included() {
        // A small LCG: many ties (values 0..7) and every length around the cut.
        let mut x: u64 = 2026;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % 7
        };
        for len in 0..40usize {
            for n in [0, 1, 5, 12, 39, 50] {
                let v: Vec<(u64, usize)> = (0..len).map(|i| (next(), i)).collect();
                // Ordered by value, ties by position: a total order, as coverage's (time or gaps, then code).
                let order = |a: &(u64, usize), b: &(u64, usize)| a.cmp(b);
                let mut want = v.clone();
                want.sort_by(order);
                want.truncate(n);
                let mut got = v;
                first_sorted(&mut got, n, order);
                assert_eq!(got, want, "len {len}, n {n}");
            }
        }
    }
}
