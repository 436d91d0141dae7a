//! Records from real feeds: mapped, checked against what the store holds (idempotent by feed, external
//! id and version), stored in one transaction with the feed's counts and cursor, then counted live.
//! Every input ends as stored, duplicate or quarantined.
use super::Ingest;
use crate::feeds::mapping::Mapper;
use crate::feeds::record::{case_events, Body, Input, Record};
use crate::store::feeds::{FeedBatch, Head, QuarantineRow, Quarantined};
use crate::store::StoreError;
use std::collections::{HashMap, HashSet};

/// What became of a batch's inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub stored: u64,
    pub duplicate: u64,
    pub quarantined: u64,
}

impl Tally {
    pub fn add(&mut self, o: Tally) {
        self.stored += o.stored;
        self.duplicate += o.duplicate;
        self.quarantined += o.quarantined;
    }
}

/// An input after mapping: its record, or why it has none; and its quarantine row if it is a replay.
struct Mapped {
    record: Result<Record, String>,
    payload: String,
    external_id: Option<String>,
    replay_of: Option<i64>,
}

impl Ingest {
    /// Takes a batch of one feed's inputs; `cursor` is stored with it (a pull feed resumes there).
    /// Returns only once the batch is durable.
    pub async fn take(&self, feed: &str, mapper: &Mapper, inputs: Vec<Input>, cursor: Option<String>) -> Result<Tally, StoreError> {
        let received = inputs.len() as u64;
        let mapped = inputs
            .into_iter()
            .map(|input| match input {
                Input::Record(v) => Mapped { record: mapper.map(&v), external_id: mapper.id_of(&v), payload: v.to_string(), replay_of: None },
                Input::Unreadable { reason, raw } => Mapped { record: Err(reason), external_id: None, payload: raw, replay_of: None },
            })
            .collect();
        self.take_mapped(feed, mapped, received, cursor).await
    }

    /// Takes records made inside the cockpit (residents' reports) as a feed's: idempotent by (feed, id,
    /// version), counted on the feed, durable before it returns. A record that could not be taken is
    /// quarantined with its reason, its payload without the person.
    pub async fn take_records(&self, feed: &str, records: Vec<Record>) -> Result<Tally, StoreError> {
        let received = records.len() as u64;
        let mapped = records
            .into_iter()
            .map(|r| {
                let payload = match &r.body {
                    Body::Case(c) => serde_json::json!({"id": r.external_id, "version": r.version, "category": c.category.map(|c| c.as_str()), "grid": c.grid, "summary": c.summary}),
                    Body::Observation(o) => serde_json::json!({"id": r.external_id, "version": r.version, "region": o.region, "at": o.at, "value": o.value}),
                    Body::Duty(d) => serde_json::json!({"id": r.external_id, "version": r.version, "grid": d.grid, "kind": d.kind.as_str(), "from": d.from, "to": d.to}),
                };
                Mapped { external_id: Some(r.external_id.clone()), payload: payload.to_string(), record: Ok(r), replay_of: None }
            })
            .collect();
        self.take_mapped(feed, mapped, received, None).await
    }

    /// Maps quarantined records again (after the mapping was fixed) and takes those that now pass; the
    /// rest stay quarantined with their new reason.
    pub async fn replay(&self, feed: &str, mapper: &Mapper, rows: Vec<QuarantineRow>) -> Result<Tally, StoreError> {
        let mapped = rows
            .into_iter()
            .filter(|r| r.feed == feed)
            .map(|r| match serde_json::from_str(&r.payload) {
                Ok(v) => Mapped { record: mapper.map(&v), external_id: mapper.id_of(&v), payload: r.payload, replay_of: Some(r.id) },
                Err(_) => Mapped { record: Err(r.reason), external_id: r.external_id, payload: r.payload, replay_of: Some(r.id) },
            })
            .collect();
        self.take_mapped(feed, mapped, 0, None).await
    }

    async fn take_mapped(&self, feed: &str, mapped: Vec<Mapped>, received: u64, cursor: Option<String>) -> Result<Tally, StoreError> {
        let _one_writer = self.writer.lock().await;
        let ids: Vec<String> = {
            let set: HashSet<&str> = mapped.iter().filter_map(|m| m.record.as_ref().ok()).map(|r| r.external_id.as_str()).collect();
            set.into_iter().map(str::to_string).collect()
        };
        let heads = self.store.heads(feed, &ids).await?;
        // A record sent again while its earlier delivery is in quarantine (a pull feed re-reading its
        // overlap, a sender retrying) is a duplicate, not a second quarantine row. Looked up only for
        // what would be quarantined, so a clean batch costs no extra read.
        // (A replay maps quarantined records themselves: nothing to look up.)
        let mut held = HashSet::new();
        let mut refused: HashMap<usize, String> = HashMap::new();
        let mut decided = Some(self.decide(feed, &mapped, &heads, &refused, &held, received, cursor.clone()));
        let again: Vec<String> = match &decided {
            Some((b, _, _)) if mapped.iter().all(|m| m.replay_of.is_none()) => b.quarantine.iter().filter_map(|q| q.external_id.clone()).collect(),
            _ => Vec::new(),
        };
        if !again.is_empty() {
            held = self.store.quarantined(feed, &again).await?;
            if !held.is_empty() {
                decided = None;
            }
        }
        // The store refuses an event only if a case changed since `heads` (which the writer lock rules
        // out); then its record is quarantined with the store's reason and the batch decided again.
        loop {
            let (batch, origin_of, tally) = match decided.take() {
                Some(d) => d,
                None => self.decide(feed, &mapped, &heads, &refused, &held, received, cursor.clone()),
            };
            match self.store.take_batch(&batch).await? {
                Ok(()) => {
                    self.counted(&batch).await?;
                    return Ok(tally);
                }
                Err(events) => {
                    let before = refused.len();
                    for (e, why) in events {
                        refused.insert(origin_of[e], why);
                    }
                    if refused.len() == before {
                        return Err(StoreError::Corrupt(format!("feed {feed}: the store keeps refusing the same events")));
                    }
                }
            }
        }
    }

    /// The batch as the store should take it, which input each event comes from, and the tally.
    fn decide(
        &self,
        feed: &str,
        mapped: &[Mapped],
        heads: &HashMap<String, Head>,
        refused: &HashMap<usize, String>,
        held: &HashSet<(String, String)>,
        received: u64,
        cursor: Option<String>,
    ) -> (FeedBatch, Vec<usize>, Tally) {
        let mut b = FeedBatch { feed: feed.to_string(), now: self.clock.now_ms(), received, cursor, ..Default::default() };
        let mut heads = heads.clone();
        let mut origin_of = Vec::new();
        let mut tally = Tally::default();
        let settings = self.settings().current();
        for (i, m) in mapped.iter().enumerate() {
            b.replayed.extend(m.replay_of);
            let decided = match (&m.record, refused.get(&i)) {
                (Err(why), _) | (Ok(_), Some(why)) => Err(why.clone()),
                (Ok(r), None) => {
                    let head = heads.entry(r.external_id.clone()).or_default();
                    if head.version.is_some_and(|v| v >= r.version) {
                        Ok(false)
                    } else {
                        match &r.body {
                            Body::Case(c) => case_events(feed, &r.external_id, c, head.case, &settings.calendar).map(|events| {
                                if let Some(last) = events.last() {
                                    head.case = Some((last.status, last.seq));
                                }
                                origin_of.extend(std::iter::repeat(i).take(events.len()));
                                b.events.extend(events);
                                true
                            }),
                            Body::Observation(o) => {
                                b.observations.push((r.external_id.clone(), r.version, o.clone()));
                                Ok(true)
                            }
                            Body::Duty(d) => {
                                b.duties.push(d.clone());
                                Ok(true)
                            }
                        }
                        .inspect(|_| head.version = Some(r.version))
                    }
                }
            };
            match decided {
                Ok(true) => {
                    let r = m.record.as_ref().expect("decided records are mapped");
                    b.taken.push((r.external_id.clone(), r.version));
                    let at = match &r.body {
                        Body::Case(c) => c.at,
                        Body::Observation(o) => o.at,
                        // A roster is planned ahead: it arrived now.
                        Body::Duty(_) => b.now,
                    };
                    b.last_event_at = b.last_event_at.max(Some(at));
                    tally.stored += 1;
                }
                Ok(false) => {
                    b.duplicates += 1;
                    tally.duplicate += 1;
                }
                Err(_) if m.replay_of.is_none() && m.external_id.as_ref().is_some_and(|id| held.contains(&(id.clone(), m.payload.clone()))) => {
                    b.duplicates += 1;
                    tally.duplicate += 1;
                }
                Err(reason) => {
                    b.quarantine.push(Quarantined { external_id: m.external_id.clone(), reason, payload: m.payload.clone() });
                    tally.quarantined += 1;
                }
            }
        }
        (b, origin_of, tally)
    }

    /// Takes observations from a source inside the cockpit (the dataset generator) through the same
    /// durable batch as any feed's, with the feed's counts, then counts them. Each (id, version) must be
    /// new: nothing is looked up first.
    pub async fn take_observations(&self, feed: &str, observations: Vec<(String, i64, crate::feeds::record::Observation)>) -> Result<(), StoreError> {
        let _one_writer = self.writer.lock().await;
        let b = FeedBatch {
            feed: feed.to_string(),
            now: self.clock.now_ms(),
            received: observations.len() as u64,
            taken: observations.iter().map(|(id, v, _)| (id.clone(), *v)).collect(),
            last_event_at: observations.iter().map(|(_, _, o)| o.at).max(),
            observations,
            ..Default::default()
        };
        match self.store.take_batch(&b).await? {
            Ok(()) => {
                self.counted(&b).await
            }
            Err(refused) => Err(StoreError::Corrupt(format!("feed {feed}: {} observations refused", refused.len()))),
        }
    }

    /// Counts what the store just took (on a shared store: as the store ordered it, and tells the
    /// other instances).
    async fn counted(&self, b: &FeedBatch) -> Result<(), StoreError> {
        match &self.shared {
            Some(shared) => {
                if !b.duties.is_empty() {
                    // Roster lines have no store position: held here at once, the others read them again.
                    self.engine.write().expect("engine lock").add_duties(b.duties.iter().map(crate::duty::Duty::line));
                    shared.announce_in_background(crate::cluster::Change { duties: true, ..Default::default() });
                }
                self.counted_shared(shared).await
            }
            None => {
                self.count(b);
                Ok(())
            }
        }
    }

    /// Counts what the store just took in the engine and wakes the live streams.
    fn count(&self, b: &FeedBatch) {
        let version = {
            let mut agg = self.engine.write().expect("engine lock");
            agg.sweep(self.clock.now_ms());
            for e in &b.events {
                agg.take(e);
            }
            for (id, version, o) in &b.observations {
                agg.observe(&b.feed, id, *version, o);
            }
            agg.add_duties(b.duties.iter().map(crate::duty::Duty::line));
            agg.version()
        };
        self.changed.send_replace(version);
    }
}
