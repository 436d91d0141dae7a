//! Where a record happened: a region code taken as given, or a point (in the vendor's datum) put in its
//! grid by point-in-polygon over an R-tree of grid boxes, or an address in words placed by the region
//! names in it (`gazetteer`).
use crate::city::RegionTree;
use app::model::Level;
use geom::rtree::RTree;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The datum of a feed's coordinates. Chinese map vendors emit GCJ-02 (AMap, Tencent) or BD-09 (Baidu).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

impl Datum {
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Datum::Wgs84 => (lon, lat),
            Datum::Gcj02 => geom::china::gcj02_to_wgs84(lon, lat),
            Datum::Bd09 => geom::china::bd09_to_wgs84(lon, lat),
        }
    }
}

pub struct Locator {
    tree: Arc<RegionTree>,
    grids: Vec<usize>,
    index: RTree,
    gazetteer: super::gazetteer::Gazetteer,
}

impl Locator {
    pub fn new(tree: Arc<RegionTree>) -> Locator {
        let grids: Vec<usize> = tree.iter().filter(|(_, r)| r.row.level == Level::Grid).map(|(i, _)| i).collect();
        let boxes: Vec<geom::rtree::BBox> = grids.iter().map(|&i| geom::bbox(&tree.get(i).row.shape)).collect();
        Locator { index: RTree::new(&boxes), grids, gazetteer: super::gazetteer::Gazetteer::new(&tree), tree }
    }

    pub fn tree(&self) -> &RegionTree {
        &self.tree
    }

    /// The grid holding a WGS-84 point.
    pub fn grid_at(&self, lon: f64, lat: f64) -> Option<&str> {
        self.index
            .candidates(lon, lat)
            .into_iter()
            .map(|k| self.grids[k])
            .find(|&i| geom::contains(&self.tree.get(i).row.shape, [lon, lat]))
            .map(|i| self.tree.get(i).row.code.as_str())
    }

    /// A region code as given, if the city has it and it is at least as fine as `finest_needed`.
    pub fn region(&self, code: &str, must_be_grid: bool) -> Result<String, String> {
        match self.tree.find(code) {
            Some(i) if !must_be_grid || self.tree.get(i).row.level == Level::Grid => Ok(code.to_string()),
            Some(_) => Err(format!("region {code:?} is not a grid")),
            None => Err(format!("unknown region code {code:?}")),
        }
    }

    /// The grid an address in words places a record in (see `gazetteer`).
    pub fn address(&self, words: &str) -> Result<&str, super::gazetteer::AddressMiss> {
        self.gazetteer.place(&self.tree, words).map(|i| self.tree.get(i).row.code.as_str())
    }

    /// The grid at a point in `datum`, or why there is none.
    pub fn locate(&self, lon: f64, lat: f64, datum: Datum) -> Result<String, String> {
        if !(lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
            return Err(format!("({lon}, {lat}) is not a longitude and latitude"));
        }
        let (x, y) = datum.to_wgs84(lon, lat);
        self.grid_at(x, y).map(str::to_string).ok_or_else(|| format!("point ({lon}, {lat}) lies in no grid of the city"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_land_in_the_grid_whose_label_point_they_are_in_every_datum() {
        let tree = Arc::new(RegionTree::new(crate::city::shaoxing::build()).unwrap());
        let loc = Locator::new(tree.clone());
        let mut checked = 0;
        for (i, r) in tree.iter().filter(|(_, r)| r.row.level == Level::Grid).step_by(97) {
            let [lon, lat] = geom::label_point(&r.row.shape);
            assert_eq!(loc.grid_at(lon, lat), Some(r.row.code.as_str()), "grid {i}");
            let (glon, glat) = geom::china::wgs84_to_gcj02(lon, lat);
            assert_eq!(loc.locate(glon, glat, Datum::Gcj02).unwrap(), r.row.code);
            let (blon, blat) = geom::china::gcj02_to_bd09(glon, glat);
            assert_eq!(loc.locate(blon, blat, Datum::Bd09).unwrap(), r.row.code);
            checked += 1;
        }
        assert!(checked > 10);
        assert!(loc.locate(116.4, 39.9, Datum::Wgs84).unwrap_err().contains("no grid"));
        assert!(loc.locate(f64::NAN, 30.0, Datum::Wgs84).is_err());
        assert!(loc.region("330602", true).unwrap_err().contains("not a grid"));
        assert!(loc.region("nope", false).unwrap_err().contains("unknown"));
    }
}
