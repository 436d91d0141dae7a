//! Deterministic *schematic* geometry for regions that have no public
//! boundaries (towns in a district, villages in a town, grids in a village).
//!
//! # Layout
//!
//! - `lib.rs` — the coordinate types and [`partition`], the one-call entry point.
//! - `polygon.rs` — measurements and fix-ups: [`ring_area`], [`area`],
//!   [`contains`], [`bbox`], [`label_point`], [`round_coords`].
//! - `voronoi.rs` — [`seed_points`] (best-candidate sampling + Lloyd) and
//!   [`voronoi_partition`] (parent ∩ Voronoi cell of each seed).
//! - `clip.rs` — half-plane clipping of non-convex rings into separate simple
//!   pieces, the primitive everything above is built on.
//! - `china.rs` — GCJ-02 and BD-09 (what Chinese map vendors emit) to WGS-84, for feeds.
//! - `rtree.rs` — a packed R-tree over boxes: which grid may hold a feed's point.
//! - `rng.rs` — splitmix64, so output is pinned by this crate alone.
//! - `tests.rs` — whole-pipeline property tests on a non-convex district.
//! - `examples/bench.rs` — the timings quoted below.
//!
//! Coordinates stay lon/lat degrees throughout. Only distances (which seed is
//! nearer) use longitude scaled by cos(centre latitude), so cells are not
//! stretched east–west; ring areas are plain degree² shoelace values, which is
//! all a comparison between siblings needs.
//!
//! Rings are open (the first point is not repeated) and counter-clockwise;
//! a multipolygon is a list of such rings without holes. Inputs that are
//! closed or clockwise are accepted and normalised.
//!
//! ```
//! let district: geom::MultiPolygon = vec![vec![
//!     [120.40, 29.90], [120.70, 29.88], [120.75, 30.10], [120.55, 30.02], [120.42, 30.15],
//! ]];
//! let towns = geom::partition(&district, 12, 0xD157);
//! assert_eq!(towns.len(), 12);
//! let total: f64 = towns.iter().map(geom::area).sum();
//! assert!((total / geom::area(&district) - 1.0).abs() < 1e-9);
//! let villages = geom::partition(&towns[3], 8, 0xD157_0003); // and so on down
//! let json_ready = geom::round_coords(&villages[0], 6);
//! assert!(geom::contains(&villages[0], geom::label_point(&villages[0])));
//! # assert!(!json_ready.is_empty());
//! ```
//!
//! # Cost
//!
//! Measured with `cargo run --release --example bench` on the shared 2-core
//! dev box (Rust 1.95):
//!
//! - 2,300 partitions of a 120-vertex, ~1,150 km² district-like parent into
//!   30 cells each (seed sampling, two Lloyd rounds, final partition):
//!   ≈ 0.6 s, i.e. ≈ 260 µs per partition. This is the worst case: only the
//!   top level has parents with that many vertices.
//! - A whole demo city, 12 districts (70–180 vertices) → towns → villages →
//!   grids, ≈ 2,300 partitions: ≈ 0.07 s.
//!
//! An unoptimised debug build takes ≈ 3.0 s and ≈ 0.35 s for the same two runs.

pub mod china;
pub mod rtree;
mod clip;
mod polygon;
mod rng;
mod voronoi;

pub use polygon::{
    area, bbox, centroid, contains, distance_to_boundary, label_point, normalize, ring_area,
    ring_centroid, ring_contains, round_coords,
};
pub use rng::SplitMix64;
pub use voronoi::{lon_scale, seed_points, voronoi_partition};

/// `[lon, lat]` in degrees.
pub type Point = [f64; 2];
/// Open ring (first point not repeated at the end), counter-clockwise.
pub type Ring = Vec<Point>;
/// Each ring is one polygon part; no holes.
pub type MultiPolygon = Vec<Ring>;

/// `n` cells partitioning `parent`, reproducible from `seed`.
pub fn partition(parent: &MultiPolygon, n: usize, seed: u64) -> Vec<MultiPolygon> {
    let seeds = seed_points(parent, n, seed);
    voronoi_partition(parent, &seeds)
}

#[cfg(test)]
mod tests;
