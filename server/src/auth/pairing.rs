//! Activation codes for wall displays: nobody types a 64-digit token on a wall with a remote. A screen
//! that opens `/device` without a token is shown a short code; an administrator enters that code when
//! issuing the device; the screen, asking every few seconds, then receives the device's token in its
//! cookie. Only the screen that asked holds the pairing secret (an HttpOnly cookie), so a code read off
//! the screen by a passer-by gives them nothing: the token goes to that screen alone.
//!
//! Pending codes live in this process only (a few minutes, at most `MAX_PENDING`): behind a balancer
//! the wall's page must reach the instance that showed the code, or the administrator uses the link.
use super::token;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use std::sync::Mutex;

/// Letters and digits that cannot be confused on a screen across a room (no 0/O, 1/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;
/// How long a code shown on a screen stays good.
pub const TTL_MS: i64 = 15 * 60_000;
/// Screens waiting at once; the oldest give way (the page anyone can open must not grow memory).
const MAX_PENDING: usize = 256;

struct Pending {
    code: String,
    secret_hash: String,
    created_at: i64,
    /// Set once an administrator issued the device for this code; handed to the screen once.
    token: Option<String>,
}

#[derive(Default)]
pub struct Pairings {
    pending: Mutex<Vec<Pending>>,
}

#[derive(Debug, PartialEq)]
pub enum Poll {
    Waiting,
    /// The device's token: the screen sets its cookie and goes to the wall.
    Ready(String),
    /// No such pairing, or it expired: the screen starts again.
    Unknown,
}

/// "ABCD-EFGH" as shown; what an administrator types may have spaces, a hyphen or lower case.
pub fn normalise(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

pub fn display(code: &str) -> String {
    if code.len() == CODE_LEN {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

impl Pairings {
    /// A new code for a screen, and the secret that screen keeps (its cookie).
    pub fn begin(&self, now: i64) -> (String, String) {
        let code: String = (0..CODE_LEN).map(|_| ALPHABET[(OsRng.next_u32() as usize) % ALPHABET.len()] as char).collect();
        let secret = token::new_token();
        let mut pending = self.pending.lock().expect("pairings lock");
        pending.retain(|p| now - p.created_at < TTL_MS && p.code != code);
        if pending.len() >= MAX_PENDING {
            pending.remove(0);
        }
        pending.push(Pending { code: code.clone(), secret_hash: token::digest(&secret), created_at: now, token: None });
        (secret, code)
    }

    /// The code a screen with `secret` shows, while it is still waiting.
    pub fn code_of(&self, secret: &str, now: i64) -> Option<String> {
        let h = token::digest(secret);
        let pending = self.pending.lock().expect("pairings lock");
        pending.iter().find(|p| token::same(&p.secret_hash, &h) && now - p.created_at < TTL_MS && p.token.is_none()).map(|p| p.code.clone())
    }

    /// Whether `code` is waiting for a device now (checked before the device is issued).
    pub fn is_waiting(&self, code: &str, now: i64) -> bool {
        let code = normalise(code);
        let pending = self.pending.lock().expect("pairings lock");
        pending.iter().any(|p| p.code == code && now - p.created_at < TTL_MS && p.token.is_none())
    }

    /// Hands the new device's token to the screen showing `code`; false if it no longer waits.
    pub fn complete(&self, code: &str, device_token: &str, now: i64) -> bool {
        let code = normalise(code);
        let mut pending = self.pending.lock().expect("pairings lock");
        match pending.iter_mut().find(|p| p.code == code && now - p.created_at < TTL_MS && p.token.is_none()) {
            Some(p) => {
                p.token = Some(device_token.to_string());
                true
            }
            None => false,
        }
    }

    /// What the screen holding `secret` should do now. A token is given once, then forgotten here.
    pub fn poll(&self, secret: &str, now: i64) -> Poll {
        let h = token::digest(secret);
        let mut pending = self.pending.lock().expect("pairings lock");
        let Some(i) = pending.iter().position(|p| token::same(&p.secret_hash, &h)) else { return Poll::Unknown };
        if let Some(t) = pending[i].token.clone() {
            pending.remove(i);
            return Poll::Ready(t);
        }
        if now - pending[i].created_at >= TTL_MS {
            pending.remove(i);
            return Poll::Unknown;
        }
        Poll::Waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_pairs_the_screen_that_showed_it_once() {
        let p = Pairings::default();
        let (secret, code) = p.begin(0);
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(p.poll(&secret, 1_000), Poll::Waiting);
        assert_eq!(p.code_of(&secret, 1_000).as_deref(), Some(code.as_str()));
        let typed = display(&code).to_lowercase().replace('-', " - ");
        assert!(p.is_waiting(&typed, 2_000), "typed loosely: {typed}");
        assert!(p.complete(&typed, "tok", 2_000));
        assert!(!p.complete(&code, "other", 2_000), "a code is used once");
        assert_eq!(p.poll(&token::new_token(), 3_000), Poll::Unknown, "another secret gets nothing");
        assert_eq!(p.poll(&secret, 3_000), Poll::Ready("tok".into()));
        assert_eq!(p.poll(&secret, 3_000), Poll::Unknown, "the token is handed over once");
    }

    #[test]
    fn codes_expire_and_the_waiting_room_is_bounded() {
        let p = Pairings::default();
        let (secret, code) = p.begin(0);
        assert!(!p.is_waiting(&code, TTL_MS), "expired");
        assert!(!p.complete(&code, "tok", TTL_MS));
        assert_eq!(p.poll(&secret, TTL_MS), Poll::Unknown);
        let first = p.begin(0);
        for i in 0..MAX_PENDING {
            p.begin(i as i64);
        }
        assert_eq!(p.pending.lock().unwrap().len(), MAX_PENDING);
        assert_eq!(p.poll(&first.0, 1_000), Poll::Unknown, "the oldest gave way");
    }
}
