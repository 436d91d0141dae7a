//! NATS JetStream: a durable pull consumer on a stream the city's system publishes to. Messages are
//! fetched in batches, taken in one `FeedCtx::take`, and acked (`+ACK` to each reply subject) only once
//! the take returned Ok; what was fetched but not taken when the feed stops is nak'ed for redelivery,
//! and anything unacked (a crash, a lost connection) comes back after `ack_wait_seconds`. The consumer
//! lives on the server, so a paused feed or a stopped cockpit resumes where it left off.
//!
//! The client is a small hand-written one over the text protocol (`proto`); the simulator publishes
//! with it too.
pub mod proto;

use super::backoff::{sleep_or_stop, Backoff};
use super::record::Input;
use super::registry::FeedCtx;
use proto::{api_reply, Conn, Msg};
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
        proto::Endpoint::parse(&self.url).map_err(|e| format!("url: {e}"))?;
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

/// Creates the durable pull consumer (or finds it) after checking the stream exists.
pub(crate) async fn ensure_consumer(c: &mut Conn, cfg: &Config) -> Result<(), String> {
    let t = Duration::from_secs(5);
    let m = c.request(&format!("$JS.API.STREAM.INFO.{}", cfg.stream), b"", t).await?;
    api_reply(&m).map_err(|e| format!("stream {}: {e}", cfg.stream))?;
    let mut config = serde_json::json!({
        "durable_name": cfg.durable,
        "ack_policy": "explicit",
        "deliver_policy": "all",
        "ack_wait": cfg.ack_wait_seconds * 1_000_000_000,
        "max_deliver": -1,
    });
    if let Some(f) = &cfg.filter_subject {
        config["filter_subject"] = f.clone().into();
    }
    let body = serde_json::json!({ "stream_name": cfg.stream, "config": config }).to_string();
    let m = c.request(&format!("$JS.API.CONSUMER.DURABLE.CREATE.{}.{}", cfg.stream, cfg.durable), body.as_bytes(), t).await?;
    api_reply(&m).map_err(|e| format!("consumer {}: {e}", cfg.durable))?;
    Ok(())
}

/// The inputs of fetched messages: JSON records, or unreadable ones with the reason.
fn inputs(msgs: &[Msg]) -> Vec<Input> {
    msgs.iter()
        .map(|m| match serde_json::from_slice(&m.payload) {
            Ok(v) => Input::Record(v),
            Err(e) => Input::Unreadable { reason: format!("the message is not JSON: {e}"), raw: String::from_utf8_lossy(&m.payload).into_owned() },
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

/// One connection: fetch, take, ack until stopped (Ok) or the connection fails (Err).
async fn session(cfg: &Config, ctx: &FeedCtx, stop: &mut watch::Receiver<bool>, backoff: &mut Backoff) -> Result<(), String> {
    let name = format!("city-cockpit feed {}", ctx.name);
    let mut c = tokio::select! {
        c = Conn::connect(&cfg.url, &name, Duration::from_secs(5)) => c?,
        _ = stopped(stop) => return Ok(()),
    };
    let shown = c.shown().to_string();
    tokio::select! {
        r = ensure_consumer(&mut c, cfg) => r.map_err(|e| format!("{shown}: {e}"))?,
        _ = stopped(stop) => return Ok(()),
    }
    backoff.reset();
    let next = format!("$JS.API.CONSUMER.MSG.NEXT.{}.{}", cfg.stream, cfg.durable);
    let fetch_wait = Duration::from_millis(cfg.fetch_wait_ms);
    let batch_wait = Duration::from_millis(cfg.batch_wait_ms);
    // A burst of messages arrives back to back; a pause this long ends a batch early.
    let gap = Duration::from_millis(5).min(batch_wait);
    let mut pending: Vec<Msg> = Vec::new();
    let mut first_at = Instant::now();
    // The open pull request: its reply subject, how many messages it may still bring, and when the
    // server should have answered by.
    let mut request: Option<(String, usize, Instant)> = None;
    loop {
        if request.is_none() {
            let reply = c.reply_subject();
            let body = serde_json::json!({ "batch": cfg.batch, "expires": fetch_wait.as_nanos() as u64 }).to_string();
            c.publish(&next, Some(&reply), body.as_bytes());
            c.flush().await?;
            request = Some((reply, cfg.batch, Instant::now() + fetch_wait + Duration::from_secs(5)));
        }
        let request_deadline = request.as_ref().map(|r| r.2).expect("a request is open");
        let wake = if pending.is_empty() { request_deadline } else { (first_at + batch_wait).min(Instant::now() + gap) };
        let got = tokio::select! {
            _ = stopped(stop) => {
                nak(&mut c, &pending).await;
                return Ok(());
            }
            r = tokio::time::timeout_at(wake, c.next_msg()) => r,
        };
        let timed_out = got.is_err();
        match got {
            Ok(Err(e)) => return Err(e),
            Ok(Ok(m)) => {
                if let Some(status) = m.status {
                    let current = request.as_ref().is_some_and(|r| r.0 == m.subject);
                    match status {
                        // No messages (yet), or the request expired: ask again.
                        404 | 408 if current => request = None,
                        404 | 408 | 100 => {}
                        409 => {
                            if current {
                                request = None;
                            }
                            let d = m.description.to_ascii_lowercase();
                            if d.contains("deleted") || d.contains("leadership") {
                                return Err(format!("{shown}: consumer {}: {}", cfg.durable, m.description));
                            }
                        }
                        s => return Err(format!("{shown}: pull request answered with status {s} {}", m.description)),
                    }
                } else if m.sid == proto::INBOX_SID && m.reply.as_deref().is_some_and(|r| r.starts_with("$JS.ACK.")) {
                    // Delivered on the inbox subscription under its own subject; counted against the
                    // open request (an abandoned one's stragglers are taken all the same).
                    if pending.is_empty() {
                        first_at = Instant::now();
                    }
                    if let Some(r) = request.as_mut() {
                        r.1 = r.1.saturating_sub(1);
                        if r.1 == 0 {
                            request = None;
                        }
                    }
                    pending.push(m);
                }
            }
            Err(_elapsed) if pending.is_empty() => {
                // The server always answers a pull request by its expiry: silence means trouble.
                return Err(format!("{shown}: no answer to a pull request"));
            }
            Err(_elapsed) => {}
        }
        let full = pending.len() >= cfg.batch;
        if !pending.is_empty() && (timed_out || full || Instant::now() >= first_at + batch_wait) && !take_and_ack(&mut c, ctx, stop, &mut pending).await? {
            return Ok(());
        }
    }
}

/// Takes the fetched messages durably, retrying with backoff while the store fails, then acks them.
/// Returns false if the feed was stopped first (the messages are nak'ed for redelivery then).
async fn take_and_ack(c: &mut Conn, ctx: &FeedCtx, stop: &mut watch::Receiver<bool>, pending: &mut Vec<Msg>) -> Result<bool, String> {
    let mut retry = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match ctx.take(inputs(pending), None).await {
            Ok(_) => break,
            // `take` recorded the failure; the messages stay unacked.
            Err(_) => {
                if sleep_or_stop(retry.step(), stop).await {
                    nak(c, pending).await;
                    return Ok(false);
                }
            }
        }
    }
    for m in pending.drain(..) {
        if let Some(r) = &m.reply {
            c.publish(r, None, b"+ACK");
        }
    }
    c.flush().await?;
    Ok(true)
}

/// Hands fetched but untaken messages back for redelivery (best effort: unacked ones come back after
/// the ack wait anyway).
async fn nak(c: &mut Conn, pending: &[Msg]) {
    for m in pending {
        if let Some(r) = &m.reply {
            c.publish(r, None, b"-NAK");
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), c.flush()).await;
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
        let ms = [Msg { payload: b"{\"a\":1}".to_vec(), ..Default::default() }, Msg { payload: b"\xff oops".to_vec(), ..Default::default() }];
        let i = inputs(&ms);
        assert!(matches!(&i[0], Input::Record(v) if v["a"] == 1));
        assert!(matches!(&i[1], Input::Unreadable { reason, .. } if reason.contains("not JSON")));
    }
}
