//! The compact case table: every case ever stored, with its facts and its events, numbered densely.
//! A case is found by a 128-bit hash of (feed, case id); the text is kept once, in the case.
//! Events are kept in the order that defines the case's path: the source system's by their sequence
//! number, then the cockpit's own (oversight) by theirs. The status is the last source event's.
use app::flow::{Action, Mediation, Outcome, Priority, Tier};
use app::model::{Category, Source, Status};
use std::collections::HashMap;

/// One event of a case, packed: time, sequence number and a code holding origin, action, status and
/// mediation (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ev {
    pub at: i64,
    pub seq: u32,
    code: u16,
}

impl Ev {
    pub fn new(at: i64, seq: u32, desk: bool, action: Action, status: Status, mediation: Option<Mediation>) -> Ev {
        let action = Action::ALL.iter().position(|&a| a == action).expect("every action is listed") as u16;
        let med = match mediation {
            None => 0,
            Some(m) => 1 + (Tier::ALL.iter().position(|&t| t == m.tier).expect("every tier is listed") as u16) * 2 + u16::from(m.outcome == Outcome::Settled),
        };
        Ev { at, seq, code: u16::from(desk) | action << 1 | (status.index() as u16) << 5 | med << 8 }
    }

    pub fn desk(&self) -> bool {
        self.code & 1 == 1
    }

    pub fn action(&self) -> Action {
        Action::ALL[usize::from(self.code >> 1 & 0xf)]
    }

    pub fn status(&self) -> Status {
        Status::ALL[usize::from(self.code >> 5 & 0x7)]
    }

    pub fn mediation(&self) -> Option<Mediation> {
        match self.code >> 8 {
            0 => None,
            m => Some(Mediation {
                tier: Tier::ALL[usize::from((m - 1) / 2)],
                outcome: if (m - 1) % 2 == 1 { Outcome::Settled } else { Outcome::Failed },
            }),
        }
    }

    /// Sort key: the source's events by sequence, then the cockpit's.
    fn key(&self) -> (bool, u32) {
        (self.desk(), self.seq)
    }

    pub(crate) fn code(&self) -> u16 {
        self.code
    }

    pub(crate) fn from_parts(at: i64, seq: u32, code: u16) -> Ev {
        Ev { at, seq, code }
    }
}

/// Events kept in the case's row up to this many (most cases have fewer): a scan then reads one place
/// in memory per case, not two.
pub const INLINE_EVENTS: usize = 8;

/// A case's events.
pub type Events = smallvec::SmallVec<[Ev; INLINE_EVENTS]>;

/// One case: facts fixed at its report, and its events.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub feed: u16,
    pub id: Box<str>,
    pub grid: u32,
    pub category: Category,
    pub source: Source,
    pub priority: Priority,
    /// Interned department name (0: none).
    pub department: u16,
    pub reported_at: i64,
    pub warn_at: i64,
    pub deadline: i64,
    /// Source events by sequence number, then the cockpit's.
    pub events: Events,
}

impl Case {
    pub fn feed_events(&self) -> impl Iterator<Item = &Ev> + '_ {
        self.events.iter().take_while(|e| !e.desk())
    }

    pub fn desk_events(&self) -> impl Iterator<Item = &Ev> + '_ {
        self.events.iter().skip_while(|e| !e.desk())
    }

    /// The status the source's latest event left the case in.
    pub fn status(&self) -> Status {
        self.feed_events().last().map_or(Status::Reported, |e| e.status())
    }

    /// When it was closed (the closing event's time), if it is.
    pub fn closed_at(&self) -> Option<i64> {
        self.feed_events().last().filter(|e| e.status() == Status::Closed).map(|e| e.at)
    }

    pub fn escalations(&self) -> u32 {
        self.desk_events().filter(|e| e.action() == Action::Escalate).count() as u32
    }

    pub fn supervised(&self) -> u32 {
        self.desk_events().filter(|e| e.action() == Action::Supervise).count() as u32
    }

    /// Inserts an event in its place; false if one with the same origin and number is there already.
    pub fn insert(&mut self, e: Ev) -> bool {
        match self.events.binary_search_by_key(&e.key(), Ev::key) {
            Ok(_) => false,
            Err(pos) => {
                self.events.insert(pos, e);
                true
            }
        }
    }

    /// From when to when the case can count in a period: from its earliest instant (report, deadline,
    /// any event) to its latest once it is closed; an open case counts (as open) in every period that
    /// ends after its report, so its span has no end. A scan of `[f, t)` skips a case whose span does
    /// not meet it without reading its events.
    pub fn span(&self) -> (i64, i64) {
        let ats = || [self.reported_at, self.deadline].into_iter().chain(self.events.iter().map(|e| e.at));
        let first = ats().min().unwrap_or(self.reported_at);
        let last = if self.closed_at().is_some() { ats().max().unwrap_or(self.reported_at) } else { i64::MAX };
        (first, last)
    }

    /// The highest sequence number of the cockpit's own events.
    pub fn last_desk_seq(&self) -> Option<u32> {
        self.desk_events().last().map(|e| e.seq)
    }
}

/// Names that repeat (feeds, departments), stored once and referred to by number. Number 0 is "none".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Names {
    names: Vec<String>,
    index: HashMap<String, u16>,
}

impl Names {
    pub fn new() -> Names {
        let mut n = Names::default();
        n.names.push(String::new());
        n
    }

    pub fn intern(&mut self, name: &str) -> u16 {
        if name.is_empty() {
            return 0;
        }
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u16::try_from(self.names.len()).expect("fewer than 65,536 names");
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    pub fn find(&self, name: &str) -> Option<u16> {
        if name.is_empty() {
            Some(0)
        } else {
            self.index.get(name).copied()
        }
    }

    pub fn name(&self, i: u16) -> &str {
        &self.names[usize::from(i)]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.len() <= 1
    }

    pub fn all(&self) -> &[String] {
        &self.names
    }
}

/// A case's key: a 128-bit hash of feed and id. For a city-decade (10^7 cases) two keys collide with a
/// probability near 10^-25; a collision would be detected (the case keeps its feed and id) and refused.
pub fn key(feed: &str, id: &str) -> u128 {
    let a = fnv(0xcbf2_9ce4_8422_2325, feed, id);
    let b = fnv(0x6c62_272e_07bb_0142, feed, id);
    u128::from(mix(a)) << 64 | u128::from(mix(b ^ a.rotate_left(17)))
}

fn fnv(seed: u64, feed: &str, id: &str) -> u64 {
    let mut h = seed;
    for b in feed.bytes().chain([0xff]).chain(id.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The table itself.
#[derive(Clone, Debug, Default)]
pub struct Cases {
    pub all: Vec<Case>,
    index: HashMap<u128, u32>,
    pub feeds: Names,
    pub departments: Names,
}

impl Cases {
    pub fn new() -> Cases {
        Cases { all: Vec::new(), index: HashMap::new(), feeds: Names::new(), departments: Names::new() }
    }

    pub fn find(&self, feed: &str, id: &str) -> Option<u32> {
        let n = *self.index.get(&key(feed, id))?;
        let c = &self.all[n as usize];
        (self.feeds.name(c.feed) == feed && &*c.id == id).then_some(n)
    }

    /// Adds a case; None when another case already has its key (a hash collision: refused, logged by the caller).
    pub fn add(&mut self, c: Case) -> Option<u32> {
        let k = key(self.feeds.name(c.feed), &c.id);
        if self.index.contains_key(&k) {
            return None;
        }
        let n = u32::try_from(self.all.len()).expect("fewer than 4 billion cases");
        self.index.insert(k, n);
        self.all.push(c);
        Some(n)
    }

    /// Takes a whole table at once (a snapshot's, into an empty one) without copying its rows: a
    /// city-year's rows are some 200 MB. Err names a case whose key another one has.
    pub fn adopt(&mut self, all: Vec<Case>) -> Result<(), String> {
        assert!(self.all.is_empty(), "a table is adopted into an empty one");
        self.index.reserve(all.len());
        for (n, c) in all.iter().enumerate() {
            let n = u32::try_from(n).expect("fewer than 4 billion cases");
            if self.index.insert(key(self.feeds.name(c.feed), &c.id), n).is_some() {
                self.index.clear();
                return Err(c.id.to_string());
            }
        }
        self.all = all;
        Ok(())
    }

    pub fn get(&self, n: u32) -> &Case {
        &self.all[n as usize]
    }

    pub fn get_mut(&mut self, n: u32) -> &mut Case {
        &mut self.all[n as usize]
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_pack_and_unpack_every_action_status_and_mediation() {
        for action in Action::ALL {
            for status in Status::ALL {
                for desk in [false, true] {
                    let mut meds = vec![None];
                    for tier in Tier::ALL {
                        for outcome in [Outcome::Settled, Outcome::Failed] {
                            meds.push(Some(Mediation { tier, outcome }));
                        }
                    }
                    for m in meds {
                        let e = Ev::new(-5, 7, desk, action, status, m);
                        assert_eq!((e.at, e.seq, e.desk(), e.action(), e.status(), e.mediation()), (-5, 7, desk, action, status, m));
                    }
                }
            }
        }
        assert_eq!(std::mem::size_of::<Ev>(), 16);
        assert!(std::mem::size_of::<Case>() <= 192, "a case row is three cache lines at most: {}", std::mem::size_of::<Case>());
    }

    #[test]
    fn events_keep_the_source_order_then_the_cockpits() {
        let mut c = Case {
            feed: 1,
            id: "x".into(),
            grid: 0,
            category: Category::Hazard,
            source: Source::Police,
            priority: Priority::Normal,
            department: 0,
            reported_at: 0,
            warn_at: 8,
            deadline: 10,
            events: Events::new(),
        };
        assert!(c.insert(Ev::new(0, 0, false, Action::Report, Status::Reported, None)));
        assert!(c.insert(Ev::new(9, 1, true, Action::Supervise, Status::Reported, None)));
        assert!(c.insert(Ev::new(5, 2, false, Action::Dispatch, Status::Dispatched, None)));
        assert!(c.insert(Ev::new(3, 1, false, Action::Accept, Status::Accepted, None)));
        assert!(!c.insert(Ev::new(3, 1, false, Action::Accept, Status::Accepted, None)), "the same event twice");
        let seqs: Vec<(bool, u32)> = c.events.iter().map(|e| (e.desk(), e.seq)).collect();
        assert_eq!(seqs, [(false, 0), (false, 1), (false, 2), (true, 1)]);
        assert_eq!(c.status(), Status::Dispatched);
        assert_eq!((c.supervised(), c.escalations(), c.closed_at()), (1, 0, None));
    }

    #[test]
    fn keys_tell_feeds_and_ids_apart() {
        assert_ne!(key("a", "bc"), key("ab", "c"));
        let mut t = Cases::new();
        let f = t.feeds.intern("demo");
        let c = |id: &str| Case {
            feed: f,
            id: id.into(),
            grid: 0,
            category: Category::Hazard,
            source: Source::Police,
            priority: Priority::Normal,
            department: 0,
            reported_at: 0,
            warn_at: 0,
            deadline: 1,
            events: Events::new(),
        };
        assert_eq!(t.add(c("1")), Some(0));
        assert_eq!(t.add(c("1")), None);
        assert_eq!(t.add(c("2")), Some(1));
        assert_eq!(t.find("demo", "2"), Some(1));
        assert_eq!(t.find("other", "2"), None);
        // A snapshot's table is taken whole, and refused whole when a key repeats.
        let mut u = Cases::new();
        u.feeds.intern("demo");
        assert_eq!(u.adopt(vec![c("1"), c("2"), c("1")]), Err("1".to_string()));
        assert_eq!((u.len(), u.find("demo", "2")), (0, None));
        u.adopt(vec![c("1"), c("2")]).unwrap();
        assert_eq!((u.len(), u.find("demo", "1"), u.find("demo", "2")), (2, Some(0), Some(1)));
    }

    #[test]
    fn a_case_with_more_events_than_its_row_holds_keeps_them_in_order() {
        let mut c = Case { feed: 1, id: "x".into(), grid: 0, category: Category::Hazard, source: Source::Police, priority: Priority::Normal, department: 0, reported_at: 0, warn_at: 8, deadline: 10, events: Events::new() };
        let n = 3 * INLINE_EVENTS as u32;
        // Inserted from the last: every one goes in front, across the move out of the row.
        for seq in (0..n).rev() {
            assert!(c.insert(Ev::new(i64::from(seq), seq, seq % 5 == 4, Action::Return, Status::Accepted, None)));
        }
        let got: Vec<(bool, u32)> = c.events.iter().map(|e| (e.desk(), e.seq)).collect();
        let mut want: Vec<(bool, u32)> = (0..n).map(|s| (s % 5 == 4, s)).collect();
        want.sort();
        assert_eq!(got, want);
        assert!(c.events.spilled());
    }
}
