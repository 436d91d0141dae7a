//! Measurements and small fix-ups on plain lon/lat polygons.

use crate::{MultiPolygon, Point, Ring};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Signed shoelace area in degree²: positive for counter-clockwise rings.
pub fn ring_area(r: &Ring) -> f64 {
    let n = r.len();
    if n < 3 {
        return 0.0;
    }
    // Shoelace relative to the first vertex: at 120°E, products of raw
    // coordinates are ~10⁸ times a village's area and would eat its precision.
    let o = r[0];
    let mut s = 0.0;
    for i in 1..n - 1 {
        let a = [r[i][0] - o[0], r[i][1] - o[1]];
        let b = [r[i + 1][0] - o[0], r[i + 1][1] - o[1]];
        s += a[0] * b[1] - b[0] * a[1];
    }
    0.5 * s
}

/// Sum of the absolute part areas, in degree² (compare siblings, not km²).
pub fn area(mp: &MultiPolygon) -> f64 {
    mp.iter().map(|r| ring_area(r).abs()).sum()
}

/// Even-odd rule for one ring.
pub fn ring_contains(r: &Ring, p: Point) -> bool {
    let (x, y) = (p[0], p[1]);
    let n = r.len();
    let mut inside = false;
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (xi, yi) = (r[i][0], r[i][1]);
        let (xj, yj) = (r[j][0], r[j][1]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Even-odd point-in-polygon over all parts. Points exactly on an edge may
/// go either way.
pub fn contains(mp: &MultiPolygon, p: Point) -> bool {
    let mut inside = false;
    for r in mp {
        if ring_contains(r, p) {
            inside = !inside;
        }
    }
    inside
}

/// [`contains`] answered from horizontal bands of edges, for the thousands
/// of point tests of seed sampling on a 100+-vertex district. Uses the same
/// per-edge crossing arithmetic as [`ring_contains`], so it agrees with
/// [`contains`] bit for bit.
pub(crate) struct EdgeIndex {
    bb: [f64; 4],
    inv_h: f64,
    /// Per band: edges as `[x_i, y_i, x_j, y_j]`, j being the previous vertex.
    bands: Vec<Vec<[f64; 4]>>,
}

impl EdgeIndex {
    pub(crate) fn new(mp: &MultiPolygon) -> Self {
        let bb = bbox(mp);
        let edges: usize = mp.iter().map(Vec::len).sum();
        let nb = edges.clamp(1, 1024);
        let h = (bb[3] - bb[1]) / nb as f64;
        let inv_h = if h > 0.0 { 1.0 / h } else { 0.0 };
        let mut bands = vec![Vec::new(); nb];
        let band = |y: f64| (((y - bb[1]) * inv_h) as usize).min(nb - 1);
        for r in mp {
            let n = r.len();
            for i in 0..n {
                let (pi, pj) = (r[i], r[(i + n - 1) % n]);
                let (lo, hi) = (band(pi[1].min(pj[1])), band(pi[1].max(pj[1])));
                for b in &mut bands[lo..=hi] {
                    b.push([pi[0], pi[1], pj[0], pj[1]]);
                }
            }
        }
        EdgeIndex { bb, inv_h, bands }
    }

    pub(crate) fn contains(&self, p: Point) -> bool {
        let (x, y) = (p[0], p[1]);
        let bb = &self.bb;
        if !(x >= bb[0] && x <= bb[2] && y >= bb[1] && y <= bb[3]) {
            return false;
        }
        let b = (((y - bb[1]) * self.inv_h) as usize).min(self.bands.len() - 1);
        let mut inside = false;
        for &[xi, yi, xj, yj] in &self.bands[b] {
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
        }
        inside
    }
}

/// `[min_lon, min_lat, max_lon, max_lat]`; inverted infinities when empty.
pub fn bbox(mp: &MultiPolygon) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in mp.iter().flatten() {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

/// [`bbox`] of one ring.
pub fn ring_bbox(r: &Ring) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in r {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

/// Area centroid of one ring; falls back to the vertex mean for degenerate rings.
pub fn ring_centroid(r: &Ring) -> Point {
    let n = r.len();
    if n == 0 {
        return [f64::NAN, f64::NAN];
    }
    let o = r[0];
    let (mut sx, mut sy, mut sa) = (0.0, 0.0, 0.0);
    for i in 1..n.saturating_sub(1) {
        let a = [r[i][0] - o[0], r[i][1] - o[1]];
        let b = [r[i + 1][0] - o[0], r[i + 1][1] - o[1]];
        let cross = a[0] * b[1] - b[0] * a[1];
        sa += cross;
        sx += (a[0] + b[0]) * cross;
        sy += (a[1] + b[1]) * cross;
    }
    if sa.abs() < 1e-300 {
        let k = n as f64;
        let mx = r.iter().map(|p| p[0]).sum::<f64>() / k;
        let my = r.iter().map(|p| p[1]).sum::<f64>() / k;
        return [mx, my];
    }
    [o[0] + sx / (3.0 * sa), o[1] + sy / (3.0 * sa)]
}

/// Area-weighted centroid over all parts (may lie outside a non-convex shape).
pub fn centroid(mp: &MultiPolygon) -> Point {
    let (mut sx, mut sy, mut sa) = (0.0, 0.0, 0.0);
    for r in mp {
        let a = ring_area(r).abs();
        let c = ring_centroid(r);
        sx += c[0] * a;
        sy += c[1] * a;
        sa += a;
    }
    if sa > 0.0 {
        [sx / sa, sy / sa]
    } else {
        mp.iter()
            .find(|r| !r.is_empty())
            .map_or([f64::NAN, f64::NAN], ring_centroid)
    }
}

fn segment_dist2(p: Point, a: Point, b: Point) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

/// Unsigned Euclidean distance (in degrees) from `p` to the nearest edge of any part.
pub fn distance_to_boundary(mp: &MultiPolygon, p: Point) -> f64 {
    let mut best = f64::INFINITY;
    for r in mp {
        for i in 0..r.len() {
            best = best.min(segment_dist2(p, r[i], r[(i + 1) % r.len()]));
        }
    }
    best.sqrt()
}

fn ring_signed_dist(r: &Ring, p: Point) -> f64 {
    let mut best = f64::INFINITY;
    for i in 0..r.len() {
        best = best.min(segment_dist2(p, r[i], r[(i + 1) % r.len()]));
    }
    let d = best.sqrt();
    if ring_contains(r, p) {
        d
    } else {
        -d
    }
}

/// A point inside `mp` for a label or marker: the centroid of the largest
/// part when that lies inside, else the part's pole of inaccessibility.
pub fn label_point(mp: &MultiPolygon) -> Point {
    let Some(largest) = mp
        .iter()
        .filter(|r| r.len() >= 3)
        .max_by(|a, b| ring_area(a).abs().total_cmp(&ring_area(b).abs()))
    else {
        return mp
            .iter()
            .flatten()
            .next()
            .copied()
            .unwrap_or([f64::NAN, f64::NAN]);
    };
    let c = ring_centroid(largest);
    if ring_contains(largest, c) && contains(mp, c) {
        return c;
    }
    let p = polylabel(largest);
    if contains(mp, p) {
        return p;
    }
    scanline_point(largest)
}

/// A polylabel search square: centre, half size, distance of the centre to
/// the boundary (negative outside), and the best distance any point in it can have.
#[derive(Clone, Copy)]
struct Cell {
    c: Point,
    half: f64,
    d: f64,
    max: f64,
}

impl Cell {
    fn new(r: &Ring, c: Point, half: f64) -> Cell {
        let d = ring_signed_dist(r, c);
        Cell {
            c,
            half,
            d,
            max: d + half * std::f64::consts::SQRT_2,
        }
    }
}

// Ordered by `max` only, for the heap. Equal keys pop in an order fixed by
// the push sequence, so the search stays deterministic.
impl PartialEq for Cell {
    fn eq(&self, o: &Self) -> bool {
        self.max.total_cmp(&o.max).is_eq()
    }
}
impl Eq for Cell {}
impl PartialOrd for Cell {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cell {
    fn cmp(&self, o: &Self) -> Ordering {
        self.max.total_cmp(&o.max)
    }
}

/// Pole of inaccessibility (Mapbox's polylabel idea): quadtree search for the
/// interior point farthest from the boundary, so labels sit visibly inside
/// C-shaped or crescent regions where the centroid falls outside.
fn polylabel(r: &Ring) -> Point {
    let b = ring_bbox(r);
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let size = w.min(h);
    if size.is_nan() || size <= 0.0 {
        return ring_centroid(r);
    }
    let precision = w.max(h) * 1e-3;

    let mut queue = BinaryHeap::new();
    let half = size / 2.0;
    let mut y = b[1];
    while y < b[3] {
        let mut x = b[0];
        while x < b[2] {
            queue.push(Cell::new(r, [x + half, y + half], half));
            x += size;
        }
        y += size;
    }
    let mut best = Cell::new(r, ring_centroid(r), 0.0);
    let bc = Cell::new(r, [b[0] + w / 2.0, b[1] + h / 2.0], 0.0);
    if bc.d > best.d {
        best = bc;
    }
    let mut iterations = 0;
    while let Some(c) = queue.pop() {
        iterations += 1;
        if iterations > 4000 {
            break;
        }
        if c.d > best.d {
            best = c;
        }
        if c.max - best.d <= precision {
            continue;
        }
        let q = c.half / 2.0;
        for (dx, dy) in [(-q, -q), (q, -q), (-q, q), (q, q)] {
            queue.push(Cell::new(r, [c.c[0] + dx, c.c[1] + dy], q));
        }
    }
    best.c
}

/// Last resort: midpoint of the widest interior run of a horizontal line
/// through the middle of the ring; inside by construction.
fn scanline_point(r: &Ring) -> Point {
    let b = ring_bbox(r);
    let y = (b[1] + b[3]) / 2.0;
    let mut xs = Vec::new();
    for i in 0..r.len() {
        let (p, q) = (r[i], r[(i + 1) % r.len()]);
        if (p[1] > y) != (q[1] > y) {
            xs.push(p[0] + (y - p[1]) * (q[0] - p[0]) / (q[1] - p[1]));
        }
    }
    xs.sort_by(f64::total_cmp);
    let mut best = ring_centroid(r);
    let mut best_w = -1.0;
    for pair in xs.chunks_exact(2) {
        if pair[1] - pair[0] > best_w {
            best_w = pair[1] - pair[0];
            best = [(pair[0] + pair[1]) / 2.0, y];
        }
    }
    best
}

/// Open, counter-clockwise, no consecutive duplicates: the form the clipper
/// relies on. Accepts closed or clockwise input from external GeoJSON.
pub fn normalize(mp: &MultiPolygon) -> MultiPolygon {
    let mut out = Vec::with_capacity(mp.len());
    for r in mp {
        let mut ring: Ring = Vec::with_capacity(r.len());
        for &p in r {
            if ring.last() != Some(&p) {
                ring.push(p);
            }
        }
        while ring.len() > 1 && ring.first() == ring.last() {
            ring.pop();
        }
        if ring.len() < 3 {
            continue;
        }
        let a = ring_area(&ring);
        if a == 0.0 {
            continue;
        }
        if a < 0.0 {
            ring.reverse();
        }
        out.push(ring);
    }
    out
}

/// Rounds every coordinate to `decimals` places for compact JSON, then
/// repairs what snapping to that grid breaks: consecutive duplicates and
/// back-and-forth spikes are removed, and parts left with fewer than three
/// points or under one grid square of area are dropped. Rings stay CCW.
pub fn round_coords(mp: &MultiPolygon, decimals: u32) -> MultiPolygon {
    let scale = 10f64.powi(decimals as i32);
    let unit = 1.0 / scale;
    let mut out = Vec::with_capacity(mp.len());
    for r in mp {
        let mut ring: Ring = Vec::with_capacity(r.len());
        for p in r {
            let q = [
                (p[0] * scale).round() / scale,
                (p[1] * scale).round() / scale,
            ];
            push_clean(&mut ring, q);
        }
        // The wrap-around seam can hold the same duplicates/spikes as the interior.
        loop {
            let n = ring.len();
            if n >= 2 && ring[0] == ring[n - 1] {
                ring.pop();
            } else if n >= 3 && ring[n - 2] == ring[0] {
                ring.pop();
                ring.pop();
            } else if n >= 3 && ring[n - 1] == ring[1] {
                ring.pop();
                ring.remove(0);
            } else {
                break;
            }
        }
        if ring.len() < 3 {
            continue;
        }
        let a = ring_area(&ring);
        // Below one grid square the shape is noise at this precision, and
        // rounding may even have flipped it inside out.
        if a.abs() < unit * unit {
            continue;
        }
        if a < 0.0 {
            ring.reverse();
        }
        out.push(ring);
    }
    out
}

/// Appends while removing consecutive duplicates and A-B-A spikes, the two
/// degeneracies that snapping to a grid introduces along thin bits of a cell.
fn push_clean(ring: &mut Ring, q: Point) {
    if ring.last() == Some(&q) {
        return;
    }
    let n = ring.len();
    if n >= 2 && ring[n - 2] == q {
        ring.pop();
        return;
    }
    ring.push(q);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, s: f64) -> Ring {
        vec![[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]]
    }

    /// A "C" opening to the east: the centroid falls in the mouth, outside.
    fn c_shape() -> Ring {
        vec![
            [120.0, 30.0],
            [120.3, 30.0],
            [120.3, 30.05],
            [120.05, 30.05],
            [120.05, 30.25],
            [120.3, 30.25],
            [120.3, 30.3],
            [120.0, 30.3],
        ]
    }

    #[test]
    fn area_of_square_and_orientation() {
        let sq = square(120.5, 30.0, 0.2);
        assert!((ring_area(&sq) - 0.04).abs() < 1e-12);
        let mut cw = sq.clone();
        cw.reverse();
        assert!((ring_area(&cw) + 0.04).abs() < 1e-12);
        let mp = vec![sq, cw, square(121.0, 30.0, 0.1)];
        assert!((area(&mp) - 0.09).abs() < 1e-12);
        assert_eq!(ring_area(&vec![[1.0, 1.0], [2.0, 2.0]]), 0.0);
    }

    #[test]
    fn area_of_c_shape() {
        // 0.3x0.3 minus the 0.25x0.2 mouth
        assert!((ring_area(&c_shape()) - (0.09 - 0.05)).abs() < 1e-12);
    }

    #[test]
    fn contains_even_odd() {
        let c = vec![c_shape()];
        assert!(contains(&c, [120.02, 30.15]));
        assert!(contains(&c, [120.2, 30.02]));
        assert!(!contains(&c, [120.2, 30.15])); // in the mouth
        assert!(!contains(&c, [119.9, 30.15]));
        // Two disjoint parts: each one counts.
        let mp = vec![square(120.0, 30.0, 0.1), square(120.5, 30.0, 0.1)];
        assert!(contains(&mp, [120.05, 30.05]));
        assert!(contains(&mp, [120.55, 30.05]));
        assert!(!contains(&mp, [120.3, 30.05]));
    }

    #[test]
    fn edge_index_agrees_with_contains() {
        let mp = vec![c_shape(), square(120.4, 30.1, 0.1)];
        let idx = EdgeIndex::new(&mp);
        let mut rng = crate::SplitMix64::new(5);
        let mut inside = 0;
        for _ in 0..20_000 {
            let p = [rng.range(119.9, 120.6), rng.range(29.9, 30.4)];
            assert_eq!(idx.contains(p), contains(&mp, p), "{p:?}");
            inside += contains(&mp, p) as usize;
        }
        assert!(inside > 2000);
        // Vertices and points on horizontal edges, where banding could slip.
        for p in mp.iter().flatten() {
            assert_eq!(idx.contains(*p), contains(&mp, *p), "{p:?}");
        }
    }

    #[test]
    fn bbox_spans_all_parts() {
        let mp = vec![square(120.0, 30.0, 0.1), square(120.5, 29.5, 0.1)];
        assert_eq!(bbox(&mp), [120.0, 29.5, 120.6, 30.1]);
    }

    #[test]
    fn label_point_inside_c_shape() {
        let c = vec![c_shape()];
        let cen = ring_centroid(&c[0]);
        assert!(!contains(&c, cen), "test shape must defeat the centroid");
        let p = label_point(&c);
        assert!(contains(&c, p));
        // Not hugging an edge: the spine is 0.05 wide, the arms 0.05 tall.
        assert!(distance_to_boundary(&c, p) > 0.015, "{p:?}");
    }

    #[test]
    fn label_point_convex_is_centroid_of_largest_part() {
        let mp = vec![square(120.0, 30.0, 0.1), square(121.0, 30.0, 0.3)];
        let p = label_point(&mp);
        assert!((p[0] - 121.15).abs() < 1e-9 && (p[1] - 30.15).abs() < 1e-9);
    }

    #[test]
    fn normalize_closes_and_orients() {
        let mut r = square(120.0, 30.0, 0.1);
        r.reverse();
        r.push(r[0]);
        let n = normalize(&vec![r]);
        assert_eq!(n[0].len(), 4);
        assert!(ring_area(&n[0]) > 0.0);
    }

    #[test]
    fn round_coords_drops_degenerates() {
        let mp = vec![
            vec![
                [120.123_456_1, 30.0],
                [120.123_456_2, 30.0],
                [120.2, 30.0],
                [120.2, 30.1],
                [120.1, 30.1],
            ],
            // collapses to a line at 3 decimals
            vec![
                [121.0, 30.0],
                [121.1, 30.0],
                [121.1, 30.000_01],
                [121.0, 30.000_01],
            ],
            // a spike that snaps onto itself
            vec![
                [122.0, 30.0],
                [122.1, 30.0],
                [122.2, 30.000_1],
                [122.1, 30.000_2],
                [122.1, 30.1],
                [122.0, 30.1],
            ],
        ];
        let mut mp = mp;
        // clockwise input comes back counter-clockwise
        mp.push(vec![
            [123.0, 30.1],
            [123.1, 30.1],
            [123.1, 30.0],
            [123.0, 30.0],
        ]);
        let r = round_coords(&mp, 3);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0][0], [120.123, 30.0]);
        assert_eq!(r[0].len(), 4);
        assert_eq!(r[1].len(), 4, "{:?}", r[1]);
        for ring in &r {
            assert!(ring_area(ring) > 0.0);
            for i in 0..ring.len() {
                assert_ne!(ring[i], ring[(i + 1) % ring.len()]);
            }
        }
    }
}
