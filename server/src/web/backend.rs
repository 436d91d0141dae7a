//! What the server functions call: the live aggregates read through the access policy.
use crate::aggregates::Aggregates;
use crate::analytics::{self, Windows};
use crate::ingest::Ingest;
use crate::policy::Policy;
use app::backend::{AccessError, Backend, Reply, Viewer};
use app::model::{Coverage, DeskView, FlowReport, MapLayer, Period, PublicReport, WallSnapshot};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// Flow reports are recomputed from storage at most this often per region and period.
const FLOW_FRESH_MS: i64 = 30_000;
/// Cases on the tablet's list.
const DESK_LIMIT: u32 = 100;

pub struct Cockpit {
    pub policy: Policy,
    pub aggregates: Arc<RwLock<Aggregates>>,
    /// Where oversight actions from the tablet enter, like every other event.
    pub ingest: Ingest,
    pub flow_cache: Mutex<HashMap<(usize, Period), FlowReport>>,
    /// The configured feeds: operated from the feeds page, pushed to by webhooks.
    pub feeds: Arc<crate::feeds::registry::Registry>,
    /// Where `[[feeds]]` are re-read from on reload.
    pub config_file: Option<std::path::PathBuf>,
    /// The live streams open, and how many may be.
    pub streams: super::streams::Streams,
}

fn unavailable(e: crate::store::StoreError) -> AccessError {
    tracing::error!("store: {e}");
    AccessError::Unavailable
}

impl Cockpit {
    async fn compute_flow(&self, idx: usize, period: Period) -> Result<FlowReport, AccessError> {
        let now = self.now();
        let (from, to) = period.window(now);
        let w = Windows { from, to };
        let q = self.policy.subtree(idx);
        let store = self.policy.auth().store();
        // One read serves both this period and the one before: every case alive in either is alive in
        // their union, and the analytics count only what falls inside each window.
        let (pf, _) = w.previous();
        let cases = store.histories(&q, pf, w.to).await.map_err(unavailable)?;
        let (yf, yt) = w.year_ago();
        let year = store.histories(&q, yf, yt).await.map_err(unavailable)?;
        let year = (!year.is_empty()).then_some(year.as_slice());
        Ok(analytics::report(self.policy.tree(), idx, &w, &cases, &cases, year, now))
    }

    /// What time it is for every page, API and stream.
    pub fn now(&self) -> i64 {
        self.ingest.clock().now_ms()
    }

    pub fn snapshot(&self, region: usize) -> WallSnapshot {
        let now = self.now();
        let stale = self.feeds.stale_feeds(now).into_iter().filter(|(_, k)| *k == crate::feeds::mapping::RecordKind::Case).map(|(n, _)| n).collect();
        WallSnapshot { stale, ..self.aggregates.read().expect("aggregates lock").snapshot(region, now) }
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
        let grid = tree.grid_info(idx).map(|g| app::model::GridInfo { last_patrol: self.aggregates.read().expect("aggregates lock").last_patrol(idx), ..g });
        Ok(MapLayer { region: tree.refer(idx), path: tree.path_from(top, idx), geojson, schematic, grid })
    }

    fn coverage(&self, viewer: &Viewer, region: Option<&str>, days: u32) -> Result<Coverage, AccessError> {
        let idx = self.policy.dashboard_region(viewer, region)?;
        Ok(self.aggregates.read().expect("aggregates lock").coverage(idx, self.now(), days.clamp(1, 92)))
    }

    fn flow_report<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>, period: Period) -> Reply<'a, FlowReport> {
        Box::pin(async move {
            let idx = self.policy.dashboard_region(viewer, region)?;
            let now = self.now();
            let cached = self.flow_cache.lock().expect("flow cache").get(&(idx, period)).filter(|r| now - r.as_of < FLOW_FRESH_MS).cloned();
            if let Some(r) = cached {
                return Ok(r);
            }
            let r = self.compute_flow(idx, period).await?;
            let mut cache = self.flow_cache.lock().expect("flow cache");
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.insert((idx, period), r.clone());
            Ok(r)
        })
    }

    fn safety<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>) -> Reply<'a, app::model::SafetyView> {
        Box::pin(async move {
            let idx = self.policy.dashboard_region(viewer, region)?;
            let now = self.now();
            let stale: Vec<String> = self.feeds.stale_feeds(now).into_iter().map(|(n, _)| n).collect();
            let a = self.aggregates.read().expect("aggregates lock");
            Ok(super::safety::view(&a, idx, &stale, now))
        })
    }

    fn desk<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>) -> Reply<'a, DeskView> {
        Box::pin(async move {
            let now = self.now();
            let mut q = self.policy.case_query(viewer, region, true, DESK_LIMIT)?;
            q.alerting_at = Some(now);
            let idx = self.policy.region(viewer, region)?;
            let cases = self.policy.auth().store().cases(&q).await.map_err(unavailable)?;
            // A list is for triage: masked for everyone; the full record is one audited view away.
            let cases = cases.into_iter().map(|c| super::cases::view(&self.policy, viewer, c, false, now)).collect();
            Ok(DeskView { region: self.policy.tree().refer(idx), cases, as_of: now })
        })
    }

    fn public_report(&self) -> PublicReport {
        let now = self.now();
        let tree = self.policy.tree();
        let rows = self.aggregates.read().expect("aggregates lock").public_rows(now);
        PublicReport { city: tree.get(tree.root()).row.name.clone(), rows, as_of: now }
    }
}
