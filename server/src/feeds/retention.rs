//! Quarantined records are kept as the source sent them, personal data and all, so that they can be
//! replayed once the mapping is fixed; past `[retention] quarantine_days` they are deleted.
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Deletes expired quarantine at start and then every hour until `stop`.
pub async fn run(store: Arc<dyn Store>, clock: crate::clock::Clock, days: u32, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
        let before = clock.now_ms() - i64::from(days) * 86_400_000;
        if let Err(e) = store.expire_quarantine(before).await {
            // Nothing is lost by waiting: the next hour tries again.
            tracing::warn!(error = %e, "deleting expired quarantine failed");
        }
    }
}
