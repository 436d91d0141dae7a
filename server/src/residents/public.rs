//! A stored case as anyone may read it: the service, its status and times, the department, the place
//! down to the community or village (never the house), a point inside its grid, and the description
//! with every digit masked. Nothing about the person, no internal note, no oversight step.
use super::FEED;
use crate::city::RegionTree;
use crate::store::StoredCase;
use app::flow::Action;
use app::model::Level;
use app::residents::{PublicRequest, PublicStep};

/// The public id of a case: a resident's tracking number as it is; `{feed}:{case id}` for the others.
pub fn public_id(feed: &str, case_id: &str) -> String {
    if feed == FEED {
        case_id.to_string()
    } else {
        format!("{feed}:{case_id}")
    }
}

/// The (feed, case id) a public id names.
pub fn case_key(public_id: &str) -> (String, String) {
    match public_id.split_once(':') {
        Some((feed, id)) => (feed.to_string(), id.to_string()),
        None => (FEED.to_string(), public_id.to_string()),
    }
}

/// Where a grid is, as the public may read it: district, town and community or village names.
pub fn place(tree: &RegionTree, grid: usize) -> String {
    let mut names: Vec<&str> = tree
        .ancestors(grid)
        .filter(|&i| matches!(tree.get(i).row.level, Level::District | Level::Town | Level::Village))
        .map(|i| tree.get(i).row.name.as_str())
        .collect();
    names.reverse();
    names.join(" ")
}

pub fn request(tree: &RegionTree, c: &StoredCase) -> PublicRequest {
    let grid = tree.find(&c.facts.grid);
    let place = grid.map(|g| place(tree, g)).unwrap_or_default();
    let point = grid.map(|g| geom::label_point(&tree.get(g).row.shape)).unwrap_or([0.0, 0.0]);
    // Status changes only: who supervised or escalated, and what they wrote, stays inside. On a
    // resident's report, the department it went to and the reply it got are written for them.
    let mine = c.feed == FEED;
    let public_note = |e: &app::model::TimelineEntry| e.note.clone().filter(|_| mine && matches!(e.action, Action::Dispatch | Action::Resolve));
    let history = c
        .timeline
        .iter()
        .filter(|e| !matches!(e.action, Action::Supervise | Action::Escalate | Action::Acknowledge))
        .map(|e| PublicStep { status: e.status, at: e.at, note: public_note(e) })
        .fold(Vec::<PublicStep>::new(), |mut v, s| {
            if v.last().map(|l| l.status) != Some(s.status) {
                v.push(s);
            }
            v
        });
    let dispatched_to = c.timeline.iter().rev().find(|e| e.action == Action::Dispatch).and_then(public_note);
    PublicRequest {
        id: public_id(&c.feed, &c.case_id),
        category: c.facts.category,
        status: c.status,
        department: c.facts.details.department.clone().or(dispatched_to),
        requested: c.facts.reported_at,
        updated: c.updated_at,
        expected: c.facts.deadline,
        place,
        point: [round(point[0]), round(point[1])],
        description: crate::masking::free_text(&c.facts.details.summary),
        history,
    }
}

/// Six decimals (about 0.1 m) are more than a grid's label point needs and keep the output stable.
fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
