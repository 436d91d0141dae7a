//! # Layout
//! Several cockpit instances on one PostgreSQL store and one NATS JetStream bus.
//!
//! - `bus.rs`: every instance announces what it committed (`Change`) on a JetStream stream and follows
//!   the stream; a change wakes the others.
//! - `lease.rs`: a feed runs on exactly one instance at a time, under a lease of the store (a
//!   PostgreSQL advisory lock held by a connection of its own, gone when the holder is).
//!
//! Why announcements and not the events themselves: the store hands out positions in commit order
//! (`store::postgres`), so an instance that reads what it has not counted yet, in position order,
//! counts exactly what a recount would, whatever order the announcements arrive in, however many are
//! lost or repeated (the next one, or the one-second catch-up, reads the rest; a repeat reads nothing).
//! Nothing here knows ingest, the engine or auth: `lib.rs` wires them.
pub mod bus;
pub mod lease;

pub use bus::{Bus, Change};
pub use lease::{Lease, Leases};

/// Where an instance's engine stands in the shared store: the last event and observation counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub events: i64,
    pub observations: i64,
}

/// What ingest needs to run as one instance of several: where its engine stands (one catch-up at a
/// time), the bus to announce on, and who it is.
pub struct Shared {
    pub applied: tokio::sync::Mutex<Applied>,
    pub bus: Option<Bus>,
    pub instance: String,
}

impl Shared {
    pub fn new(applied: Applied, bus: Option<Bus>, instance: String) -> Shared {
        Shared { applied: tokio::sync::Mutex::new(applied), bus, instance }
    }

    /// Announces a change without holding up the caller (a writer whose turn others wait for): an
    /// announcement only wakes the others, in whatever order they arrive.
    pub fn announce_in_background(self: &std::sync::Arc<Self>, change: Change) {
        if self.bus.is_none() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move { me.announce(change).await });
    }

    /// Announces a change; a bus that is down only delays the others (they catch up every second).
    pub async fn announce(&self, change: Change) {
        if let Some(bus) = &self.bus {
            if let Err(e) = bus.publish(&Change { instance: self.instance.clone(), ..change }).await {
                tracing::warn!(error = %e, "change not announced on the bus; the other instances catch up from the store");
            }
        }
    }
}

/// Resolves once `stop` turns true (the guard `wait_for` gives is dropped here, not held across the
/// caller's awaits).
pub async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A name for this instance: the host and the process, unless configured.
pub fn instance_name(configured: Option<&str>) -> String {
    configured.map(str::to_string).unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "cockpit".into());
        format!("{host}-{}", std::process::id())
    })
}
