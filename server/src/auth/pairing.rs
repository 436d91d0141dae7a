//! Activation codes for wall displays: nobody types a 64-digit token on a wall with a remote. A screen
//! that opens `/device` without a token is shown a short code; an administrator enters that code when
//! issuing the device; the screen, asking every few seconds, then receives the device's token in its
//! cookie. Only the screen that asked holds the pairing secret (an HttpOnly cookie), so a code read off
//! the screen by a passer-by gives them nothing: the token goes to that screen alone.
//!
//! Waiting codes live in the store (a few minutes, at most `MAX_PENDING`), so the screen's instance and
//! the administrator's may differ behind a balancer. The store never holds a usable token: the device
//! is issued with one nobody keeps, and a fresh token is minted when the screen asks and its hash
//! replaces the first (`Auth::pairing_poll`).
use super::token;
use argon2::password_hash::rand_core::{OsRng, RngCore};

/// Letters and digits that cannot be confused on a screen across a room (no 0/O, 1/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;
/// How long a code shown on a screen stays good.
pub const TTL_MS: i64 = 15 * 60_000;
/// Screens waiting at once; the oldest give way (the page anyone can open must not grow the store).
pub const MAX_PENDING: i64 = 256;

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

/// A fresh code and the secret the screen keeps (its cookie).
pub fn new_code() -> (String, String) {
    let code: String = (0..CODE_LEN).map(|_| ALPHABET[(OsRng.next_u32() as usize) % ALPHABET.len()] as char).collect();
    (code, token::new_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_across_a_room_and_typed_loosely() {
        let (code, secret) = new_code();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(secret.len(), 64);
        let typed = display(&code).to_lowercase().replace('-', " - ");
        assert_eq!(normalise(&typed), code, "typed loosely: {typed}");
        assert_ne!(new_code().0, code);
    }
}
