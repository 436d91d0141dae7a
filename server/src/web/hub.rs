//! One snapshot per region per change, shared by every live stream of that region. A region's first
//! subscriber starts its publisher; the publisher wakes on every change the ingest announces, computes
//! the region's snapshot once, and publishes it, serialised once, only if something the screen shows
//! differs from the last one it published (a change elsewhere in the city, or only the time, wakes no
//! wall). The first change after a quiet spell goes out at once (leading edge); later ones of a burst
//! go out together, at most one per `COALESCE`. Each frame carries, beside the snapshot, the patch from
//! the previous frame, so a stream that keeps up sends only what changed. The publisher stops when its
//! last subscriber leaves.
use super::AppState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Changes closer together than this go out as one snapshot.
pub const COALESCE: Duration = Duration::from_millis(250);

/// A region's snapshot as it goes out: the JSON of a `WallSnapshot`, and what changed since the
/// region's previous frame (`{"base": seq - 1, "ops": JSON Patch}`) when that is shorter.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Counts the region's publications from 1.
    pub seq: u64,
    pub json: Arc<str>,
    pub patch: Option<Arc<str>>,
}

/// What the hub has done since the server started, for /metrics.
#[derive(Default)]
pub struct HubCounts {
    /// Snapshots computed by publishers (one per region per change).
    pub computed: AtomicU64,
    /// Snapshots published (what a screen shows changed).
    pub published: AtomicU64,
    /// Bytes of JSON published (before each subscriber's copy).
    pub published_bytes: AtomicU64,
    /// Bytes of the patches published beside them (what a stream that keeps up receives).
    pub patch_bytes: AtomicU64,
    /// Walls that reloaded themselves, by why (`RELOAD_REASONS`), as they reported on reconnecting.
    pub reloads: [AtomicU64; 2],
}

/// Why a wall's watchdog reloads the page: its heap passed the budget, or its stream stayed down while
/// the server answered.
pub const RELOAD_REASONS: [&str; 2] = ["heap", "stream"];

impl HubCounts {
    /// Prometheus text for the live streams.
    pub fn render(&self, open_streams: usize, regions: usize) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = format!(
            "# HELP cockpit_live_streams Live streams open.\n# TYPE cockpit_live_streams gauge\ncockpit_live_streams {open_streams}\n\
             # HELP cockpit_live_regions Regions with a snapshot publisher.\n# TYPE cockpit_live_regions gauge\ncockpit_live_regions {regions}\n\
             # HELP cockpit_live_snapshots_computed_total Region snapshots computed for live streams.\n# TYPE cockpit_live_snapshots_computed_total counter\n\
             cockpit_live_snapshots_computed_total {}\n\
             # HELP cockpit_live_snapshots_published_total Region snapshots published (what a screen shows changed).\n\
             # TYPE cockpit_live_snapshots_published_total counter\ncockpit_live_snapshots_published_total {}\n\
             # HELP cockpit_live_published_bytes_total Bytes of snapshot JSON published, once per region.\n\
             # TYPE cockpit_live_published_bytes_total counter\ncockpit_live_published_bytes_total {}\n\
             # HELP cockpit_live_patch_bytes_total Bytes of the patches published beside the snapshots.\n\
             # TYPE cockpit_live_patch_bytes_total counter\ncockpit_live_patch_bytes_total {}\n\
             # HELP cockpit_wall_reloads_total Walls whose watchdog reloaded the page, by reason.\n# TYPE cockpit_wall_reloads_total counter\n",
            n(&self.computed),
            n(&self.published),
            n(&self.published_bytes),
            n(&self.patch_bytes),
        );
        for (reason, c) in RELOAD_REASONS.iter().zip(&self.reloads) {
            out.push_str(&format!("cockpit_wall_reloads_total{{reason=\"{reason}\"}} {}\n", n(c)));
        }
        out
    }
}

#[derive(Default)]
pub struct Hub {
    regions: Mutex<HashMap<usize, watch::Sender<Option<Frame>>>>,
    pub counts: HubCounts,
}

impl Hub {
    /// The stream of `region`'s frames, starting its publisher if it has none. The receiver holds the
    /// latest frame (None until the first is computed).
    pub fn subscribe(self: &Arc<Hub>, state: &AppState, region: usize) -> watch::Receiver<Option<Frame>> {
        let mut regions = self.regions.lock().expect("hub lock");
        if let Some(tx) = regions.get(&region) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(None);
        regions.insert(region, tx.clone());
        tokio::spawn(publish(self.clone(), state.clone(), region, tx));
        rx
    }

    /// Regions with a publisher now.
    pub fn regions(&self) -> usize {
        self.regions.lock().expect("hub lock").len()
    }

    /// Ends `region`'s publisher if nobody listens any more (decided under the lock, so a subscriber
    /// arriving now either finds the channel still registered or starts a new one).
    fn release(&self, region: usize, tx: &watch::Sender<Option<Frame>>) -> bool {
        let mut regions = self.regions.lock().expect("hub lock");
        if tx.receiver_count() > 0 {
            return false;
        }
        if regions.get(&region).is_some_and(|t| t.same_channel(tx)) {
            regions.remove(&region);
        }
        true
    }
}

async fn publish(hub: Arc<Hub>, mut state: AppState, region: usize, tx: watch::Sender<Option<Frame>>) {
    // The last frame published, as JSON: what the next one is compared with and patched against.
    let mut last: Option<serde_json::Value> = None;
    let mut sent_at: Option<Instant> = None;
    let mut seq = 0u64;
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            tokio::select! {
                r = state.changed.changed() => if r.is_err() { break },
                _ = tx.closed() => {
                    if hub.release(region, &tx) { return }
                    continue;
                }
                _ = state.shutdown.changed() => break,
            }
            if let Some(rest) = sent_at.and_then(|s| COALESCE.checked_sub(s.elapsed())) {
                tokio::time::sleep(rest).await;
            }
        }
        if *state.shutdown.borrow() {
            break;
        }
        state.changed.borrow_and_update();
        let snap = state.cockpit.snapshot(region);
        hub.counts.computed.fetch_add(1, Ordering::Relaxed);
        let value = match serde_json::to_value(&snap) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(region, "a snapshot does not serialise: {e}");
                continue;
            }
        };
        let ops = last.as_ref().map(|prev| app::patch::diff(prev, &value));
        // Only the time moved: the screen shows nothing new.
        if ops.as_ref().is_some_and(|o| o.as_array().is_some_and(|o| o.iter().all(|op| op["path"] == "/as_of"))) {
            continue;
        }
        let json: Arc<str> = value.to_string().into();
        let patch = ops.map(|ops| serde_json::json!({ "base": seq, "ops": ops }).to_string());
        let patch: Option<Arc<str>> = patch.filter(|p| p.len() < json.len()).map(Into::into);
        seq += 1;
        hub.counts.published.fetch_add(1, Ordering::Relaxed);
        hub.counts.published_bytes.fetch_add(json.len() as u64, Ordering::Relaxed);
        hub.counts.patch_bytes.fetch_add(patch.as_ref().map_or(0, |p| p.len() as u64), Ordering::Relaxed);
        last = Some(value);
        sent_at = Some(Instant::now());
        tx.send_replace(Some(Frame { seq, json, patch }));
    }
    // Shutting down: the channel goes with the hub's entry, and streams end on their own shutdown watch.
    hub.regions.lock().expect("hub lock").remove(&region);
}
