//! What a case contributes to the figures, and when: the one definition that the per-day counters
//! (`cells`) and the exact scans (`scan`) both read, so that the two can never disagree.
//!
//! For a period `[f, t)` seen at `t`, a case counts as
//! - reported / closed: its report / its close lies in the period;
//! - due: its deadline `D` lies in the period; then on time (closed at or before `D`), late and closed
//!   (closed after `D`, before `t`) or late and open (not closed before `t`: late as well);
//! - supervised, escalated, returned: each such event in the period;
//! - a transition (Sankey link) when it leaves a status in the period, with its stay in that status;
//! - a mediation attempt in the period, by tier, settled or not;
//! - at `t`: open when reported before `t` and not closed before `t`, overdue when also `D < t`, and in
//!   a backlog bucket by when it was reported (`[t-1d, t)`, `[t-3d, t-1d)`, … , before `t-14d`).
//!
//! A status change is read from the source's events in their sequence order (a late delivery takes its
//! place in the path, whenever it arrives); the cockpit's oversight events never change the status.
use crate::cases::Case;
use app::flow::{Action, Outcome, Tier};
use app::model::{Status, BACKLOG_AGE_DAYS, DAY_MS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Reported,
    Closed,
    /// The deadline passes; `on_time` when the case was closed by then.
    Due { on_time: bool },
    /// Closed after its deadline `deadline` (the instant is the close).
    LateClose { deadline: i64 },
    Supervised,
    Escalated,
    Returned,
    /// Left `from` for `to` after `stay` ms in `from`.
    Link { from: Status, to: Status, stay: i64 },
    Mediation { tier: Tier, settled: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    pub at: i64,
    pub kind: Kind,
}

/// Every instant of `c` before `horizon`, in no particular order, appended to `out`.
pub fn instants(c: &Case, horizon: i64, out: &mut Vec<Instant>) {
    let mut push = |at: i64, kind: Kind| {
        if at < horizon {
            out.push(Instant { at, kind });
        }
    };
    push(c.reported_at, Kind::Reported);
    let closed = c.closed_at();
    if let Some(at) = closed {
        push(at, Kind::Closed);
        if at > c.deadline {
            push(at, Kind::LateClose { deadline: c.deadline });
        }
    }
    push(c.deadline, Kind::Due { on_time: closed.is_some_and(|at| at <= c.deadline) });
    // Status changes, in the source's order.
    let mut prev: Option<(Status, i64)> = None;
    for e in c.feed_events() {
        let s = e.status();
        match prev {
            Some((from, since)) if from != s => {
                push(e.at, Kind::Link { from, to: s, stay: (e.at - since).max(0) });
                prev = Some((s, e.at));
            }
            Some(_) => {}
            None => prev = Some((s, e.at)),
        }
        match e.action() {
            Action::Return => push(e.at, Kind::Returned),
            Action::Mediate => {
                if let Some(m) = e.mediation() {
                    push(e.at, Kind::Mediation { tier: m.tier, settled: m.outcome == Outcome::Settled });
                }
            }
            _ => {}
        }
    }
    for e in c.desk_events() {
        match (e.action(), e.mediation()) {
            (Action::Supervise, _) => push(e.at, Kind::Supervised),
            (Action::Escalate, _) => push(e.at, Kind::Escalated),
            // A court's referral is mediated by the centre, which records each attempt from the desk.
            (Action::Mediate, Some(m)) => push(e.at, Kind::Mediation { tier: m.tier, settled: m.outcome == Outcome::Settled }),
            _ => {}
        }
    }
}

/// Open at `t`: reported before it and not closed before it.
pub fn open_at(c: &Case, t: i64) -> bool {
    c.reported_at < t && !c.closed_at().is_some_and(|at| at < t)
}

/// Open at `t` and past its deadline.
pub fn overdue_at(c: &Case, t: i64) -> bool {
    open_at(c, t) && c.deadline < t
}

/// The backlog bucket of a case open at `t`: 0 when reported in `[t-1d, t)`, then `[t-3d, t-1d)`,
/// `[t-7d, t-3d)`, `[t-14d, t-7d)`, and 4 before `t-14d`.
pub fn age_bucket(reported_at: i64, t: i64) -> usize {
    BACKLOG_AGE_DAYS.iter().take_while(|&&d| reported_at < t - d * DAY_MS).count()
}

/// The index of a Sankey link in a 7×7 table.
pub fn link_index(from: Status, to: Status) -> usize {
    from.index() * 7 + to.index()
}

/// The index of a mediation counter: attempts and settled per tier.
pub fn mediation_index(tier: Tier, settled: bool) -> usize {
    tier as usize * 2 + usize::from(settled)
}
