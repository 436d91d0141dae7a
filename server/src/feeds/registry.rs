//! The configured feeds (`[[feeds]]` in the TOML config): parsed with errors that name the feed and the
//! key, run as tasks, paused and resumed (the switch is stored, so it survives a restart), reloaded
//! from the config file without a restart, and watched for health.
use super::health::{is_stale, Health};
use super::locate::Locator;
use super::mapping::{Mapper, Mapping};
use super::record::Input;
use super::{kinds::KindConfig, Feed};
use crate::ingest::{Ingest, Tally};
use crate::store::StoreError;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// One `[[feeds]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedSpec {
    pub name: String,
    pub kind: KindConfig,
    pub mapping: Mapping,
    /// How often the feed is expected to deliver; past it, the feed and its panels are stale.
    pub cadence_seconds: u64,
    /// Start paused (an operator's pause is stored and also holds).
    pub paused: bool,
    /// Where the results of this feed's cases go back to (a court's platform); sent while the feed runs.
    pub results: Option<super::results::Config>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "default_cadence")]
    cadence_seconds: u64,
    #[serde(default)]
    paused: bool,
    mapping: Mapping,
    #[serde(default)]
    results: Option<toml::Table>,
}

fn default_cadence() -> u64 {
    600
}

const COMMON_KEYS: [&str; 6] = ["name", "type", "cadence_seconds", "paused", "mapping", "results"];

impl FeedSpec {
    /// Reads one `[[feeds]]` table; the error says which feed, which key and what was expected.
    pub fn parse(index: usize, table: &toml::Table) -> Result<FeedSpec, String> {
        let label = match table.get("name").and_then(|v| v.as_str()) {
            Some(n) => format!("feeds[{index}] ({n:?})"),
            None => format!("feeds[{index}]"),
        };
        let (common, rest): (toml::Table, toml::Table) = table.clone().into_iter().partition(|(k, _)| COMMON_KEYS.contains(&k.as_str()));
        let c: Common = Common::deserialize_table(common).map_err(|e| format!("{label}: {e}"))?;
        if c.name.is_empty() || c.name.len() > 40 || !c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_') {
            return Err(format!("{label}: name must be 1 to 40 of a-z, 0-9, - and _"));
        }
        if c.name == super::demo::FEED {
            return Err(format!("{label}: the name {:?} belongs to the built-in demo feed", c.name));
        }
        if c.cadence_seconds == 0 {
            return Err(format!("{label}: cadence_seconds must be above 0"));
        }
        let rest = from_env(rest, &|var| std::env::var(var).ok()).map_err(|e| format!("{label}: {e}"))?;
        let kind = KindConfig::parse(&c.kind, rest).map_err(|e| format!("{label} (type {}): {e}", c.kind))?;
        let results = match c.results {
            None => None,
            Some(t) => {
                let t = from_env(t, &|var| std::env::var(var).ok()).map_err(|e| format!("{label}: results.{e}"))?;
                Some(kind_config::<super::results::Config>(t).and_then(super::results::Config::check).map_err(|e| format!("{label}: results: {e}"))?)
            }
        };
        Ok(FeedSpec { name: c.name, kind, mapping: c.mapping, cadence_seconds: c.cadence_seconds, paused: c.paused, results })
    }

    /// Every entry, checked for unique names.
    pub fn parse_all(tables: &[toml::Table]) -> Result<Vec<FeedSpec>, String> {
        let specs = tables.iter().enumerate().map(|(i, t)| FeedSpec::parse(i, t)).collect::<Result<Vec<_>, _>>()?;
        for (i, s) in specs.iter().enumerate() {
            if specs[..i].iter().any(|o| o.name == s.name) {
                return Err(format!("feeds[{i}]: a feed named {:?} is declared twice", s.name));
            }
        }
        Ok(specs)
    }
}

impl Common {
    fn deserialize_table(t: toml::Table) -> Result<Common, String> {
        toml::Value::Table(t).try_into().map_err(|e: toml::de::Error| e.message().to_string())
    }
}

/// Secrets stay out of the config file: any kind key `k_env = "VAR"` (also inside a kind's tables, such
/// as `headers`) stands for `k` with the value of the environment variable `VAR`. The error names the
/// key and the variable, never a value.
fn from_env(table: toml::Table, lookup: &dyn Fn(&str) -> Option<String>) -> Result<toml::Table, String> {
    let mut out = toml::Table::new();
    for (key, value) in &table {
        let Some(target) = key.strip_suffix("_env") else {
            let value = match value {
                toml::Value::Table(t) => toml::Value::Table(from_env(t.clone(), lookup).map_err(|e| format!("{key}.{e}"))?),
                v => v.clone(),
            };
            out.insert(key.clone(), value);
            continue;
        };
        let toml::Value::String(var) = value else {
            return Err(format!("{key}: expected the name of an environment variable"));
        };
        if table.contains_key(target) {
            return Err(format!("{key}: {target} is given both here and as {target}_env; keep one"));
        }
        match lookup(var) {
            Some(v) if !v.is_empty() => out.insert(target.to_string(), toml::Value::String(v)),
            _ => return Err(format!("{key}: the environment variable {var} is not set")),
        };
    }
    Ok(out)
}

/// Reads a kind's own keys (everything but the common ones) with the kind's struct.
pub fn kind_config<T: serde::de::DeserializeOwned>(rest: toml::Table) -> Result<T, String> {
    toml::Value::Table(rest).try_into().map_err(|e: toml::de::Error| e.message().trim().to_string())
}

/// What a running feed works with.
#[derive(Clone)]
pub struct FeedCtx {
    pub name: String,
    pub ingest: Ingest,
    pub mapper: Arc<Mapper>,
    pub health: Arc<Health>,
}

impl FeedCtx {
    /// Takes a batch durably and records the feed's health either way. An empty answer is a success
    /// (the source is reachable and has nothing new) that needs no write.
    pub async fn take(&self, inputs: Vec<Input>, cursor: Option<String>) -> Result<Tally, StoreError> {
        if inputs.is_empty() {
            self.health.succeeded(self.ingest.clock().now_ms());
            return Ok(Tally::default());
        }
        let r = self.ingest.take(&self.name, &self.mapper, inputs, cursor).await;
        match &r {
            Ok(_) => self.health.succeeded(self.ingest.clock().now_ms()),
            Err(e) => self.failed(format!("storing a batch failed: {e}")),
        }
        r
    }

    /// A feed that cannot run as configured: the error is recorded (the feed shows it and goes stale) and
    /// the task idles until stopped, so that a reload with a fixed config replaces it.
    pub async fn bad_config(&self, why: impl std::fmt::Display, stop: &mut watch::Receiver<bool>) {
        self.failed(format!("bad config: {why}"));
        let _ = stop.wait_for(|s| *s).await;
    }

    /// Records an error (peer down, bad response); logged without payloads or secrets.
    pub fn failed(&self, why: String) {
        tracing::warn!(feed = %self.name, error = %why, "feed error");
        self.health.failed(self.ingest.clock().now_ms(), why);
    }

    /// Where a pull feed resumes: the cursor stored with its last batch.
    pub async fn cursor(&self) -> Result<Option<String>, StoreError> {
        Ok(self.ingest.store().feed_rows().await?.into_iter().find(|r| r.feed == self.name).and_then(|r| r.cursor))
    }
}

/// A configured feed as the `Feed` trait runs it.
struct Configured {
    ctx: FeedCtx,
    kind: KindConfig,
    results: Option<super::results::Config>,
}

impl Feed for Configured {
    fn name(&self) -> &str {
        &self.ctx.name
    }

    fn run(self: Box<Self>, ingest: Ingest, shutdown: watch::Receiver<bool>) -> BoxFuture<'static, ()> {
        let Configured { ctx, kind, results } = *self;
        let Some(results) = results else { return kind.run(ctx, shutdown) };
        // Results go back while the feed runs: a paused feed is a paused link with that system.
        let back = super::results::run(ctx.name.clone(), results, ingest.store().clone(), ingest.clock().clone(), shutdown.clone());
        let intake = kind.run(ctx, shutdown);
        Box::pin(async move {
            futures::join!(intake, back);
        })
    }
}

struct Entry {
    spec: FeedSpec,
    ctx: FeedCtx,
    /// The running task and the switch that stops it; None while paused.
    task: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
}

/// A feed's health and counts, as the operator page, `/metrics` and stale panels read them.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedStatus {
    pub name: String,
    pub kind: &'static str,
    pub paused: bool,
    pub cadence_seconds: u64,
    pub last_success: Option<i64>,
    pub last_event_at: Option<i64>,
    /// How far behind the newest event is (ms).
    pub lag_ms: Option<i64>,
    pub errors: u64,
    pub last_error: Option<(i64, String)>,
    pub received: u64,
    pub stored: u64,
    pub duplicate: u64,
    pub quarantined: u64,
    /// Of the quarantined, deleted at the end of their retention (no longer listed or replayable).
    pub expired: u64,
    pub stale: bool,
    /// Results owed to the system behind the feed (`[feeds.results]`), if it takes them.
    pub outbox: Option<crate::store::outbox::OutboxSummary>,
}

/// The kind shown for the residents' reports (`/report`, Open311 POST), a feed the cockpit itself runs.
pub const RESIDENTS_KIND: &str = "residents";

pub struct Registry {
    ingest: Ingest,
    locator: Arc<Locator>,
    feeds: Mutex<BTreeMap<String, Entry>>,
    shutdown: watch::Receiver<bool>,
    /// Several instances on one store: each feed runs where its lease is held (`cluster::lease`).
    leases: Option<Arc<dyn crate::cluster::Leases>>,
}

impl Registry {
    pub fn new(ingest: Ingest, locator: Arc<Locator>, shutdown: watch::Receiver<bool>) -> Registry {
        Registry { ingest, locator, feeds: Mutex::new(BTreeMap::new()), shutdown, leases: None }
    }

    /// Runs each feed only while this instance holds its lease.
    pub fn with_leases(mut self, leases: Arc<dyn crate::cluster::Leases>) -> Registry {
        self.leases = Some(leases);
        self
    }

    fn entry(&self, spec: FeedSpec) -> Result<Entry, String> {
        let mapper = spec.mapping.compile(self.locator.clone()).map_err(|e| format!("feed {:?}: {e}", spec.name))?;
        let ctx = FeedCtx { name: spec.name.clone(), ingest: self.ingest.clone(), mapper: Arc::new(mapper), health: Arc::new(Health::default()) };
        Ok(Entry { spec, ctx, task: None })
    }

    fn start(&self, e: &mut Entry) {
        if e.task.is_some() || *self.shutdown.borrow() {
            return;
        }
        let (tx, mut rx) = watch::channel(false);
        let mut server = self.shutdown.clone();
        // Either switch stops the feed: its own (pause, reload) or the server's.
        let (fwd_tx, fwd_rx) = watch::channel(false);
        tokio::spawn(async move {
            tokio::select! { _ = rx.changed() => {}, _ = server.wait_for(|s| *s) => {} }
            let _ = fwd_tx.send(true);
        });
        e.ctx.health.running(Some(self.ingest.clock().now_ms()));
        tracing::info!(feed = %e.spec.name, kind = e.spec.kind.as_str(), "feed started");
        let (ctx, kind, results, ingest) = (e.ctx.clone(), e.spec.kind.clone(), e.spec.results.clone(), self.ingest.clone());
        let make = move |stop| {
            let feed: Box<dyn Feed> = Box::new(Configured { ctx: ctx.clone(), kind: kind.clone(), results: results.clone() });
            feed.run(ingest.clone(), stop)
        };
        let handle = match &self.leases {
            Some(leases) => tokio::spawn(crate::cluster::lease::run_leased(format!("feed:{}", e.spec.name), leases.clone(), make, fwd_rx)),
            None => tokio::spawn(make(fwd_rx)),
        };
        e.task = Some((tx, handle));
    }

    fn stop(e: &mut Entry) -> Option<tokio::task::JoinHandle<()>> {
        e.ctx.health.running(None);
        e.task.take().map(|(tx, h)| {
            let _ = tx.send(true);
            h
        })
    }

    /// Starts the configured feeds (those not paused, by config or by an operator). Every mapping is
    /// checked first: one bad feed stops the start with its name and reason.
    pub async fn start_all(&self, specs: Vec<FeedSpec>) -> Result<(), String> {
        let paused = self.stored_pauses().await?;
        let mut entries = Vec::new();
        for spec in specs {
            entries.push(self.entry(spec)?);
        }
        let mut feeds = self.feeds.lock().expect("feeds lock");
        for mut e in entries {
            if !(e.spec.paused || paused.get(&e.spec.name).copied().unwrap_or(false)) {
                self.start(&mut e);
            }
            feeds.insert(e.spec.name.clone(), e);
        }
        Ok(())
    }

    async fn stored_pauses(&self) -> Result<BTreeMap<String, bool>, String> {
        let rows = self.ingest.store().feed_rows().await.map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|r| (r.feed, r.paused)).collect())
    }

    /// Pauses or resumes a feed; false if there is no such feed. Returns once a paused feed has stopped.
    pub async fn set_paused(&self, name: &str, paused: bool) -> Result<bool, String> {
        if !self.feeds.lock().expect("feeds lock").contains_key(name) {
            return Ok(false);
        }
        self.ingest.store().set_paused(name, paused).await.map_err(|e| e.to_string())?;
        let stopping = {
            let mut feeds = self.feeds.lock().expect("feeds lock");
            let Some(e) = feeds.get_mut(name) else { return Ok(false) };
            if paused {
                Registry::stop(e)
            } else {
                self.start(e);
                None
            }
        };
        if let Some(h) = stopping {
            let _ = h.await;
        }
        if let Some(shared) = self.ingest.shared() {
            shared.announce(crate::cluster::Change { feeds: true, ..Default::default() }).await;
        }
        Ok(true)
    }

    /// Another instance paused or resumed a feed: stops what the store says is paused and starts what
    /// it says runs again (a feed paused in the config file stays paused).
    pub async fn follow_pauses(&self) -> Result<(), String> {
        let paused = self.stored_pauses().await?;
        let stopping: Vec<tokio::task::JoinHandle<()>> = {
            let mut feeds = self.feeds.lock().expect("feeds lock");
            let mut stopping = Vec::new();
            for (name, e) in feeds.iter_mut() {
                match (paused.get(name).copied(), e.task.is_some()) {
                    (Some(true), true) => stopping.extend(Registry::stop(e)),
                    (Some(false), false) if !e.spec.paused => self.start(e),
                    _ => {}
                }
            }
            stopping
        };
        for h in stopping {
            let _ = h.await;
        }
        Ok(())
    }

    /// Applies a new list of feeds: new ones start, removed ones stop, changed ones restart, the rest
    /// carry on. Nothing changes if any entry is invalid. Returns (started, stopped, restarted) names.
    pub async fn reload(&self, specs: Vec<FeedSpec>) -> Result<(Vec<String>, Vec<String>, Vec<String>), String> {
        let paused = self.stored_pauses().await?;
        let mut fresh = Vec::new();
        for spec in specs {
            fresh.push(self.entry(spec)?);
        }
        let (mut started, mut stopped, mut restarted, mut waits) = (vec![], vec![], vec![], vec![]);
        {
            let mut feeds = self.feeds.lock().expect("feeds lock");
            let names: Vec<String> = fresh.iter().map(|e| e.spec.name.clone()).collect();
            let gone: Vec<String> = feeds.keys().filter(|k| !names.contains(k)).cloned().collect();
            for name in gone {
                if let Some(mut e) = feeds.remove(&name) {
                    waits.extend(Registry::stop(&mut e));
                    stopped.push(name);
                }
            }
            for mut e in fresh {
                let name = e.spec.name.clone();
                match feeds.get_mut(&name) {
                    Some(old) if old.spec == e.spec => continue,
                    Some(old) => {
                        waits.extend(Registry::stop(old));
                        restarted.push(name.clone());
                    }
                    None => started.push(name.clone()),
                }
                if !(e.spec.paused || paused.get(&name).copied().unwrap_or(false)) {
                    self.start(&mut e);
                }
                feeds.insert(name, e);
            }
        }
        for h in waits {
            let _ = h.await;
        }
        Ok((started, stopped, restarted))
    }

    /// Maps the feed's quarantined records again with its current mapping; None if no such feed.
    pub async fn replay(&self, name: &str) -> Result<Option<Tally>, StoreError> {
        let Some(ctx) = self.ctx(name) else { return Ok(None) };
        let rows = self.ingest.store().quarantine(Some(name), 10_000).await?;
        let t = self.ingest.replay(name, &ctx.mapper, rows).await?;
        Ok(Some(t))
    }

    pub fn ctx(&self, name: &str) -> Option<FeedCtx> {
        self.feeds.lock().expect("feeds lock").get(name).map(|e| e.ctx.clone())
    }

    /// A feed's config and context while it runs (push kinds answer requests with it); None if it is
    /// unknown or paused.
    pub fn running(&self, name: &str) -> Option<(KindConfig, FeedCtx)> {
        let feeds = self.feeds.lock().expect("feeds lock");
        feeds.get(name).filter(|e| e.task.is_some()).map(|e| (e.spec.kind.clone(), e.ctx.clone()))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.feeds.lock().expect("feeds lock").contains_key(name)
    }

    /// Feeds past their cadence now, with what they deliver, from in-memory health alone (cheap enough
    /// for every wall snapshot). Before a feed's first success after a start it has its full cadence.
    pub fn stale_feeds(&self, now: i64) -> Vec<(String, super::mapping::RecordKind)> {
        let feeds = self.feeds.lock().expect("feeds lock");
        feeds
            .values()
            .filter(|e| is_stale(&e.ctx.health.get(), None, e.spec.cadence_seconds as i64 * 1000, now))
            .map(|e| (e.spec.name.clone(), e.ctx.mapper.kind()))
            .collect()
    }

    /// Every configured feed with its health and counts, then the residents' reports (built in: always
    /// on, with no cadence, so never stale, and nothing to pause or replay).
    pub async fn statuses(&self, now: i64) -> Result<Vec<FeedStatus>, StoreError> {
        let rows: BTreeMap<String, crate::store::feeds::FeedRow> =
            self.ingest.store().feed_rows().await?.into_iter().map(|r| (r.feed.clone(), r)).collect();
        let residents = rows.get(crate::residents::FEED).cloned().unwrap_or_default();
        let residents = FeedStatus {
            name: crate::residents::FEED.to_string(),
            kind: RESIDENTS_KIND,
            paused: false,
            cadence_seconds: 0,
            last_success: residents.last_success,
            last_event_at: residents.last_event_at,
            lag_ms: residents.last_event_at.map(|t| (now - t).max(0)),
            errors: 0,
            stale: false,
            last_error: None,
            received: residents.received,
            stored: residents.stored,
            duplicate: residents.duplicate,
            quarantined: residents.quarantined,
            expired: residents.expired,
            outbox: None,
        };
        let owing: Vec<String> = self.feeds.lock().expect("feeds lock").values().filter(|e| e.spec.results.is_some()).map(|e| e.spec.name.clone()).collect();
        let mut outboxes = BTreeMap::new();
        for name in owing {
            let summary = self.ingest.store().outbox_summary(&name).await?;
            outboxes.insert(name, summary);
        }
        let feeds = self.feeds.lock().expect("feeds lock");
        Ok(feeds
            .values()
            .map(|e| {
                let h = e.ctx.health.get();
                let row = rows.get(&e.spec.name).cloned().unwrap_or_default();
                FeedStatus {
                    name: e.spec.name.clone(),
                    kind: e.spec.kind.as_str(),
                    paused: e.task.is_none(),
                    cadence_seconds: e.spec.cadence_seconds,
                    last_success: h.last_success.max(row.last_success),
                    last_event_at: row.last_event_at,
                    lag_ms: row.last_event_at.map(|t| (now - t).max(0)),
                    errors: h.errors,
                    stale: is_stale(&h, row.last_success, e.spec.cadence_seconds as i64 * 1000, now),
                    last_error: h.last_error,
                    received: row.received,
                    stored: row.stored,
                    duplicate: row.duplicate,
                    quarantined: row.quarantined,
                    expired: row.expired,
                    outbox: outboxes.remove(&e.spec.name),
                }
            })
            .chain(std::iter::once(residents))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn secrets_come_from_the_environment_and_errors_never_show_them() {
        let env = |var: &str| match var {
            "HOTLINE_SECRET" => Some("s3cret-value".to_string()),
            "API_KEY" => Some("k3y-value".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let t = from_env(table("token = \"t\"\nsecret_env = \"HOTLINE_SECRET\"\n[headers]\nx-api-key_env = \"API_KEY\"\naccept = \"json\""), &env).unwrap();
        assert_eq!(t["secret"].as_str(), Some("s3cret-value"));
        assert!(!t.contains_key("secret_env"));
        assert_eq!(t["headers"]["x-api-key"].as_str(), Some("k3y-value"));
        assert_eq!(t["headers"]["accept"].as_str(), Some("json"));

        let unset = from_env(table("secret_env = \"NOPE\""), &env).unwrap_err();
        assert_eq!(unset, "secret_env: the environment variable NOPE is not set");
        assert!(from_env(table("secret_env = \"EMPTY\""), &env).unwrap_err().contains("EMPTY is not set"));
        let both = from_env(table("secret = \"x\"\nsecret_env = \"HOTLINE_SECRET\""), &env).unwrap_err();
        assert!(both.contains("keep one") && !both.contains("s3cret"), "{both}");
        assert!(from_env(table("[headers]\nk_env = 3"), &env).unwrap_err().starts_with("headers.k_env:"));
    }

    #[test]
    fn a_webhook_feed_reads_its_secret_from_the_environment() {
        let text = "name = \"petitions\"\ntype = \"webhook\"\ntoken_env = \"COCKPIT_TEST_PETITIONS_TOKEN\"\nsecret_env = \"COCKPIT_TEST_PETITIONS_SECRET\"\n[mapping]\nrecord = \"observation\"\nid = \"id\"\ntime = \"at\"\nindicator = \"alarm\"\nregion = \"grid\"\n";
        let err = FeedSpec::parse(0, &table(text)).unwrap_err();
        assert_eq!(err, "feeds[0] (\"petitions\"): secret_env: the environment variable COCKPIT_TEST_PETITIONS_SECRET is not set");
        // Only this test sets these variables.
        std::env::set_var("COCKPIT_TEST_PETITIONS_TOKEN", "tok");
        std::env::set_var("COCKPIT_TEST_PETITIONS_SECRET", "sec");
        let spec = FeedSpec::parse(0, &table(text)).unwrap();
        match spec.kind {
            KindConfig::Webhook(c) => assert_eq!((c.token.as_str(), c.secret.as_str()), ("tok", "sec")),
            other => panic!("{other:?}"),
        }
    }
}
