//! Passwords are stored as argon2id PHC strings (salted, memory-hard); never logged, never compared as text.
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A temporary password an administrator hands over: 16 characters from letters and digits that are
/// not easily confused (no 0/O, 1/l/I), always with lower, upper and digits and a hyphen every four, so it
/// passes `check_strength` for any user name of three or more characters that it cannot contain.
pub fn temporary() -> String {
    use argon2::password_hash::rand_core::RngCore;
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    let pick = |set: &[u8]| set[(OsRng.next_u32() as usize) % set.len()] as char;
    let chars: Vec<char> = (0..16).map(|i| match i % 4 { 0 => pick(UPPER), 1 => pick(DIGIT), _ => pick(LOWER) }).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// How many passwords an account may not go back to: the current one and the ones before it.
pub const HISTORY: u32 = 5;

/// Shortest password taken (characters).
pub const MIN_CHARS: usize = 10;

/// The complexity rule for a new password (GB/T 22239-2019 level 3, identity: passwords have a
/// complexity requirement): at least `MIN_CHARS` characters, three of the four kinds (lower case,
/// upper case, digits, anything else: punctuation, spaces, Chinese), and not the user name in it.
/// Err with what is missing, in words an administrator can act on.
pub fn check_strength(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < MIN_CHARS {
        return Err(format!("the password needs at least {MIN_CHARS} characters"));
    }
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 3 {
        return Err("the password needs three of: lower-case letters, upper-case letters, digits, other characters".into());
    }
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err("the password must not contain the user name".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn temporary_passwords_pass_the_rule_and_differ() {
        let a = super::temporary();
        assert_eq!(a.chars().count(), 19, "{a}");
        assert!(super::check_strength(&a, "huayuan").is_ok(), "{a}");
        assert_ne!(a, super::temporary());
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']), "{a}");
    }

    #[test]
    fn argon2id_round_trip() {
        let h = super::hash("正确的密码");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(super::verify(&h, "正确的密码"));
        assert!(!super::verify(&h, "wrong"));
        assert!(!super::verify("not a hash", "正确的密码"));
        assert_ne!(super::hash("x"), super::hash("x"), "salted");
    }

    #[test]
    fn a_new_password_needs_length_three_kinds_and_not_the_user_name() {
        use super::check_strength as check;
        assert!(check("cockpit-demo-2026", "leader").is_ok(), "lower, digits, other");
        assert!(check("Grid-Duty 7", "wang").is_ok());
        assert!(check("网格员Zhang2026", "li").is_ok(), "Chinese counts as other characters");
        assert!(check("Short-1", "x").unwrap_err().contains("10 characters"));
        assert!(check("long enough pw", "x").unwrap_err().contains("three of"), "lower case and spaces only");
        assert!(check("ABCDEFGH1234", "x").unwrap_err().contains("three of"));
        assert!(check("Tashan-2026-pw", "tashan").unwrap_err().contains("user name"), "whatever its case");
        assert!(check("Ab1-Ab1-Ab1-x", "ab").is_ok(), "a name this short is not looked for");
    }
}
