//! Release timings for the numbers quoted in the crate docs.
//!
//! `cargo run --release --example bench [runs]`
//!
//! 1. Worst case: `runs` (default 2,300) partitions of one 120-vertex,
//!    ~1,150 km² district-like parent into 30 cells each.
//! 2. A realistic city: 12 districts (70–180 vertices, 500–2,300 km²) →
//!    towns → villages → grids, about 2,350 partitions in all, most of them
//!    of small generated cells.

use geom::{area, partition, MultiPolygon, SplitMix64};
use std::time::Instant;

/// A wobbly blob with `verts` vertices and roughly `km2` km² around (cx, cy).
fn blob(cx: f64, cy: f64, km2: f64, verts: usize, seed: u64) -> MultiPolygon {
    let mut rng = SplitMix64::new(seed);
    let k = cy.to_radians().cos();
    // Mean r² of the wobble below is ~1.035 r0², so this gets close to `km2`.
    let r0 = (km2 / (std::f64::consts::PI * 1.035 * 111.32 * 110.57 * k)).sqrt();
    let (p3, p7) = (rng.range(0.0, 6.0), rng.range(0.0, 6.0));
    let ring = (0..verts)
        .map(|i| {
            let t = i as f64 / verts as f64 * std::f64::consts::TAU;
            let r = r0
                * (1.0
                    + 0.2 * (3.0 * t + p3).sin()
                    + 0.1 * (7.0 * t + p7).cos()
                    + rng.range(-0.04, 0.04));
            [cx + r * t.cos() / k, cy + r * t.sin()]
        })
        .collect();
    vec![ring]
}

fn main() {
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2300);

    let parent = blob(120.5, 30.0, 1150.0, 120, 3);
    let t = Instant::now();
    let mut err: f64 = 0.0;
    for s in 0..runs {
        let p = partition(&parent, 30, s);
        let sum: f64 = p.iter().map(area).sum();
        err = err.max((sum / area(&parent) - 1.0).abs());
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "worst case: {runs} partitions of a 120-vertex parent into 30 cells: {el:.3} s ({:.0} µs each), max area error {err:.1e}",
        el * 1e6 / runs as f64
    );

    let mut rng = SplitMix64::new(11);
    let districts: Vec<MultiPolygon> = (0..12)
        .map(|d| {
            let verts = 70 + (rng.next_u64() % 111) as usize;
            let km2 = rng.range(500.0, 2300.0);
            blob(
                120.0 + 0.6 * (d % 4) as f64,
                29.6 + 0.6 * (d / 4) as f64,
                km2,
                verts,
                d,
            )
        })
        .collect();
    let t = Instant::now();
    let (mut parents, mut grids) = (0, 0);
    for (d, district) in districts.iter().enumerate() {
        let towns = partition(district, 10 + (rng.next_u64() % 11) as usize, d as u64);
        parents += 1;
        for (ti, town) in towns.iter().enumerate() {
            let villages = partition(
                town,
                8 + (rng.next_u64() % 9) as usize,
                (d * 100 + ti) as u64,
            );
            parents += 1;
            for (vi, village) in villages.iter().enumerate() {
                grids += partition(
                    village,
                    3 + (rng.next_u64() % 10) as usize,
                    (d * 10_000 + ti * 100 + vi) as u64,
                )
                .len();
                parents += 1;
            }
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "city: {parents} partitions (12 districts → towns → villages → {grids} grids): {el:.3} s"
    );
}
