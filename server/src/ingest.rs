//! The one way events enter the cockpit: checked, stored durably, then counted in the live aggregates,
//! then announced to live streams. The demo feed and (later) every real feed write through here.
use crate::aggregates::Aggregates;
use crate::case::{CaseEvent, Outcome};
use crate::city::RegionTree;
use crate::store::{Store, StoreError};
use app::model::{Level, Status};
use std::sync::{Arc, RwLock};
use tokio::sync::{watch, Mutex};

#[derive(Clone)]
pub struct Ingest {
    store: Arc<dyn Store>,
    tree: Arc<RegionTree>,
    aggregates: Arc<RwLock<Aggregates>>,
    changed: watch::Sender<u64>,
    /// One writer at a time, so the aggregates count events in the order the store took them.
    writer: Arc<Mutex<()>>,
}

impl Ingest {
    pub fn new(store: Arc<dyn Store>, tree: Arc<RegionTree>, aggregates: Arc<RwLock<Aggregates>>, changed: watch::Sender<u64>) -> Ingest {
        Ingest { store, tree, aggregates, changed, writer: Arc::new(Mutex::new(())) }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stores and counts a batch; one outcome per event. Nothing is counted that was not stored.
    pub async fn submit(&self, events: Vec<CaseEvent>) -> Result<Vec<Outcome>, StoreError> {
        let _one_writer = self.writer.lock().await;
        let mut outcomes: Vec<Option<Outcome>> = events.iter().map(|e| self.check(e).err().map(Outcome::Rejected)).collect();
        let valid: Vec<CaseEvent> =
            events.iter().zip(&outcomes).filter(|(_, o)| o.is_none()).map(|(e, _)| e.clone()).collect();
        let stored = self.store.append(&valid).await?;
        let mut stored_iter = stored.into_iter();
        for o in outcomes.iter_mut().filter(|o| o.is_none()) {
            *o = stored_iter.next();
        }
        let outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.expect("every event has an outcome")).collect();
        let version = {
            let mut agg = self.aggregates.write().expect("aggregates lock");
            for (e, o) in events.iter().zip(&outcomes) {
                if *o == Outcome::Stored {
                    agg.apply(e);
                }
            }
            agg.version()
        };
        self.changed.send_replace(version);
        Ok(outcomes)
    }

    /// Why an event cannot be taken, in words an operator can act on.
    fn check(&self, e: &CaseEvent) -> Result<(), String> {
        if e.feed.is_empty() || e.case_id.is_empty() {
            return Err("feed and case id are required".into());
        }
        match (&e.facts, e.status, e.seq) {
            (Some(f), Status::Reported, 0) => match self.tree.find(&f.grid) {
                Some(g) if self.tree.get(g).row.level == Level::Grid => {
                    if f.deadline <= f.reported_at {
                        Err(format!("deadline of case {} is not after its report", e.case_id))
                    } else {
                        Ok(())
                    }
                }
                _ => Err(format!("case {}: unknown grid {:?}", e.case_id, f.grid)),
            },
            (None, s, n) if s != Status::Reported && n > 0 => Ok(()),
            _ => Err(format!("case {}: a report is seq 0 with its facts; a change is seq > 0 without", e.case_id)),
        }
    }
}
