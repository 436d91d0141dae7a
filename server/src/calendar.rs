//! The working calendar deadlines are counted on: working periods of a day (with a lunch break),
//! Saturdays and Sundays off, public holidays off, and make-up working days (调休) on. All in
//! Asia/Shanghai. Real holiday lists change every year, so they come from configuration.
use app::model::{day_start, local_day, parse_day};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// Working periods of a working day, local time, "HH:MM-HH:MM", in order.
    pub hours: Vec<String>,
    /// Days off besides weekends (public holidays), "YYYY-MM-DD".
    pub holidays: Vec<String>,
    /// Saturdays or Sundays worked instead (调休), "YYYY-MM-DD".
    pub extra_workdays: Vec<String>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig { hours: vec!["08:30-12:00".into(), "13:30-17:30".into()], holidays: Vec::new(), extra_workdays: Vec::new() }
    }
}

#[derive(Clone, Debug)]
pub struct Calendar {
    /// (start, end) in ms after local midnight.
    periods: Vec<(i64, i64)>,
    holidays: HashSet<i64>,
    extra_workdays: HashSet<i64>,
}

fn minutes(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl Calendar {
    pub fn new(cfg: &CalendarConfig) -> Result<Calendar, String> {
        let mut periods = Vec::new();
        for p in &cfg.hours {
            let (a, b) = p.split_once('-').ok_or_else(|| format!("calendar.hours: {p:?} is not HH:MM-HH:MM"))?;
            let (a, b) = (minutes(a), minutes(b));
            let (Some(a), Some(b)) = (a, b) else { return Err(format!("calendar.hours: {p:?} is not HH:MM-HH:MM")) };
            if b <= a || periods.last().is_some_and(|&(_, end)| a * 60_000 < end) {
                return Err(format!("calendar.hours: {p:?} must end after it starts and after the period before"));
            }
            periods.push((a * 60_000, b * 60_000));
        }
        if periods.is_empty() {
            return Err("calendar.hours: at least one working period is needed".into());
        }
        let days = |key: &str, list: &[String]| -> Result<HashSet<i64>, String> {
            list.iter().map(|d| parse_day(d).map(local_day).ok_or_else(|| format!("calendar.{key}: {d:?} is not a date YYYY-MM-DD"))).collect()
        };
        Ok(Calendar { periods, holidays: days("holidays", &cfg.holidays)?, extra_workdays: days("extra_workdays", &cfg.extra_workdays)? })
    }

    /// Working time in one working day.
    pub fn day_length(&self) -> i64 {
        self.periods.iter().map(|(a, b)| b - a).sum()
    }

    pub fn is_workday(&self, day: i64) -> bool {
        // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays.
        let weekend = (day + 3).rem_euclid(7) >= 5;
        if self.extra_workdays.contains(&day) {
            return true;
        }
        !weekend && !self.holidays.contains(&day)
    }

    /// Working periods of `day` as absolute (start, end) Unix ms.
    pub fn periods_of(&self, day: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let midnight = day_start(day);
        let work = self.is_workday(day);
        self.periods.iter().filter(move |_| work).map(move |&(a, b)| (midnight + a, midnight + b))
    }

    /// The instant when `working_ms` of working time have passed after `start`.
    pub fn add_working(&self, start: i64, working_ms: i64) -> i64 {
        let mut left = working_ms.max(0);
        let mut day = local_day(start);
        // Ten years of days off in a row would be a broken calendar; stop rather than spin.
        for _ in 0..3660 {
            for (a, b) in self.periods_of(day) {
                let from = a.max(start);
                if from >= b {
                    continue;
                }
                if left <= b - from {
                    return from + left;
                }
                left -= b - from;
            }
            day += 1;
        }
        i64::MAX
    }

    /// Working time between `a` and `b` (zero when `b` is not after `a`).
    pub fn working_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        (local_day(a)..=local_day(b)).flat_map(|d| self.periods_of(d).collect::<Vec<_>>()).map(|(s, e)| (e.min(b) - s.max(a)).max(0)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// Local time on a date.
    fn at(date: &str, hh: i64, mm: i64) -> i64 {
        parse_day(date).unwrap() + hh * H + mm * 60_000
    }

    fn cal(holidays: &[&str], extra: &[&str]) -> Calendar {
        Calendar::new(&CalendarConfig {
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
            extra_workdays: extra.iter().map(|s| s.to_string()).collect(),
            ..CalendarConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn weekdays_and_weekends() {
        let c = cal(&[], &[]);
        assert!(c.is_workday(local_day(at("2026-11-20", 12, 0))), "a Friday");
        assert!(!c.is_workday(local_day(at("2026-11-21", 12, 0))), "a Saturday");
        assert!(!c.is_workday(local_day(at("2026-11-22", 12, 0))), "a Sunday");
        assert!(c.is_workday(local_day(at("2026-11-23", 12, 0))), "a Monday");
    }

    #[test]
    fn deadlines_skip_lunch_nights_and_weekends() {
        let c = cal(&[], &[]);
        // Friday 11:00 + 2 working hours: one before lunch, one after it.
        assert_eq!(c.add_working(at("2026-11-20", 11, 0), 2 * H), at("2026-11-20", 14, 30));
        // Friday 16:30 + 2 h: one on Friday, then Monday from 08:30.
        assert_eq!(c.add_working(at("2026-11-20", 16, 30), 2 * H), at("2026-11-23", 9, 30));
        // Reported on Saturday night: the clock starts Monday morning.
        assert_eq!(c.add_working(at("2026-11-21", 22, 0), H), at("2026-11-23", 9, 30));
        // A full working day is 7.5 h.
        assert_eq!(c.add_working(at("2026-11-23", 8, 30), 15 * H / 2), at("2026-11-23", 17, 30));
        assert_eq!(c.working_between(at("2026-11-20", 16, 30), at("2026-11-23", 9, 30)), 2 * H);
    }

    #[test]
    fn holidays_and_make_up_days() {
        // National Day week off, with a make-up Saturday after it (as configured).
        let holidays = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"];
        let c = cal(&holidays, &["2026-10-10"]);
        // Wednesday 30 Sep 17:00 + 1 h: half an hour on the 30th, the rest on Thursday 8 Oct.
        assert_eq!(c.add_working(at("2026-09-30", 17, 0), H), at("2026-10-08", 9, 0));
        // Friday 9 Oct 17:00 + 1 h runs into the make-up Saturday.
        assert_eq!(c.add_working(at("2026-10-09", 17, 0), H), at("2026-10-10", 9, 0));
        let plain = cal(&[], &[]);
        assert_eq!(plain.add_working(at("2026-10-09", 17, 0), H), at("2026-10-12", 9, 0), "without it, Monday");
    }

    #[test]
    fn adding_then_measuring_gives_back_the_working_time() {
        let c = cal(&["2026-12-25"], &[]);
        let mut t = at("2026-12-20", 3, 17);
        for k in 0..200i64 {
            let w = (k * 7_919 % 97) * 10 * 60_000;
            let end = c.add_working(t, w);
            assert_eq!(c.working_between(t, end), w, "from {t} adding {w}");
            t += 5 * H + 13 * 60_000;
        }
    }

    #[test]
    fn bad_configuration_is_named() {
        let bad = |hours: &[&str], holidays: &[&str]| {
            Calendar::new(&CalendarConfig {
                hours: hours.iter().map(|s| s.to_string()).collect(),
                holidays: holidays.iter().map(|s| s.to_string()).collect(),
                extra_workdays: vec![],
            })
            .unwrap_err()
        };
        assert!(bad(&["9:00"], &[]).contains("HH:MM-HH:MM"));
        assert!(bad(&["12:00-09:00"], &[]).contains("must end after"));
        assert!(bad(&["08:00-12:00", "11:00-13:00"], &[]).contains("after the period before"));
        assert!(bad(&[], &[]).contains("at least one"));
        assert!(bad(&["08:00-12:00"], &["2026-02-30"]).contains("calendar.holidays"));
    }
}
