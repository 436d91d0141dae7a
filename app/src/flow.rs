//! The case lifecycle as a state machine (事件流转), shared by the server (which enforces it) and the
//! tablet (which offers only the actions it allows).
//!
//! Statuses move forward one step at a time: 上报 → 受理 → 分拨 → 处置 → 办结 → 核查 → 结案. Besides the
//! forward steps a case can be returned (退回: a department sends it back to the dispatching centre, or a
//! failed check sends it back to handling), escalated (升级: its holder moves one administrative level
//! up) and supervised (督办: a superior presses for it, with a note). An official can also acknowledge the
//! alert of a case that is due soon or overdue. Those three leave the status as it is.
use crate::model::{Category, Level, Status};
use serde::{Deserialize, Serialize};

/// What an event does to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    Report,
    Accept,
    Dispatch,
    Start,
    Resolve,
    Verify,
    Close,
    Return,
    Escalate,
    Supervise,
    Acknowledge,
    /// One attempt of dispute mediation (see `Mediation`); the case stays in handling.
    Mediate,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Report,
        Action::Accept,
        Action::Dispatch,
        Action::Start,
        Action::Resolve,
        Action::Verify,
        Action::Close,
        Action::Return,
        Action::Escalate,
        Action::Supervise,
        Action::Acknowledge,
        Action::Mediate,
    ];

    /// The oversight actions an official takes from the cockpit; they never change the status.
    pub const OVERSIGHT: [Action; 3] = [Action::Supervise, Action::Escalate, Action::Acknowledge];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Report => "report",
            Action::Accept => "accept",
            Action::Dispatch => "dispatch",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::Verify => "verify",
            Action::Close => "close",
            Action::Return => "return",
            Action::Escalate => "escalate",
            Action::Supervise => "supervise",
            Action::Acknowledge => "acknowledge",
            Action::Mediate => "mediate",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn is_oversight(self) -> bool {
        Action::OVERSIGHT.contains(&self)
    }

    /// The forward step that leads into `to`.
    pub fn into_status(to: Status) -> Action {
        match to {
            Status::Reported => Action::Report,
            Status::Accepted => Action::Accept,
            Status::Dispatched => Action::Dispatch,
            Status::Handling => Action::Start,
            Status::Resolved => Action::Resolve,
            Status::Verified => Action::Verify,
            Status::Closed => Action::Close,
        }
    }
}

/// Why a transition is refused, in words an operator can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowError {
    /// The case is closed: nothing more can happen to it.
    Closed,
    /// A report can only open a case.
    AlreadyReported,
    /// This action is not allowed from this status.
    NotFrom(Status, Action),
    /// The holder is already the city: there is no level above.
    AtTop,
    /// Mediation attempts must climb the tiers (see `mediation_next`).
    MediationOrder(Option<Mediation>, Tier),
    /// Only disputes in handling are mediated.
    NotMediable,
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlowError::Closed => f.write_str("the case is closed"),
            FlowError::AlreadyReported => f.write_str("the case is already reported"),
            FlowError::NotFrom(s, a) => write!(f, "cannot {} a case that is {}", a.as_str(), s.as_str()),
            FlowError::AtTop => f.write_str("the case is already held at city level"),
            FlowError::MediationOrder(None, t) => write!(f, "mediation cannot start with {}", t.as_str()),
            FlowError::MediationOrder(Some(m), t) => {
                write!(f, "{} cannot follow {} {} at {}", t.as_str(), "mediation", m.outcome.as_str(), m.tier.as_str())
            }
            FlowError::NotMediable => f.write_str("only a dispute being handled is mediated"),
        }
    }
}

impl std::error::Error for FlowError {}

/// The status after `action` on a case in `from`, or why it is refused. Escalation also needs the holder
/// level (see [`escalated`]).
pub fn step(from: Status, action: Action) -> Result<Status, FlowError> {
    use Status::*;
    if from == Closed {
        return Err(FlowError::Closed);
    }
    let to = match (from, action) {
        (_, Action::Report) => return Err(FlowError::AlreadyReported),
        (_, Action::Supervise | Action::Escalate | Action::Acknowledge) => from,
        (Handling, Action::Mediate) => Handling,
        // A department refuses what is not its business: back to the centre that dispatched it.
        (Dispatched | Handling, Action::Return) => Accepted,
        // A failed check (核查不通过) sends the case back to be handled again.
        (Resolved | Verified, Action::Return) => Handling,
        (f, a) if f.next().is_some_and(|n| Action::into_status(n) == a) => f.next().expect("checked"),
        (f, a) => return Err(FlowError::NotFrom(f, a)),
    };
    Ok(to)
}

/// Whether an event's action can lead to its status at all (checked even when the status before it is
/// unknown, e.g. after a gap in a feed's sequence).
pub fn consistent(action: Action, to: Status) -> bool {
    match action {
        Action::Return => matches!(to, Status::Accepted | Status::Handling),
        Action::Mediate => to == Status::Handling,
        a if a.is_oversight() => to.is_open(),
        a => Action::into_status(to) == a,
    }
}

/// The centre that first holds a case (四级综治中心): the village's (community's) for what it may settle
/// itself, neighbours' disputes and livelihood requests (小事不出村); the town's (street's) for hazards,
/// public order and the environment, which need the town's departments.
pub fn first_holder(category: Category) -> Level {
    match category {
        Category::Dispute | Category::Livelihood => Level::Village,
        Category::Hazard | Category::PublicOrder | Category::Environment => Level::Town,
    }
}

/// The level holding a case of `category` after `escalations` escalations: each one a level up from its
/// first centre (village → town → county → city), never above the city.
pub fn holder_level(category: Category, escalations: u32) -> Level {
    let mut level = first_holder(category);
    for _ in 0..escalations {
        match escalated(level) {
            Ok(up) => level = up,
            Err(_) => break,
        }
    }
    level
}

/// The actions allowed on a case in `status` held at `level`.
pub fn allowed(status: Status, level: Level) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|&a| step(status, a).is_ok() && (a != Action::Escalate || escalated(level).is_ok()))
        .collect()
}

/// The level a case goes to when escalated from `level`: one up, never above the city.
pub fn escalated(level: Level) -> Result<Level, FlowError> {
    match level {
        Level::City => Err(FlowError::AtTop),
        Level::District => Ok(Level::City),
        Level::Town => Ok(Level::District),
        // Grids have no centre: they report to their village's.
        Level::Village | Level::Grid => Ok(Level::Town),
    }
}

/// Who holds a case: the governance centre (综治中心) of a level, or a department at that level once
/// dispatched to it. The level starts at the village or the town (`first_holder`) and rises with each
/// escalation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub level: Level,
    /// The region at that level the case lies in: code and name.
    pub region: String,
    pub name: String,
    pub department: Option<String>,
}

/// Whether the department (rather than the centre) holds a case in this status.
pub fn department_holds(status: Status) -> bool {
    matches!(status, Status::Dispatched | Status::Handling | Status::Resolved)
}

/// The tiers of dispute mediation (矛盾纠纷多元化解): the parties' own reconciliation (和解), people's
/// mediation at village, town and county (三级调解), then judicial confirmation (司法确认) of a mediated
/// agreement, or litigation (诉讼).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    Reconciliation,
    Village,
    Town,
    County,
    Judicial,
    Litigation,
}

impl Tier {
    pub const ALL: [Tier; 6] = [Tier::Reconciliation, Tier::Village, Tier::Town, Tier::County, Tier::Judicial, Tier::Litigation];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Reconciliation => "reconciliation",
            Tier::Village => "village",
            Tier::Town => "town",
            Tier::County => "county",
            Tier::Judicial => "judicial",
            Tier::Litigation => "litigation",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// People's mediation (人民调解) at village, town or county: its agreements can be confirmed by a court.
    pub fn is_peoples(self) -> bool {
        matches!(self, Tier::Village | Tier::Town | Tier::County)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Outcome {
    Settled,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Settled => "settled",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Settled, Outcome::Failed].into_iter().find(|o| o.as_str() == s)
    }
}

/// One mediation attempt and how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mediation {
    pub tier: Tier,
    pub outcome: Outcome,
}

/// Whether an attempt at `tier` may follow the case's previous attempt `last`: a failed attempt goes up
/// to a higher people's mediation tier or to court; a people's mediation agreement may go to judicial
/// confirmation; a refused confirmation may go to court; anything else is the end of the road.
pub fn mediation_next(last: Option<Mediation>, tier: Tier) -> Result<(), FlowError> {
    use Outcome::*;
    let ok = match last {
        None => tier != Tier::Judicial,
        Some(Mediation { tier: t, outcome: Failed }) if t <= Tier::County => tier == Tier::Litigation || (tier > t && tier.is_peoples()),
        Some(Mediation { tier: t, outcome: Settled }) if t.is_peoples() => tier == Tier::Judicial,
        Some(Mediation { tier: Tier::Judicial, outcome: Failed }) => tier == Tier::Litigation,
        Some(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(FlowError::MediationOrder(last, tier))
    }
}

/// How urgent a case is; with the category it sets the time limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    Urgent,
    High,
    Normal,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Urgent, Priority::High, Priority::Normal];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Where an open case stands against its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Timeliness {
    OnTime,
    /// Less than a fifth of its working time is left.
    DueSoon,
    Overdue,
}

impl Timeliness {
    pub fn at(now: i64, warn_at: i64, deadline: i64) -> Timeliness {
        if now >= deadline {
            Timeliness::Overdue
        } else if now >= warn_at {
            Timeliness::DueSoon
        } else {
            Timeliness::OnTime
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// Every (status, action) pair: exactly these are allowed, to exactly these statuses.
    #[test]
    fn every_transition_allowed_or_refused() {
        let allowed: &[(Status, Action, Status)] = &[
            (Reported, Action::Accept, Accepted),
            (Accepted, Action::Dispatch, Dispatched),
            (Dispatched, Action::Start, Handling),
            (Handling, Action::Resolve, Resolved),
            (Resolved, Action::Verify, Verified),
            (Verified, Action::Close, Closed),
            (Dispatched, Action::Return, Accepted),
            (Handling, Action::Return, Accepted),
            (Resolved, Action::Return, Handling),
            (Verified, Action::Return, Handling),
        ];
        let mut checked = 0;
        for from in Status::ALL {
            for a in Action::ALL {
                let got = step(from, a);
                let want = allowed.iter().find(|(f, x, _)| *f == from && *x == a).map(|t| t.2);
                match (from, a, want) {
                    (Closed, _, _) => assert_eq!(got, Err(FlowError::Closed), "{from:?} {a:?}"),
                    (_, Action::Report, _) => assert_eq!(got, Err(FlowError::AlreadyReported)),
                    (_, a, _) if a.is_oversight() => assert_eq!(got, Ok(from), "oversight keeps the status"),
                    (Handling, Action::Mediate, _) => assert_eq!(got, Ok(Handling)),
                    (_, _, Some(to)) => assert_eq!(got, Ok(to), "{from:?} {a:?}"),
                    (_, _, None) => assert_eq!(got, Err(FlowError::NotFrom(from, a)), "{from:?} {a:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 7 * 12);
        assert_eq!(step(Reported, Action::Return).unwrap_err().to_string(), "cannot return a case that is reported");
        assert_eq!(step(Accepted, Action::Close).unwrap_err().to_string(), "cannot close a case that is accepted");
    }

    /// Every (previous attempt, next tier) pair, allowed exactly as the ladder says.
    #[test]
    fn mediation_climbs_the_tiers() {
        use Outcome::*;
        use Tier::*;
        let m = |tier, outcome| Some(Mediation { tier, outcome });
        let allowed: &[(Option<Mediation>, &[Tier])] = &[
            (None, &[Reconciliation, Village, Town, County, Litigation]),
            (m(Reconciliation, Failed), &[Village, Town, County, Litigation]),
            (m(Village, Failed), &[Town, County, Litigation]),
            (m(Town, Failed), &[County, Litigation]),
            (m(County, Failed), &[Litigation]),
            (m(Reconciliation, Settled), &[]),
            (m(Village, Settled), &[Judicial]),
            (m(Town, Settled), &[Judicial]),
            (m(County, Settled), &[Judicial]),
            (m(Judicial, Settled), &[]),
            (m(Judicial, Failed), &[Litigation]),
            (m(Litigation, Settled), &[]),
            (m(Litigation, Failed), &[]),
        ];
        for (last, ok) in allowed {
            for t in Tier::ALL {
                assert_eq!(mediation_next(*last, t).is_ok(), ok.contains(&t), "{last:?} then {t:?}");
            }
        }
        assert_eq!(
            mediation_next(m(Village, Settled), County).unwrap_err().to_string(),
            "county cannot follow mediation settled at village"
        );
        assert_eq!(mediation_next(None, Judicial).unwrap_err().to_string(), "mediation cannot start with judicial");
        assert_eq!(step(Dispatched, Action::Mediate), Err(FlowError::NotFrom(Dispatched, Action::Mediate)));
    }

    #[test]
    fn escalation_climbs_to_the_city_and_stops() {
        assert_eq!(escalated(Level::Town), Ok(Level::District));
        assert_eq!(escalated(Level::District), Ok(Level::City));
        assert_eq!(escalated(Level::City), Err(FlowError::AtTop));
        assert!(allowed(Handling, Level::Town).contains(&Action::Escalate));
        assert!(!allowed(Handling, Level::City).contains(&Action::Escalate));
        assert_eq!(allowed(Closed, Level::Town), Vec::<Action>::new());
        assert_eq!(
            allowed(Dispatched, Level::District),
            vec![Action::Start, Action::Return, Action::Escalate, Action::Supervise, Action::Acknowledge]
        );
    }

    #[test]
    fn consistency_without_history() {
        for to in Status::ALL {
            assert!(consistent(Action::into_status(to), to));
            assert_eq!(consistent(Action::Supervise, to), to != Closed);
        }
        assert!(consistent(Action::Return, Accepted) && consistent(Action::Return, Handling));
        assert!(!consistent(Action::Return, Closed) && !consistent(Action::Close, Handling));
        let walk = |c| [0, 1, 2, 3, 7].map(|n| holder_level(c, n));
        assert_eq!(walk(Category::Dispute), [Level::Village, Level::Town, Level::District, Level::City, Level::City], "a village settles its own first");
        assert_eq!(walk(Category::Livelihood)[0], Level::Village);
        assert_eq!(walk(Category::Hazard), [Level::Town, Level::District, Level::City, Level::City, Level::City]);
        assert_eq!(escalated(Level::City), Err(FlowError::AtTop));
    }

    #[test]
    fn timeliness_boundaries() {
        assert_eq!(Timeliness::at(9, 10, 20), Timeliness::OnTime);
        assert_eq!(Timeliness::at(10, 10, 20), Timeliness::DueSoon);
        assert_eq!(Timeliness::at(19, 10, 20), Timeliness::DueSoon);
        assert_eq!(Timeliness::at(20, 10, 20), Timeliness::Overdue);
    }

    #[test]
    fn names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        assert_eq!(Action::parse("shout"), None);
    }
}
