//! A static R-tree over bounding boxes, packed once by sort-tile-recursive (STR): which of many polygons
//! may hold a point, without testing them all. Built once per region tree; read-only afterwards.

/// `[min_x, min_y, max_x, max_y]`.
pub type BBox = [f64; 4];

const FANOUT: usize = 16;

pub struct RTree {
    /// Levels bottom-up: level 0 holds the items' boxes (in packed order), each higher level one box per
    /// group of `FANOUT` boxes below it.
    levels: Vec<Vec<BBox>>,
    /// The caller's index of each packed leaf.
    items: Vec<usize>,
}

fn union(a: BBox, b: BBox) -> BBox {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

fn holds(b: &BBox, x: f64, y: f64) -> bool {
    b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3]
}

impl RTree {
    /// Packs `boxes` (index = the caller's id). Boxes with NaN or inverted bounds are left out.
    pub fn new(boxes: &[BBox]) -> RTree {
        let mut items: Vec<usize> = (0..boxes.len()).filter(|&i| boxes[i][0] <= boxes[i][2] && boxes[i][1] <= boxes[i][3]).collect();
        let cx = |i: &usize| boxes[*i][0] + boxes[*i][2];
        let cy = |i: &usize| boxes[*i][1] + boxes[*i][3];
        // STR: sort by x, cut into vertical slices, sort each slice by y; neighbours end up in one leaf group.
        items.sort_by(|a, b| cx(a).total_cmp(&cx(b)));
        let groups = items.len().div_ceil(FANOUT).max(1);
        let slice = FANOUT * (groups as f64).sqrt().ceil() as usize;
        for s in items.chunks_mut(slice) {
            s.sort_by(|a, b| cy(a).total_cmp(&cy(b)));
        }
        let mut levels = vec![items.iter().map(|&i| boxes[i]).collect::<Vec<BBox>>()];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let up = levels.last().expect("a level").chunks(FANOUT).map(|c| c.iter().copied().reduce(union).expect("non-empty chunk")).collect();
            levels.push(up);
        }
        RTree { levels, items }
    }

    /// The ids whose box holds `(x, y)`, in no particular order.
    pub fn candidates(&self, x: f64, y: f64) -> Vec<usize> {
        let mut out = Vec::new();
        let top = self.levels.len() - 1;
        let mut stack: Vec<(usize, usize)> = (0..self.levels[top].len()).map(|i| (top, i)).collect();
        while let Some((level, i)) = stack.pop() {
            if !holds(&self.levels[level][i], x, y) {
                continue;
            }
            if level == 0 {
                out.push(self.items[i]);
            } else {
                let below = self.levels[level - 1].len();
                stack.extend((i * FANOUT..((i + 1) * FANOUT).min(below)).map(|j| (level - 1, j)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn finds_exactly_the_boxes_a_brute_force_scan_finds() {
        let mut rng = SplitMix64::new(7);
        for n in [0usize, 1, 15, 16, 17, 300, 2000] {
            let boxes: Vec<BBox> = (0..n)
                .map(|_| {
                    let (x, y) = (rng.range(120.0, 121.0), rng.range(29.5, 30.5));
                    [x, y, x + rng.range(0.0, 0.05), y + rng.range(0.0, 0.05)]
                })
                .collect();
            let tree = RTree::new(&boxes);
            for _ in 0..500 {
                let (x, y) = (rng.range(119.9, 121.1), rng.range(29.4, 30.6));
                let mut got = tree.candidates(x, y);
                got.sort_unstable();
                let want: Vec<usize> = (0..n).filter(|&i| holds(&boxes[i], x, y)).collect();
                assert_eq!(got, want, "n = {n} at ({x}, {y})");
            }
        }
    }

    #[test]
    fn ignores_invalid_boxes_and_points() {
        let tree = RTree::new(&[[f64::NAN, 0.0, 1.0, 1.0], [2.0, 2.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]);
        assert_eq!(tree.candidates(0.5, 0.5), vec![2]);
        assert!(tree.candidates(f64::NAN, 0.5).is_empty());
        assert!(tree.candidates(f64::INFINITY, 0.5).is_empty());
    }
}
