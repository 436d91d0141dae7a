//! MQTT (3.1.1): subscribes to topic filters at QoS 1 in a persistent session (clean session off, a
//! fixed client id), so the broker keeps what is published while the feed is paused or the cockpit is
//! down and delivers it on reconnect. Messages are batched into one `FeedCtx::take`, and each one's
//! PUBACK is sent only after that take returned Ok: a message is never acknowledged before it is
//! stored, and one the broker delivers again is counted as a duplicate.
//!
//! The MQTT event loop runs in its own task (it must keep being polled for keep-alives while a batch
//! is stored) and hands publishes over a channel, tagged with the connection they came on: an ack is
//! only sent on that same connection, since after a reconnect the broker delivers unacked messages
//! again anyway.
use super::backoff::{sleep_or_stop, Backoff};
use super::nats::stopped;
use super::record::Input;
use super::registry::FeedCtx;
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, Publish, QoS, SubscribeFilter};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The broker as `host:port`.
    #[serde(default = "default_broker")]
    pub broker: String,
    /// The fixed client id of the persistent session (unique per feed: the broker keeps the
    /// session's subscriptions and undelivered messages under it).
    pub client_id: String,
    /// Topic filters to subscribe to at QoS 1 (`+` and `#` wildcards allowed).
    pub topics: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Most messages per stored batch.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// How long a first message waits for more to join its batch (ms).
    #[serde(default = "default_batch_wait")]
    pub batch_wait_ms: u64,
    /// Keep-alive interval (seconds): how soon a silently dead connection is noticed.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_seconds: u64,
    /// Largest message accepted (bytes); a larger one breaks the connection (MQTT cannot refuse one
    /// message), so keep it at or above the broker's `message_size_limit`.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
}

fn default_broker() -> String {
    "127.0.0.1:1883".into()
}
fn default_batch() -> usize {
    500
}
fn default_batch_wait() -> u64 {
    200
}
fn default_keep_alive() -> u64 {
    30
}
fn default_max_message() -> usize {
    1 << 20
}

impl Config {
    /// Checks what serde cannot.
    pub fn check(self) -> Result<Config, String> {
        split_broker(&self.broker)?;
        if self.client_id.is_empty() || self.client_id.len() > 64 {
            return Err("client_id: 1 to 64 characters".into());
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.is_empty()) {
            return Err("topics: at least one non-empty topic filter".into());
        }
        if !(1..=10_000).contains(&self.batch) {
            return Err("batch: 1 to 10000".into());
        }
        if !(5..=3_600).contains(&self.keep_alive_seconds) {
            return Err("keep_alive_seconds: 5 to 3600".into());
        }
        if self.password.is_some() && self.username.is_none() {
            return Err("password needs a username".into());
        }
        Ok(self)
    }
}

/// `host:port` → (host, port).
pub fn split_broker(broker: &str) -> Result<(String, u16), String> {
    let (host, port) = broker.rsplit_once(':').ok_or("broker: give host:port")?;
    let port = port.parse::<u16>().map_err(|_| "broker: the port is not a number")?;
    if host.is_empty() {
        return Err("broker: the host is empty".into());
    }
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_string(), port))
}

fn input(p: &Publish) -> Input {
    match serde_json::from_slice(&p.payload) {
        Ok(v) => Input::Record(v),
        Err(e) => Input::Unreadable { reason: format!("the message on {} is not JSON: {e}", p.topic), raw: String::from_utf8_lossy(&p.payload).into_owned() },
    }
}

pub async fn run(cfg: Config, ctx: FeedCtx, mut stop: watch::Receiver<bool>) {
    let (host, port) = match split_broker(&cfg.broker) {
        Ok(hp) => hp,
        Err(e) => return ctx.bad_config(e, &mut stop).await,
    };
    let mut opts = MqttOptions::new(cfg.client_id.clone(), host, port);
    opts.set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(cfg.keep_alive_seconds))
        .set_max_packet_size(cfg.max_message_bytes.saturating_add(1024), 64 * 1024);
    if let Some(u) = &cfg.username {
        opts.set_credentials(u.clone(), cfg.password.clone().unwrap_or_default());
    }
    // Room for a whole batch of acks, so acking never waits on the event loop.
    let (client, mut eventloop) = AsyncClient::new(opts, cfg.batch * 2 + 16);
    let connection = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Publish)>();
    let shown = cfg.broker.clone();

    // Ends the event loop once the feed has queued its last acks and the disconnect.
    let (quit_tx, mut quit) = watch::channel(false);
    let poller = {
        let (ctx, client, connection, topics) = (ctx.clone(), client.clone(), connection.clone(), cfg.topics.clone());
        tokio::spawn(async move {
            let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
            let mut disconnecting = false;
            loop {
                let ev = tokio::select! {
                    ev = eventloop.poll() => ev,
                    _ = stopped(&mut quit) => return,
                };
                match ev {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        connection.fetch_add(1, Ordering::SeqCst);
                        backoff.reset();
                        // Subscribing again is harmless in a resumed session and needed in a new one.
                        let filters = topics.iter().map(|t| SubscribeFilter::new(t.clone(), QoS::AtLeastOnce));
                        if let Err(e) = client.try_subscribe_many(filters) {
                            ctx.failed(format!("{shown}: cannot subscribe: {e}"));
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(s))) => {
                        use rumqttc::SubscribeReasonCode;
                        if s.return_codes.iter().any(|c| matches!(c, SubscribeReasonCode::Failure)) {
                            ctx.failed(format!("{shown}: the broker refused a subscription of {:?}", topics));
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send((connection.load(Ordering::SeqCst), p)).is_err() {
                            return;
                        }
                    }
                    // The broker reads the acks before the DISCONNECT and then closes the connection; until
                    // it has, a new session (a restart) could take over and the acks be lost.
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => disconnecting = true,
                    Ok(_) => {}
                    Err(_) if disconnecting => return,
                    Err(e) => {
                        // Polling again reconnects; the session (and its unacked messages) resumes.
                        ctx.failed(format!("{shown}: {e}"));
                        tokio::select! {
                            _ = tokio::time::sleep(backoff.step()) => {}
                            _ = stopped(&mut quit) => return,
                        }
                    }
                }
            }
        })
    };

    let batch_wait = Duration::from_millis(cfg.batch_wait_ms);
    let gap = Duration::from_millis(5).min(batch_wait);
    'feed: loop {
        let first = tokio::select! {
            m = rx.recv() => m,
            _ = stopped(&mut stop) => break,
        };
        let Some(first) = first else { break };
        let deadline = Instant::now() + batch_wait;
        let mut batch = vec![first];
        while batch.len() < cfg.batch {
            if let Ok(m) = rx.try_recv() {
                batch.push(m);
                continue;
            }
            let wake = deadline.min(Instant::now() + gap);
            match tokio::time::timeout_at(wake, rx.recv()).await {
                Ok(Some(m)) => batch.push(m),
                Ok(None) | Err(_) => break,
            }
        }
        let inputs: Vec<Input> = batch.iter().map(|(_, p)| input(p)).collect();
        let mut retry = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            match ctx.take(inputs.clone(), None).await {
                Ok(_) => break,
                // Not acked: the broker delivers these again after a reconnect.
                Err(_) => {
                    if sleep_or_stop(retry.step(), &mut stop).await {
                        break 'feed;
                    }
                }
            }
        }
        let now = connection.load(Ordering::SeqCst);
        for (conn, p) in &batch {
            if *conn == now {
                // Only fails if the request queue is full; the broker then delivers it again.
                let _ = client.try_ack(p);
            }
        }
    }
    // The acks queued so far go out before the DISCONNECT (one queue); the session stays on the broker.
    let _ = client.try_disconnect();
    let mut poller = poller;
    if tokio::time::timeout(Duration::from_secs(1), &mut poller).await.is_err() {
        let _ = quit_tx.send(true);
        let _ = poller.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_checks() {
        let c: Config = toml::from_str("client_id = \"cockpit-sensors\"\ntopics = [\"city/+/alarm\"]").unwrap();
        let c = c.check().unwrap();
        assert_eq!((c.broker.as_str(), c.batch, c.batch_wait_ms), ("127.0.0.1:1883", 500, 200));
        let bad: Config = toml::from_str("broker = \"nohost\"\nclient_id = \"x\"\ntopics = [\"t\"]").unwrap();
        assert!(bad.check().unwrap_err().contains("host:port"));
        let bad: Config = toml::from_str("client_id = \"x\"\ntopics = []").unwrap();
        assert!(bad.check().unwrap_err().starts_with("topics"));
        assert!(toml::from_str::<Config>("client_id = \"x\"\ntopics = [\"t\"]\nqos = 2").unwrap_err().to_string().contains("unknown field"));
        assert_eq!(split_broker("[::1]:1883").unwrap(), ("::1".to_string(), 1883));
    }

    #[test]
    fn payloads_that_are_not_json_are_unreadable_with_a_reason() {
        let p = Publish::new("city/a", QoS::AtLeastOnce, b"not json".to_vec());
        assert!(matches!(input(&p), Input::Unreadable { reason, raw } if reason.contains("not JSON") && raw == "not json"));
        let p = Publish::new("city/a", QoS::AtLeastOnce, b"{\"x\":1}".to_vec());
        assert!(matches!(input(&p), Input::Record(_)));
    }
}
