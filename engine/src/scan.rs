//! Exact figures from a set of cases, straight from their instants: what small scopes (villages,
//! grids) are answered with, what corrects the cells for the part of a day a past period ends in, and
//! what the tests hold the cells to.
use crate::cases::Case;
use crate::cells::{self, LINKS, MEDIATION, STATUSES};
use crate::instant::{age_bucket, instants, link_index, open_at, overdue_at, Instant, Kind};
use app::model::Status;

/// Flow figures as signed sums (a correction may take away).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fig {
    pub reported: i64,
    pub closed: i64,
    pub due: i64,
    pub on_time: i64,
    pub late_closed: i64,
    pub open_end: i64,
    pub overdue_end: i64,
    pub supervised: i64,
    pub escalated: i64,
    pub returned: i64,
}

impl Fig {
    pub fn add(&mut self, o: &Fig) {
        self.reported += o.reported;
        self.closed += o.closed;
        self.due += o.due;
        self.on_time += o.on_time;
        self.late_closed += o.late_closed;
        self.open_end += o.open_end;
        self.overdue_end += o.overdue_end;
        self.supervised += o.supervised;
        self.escalated += o.escalated;
        self.returned += o.returned;
    }

    pub fn to_figures(self) -> app::model::FlowFigures {
        let u = |x: i64| x.clamp(0, i64::from(u32::MAX)) as u32;
        app::model::FlowFigures {
            reported: u(self.reported),
            closed: u(self.closed),
            due: u(self.due),
            on_time: u(self.on_time),
            late_closed: u(self.late_closed),
            late_open: u(self.due - self.on_time - self.late_closed),
            open_end: u(self.open_end),
            overdue_end: u(self.overdue_end),
            supervised: u(self.supervised),
            escalated: u(self.escalated),
            returned: u(self.returned),
        }
    }
}

/// What to count of each case.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// The period's start: late closes count for deadlines from here.
    pub f: i64,
    /// Instants in `[a, t)` count (a = f for a whole period; the day's midnight for a correction).
    pub a: i64,
    pub t: i64,
    /// The state at `t` counts whole (`None`), or only as its change since `Some(m)`.
    pub since: Option<i64>,
}

/// Sums for one group (a slot, or a child region).
#[derive(Clone, Debug)]
pub struct Acc {
    pub slots: Vec<Fig>,
    pub links: [i64; LINKS],
    pub mediation: [i64; MEDIATION],
    /// Exact stays per status left.
    pub stays: Vec<Vec<i64>>,
    pub backlog: [i64; 5],
}

impl Acc {
    pub fn new(slots: usize) -> Acc {
        Acc { slots: vec![Fig::default(); slots], links: [0; LINKS], mediation: [0; MEDIATION], stays: vec![Vec::new(); STATUSES], backlog: [0; 5] }
    }

    /// Adds what `c` contributes in `w` (figures to the total slot and the case's slots, links, stays,
    /// mediation, the backlog) and returns the case's figures.
    pub fn add(&mut self, c: &Case, w: &Window, buf: &mut Vec<Instant>) -> Fig {
        let slots = cells::slots_of(c);
        if self.slots.len() <= slots[3] {
            self.slots.resize(slots[3] + 1, Fig::default());
        }
        let mut f = Fig::default();
        buf.clear();
        instants(c, w.t, buf);
        for i in buf.iter().filter(|i| i.at >= w.a) {
            match i.kind {
                Kind::Reported => f.reported += 1,
                Kind::Closed => {
                    f.closed += 1;
                    self.stays[Status::Closed.index()].push(i.at - c.reported_at);
                }
                Kind::Due { on_time } => {
                    f.due += 1;
                    f.on_time += i64::from(on_time);
                }
                Kind::LateClose { deadline } => f.late_closed += i64::from(deadline >= w.f),
                Kind::Supervised => f.supervised += 1,
                Kind::Escalated => f.escalated += 1,
                Kind::Returned => f.returned += 1,
                Kind::Link { from, to, stay } => {
                    self.links[link_index(from, to)] += 1;
                    self.stays[from.index()].push(stay);
                }
                Kind::Mediation { tier, settled } => {
                    self.mediation[tier as usize * 2] += 1;
                    self.mediation[tier as usize * 2 + 1] += i64::from(settled);
                }
            }
        }
        let state = |t: i64| (i64::from(open_at(c, t)), i64::from(overdue_at(c, t)));
        let (open, overdue) = state(w.t);
        match w.since {
            None => {
                f.open_end = open;
                f.overdue_end = overdue;
                if open == 1 {
                    self.backlog[age_bucket(c.reported_at, w.t)] += 1;
                }
            }
            Some(m) => {
                let (o, d) = state(m);
                f.open_end = open - o;
                f.overdue_end = overdue - d;
            }
        }
        for s in slots {
            self.slots[s].add(&f);
        }
        f
    }
}
