//! The one way events enter the cockpit: checked, stored durably, then counted by the indicator engine,
//! then announced to live streams. The demo feed writes case events; real feeds write records (`records`).
mod duty;
mod records;

pub use records::Tally;
use engine::Engine;
use crate::case::{CaseEvent, Origin, Outcome};
use app::flow::Action;
use crate::city::RegionTree;
use crate::store::{Store, StoreError};
use app::model::{Level, Status};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{oneshot, watch, Mutex};

/// Patrols per announcement (~40 bytes each as JSON).
const ANNOUNCED_PATROLS: usize = 5_000;

/// Events read back per query when catching up with a shared store.
const CATCH_UP_BATCH: u32 = 20_000;

/// Batches of case events submitted, and the store writes (transactions) that took them.
#[derive(Default)]
struct Counts {
    batches: AtomicU64,
    writes: AtomicU64,
}

/// A batch waiting to be written, and where its outcomes go.
struct Queued {
    events: Vec<CaseEvent>,
    reply: oneshot::Sender<Result<Vec<Outcome>, StoreError>>,
}

#[derive(Clone)]
pub struct Ingest {
    store: Arc<dyn Store>,
    tree: Arc<RegionTree>,
    engine: Arc<RwLock<Engine>>,
    changed: watch::Sender<u64>,
    /// One writer at a time, so the engine counts events in the order the store took them.
    writer: Arc<Mutex<()>>,
    /// Batches waiting for the writer (see `submit`).
    queue: Arc<std::sync::Mutex<Vec<Queued>>>,
    /// How well group commit is working.
    counts: Arc<Counts>,
    /// The working calendar in force: deadlines of cases that feeds report are counted on it.
    settings: Arc<crate::settings::Settings>,
    /// What time it is, for everything that enters here and every feed that feeds it.
    clock: crate::clock::Clock,
    /// One instance of several on a shared store: the engine counts what the store holds in its
    /// order, read back after each commit, and the others are told (`cluster`).
    shared: Option<Arc<crate::cluster::Shared>>,
}

impl Ingest {
    pub fn new(
        store: Arc<dyn Store>,
        tree: Arc<RegionTree>,
        engine: Arc<RwLock<Engine>>,
        changed: watch::Sender<u64>,
        clock: crate::clock::Clock,
    ) -> Ingest {
        let settings = Arc::new(crate::settings::Settings::fixed(Default::default(), Default::default()).expect("the default calendar is valid"));
        Ingest { store, tree, engine, changed, writer: Arc::new(Mutex::new(())), queue: Arc::default(), counts: Arc::default(), settings, clock, shared: None }
    }

    /// Runs as one instance of several (see `shared`).
    pub fn with_shared(mut self, shared: Arc<crate::cluster::Shared>) -> Ingest {
        self.shared = Some(shared);
        self
    }

    pub fn shared(&self) -> Option<&Arc<crate::cluster::Shared>> {
        self.shared.as_ref()
    }

    /// On a shared store: counts what the store took after the engine's position, in the store's
    /// order (whichever instance stored it), and wakes the live streams. A repeat finds nothing new.
    pub async fn catch_up(&self) -> Result<bool, StoreError> {
        let Some(shared) = &self.shared else { return Ok(false) };
        let mut at = shared.applied.lock().await;
        let mut moved = false;
        loop {
            let batch = self.store.replay_after(at.events, CATCH_UP_BATCH).await?;
            let Some(&(last, _)) = batch.last() else { break };
            {
                let mut engine = self.engine.write().expect("engine lock");
                engine.sweep(self.clock.now_ms());
                for (_, e) in &batch {
                    engine.take(e);
                }
            }
            at.events = last;
            moved = true;
            if batch.len() < CATCH_UP_BATCH as usize {
                break;
            }
        }
        let observed = self.store.observations_after(at.observations).await?;
        if let Some(&(last, ..)) = observed.last() {
            let mut engine = self.engine.write().expect("engine lock");
            for (_, feed, (id, version, o)) in &observed {
                engine.observe(feed, id, *version, o);
            }
            at.observations = last;
            moved = true;
        }
        if moved {
            let version = self.engine.read().expect("engine lock").version();
            self.changed.send_replace(version);
        }
        Ok(moved)
    }

    /// Wakes the live streams when something they show changed outside the engine (a warning).
    pub fn announce(&self) {
        self.changed.send_modify(|_| ());
    }

    /// Patrols another instance stored (a patrol counted twice changes nothing).
    pub fn patrols_elsewhere(&self, patrols: &[(String, i64)]) {
        let version = {
            let mut engine = self.engine.write().expect("engine lock");
            for (grid, at) in patrols {
                engine.patrolled(grid, *at);
            }
            engine.version()
        };
        self.changed.send_replace(version);
    }

    /// After a commit on a shared store: count it as the store ordered it, then tell the others.
    async fn counted_shared(&self, shared: &Arc<crate::cluster::Shared>) -> Result<(), StoreError> {
        self.catch_up().await?;
        shared.announce_in_background(crate::cluster::Change { events: true, ..Default::default() });
        Ok(())
    }

    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    pub fn engine(&self) -> &Arc<RwLock<Engine>> {
        &self.engine
    }

    /// Holds every writer off (a snapshot of the engine must match the store's positions).
    pub(crate) async fn hold_writers(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// Counts deadlines of feed-reported cases on the settings' calendar instead of the default one.
    pub fn with_settings(mut self, settings: Arc<crate::settings::Settings>) -> Ingest {
        self.settings = settings;
        self
    }

    pub fn settings(&self) -> &Arc<crate::settings::Settings> {
        &self.settings
    }

    pub fn tree(&self) -> &Arc<RegionTree> {
        &self.tree
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stores and counts a batch; one outcome per event. Nothing is counted that was not stored.
    ///
    /// Group commit: batches that arrive while another is being written wait for the writer together,
    /// and the next writer stores all of them in one transaction. A transaction's cost is mostly the
    /// pages it rewrites and its fsync, not its events, so concurrent feeds and desks share that cost
    /// (docs/BENCHMARKS.md, "Durable ingest"). Each caller still gets exactly its own outcomes.
    pub async fn submit(&self, events: Vec<CaseEvent>) -> Result<Vec<Outcome>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.counts.batches.fetch_add(1, Ordering::Relaxed);
        let (reply, mut answer) = oneshot::channel();
        self.queue.lock().expect("ingest queue").push(Queued { events, reply });
        let abandoned = |_| Err(StoreError::Db("the write of this batch was abandoned".into()));
        // The answer may come before this caller's turn at the writer (another writer took the batch).
        let writer = tokio::select! {
            biased;
            done = &mut answer => return done.unwrap_or_else(abandoned),
            writer = self.writer.clone().lock_owned() => writer,
        };
        let group = std::mem::take(&mut *self.queue.lock().expect("ingest queue"));
        if group.is_empty() {
            // An earlier writer took this batch with its own.
            drop(writer);
        } else {
            // In a task of its own: a caller that gives up waiting must not leave the batches of the
            // others it took half-written.
            let this = self.clone();
            let _ = tokio::spawn(async move {
                this.write_group(group).await;
                drop(writer);
            })
            .await;
        }
        answer.await.unwrap_or_else(abandoned)
    }

    /// Writes queued batches as one; if that fails, each alone, so one batch's failure stays its own.
    async fn write_group(&self, group: Vec<Queued>) {
        let (mut all, mut replies) = (Vec::new(), Vec::with_capacity(group.len()));
        for q in group {
            replies.push((q.events.len(), q.reply));
            all.extend(q.events);
        }
        match self.write(&all).await {
            Ok(outcomes) => {
                let mut rest = outcomes.into_iter();
                for (n, reply) in replies {
                    let _ = reply.send(Ok(rest.by_ref().take(n).collect()));
                }
            }
            Err(e) if replies.len() == 1 => {
                let _ = replies.pop().map(|(_, reply)| reply.send(Err(e)));
            }
            Err(e) => {
                tracing::warn!(batches = replies.len(), error = %e, "a group of batches failed to store; storing each alone");
                let mut start = 0;
                for (n, reply) in replies {
                    let _ = reply.send(self.write(&all[start..start + n]).await);
                    start += n;
                }
            }
        }
    }

    /// Batches of case events submitted, and the store writes (transactions) that took them: how well
    /// group commit is working.
    pub fn batch_counts(&self) -> (u64, u64) {
        (self.counts.batches.load(Ordering::Relaxed), self.counts.writes.load(Ordering::Relaxed))
    }

    /// Prometheus text for the ingest path.
    pub fn render_metrics(&self) -> String {
        let (batches, writes) = self.batch_counts();
        format!(
            "# HELP cockpit_ingest_batches_total Batches of case events submitted.\n# TYPE cockpit_ingest_batches_total counter\n\
             cockpit_ingest_batches_total {batches}\n\
             # HELP cockpit_ingest_writes_total Store transactions that took them (group commit merges waiting batches).\n\
             # TYPE cockpit_ingest_writes_total counter\ncockpit_ingest_writes_total {writes}\n"
        )
    }

    /// Checks, stores and counts events; the caller holds the writer.
    async fn write(&self, events: &[CaseEvent]) -> Result<Vec<Outcome>, StoreError> {
        self.counts.writes.fetch_add(1, Ordering::Relaxed);
        let mut outcomes: Vec<Option<Outcome>> = events.iter().map(|e| self.check(e).err().map(Outcome::Rejected)).collect();
        let stored = if outcomes.iter().all(Option::is_none) {
            self.store.append(events).await?
        } else {
            let valid: Vec<CaseEvent> =
                events.iter().zip(&outcomes).filter(|(_, o)| o.is_none()).map(|(e, _)| e.clone()).collect();
            self.store.append(&valid).await?
        };
        let mut stored_iter = stored.into_iter();
        for o in outcomes.iter_mut().filter(|o| o.is_none()) {
            *o = stored_iter.next();
        }
        let outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.expect("every event has an outcome")).collect();
        if let Some(shared) = &self.shared {
            if outcomes.contains(&Outcome::Stored) {
                self.counted_shared(shared).await?;
            }
            return Ok(outcomes);
        }
        let version = {
            let mut engine = self.engine.write().expect("engine lock");
            // Everything up to now counts at once (an event dated ahead waits for its time).
            engine.sweep(self.clock.now_ms());
            for (e, o) in events.iter().zip(&outcomes) {
                if *o == Outcome::Stored {
                    engine.take(e);
                }
            }
            engine.version()
        };
        self.changed.send_replace(version);
        Ok(outcomes)
    }

    /// Deadlines and due-soon warnings pass without any event arriving: marks what has passed by now
    /// and wakes the live streams if anything did.
    pub fn sweep(&self) {
        let now = self.clock.now_ms();
        let mut a = self.engine.write().expect("engine lock");
        if a.sweep(now) {
            self.changed.send_replace(a.version());
        }
    }

    /// Stores and counts patrols; one outcome per patrol.
    pub async fn submit_patrols(&self, patrols: Vec<crate::patrol::Patrol>) -> Result<Vec<Outcome>, StoreError> {
        if patrols.is_empty() {
            return Ok(Vec::new());
        }
        let _one_writer = self.writer.lock().await;
        let outcomes = self.store.append_patrols(&patrols).await?;
        if let Some(shared) = &self.shared {
            let stored: Vec<(String, i64)> = patrols.iter().zip(&outcomes).filter(|(_, o)| **o == Outcome::Stored).map(|(p, _)| (p.grid.clone(), p.at)).collect();
            self.patrols_elsewhere(&stored);
            // In parts: a history's patrols would pass the bus's largest message (1 MiB by default).
            for part in stored.chunks(ANNOUNCED_PATROLS) {
                shared.announce_in_background(crate::cluster::Change { patrols: part.to_vec(), ..Default::default() });
            }
            return Ok(outcomes);
        }
        let version = {
            let mut agg = self.engine.write().expect("engine lock");
            for (p, o) in patrols.iter().zip(&outcomes) {
                if *o == Outcome::Stored {
                    agg.patrolled(&p.grid, p.at);
                }
            }
            agg.version()
        };
        self.changed.send_replace(version);
        Ok(outcomes)
    }

    /// Why an event cannot be taken, in words an operator can act on. Whether the transition is allowed
    /// from the case's current status is the store's call: it holds that status, under the same lock.
    fn check(&self, e: &CaseEvent) -> Result<(), String> {
        if e.feed.is_empty() || e.case_id.is_empty() {
            return Err("feed and case id are required".into());
        }
        let id = &e.case_id;
        match (&e.facts, e.action, e.origin) {
            (Some(f), Action::Report, Origin::Feed) if e.seq == 0 && e.status == Status::Reported => match self.tree.find(&f.grid) {
                Some(g) if self.tree.get(g).row.level == Level::Grid => {
                    if f.deadline <= f.reported_at {
                        Err(format!("deadline of case {id} is not after its report"))
                    } else if !(f.reported_at..=f.deadline).contains(&f.warn_at) {
                        Err(format!("case {id}: its due-soon time is not between report and deadline"))
                    } else {
                        Ok(())
                    }
                }
                _ => Err(format!("case {id}: unknown grid {:?}", f.grid)),
            },
            (None, a, Origin::Feed) if a != Action::Report && e.seq > 0 => Ok(()),
            (None, a, Origin::Desk) if (a.is_oversight() || a == Action::Mediate) && e.note.as_ref().is_some_and(|n| !n.actor.is_empty()) => Ok(()),
            (None, a, Origin::Desk) if a.is_oversight() || a == Action::Mediate => Err(format!("case {id}: an action from the desk needs who took it")),
            (None, a, Origin::Desk) => Err(format!("case {id}: {} is not an oversight action", a.as_str())),
            _ => Err(format!("case {id}: a report is seq 0 with its facts; a change is seq > 0 without")),
        }
    }
}

#[cfg(test)]
mod tests;
