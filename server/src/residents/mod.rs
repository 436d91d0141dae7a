//! # Layout
//! The residents' side: what a resident may report, and what anyone may read of the city's cases.
//! - `service`: the city's services (one per case category) and the questions each asks
//! - `report`: a resident's report checked field by field, and the record it becomes
//! - `public`: a stored case as the public may read it (no person, no house, no internal step)
//! - `limit`: how often one address or app may report
//! - `map`: the server-drawn map a report is placed on without JavaScript
//! - `photo`: a resident's photo checked and stripped of its metadata (where it was taken, the phone)
//! - `open311`: GeoReport v2 on the wire (JSON and XML documents, read parameters)
//!
//! A report enters like any feed's record: `Ingest::take_records` under the feed `residents`, so it is
//! stored once (a repeat is a duplicate), counted on /feeds and in the engine, and moves through the
//! case flow like a 12345 case.
pub mod limit;
pub mod map;
pub mod open311;
pub mod photo;
pub mod public;
pub mod report;
pub mod service;

use crate::feeds::locate::Locator;
use crate::ingest::Ingest;
use crate::store::{StoreError, WindowQuery};
use app::model::Source;
use app::residents::{PublicRequest, Refusal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The feed residents' reports are stored under.
pub const FEED: &str = "residents";

/// The case sources published case by case. Petitions (信访), police incidents and camera alerts are
/// counted in the public statistics only: a single one can point at a person.
pub const PUBLISHED_SOURCES: [Source; 2] = [Source::Hotline12345, Source::GridPatrol];

/// `[residents]`: the city's settings for residents' reports and the Open311 server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResidentsConfig {
    /// The `jurisdiction_id` apps may name; any other is refused. Empty: the city's region code.
    pub jurisdiction_id: String,
    /// Whether reports without an api_key are taken (on in the demo).
    pub anonymous_posts: bool,
    /// Reports one network address may send in any rolling hour (refused ones count too).
    pub posts_per_address_per_hour: u32,
    /// Reports one api_key may send in any rolling hour.
    pub posts_per_key_per_hour: u32,
    /// Most requests one read returns.
    pub max_results: u32,
}

impl Default for ResidentsConfig {
    fn default() -> Self {
        ResidentsConfig { jurisdiction_id: String::new(), anonymous_posts: true, posts_per_address_per_hour: 20, posts_per_key_per_hour: 2000, max_results: 1000 }
    }
}

pub struct Residents {
    cfg: ResidentsConfig,
    jurisdiction: String,
    limiter: limit::Limiter,
    locator: Arc<Locator>,
    ingest: Ingest,
}

fn unavailable(e: StoreError) -> Refusal {
    tracing::error!("residents: store: {e}");
    Refusal::Unavailable
}

impl Residents {
    pub fn new(cfg: ResidentsConfig, city: &str, locator: Arc<Locator>, ingest: Ingest) -> Residents {
        let jurisdiction = if cfg.jurisdiction_id.is_empty() { city.to_string() } else { cfg.jurisdiction_id.clone() };
        Residents { cfg, jurisdiction, limiter: limit::Limiter::default(), locator, ingest }
    }

    pub fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// A request naming another jurisdiction is refused; naming none is fine (this server has one).
    pub fn check_jurisdiction(&self, given: Option<&str>) -> Result<(), Refusal> {
        match given.map(str::trim).filter(|j| !j.is_empty()) {
            Some(j) if j != self.jurisdiction => Err(Refusal::UnknownJurisdiction),
            _ => Ok(()),
        }
    }

    pub fn now(&self) -> i64 {
        self.ingest.clock().now_ms()
    }

    /// Whether reports without an app's key are taken (`Policy::report_sender` decides with it).
    pub fn anonymous_posts(&self) -> bool {
        self.cfg.anonymous_posts
    }

    /// Counts a POST from `address` (sent by the app with key id `key`): every one counts, refused or
    /// not, so a flood of bad requests is stopped as early as a flood of good ones.
    pub fn admit(&self, address: &str, key: Option<i64>) -> Result<(), Refusal> {
        let by_address = format!("ip:{address}");
        let by_key = key.map(|k| format!("key:{k}"));
        let mut keys = vec![(by_address.as_str(), self.cfg.posts_per_address_per_hour)];
        keys.extend(by_key.as_deref().map(|k| (k, self.cfg.posts_per_key_per_hour)));
        self.limiter.admit(&keys, self.now()).map_err(Refusal::TooMany)
    }

    /// Takes a report (its sender allowed by `Policy::report_sender`, counted by `admit`); its tracking
    /// number once it is durably stored (the same report sent again gets the same number and changes
    /// nothing).
    pub async fn submit(&self, s: &report::Submission) -> Result<String, Refusal> {
        let now = self.now();
        let report = report::check(s, &self.locator, now)?;
        let tally = self.ingest.take_records(FEED, vec![report.record()]).await.map_err(unavailable)?;
        if tally.quarantined > 0 {
            tracing::error!(report = %report.id, "residents: a checked report was quarantined");
            return Err(Refusal::Unavailable);
        }
        Ok(report.id)
    }

    /// Moves a resident's report one step (`Policy::may_act` has allowed `action` to the official):
    /// a new version of its record, through the same path as the report itself. `note` is public: the
    /// department a report is dispatched to, the reply it is resolved with. Err with the reason when the
    /// step cannot be taken now (a step taken meanwhile by someone else included).
    pub async fn advance(&self, c: &crate::store::StoredCase, action: app::flow::Action, note: crate::case::Note) -> Result<(), String> {
        use crate::feeds::record::{Body, CaseRecord, Record};
        let to = app::flow::step(c.status, action).map_err(|e| e.to_string())?;
        let now = self.now();
        let record = Record {
            external_id: c.case_id.clone(),
            // Versions grow with every change; two steps within one millisecond are one too many.
            version: now,
            body: Body::Case(CaseRecord {
                status: to,
                at: now,
                category: None,
                source: c.facts.source,
                grid: None,
                reported_at: None,
                priority: c.facts.priority,
                summary: String::new(),
                address: None,
                department: None,
                person: None,
                note: Some(note),
            }),
        };
        let tally = self.ingest.take_records(FEED, vec![record]).await.map_err(|e| {
            tracing::error!("residents: store: {e}");
            "the store is unavailable; nothing was recorded".to_string()
        })?;
        match (tally.stored, tally.duplicate) {
            (1, _) => Ok(()),
            (_, 1) => Err("another step was recorded at the same moment; reload the case".into()),
            _ => Err("the step was refused; reload the case".into()),
        }
    }

    fn published(&self, c: &crate::store::StoredCase) -> bool {
        PUBLISHED_SOURCES.contains(&c.facts.source)
    }

    fn public(&self, c: &crate::store::StoredCase) -> PublicRequest {
        let mut r = public::request(self.locator.tree(), c);
        // Only what a resident wrote to the city to be followed is shown in their words; other
        // systems' summaries were written for officials.
        if c.feed != FEED {
            r.description.clear();
        }
        r
    }

    /// One request with its public history.
    pub async fn one(&self, id: &str) -> Result<PublicRequest, Refusal> {
        let (feed, case_id) = public::case_key(id);
        let c = self.ingest.store().case(&feed, &case_id).await.map_err(unavailable)?;
        c.filter(|c| self.published(c)).map(|c| self.public(&c)).ok_or(Refusal::NotFound)
    }

    /// What a read of `requests` asks for.
    pub async fn read(&self, read: open311::Read) -> Result<Vec<PublicRequest>, Refusal> {
        let store = self.ingest.store();
        let cases = match read {
            open311::Read::Ids(ids) => {
                let keys: Vec<(String, String)> = ids.iter().map(|i| public::case_key(i)).collect();
                store.cases_by_keys(&keys).await.map_err(unavailable)?
            }
            open311::Read::Window { on, from, to, categories, open, limit } => {
                let q = WindowQuery { on, from, to, categories, open, limit, sources: PUBLISHED_SOURCES.to_vec() };
                store.cases_in(&q).await.map_err(unavailable)?
            }
        };
        Ok(cases.iter().filter(|c| self.published(c)).map(|c| self.public(c)).collect())
    }

    /// Checks a resident's photo, strips its metadata and holds it until the report it goes with is
    /// taken: its token and size. Nothing is stored when it is refused.
    pub async fn hold_photo(&self, bytes: &[u8]) -> Result<(String, usize), Refusal> {
        let p = photo::clean(bytes).map_err(|e| match e {
            photo::PhotoError::TooLarge => Refusal::PhotoTooLarge(photo::MAX_BYTES / (1024 * 1024)),
            photo::PhotoError::NotAnImage => Refusal::PhotoType,
        })?;
        let token = crate::auth::token::new_token();
        let stored = crate::store::StoredPhoto { mime: p.mime.to_string(), width: p.width, height: p.height, bytes: p.bytes };
        self.ingest.store().hold_photo(&token, &stored, self.now()).await.map_err(unavailable)?;
        Ok((token, stored.bytes.len()))
    }

    /// The size of the photo held under `token` (a form's hidden field: anything may come in it).
    pub async fn held_photo(&self, token: &str) -> Option<usize> {
        if !photo::is_token(token) {
            return None;
        }
        self.ingest.store().held_photo(token).await.unwrap_or_else(|e| {
            tracing::error!("residents: store: {e}");
            None
        })
    }

    /// Deletes a held photo the resident took back (or replaced).
    pub async fn release_photo(&self, token: &str) {
        if let Err(e) = self.ingest.store().release_photo(token).await {
            tracing::error!("residents: store: {e}");
        }
    }

    /// Gives the held photo to the resident's report `id`; a report sent twice keeps its first photo.
    pub async fn attach_photo(&self, token: &str, id: &str) {
        match self.ingest.store().attach_photo(token, FEED, id).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(report = %id, "residents: the report has a photo or the held one expired; not attached"),
            Err(e) => tracing::error!(report = %id, "residents: store: {e}; the photo was not attached"),
        }
    }

    /// Whether the resident's report `id` came with a photo (the page says so; only staff see it).
    pub async fn has_photo(&self, id: &str) -> bool {
        self.ingest.store().has_photo(FEED, id).await.unwrap_or(false)
    }

    /// The public name of the place at a WGS-84 point (district, town, community), if it is in the city.
    pub fn place_at(&self, lon: f64, lat: f64) -> Option<String> {
        let tree = self.locator.tree();
        self.locator.grid_at(lon, lat).and_then(|g| tree.find(g)).map(|g| public::place(tree, g))
    }

    pub fn max_results(&self) -> u32 {
        self.cfg.max_results
    }
}
