//! Throttles sign-in: after `MAX_FAILURES` failures within `WINDOW_MS` for an account or an address,
//! further attempts are refused until the oldest failure leaves the window.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Limiter {
    /// Ok, or the milliseconds to wait.
    pub fn check(&self, keys: &[String], now: i64) -> Result<(), i64> {
        let mut f = self.failures.lock().expect("limiter lock");
        let mut wait = 0;
        for k in keys {
            if let Some(q) = f.get_mut(k) {
                while q.front().is_some_and(|&t| t <= now - WINDOW_MS) {
                    q.pop_front();
                }
                if q.len() >= MAX_FAILURES {
                    wait = wait.max(q[0] + WINDOW_MS - now);
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    pub fn fail(&self, keys: &[String], now: i64) {
        let mut f = self.failures.lock().expect("limiter lock");
        for k in keys {
            f.entry(k.clone()).or_default().push_back(now);
        }
    }

    pub fn succeed(&self, account_key: &str) {
        self.failures.lock().expect("limiter lock").remove(account_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_for_the_window() {
        let l = Limiter::default();
        let keys = vec!["acct:a".to_string(), "ip:1".to_string()];
        for i in 0..MAX_FAILURES as i64 {
            assert!(l.check(&keys, i).is_ok());
            l.fail(&keys, i);
        }
        assert!(l.check(&keys, 10).is_err());
        assert!(l.check(&["ip:1".to_string()], 10).is_err(), "the address is throttled too");
        assert!(l.check(&["acct:b".to_string(), "ip:2".to_string()], 10).is_ok(), "others are not");
        assert!(l.check(&keys, WINDOW_MS + 5).is_ok(), "the window passes");
    }
}
