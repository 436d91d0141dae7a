//! Random bearer tokens (sessions, CSRF, devices). The server keeps only their SHA-256.
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub fn new_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex(&b)
}

pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `sent` is the expected CSRF (or other) token: both well-formed tokens as `new_token` makes
/// them (64 hex digits), and equal. An empty pair, or any other shape, never matches.
pub fn matches(expected: &str, sent: &str) -> bool {
    let well_formed = |t: &str| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed(expected) && well_formed(sent) && same(expected, sent)
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_equal_tokens_match() {
        let t = new_token();
        assert!(matches(&t, &t));
        assert!(!matches(&t, &new_token()));
        assert!(!matches("", ""), "an empty pair is no pair");
        assert!(!matches("x", "x"));
        let odd = "g".repeat(64);
        assert!(!matches(&odd, &odd), "not hex");
        assert!(!matches(&t, &t[..63]));
    }
}
