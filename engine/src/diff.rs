//! Where two engines differ, in words a person can check: the first differing region, field and both
//! values. The recount tests print it instead of a bare `==`.
use crate::engine::{Engine, Node};
use std::collections::BTreeSet;

/// A local day number as its date, YYYY-MM-DD (Asia/Shanghai).
pub fn day_name(day: i64) -> String {
    app::model::date_time(day * app::model::DAY_MS - app::model::CST_OFFSET_MS)[..10].to_string()
}

impl Engine {
    /// None when `self` and `other` hold the same figures; else the first difference found, with
    /// `self`'s value first ("live") and `other`'s second ("recount").
    pub fn difference(&self, other: &Engine) -> Option<String> {
        let tree = &*self.tree;
        if self.tree.fingerprint() != other.tree.fingerprint() {
            return Some("different region trees".into());
        }
        if self.swept_to != other.swept_to {
            return Some(format!("horizon {} vs {}", self.swept_to, other.swept_to));
        }
        for (idx, (a, b)) in self.nodes.iter().zip(&other.nodes).enumerate() {
            if let Some(d) = node_difference(a, b) {
                let r = &tree.get(idx).row;
                return Some(format!("region {} {}: {d}", r.code, r.name));
            }
        }
        if self.cases.len() != other.cases.len() {
            return Some(format!("cases held: {} vs {}", self.cases.len(), other.cases.len()));
        }
        for (n, (a, b)) in self.cases.all.iter().zip(&other.cases.all).enumerate() {
            if self.cases.feeds.name(a.feed) != other.cases.feeds.name(b.feed) || a.id != b.id {
                return Some(format!("case number {n}: {}/{} vs {}/{}", self.cases.feeds.name(a.feed), a.id, other.cases.feeds.name(b.feed), b.id));
            }
            let dept = |e: &Engine, c: &crate::cases::Case| e.cases.departments.name(c.department).to_string();
            if (a.grid, a.category, a.source, a.priority, a.reported_at, a.warn_at, a.deadline) != (b.grid, b.category, b.source, b.priority, b.reported_at, b.warn_at, b.deadline)
                || dept(self, a) != dept(other, b)
            {
                return Some(format!("case {}: facts differ", a.id));
            }
            if a.events != b.events {
                return Some(format!("case {}: events {:?} vs {:?}", a.id, a.events, b.events));
            }
            if self.live[n] != other.live[n] {
                return Some(format!("case {}: state {:?} vs {:?}", a.id, self.live[n], other.live[n]));
            }
        }
        if self.departments_differ(other) {
            return Some("department names differ".into());
        }
        if let Some(d) = self.cells.difference(&other.cells, tree) {
            return Some(d);
        }
        if self.open != other.open {
            let n = self.open.symmetric_difference(&other.open).next().copied().unwrap_or(0);
            return Some(format!("open cases: case {} in one only", self.cases.get(n).id));
        }
        let days: BTreeSet<i64> = self.active.keys().chain(other.active.keys()).copied().collect();
        for d in days {
            let set = |e: &Engine| e.active.get(&d).map(|v| v.iter().copied().collect::<BTreeSet<u32>>()).unwrap_or_default();
            if set(self) != set(other) {
                return Some(format!("cases active on {}", day_name(d)));
            }
        }
        if let Some(i) = (0..self.ticker.len().max(other.ticker.len())).find(|&i| self.ticker.get(i) != other.ticker.get(i)) {
            return Some(format!("ticker item {i}: {:?} vs {:?}", self.ticker.get(i), other.ticker.get(i)));
        }
        if let Some(i) = (0..self.last_patrol.len()).find(|&i| self.last_patrol.get(i) != other.last_patrol.get(i)) {
            let r = &tree.get(i).row;
            let when = |t: Option<&Option<i64>>| t.copied().flatten().map(app::model::date_time);
            return Some(format!("region {} {}: last patrol {:?} vs {:?}", r.code, r.name, when(self.last_patrol.get(i)), when(other.last_patrol.get(i))));
        }
        if self.first_report != other.first_report {
            return Some(format!("first report {:?} vs {:?}", self.first_report, other.first_report));
        }
        self.safety.difference(&other.safety, tree)
    }

    fn departments_differ(&self, other: &Engine) -> bool {
        self.cases.departments.all() != other.cases.departments.all()
    }
}

impl PartialEq for Engine {
    /// Same figures, whatever the order events were counted in.
    fn eq(&self, o: &Self) -> bool {
        self.difference(o).is_none()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("cases", &self.cases.len()).field("open", &self.open.len()).field("version", &self.version()).finish()
    }
}

fn node_difference(a: &Node, b: &Node) -> Option<String> {
    let scalar = |name: &str, x: u32, y: u32| (x != y).then(|| format!("{name} {x} vs {y}"));
    scalar("open", a.open, b.open)
        .or_else(|| scalar("overdue", a.overdue, b.overdue))
        .or_else(|| scalar("due soon", a.due_soon, b.due_soon))
        .or_else(|| scalar("supervised", a.supervised, b.supervised))
        .or_else(|| scalar("escalated", a.escalated, b.escalated))
        .or_else(|| (a.open_by_category != b.open_by_category).then(|| format!("open by category {:?} vs {:?}", a.open_by_category, b.open_by_category)))
}
