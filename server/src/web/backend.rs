//! What the server functions call: the indicator engine read through the access policy. No dashboard
//! read runs SQL; the tablet's list takes its cases' details from the store by key.
use crate::ingest::Ingest;
use engine::Engine;
use crate::policy::Policy;
use app::backend::{AccessError, Backend, Reply, Viewer};
use app::model::{Coverage, DeskView, FlowReport, MapLayer, Period, PublicReport, WallSnapshot};
use std::sync::{Arc, RwLock};

/// Cases on the tablet's list.
const DESK_LIMIT: u32 = 100;
/// A centre's deadlines met are counted over this many days.
const CENTRE_DAYS: u32 = 30;

pub struct Cockpit {
    pub policy: Policy,
    pub engine: Arc<RwLock<Engine>>,
    /// Where oversight actions from the tablet enter, like every other event.
    pub ingest: Ingest,
    /// The configured feeds: operated from the feeds page, pushed to by webhooks.
    pub feeds: Arc<crate::feeds::registry::Registry>,
    /// Where `[[feeds]]` are re-read from on reload.
    pub config_file: Option<std::path::PathBuf>,
    /// The live streams open, and how many may be.
    pub streams: super::streams::Streams,
    /// Residents' reports and the public Open311 reads.
    pub residents: crate::residents::Residents,
    /// Early warnings: the open ones walls show, and the steps centres take.
    pub warnings: Arc<crate::warning::Warnings>,
}

fn unavailable(e: crate::store::StoreError) -> AccessError {
    tracing::error!("store: {e}");
    AccessError::Unavailable
}

impl Cockpit {
    /// What time it is for every page, API and stream.
    pub fn now(&self) -> i64 {
        self.ingest.clock().now_ms()
    }

    pub fn snapshot(&self, region: usize) -> WallSnapshot {
        let now = self.now();
        let stale = self.feeds.stale_feeds(now).into_iter().filter(|(_, k)| *k == crate::feeds::mapping::RecordKind::Case).map(|(n, _)| n).collect();
        let (warnings, warning_count) = self.warnings.open_under(region);
        WallSnapshot { stale, warnings, warning_count, ..self.engine.read().expect("engine lock").snapshot(region) }
    }
}

impl Backend for Cockpit {
    fn viewer(&self, parts: Option<&http::request::Parts>) -> Result<Viewer, AccessError> {
        self.policy.viewer(parts)
    }

    fn playlist(&self, viewer: &Viewer) -> Result<Option<app::model::PlaylistNow>, AccessError> {
        self.policy.dashboard_region(viewer, None)?;
        let Some(id) = viewer.principal.strip_prefix("device:").and_then(|id| id.parse::<i64>().ok()) else {
            return Ok(None);
        };
        let stored = self.policy.auth().device_playlist(id);
        // Stored only after `Playlist::check`; a row that no longer reads is logged and shown as none.
        let playlist = stored.and_then(|json| {
            serde_json::from_str::<app::model::Playlist>(&json).map_err(|e| tracing::error!(device = id, "stored playlist does not read: {e}")).ok()
        });
        Ok(playlist.map(|playlist| app::model::PlaylistNow { playlist, now: self.now() }))
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
        let grid = self.engine.read().expect("engine lock").grid_info(idx);
        Ok(MapLayer { region: tree.refer(idx), path: tree.path_from(top, idx), geojson, schematic, grid })
    }

    fn coverage(&self, viewer: &Viewer, region: Option<&str>, days: u32) -> Result<Coverage, AccessError> {
        let idx = self.policy.dashboard_region(viewer, region)?;
        let e = self.engine.read().expect("engine lock");
        Ok(e.coverage(idx, e.now(), days.clamp(1, 92)))
    }

    fn flow_report<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>, period: Period) -> Reply<'a, FlowReport> {
        Box::pin(async move {
            let idx = self.policy.dashboard_region(viewer, region)?;
            Ok(self.engine.read().expect("engine lock").flow_report(idx, period))
        })
    }

    fn safety<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>) -> Reply<'a, app::model::SafetyView> {
        Box::pin(async move {
            let idx = self.policy.dashboard_region(viewer, region)?;
            let now = self.now();
            let stale: Vec<String> = self.feeds.stale_feeds(now).into_iter().map(|(n, _)| n).collect();
            let e = self.engine.read().expect("engine lock");
            Ok(super::safety::view(&e, idx, &stale, now))
        })
    }

    fn warnings<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>) -> Reply<'a, app::warning::WarningList> {
        Box::pin(async move { self.warnings.list(&self.policy, viewer, region, self.now()).await })
    }

    fn desk<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>, queue: app::model::DeskQueue) -> Reply<'a, DeskView> {
        Box::pin(async move {
            let now = self.now();
            let q = self.policy.case_query(viewer, region, true, DESK_LIMIT)?;
            let idx = self.policy.region(viewer, region)?;
            use engine::desk::Queue;
            let list = match queue {
                app::model::DeskQueue::Alerts => Queue::Alerting,
                app::model::DeskQueue::Residents => Queue::Feed(crate::residents::FEED.to_string()),
                app::model::DeskQueue::Centre => Queue::Centre,
                app::model::DeskQueue::Referrals => Queue::Source(app::model::Source::Court),
            };
            let filter = engine::desk::DeskFilter { region: idx, department: q.department.clone(), limit: DESK_LIMIT as usize, queue: list };
            let (keys, centre) = {
                let e = self.engine.read().expect("engine lock");
                let load = (filter.queue == Queue::Centre).then(|| {
                    let l = e.centre_load(idx, now, i64::from(CENTRE_DAYS));
                    let level = self.policy.tree().get(idx).row.level;
                    app::model::CentreFigures { level, held: l.held, overdue: l.overdue, due: l.due, on_time: l.on_time, days: CENTRE_DAYS }
                });
                (e.alerting(&filter), load)
            };
            let cases = self.policy.auth().store().cases_by_keys(&keys).await.map_err(unavailable)?;
            // A list is for triage: masked for everyone; the full record is one audited view away.
            let cases = cases.into_iter().map(|c| super::cases::view(&self.policy, viewer, c, false, now)).collect();
            Ok(DeskView { region: self.policy.tree().refer(idx), cases, centre, as_of: now })
        })
    }

    fn public_report(&self) -> PublicReport {
        let now = self.now();
        let tree = self.policy.tree();
        let rows = self.engine.read().expect("engine lock").public_rows();
        PublicReport { city: tree.get(tree.root()).row.name.clone(), rows, as_of: now }
    }
}
