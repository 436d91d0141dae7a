//! Grid coverage from the last patrol of each grid: kept in memory, counted over a region's grids.
use crate::engine::Engine;
use app::model::{Coverage, GridCount, GridKind, StaleGrid, DAY_MS, STALE_LISTED};

impl Engine {
    /// Coverage of the grids under region `idx`, patrols counted in the `days` days before `now`.
    pub fn coverage(&self, idx: usize, now: i64, days: u32) -> Coverage {
        let tree = &*self.tree;
        let since = now - i64::from(days) * DAY_MS;
        let (mut comprehensive, mut dedicated) = (GridCount::default(), GridCount::default());
        let mut stale = Vec::new();
        let mut todo = vec![idx];
        while let Some(i) = todo.pop() {
            let r = tree.get(i);
            todo.extend(r.children.iter().copied());
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
        Coverage { region: tree.refer(idx), days, comprehensive, dedicated, stale, stale_total, as_of: now }
    }
}
