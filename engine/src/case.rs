//! What feeds deliver: case events (事件流转) in one canonical form.
use app::flow::{Action, Priority};
use app::model::{Category, Person, Source, Status};

/// The facts of a case, fixed when it is reported.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseFacts {
    pub category: Category,
    pub source: Source,
    /// Code of the grid the case is in.
    pub grid: String,
    pub reported_at: i64,
    pub priority: Priority,
    /// From here it is due soon (Unix ms).
    pub warn_at: i64,
    /// When it must be closed by (Unix ms).
    pub deadline: i64,
    pub details: CaseDetails,
}

/// What the case is about and who is involved; stored with the case, never counted, never public.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseDetails {
    pub summary: String,
    /// The responsible department once dispatched.
    pub department: Option<String>,
    pub person: Option<Person>,
    /// Exact address: sensitive.
    pub address: Option<String>,
}

/// Who wrote an event: the source system (its own sequence numbers) or an official or rule in the
/// cockpit (oversight actions, numbered by the store). Two sequences, so neither can collide with the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    Feed,
    Desk,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Feed => "feed",
            Origin::Desk => "desk",
        }
    }

    pub fn parse(s: &str) -> Option<Origin> {
        [Origin::Feed, Origin::Desk].into_iter().find(|o| o.as_str() == s)
    }
}

/// Who took an oversight action, and why.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Note {
    pub actor: String,
    pub text: String,
}

/// One change of one case. `(feed, case_id, origin, seq)` identifies it: delivering it again changes
/// nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseEvent {
    pub feed: String,
    /// The feed's own id of the case.
    pub case_id: String,
    pub origin: Origin,
    /// Feed events: 0 for the report, then one more per change. Desk events: given by the store.
    pub seq: u32,
    pub action: Action,
    /// The status after the event.
    pub status: Status,
    /// Unix milliseconds.
    pub at: i64,
    /// Present on the report (seq 0); in a replay, present on every event.
    pub facts: Option<CaseFacts>,
    /// Oversight actions carry who took them and their note.
    pub note: Option<Note>,
    /// A mediation attempt's tier and outcome (action `Mediate`).
    pub mediation: Option<app::flow::Mediation>,
}

impl CaseEvent {
    /// A source system's change of a case's status (a forward step, or a return when `action` says so).
    pub fn change(feed: &str, case_id: &str, seq: u32, action: Action, status: Status, at: i64) -> CaseEvent {
        CaseEvent { feed: feed.into(), case_id: case_id.into(), origin: Origin::Feed, seq, action, status, at, facts: None, note: None, mediation: None }
    }

    /// A source system's record of one mediation attempt of a dispute being handled.
    pub fn mediation(feed: &str, case_id: &str, seq: u32, m: app::flow::Mediation, at: i64) -> CaseEvent {
        CaseEvent { mediation: Some(m), ..CaseEvent::change(feed, case_id, seq, Action::Mediate, Status::Handling, at) }
    }

    /// An official's (or rule's) oversight action; the store numbers it.
    pub fn oversight(feed: &str, case_id: &str, action: Action, status: Status, at: i64, note: Note) -> CaseEvent {
        CaseEvent { feed: feed.into(), case_id: case_id.into(), origin: Origin::Desk, seq: 0, action, status, at, facts: None, note: Some(note), mediation: None }
    }
}

/// Who holds a case in `status` after `escalations` escalations; None once closed.
pub fn holder(tree: &crate::tree::RegionTree, facts: &CaseFacts, status: Status, escalations: u32) -> Option<app::flow::Holder> {
    if !status.is_open() {
        return None;
    }
    let level = app::flow::holder_level(facts.category, escalations);
    let grid = tree.find(&facts.grid)?;
    let at = tree.ancestors(grid).find(|&a| tree.get(a).row.level <= level)?;
    let department = if app::flow::department_holds(status) { facts.details.department.clone() } else { None };
    let row = &tree.get(at).row;
    Some(app::flow::Holder { level: row.level, region: row.code.clone(), name: row.name.clone(), department })
}

/// What became of an event offered to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Rejected(String),
}
