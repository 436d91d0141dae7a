//! The audit log is kept `[retention] audit_days` (never fewer than 180: `config::AUDIT_MIN_DAYS`), then
//! its oldest entries are deleted. The store lets nothing else delete them (append-only triggers that
//! yield only below the cutoff this task sets).
use crate::config::AUDIT_MIN_DAYS;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const DAY_MS: i64 = 86_400_000;

/// The instant before which entries may go, for a retention of `days` at `now`: never closer to now
/// than the minimum, whatever `days` says.
pub fn cutoff(now: i64, days: u32) -> i64 {
    now - i64::from(days.max(AUDIT_MIN_DAYS)) * DAY_MS
}

/// Deletes entries past retention at start and then every hour until `stop`.
pub async fn run(store: Arc<dyn Store>, clock: crate::clock::Clock, days: u32, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
        match store.purge_audit(cutoff(clock.now_ms(), days)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, days = days.max(AUDIT_MIN_DAYS), "audit entries past retention deleted"),
            // Nothing is lost by waiting: the next hour tries again.
            Err(e) => tracing::warn!(error = %e, "deleting audit entries past retention failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_less_than_six_months() {
        let now = 1_796_180_400_000;
        assert_eq!(super::cutoff(now, 180), now - 180 * super::DAY_MS);
        assert_eq!(super::cutoff(now, 30), now - 180 * super::DAY_MS, "a shorter retention is held at the minimum");
        assert_eq!(super::cutoff(now, 365), now - 365 * super::DAY_MS);
    }
}
