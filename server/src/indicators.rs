//! The indicator engine's place in the server. At start it is loaded from its snapshot file and the
//! events stored after it, or, without a usable snapshot, counted again from everything stored, a batch
//! at a time (never every event in memory at once). While the server runs, ingest counts into it, and
//! a background task writes the snapshot when something changed; the last one at shutdown.
use crate::city::RegionTree;
use crate::ingest::Ingest;
use crate::store::{Store, StoreError};
use engine::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Events read from the store per batch.
const BATCH: u32 = 50_000;
const EVENTS: &str = "case_events";
const OBSERVATIONS: &str = "observations";

pub fn snapshot_path(data_dir: &Path) -> PathBuf {
    data_dir.join("engine.snapshot")
}

/// Where the engine stands in the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    pub events: i64,
    pub observations: i64,
}

impl Positions {
    fn to_pairs(self) -> Vec<(String, i64)> {
        vec![(EVENTS.into(), self.events), (OBSERVATIONS.into(), self.observations)]
    }

    fn from_pairs(p: &[(String, i64)]) -> Option<Positions> {
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        Some(Positions { events: get(EVENTS)?, observations: get(OBSERVATIONS)? })
    }
}

/// Takes what the store holds after `from` into `e`; returns the new positions.
async fn take_tail(e: &mut Engine, store: &dyn Store, from: Positions) -> Result<Positions, StoreError> {
    let mut at = from;
    loop {
        let batch = store.replay_after(at.events, BATCH).await?;
        let Some(&(last, _)) = batch.last() else { break };
        for (_, ev) in &batch {
            e.take(ev);
        }
        at.events = last;
    }
    for (grid, when) in store.last_patrols().await? {
        e.patrolled(&grid, when);
    }
    for (taken, feed, (id, version, o)) in store.observations_after(at.observations).await? {
        e.observe(&feed, &id, version, &o);
        at.observations = taken;
    }
    Ok(at)
}

/// The engine as the store makes it: every stored event in the order the store took it, the last
/// patrol of every grid and every observation, swept to `now`. What a restart without a snapshot
/// loads, and what every recount test compares the live figures with.
pub async fn recount(tree: Arc<RegionTree>, store: &dyn Store, now: i64) -> Result<Engine, StoreError> {
    let mut e = Engine::new(tree);
    take_tail(&mut e, store, Positions { events: 0, observations: -1 }).await?;
    e.sweep(now);
    Ok(e)
}

/// How the engine came to be at start, for the log.
#[derive(Debug, PartialEq)]
pub enum Origin {
    Snapshot { tail_events: i64 },
    Recounted { why: String },
}

/// Loads the snapshot in `data_dir` and the tail after it; without a usable one (missing, damaged,
/// another version or region tree), counts everything again and says why.
pub async fn start(tree: Arc<RegionTree>, store: &dyn Store, data_dir: &Path, now: i64) -> Result<(Engine, Origin), StoreError> {
    start_at(tree, store, data_dir, now).await.map(|(e, o, _)| (e, o))
}

/// `start`, with where in the store the engine then stands (an instance on a shared store carries on
/// from there).
pub async fn start_at(tree: Arc<RegionTree>, store: &dyn Store, data_dir: &Path, now: i64) -> Result<(Engine, Origin, Positions), StoreError> {
    let path = snapshot_path(data_dir);
    let loaded = match std::fs::File::open(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("there is none yet".to_string()),
        Err(e) => Err(format!("cannot open it: {e}")),
        Ok(f) => {
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            let tree2 = tree.clone();
            tokio::task::spawn_blocking(move || Engine::load(tree2, std::io::BufReader::with_capacity(1 << 20, f), size))
                .await
                .map_err(|e| format!("loading failed: {e}"))
                .and_then(|r| r.map_err(|e| e.to_string()))
                .and_then(|(e, p)| Positions::from_pairs(&p).map(|p| (e, p)).ok_or_else(|| "it does not say where in the store it stands".to_string()))
        }
    };
    match loaded {
        Ok((mut e, from)) => {
            let after = take_tail(&mut e, store, from).await?;
            e.sweep(now);
            Ok((e, Origin::Snapshot { tail_events: after.events - from.events }, after))
        }
        Err(why) => {
            tracing::warn!(path = %path.display(), "engine snapshot not used ({why}); counting everything stored again");
            let mut e = Engine::new(tree);
            let after = take_tail(&mut e, store, Positions { events: 0, observations: -1 }).await?;
            e.sweep(now);
            Ok((e, Origin::Recounted { why }, after))
        }
    }
}

/// Writes the engine's snapshot, with the store positions it stands at, atomically (a temporary file
/// renamed over the old one). Writers are held off meanwhile, so the positions match what it holds.
pub async fn write_snapshot(ingest: &Ingest, data_dir: &Path) -> Result<u64, String> {
    let _writers = ingest.hold_writers().await;
    let store = ingest.store();
    // On a shared store others write meanwhile: the engine stands where it has caught up to, and no
    // catch-up moves it while it is written (the guard is held to the end).
    let caught_up = match ingest.shared() {
        Some(shared) => Some(shared.applied.lock().await),
        None => None,
    };
    let pos = match &caught_up {
        Some(at) => Positions { events: at.events, observations: at.observations },
        None => {
            let events: i64 = store.replay_position().await.map_err(|e| e.to_string())?;
            let observations: i64 = store.observation_position().await.map_err(|e| e.to_string())?;
            Positions { events, observations }
        }
    }
    .to_pairs();
    let path = snapshot_path(data_dir);
    let tmp = path.with_extension("snapshot.tmp");
    let engine = ingest.engine().clone();
    let (tmp2, path2) = (tmp.clone(), path.clone());
    tokio::task::spawn_blocking(move || -> Result<u64, String> {
        let f = std::fs::File::create(&tmp2).map_err(|e| format!("{}: {e}", tmp2.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        engine.read().expect("engine lock").save(&mut w, &pos).map_err(|e| format!("{}: {e}", tmp2.display()))?;
        let f = w.into_inner().map_err(|e| format!("{}: {e}", tmp2.display()))?;
        f.sync_all().map_err(|e| format!("{}: {e}", tmp2.display()))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        std::fs::rename(&tmp2, &path2).map_err(|e| format!("{}: {e}", path2.display()))?;
        if let Some(dir) = path2.parent() {
            // The rename itself is durable once the directory is.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(size)
    })
    .await
    .map_err(|e| format!("snapshot task: {e}"))?
}

/// Writes a snapshot every `every` while something changed, and once more when `stop` turns true.
pub async fn run_snapshots(ingest: Ingest, data_dir: PathBuf, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut written = ingest.engine().read().expect("engine lock").version();
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        let stopping = tokio::select! { _ = tick.tick() => false, _ = stop.wait_for(|s| *s) => true };
        let version = ingest.engine().read().expect("engine lock").version();
        if version != written {
            let t = std::time::Instant::now();
            match write_snapshot(&ingest, &data_dir).await {
                Ok(bytes) => {
                    written = version;
                    tracing::info!(bytes, ms = t.elapsed().as_millis() as u64, "engine snapshot written");
                    if let Some(bus) = ingest.shared().and_then(|s| s.bus.as_ref()) {
                        match bus.put_snapshot(&snapshot_path(&data_dir)).await {
                            Ok(()) => tracing::info!(ms = t.elapsed().as_millis() as u64, "engine snapshot shared"),
                            Err(e) => tracing::warn!("engine snapshot not shared: {e}"),
                        }
                    }
                }
                Err(e) => tracing::error!("engine snapshot not written: {e}"),
            }
        }
        if stopping {
            return;
        }
    }
}
