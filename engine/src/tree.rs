//! The region tree (city → district → town → village/community → grid) and its geometry.
//! Loaded once at start (from the store, or generated for the demo city) and shared read-only. Regions
//! are numbered in pre-order, so a subtree is an interval of numbers and "is X within Y" is two
//! comparisons.

use app::model::{GridInfo, GridKind, Level, RegionRef};
use geom::MultiPolygon;
use std::collections::HashMap;

/// One node as stored: enough to rebuild the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub shape: MultiPolygon,
    /// Real boundary (false) or generated 示意 (true).
    pub schematic: bool,
    pub grid: Option<GridAttrs>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GridAttrs {
    pub kind: GridKind,
    /// None: the post is vacant.
    pub worker: Option<String>,
    pub households: u32,
    pub population: u32,
    /// When households and population were last updated (ms; None: never recorded).
    pub base_updated: Option<i64>,
}

#[derive(Debug)]
pub struct Region {
    pub row: RegionRow,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// Grids in this subtree, and how many of them have a worker.
    pub grids: u32,
    pub staffed: u32,
    pub population: u64,
}

#[derive(Debug)]
pub struct RegionTree {
    regions: Vec<Region>,
    by_code: HashMap<String, usize>,
    /// Pre-order number of each region, and one past the last number in its subtree.
    pre: Vec<u32>,
    end: Vec<u32>,
    /// Every grid, in pre-order.
    grids: Vec<usize>,
}

impl RegionTree {
    /// Rows must list every parent before its children, with exactly one root.
    pub fn new(rows: Vec<RegionRow>) -> Result<RegionTree, String> {
        let mut regions: Vec<Region> = Vec::with_capacity(rows.len());
        let mut by_code: HashMap<String, usize> = HashMap::with_capacity(rows.len());
        for row in rows {
            let parent = match &row.parent {
                None if regions.is_empty() => None,
                None => return Err(format!("second root region {}", row.code)),
                Some(p) => {
                    let &pi = by_code.get(p).ok_or_else(|| format!("region {} names unknown parent {p}", row.code))?;
                    let pl: Level = regions[pi].row.level;
                    if pl.child() != Some(row.level) {
                        return Err(format!("region {} ({:?}) cannot sit under {p} ({pl:?})", row.code, row.level));
                    }
                    Some(pi)
                }
            };
            let idx = regions.len();
            if by_code.insert(row.code.clone(), idx).is_some() {
                return Err(format!("duplicate region code {}", row.code));
            }
            if let Some(p) = parent {
                regions[p].children.push(idx);
            }
            regions.push(Region { row, parent, children: Vec::new(), grids: 0, staffed: 0, population: 0 });
        }
        if regions.is_empty() {
            return Err("no regions".into());
        }
        // Children come after parents, so a reverse pass rolls totals up in one go.
        for i in (0..regions.len()).rev() {
            if let Some((staffed, people)) = regions[i].row.grid.as_ref().map(|g| (g.worker.is_some(), g.population)) {
                let r = &mut regions[i];
                r.grids += 1;
                r.staffed += u32::from(staffed);
                r.population += u64::from(people);
            }
            if let Some(p) = regions[i].parent {
                let (g, s, pop) = (regions[i].grids, regions[i].staffed, regions[i].population);
                regions[p].grids += g;
                regions[p].staffed += s;
                regions[p].population += pop;
            }
        }
        let (mut pre, mut end) = (vec![0u32; regions.len()], vec![0u32; regions.len()]);
        let mut next = 0u32;
        // Iterative depth-first walk: (region, children visited yet).
        let mut stack = vec![(0usize, false)];
        while let Some((i, done)) = stack.pop() {
            if done {
                end[i] = next;
                continue;
            }
            pre[i] = next;
            next += 1;
            stack.push((i, true));
            stack.extend(regions[i].children.iter().rev().map(|&c| (c, false)));
        }
        let mut grids: Vec<usize> = (0..regions.len()).filter(|&i| regions[i].row.grid.is_some()).collect();
        grids.sort_unstable_by_key(|&g| pre[g]);
        Ok(RegionTree { regions, by_code, pre, end, grids })
    }

    /// A fingerprint of the tree's shape and codes: a snapshot of figures counted on another tree is
    /// not to be trusted.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for r in &self.regions {
            for b in r.row.code.bytes().chain([0]).chain(r.parent.map_or(u32::MAX, |p| p as u32).to_le_bytes()) {
                h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
        h
    }

    /// City, districts and towns: the regions whose figures are kept per day (the rest are scanned).
    pub fn is_rollup(&self, idx: usize) -> bool {
        self.regions[idx].row.level <= Level::Town
    }

    /// The grids under `idx` (itself when it is one), in pre-order: one run of `grids`, found without
    /// walking the subtree.
    pub fn grids_under(&self, idx: usize) -> &[usize] {
        let (lo, hi) = (self.pre[idx], self.end[idx]);
        let at = |p: u32| self.grids.partition_point(|&g| self.pre[g] < p);
        &self.grids[at(lo)..at(hi)]
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    pub fn root(&self) -> usize {
        0
    }

    pub fn find(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }

    pub fn get(&self, idx: usize) -> &Region {
        &self.regions[idx]
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Region)> {
        self.regions.iter().enumerate()
    }

    /// `idx` and its ancestors, nearest first.
    pub fn ancestors(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(idx), move |&i| self.regions[i].parent)
    }

    /// True when `idx` lies in the subtree rooted at `top` (a region is within itself).
    pub fn is_within(&self, idx: usize, top: usize) -> bool {
        (self.pre[top]..self.end[top]).contains(&self.pre[idx])
    }

    /// `idx`'s pre-order number: lists kept in this order hold each subtree as one run (`subtree`).
    pub fn pre_order(&self, idx: usize) -> u32 {
        self.pre[idx]
    }

    /// The pre-order numbers of `top`'s subtree.
    pub fn subtree(&self, top: usize) -> std::ops::Range<u32> {
        self.pre[top]..self.end[top]
    }

    pub fn refer(&self, idx: usize) -> RegionRef {
        let r = &self.regions[idx].row;
        RegionRef { code: r.code.clone(), name: r.name.clone(), level: r.level }
    }

    /// From `top` down to `idx` (both included); empty when `idx` is outside `top`.
    pub fn path_from(&self, top: usize, idx: usize) -> Vec<RegionRef> {
        let mut path: Vec<usize> = Vec::new();
        for a in self.ancestors(idx) {
            path.push(a);
            if a == top {
                path.reverse();
                return path.into_iter().map(|i| self.refer(i)).collect();
            }
        }
        Vec::new()
    }

    pub fn grid_info(&self, idx: usize) -> Option<GridInfo> {
        let r = &self.regions[idx].row;
        r.grid.as_ref().map(|g| GridInfo {
            code: r.code.clone(),
            name: r.name.clone(),
            kind: g.kind,
            worker: g.worker.clone(),
            households: g.households,
            population: g.population,
            last_patrol: None,
            duty: None,
        })
    }

    /// "town·village" for a case's grid: where it happened, without any person's data.
    pub fn place(&self, grid: usize) -> String {
        let mut names: Vec<&str> = self
            .ancestors(grid)
            .filter(|&i| matches!(self.regions[i].row.level, Level::Town | Level::Village))
            .map(|i| self.regions[i].row.name.as_str())
            .collect();
        names.reverse();
        names.join("·")
    }

    /// The map of `idx`: its children's shapes, or its own when it is a leaf, as a GeoJSON FeatureCollection.
    pub fn layer_geojson(&self, idx: usize) -> (String, bool) {
        let r = &self.regions[idx];
        let shown: Vec<usize> = if r.children.is_empty() { vec![idx] } else { r.children.clone() };
        let schematic = shown.iter().any(|&i| self.regions[i].row.schematic);
        let features: Vec<serde_json::Value> = shown
            .iter()
            .map(|&i| {
                let row = &self.regions[i].row;
                serde_json::json!({
                    "type": "Feature",
                    // `cp` is where ECharts puts the label; a point inside the shape.
                    "properties": { "code": row.code, "name": row.name, "cp": geom::label_point(&row.shape) },
                    "geometry": { "type": "MultiPolygon", "coordinates": closed_rings(&row.shape) },
                })
            })
            .collect();
        let fc = serde_json::json!({ "type": "FeatureCollection", "features": features });
        (fc.to_string(), schematic)
    }
}

/// GeoJSON polygons: each part one exterior ring, closed (first point repeated at the end).
fn closed_rings(mp: &MultiPolygon) -> Vec<Vec<Vec<[f64; 2]>>> {
    mp.iter()
        .map(|ring| {
            let mut r = ring.clone();
            if let Some(&first) = r.first() {
                r.push(first);
            }
            vec![r]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// The grids found by walking each region's subtree: what `grids_under`'s run must hold.
    fn walked(tree: &super::RegionTree, idx: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut todo = vec![idx];
        while let Some(i) = todo.pop() {
            if tree.get(i).row.grid.is_some() {
                out.push(i);
            }
            todo.extend(tree.get(i).children.iter().copied());
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn each_regions_grids_are_its_run_in_pre_order() {
        for tree in [crate::testing::tree(), crate::hand::tree()] {
            let mut seen = 0;
            for idx in 0..tree.len() {
                let mut got = tree.grids_under(idx).to_vec();
                assert!(got.windows(2).all(|w| tree.pre_order(w[0]) < tree.pre_order(w[1])), "in pre-order");
                got.sort_unstable();
                assert_eq!(got, walked(&tree, idx), "region {}", tree.get(idx).row.code);
                seen += got.len();
            }
            assert!(seen > tree.grids_under(0).len(), "some region below the root has grids");
        }
    }
}
