//! Where two aggregates differ, in words a person can check: the first differing region, field and
//! both values. The recount tests print it instead of a bare `==`.
use super::{Aggregates, Node};
use std::collections::BTreeMap;
use std::fmt::Debug;

impl Aggregates {
    /// None when `self` and `other` hold the same figures; else the first difference found, with
    /// `self`'s value first ("live") and `other`'s second ("recount").
    pub fn difference(&self, other: &Aggregates) -> Option<String> {
        let tree = &*self.tree;
        for (idx, (a, b)) in self.nodes.iter().zip(&other.nodes).enumerate() {
            if let Some(d) = node_difference(a, b) {
                let r = &tree.get(idx).row;
                return Some(format!("region {} {}: {d}", r.code, r.name));
            }
        }
        if self.nodes.len() != other.nodes.len() {
            return Some(format!("region count: {} vs {}", self.nodes.len(), other.nodes.len()));
        }
        if let Some(d) = map_difference("open case", &sorted(&self.open), &sorted(&other.open)) {
            return Some(d);
        }
        if self.deadlines != other.deadlines {
            return Some(set_difference("pending deadline", &self.deadlines, &other.deadlines));
        }
        if self.warnings != other.warnings {
            return Some(set_difference("pending due-soon warning", &self.warnings, &other.warnings));
        }
        if let Some(i) = (0..self.ticker.len().max(other.ticker.len())).find(|&i| self.ticker.get(i) != other.ticker.get(i)) {
            return Some(format!("ticker item {i}: {:?} vs {:?}", self.ticker.get(i), other.ticker.get(i)));
        }
        if let Some(i) = (0..self.last_patrol.len()).find(|&i| self.last_patrol.get(i) != other.last_patrol.get(i)) {
            let r = &tree.get(i).row;
            let when = |t: Option<&Option<i64>>| t.copied().flatten().map(app::model::date_time);
            return Some(format!("region {} {}: last patrol {:?} vs {:?}", r.code, r.name, when(self.last_patrol.get(i)), when(other.last_patrol.get(i))));
        }
        self.safety.difference(&other.safety, tree)
    }
}

fn sorted<K: Ord + Clone, V: Clone>(m: &std::collections::HashMap<K, V>) -> BTreeMap<K, V> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn node_difference(a: &Node, b: &Node) -> Option<String> {
    let scalar = |name: &str, x: u32, y: u32| (x != y).then(|| format!("{name} {x} vs {y}"));
    scalar("open", a.open, b.open)
        .or_else(|| scalar("overdue", a.overdue, b.overdue))
        .or_else(|| scalar("due soon", a.due_soon, b.due_soon))
        .or_else(|| scalar("supervised", a.supervised, b.supervised))
        .or_else(|| scalar("escalated", a.escalated, b.escalated))
        .or_else(|| (a.open_by_category != b.open_by_category).then(|| format!("open by category {:?} vs {:?}", a.open_by_category, b.open_by_category)))
        .or_else(|| {
            let k = a.days.keys().chain(b.days.keys()).find(|k| a.days.get(k) != b.days.get(k))?;
            Some(format!("day {}: {:?} vs {:?}", day_name(*k), a.days.get(k), b.days.get(k)))
        })
        .or_else(|| {
            let k = a.flow.keys().chain(b.flow.keys()).find(|k| a.flow.get(k) != b.flow.get(k))?;
            Some(format!("transitions {:?} → {:?} on {}: {:?} vs {:?}", k.1, k.2, day_name(k.0), a.flow.get(k), b.flow.get(k)))
        })
}

/// A local day number as its date, YYYY-MM-DD (Asia/Shanghai).
pub fn day_name(day: i64) -> String {
    app::model::date_time(day * app::model::DAY_MS - app::model::CST_OFFSET_MS)[..10].to_string()
}

fn map_difference<K: Ord + Debug, V: PartialEq + Debug>(what: &str, a: &BTreeMap<K, V>, b: &BTreeMap<K, V>) -> Option<String> {
    let k = a.keys().chain(b.keys()).find(|k| a.get(k) != b.get(k))?;
    Some(format!("{what} {k:?}: {:?} vs {:?}", a.get(k), b.get(k)))
}

fn set_difference<T: Ord + Debug>(what: &str, a: &std::collections::BTreeSet<T>, b: &std::collections::BTreeSet<T>) -> String {
    match a.symmetric_difference(b).next() {
        Some(x) => format!("{what} {x:?} in {} only", if a.contains(x) { "the first" } else { "the second" }),
        None => format!("{what}s differ"),
    }
}
