//! What feeds deliver: case events (事件流转) in one canonical form.
use app::model::{Category, Person, Source, Status};

/// The facts of a case, fixed when it is reported.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseFacts {
    pub category: Category,
    pub source: Source,
    /// Code of the grid the case is in.
    pub grid: String,
    pub reported_at: i64,
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

/// One state change of one case, from one feed. `(feed, case_id, seq)` identifies it: delivering it
/// again changes nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseEvent {
    pub feed: String,
    /// The feed's own id of the case.
    pub case_id: String,
    /// 0 for the report, then one more per change.
    pub seq: u32,
    pub status: Status,
    /// Unix milliseconds.
    pub at: i64,
    /// Present on the report (seq 0); in a replay, present on every event.
    pub facts: Option<CaseFacts>,
}

/// What became of an event offered to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Rejected(String),
}
