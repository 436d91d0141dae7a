//! Grid duty rosters (网格员排班): the grid-management system plans each worker's shifts in their grid and
//! records their leave; the cockpit keeps the lines it is given and answers who is on duty now from
//! memory (`engine::duty`). A line is identified by grid, worker, kind and start: delivering it again
//! changes nothing, a new end replaces the old one, and an end at or before the start cancels it.
use app::duty::DutyKind;
use engine::duty::DutySpan;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duty {
    /// Code of the grid: where the shift is worked, or the worker's own grid for leave.
    pub grid: String,
    pub worker: String,
    pub kind: DutyKind,
    /// Unix milliseconds, start inclusive, end exclusive.
    pub from: i64,
    pub to: i64,
}

impl Duty {
    pub fn line(&self) -> (String, DutySpan) {
        (self.grid.clone(), DutySpan { worker: self.worker.clone(), kind: self.kind, from: self.from, to: self.to })
    }

    /// A line a person could not have meant: reported back to the source instead of stored.
    pub fn check(&self) -> Result<(), String> {
        if self.grid.trim().is_empty() || self.worker.trim().is_empty() {
            return Err("a roster line needs its grid and worker".into());
        }
        // Leave may run for months; a shift longer than a day is a typing error.
        if self.kind == DutyKind::Shift && self.to - self.from > 24 * 3_600_000 {
            return Err(format!("a shift of {} hours is longer than a day", (self.to - self.from) / 3_600_000));
        }
        Ok(())
    }
}

/// How far the roster in memory reaches around now: a day back (a night shift started yesterday) and a
/// month ahead. Read again at every local midnight.
pub const ROSTER_BEHIND_MS: i64 = app::model::DAY_MS;
pub const ROSTER_AHEAD_MS: i64 = 32 * app::model::DAY_MS;
