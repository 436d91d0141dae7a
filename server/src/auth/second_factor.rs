//! The second factor: TOTP codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) from an
//! authenticator app, enrolled by a QR code, and one-time recovery codes for a lost phone. A code is
//! good within one step either side of the server's time, and once: the step it used is stored and a
//! code of that step or an earlier one is refused (`AccessStore::take_totp_step`).
use rand_core::{OsRng, RngCore};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds a code stands for.
pub const STEP_S: i64 = 30;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// A password-only session waits this long for its second factor.
pub const PENDING_MS: i64 = 5 * 60_000;

/// A fresh 160-bit secret, base32 (what RFC 4226 recommends and authenticator apps expect).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    // The otpauth label may not hold ':' (it separates issuer and account).
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_S as u64, bytes, Some(issuer.replace(':', " ")), account.replace(':', " ")).ok()
}

/// The code of `secret` for the step that holds `at_ms`.
pub fn code_at(secret_b32: &str, at_ms: i64) -> Option<String> {
    Some(totp(secret_b32, "x", "x")?.generate((at_ms / 1000).max(0) as u64))
}

/// The step of a code of `secret` typed at `now_ms` (this step, the one before or the one after), if
/// the code is one of them. Spaces and dashes the person typed are ignored.
pub fn verify(secret_b32: &str, code: &str, now_ms: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "x", "x")?;
    let step = now_ms.div_euclid(1000) / STEP_S;
    // Every candidate is computed and compared in constant time, so timing does not tell which matched.
    let mut found = None;
    for s in [step - 1, step, step + 1] {
        let expected = t.generate((s.max(0) * STEP_S) as u64);
        if crate::auth::token::same(&expected, &code) && found.is_none() {
            found = Some(s);
        }
    }
    found
}

/// The otpauth:// link an authenticator app reads (issuer: the product, account: the user name).
pub fn link(secret_b32: &str, issuer: &str, account: &str) -> Option<String> {
    Some(totp(secret_b32, issuer, account)?.get_url())
}

/// The link as an SVG QR code, drawn here (offline: no image service).
pub fn qr_svg(link: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build())
}

/// Fresh recovery codes as shown to the person: 10 characters of Crockford-like base32 in two groups.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            OsRng.fill_bytes(&mut bytes);
            let s: String = bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect()
}

/// How a recovery code is compared and stored: upper case, without separators, hashed (the codes are
/// random enough that a plain digest suffices, as for session tokens).
pub fn recovery_hash(code: &str) -> String {
    let norm: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    crate::auth::token::digest(&norm)
}

/// Whether what was typed looks like a recovery code rather than a 6-digit code.
pub fn is_recovery_code(code: &str) -> bool {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 10
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B, SHA-1: the secret is the ASCII "12345678901234567890"; 8-digit codes
    /// there, whose last 6 digits are the 6-digit codes.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string();
        for (t, eight) in [(59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"), (2_000_000_000, "69279037")] {
            assert_eq!(code_at(&secret, t * 1000).unwrap(), eight[2..], "t = {t}");
        }
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_says_which() {
        let s = new_secret();
        let now = 1_796_180_400_000; // 2026-12-02 10:00 CST
        let step = now / 1000 / STEP_S;
        assert_eq!(verify(&s, &code_at(&s, now).unwrap(), now), Some(step));
        assert_eq!(verify(&s, &code_at(&s, now - 30_000).unwrap(), now), Some(step - 1));
        assert_eq!(verify(&s, &code_at(&s, now + 30_000).unwrap(), now), Some(step + 1));
        assert_eq!(verify(&s, &code_at(&s, now - 61_000).unwrap(), now), None, "two steps old");
        let c = code_at(&s, now).unwrap();
        assert_eq!(verify(&s, &format!("{} {}", &c[..3], &c[3..]), now), Some(step), "spaces typed");
        assert_eq!(verify(&s, "12345", now), None);
        assert_eq!(verify(&s, "abcdef", now), None);
    }

    #[test]
    fn the_link_and_qr_code_carry_the_secret_for_the_app() {
        let s = new_secret();
        assert_eq!(s.len(), 32, "160 bits in base32");
        let l = link(&s, "City Cockpit", "admin").unwrap();
        assert!(l.starts_with("otpauth://totp/"), "{l}");
        assert!(l.contains(&format!("secret={s}")), "{l}");
        let svg = qr_svg(&l).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn recovery_codes_are_fresh_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 11 && is_recovery_code(c)));
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(recovery_hash(&codes[0]), recovery_hash(&codes[0].to_lowercase().replace('-', " ")));
        assert!(!is_recovery_code("123456"));
    }
}
