//! Open311 GeoReport v2 pull, how 12345-style hotline systems publish requests: `GET {base}/requests.json`
//! over time windows. Standard servers filter `start_date`/`end_date` on the request time; many also take
//! `updated_after`/`updated_before`, which makes the pull incremental by update time (`window_on =
//! "updated"`). A window that comes back full (the server's page limit) is split in two, so nothing
//! beyond the limit is silently dropped. Each window is stored with the cursor after it.
use super::http_pull::{check_ca_file, client_or_wait, get_json};
use super::pull::Page;
use super::record::Input;
use super::registry::FeedCtx;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowOn {
    Requested,
    Updated,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The endpoint base, e.g. `http://hotline.local/open311/v2` (requests.json is appended).
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default = "default_window_on")]
    pub window_on: WindowOn,
    /// Where the first pull starts, in days before now.
    #[serde(default = "default_backfill")]
    pub backfill_days: u32,
    /// Longest window per request (the GeoReport default range is 90 days).
    #[serde(default = "default_window")]
    pub window_hours: u32,
    /// The server's most results per request: a window that returns this many is split.
    #[serde(default = "default_max")]
    pub max_results: usize,
    /// Seconds between polls once caught up.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// Each poll re-reads this many seconds before the cursor: updates committed late in the source are
    /// not missed (re-read records are duplicates and count as such).
    #[serde(default = "default_overlap")]
    pub overlap_seconds: u64,
    /// As for `http_pull`: the CA of an `https` endpoint when the system's store lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

impl Config {
    /// The config if it is valid (as `[[feeds]]` parsing wants it).
    pub fn check(self) -> Result<Config, String> {
        check_ca_file(self.ca_file.as_deref())?;
        Ok(self)
    }
}

fn default_window_on() -> WindowOn {
    WindowOn::Updated
}
fn default_backfill() -> u32 {
    7
}
fn default_window() -> u32 {
    24
}
fn default_max() -> usize {
    1000
}
fn default_interval() -> u64 {
    60
}
fn default_overlap() -> u64 {
    60
}

/// W3C datetime in Beijing time, as GeoReport writes them.
pub fn w3c(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms + 8 * 3_600_000).unwrap_or_default().naive_utc();
    format!("{}+08:00", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn query(cfg: &Config, from: i64, to: i64) -> Vec<(String, String)> {
    let (a, b) = match cfg.window_on {
        WindowOn::Requested => ("start_date", "end_date"),
        WindowOn::Updated => ("updated_after", "updated_before"),
    };
    let mut q = vec![(a.to_string(), w3c(from)), (b.to_string(), w3c(to))];
    q.extend(cfg.jurisdiction_id.iter().map(|j| ("jurisdiction_id".to_string(), j.clone())));
    q.extend(cfg.api_key.iter().map(|k| ("api_key".to_string(), k.clone())));
    q
}

/// Fetches `[from, to)`, halving while a window comes back full.
async fn fetch(cfg: &Config, client: &reqwest::Client, url: &str, from: i64, to: i64) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    let mut pending = vec![(from, to)];
    while let Some((a, b)) = pending.pop() {
        let v = get_json(client, url, &query(cfg, a, b), &BTreeMap::new()).await?;
        let serde_json::Value::Array(list) = v else { return Err("requests.json did not return a JSON array".into()) };
        if list.len() >= cfg.max_results {
            if b - a > 1_000 {
                let mid = a + (b - a) / 2;
                pending.push((mid, b));
                pending.push((a, mid));
                continue;
            }
            // GeoReport times have whole seconds: a full one-second window cannot be split further.
            return Err(format!("more than {} requests were updated within one second at {}; raise max_results to the server's limit", cfg.max_results, w3c(a)));
        }
        out.extend(list);
    }
    Ok(out)
}

struct Hotline {
    cfg: Config,
    clock: crate::clock::Clock,
    client: reqwest::Client,
    url: String,
}

impl super::pull::Source for Hotline {
    /// The window from the stored cursor (less the overlap) to at most `window_hours` later; the cursor
    /// stored with it is the window's end.
    fn fetch<'a>(&'a mut self, stored: Option<String>) -> BoxFuture<'a, Result<Page, String>> {
        Box::pin(async move {
            let cfg = &self.cfg;
            let now = self.clock.now_ms();
            let from = match stored.and_then(|c| c.parse::<i64>().ok()) {
                Some(c) => c - cfg.overlap_seconds as i64 * 1000,
                None => now - i64::from(cfg.backfill_days) * 86_400_000,
            };
            let to = (from + i64::from(cfg.window_hours.max(1)) * 3_600_000).min(now);
            let list = fetch(cfg, &self.client, &self.url, from, to).await?;
            Ok(Page { inputs: list.into_iter().map(Input::Record).collect(), cursor: Some(to.to_string()), caught_up: to >= now })
        })
    }
}

pub async fn run(cfg: Config, ctx: FeedCtx, mut stop: watch::Receiver<bool>) {
    let url = format!("{}/requests.json", cfg.endpoint.trim_end_matches('/'));
    let interval = Duration::from_secs(cfg.interval_seconds.max(1));
    let Some(client) = client_or_wait(cfg.ca_file.as_deref(), &ctx, &mut stop).await else { return };
    super::pull::run(Hotline { cfg, client, url, clock: ctx.ingest.clock().clone() }, ctx, interval, super::pull::default_backoff(), stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_written_in_beijing_time() {
        assert_eq!(w3c(1_763_688_600_000), "2025-11-21T09:30:00+08:00");
        let cfg: Config = toml::from_str("endpoint = \"http://x/v2\"\njurisdiction_id = \"sx\"").unwrap();
        let q = query(&cfg, 0, 1000);
        assert_eq!(q[0], ("updated_after".to_string(), "1970-01-01T08:00:00+08:00".to_string()));
        assert_eq!(q[2], ("jurisdiction_id".to_string(), "sx".to_string()));
    }
}
