//! Grid patrols (网格巡查): a grid worker walking their grid. Each visit is one record; the cockpit keeps
//! the last visit per grid to show which grids have gone unpatrolled.

/// One visit. `(grid, at)` identifies it: delivering it again changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patrol {
    /// Code of the grid walked.
    pub grid: String,
    /// Unix milliseconds.
    pub at: i64,
    /// Who walked it (a neighbouring grid's worker covers a vacant grid).
    pub worker: Option<String>,
}
