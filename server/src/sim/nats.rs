//! A city system publishing to NATS JetStream: creates its stream if missing and publishes messages,
//! each confirmed by JetStream's PubAck (stored in the stream) before `publish` returns. Uses the same
//! client as the feed (`async-nats`).
use crate::feeds::nats::connect;
use async_nats::jetstream::stream::{Config, RetentionPolicy, StorageType};

/// Publishes in flight at once before their PubAcks are read.
const WINDOW: usize = 256;

async fn jetstream(url: &str) -> Result<async_nats::jetstream::Context, String> {
    let (client, _) = connect(url, "city-cockpit sim", None).await?;
    Ok(async_nats::jetstream::new(client))
}

/// Creates the stream (file storage) on `subjects` unless it exists.
pub async fn ensure_stream(url: &str, stream: &str, subjects: &[&str]) -> Result<(), String> {
    let js = jetstream(url).await?;
    let config = Config {
        name: stream.to_string(),
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        ..Default::default()
    };
    js.get_or_create_stream(config).await.map(|_| ()).map_err(|e| format!("creating stream {stream}: {e}"))
}

/// Publishes every payload on `subject` and waits until JetStream has stored each one.
pub async fn publish(url: &str, subject: &str, payloads: Vec<Vec<u8>>) -> Result<(), String> {
    let js = jetstream(url).await?;
    for window in payloads.chunks(WINDOW) {
        let mut acks = Vec::with_capacity(window.len());
        for p in window {
            acks.push(js.publish(subject.to_string(), p.clone().into()).await.map_err(|e| format!("publishing on {subject}: {e}"))?);
        }
        for ack in acks {
            ack.await.map_err(|e| format!("publishing on {subject}: {e}"))?;
        }
    }
    Ok(())
}
