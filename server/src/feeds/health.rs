//! Feed health: what an operator needs to see that a feed works, and what makes a panel stale.
use std::sync::Mutex;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HealthState {
    /// When the feed last reached its source and stored what it got (possibly nothing new) (ms).
    pub last_success: Option<i64>,
    pub errors: u64,
    /// The newest error, in words an operator can act on (never a secret or personal data).
    pub last_error: Option<(i64, String)>,
    /// Since when the feed has been running (None: paused or stopped).
    pub running_since: Option<i64>,
}

#[derive(Default, Debug)]
pub struct Health(Mutex<HealthState>);

impl Health {
    pub fn get(&self) -> HealthState {
        self.0.lock().expect("health lock").clone()
    }

    pub fn succeeded(&self, at: i64) {
        self.0.lock().expect("health lock").last_success = Some(at);
    }

    pub fn failed(&self, at: i64, why: String) {
        let mut h = self.0.lock().expect("health lock");
        h.errors += 1;
        h.last_error = Some((at, why));
    }

    pub fn running(&self, since: Option<i64>) {
        self.0.lock().expect("health lock").running_since = since;
    }
}

/// Stale: no successful contact with the source (a pull answered, a push received and stored) for longer
/// than the expected cadence, counted from the later of the last success
/// and the start (a feed just started gets its full cadence). A paused feed goes stale like any other:
/// its panels are out of date all the same.
pub fn is_stale(h: &HealthState, stored_success: Option<i64>, cadence_ms: i64, now: i64) -> bool {
    match h.last_success.max(stored_success).max(h.running_since) {
        Some(last) => now - last > cadence_ms,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_is_stale_past_its_cadence_while_running() {
        let mut h = HealthState { running_since: Some(1_000), ..Default::default() };
        assert!(!is_stale(&h, None, 500, 1_400));
        assert!(is_stale(&h, None, 500, 1_600), "nothing since the start");
        h.last_success = Some(1_500);
        assert!(!is_stale(&h, None, 500, 1_900));
        assert!(is_stale(&h, Some(900), 500, 2_100));
        assert!(!is_stale(&h, Some(1_800), 500, 2_100), "a success stored before a restart counts");
        h.running_since = None;
        assert!(is_stale(&h, Some(1_800), 500, 9_999), "a paused feed goes stale too");
        assert!(is_stale(&HealthState::default(), None, 500, 0), "never ran, nothing stored");
    }
}
