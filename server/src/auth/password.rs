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

#[cfg(test)]
mod tests {
    #[test]
    fn argon2id_round_trip() {
        let h = super::hash("正确的密码");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(super::verify(&h, "正确的密码"));
        assert!(!super::verify(&h, "wrong"));
        assert!(!super::verify("not a hash", "正确的密码"));
        assert_ne!(super::hash("x"), super::hash("x"), "salted");
    }
}
