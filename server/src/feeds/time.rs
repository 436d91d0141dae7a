//! Time formats feeds use, read into Unix milliseconds. Times without an offset are Beijing time
//! (Asia/Shanghai, UTC+8 all year since 1991).
use serde::{Deserialize, Serialize};

const CST_SECONDS: i32 = 8 * 3600;

/// How a feed writes its times: a named format or a strftime pattern in local time (e.g. `%Y年%m月%d日 %H:%M`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum TimeFormat {
    /// ISO 8601 / RFC 3339 with an offset; without one it is read as local time.
    Rfc3339,
    /// `2026-11-21 09:30:00`, `2026/11/21 09:30`, `2026-11-21` and the like, local time.
    Local,
    UnixSeconds,
    UnixMillis,
    /// Excel serial days (1900 date system), local time.
    Excel,
    Pattern(String),
}

impl From<String> for TimeFormat {
    fn from(s: String) -> TimeFormat {
        match s.as_str() {
            "rfc3339" => TimeFormat::Rfc3339,
            "local" => TimeFormat::Local,
            "unix_s" => TimeFormat::UnixSeconds,
            "unix_ms" => TimeFormat::UnixMillis,
            "excel" => TimeFormat::Excel,
            _ => TimeFormat::Pattern(s),
        }
    }
}

impl From<TimeFormat> for String {
    fn from(f: TimeFormat) -> String {
        match f {
            TimeFormat::Rfc3339 => "rfc3339".into(),
            TimeFormat::Local => "local".into(),
            TimeFormat::UnixSeconds => "unix_s".into(),
            TimeFormat::UnixMillis => "unix_ms".into(),
            TimeFormat::Excel => "excel".into(),
            TimeFormat::Pattern(p) => p,
        }
    }
}

fn local(n: chrono::NaiveDateTime) -> i64 {
    n.and_utc().timestamp_millis() - i64::from(CST_SECONDS) * 1000
}

const LOCAL_FORMATS: &[&str] = &["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"];

fn parse_local(s: &str) -> Option<i64> {
    LOCAL_FORMATS
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| ["%Y-%m-%d", "%Y/%m/%d"].iter().find_map(|f| chrono::NaiveDate::parse_from_str(s, f).ok()).and_then(|d| d.and_hms_opt(0, 0, 0)))
        .map(local)
}

impl TimeFormat {
    /// Checks a pattern once, when the config is read, so a typo is a config error and not a quarantine.
    pub fn validate(&self) -> Result<(), String> {
        if let TimeFormat::Pattern(p) = self {
            let ok = chrono::format::StrftimeItems::new(p).all(|i| !matches!(i, chrono::format::Item::Error));
            if !ok || !p.contains('%') {
                return Err(format!("{p:?} is neither rfc3339, local, unix_s, unix_ms, excel nor a strftime pattern"));
            }
        }
        Ok(())
    }

    /// Reads a time; the error says what was expected.
    pub fn parse(&self, raw: &str) -> Result<i64, String> {
        let s = raw.trim();
        let bad = || format!("{s:?} is not a time in format {}", String::from(self.clone()));
        // Beyond ±10 000 years, millisecond arithmetic overflows and no feed means it anyway.
        const LIMIT: f64 = 3.2e14;
        let ms = match self {
            TimeFormat::Rfc3339 => chrono::DateTime::parse_from_rfc3339(s).map(|d| d.timestamp_millis()).ok().or_else(|| parse_local(s)),
            TimeFormat::Local => parse_local(s),
            TimeFormat::UnixSeconds => s.parse::<f64>().ok().filter(|v| v.abs() < LIMIT / 1000.0).map(|v| (v * 1000.0).round() as i64),
            TimeFormat::UnixMillis => s.parse::<f64>().ok().filter(|v| v.abs() < LIMIT).map(|v| v.round() as i64),
            TimeFormat::Excel => s
                .parse::<f64>()
                .ok()
                .filter(|v| (1.0..2_958_466.0).contains(v))
                // Day 0 is 1899-12-30 (the 1900 system counts a 29 February 1900 that never was).
                .map(|v| ((v - 25_569.0) * 86_400_000.0).round() as i64 - i64::from(CST_SECONDS) * 1000),
            TimeFormat::Pattern(p) => chrono::NaiveDateTime::parse_from_str(s, p)
                .ok()
                .or_else(|| chrono::NaiveDate::parse_from_str(s, p).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
                .map(local),
        };
        ms.ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const T: i64 = 1_763_688_600_000; // 2025-11-21 09:30:00 +08:00

    #[test]
    fn every_format_reads_the_same_instant() {
        let cases: &[(&str, &str)] = &[
            ("rfc3339", "2025-11-21T09:30:00+08:00"),
            ("rfc3339", "2025-11-21T01:30:00Z"),
            ("rfc3339", "2025-11-21T09:30:00"),
            ("local", "2025-11-21 09:30:00"),
            ("local", "2025/11/21 09:30"),
            ("unix_s", "1763688600"),
            ("unix_ms", "1763688600000"),
            ("excel", "45982.3958333333"),
            ("%Y年%m月%d日 %H时%M分", "2025年11月21日 09时30分"),
        ];
        for (f, s) in cases {
            let got = TimeFormat::from(f.to_string()).parse(s).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!((got - T).abs() < 1000, "{f} {s}: {got}");
        }
        assert_eq!(TimeFormat::Local.parse("2025-11-21").unwrap(), T - 9 * 3_600_000 - 30 * 60_000);
    }

    #[test]
    fn bad_times_and_patterns_are_named() {
        let e = TimeFormat::Local.parse("yesterday").unwrap_err();
        assert!(e.contains("yesterday") && e.contains("local"), "{e}");
        assert!(TimeFormat::UnixMillis.parse("1e300").is_err());
        assert!(TimeFormat::Excel.parse("-3").is_err());
        assert!(TimeFormat::from("%Q".to_string()).validate().is_err());
        assert!(TimeFormat::from("yyyy-mm-dd".to_string()).validate().is_err());
        assert!(TimeFormat::from("%Y-%m-%d".to_string()).validate().is_ok());
    }

    /// Any text in any format: a time or a reason, never a panic (overflow included).
    #[test]
    fn no_text_makes_a_format_panic() {
        let formats = ["rfc3339", "local", "unix_s", "unix_ms", "excel", "%Y年%m月%d日 %H时%M分", "%s", "%Y-%j"];
        let pieces = ["2025", "-", "11", "21", "T", " ", ":", "09", "+08:00", "Z", "9999999999999999999", "-1e308", "NaN", "inf", "年", "月", "日", ".", "/", "60", "99", "0"];
        let mut rng = geom::SplitMix64::new(17);
        for _ in 0..20_000 {
            let n = (rng.next_u64() % 9) as usize;
            let text: String = (0..n).map(|_| pieces[(rng.next_u64() % pieces.len() as u64) as usize]).collect();
            for f in formats {
                let _ = TimeFormat::from(f.to_string()).parse(&text);
            }
        }
    }
}
