//! The bus: a JetStream stream of announcements (`Change`), published after each commit (acknowledged
//! by the stream) and followed by every instance. JSON, so an operator can read it with `nats sub`.
use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;

pub const STREAM: &str = "COCKPIT_CHANGES";
/// The object store bucket of the engine's shared snapshot.
pub const SNAPSHOTS: &str = "COCKPIT_ENGINE";
const SNAPSHOT: &str = "engine.snapshot";
pub const SUBJECT: &str = "cockpit.changes";

/// What one instance committed. Empty fields: nothing of that kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub instance: String,
    /// Case events or observations were stored: read the store after your position.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub events: bool,
    /// Patrols stored: (grid, at); counting a patrol twice changes nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patrols: Vec<(String, i64)>,
    /// Roster lines stored: read the roster again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duties: bool,
    /// Accounts, sessions, devices or keys changed: read them again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub access: bool,
    /// A feed was paused or resumed: follow the store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub feeds: bool,
    /// An administrator saved settings (calendar, flow rules): read them again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub settings: bool,
}

#[derive(Clone)]
pub struct Bus {
    js: jetstream::Context,
    client: async_nats::Client,
}

impl Bus {
    /// Connects (URL credentials or a `.creds` file, as the nats feed does) and makes sure the stream
    /// exists: announcements are kept an hour, in memory (the store is the truth; they only wake).
    pub async fn connect(url: &str, credentials_file: Option<&str>, instance: &str) -> Result<Bus, String> {
        let (client, _) = crate::feeds::nats::client::connect(url, &format!("cockpit {instance}"), credentials_file).await?;
        let js = jetstream::new(client.clone());
        js.get_or_create_stream(stream::Config {
            name: STREAM.into(),
            subjects: vec![SUBJECT.into()],
            storage: stream::StorageType::Memory,
            max_age: Duration::from_secs(3600),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("bus stream {STREAM}: {e}"))?;
        Ok(Bus { js, client })
    }

    pub async fn publish(&self, change: &Change) -> Result<(), String> {
        let body = serde_json::to_vec(change).expect("a change serialises");
        let ack = self.js.publish(SUBJECT, body.into()).await.map_err(|e| e.to_string())?;
        ack.await.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Follows the announcements from now on, handing each (own ones included) to `on`, until `stop`.
    /// A plain subscription to the stream's subject: JetStream keeps them (an hour, for an operator and
    /// for instances that want to look back), but waking needs no acknowledgement or replay: what a
    /// lost connection missed, the catch-up reads from the store.
    pub async fn follow<F, Fut>(&self, on: F, mut stop: watch::Receiver<bool>)
    where
        F: Fn(Change) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        loop {
            let mut messages = match self.client.subscribe(SUBJECT).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot follow the bus; trying again");
                    tokio::select! { _ = tokio::time::sleep(Duration::from_secs(1)) => continue, _ = super::stopped(&mut stop) => return }
                }
            };
            loop {
                let next = tokio::select! { n = messages.next() => n, _ = super::stopped(&mut stop) => return };
                match next {
                    Some(m) => match serde_json::from_slice::<Change>(&m.payload) {
                        Ok(c) => on(c).await,
                        Err(e) => tracing::warn!(error = %e, "an announcement on the bus is not a change; ignored"),
                    },
                    None => break,
                }
            }
        }
    }

    async fn snapshots(&self) -> Result<jetstream::object_store::ObjectStore, String> {
        match self.js.get_object_store(SNAPSHOTS).await {
            Ok(s) => Ok(s),
            Err(_) => self
                .js
                .create_object_store(jetstream::object_store::Config { bucket: SNAPSHOTS.into(), storage: stream::StorageType::File, ..Default::default() })
                .await
                .map_err(|e| format!("object store {SNAPSHOTS}: {e}")),
        }
    }

    /// Shares the engine's snapshot file, so that a new instance starts from it and reads only the
    /// store's tail (it carries the store positions it stands at).
    pub async fn put_snapshot(&self, path: &std::path::Path) -> Result<(), String> {
        let bucket = self.snapshots().await?;
        let mut f = tokio::fs::File::open(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
        bucket.put(SNAPSHOT, &mut f).await.map_err(|e| format!("sharing the snapshot: {e}"))?;
        Ok(())
    }

    /// Fetches the shared snapshot to `path` (through a temporary file, renamed when complete); false
    /// when none is shared yet. What it holds is checked like any snapshot when it is loaded.
    pub async fn get_snapshot(&self, path: &std::path::Path) -> Result<bool, String> {
        let bucket = self.snapshots().await?;
        let mut object = match bucket.get(SNAPSHOT).await {
            Ok(o) => o,
            Err(e) if e.kind() == jetstream::object_store::GetErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(format!("fetching the shared snapshot: {e}")),
        };
        let tmp = path.with_extension("snapshot.shared");
        let mut f = tokio::fs::File::create(&tmp).await.map_err(|e| format!("{}: {e}", tmp.display()))?;
        tokio::io::copy(&mut object, &mut f).await.map_err(|e| format!("fetching the shared snapshot: {e}"))?;
        f.sync_all().await.map_err(|e| format!("{}: {e}", tmp.display()))?;
        tokio::fs::rename(&tmp, path).await.map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(true)
    }

    /// Whether the connection is up (health and metrics).
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}
