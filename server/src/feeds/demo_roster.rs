//! The demo grid-management system's rosters (网格员排班): each staffed grid's worker works the city's
//! working periods on working days; on days off one worker per village or community keeps duty
//! (值班, 09:00–17:00) in turn; about one worker in twenty-five takes three days' leave at a time; on some
//! working afternoons a neighbour covers a vacant grid (代班). Deterministic in the seed and the day, so
//! a restart plans the same lines (the store keeps one of each).
use crate::calendar::Calendar;
use crate::city::shaoxing::hash;
use crate::city::RegionTree;
use crate::duty::Duty;
use app::duty::DutyKind;
use app::model::{Level, CST_OFFSET_MS, DAY_MS};

const HOUR: i64 = 3_600_000;
/// Leave comes in blocks of this many days.
const LEAVE_DAYS: i64 = 3;

/// The roster lines of local day `day` for every grid of `tree`.
pub fn plan_day(tree: &RegionTree, calendar: &Calendar, seed: u64, day: i64) -> Vec<Duty> {
    let midnight = app::model::day_start(day);
    let work = calendar.is_workday(day);
    let mut out = Vec::new();
    for (v, village) in tree.iter() {
        if village.row.level != Level::Village {
            continue;
        }
        // (grid code, its worker, on leave today)
        let mut staffed = Vec::new();
        let mut vacant = Vec::new();
        for &g in &tree.get(v).children {
            let r = &tree.get(g).row;
            let Some(attrs) = r.grid.as_ref() else { continue };
            match &attrs.worker {
                Some(w) => {
                    let leave = leave_block(&r.code, seed, day);
                    if let Some(from) = leave {
                        out.push(Duty { grid: r.code.clone(), worker: w.clone(), kind: DutyKind::Leave, from, to: from + LEAVE_DAYS * DAY_MS });
                    }
                    staffed.push((r.code.clone(), w.clone(), leave.is_some()));
                }
                None => vacant.push(r.code.clone()),
            }
        }
        let present: Vec<&(String, String, bool)> = staffed.iter().filter(|s| !s.2).collect();
        if work {
            for (code, w, _) in &present {
                for (a, b) in calendar.periods_of(day) {
                    out.push(Duty { grid: code.clone(), worker: w.clone(), kind: DutyKind::Shift, from: a, to: b });
                }
            }
            if let Some((_, neighbour, _)) = present.first() {
                for code in vacant.iter().filter(|c| hash(c, seed ^ day as u64 ^ 0xc0de) % 3 == 0) {
                    out.push(Duty { grid: code.clone(), worker: neighbour.clone(), kind: DutyKind::Shift, from: midnight + 14 * HOUR, to: midnight + 16 * HOUR });
                }
            }
        } else if !present.is_empty() {
            let turn = (hash(&village.row.code, seed) as usize + day as usize) % present.len();
            let (code, w, _) = present[turn];
            out.push(Duty { grid: code.clone(), worker: w.clone(), kind: DutyKind::Shift, from: midnight + 9 * HOUR, to: midnight + 17 * HOUR });
        }
    }
    out
}

/// The start of the leave block `day` falls in, when the grid's worker takes it.
fn leave_block(code: &str, seed: u64, day: i64) -> Option<i64> {
    let block = day.div_euclid(LEAVE_DAYS);
    (hash(code, seed ^ 0x1ea7e ^ (block as u64).wrapping_mul(0x9e37_79b9)) % 25 == 0).then(|| block * LEAVE_DAYS * DAY_MS - CST_OFFSET_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CalendarConfig;
    use crate::city::shaoxing;
    use app::duty::DutyStatus;
    use app::model::{local_day, parse_day};
    use engine::Engine;
    use std::sync::Arc;

    const MIN: i64 = 60_000;

    fn at(day: &str, hh: i64, mm: i64) -> i64 {
        parse_day(day).unwrap() + hh * HOUR + mm * MIN
    }

    /// An engine holding the plan of the days around `t`.
    fn engine_at(calendar: &Calendar, t: i64) -> Engine {
        let tree = Arc::new(RegionTree::new(shaoxing::build()).unwrap());
        let mut e = Engine::new(tree.clone());
        let today = local_day(t);
        let lines: Vec<Duty> = (today - 3..=today + 1).flat_map(|d| plan_day(&tree, calendar, 7, d)).collect();
        e.set_roster(lines.iter().map(Duty::line));
        e
    }

    fn calendar(holidays: &[&str], extra: &[&str]) -> Calendar {
        Calendar::new(&CalendarConfig { holidays: holidays.iter().map(|s| s.to_string()).collect(), extra_workdays: extra.iter().map(|s| s.to_string()).collect(), ..Default::default() }).unwrap()
    }

    #[test]
    fn the_roster_follows_the_working_day_lunch_nights_weekends_and_holidays() {
        let cal = calendar(&["2027-01-01"], &["2027-01-02"]);
        let count = |t: i64| engine_at(&cal, t).duty_count(0, t);
        // Wednesday 2026-12-02.
        let morning = count(at("2026-12-02", 10, 0));
        assert!(morning.grids > 4_000);
        assert!(morning.on_duty as f64 > 0.8 * morning.grids as f64, "most grids staffed at 10:00 on a working day: {morning:?}");
        assert!(morning.on_leave > 0 && (morning.on_leave as f64) < 0.08 * morning.grids as f64, "a few on leave: {morning:?}");
        assert!(morning.vacant > 0);
        assert_eq!(morning.on_duty + morning.on_leave + morning.off_duty + morning.vacant, morning.grids);
        assert_eq!(count(at("2026-12-02", 8, 29)).on_duty, 0, "before the day starts");
        assert_eq!(count(at("2026-12-02", 8, 30)).on_duty, morning.on_duty, "the shift starts on the minute");
        assert_eq!(count(at("2026-12-02", 12, 30)).on_duty, 0, "lunch break");
        let cover = count(at("2026-12-02", 15, 0));
        assert!(cover.on_duty > morning.on_duty, "neighbours cover vacant grids in the afternoon: {cover:?} vs {morning:?}");
        assert!(cover.vacant < morning.vacant);
        assert_eq!(count(at("2026-12-02", 23, 59)).on_duty, 0, "night");
        // Saturday 2026-12-05: one in each village or community with a worker present keeps duty.
        let saturday = count(at("2026-12-05", 10, 0));
        let villages = shaoxing::build().iter().filter(|r| r.level == Level::Village).count() as u32;
        assert!(saturday.on_duty > 0 && saturday.on_duty <= villages, "{saturday:?}, {villages} villages");
        assert_eq!(count(at("2026-12-05", 8, 45)).on_duty, 0, "weekend duty starts at 09:00");
        // A holiday on a Friday is a day off; the make-up Saturday after it is a working day.
        let holiday = count(at("2027-01-01", 10, 0));
        assert!(holiday.on_duty > 0 && holiday.on_duty <= villages, "元旦 is kept like a weekend: {holiday:?}");
        assert!(count(at("2027-01-02", 10, 0)).on_duty > morning.grids / 2, "调休 Saturday works");
    }

    #[test]
    fn leave_spans_days_and_the_plan_is_the_same_every_time() {
        let cal = calendar(&[], &[]);
        let tree = RegionTree::new(shaoxing::build()).unwrap();
        let day = local_day(at("2026-12-02", 10, 0));
        let plan = plan_day(&tree, &cal, 7, day);
        assert_eq!(plan, plan_day(&tree, &cal, 7, day), "deterministic");
        assert_ne!(plan, plan_day(&tree, &cal, 8, day), "the seed matters");
        let leave: Vec<&Duty> = plan.iter().filter(|d| d.kind == DutyKind::Leave).collect();
        assert!(!leave.is_empty());
        for l in &leave {
            assert_eq!(l.to - l.from, 3 * DAY_MS);
            assert!(l.from <= at("2026-12-02", 0, 0) && at("2026-12-02", 0, 0) < l.to, "today is in its block");
            assert!(!plan.iter().any(|d| d.kind == DutyKind::Shift && d.worker == l.worker && d.grid == l.grid), "no shift while on leave");
            // The same line on the next day of the block, so a restart mid-block stores nothing new.
            let next = plan_day(&tree, &cal, 7, day + 1);
            if local_day(l.to - 1) > day {
                assert!(next.contains(l));
            }
        }
        assert!(plan.iter().all(|d| d.check().is_ok()));
        // Someone on leave shows as on leave at any hour of it, lunch and night included.
        let e = engine_at(&cal, at("2026-12-02", 12, 30));
        let l = leave[0];
        let g = e.tree().find(&l.grid).unwrap();
        for t in [at("2026-12-02", 12, 30), at("2026-12-02", 23, 59), l.from, l.to - 1] {
            assert_eq!(e.grid_duty(g, t).0, DutyStatus::OnLeave);
        }
    }
}
