//! Results sent back to the system that referred a feed's cases (`[feeds.results]`): a court's platform
//! that pushes disputes to mediation (诉调对接) gets each mediation attempt's result. The store is the
//! queue (`store/outbox.rs`): results are queued from the stored events, POSTed signed like a webhook
//! push (`Authorization: Bearer`, `X-Cockpit-Timestamp`, `X-Cockpit-Signature`), retried with a
//! doubling wait while the receiver fails, and marked delivered only on a 2xx. The receiver recognises a
//! repeat by `result_id` (a delivery whose answer was lost is sent again).
use super::backoff::sleep_or_stop;
use crate::store::outbox::OutboxRow;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where results are POSTed.
    pub url: String,
    pub token: String,
    /// The HMAC-SHA256 key the receiver checks.
    pub secret: String,
    /// Seconds between looks for new results.
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// The longest wait before trying a failing result again (the first is 5 s, then doubling).
    #[serde(default = "default_max_retry")]
    pub max_retry_seconds: u64,
}

fn default_interval() -> u64 {
    5
}
fn default_max_retry() -> u64 {
    3600
}

impl Config {
    pub fn check(self) -> Result<Config, String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!("results.url: expected an http(s) URL, got {:?}", self.url));
        }
        if self.token.is_empty() || self.secret.is_empty() {
            return Err("results: token and secret must not be empty".into());
        }
        if self.interval_seconds == 0 || self.max_retry_seconds < 5 {
            return Err("results: interval_seconds must be above 0 and max_retry_seconds at least 5".into());
        }
        Ok(self)
    }
}

/// What the receiver gets for one mediation attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediationResult {
    /// Stable across retries and restarts: a case has at most one attempt per tier.
    pub result_id: String,
    /// The case's number in the referring system.
    pub case_no: String,
    pub tier: String,
    /// settled or failed.
    pub outcome: String,
    /// 司法确认: "granted" or "refused" for a judicial confirmation; "eligible" for a people's
    /// mediation agreement (which the parties may bring to the court); none otherwise.
    pub judicial_confirmation: Option<String>,
    pub decided_at: String,
}

pub fn message(r: &OutboxRow) -> MediationResult {
    use app::flow::{Outcome, Tier};
    let judicial_confirmation = match (r.tier, r.outcome) {
        (Tier::Judicial, Outcome::Settled) => Some("granted"),
        (Tier::Judicial, Outcome::Failed) => Some("refused"),
        (t, Outcome::Settled) if t.is_peoples() => Some("eligible"),
        _ => None,
    };
    MediationResult {
        result_id: format!("{}/{}", r.case_id, r.tier.as_str()),
        case_no: r.case_id.clone(),
        tier: r.tier.as_str().into(),
        outcome: r.outcome.as_str().into(),
        judicial_confirmation: judicial_confirmation.map(str::to_string),
        decided_at: super::open311::w3c(r.at),
    }
}

/// The wait after a result's `attempts`-th failure: 5 s doubling, capped.
pub fn retry_after(attempts: u32, max_seconds: u64) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    Duration::from_secs(secs.min(max_seconds))
}

/// Queues and delivers until `stop`; store errors are logged and tried again at the next round.
pub async fn run(feed: String, cfg: Config, store: Arc<dyn Store>, clock: crate::clock::Clock, mut stop: watch::Receiver<bool>) {
    let client = match super::http_pull::client(None) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(%feed, "results: {e}");
            return;
        }
    };
    loop {
        if let Err(e) = round(&feed, &cfg, store.as_ref(), &clock, &client).await {
            tracing::warn!(%feed, "results: the store is unavailable: {e}");
        }
        if sleep_or_stop(Duration::from_secs(cfg.interval_seconds), &mut stop).await {
            return;
        }
    }
}

/// One round: queue what is new, then try everything due, oldest first. A receiver that refuses one
/// result is not asked again this round (it is likely down).
pub async fn round(feed: &str, cfg: &Config, store: &dyn Store, clock: &crate::clock::Clock, client: &reqwest::Client) -> Result<(), crate::store::StoreError> {
    while store.outbox_fill(feed, clock.now_ms(), 500).await? == 500 {}
    for r in store.outbox_due(feed, clock.now_ms(), 200).await? {
        match deliver(cfg, client, &r, clock.now_ms()).await {
            Ok(()) => store.outbox_delivered(r.id, clock.now_ms()).await?,
            Err(why) => {
                let wait = retry_after(r.attempts + 1, cfg.max_retry_seconds);
                tracing::warn!(%feed, result = r.id, attempts = r.attempts + 1, "results: not delivered: {why}; again in {} s", wait.as_secs());
                store.outbox_failed(r.id, &why, clock.now_ms() + wait.as_millis() as i64).await?;
                break;
            }
        }
    }
    Ok(())
}

async fn deliver(cfg: &Config, client: &reqwest::Client, r: &OutboxRow, now: i64) -> Result<(), String> {
    let body = serde_json::to_vec(&message(r)).map_err(|e| e.to_string())?;
    let ts = (now / 1000).to_string();
    let resp = client
        .post(&cfg.url)
        .header("authorization", format!("Bearer {}", cfg.token))
        .header(super::webhook::TIMESTAMP, &ts)
        .header(super::webhook::SIGNATURE, format!("sha256={}", super::webhook::sign(&cfg.secret, &ts, &body)))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach the receiver: {}", e.without_url()))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    // The receiver's words, short: they are shown to operators on /feeds.
    let text: String = resp.text().await.unwrap_or_default().chars().take(200).collect();
    Err(format!("the receiver answered {status}: {}", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::flow::{Outcome, Tier};

    fn row(tier: Tier, outcome: Outcome) -> OutboxRow {
        OutboxRow { id: 1, feed: "court".into(), case_id: "(2026)浙0602民诉前调17号".into(), tier, outcome, at: 1_800_000_000_000, attempts: 0 }
    }

    #[test]
    fn a_result_names_its_case_tier_and_confirmation_and_keeps_its_id() {
        let m = message(&row(Tier::Town, Outcome::Settled));
        assert_eq!((m.result_id.as_str(), m.tier.as_str(), m.outcome.as_str()), ("(2026)浙0602民诉前调17号/town", "town", "settled"));
        assert_eq!(m.judicial_confirmation.as_deref(), Some("eligible"));
        assert_eq!(message(&row(Tier::Judicial, Outcome::Settled)).judicial_confirmation.as_deref(), Some("granted"));
        assert_eq!(message(&row(Tier::Judicial, Outcome::Failed)).judicial_confirmation.as_deref(), Some("refused"));
        assert_eq!(message(&row(Tier::Village, Outcome::Failed)).judicial_confirmation, None);
        assert_eq!(message(&row(Tier::Litigation, Outcome::Settled)).judicial_confirmation, None);
        assert_ne!(message(&row(Tier::Village, Outcome::Failed)).result_id, message(&row(Tier::Town, Outcome::Failed)).result_id);
    }

    #[test]
    fn retries_double_from_five_seconds_to_the_cap() {
        let waits: Vec<u64> = (1..=12).map(|a| retry_after(a, 3600).as_secs()).collect();
        assert_eq!(waits, vec![5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
        assert_eq!(retry_after(200, 60).as_secs(), 60);
    }

    #[test]
    fn a_bad_config_is_refused_with_the_key() {
        let ok = Config { url: "http://court.local/api/results".into(), token: "t".into(), secret: "s".into(), interval_seconds: 5, max_retry_seconds: 3600 };
        assert!(ok.clone().check().is_ok());
        assert!(Config { url: "court.local".into(), ..ok.clone() }.check().unwrap_err().contains("results.url"));
        assert!(Config { secret: String::new(), ..ok.clone() }.check().is_err());
        assert!(Config { interval_seconds: 0, ..ok }.check().is_err());
    }
}
