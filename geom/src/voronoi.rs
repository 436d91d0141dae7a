//! Seed placement and the clipped Voronoi partition.

use crate::clip::{clip_convex, Clipper, HalfPlane};
use crate::polygon::{
    area, bbox, centroid, contains, label_point, normalize, ring_area, ring_bbox, EdgeIndex,
};
use crate::rng::SplitMix64;
use crate::{MultiPolygon, Point, Ring};

/// Candidates per seed in best-candidate sampling: past ~10 the spread barely
/// improves, and Lloyd smooths what is left.
const CANDIDATES: usize = 12;
/// Lloyd relaxation rounds; each costs one full partition.
const LLOYD_ROUNDS: usize = 2;
/// Rejection-sampling attempts per candidate. A candidate that misses is just
/// skipped; only a region filling well under 1 % of its bbox misses all
/// CANDIDATES × MAX_TRIES tries for a seed.
const MAX_TRIES: usize = 64;
/// Neighbours tried first, nearest first; cells rarely have more than ~8 edges.
const NEAR_FIRST: usize = 12;
/// Pieces smaller than this fraction of the parent are clipping debris
/// (a cell grazing a tip of the parent), not territory anyone would draw.
const SLIVER_FRACTION: f64 = 1e-10;

/// Longitude compression at the region's centre latitude, so that distances
/// measured as (kx·Δlon, Δlat) are roughly ground distances near the region.
pub fn lon_scale(bb: &[f64; 4]) -> f64 {
    let lat = 0.5 * (bb[1] + bb[3]);
    cos_portable(lat.clamp(-90.0, 90.0).to_radians()).max(0.01)
}

/// cos on [-π/2, π/2] from basic IEEE operations only. The system `cos` may
/// differ in the last bit between platforms (say the server and a wasm
/// build), and one bit here changes every seed after Lloyd relaxation.
fn cos_portable(x: f64) -> f64 {
    // Taylor series to x²⁴/24!: below 1e-19 for |x| ≤ π/2.
    let x2 = x * x;
    let mut sum = 0.0;
    for k in (0..=12).rev() {
        let k = k as f64;
        // sum = 1 - x²/((2k+1)(2k+2)) · sum, Horner-style from the tail.
        sum = 1.0 - x2 / ((2.0 * k + 1.0) * (2.0 * k + 2.0)) * sum;
    }
    sum
}

#[inline]
fn dist2(a: Point, b: Point, kx: f64) -> f64 {
    let dx = kx * (a[0] - b[0]);
    let dy = a[1] - b[1];
    dx * dx + dy * dy
}

fn random_inside(parent: &EdgeIndex, bb: &[f64; 4], rng: &mut SplitMix64) -> Option<Point> {
    for _ in 0..MAX_TRIES {
        let p = [rng.range(bb[0], bb[2]), rng.range(bb[1], bb[3])];
        if parent.contains(p) {
            return Some(p);
        }
    }
    None
}

/// `n` well-spread points strictly inside `parent`: best-candidate sampling
/// (each new point the farthest of a few random interior candidates from
/// those already placed), then Lloyd relaxation towards cell centroids.
/// Deterministic: the same inputs give bit-identical output, on any platform
/// (only IEEE basic operations are used, no libm).
pub fn seed_points(parent: &MultiPolygon, n: usize, seed: u64) -> Vec<Point> {
    let parent = normalize(parent);
    if n == 0 || parent.is_empty() {
        return Vec::new();
    }
    let bb = bbox(&parent);
    let kx = lon_scale(&bb);
    let index = EdgeIndex::new(&parent);
    // Mixing n in keeps e.g. the 7- and 8-cell layouts of one region from
    // sharing their first seeds, which would look oddly correlated.
    let mut rng = SplitMix64::new(SplitMix64::new(seed).next_u64() ^ (n as u64));

    let mut pts: Vec<Point> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut best: Option<(f64, Point)> = None;
        for _ in 0..CANDIDATES {
            let Some(p) = random_inside(&index, &bb, &mut rng) else {
                continue;
            };
            let score = pts
                .iter()
                .map(|&q| dist2(p, q, kx))
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, p));
            }
        }
        let p = match best {
            Some((_, p)) => p,
            // Sampling never hit the region (a sliver of its bbox): fall
            // back to a point known to be inside rather than fail.
            None => label_point(&parent),
        };
        pts.push(p);
    }

    for _ in 0..LLOYD_ROUNDS {
        let cells = voronoi_partition(&parent, &pts);
        for (p, cell) in pts.iter_mut().zip(&cells) {
            if cell.is_empty() {
                continue;
            }
            // A cell wrapping a bend of the parent can have its centroid
            // outside itself; a seed must stay inside its own territory.
            let c = centroid(cell);
            let q = if contains(cell, c) {
                c
            } else {
                label_point(cell)
            };
            if index.contains(q) {
                *p = q;
            }
        }
    }
    pts
}

/// The half-plane of points closer to `seeds[i]` than to `seeds[j]`, always
/// derived from the lower index first so that cells i and j cut along the
/// exact same line.
fn bisector(seeds: &[Point], i: usize, j: usize, kx: f64) -> Option<HalfPlane> {
    if i < j {
        HalfPlane::closer_to(seeds[i], seeds[j], kx)
    } else {
        HalfPlane::closer_to(seeds[j], seeds[i], kx).map(HalfPlane::flipped)
    }
}

fn boxes_overlap(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// Cell `i` is the part of `parent` nearer to `seeds[i]` than to any other
/// seed (distances with longitude scaled by [`lon_scale`]). A cell may have
/// several parts where the parent is non-convex; each is a simple CCW ring.
/// One seed gets the (normalised) parent itself. Cells are empty only for
/// seeds outside the parent or duplicates of an earlier seed.
pub fn voronoi_partition(parent: &MultiPolygon, seeds: &[Point]) -> Vec<MultiPolygon> {
    let n = seeds.len();
    if n == 0 {
        return Vec::new();
    }
    let parent = normalize(parent);
    if n == 1 || parent.is_empty() {
        let mut cells = vec![Vec::new(); n];
        cells[0] = parent;
        return cells;
    }
    let pb = bbox(&parent);
    let kx = lon_scale(&pb);
    let part_boxes: Vec<[f64; 4]> = parent.iter().map(ring_bbox).collect();
    let min_piece = area(&parent) * SLIVER_FRACTION;
    let mid = [0.5 * (pb[0] + pb[2]), 0.5 * (pb[1] + pb[3])];

    // Start each convex cell from a box holding the parent and every seed.
    let mut bb = pb;
    for s in seeds {
        bb = [
            bb[0].min(s[0]),
            bb[1].min(s[1]),
            bb[2].max(s[0]),
            bb[3].max(s[1]),
        ];
    }
    let m = 0.01 * ((bb[2] - bb[0]) + (bb[3] - bb[1])) + 1e-9;
    let frame: Ring = vec![
        [bb[0] - m, bb[1] - m],
        [bb[2] + m, bb[1] - m],
        [bb[2] + m, bb[3] + m],
        [bb[0] - m, bb[3] + m],
    ];

    let mut d2s: Vec<f64> = vec![0.0; n];
    let mut near: Vec<(f64, usize)> = Vec::with_capacity(NEAR_FIRST + 1);
    let mut scratch: Vec<Ring> = Vec::new();
    let mut clipper = Clipper::default();
    let mut conv = ConvexCell::default();
    let mut cells = Vec::with_capacity(n);
    for i in 0..n {
        let a = seeds[i];
        // The nearest few seeds, sorted, by insertion: a full sort per cell
        // would cost more than all the clipping. Ties go by index.
        near.clear();
        for (j, &s) in seeds.iter().enumerate() {
            let d2 = dist2(a, s, kx);
            d2s[j] = d2;
            if j != i && (near.len() < NEAR_FIRST || precedes((d2, j), near[near.len() - 1])) {
                let pos = near.partition_point(|&e| precedes(e, (d2, j)));
                near.insert(pos, (d2, j));
                near.truncate(NEAR_FIRST);
            }
        }

        // First the unclipped (convex) Voronoi cell: cheap to cut because it
        // has few vertices, and its edges tell us which few bisectors the
        // large, many-vertex parent actually has to be cut by. The result
        // does not depend on the order of cuts; nearest first just makes the
        // cell, and with it the reach test below, shrink fastest.
        conv.reset(&frame, a, kx);
        let mut alive = true;
        for &(d2, j) in &near {
            // A bisector lies at half the seed distance; once that is beyond
            // the cell's farthest corner, this and all later seeds are moot.
            if d2 >= 4.0 * conv.reach2 {
                break;
            }
            alive = conv.cut(seeds, i, j);
            if !alive {
                break;
            }
        }
        if alive && near.len() == NEAR_FIRST {
            let last = near[NEAR_FIRST - 1];
            for (j, &d2) in d2s.iter().enumerate() {
                if j != i && precedes(last, (d2, j)) && d2 < 4.0 * conv.reach2 {
                    alive = conv.cut(seeds, i, j);
                    if !alive {
                        break;
                    }
                }
            }
        }
        if !alive {
            cells.push(Vec::new());
            continue;
        }
        let (cell, lines) = (&conv.ring, &mut conv.lines);
        let cb = ring_bbox(cell);
        // Most cells never reach the parent's boundary; for them the convex
        // cell is the answer and the costly clip of the parent can be skipped.
        let near_boundary = parent.iter().any(|part| {
            let mut prev = part[part.len() - 1];
            part.iter().any(|&p| {
                let hit = p[0].max(prev[0]) >= cb[0]
                    && p[0].min(prev[0]) <= cb[2]
                    && p[1].max(prev[1]) >= cb[1]
                    && p[1].min(prev[1]) <= cb[3];
                prev = p;
                hit
            })
        });
        if !near_boundary {
            let inside = contains(&parent, cell[0]);
            cells.push(if inside {
                vec![cell.clone()]
            } else {
                Vec::new()
            });
            continue;
        }
        // Cutting the parent costs per surviving vertex, so lead with the
        // line that leaves the parent's middle farthest on the wrong side.
        lines.sort_by(|a, b| a.dist(mid).total_cmp(&b.dist(mid)));
        let mut pieces: Vec<Ring> = Vec::new();
        for (part, pbox) in parent.iter().zip(&part_boxes) {
            if !boxes_overlap(pbox, &cb) {
                continue;
            }
            let Some((first, rest)) = lines.split_first() else {
                pieces.push(part.clone());
                continue;
            };
            let mut cur: Vec<Ring> = Vec::new();
            clipper.clip(part, first, &mut cur);
            for hp in rest {
                if cur.is_empty() {
                    break;
                }
                scratch.clear();
                for r in &cur {
                    clipper.clip(r, hp, &mut scratch);
                }
                std::mem::swap(&mut cur, &mut scratch);
            }
            pieces.append(&mut cur);
        }
        pieces.retain(|r| ring_area(r) > min_piece);
        cells.push(pieces);
    }
    cells
}

/// `(distance², index)` order, total even for equal distances.
fn precedes(x: (f64, usize), y: (f64, usize)) -> bool {
    x.0 < y.0 || (x.0 == y.0 && x.1 < y.1)
}

/// The convex Voronoi cell of one seed while it is being cut down, plus the
/// bisectors that cut it.
#[derive(Default)]
struct ConvexCell {
    ring: Ring,
    spare: Ring,
    lines: Vec<HalfPlane>,
    seed: Point,
    kx: f64,
    /// Squared distance from the seed to the farthest vertex.
    reach2: f64,
}

impl ConvexCell {
    fn reset(&mut self, frame: &Ring, seed: Point, kx: f64) {
        self.ring.clone_from(frame);
        self.lines.clear();
        (self.seed, self.kx) = (seed, kx);
        self.reach2 = max_dist2(&self.ring, seed, kx);
    }

    /// Cuts by the bisector of seeds i and j; `false` once nothing is left.
    fn cut(&mut self, seeds: &[Point], i: usize, j: usize) -> bool {
        let Some(hp) = bisector(seeds, i, j, self.kx) else {
            // Duplicate seed: the lower index keeps the territory.
            return j > i;
        };
        if clip_convex(&self.ring, &hp, &mut self.spare) {
            std::mem::swap(&mut self.ring, &mut self.spare);
            if self.ring.len() < 3 {
                return false;
            }
            self.lines.push(hp);
            self.reach2 = max_dist2(&self.ring, self.seed, self.kx);
        }
        true
    }
}

fn max_dist2(r: &Ring, a: Point, kx: f64) -> f64 {
    r.iter().map(|&p| dist2(p, a, kx)).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_cos_matches_libm() {
        for i in -900..=900 {
            let x = (i as f64 / 10.0).to_radians();
            assert!((cos_portable(x) - x.cos()).abs() < 1e-15, "{x}");
        }
        assert!((lon_scale(&[120.0, 29.0, 121.0, 31.0]) - 30f64.to_radians().cos()).abs() < 1e-15);
    }
}
