//! The tablet's list: the open cases of a region that need attention now (due soon or overdue),
//! soonest deadline first. The engine picks them; their details come from the store by key.
use crate::engine::Engine;
use app::model::Status;

/// Which cases a desk may list.
#[derive(Clone, Debug, Default)]
pub struct DeskFilter {
    pub region: usize,
    /// Department staff: only cases of their department, once dispatched to it.
    pub department: Option<String>,
    pub limit: usize,
    /// Every open case of this feed, due or not (a queue to work through), instead of the alerting ones.
    pub feed: Option<String>,
}

impl Engine {
    /// (feed, case id) of the open cases due soon or overdue under the filter (or, with `feed`, every
    /// open case of that feed), soonest deadline first.
    pub fn alerting(&self, f: &DeskFilter) -> Vec<(String, String)> {
        let dept = f.department.as_deref().map(|d| self.cases.departments.find(d));
        // A feed no case has come from yet: nothing to list (None would mean "every feed").
        let feed = match f.feed.as_deref() {
            None => None,
            Some(name) => match self.cases.feeds.find(name) {
                Some(i) => Some(i),
                None => return Vec::new(),
            },
        };
        let mut picked: Vec<(i64, u32)> = self
            .open
            .iter()
            .filter(|&&n| {
                let (c, s) = (self.cases.get(n), self.live[n as usize]);
                let wanted = match feed {
                    None => s.due_soon || s.overdue,
                    Some(i) => c.feed == i,
                };
                wanted
                    && self.tree.is_within(c.grid as usize, f.region)
                    && match dept {
                        None => true,
                        Some(d) => d.is_some_and(|d| d == c.department) && c.status() >= Status::Dispatched,
                    }
            })
            .map(|&n| (self.cases.get(n).deadline, n))
            .collect();
        picked.sort_unstable();
        picked.truncate(f.limit);
        picked.into_iter().map(|(_, n)| (self.cases.feeds.name(self.cases.get(n).feed).to_string(), self.cases.get(n).id.to_string())).collect()
    }
}
