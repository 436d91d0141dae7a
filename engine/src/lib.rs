//! # Layout
//! The indicator engine: every figure a dashboard shows (wall, flow analytics, desk, coverage, safety,
//! public statistics), for any region and any period, kept in memory from the stored events, patrols
//! and observations, and answered without the store. It has no server parts: the server feeds it what
//! the store took, the tests and the benchmark drive it directly.
//! - `tree`: the region tree (city → district → town → village/community → grid), pre-order numbered
//! - `case`: the case event model that feeds, the store and the engine speak
//! - `cases`: the compact case table: facts, events in path order, dense numbers
//! - `instant`: what one case contributes to the figures and when: the one definition of every figure
//! - `cells`: per-day counters (and 32-day blocks) of the rollup regions: city, districts, towns
//! - `sketch`: mergeable quantile sketches for stage durations (within 1 %)
//! - `scan`: exact figures from a set of cases (villages, grids, the part of a day a period ends in)
//! - `engine`: takes events in store order, moves the horizon (`sweep`), keeps the live counters
//! - `report`: flow reports for any region and period, with 环比 and 同比
//! - `wall`, `coverage`, `safety`: the wall snapshot and public rows, grid coverage, safety indicators
//! - `duty`: the grid workers' rosters and who is on duty in each grid at a moment
//! - `disclosure`: small-cell suppression for every public output
//! - `portal`: the city's public record for a period (districts and towns, mediation, the year's trend)
//! - `persist`: the snapshot file (versioned, checksummed) a restart loads before the store's tail
//! - `diff`: where two engines differ, for the recount tests
pub mod case;
pub mod cases;
pub mod cells;
mod court;
mod coverage;
pub mod duty;
pub mod desk;
pub mod diff;
pub mod disclosure;
mod engine;
pub mod instant;
pub mod persist;
mod portal;
mod report;
pub mod safety;
pub mod scan;
pub mod sketch;
pub mod tree;
mod wall;
pub mod warn;

pub use engine::{Engine, Node, Tick, TICKER_LEN};
pub use wall::DayCounts;

#[cfg(test)]
mod hand;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
