//! Stored rows of the feed layer: which source records were taken, per-feed counts, cursor and pause,
//! the quarantine, and indicator observations.
use super::StoreError;
use crate::case::CaseEvent;
use crate::feeds::record::Observation;
use app::model::Status;
use futures::future::BoxFuture;
use std::collections::{HashMap, HashSet};

/// What the store knows of one external id of a feed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Head {
    /// The newest version taken.
    pub version: Option<i64>,
    /// The case's status and last source sequence number, if it is a case the store holds.
    pub case: Option<(Status, u32)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Quarantined {
    pub external_id: Option<String>,
    pub reason: String,
    /// The record as it arrived (JSON), to replay.
    pub payload: String,
}

/// One batch from one feed, as the ingest path decided it; the store takes all of it or nothing.
#[derive(Clone, Debug, Default)]
pub struct FeedBatch {
    pub feed: String,
    pub now: i64,
    /// New input records in this batch (a replay of quarantined ones adds none).
    pub received: u64,
    /// Records taken: (external id, version).
    pub taken: Vec<(String, i64)>,
    pub duplicates: u64,
    pub events: Vec<CaseEvent>,
    pub observations: Vec<(String, i64, Observation)>,
    /// Roster lines (stored by grid, worker, kind and start: a line again changes nothing).
    pub duties: Vec<crate::duty::Duty>,
    pub quarantine: Vec<Quarantined>,
    /// Quarantine rows this batch replayed: removed, their records counted again by what became of them.
    pub replayed: Vec<i64>,
    /// Time of the newest record in the batch.
    pub last_event_at: Option<i64>,
    /// Where a pull feed resumes after this batch.
    pub cursor: Option<String>,
}

/// A feed's stored state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeedRow {
    pub feed: String,
    pub received: u64,
    pub stored: u64,
    pub duplicate: u64,
    pub quarantined: u64,
    /// Of the quarantined, how many were deleted when their retention ended.
    pub expired: u64,
    pub last_success: Option<i64>,
    pub last_event_at: Option<i64>,
    pub cursor: Option<String>,
    pub paused: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuarantineRow {
    pub id: i64,
    pub feed: String,
    pub external_id: Option<String>,
    pub reason: String,
    pub payload: String,
    pub at: i64,
}

/// A stored observation, for a recount: (feed, external id, version, observation).
pub type StoredObservation = (String, i64, Observation);

pub trait FeedStore: Send + Sync {
    fn heads<'a>(&'a self, feed: &'a str, ids: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, Head>, StoreError>>;
    /// Takes the batch in one transaction. If the case flow refuses one of its events (the case changed
    /// since `heads`), nothing is stored and the refused events come back: (index in `events`, reason).
    fn take_batch<'a>(&'a self, batch: &'a FeedBatch) -> BoxFuture<'a, Result<Result<(), Vec<(usize, String)>>, StoreError>>;
    fn feed_rows(&self) -> BoxFuture<'_, Result<Vec<FeedRow>, StoreError>>;
    fn set_paused<'a>(&'a self, feed: &'a str, paused: bool) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Newest first; `feed` None for all feeds.
    fn quarantine<'a>(&'a self, feed: Option<&'a str>, limit: u32) -> BoxFuture<'a, Result<Vec<QuarantineRow>, StoreError>>;
    /// (external id, payload) of the quarantined records of these ids.
    fn quarantined<'a>(&'a self, feed: &'a str, ids: &'a [String]) -> BoxFuture<'a, Result<HashSet<(String, String)>, StoreError>>;
    /// Deletes quarantined records taken before `before` (ms), counting them per feed as expired; returns
    /// how many went.
    fn expire_quarantine(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Stored observations taken after position `after` (-1: all), in the order taken: (position, feed,
    /// observation).
    /// The position of the newest stored observation (0: none, or only ones older than positions).
    fn observation_position(&self) -> BoxFuture<'_, Result<i64, StoreError>>;
    fn observations_after(&self, after: i64) -> BoxFuture<'_, Result<Vec<(i64, String, StoredObservation)>, StoreError>>;
}
