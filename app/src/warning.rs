//! Early warnings (预警): what a city's rules raise over its indicators, case streams and feeds, the
//! four levels, and the path of a warning from raised to closed. Shared by the server (which raises,
//! routes, escalates and records them) and the wall and tablet (which show them).
use crate::model::{Category, RegionRef};
use serde::{Deserialize, Serialize};

/// The national four-colour scale, least to most severe (蓝 IV, 黄 III, 橙 II, 红 I).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningLevel {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl WarningLevel {
    pub const ALL: [WarningLevel; 4] = [WarningLevel::Blue, WarningLevel::Yellow, WarningLevel::Orange, WarningLevel::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningLevel::Blue => "blue",
            WarningLevel::Yellow => "yellow",
            WarningLevel::Orange => "orange",
            WarningLevel::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<WarningLevel> {
        WarningLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// What a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A measure of a region over a period past a threshold.
    Threshold,
    /// Cases reported in a region rising against the same part of the day a week or a year before.
    Rise,
    /// Cases of one category in one grid within a few hours.
    Cluster,
    /// A feed silent past its cadence.
    FeedSilent,
}

impl WarningKind {
    pub const ALL: [WarningKind; 4] = [WarningKind::Threshold, WarningKind::Rise, WarningKind::Cluster, WarningKind::FeedSilent];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Threshold => "threshold",
            WarningKind::Rise => "rise",
            WarningKind::Cluster => "cluster",
            WarningKind::FeedSilent => "feed_silent",
        }
    }

    pub fn parse(s: &str) -> Option<WarningKind> {
        WarningKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a warning is on its way: raised → acknowledged (by the centre it is routed to) → handled (with
/// what was done) → closed. An unacknowledged warning escalates to the centre above, still raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningState {
    Raised,
    Acknowledged,
    Handled,
    Closed,
}

impl WarningState {
    pub const ALL: [WarningState; 4] = [WarningState::Raised, WarningState::Acknowledged, WarningState::Handled, WarningState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningState::Raised => "raised",
            WarningState::Acknowledged => "acknowledged",
            WarningState::Handled => "handled",
            WarningState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<WarningState> {
        WarningState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What happens to a warning; each is recorded with who and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningOp {
    Raise,
    Acknowledge,
    Handle,
    Close,
    /// Unacknowledged past its time: routed to the centre one level up.
    Escalate,
}

impl WarningOp {
    pub const ALL: [WarningOp; 5] = [WarningOp::Raise, WarningOp::Acknowledge, WarningOp::Handle, WarningOp::Close, WarningOp::Escalate];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningOp::Raise => "raise",
            WarningOp::Acknowledge => "acknowledge",
            WarningOp::Handle => "handle",
            WarningOp::Close => "close",
            WarningOp::Escalate => "escalate",
        }
    }

    pub fn parse(s: &str) -> Option<WarningOp> {
        WarningOp::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The operations a person takes (the rest are the rule's).
    pub const BY_PEOPLE: [WarningOp; 3] = [WarningOp::Acknowledge, WarningOp::Handle, WarningOp::Close];

    /// Whether a person must say something: what was done, or why it is closed.
    pub fn needs_note(self) -> bool {
        matches!(self, WarningOp::Handle | WarningOp::Close)
    }
}

/// The state after `op` on a warning in `state`, or None when the path does not allow it.
pub fn next_state(state: WarningState, op: WarningOp) -> Option<WarningState> {
    use WarningOp as O;
    use WarningState as S;
    match (state, op) {
        (S::Raised, O::Acknowledge) => Some(S::Acknowledged),
        (S::Acknowledged, O::Handle) => Some(S::Handled),
        (S::Handled, O::Close) => Some(S::Closed),
        (S::Raised, O::Escalate) => Some(S::Raised),
        _ => None,
    }
}

/// What was found, for the text beside the warning (each kind fills its own).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WarningFacts {
    /// The measure's value (a count, or a rate in percent), and the rule's limit.
    pub value: f64,
    pub limit: f64,
    /// Threshold and rise: the measure (`reported`, `open`, `overdue`, `closed`, `on_time_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// Rise: the count it rose from, and against what (`week`, `year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<String>,
    /// Cluster: the category and the window in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    /// Feed silent: the feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<String>,
}

/// One recorded step of a warning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WarningEvent {
    pub at: i64,
    pub op: WarningOp,
    pub actor: String,
    #[serde(default)]
    pub note: String,
}

/// A warning as the wall and the tablet read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub id: i64,
    /// The rule's name and its title as the city wrote it.
    pub rule: String,
    pub title: String,
    pub kind: WarningKind,
    pub level: WarningLevel,
    /// Where it was found.
    pub region: RegionRef,
    /// The centre that must acknowledge and act now.
    pub route: RegionRef,
    pub facts: WarningFacts,
    pub state: WarningState,
    pub raised_at: i64,
    /// Escalations so far, and when it escalates again unless acknowledged (None once acknowledged).
    pub escalations: u32,
    pub escalate_at: Option<i64>,
    /// The steps so far (on the tablet; empty on the wall).
    #[serde(default)]
    pub events: Vec<WarningEvent>,
    /// What the viewer may do now (decided by the server).
    #[serde(default)]
    pub ops: Vec<WarningOp>,
}

/// The tablet's list: warnings in the viewer's scope, open first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WarningList {
    pub warnings: Vec<Warning>,
    pub as_of: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_goes_raised_acknowledged_handled_closed_and_nothing_else() {
        let mut reachable = vec![WarningState::Raised];
        let mut i = 0;
        while i < reachable.len() {
            for op in WarningOp::ALL {
                if let Some(s) = next_state(reachable[i], op) {
                    if !reachable.contains(&s) {
                        reachable.push(s);
                    }
                }
            }
            i += 1;
        }
        assert_eq!(reachable, WarningState::ALL.to_vec());
        assert_eq!(next_state(WarningState::Raised, WarningOp::Close), None, "not closed unseen");
        assert_eq!(next_state(WarningState::Acknowledged, WarningOp::Escalate), None, "acknowledged warnings stay");
        for op in WarningOp::ALL {
            assert_eq!(next_state(WarningState::Closed, op), None);
        }
    }

    #[test]
    fn names_read_back() {
        for l in WarningLevel::ALL {
            assert_eq!(WarningLevel::parse(l.as_str()), Some(l));
        }
        for k in WarningKind::ALL {
            assert_eq!(WarningKind::parse(k.as_str()), Some(k));
        }
        for s in WarningState::ALL {
            assert_eq!(WarningState::parse(s.as_str()), Some(s));
        }
        for o in WarningOp::ALL {
            assert_eq!(WarningOp::parse(o.as_str()), Some(o));
        }
        assert!(WarningLevel::Red > WarningLevel::Blue);
    }
}
