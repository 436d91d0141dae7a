//! The canonical form of what real feeds deliver, after mapping: a `Record` is one version of one thing
//! in a source system, either a case (its state now) or an observation for an indicator. Identity is
//! `(feed, external id, version)`: the same version again is a duplicate, an older one is superseded.
use crate::calendar::Calendar;
use crate::case::{CaseDetails, CaseEvent, CaseFacts};
use app::flow::{self, Action, Priority};
use app::model::{Category, Source, Status};

#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The source system's id of the case, channel, alarm or figure.
    pub external_id: String,
    /// Grows with every change in the source (an update time in ms, or a version number).
    pub version: i64,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Case(CaseRecord),
    Observation(Observation),
    /// A roster line: a worker's shift in a grid, or their leave.
    Duty(crate::duty::Duty),
}

/// A case as the source system shows it at one version.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRecord {
    pub status: Status,
    /// When the source says the status changed (Unix ms).
    pub at: i64,
    /// Needed when the case is first seen; later versions may leave them out.
    pub category: Option<Category>,
    pub source: Source,
    pub grid: Option<String>,
    pub reported_at: Option<i64>,
    pub priority: Priority,
    pub summary: String,
    pub address: Option<String>,
    pub department: Option<String>,
    /// Who reported it, when the source passes that on (taken with the case, masked on every screen
    /// below the viewer's clearance).
    pub person: Option<app::model::Person>,
    /// Who made this change and what they wrote (the residents' feed: the department a report is
    /// dispatched to, the reply it is resolved with).
    pub note: Option<crate::case::Note>,
}

pub use engine::safety::Observation;

/// One input as a feed received it: a record to map (JSON, or a row read as a JSON object of its
/// columns), or something that could not even be read as one.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Record(serde_json::Value),
    Unreadable { reason: String, raw: String },
}

/// The events that bring a stored case (status, last source sequence number; None if never seen) to what
/// `r` says. A status the source reached through steps it never sent is stored after a gap in the
/// sequence, which the flow reads as "changes missing in between" rather than as a step it must check.
/// A status behind the stored one is a return if the flow allows one, and otherwise refused: an update
/// never moves a case backwards by arriving late (late versions are caught earlier, by version).
pub fn case_events(feed: &str, id: &str, r: &CaseRecord, stored: Option<(Status, u32)>, calendar: &Calendar) -> Result<Vec<CaseEvent>, String> {
    let mut out = Vec::new();
    let (cur, seq) = match stored {
        Some(s) => s,
        None => {
            let category = r.category.ok_or("a case seen for the first time needs its category")?;
            let grid = r.grid.clone().ok_or("a case seen for the first time needs its grid or location")?;
            let reported_at = r.reported_at.unwrap_or(r.at);
            if r.at < reported_at {
                return Err(format!("its status time is before its report time ({} < {reported_at})", r.at));
            }
            let (warn_at, deadline) = crate::rules::due(calendar, category, r.priority, reported_at);
            let details = CaseDetails { summary: r.summary.clone(), department: r.department.clone(), person: r.person.clone(), address: r.address.clone() };
            let facts = CaseFacts { category, source: r.source, grid, reported_at, priority: r.priority, warn_at, deadline, details };
            out.push(CaseEvent { facts: Some(facts), ..CaseEvent::change(feed, id, 0, Action::Report, Status::Reported, reported_at) });
            (Status::Reported, 0)
        }
    };
    if r.status == cur {
        return Ok(out);
    }
    let (action, next) = if r.status.index() > cur.index() {
        let action = Action::into_status(r.status);
        (action, if flow::step(cur, action) == Ok(r.status) { seq + 1 } else { seq + 2 })
    } else if flow::step(cur, Action::Return) == Ok(r.status) {
        (Action::Return, seq + 1)
    } else {
        return Err(format!("status {} cannot follow {}", r.status.as_str(), cur.as_str()));
    };
    out.push(CaseEvent { note: r.note.clone(), ..CaseEvent::change(feed, id, next, action, r.status, r.at) });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: Status, at: i64) -> CaseRecord {
        CaseRecord {
            status,
            at,
            category: Some(Category::Hazard),
            source: Source::Hotline12345,
            grid: Some("g".into()),
            reported_at: Some(1_000),
            priority: Priority::Normal,
            summary: "井盖缺失".into(),
            address: None,
            department: None,
            person: None,
            note: None,
        }
    }

    fn cal() -> Calendar {
        Calendar::new(&Default::default()).unwrap()
    }

    #[test]
    fn a_new_case_is_reported_then_brought_to_its_status() {
        let ev = case_events("f", "1", &rec(Status::Accepted, 2_000), None, &cal()).unwrap();
        assert_eq!(ev.len(), 2);
        assert!(ev[0].facts.is_some() && ev[0].seq == 0 && ev[0].at == 1_000);
        assert_eq!((ev[1].seq, ev[1].action, ev[1].status, ev[1].at), (1, Action::Accept, Status::Accepted, 2_000));
        // First seen already closed: the steps in between were never sent, so they are a gap.
        let ev = case_events("f", "1", &rec(Status::Closed, 2_000), None, &cal()).unwrap();
        assert_eq!((ev[1].seq, ev[1].action), (2, Action::Close));
        assert_eq!(case_events("f", "1", &rec(Status::Reported, 1_000), None, &cal()).unwrap().len(), 1);
    }

    #[test]
    fn known_cases_move_forward_return_or_refuse() {
        let c = cal();
        assert!(case_events("f", "1", &rec(Status::Dispatched, 5), Some((Status::Dispatched, 2)), &c).unwrap().is_empty());
        let ev = case_events("f", "1", &rec(Status::Handling, 5), Some((Status::Dispatched, 2)), &c).unwrap();
        assert_eq!((ev[0].seq, ev[0].status), (3, Status::Handling));
        let ev = case_events("f", "1", &rec(Status::Accepted, 5), Some((Status::Dispatched, 2)), &c).unwrap();
        assert_eq!((ev[0].seq, ev[0].action), (3, Action::Return));
        let e = case_events("f", "1", &rec(Status::Accepted, 5), Some((Status::Closed, 6)), &c).unwrap_err();
        assert!(e.contains("cannot follow"), "{e}");
    }

    #[test]
    fn first_sight_needs_the_facts() {
        let mut r = rec(Status::Accepted, 2_000);
        r.category = None;
        assert!(case_events("f", "1", &r, None, &cal()).unwrap_err().contains("category"));
        let mut r = rec(Status::Accepted, 2_000);
        r.grid = None;
        assert!(case_events("f", "1", &r, None, &cal()).unwrap_err().contains("grid"));
        assert!(case_events("f", "1", &rec(Status::Accepted, 500), None, &cal()).unwrap_err().contains("before its report"));
    }
}
