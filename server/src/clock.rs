//! Wall-clock time in Unix milliseconds; the city's day boundaries are in app::model (Asia/Shanghai).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
