//! Durable storage behind one trait. SQLite is the embedded default (one file in the data directory);
//! PostgreSQL joins for scale-out behind the same trait, with its own migrations.
pub mod access;
pub mod duty;
pub mod feeds;
pub mod outbox;
pub mod photos;
pub mod settings;
pub mod warnings;
mod postgres;
mod postgres_access;
mod postgres_duty;
mod postgres_feeds;
mod postgres_outbox;
mod postgres_photos;
mod postgres_settings;
mod postgres_warnings;
mod rows;
mod sqlite;
mod sqlite_access;
mod sqlite_duty;
mod sqlite_feeds;
mod sqlite_outbox;
mod sqlite_photos;
mod sqlite_settings;
mod sqlite_warnings;

pub use access::AccessStore;
pub use feeds::FeedStore;
pub use outbox::OutboxStore;
pub use photos::{PhotoStore, StoredPhoto};
pub use settings::{SettingsStore, StoredSetting};
pub use warnings::WarningStore;
pub use duty::DutyStore;
pub use postgres::PgStore;
pub use sqlite::{connect_options as sqlite_connect_options, SqliteStore};

use crate::case::{CaseEvent, Outcome};
use crate::city::RegionRow;
use app::model::{Status, TimelineEntry};
use futures::future::BoxFuture;

#[derive(Debug)]
pub enum StoreError {
    Db(String),
    Corrupt(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Db(e) => write!(f, "database error: {e}"),
            StoreError::Corrupt(e) => write!(f, "stored data is inconsistent: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A stored case with its details; `timeline` only when read one at a time or for analytics.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCase {
    pub feed: String,
    pub case_id: String,
    pub status: Status,
    pub facts: crate::case::CaseFacts,
    pub escalations: u32,
    pub supervised: u32,
    pub closed_at: Option<i64>,
    /// The last change of its status (Unix ms).
    pub updated_at: i64,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// Which cases to list. Region codes below the city extend their parent's, so a prefix of the grid
/// code selects a subtree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseQuery {
    pub grid_prefix: Option<String>,
    /// The scope is a street or smaller, a small share of the city's cases: read them by area (an
    /// index range of grid codes) rather than the whole city's newest first until the page is full.
    /// SQLite keeps no statistics to tell the two apart by itself; PostgreSQL's planner does.
    pub by_area: bool,
    pub department: Option<String>,
    /// Only cases dispatched or later (what a department has been given).
    pub dispatched_only: bool,
    pub open_only: bool,
    /// Only open cases due soon or overdue by this instant, soonest deadline first.
    pub alerting_at: Option<i64>,
    pub limit: u32,
}

/// Which time a window of cases is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowOn {
    Reported,
    /// The last change of status.
    Updated,
}

/// Cases in a time window, oldest first by that time: the public list of the city's requests.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowQuery {
    pub on: WindowOn,
    pub from: i64,
    pub to: i64,
    /// Empty: every category.
    pub categories: Vec<app::model::Category>,
    /// Some(true): only open cases; Some(false): only closed ones.
    pub open: Option<bool>,
    pub limit: u32,
    /// Only cases from these sources (empty: none).
    pub sources: Vec<app::model::Source>,
}

/// A case that is not closed yet, as a feed needs it to carry on after a restart.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenCase {
    pub case_id: String,
    pub status: Status,
    pub seq: u32,
    pub updated_at: i64,
    pub reported_at: i64,
    pub deadline: i64,
    pub category: app::model::Category,
    /// Mediation attempts recorded so far.
    pub mediated: u32,
}

/// Cases and regions; the access and feed layers' rows come with it through `AccessStore` and `FeedStore`.
pub trait Store: AccessStore + DutyStore + FeedStore + OutboxStore + PhotoStore + SettingsStore + WarningStore + Send + Sync + 'static {
    fn region_count(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn save_regions<'a>(&'a self, rows: &'a [RegionRow]) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Parents before children.
    fn load_regions(&self) -> BoxFuture<'_, Result<Vec<RegionRow>, StoreError>>;
    /// Stores a batch atomically; one outcome per event, in order.
    fn append<'a>(&'a self, events: &'a [CaseEvent]) -> BoxFuture<'a, Result<Vec<Outcome>, StoreError>>;
    /// Up to `limit` stored events after position `after` (0: from the first), in the order the store
    /// took them, each with its position and its case's facts: the input of a recount, read a batch at
    /// a time. Without what counting does not need (personal data, notes).
    fn replay_after(&self, after: i64, limit: u32) -> BoxFuture<'_, Result<Vec<(i64, CaseEvent)>, StoreError>>;
    /// The position of the newest stored event (0: none).
    fn replay_position(&self) -> BoxFuture<'_, Result<i64, StoreError>>;
    fn open_cases<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<Vec<OpenCase>, StoreError>>;
    fn case<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<StoredCase>, StoreError>>;
    /// These cases (feed, case id), in this order, without timelines; unknown keys are left out.
    fn cases_by_keys<'a>(&'a self, keys: &'a [(String, String)]) -> BoxFuture<'a, Result<Vec<StoredCase>, StoreError>>;
    /// Newest first.
    fn cases<'a>(&'a self, q: &'a CaseQuery) -> BoxFuture<'a, Result<Vec<StoredCase>, StoreError>>;
    /// Cases of the window, oldest first by its time, without timelines.
    fn cases_in<'a>(&'a self, q: &'a WindowQuery) -> BoxFuture<'a, Result<Vec<StoredCase>, StoreError>>;
    /// Stores patrols; one outcome per patrol (a grid that does not exist is rejected).
    fn append_patrols<'a>(&'a self, patrols: &'a [crate::patrol::Patrol]) -> BoxFuture<'a, Result<Vec<Outcome>, StoreError>>;
    /// The last patrol of every grid ever patrolled: (grid code, at).
    fn last_patrols(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>, StoreError>>;
    /// Whether the feed has reported any case.
    fn has_cases<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
}
