//! What the early-warning rules ask of the engine besides the flow figures: clusters of cases of one
//! category reported in one grid within a few hours (a brawl that keeps being reported, a burst pipe
//! flooding a street). Read from the hours' lists of active cases, so a query looks at the last few
//! hours' cases only, however long the history.
use crate::cells::local_hour;
use crate::engine::Engine;
use app::model::Category;

/// Cases of one category reported in one grid within the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub grid: usize,
    pub category: Category,
    pub count: u32,
    /// The first and last report of the cluster (ms).
    pub first: i64,
    pub last: i64,
}

impl Engine {
    /// Grids under `region` where at least `min` cases of `category` (or of any one category, each
    /// counted on its own) were reported in `(now - window, now]`. Ordered by grid, then category.
    pub fn clusters(&self, region: usize, now: i64, window: i64, min: u32, category: Option<Category>) -> Vec<Cluster> {
        let from = now - window;
        let mut found: std::collections::BTreeMap<(usize, usize), Cluster> = Default::default();
        for n in self.active_in_hours(local_hour(from + 1), local_hour(now) + 1, region) {
            let c = self.cases.get(n);
            if c.reported_at <= from || c.reported_at > now || category.is_some_and(|k| k != c.category) {
                continue;
            }
            let e = found.entry((c.grid as usize, c.category.index())).or_insert(Cluster { grid: c.grid as usize, category: c.category, count: 0, first: i64::MAX, last: i64::MIN });
            e.count += 1;
            e.first = e.first.min(c.reported_at);
            e.last = e.last.max(c.reported_at);
        }
        found.into_values().filter(|c| c.count >= min.max(1)).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::case::{CaseEvent, CaseFacts};
    use crate::Engine;
    use app::flow::{Action, Priority};
    use app::model::{Category, Source, Status};

    use crate::hand::{tree, P};

    const M: i64 = 60_000;

    fn report(id: &str, grid: &str, category: Category, at: i64) -> CaseEvent {
        let facts = CaseFacts { category, source: Source::Hotline12345, grid: grid.into(), reported_at: at, priority: Priority::Normal, warn_at: at + 600 * M, deadline: at + 900 * M, details: Default::default() };
        CaseEvent { facts: Some(facts), ..CaseEvent::change("t", id, 0, Action::Report, Status::Reported, at) }
    }

    #[test]
    fn clusters_are_cases_of_one_category_in_one_grid_within_the_window() {
        // Grid 11111: three hazards 50 min apart over midnight's hour boundary, a fourth 3 h before; one
        // environment case. Grid 12111: two hazards.
        let events = vec![
            report("a", "11111", Category::Hazard, P - 180 * M),
            report("b", "11111", Category::Hazard, P - 50 * M),
            report("c", "11111", Category::Hazard, P - 10 * M),
            report("d", "11111", Category::Hazard, P + 30 * M),
            report("e", "11111", Category::Environment, P),
            report("f", "12111", Category::Hazard, P - 5 * M),
            report("g", "12111", Category::Hazard, P + 5 * M),
        ];
        let e = Engine::rebuild(tree(), events, P + 60 * M);
        let now = P + 40 * M;
        let grid = |code: &str| e.tree().find(code).unwrap();
        let found = e.clusters(0, now, 120 * M, 3, None);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].grid, found[0].category, found[0].count, found[0].first, found[0].last), (grid("11111"), Category::Hazard, 3, P - 50 * M, P + 30 * M));
        // Two make a cluster when the rule says so, per category; a category given narrows it.
        let two: Vec<(usize, Category, u32)> = e.clusters(0, now, 120 * M, 2, None).into_iter().map(|c| (c.grid, c.category, c.count)).collect();
        assert_eq!(two, [(grid("11111"), Category::Hazard, 3), (grid("12111"), Category::Hazard, 2)]);
        assert!(e.clusters(0, now, 120 * M, 1, Some(Category::Environment)).iter().all(|c| c.category == Category::Environment));
        // A region holds only its own grids; the window's start is open, its end closed.
        assert_eq!(e.clusters(grid("12111"), now, 120 * M, 3, None), []);
        assert_eq!(e.clusters(0, P + 30 * M, 40 * M, 1, Some(Category::Hazard)).iter().map(|c| c.count).sum::<u32>(), 1 + 2);
        assert_eq!(e.clusters(0, P - 10 * M, 40 * M, 1, Some(Category::Hazard)).iter().map(|c| c.count).sum::<u32>(), 1);
        // A report later than `now` is not counted yet.
        assert_eq!(e.clusters(0, P - 11 * M, 120 * M, 1, Some(Category::Hazard))[0].count, 1);
    }
}
