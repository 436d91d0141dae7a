//! Sign-in throttling that cannot be turned against others. Failures are counted under three keys,
//! each with its own allowance before waits begin, and the wait doubles with every further failure up
//! to a cap:
//!
//! | key | counts failures of | free | wait cap |
//! | --- | --- | --- | --- |
//! | an account from one address | that account's password, from there | 5 | 15 min |
//! | an account from anywhere | that account's password | 10 | 60 s |
//! | an address | any name, known or not | 50 | 5 min |
//!
//! So a person guessing one account from one place is slowed hard; guessing it from many places buys
//! no more than one try a minute, and the real user waits a minute at most; names that do not exist
//! never touch an account; and an office behind one address (a command centre, a street office behind
//! NAT) is slowed only after fifty failures, not five. A success clears its account's keys. Counts
//! are forgotten after a quiet `WINDOW_MS`. The state lives in the store (this module only decides).
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// One counted key and its rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub key: String,
    /// Failures allowed before any wait.
    pub free: u32,
    /// The longest wait (ms).
    pub cap_ms: i64,
    /// Cleared when the account signs in.
    pub cleared_by_success: bool,
}

/// What the store holds for a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub failures: u32,
    pub last_at: i64,
}

/// The keys an attempt is counted under: the account's only if the name is one.
pub fn keys(username: &str, known: bool, address: &str) -> Vec<Key> {
    let mut k = Vec::new();
    if known {
        k.push(Key { key: format!("pair:{address}|{username}"), free: 5, cap_ms: 15 * 60_000, cleared_by_success: true });
        k.push(Key { key: format!("acct:{username}"), free: 10, cap_ms: 60_000, cleared_by_success: true });
    }
    k.push(Key { key: format!("ip:{address}"), free: 50, cap_ms: 5 * 60_000, cleared_by_success: false });
    k
}

/// Milliseconds to wait before `key` may try again, given its count.
pub fn wait(key: &Key, c: Count, now: i64) -> i64 {
    if now - c.last_at > WINDOW_MS || c.failures < key.free {
        return 0;
    }
    let doublings = (c.failures - key.free).min(20);
    let wait = (1000i64 << doublings).min(key.cap_ms);
    (c.last_at + wait - now).max(0)
}

/// The count after one more failure at `now`.
pub fn failed(c: Count, now: i64) -> Count {
    let failures = if now - c.last_at > WINDOW_MS { 1 } else { c.failures.saturating_add(1) };
    Count { failures, last_at: now }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(key: &Key, attempts: &[i64]) -> Vec<bool> {
        let mut c = Count::default();
        attempts
            .iter()
            .map(|&t| {
                let allowed = wait(key, c, t) == 0;
                if allowed {
                    c = failed(c, t);
                }
                allowed
            })
            .collect()
    }

    #[test]
    fn the_allowance_then_doubling_waits_up_to_the_cap() {
        let pair = &keys("zhuji", true, "10.0.0.1")[0];
        // Five failures in a row are allowed; the sixth must wait a second, the seventh two, ...
        assert_eq!(run(pair, &[0, 1, 2, 3, 4, 5]), [true, true, true, true, true, false]);
        let mut c = Count::default();
        for t in 0..5 {
            c = failed(c, t);
        }
        assert_eq!(wait(pair, c, 4), 1000);
        c = failed(c, 1004);
        assert_eq!(wait(pair, c, 1004), 2000);
        for _ in 0..30 {
            c = failed(c, c.last_at);
        }
        assert_eq!(wait(pair, c, c.last_at), 15 * 60_000, "capped");
        assert_eq!(wait(pair, c, c.last_at + WINDOW_MS + 1), 0, "forgotten after a quiet window");
        assert_eq!(failed(c, c.last_at + WINDOW_MS + 1).failures, 1);
    }

    #[test]
    fn unknown_names_touch_only_the_address_and_an_office_gets_fifty() {
        let made_up = keys("nobody", false, "10.0.0.9");
        assert_eq!(made_up.len(), 1);
        assert_eq!(made_up[0].key, "ip:10.0.0.9");
        let ip = &made_up[0];
        let attempts: Vec<i64> = (0..50).collect();
        assert!(run(ip, &attempts).iter().all(|a| *a), "fifty failures from one office wait for nothing");
        let known = keys("leader", true, "10.0.0.9");
        assert!(known.iter().any(|k| k.key == "acct:leader") && known.iter().any(|k| k.key == "pair:10.0.0.9|leader"));
        // From anywhere, an account is slowed to one try a minute at worst.
        assert_eq!(known[1].cap_ms, 60_000);
    }
}
