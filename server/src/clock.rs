//! Time is an input. Every part of the server that asks what time it is asks a `Clock` it was given:
//! the system clock in production, a clock pinned to a chosen start (running at real or accelerated
//! speed) for demos and browser tests, or a manual clock that moves only when a test moves it. Times are
//! Unix milliseconds; the city's day boundaries are in `app::model` (Asia/Shanghai).
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    /// `start` at `since`, then `rate` milliseconds per real millisecond.
    Pinned { start: i64, since: Instant, rate: f64 },
    Manual(AtomicI64),
}

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    /// Starts at `start_ms` now and runs `rate` times as fast as real time.
    pub fn pinned(start_ms: i64, rate: f64) -> Clock {
        Clock(Arc::new(Source::Pinned { start: start_ms, since: Instant::now(), rate }))
    }

    /// Stands at `ms` until `set` or `advance` moves it.
    pub fn manual(ms: i64) -> Clock {
        Clock(Arc::new(Source::Manual(AtomicI64::new(ms))))
    }

    pub fn now_ms(&self) -> i64 {
        match &*self.0 {
            Source::System => system_ms(),
            Source::Pinned { start, since, rate } => start + (since.elapsed().as_secs_f64() * 1000.0 * rate) as i64,
            Source::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock to `ms` (never backwards); other clocks cannot be moved.
    pub fn set(&self, ms: i64) {
        match &*self.0 {
            Source::Manual(t) => {
                t.fetch_max(ms, Ordering::SeqCst);
            }
            _ => panic!("only a manual clock is set by hand"),
        }
    }

    pub fn advance(&self, ms: i64) {
        self.set(self.now_ms() + ms);
    }

    /// The clock a config asks for: the system's unless `[clock] start` pins it.
    pub fn from_config(c: &ClockConfig) -> Result<Clock, String> {
        if !(c.rate.is_finite() && c.rate > 0.0 && c.rate <= 100_000.0) {
            return Err(format!("clock.rate must be above 0 and at most 100000, not {}", c.rate));
        }
        match c.start.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None if c.rate != 1.0 => Err("clock.rate needs clock.start".into()),
            None => Ok(Clock::system()),
            Some(s) => Ok(Clock::pinned(parse_instant(s)?, c.rate)),
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System => f.write_str("Clock::system"),
            Source::Pinned { rate, .. } => write!(f, "Clock::pinned(now {}, rate {rate})", self.now_ms()),
            Source::Manual(_) => write!(f, "Clock::manual({})", self.now_ms()),
        }
    }
}

/// `[clock]`: for demos, rehearsals and browser tests, the server may run from a chosen instant, and
/// faster than real time. Production leaves it unset and runs on the system clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    /// An RFC 3339 instant, e.g. "2026-12-02T09:00:00+08:00"; unset: the system clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Clock milliseconds per real millisecond (1: real time).
    pub rate: f64,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig { start: None, rate: 1.0 }
    }
}

/// An RFC 3339 instant (with its offset) as Unix milliseconds.
pub fn parse_instant(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2026-12-02T09:00:00+08:00 ({e})"))
}

fn system_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clocks_move_only_forward_and_only_when_told() {
        let c = Clock::manual(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(500);
        assert_eq!(c.now_ms(), 1_500);
        c.set(1_200);
        assert_eq!(c.now_ms(), 1_500, "never backwards");
        let shared = c.clone();
        shared.set(9_000);
        assert_eq!(c.now_ms(), 9_000, "clones share the time");
    }

    #[test]
    fn a_pinned_clock_starts_where_it_is_told_and_runs_at_its_rate() {
        let c = Clock::pinned(1_795_190_400_000, 1000.0);
        let a = c.now_ms();
        assert!((1_795_190_400_000..1_795_190_400_000 + 60_000).contains(&a), "{a}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now_ms() - a >= 19_000, "a thousand times real time");
    }

    #[test]
    fn config_pins_or_refuses_with_the_reason() {
        let cfg = |start: Option<&str>, rate| ClockConfig { start: start.map(Into::into), rate };
        assert_eq!(format!("{:?}", Clock::from_config(&cfg(None, 1.0)).unwrap()), "Clock::system");
        let c = Clock::from_config(&cfg(Some("2026-12-02T09:00:00+08:00"), 1.0)).unwrap();
        assert!((c.now_ms() - 1_796_173_200_000).abs() < 60_000);
        assert!(Clock::from_config(&cfg(Some("2026-12-02 09:00"), 1.0)).unwrap_err().contains("RFC 3339"));
        assert!(Clock::from_config(&cfg(Some("2026-12-02T09:00:00+08:00"), 0.0)).unwrap_err().contains("clock.rate"));
        assert!(Clock::from_config(&cfg(None, 60.0)).unwrap_err().contains("needs clock.start"));
    }
}
