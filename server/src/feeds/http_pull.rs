//! Generic HTTP JSON pull: `GET url?{cursor_param}={cursor}` returns a page of records and the cursor of
//! the next page. Pages are taken one by one, each stored with the cursor after it, so a restart resumes
//! at the first page not yet stored; an empty page (or an unchanged cursor) means caught up.
use super::mapping::at;
use super::pull::Page;
use super::record::Input;
use super::registry::FeedCtx;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub url: String,
    /// The query parameter that carries the cursor.
    #[serde(default = "default_cursor_param")]
    pub cursor_param: String,
    /// Cursor of the first request when nothing is stored yet (none: the parameter is left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_cursor: Option<String>,
    /// Path of the records array in a response.
    #[serde(default = "default_records")]
    pub records_path: String,
    /// Path of the next cursor in a response.
    #[serde(default = "default_next")]
    pub next_cursor_path: String,
    /// Seconds between polls once caught up.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// Extra request headers (an API key, say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// PEM certificates of the CA that signed an `https` source's certificate, when it is not in the
    /// system's store (a city's own CA).
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

fn default_cursor_param() -> String {
    "since".into()
}
fn default_records() -> String {
    "records".into()
}
fn default_next() -> String {
    "next_cursor".into()
}
fn default_interval() -> u64 {
    30
}

/// The certificates in a PEM file; the error names the key and the file.
pub fn ca_certificates(path: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("ca_file {path}: cannot read it: {e}"))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(format!("ca_file {path}: no PEM certificate in it")),
    }
}

/// A `ca_file` that names no readable PEM certificate is refused with the config, not at first use.
pub fn check_ca_file(ca_file: Option<&str>) -> Result<(), String> {
    ca_file.map(ca_certificates).transpose().map(|_| ())
}

/// A client with timeouts (a hung peer must not hang the feed) that checks `https` sources against the
/// system's CA store and the certificates in `ca_file`.
pub fn client(ca_file: Option<&str>) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(30)).connect_timeout(Duration::from_secs(5));
    for cert in ca_file.map(ca_certificates).transpose()?.unwrap_or_default() {
        b = b.add_root_certificate(cert);
    }
    b.build().map_err(|e| format!("the HTTP client cannot be built: {e}"))
}

/// The feed's client, or (a bad `ca_file`, say) the error recorded and nothing until `stop`.
pub async fn client_or_wait(ca_file: Option<&str>, ctx: &FeedCtx, stop: &mut watch::Receiver<bool>) -> Option<reqwest::Client> {
    match client(ca_file) {
        Ok(c) => Some(c),
        Err(e) => {
            ctx.bad_config(e, stop).await;
            None
        }
    }
}

/// An error with its causes (`error sending request` alone does not say that a certificate was
/// refused or a connection reset), each once.
fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out = format!("{out}: {text}");
        }
        next = cause.source();
    }
    out
}

/// GETs JSON, with a plain reason on failure (the URL without its query, which may carry keys).
pub async fn get_json(client: &reqwest::Client, url: &str, query: &[(String, String)], headers: &BTreeMap<String, String>) -> Result<serde_json::Value, String> {
    let shown = url.split('?').next().unwrap_or(url).to_string();
    let mut req = client.get(url).query(query);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| format!("{shown}: cannot connect: {}", causes(&e.without_url())))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("{shown}: HTTP {status}"));
    }
    let bytes = resp.bytes().await.map_err(|e| format!("{shown}: reading the response failed: {}", e.without_url()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{shown}: the response is not JSON: {e}"))
}

/// One page: its records and the next cursor.
pub fn page(cfg: &Config, v: &serde_json::Value) -> Result<(Vec<Input>, Option<String>), String> {
    let records = match at(v, &cfg.records_path) {
        Some(serde_json::Value::Array(a)) => a.iter().cloned().map(Input::Record).collect(),
        _ => return Err(format!("the response has no array at {:?}", cfg.records_path)),
    };
    let next = match at(v, &cfg.next_cursor_path) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok((records, next))
}

struct Api {
    cfg: Config,
    client: reqwest::Client,
}

impl super::pull::Source for Api {
    fn fetch<'a>(&'a mut self, stored: Option<String>) -> BoxFuture<'a, Result<Page, String>> {
        Box::pin(async move {
            let cfg = &self.cfg;
            let cursor = stored.or_else(|| cfg.initial_cursor.clone());
            let query: Vec<(String, String)> = cursor.iter().map(|c| (cfg.cursor_param.clone(), c.clone())).collect();
            let (inputs, next) = page(cfg, &get_json(&self.client, &cfg.url, &query, &cfg.headers).await?)?;
            let caught_up = inputs.is_empty() || next.is_none() || next == cursor;
            Ok(Page { inputs, cursor: next.or(cursor), caught_up })
        })
    }
}

pub async fn run(cfg: Config, ctx: FeedCtx, mut stop: watch::Receiver<bool>) {
    let interval = Duration::from_secs(cfg.interval_seconds.max(1));
    let Some(client) = client_or_wait(cfg.ca_file.as_deref(), &ctx, &mut stop).await else { return };
    super::pull::run(Api { cfg, client }, ctx, interval, super::pull::default_backoff(), stop).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_read_records_and_cursor_and_refuse_other_shapes() {
        let cfg: Config = toml::from_str("url = \"http://x/api\"\nrecords_path = \"data.items\"\nnext_cursor_path = \"data.next\"").unwrap();
        let (r, n) = page(&cfg, &json!({"data": {"items": [{"a": 1}], "next": 42}})).unwrap();
        assert_eq!((r.len(), n.as_deref()), (1, Some("42")));
        assert!(page(&cfg, &json!({"data": {"items": {}}})).unwrap_err().contains("data.items"));
        assert!(toml::from_str::<Config>("url = \"u\"\ncursor = \"x\"").unwrap_err().to_string().contains("unknown field `cursor`"));
    }

    /// Any JSON answer: a page or a reason, never a panic.
    #[test]
    fn no_answer_makes_page_panic() {
        let cfg: Config = toml::from_str("url = \"http://x/api\"\nrecords_path = \"data.0.items\"\nnext_cursor_path = \"data.0.next\"").unwrap();
        let atoms = [json!(null), json!(1), json!("x"), json!([]), json!({}), json!([{"a": 1}]), json!(-1.5e300)];
        let mut rng = geom::SplitMix64::new(5);
        for _ in 0..5_000 {
            let pick = |rng: &mut geom::SplitMix64| atoms[(rng.next_u64() % atoms.len() as u64) as usize].clone();
            let inner = json!({"items": pick(&mut rng), "next": pick(&mut rng)});
            let v = match rng.next_u64() % 3 {
                0 => json!({"data": [inner]}),
                1 => json!({"data": inner}),
                _ => pick(&mut rng),
            };
            let _ = page(&cfg, &v);
        }
    }
}
