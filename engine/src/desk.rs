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
    pub queue: Queue,
}

/// Which open cases a list holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Queue {
    /// Those due soon or overdue.
    #[default]
    Alerting,
    /// Every one of this feed, due or not (a queue to work through).
    Feed(String),
    /// Every one the region's own centre holds (四级综治中心), due or not.
    Centre,
    /// Every one from this source, due or not (a court's referrals).
    Source(app::model::Source),
}

/// A centre's work: what it holds now, and how it met its deadlines over the last `days` days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CentreLoad {
    pub held: u32,
    pub overdue: u32,
    /// Cases held here whose deadline fell in the window, and those closed by it.
    pub due: u32,
    pub on_time: u32,
}

impl Engine {
    /// (feed, case id) of the open cases due soon or overdue under the filter (or, with `feed`, every
    /// open case of that feed), soonest deadline first.
    pub fn alerting(&self, f: &DeskFilter) -> Vec<(String, String)> {
        let dept = f.department.as_deref().map(|d| self.cases.departments.find(d));
        let level = self.tree.get(f.region).row.level;
        // A feed no case has come from yet: nothing to list.
        let feed = match &f.queue {
            Queue::Feed(name) => match self.cases.feeds.find(name) {
                Some(i) => Some(i),
                None => return Vec::new(),
            },
            _ => None,
        };
        let mut picked: Vec<(i64, u32)> = self
            .open
            .iter()
            .filter(|&&n| {
                let (c, s) = (self.cases.get(n), self.live[n as usize]);
                let wanted = match &f.queue {
                    Queue::Alerting => s.due_soon || s.overdue,
                    Queue::Feed(_) => feed == Some(c.feed),
                    Queue::Centre => app::flow::holder_level(c.category, c.escalations()) == level,
                    Queue::Source(source) => c.source == *source,
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

    /// The load of the centre of `region` (its own level): open cases it holds, those overdue, and of the
    /// cases it held whose deadline fell in the `days` days before `now`, those closed by their deadline.
    /// A case is the centre's where it is held now, or was held when it closed.
    pub fn centre_load(&self, region: usize, now: i64, days: i64) -> CentreLoad {
        let level = self.tree.get(region).row.level;
        let here = |c: &crate::cases::Case| app::flow::holder_level(c.category, c.escalations()) == level;
        let mut load = CentreLoad::default();
        for &n in &self.open {
            let c = self.cases.get(n);
            if here(c) && self.tree.is_within(c.grid as usize, region) {
                load.held += 1;
                load.overdue += u32::from(self.live[n as usize].overdue);
            }
        }
        let from = now - days * app::model::DAY_MS;
        for c in self.cases_meeting(region, from, now) {
            if (from..now).contains(&c.deadline) && here(c) {
                load.due += 1;
                load.on_time += u32::from(c.closed_at().is_some_and(|at| at <= c.deadline));
            }
        }
        load
    }
}
