//! NATS JetStream: a durable pull consumer on a stream the city's system publishes to. Messages are
//! pulled in batches, taken in one `FeedCtx::take`, and acked only once the take returned Ok; what was
//! pulled but not taken when the feed stops is nak'ed for redelivery, and anything unacked (a crash, a
//! lost connection) comes back after `ack_wait_seconds`. The consumer lives on the server, so a paused
//! feed or a stopped cockpit resumes where it left off.
//!
//! The client is the maintained `async-nats` crate (TLS with `tls://` and the system's CA store, user
//! and password or a token in the URL, NKeys); the simulator publishes with it too.
pub(crate) mod client;

pub use client::{connect, shown};

use super::backoff::{sleep_or_stop, Backoff};
use super::record::Input;
use super::registry::FeedCtx;
use async_nats::jetstream::consumer::pull::{Config as PullConfig, Stream as Messages};
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::{AckKind, Message};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The server: `nats://[user:pass@]host:port`.
    #[serde(default = "default_url")]
    pub url: String,
    /// The JetStream stream to consume (it must exist; the publishing side owns it).
    pub stream: String,
    /// The durable consumer's name: created if missing, and where the feed resumes.
    pub durable: String,
    /// Only messages on this subject (wildcards allowed); none: the whole stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_subject: Option<String>,
    /// Messages per pull request, and most records per stored batch.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// How long a pull request waits on the server for messages (ms).
    #[serde(default = "default_fetch_wait")]
    pub fetch_wait_ms: u64,
    /// How long a first message waits for more to join its batch (ms).
    #[serde(default = "default_batch_wait")]
    pub batch_wait_ms: u64,
    /// Seconds after which the server redelivers a message that was not acked (used when the
    /// consumer is created).
    #[serde(default = "default_ack_wait")]
    pub ack_wait_seconds: u64,
    /// A NATS `.creds` file (the account's JWT and NKey seed), for a server that signs in that way;
    /// a user and password or a token go in the URL (best through `url_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

fn default_url() -> String {
    "nats://127.0.0.1:4222".into()
}
fn default_batch() -> usize {
    500
}
fn default_fetch_wait() -> u64 {
    5_000
}
fn default_batch_wait() -> u64 {
    200
}
fn default_ack_wait() -> u64 {
    30
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Config {
    /// Checks what serde cannot: names NATS accepts and sane limits.
    pub fn check(self) -> Result<Config, String> {
        client::check_url(&self.url)?;
        if !is_name(&self.stream) {
            return Err("stream: 1 to 128 of A-Z, a-z, 0-9, - and _".into());
        }
        if !is_name(&self.durable) {
            return Err("durable: 1 to 128 of A-Z, a-z, 0-9, - and _".into());
        }
        if let Some(f) = &self.filter_subject {
            if f.is_empty() || f.contains([' ', '\t', '\r', '\n']) {
                return Err("filter_subject: a subject without spaces".into());
            }
        }
        if !(1..=10_000).contains(&self.batch) {
            return Err("batch: 1 to 10000".into());
        }
        if !(100..=60_000).contains(&self.fetch_wait_ms) {
            return Err("fetch_wait_ms: 100 to 60000".into());
        }
        if self.ack_wait_seconds == 0 {
            return Err("ack_wait_seconds must be above 0".into());
        }
        Ok(self)
    }
}

/// Finds the stream (the publishing side owns it) and creates the durable pull consumer, or finds it.
async fn ensure_consumer(js: &async_nats::jetstream::Context, cfg: &Config) -> Result<PullConsumer, String> {
    let stream = js.get_stream(&cfg.stream).await.map_err(|e| format!("stream {}: {e}", cfg.stream))?;
    let config = PullConfig {
        durable_name: Some(cfg.durable.clone()),
        ack_policy: AckPolicy::Explicit,
        deliver_policy: DeliverPolicy::All,
        ack_wait: Duration::from_secs(cfg.ack_wait_seconds),
        max_deliver: -1,
        filter_subject: cfg.filter_subject.clone().unwrap_or_default(),
        ..Default::default()
    };
    stream.get_or_create_consumer(&cfg.durable, config).await.map_err(|e| format!("consumer {}: {e}", cfg.durable))
}

/// The inputs of pulled messages: JSON records, or unreadable ones with the reason.
fn inputs<'a>(payloads: impl Iterator<Item = &'a [u8]>) -> Vec<Input> {
    payloads
        .map(|p| match serde_json::from_slice(p) {
            Ok(v) => Input::Record(v),
            Err(e) => Input::Unreadable { reason: format!("the message is not JSON: {e}"), raw: String::from_utf8_lossy(p).into_owned() },
        })
        .collect()
}

/// Resolves once `stop` is true (holding no borrow of the channel, so a future awaiting it stays `Send`).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

pub async fn run(cfg: Config, ctx: FeedCtx, mut stop: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    loop {
        match session(&cfg, &ctx, &mut stop, &mut backoff).await {
            Ok(()) => return,
            Err(why) => {
                ctx.failed(why);
                if sleep_or_stop(backoff.step(), &mut stop).await {
                    return;
                }
            }
        }
    }
}

/// One connection: pull, take, ack until stopped (Ok) or the connection fails (Err). The client would
/// reconnect by itself; the feed starts over instead, so that the outage shows on /feeds.
async fn session(cfg: &Config, ctx: &FeedCtx, stop: &mut watch::Receiver<bool>, backoff: &mut Backoff) -> Result<(), String> {
    let name = format!("city-cockpit feed {}", ctx.name);
    let shown = shown(&cfg.url);
    let (client, mut lost) = tokio::select! {
        c = connect(&cfg.url, &name, cfg.credentials_file.as_deref()) => c?,
        _ = stopped(stop) => return Ok(()),
    };
    let js = async_nats::jetstream::new(client.clone());
    let consumer = tokio::select! {
        c = ensure_consumer(&js, cfg) => c.map_err(|e| format!("{shown}: {e}"))?,
        _ = stopped(stop) => return Ok(()),
    };
    let fetch_wait = Duration::from_millis(cfg.fetch_wait_ms);
    let mut messages: Messages = consumer
        .stream()
        .max_messages_per_batch(cfg.batch)
        .expires(fetch_wait)
        .heartbeat(fetch_wait / 2)
        .messages()
        .await
        .map_err(|e| format!("{shown}: consumer {}: {e}", cfg.durable))?;
    backoff.reset();
    let batch_wait = Duration::from_millis(cfg.batch_wait_ms);
    // A burst of messages arrives back to back; a pause this long ends a batch early.
    let gap = Duration::from_millis(5).min(batch_wait);
    loop {
        let first = tokio::select! {
            _ = stopped(stop) => return Ok(()),
            _ = lost.wait_for(|l| *l) => return Err(format!("{shown}: the connection was lost")),
            m = messages.next() => m,
        };
        let mut pending = vec![pulled(first, &shown)?];
        let until = Instant::now() + batch_wait;
        let mut broken = None;
        while pending.len() < cfg.batch {
            match tokio::time::timeout_at(until.min(Instant::now() + gap), messages.next()).await {
                Ok(m) => match pulled(m, &shown) {
                    Ok(m) => pending.push(m),
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                },
                Err(_elapsed) => break,
            }
        }
        if !take_and_ack(&client, ctx, stop, &pending).await? {
            return Ok(());
        }
        if let Some(e) = broken {
            return Err(e);
        }
    }
}

/// A pulled message, or why the pull stream broke (the consumer deleted, heartbeats missed, …).
fn pulled(m: Option<Result<Message, async_nats::jetstream::consumer::pull::MessagesError>>, shown: &str) -> Result<Message, String> {
    match m {
        Some(Ok(m)) => Ok(m),
        Some(Err(e)) => Err(format!("{shown}: pulling: {e}")),
        None => Err(format!("{shown}: the consumer's message stream ended")),
    }
}

/// Takes the pulled messages durably, retrying with backoff while the store fails, then acks them.
/// Returns false if the feed was stopped first (the messages are nak'ed for redelivery then).
async fn take_and_ack(client: &async_nats::Client, ctx: &FeedCtx, stop: &mut watch::Receiver<bool>, pending: &[Message]) -> Result<bool, String> {
    let mut retry = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match ctx.take(inputs(pending.iter().map(|m| m.payload.as_ref())), None).await {
            Ok(_) => break,
            // `take` recorded the failure; the messages stay unacked.
            Err(_) => {
                if sleep_or_stop(retry.step(), stop).await {
                    nak(client, pending).await;
                    return Ok(false);
                }
            }
        }
    }
    for m in pending {
        m.ack().await.map_err(|e| format!("acking: {e}"))?;
    }
    client.flush().await.map_err(|e| format!("acking: {e}"))?;
    Ok(true)
}

/// Hands pulled but untaken messages back for redelivery (best effort: unacked ones come back after
/// the ack wait anyway).
async fn nak(client: &async_nats::Client, pending: &[Message]) {
    for m in pending {
        let _ = m.ack_with(AckKind::Nak(None)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), client.flush()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_checks() {
        let c: Config = toml::from_str("stream = \"SENSORS\"\ndurable = \"cockpit\"").unwrap();
        let c = c.check().unwrap();
        assert_eq!((c.url.as_str(), c.batch, c.filter_subject.as_deref()), ("nats://127.0.0.1:4222", 500, None));
        let bad: Config = toml::from_str("stream = \"a.b\"\ndurable = \"x\"").unwrap();
        assert!(bad.check().unwrap_err().starts_with("stream"));
        assert!(toml::from_str::<Config>("stream = \"S\"\ndurable = \"x\"\nsubject = \"y\"").unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn payloads_that_are_not_json_are_unreadable_with_a_reason() {
        let i = inputs([&b"{\"a\":1}"[..], b"\xff oops"].into_iter());
        assert!(matches!(&i[0], Input::Record(v) if v["a"] == 1));
        assert!(matches!(&i[1], Input::Unreadable { reason, .. } if reason.contains("not JSON")));
    }
}
