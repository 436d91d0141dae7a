//! A city system publishing to NATS JetStream: creates its stream if missing and publishes messages,
//! each confirmed by JetStream's PubAck (stored in the stream) before `publish` returns. Uses the
//! feed's own protocol client (`feeds::nats::proto`).
use crate::feeds::nats::proto::{api_reply, Conn};
use std::collections::HashMap;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
/// Publishes in flight at once before their PubAcks are read.
const WINDOW: usize = 256;

/// Creates the stream (file storage) on `subjects` unless it exists.
pub async fn ensure_stream(url: &str, stream: &str, subjects: &[&str]) -> Result<(), String> {
    let mut c = Conn::connect(url, "city-cockpit sim", TIMEOUT).await?;
    let m = c.request(&format!("$JS.API.STREAM.INFO.{stream}"), b"", TIMEOUT).await?;
    if api_reply(&m).is_ok() {
        return Ok(());
    }
    let body = serde_json::json!({ "name": stream, "subjects": subjects, "storage": "file", "retention": "limits" }).to_string();
    let m = c.request(&format!("$JS.API.STREAM.CREATE.{stream}"), body.as_bytes(), TIMEOUT).await?;
    api_reply(&m).map(|_| ()).map_err(|e| format!("creating stream {stream}: {e}"))
}

/// Publishes every payload on `subject` and waits until JetStream has stored each one.
pub async fn publish(url: &str, subject: &str, payloads: Vec<Vec<u8>>) -> Result<(), String> {
    let mut c = Conn::connect(url, "city-cockpit sim", TIMEOUT).await?;
    for window in payloads.chunks(WINDOW) {
        let mut waiting: HashMap<String, usize> = HashMap::new();
        for (i, p) in window.iter().enumerate() {
            let reply = c.reply_subject();
            c.publish(subject, Some(&reply), p);
            waiting.insert(reply, i);
        }
        c.flush().await?;
        while !waiting.is_empty() {
            let m = tokio::time::timeout(TIMEOUT, c.next_msg()).await.map_err(|_| format!("no PubAck within {TIMEOUT:?}"))??;
            if waiting.remove(&m.subject).is_none() {
                continue;
            }
            if m.status == Some(503) {
                return Err(format!("no stream takes messages on {subject}"));
            }
            api_reply(&m).map_err(|e| format!("publishing on {subject}: {e}"))?;
        }
    }
    Ok(())
}
