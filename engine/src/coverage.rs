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
    pub fn coverage(&self, idx: usize, now: i64, days: u32) -> Coverage {
        let tree = &*self.tree;
        let since = now - i64::from(days) * DAY_MS;
        let (mut comprehensive, mut dedicated) = (GridCount::default(), GridCount::default());
        let mut stale = Vec::new();
        for i in tree.grids_under(idx) {
            let r = tree.get(i);
            let Some(g) = r.row.grid.as_ref() else { continue };
            let count = if g.kind == GridKind::Comprehensive { &mut comprehensive } else { &mut dedicated };
            let last = self.last_patrol(i);
            let fresh = last.is_some_and(|t| t >= since);
            count.grids += 1;
            count.staffed += u32::from(g.worker.is_some());
            count.patrolled += u32::from(fresh);
            if !fresh {
                stale.push(StaleGrid {
                    code: r.row.code.clone(),
                    name: r.row.name.clone(),
                    place: tree.place(i),
                    kind: g.kind,
                    worker: g.worker.clone(),
                    last_patrol: last,
                });
            }
        }
        // Never patrolled first, then the longest ago; ties by code so the list is stable.
        stale.sort_by(|a, b| (a.last_patrol, &a.code).cmp(&(b.last_patrol, &b.code)));
        let stale_total = stale.len() as u32;
        stale.truncate(STALE_LISTED);
        let (fitness, mut unfit) = self.fitness(idx, now, days);
        // Those failing most conditions first, then by code.
        unfit.sort_by(|a, b| b.gaps.len().cmp(&a.gaps.len()).then(a.code.cmp(&b.code)));
        unfit.truncate(STALE_LISTED);
        let fitness_by_child = tree.get(idx).children.iter().map(|&c| (tree.refer(c), self.fitness(c, now, days).0)).filter(|(_, f)| f.grids > 0).collect();
        Coverage { region: tree.refer(idx), days, comprehensive, dedicated, stale, stale_total, fitness, fitness_by_child, unfit, duty: self.duty(idx, now), as_of: now }
    }

    /// 网格达标 of the grids under `idx` at `now`: a grid is fit when it has a worker, was patrolled in
    /// the `days` days before `now`, and its base data was updated in the `BASE_DATA_DAYS` before `now`.
    /// The counts, and every grid that is not fit with why.
    pub fn fitness(&self, idx: usize, now: i64, days: u32) -> (Fitness, Vec<UnfitGrid>) {
        let tree = &*self.tree;
        let patrolled_since = now - i64::from(days) * DAY_MS;
        let base_since = now - i64::from(BASE_DATA_DAYS) * DAY_MS;
        let mut f = Fitness::default();
        let mut unfit = Vec::new();
        for i in tree.grids_under(idx) {
            let Some(g) = tree.get(i).row.grid.as_ref() else { continue };
            let mut gaps = Vec::new();
            if g.worker.is_none() {
                gaps.push(FitnessGap::Vacant);
                f.vacant += 1;
            }
            if !self.last_patrol(i).is_some_and(|t| t >= patrolled_since) {
                gaps.push(FitnessGap::NotPatrolled);
                f.not_patrolled += 1;
            }
            if !g.base_updated.is_some_and(|t| t >= base_since) {
                gaps.push(FitnessGap::BaseDataStale);
                f.base_stale += 1;
            }
            f.grids += 1;
            if gaps.is_empty() {
                f.fit += 1;
            } else {
                let r = &tree.get(i).row;
                unfit.push(UnfitGrid { code: r.code.clone(), name: r.name.clone(), place: tree.place(i), gaps, base_updated: g.base_updated });
            }
        }
        (f, unfit)
    }
}
