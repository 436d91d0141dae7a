//! HTTP push (webhook): a source system POSTs batches of records to `/feeds/{name}/webhook`.
//! Each request carries the feed's token (`Authorization: Bearer …`), a timestamp (`X-Cockpit-Timestamp`,
//! Unix seconds) and an HMAC-SHA256 over `"{timestamp}.{body}"` with the feed's secret
//! (`X-Cockpit-Signature: sha256=<hex>`). A timestamp outside the window is refused, so a captured request
//! cannot be replayed later; within it, a replay is a duplicate. The answer is 2xx only once the batch is
//! durably stored; 503 while the feed is paused, so the sender retries later.
use super::record::Input;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bearer token the sender presents.
    pub token: String,
    /// The HMAC-SHA256 key.
    pub secret: String,
    /// How far (seconds) a request's timestamp may be from now.
    #[serde(default = "default_window")]
    pub window_seconds: u64,
}

fn default_window() -> u64 {
    300
}

pub const TIMESTAMP: &str = "x-cockpit-timestamp";
pub const SIGNATURE: &str = "x-cockpit-signature";

/// Why a push is refused; the HTTP status it gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or wrong token or signature: 401, with one message for all, so probing learns nothing.
    Unauthorized,
    /// Timestamp missing, unreadable or outside the window: 401 too, but said, so clocks can be fixed.
    Stale,
    /// The body is not JSON records: 400.
    Malformed(String),
}

/// The signature a sender computes: hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// Compares without leaking where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Checks a request and reads its records: a JSON array, or an object with a `records` array.
pub fn verify(cfg: &Config, authorization: Option<&str>, timestamp: Option<&str>, signature: Option<&str>, body: &[u8], now_ms: i64) -> Result<Vec<Input>, Refusal> {
    authenticate(cfg, authorization, timestamp, signature, body, now_ms)?;
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| Refusal::Malformed(format!("the body is not JSON: {e}")))?;
    let records = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("records") {
            Some(serde_json::Value::Array(a)) => a,
            _ => return Err(Refusal::Malformed("expected a JSON array of records or {\"records\": [...]}".into())),
        },
        _ => return Err(Refusal::Malformed("expected a JSON array of records or {\"records\": [...]}".into())),
    };
    Ok(records.into_iter().map(Input::Record).collect())
}

/// The token, the timestamp's window and the signature of a signed request (the same scheme signs the
/// results the cockpit sends back: `feeds/results.rs`).
pub fn authenticate(cfg: &Config, authorization: Option<&str>, timestamp: Option<&str>, signature: Option<&str>, body: &[u8], now_ms: i64) -> Result<(), Refusal> {
    let token = authorization.and_then(|a| a.strip_prefix("Bearer ")).ok_or(Refusal::Unauthorized)?;
    if !same(token.as_bytes(), cfg.token.as_bytes()) {
        return Err(Refusal::Unauthorized);
    }
    let ts = timestamp.ok_or(Refusal::Stale)?;
    let secs: i64 = ts.parse().map_err(|_| Refusal::Stale)?;
    if (now_ms / 1000).saturating_sub(secs).unsigned_abs() > cfg.window_seconds {
        return Err(Refusal::Stale);
    }
    let sig = signature.and_then(|s| s.strip_prefix("sha256=")).and_then(unhex).ok_or(Refusal::Unauthorized)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(cfg.secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| Refusal::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config { token: "t0k".into(), secret: "s3cret".into(), window_seconds: 300 }
    }

    #[test]
    fn a_signed_fresh_request_passes_and_everything_else_is_refused() {
        let body = br#"[{"id": 1}, {"id": 2}]"#;
        let now = 1_800_000_000_000i64;
        let ts = "1800000000";
        let sig = format!("sha256={}", sign("s3cret", ts, body));
        assert_eq!(verify(&cfg(), Some("Bearer t0k"), Some(ts), Some(&sig), body, now).unwrap().len(), 2);
        assert_eq!(verify(&cfg(), Some("Bearer t0k"), Some(ts), Some(&sig), br#"{"records": [{"id": 1}]}"#, now).unwrap_err(), Refusal::Unauthorized, "a changed body");
        assert_eq!(verify(&cfg(), Some("Bearer t0x"), Some(ts), Some(&sig), body, now).unwrap_err(), Refusal::Unauthorized);
        assert_eq!(verify(&cfg(), None, Some(ts), Some(&sig), body, now).unwrap_err(), Refusal::Unauthorized);
        assert_eq!(verify(&cfg(), Some("Bearer t0k"), Some(ts), Some("sha256=zz"), body, now).unwrap_err(), Refusal::Unauthorized);
        assert_eq!(verify(&cfg(), Some("Bearer t0k"), Some(ts), Some(&sig), body, now + 301_000).unwrap_err(), Refusal::Stale, "a replay after the window");
        assert_eq!(verify(&cfg(), Some("Bearer t0k"), None, Some(&sig), body, now).unwrap_err(), Refusal::Stale);
        let other = Config { secret: "other".into(), ..cfg() };
        assert_eq!(verify(&other, Some("Bearer t0k"), Some(ts), Some(&sig), body, now).unwrap_err(), Refusal::Unauthorized);
        let bad = b"{nope";
        let sig = format!("sha256={}", sign("s3cret", ts, bad));
        assert!(matches!(verify(&cfg(), Some("Bearer t0k"), Some(ts), Some(&sig), bad, now), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn no_input_makes_verify_panic() {
        let mut rng = geom::SplitMix64::new(3);
        for _ in 0..5_000 {
            let n = (rng.next_u64() % 64) as usize;
            let body: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            let ts = format!("{}", rng.next_u64() as i64);
            let sig = format!("sha256={}", sign("s3cret", &ts, &body));
            let _ = verify(&cfg(), Some("Bearer t0k"), Some(&ts), Some(&sig), &body, rng.next_u64() as i64);
            let _ = verify(&cfg(), Some(&String::from_utf8_lossy(&body)), Some(&String::from_utf8_lossy(&body)), Some(&String::from_utf8_lossy(&body)), &body, 0);
        }
    }
}
