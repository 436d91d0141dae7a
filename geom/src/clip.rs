//! Clipping a simple polygon by a half-plane, returning simple pieces.
//!
//! Plain Sutherland–Hodgman on a non-convex ring returns one ring whose pieces
//! are joined by zero-width "bridges" along the clip line: renderers stroke
//! them as stray lines across the gap, and the ring is not a valid (simple)
//! polygon. Instead we cut the ring into the chains that lie on the kept side
//! and re-link the chains along the clip line in the order their end points
//! appear on it, which yields each piece as its own simple ring.

use crate::{Point, Ring};

/// Keeps points with `nx*x + ny*y - c >= 0`.
///
/// Neighbouring cells must cut along bit-identical lines or slivers of gap and
/// overlap appear; [`HalfPlane::flipped`] negates exactly, and `dist` is
/// evaluated in a fixed order so the distances negate exactly too.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfPlane {
    pub nx: f64,
    pub ny: f64,
    pub c: f64,
}

/// Vertices this close to the line (in degrees; ~1 µm) count as on it. Well
/// above the rounding noise of `n·p - c` near 120°E, well below anything a map shows.
const ON_EPS: f64 = 1e-11;

impl HalfPlane {
    /// Points closer to `a` than to `b` under the metric that scales longitude
    /// differences by `kx`, normalised so `dist` is in degrees.
    pub fn closer_to(a: Point, b: Point, kx: f64) -> Option<HalfPlane> {
        // Equidistant: kx²(x-ax)² + (y-ay)² = kx²(x-bx)² + (y-by)²  ⇔  m·p = m·mid
        let mx = kx * kx * (b[0] - a[0]);
        let my = b[1] - a[1];
        let len = (mx * mx + my * my).sqrt();
        if len.is_nan() || len <= 0.0 {
            return None;
        }
        let (nx, ny) = (mx / len, my / len);
        let c = nx * ((a[0] + b[0]) * 0.5) + ny * ((a[1] + b[1]) * 0.5);
        // m points from a to b; a's side is m·p <= c, i.e. (-m)·p - (-c) >= 0.
        Some(HalfPlane {
            nx: -nx,
            ny: -ny,
            c: -c,
        })
    }

    pub fn flipped(self) -> HalfPlane {
        HalfPlane {
            nx: -self.nx,
            ny: -self.ny,
            c: -self.c,
        }
    }

    #[inline]
    pub fn dist(&self, p: Point) -> f64 {
        (self.nx * p[0] + self.ny * p[1]) - self.c
    }

    /// Position along the line, increasing in the direction the kept region's
    /// CCW boundary runs along it (kept side on the left).
    #[inline]
    fn along(&self, p: Point) -> f64 {
        self.ny * p[0] - self.nx * p[1]
    }
}

/// Clips one CCW simple ring, appending the CCW simple pieces to `out`.
/// Returns whether the line cut anything off; `false` means the ring was
/// appended unchanged. Convenience wrapper around [`Clipper::clip`].
#[cfg(test)]
pub fn clip_ring(ring: &Ring, hp: &HalfPlane, out: &mut Vec<Ring>) -> bool {
    Clipper::default().clip(ring, hp, out)
}

#[derive(Clone, Copy)]
struct Chain {
    /// Range of the chain's points in `Clipper::pts`.
    start: usize,
    end: usize,
    s_in: f64,
    s_out: f64,
}

/// Reusable scratch space: a partition performs thousands of clips, and
/// allocating per clip used to cost more than the geometry itself.
#[derive(Default)]
pub struct Clipper {
    pts: Vec<Point>,
    chains: Vec<Chain>,
    exits: Vec<usize>,
    entries: Vec<usize>,
    next: Vec<usize>,
    used: Vec<bool>,
}

impl Clipper {
    /// See [`clip_ring`].
    pub fn clip(&mut self, ring: &Ring, hp: &HalfPlane, out: &mut Vec<Ring>) -> bool {
        if ring.len() < 3 {
            return true;
        }
        // Distances are recomputed rather than stored: three flops are cheaper
        // than the memory traffic, and most calls stop at the first scan.
        let Some(start) = ring.iter().position(|&p| hp.dist(p) < -ON_EPS) else {
            out.push(ring.clone());
            return false;
        };
        if !ring.iter().any(|&p| hp.dist(p) > ON_EPS) {
            // Nothing strictly inside: at most a zero-area touch.
            return true;
        }

        self.pts.clear();
        // Sized for the worst case, since in the common single-piece case this
        // very buffer becomes the output ring.
        self.pts.reserve(ring.len() + 2);
        self.chains.clear();
        // (index of the chain's first point, s_in, largest distance inside)
        let mut open: Option<(usize, f64, f64)> = None;
        // Start at an outside vertex so no chain wraps around the ring's seam.
        let (mut pi, mut di) = (ring[start], hp.dist(ring[start]));
        for &pj in ring[start + 1..].iter().chain(&ring[..=start]) {
            let dj = hp.dist(pj);
            match (di >= -ON_EPS, dj >= -ON_EPS) {
                (false, true) => {
                    let first = self.pts.len();
                    if dj > ON_EPS {
                        self.pts.push(intersect(pi, pj, di, dj));
                    }
                    self.pts.push(pj);
                    open = Some((first, hp.along(self.pts[first]), dj));
                }
                (true, true) => {
                    self.pts.push(pj);
                    if let Some(o) = open.as_mut() {
                        o.2 = o.2.max(dj);
                    }
                }
                (true, false) => {
                    let (first, s_in, max_d) = open.take().expect("chain open while inside");
                    if di > ON_EPS {
                        self.pts.push(intersect(pi, pj, di, dj));
                    }
                    let end = self.pts.len();
                    // A chain that never leaves the line is a touch, not a piece.
                    if max_d > ON_EPS {
                        let s_out = hp.along(self.pts[end - 1]);
                        self.chains.push(Chain {
                            start: first,
                            end,
                            s_in,
                            s_out,
                        });
                    } else {
                        self.pts.truncate(first);
                    }
                }
                (false, false) => {}
            }
            (pi, di) = (pj, dj);
        }

        match self.chains.len() {
            0 => {}
            // The common case (every convex clip, most others): no linking needed.
            // The buffer then holds exactly that chain: hand it over as the ring.
            1 => {
                let mut r = std::mem::take(&mut self.pts);
                r.dedup();
                while r.len() > 1 && r.first() == r.last() {
                    r.pop();
                }
                if r.len() >= 3 {
                    out.push(r);
                }
            }
            m => {
                // Along the line, the ring's interior alternates exit→entry;
                // pairing the k-th exit with the k-th entry is that rule, and
                // it stays a bijection even if rounding reorders near-ties, so
                // the linking below always closes.
                let chains = &self.chains;
                self.exits.clear();
                self.exits.extend(0..m);
                self.entries.clear();
                self.entries.extend(0..m);
                self.exits
                    .sort_by(|&a, &b| chains[a].s_out.total_cmp(&chains[b].s_out).then(a.cmp(&b)));
                self.entries
                    .sort_by(|&a, &b| chains[a].s_in.total_cmp(&chains[b].s_in).then(a.cmp(&b)));
                self.next.clear();
                self.next.resize(m, 0);
                for (&e, &s) in self.exits.iter().zip(&self.entries) {
                    self.next[e] = s;
                }
                self.used.clear();
                self.used.resize(m, false);
                let mut cycle = Vec::new();
                for first in 0..m {
                    cycle.clear();
                    let mut c = first;
                    while !self.used[c] {
                        self.used[c] = true;
                        cycle.push(c);
                        c = self.next[c];
                    }
                    if !cycle.is_empty() {
                        push_ring(out, &self.pts, chains, &cycle);
                    }
                }
            }
        }
        true
    }
}

/// Concatenates the given chains into one ring, dropping the duplicate points
/// where one chain ends exactly where the next begins.
fn push_ring(out: &mut Vec<Ring>, pts: &[Point], chains: &[Chain], order: &[usize]) {
    let len = order.iter().map(|&c| chains[c].end - chains[c].start).sum();
    let mut r: Ring = Vec::with_capacity(len);
    for &c in order {
        for &p in &pts[chains[c].start..chains[c].end] {
            if r.last() != Some(&p) {
                r.push(p);
            }
        }
    }
    while r.len() > 1 && r.first() == r.last() {
        r.pop();
    }
    if r.len() >= 3 {
        out.push(r);
    }
}

/// Sutherland–Hodgman into a reused buffer, for convex rings only (a convex
/// ring never falls apart, so the chain linking of [`Clipper::clip`] is moot).
/// Returns `false`, leaving `dst` untouched, when nothing is cut off.
pub fn clip_convex(src: &Ring, hp: &HalfPlane, dst: &mut Ring) -> bool {
    if src.iter().all(|&p| hp.dist(p) >= -ON_EPS) {
        return false;
    }
    dst.clear();
    let Some(&last) = src.last() else {
        return true;
    };
    let (mut prev, mut dp) = (last, hp.dist(last));
    for &cur in src {
        let dc = hp.dist(cur);
        match (dp >= -ON_EPS, dc >= -ON_EPS) {
            (false, true) => {
                if dc > ON_EPS {
                    dst.push(intersect(prev, cur, dp, dc));
                }
                dst.push(cur);
            }
            (true, true) => dst.push(cur),
            (true, false) => {
                if dp > ON_EPS {
                    dst.push(intersect(prev, cur, dp, dc));
                }
            }
            (false, false) => {}
        }
        (prev, dp) = (cur, dc);
    }
    true
}

/// Where segment p→q crosses the line. Uses the same formula whichever side
/// `p` is on, so two cells sharing the edge and the (negated) line agree exactly.
#[inline]
fn intersect(p: Point, q: Point, dp: f64, dq: f64) -> Point {
    let t = dp / (dp - dq);
    [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polygon::ring_area;

    fn keep_below(y: f64) -> HalfPlane {
        HalfPlane {
            nx: 0.0,
            ny: -1.0,
            c: -y,
        }
    }

    #[test]
    fn convex_square_cut_in_half() {
        let sq = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let hp = HalfPlane {
            nx: -1.0,
            ny: 0.0,
            c: -0.5,
        }; // x <= 0.5
        let mut out = Vec::new();
        clip_ring(&sq, &hp, &mut out);
        assert_eq!(out.len(), 1);
        assert!((ring_area(&out[0]) - 0.5).abs() < 1e-15);
        let mut other = Vec::new();
        clip_ring(&sq, &hp.flipped(), &mut other);
        assert!((ring_area(&other[0]) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn comb_splits_into_separate_simple_pieces() {
        // A "W"/comb with three teeth pointing up; cutting above the spine
        // must give three separate teeth, not one bridged ring.
        let comb = vec![
            [0.0, 0.0],
            [5.0, 0.0],
            [5.0, 3.0],
            [4.0, 3.0],
            [4.0, 1.0],
            [3.0, 1.0],
            [3.0, 3.0],
            [2.0, 3.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [1.0, 3.0],
            [0.0, 3.0],
        ];
        let hp = keep_below(2.0).flipped(); // y >= 2
        let mut out = Vec::new();
        clip_ring(&comb, &hp, &mut out);
        assert_eq!(out.len(), 3, "{out:?}");
        for r in &out {
            assert_eq!(r.len(), 4);
            assert!((ring_area(r) - 1.0).abs() < 1e-12, "CCW unit tooth: {r:?}");
        }
        let mut below = Vec::new();
        clip_ring(&comb, &keep_below(2.0), &mut below);
        assert_eq!(below.len(), 1);
        assert!((ring_area(&below[0]) - 8.0).abs() < 1e-12);
    }

    #[test]
    fn vertex_touching_line_from_outside_is_not_a_piece() {
        // A diamond whose top vertex touches y = 1 and a square above it.
        let diamond = vec![[0.0, 0.0], [1.0, -1.0], [2.0, 0.0], [1.0, 1.0]];
        let mut out = Vec::new();
        clip_ring(&diamond, &keep_below(1.0).flipped(), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // ... and from inside it is left untouched.
        clip_ring(&diamond, &keep_below(1.0), &mut out);
        assert_eq!(out, vec![diamond.clone()]);
    }

    #[test]
    fn line_through_vertices() {
        // Cut exactly through two vertices of a hexagon.
        let hex = vec![
            [2.0, 0.0],
            [1.0, 1.0],
            [-1.0, 1.0],
            [-2.0, 0.0],
            [-1.0, -1.0],
            [1.0, -1.0],
        ];
        let mut up = Vec::new();
        let mut down = Vec::new();
        clip_ring(&hex, &keep_below(0.0).flipped(), &mut up);
        clip_ring(&hex, &keep_below(0.0), &mut down);
        assert_eq!((up.len(), down.len()), (1, 1));
        assert_eq!(up[0].len(), 4);
        assert!((ring_area(&up[0]) - 3.0).abs() < 1e-12);
        assert!((ring_area(&down[0]) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn convex_clip_matches_general_clip() {
        let hex = vec![
            [2.0, 0.0],
            [1.0, 1.0],
            [-1.0, 1.0],
            [-2.0, 0.0],
            [-1.0, -1.0],
            [1.0, -1.0],
        ];
        let hp = HalfPlane {
            nx: 0.6,
            ny: -0.8,
            c: 0.1,
        };
        let mut general = Vec::new();
        clip_ring(&hex, &hp, &mut general);
        let mut convex = Vec::new();
        assert!(clip_convex(&hex, &hp, &mut convex));
        assert_eq!(general.len(), 1);
        assert!((ring_area(&general[0]) - ring_area(&convex)).abs() < 1e-15);
        assert!(ring_area(&convex) > 0.0 && ring_area(&convex) < ring_area(&hex));
        let far = HalfPlane {
            nx: 1.0,
            ny: 0.0,
            c: -5.0,
        };
        assert!(!clip_convex(&hex, &far, &mut convex));
    }

    #[test]
    fn bisector_negates_exactly() {
        let (a, b) = ([120.61, 30.02], [120.67, 29.98]);
        let ha = HalfPlane::closer_to(a, b, 0.866).unwrap();
        let hb = ha.flipped();
        assert!(ha.dist(a) > 0.0 && ha.dist(b) < 0.0);
        let p = [120.6312345, 30.0098765];
        assert_eq!(ha.dist(p), -hb.dist(p));
    }
}
