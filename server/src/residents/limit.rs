//! How often one address or one app may report: at most `per_hour` reports in any rolling hour per key.
//! A refusal says when the next report will be taken. Kept in memory per process (a flood is stopped
//! where it arrives; a restart forgets it), bounded: keys quiet for an hour are dropped, and past
//! `MAX_KEYS` the quietest go first, so a flood of fresh addresses cannot grow it without end.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

const HOUR_MS: i64 = 3_600_000;
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Limiter {
    seen: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Limiter {
    /// Counts a report under every key at `now`, or, if any key is at its limit, refuses with the
    /// seconds to wait and counts nothing.
    pub fn admit(&self, keys: &[(&str, u32)], now: i64) -> Result<(), u64> {
        let mut seen = self.seen.lock().expect("limiter lock");
        let mut wait = 0i64;
        for &(key, per_hour) in keys {
            let q = seen.entry(key.to_string()).or_default();
            while q.front().is_some_and(|&t| t <= now - HOUR_MS) {
                q.pop_front();
            }
            if q.len() >= per_hour as usize {
                let oldest = q.front().copied().unwrap_or(now);
                wait = wait.max(oldest + HOUR_MS - now);
            }
        }
        if wait > 0 || keys.iter().any(|(_, n)| *n == 0) {
            return Err((wait.max(1) as u64).div_ceil(1000));
        }
        for &(key, _) in keys {
            seen.get_mut(key).expect("entered above").push_back(now);
        }
        if seen.len() > MAX_KEYS {
            seen.retain(|_, q| q.back().is_some_and(|&t| t > now - HOUR_MS));
            if seen.len() > MAX_KEYS {
                let mut last: Vec<i64> = seen.values().filter_map(|q| q.back().copied()).collect();
                last.sort_unstable();
                let cut = last[last.len() - MAX_KEYS / 2];
                seen.retain(|_, q| q.back().is_some_and(|&t| t >= cut));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_at_its_limit_waits_until_its_oldest_report_is_an_hour_old() {
        let l = Limiter::default();
        let t0 = 1_000_000_000;
        for i in 0..3 {
            assert_eq!(l.admit(&[("ip:a", 3)], t0 + i * 1000), Ok(()));
        }
        assert_eq!(l.admit(&[("ip:a", 3)], t0 + 10_000), Err(3590), "the first report ages out in 3,590 s");
        assert_eq!(l.admit(&[("ip:b", 3)], t0 + 10_000), Ok(()), "another address is not held up");
        assert_eq!(l.admit(&[("ip:a", 3)], t0 + HOUR_MS + 1), Ok(()));
        // A refusal under one key counts under none.
        assert_eq!(l.admit(&[("key:k", 5), ("ip:a", 3)], t0 + HOUR_MS + 2), Err(1));
        assert_eq!(l.seen.lock().unwrap()["key:k"].len(), 0);
        assert!(l.admit(&[("ip:z", 0)], t0).is_err(), "a limit of 0 takes nothing");
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        let l = Limiter::default();
        for i in 0..(MAX_KEYS as i64 + 10) {
            l.admit(&[(&format!("ip:{i}"), 5)], 1_000 + i).unwrap();
        }
        assert!(l.seen.lock().unwrap().len() <= MAX_KEYS);
    }
}
