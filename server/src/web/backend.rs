//! What the server functions call: the live aggregates read through the access policy.
use crate::aggregates::Aggregates;
use crate::policy::Policy;
use app::backend::{AccessError, Backend, Viewer};
use app::model::{MapLayer, PublicReport, WallSnapshot};
use std::sync::{Arc, RwLock};

pub struct Cockpit {
    pub policy: Policy,
    pub aggregates: Arc<RwLock<Aggregates>>,
}

impl Cockpit {
    pub fn snapshot(&self, region: usize) -> WallSnapshot {
        let now = crate::clock::now_ms();
        self.aggregates.read().expect("aggregates lock").snapshot(region, now)
    }
}

impl Backend for Cockpit {
    fn viewer(&self, parts: Option<&http::request::Parts>) -> Result<Viewer, AccessError> {
        self.policy.viewer(parts)
    }

    fn wall_snapshot(&self, viewer: &Viewer, region: Option<&str>) -> Result<WallSnapshot, AccessError> {
        let idx = self.policy.dashboard_region(viewer, region)?;
        Ok(self.snapshot(idx))
    }

    fn map_layer(&self, viewer: &Viewer, region: Option<&str>) -> Result<MapLayer, AccessError> {
        let idx = self.policy.dashboard_region(viewer, region)?;
        let tree = self.policy.tree();
        let top = tree.find(&viewer.scope.root).ok_or(AccessError::NotFound)?;
        let (geojson, schematic) = tree.layer_geojson(idx);
        Ok(MapLayer { region: tree.refer(idx), path: tree.path_from(top, idx), geojson, schematic, grid: tree.grid_info(idx) })
    }

    fn public_report(&self) -> PublicReport {
        let now = crate::clock::now_ms();
        let tree = self.policy.tree();
        let rows = self.aggregates.read().expect("aggregates lock").public_rows(now);
        PublicReport { city: tree.get(tree.root()).row.name.clone(), rows, as_of: now }
    }
}
