//! Grid duty (网格值班): the grid workers' rosters as the grid-management system plans them (shifts and
//! leave), and who is on duty in each grid at a moment. Shared by the server (which keeps the roster and
//! answers from memory) and the tablet and wall (which show it).
use crate::model::RegionRef;
use serde::{Deserialize, Serialize};

/// One line of a roster: a worker's shift (排班) in a grid, or their leave (请假).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DutyKind {
    Shift,
    Leave,
}

impl DutyKind {
    pub const ALL: [DutyKind; 2] = [DutyKind::Shift, DutyKind::Leave];

    pub fn as_str(self) -> &'static str {
        match self {
            DutyKind::Shift => "shift",
            DutyKind::Leave => "leave",
        }
    }

    pub fn parse(s: &str) -> Option<DutyKind> {
        DutyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A grid at one moment. A shift of a worker who is on leave does not count; someone else's shift in
/// a grid (代班) does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyStatus {
    /// Someone is on shift in the grid now (在岗).
    OnDuty,
    /// Its worker is on leave and nobody covers (请假).
    OnLeave,
    /// Its worker is between shifts (night, lunch, a day off) (不在班).
    OffDuty,
    /// No worker in post and nobody on shift (空缺).
    Vacant,
}

impl DutyStatus {
    pub const ALL: [DutyStatus; 4] = [DutyStatus::OnDuty, DutyStatus::OnLeave, DutyStatus::OffDuty, DutyStatus::Vacant];

    pub fn as_str(self) -> &'static str {
        match self {
            DutyStatus::OnDuty => "on_duty",
            DutyStatus::OnLeave => "on_leave",
            DutyStatus::OffDuty => "off_duty",
            DutyStatus::Vacant => "vacant",
        }
    }
}

/// Grids under a region by their status now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyCount {
    pub grids: u32,
    pub on_duty: u32,
    pub on_leave: u32,
    pub off_duty: u32,
    pub vacant: u32,
}

impl DutyCount {
    pub fn add(&mut self, s: DutyStatus) {
        self.grids += 1;
        match s {
            DutyStatus::OnDuty => self.on_duty += 1,
            DutyStatus::OnLeave => self.on_leave += 1,
            DutyStatus::OffDuty => self.off_duty += 1,
            DutyStatus::Vacant => self.vacant += 1,
        }
    }
}

/// One grid now: its status, who (on shift, on leave, or its worker off duty) and until when the status
/// holds as the roster stands (the shift's end, the leave's end, the next shift's start; None: not planned).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridDuty {
    pub code: String,
    pub name: String,
    /// The grid's village or community.
    pub place: String,
    pub status: DutyStatus,
    pub worker: Option<String>,
    pub until: Option<i64>,
}

/// Who is on duty under a region now: the count, per child region, and grid by grid (at most
/// `DUTY_LISTED`, by code).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DutyView {
    pub count: DutyCount,
    pub by_child: Vec<(RegionRef, DutyCount)>,
    pub grids: Vec<GridDuty>,
    pub as_of: i64,
}

/// Grids listed one by one, at most (a community has a handful; a town a few dozen).
pub const DUTY_LISTED: usize = 120;
