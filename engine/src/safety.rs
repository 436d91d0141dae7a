//! Safety indicators from observation feeds (video channels, alarms, criminal cases, surveys) and from
//! petitions, per region and day, kept for a year and a month so a figure can be set against the period
//! before it (环比) and the same period a year earlier (同比).
use crate::tree::RegionTree;
use app::model::{local_day, Indicator};

/// One measurement for an indicator, at a region (a grid or any region above it).
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub indicator: Indicator,
    pub region: String,
    pub at: i64,
    pub value: f64,
}
use std::collections::{BTreeMap, BTreeSet, HashMap};

const KEEP_DAYS: i64 = 400;

/// What a daily figure measures: an indicator, or petitions received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    Observed(Indicator),
    Petitions,
}

impl Measure {
    fn code(self) -> u8 {
        match self {
            Measure::Petitions => 0,
            Measure::Observed(i) => 1 + Indicator::ALL.iter().position(|&x| x == i).expect("every indicator is listed") as u8,
        }
    }

    fn from_code(c: u8) -> Result<Measure, crate::persist::LoadError> {
        match c {
            0 => Ok(Measure::Petitions),
            c => Indicator::ALL.get(usize::from(c) - 1).map(|&i| Measure::Observed(i)).ok_or_else(|| crate::persist::LoadError::Corrupt(format!("unknown measure {c}"))),
        }
    }

    /// Rates are averaged over a period; counts are summed.
    fn is_rate(self) -> bool {
        matches!(self, Measure::Observed(i) if i.is_rate())
    }
}

/// A figure over a window of days, with the same window before it and a year earlier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trend {
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub year_ago: Option<f64>,
}

#[derive(Default)]
pub struct Safety {
    /// (region, measure, day) → (sum, count), for the observation's region and each one above it.
    days: HashMap<(usize, Measure, i64), (f64, u32)>,
    /// Each video channel's newest state: (feed, channel) → (version, region, online).
    channels: HashMap<(String, String), (i64, usize, bool)>,
    /// The newest version of every other record: a revised figure (a day's count corrected later)
    /// replaces what it revises instead of adding to it. (feed, id) → (version, region, measure, day, value).
    latest: HashMap<(String, String), (i64, usize, Measure, i64, f64)>,
    /// Which feeds deliver each measure, and the newest observation time from them.
    sources: BTreeMap<Measure, (BTreeSet<String>, i64)>,
}

impl Safety {
    fn add(&mut self, tree: &RegionTree, region: usize, m: Measure, day: i64, value: f64) {
        for r in tree.ancestors(region) {
            let e = self.days.entry((r, m, day)).or_default();
            e.0 += value;
            e.1 += 1;
        }
    }

    fn remove(&mut self, tree: &RegionTree, region: usize, m: Measure, day: i64, value: f64) {
        for r in tree.ancestors(region) {
            if let Some(e) = self.days.get_mut(&(r, m, day)) {
                e.0 -= value;
                e.1 = e.1.saturating_sub(1);
                if e.1 == 0 {
                    self.days.remove(&(r, m, day));
                }
            }
        }
    }

    pub fn observe(&mut self, tree: &RegionTree, feed: &str, id: &str, version: i64, o: &Observation) {
        let Some(region) = tree.find(&o.region) else { return };
        let m = Measure::Observed(o.indicator);
        let day = local_day(o.at);
        if o.indicator == Indicator::VideoOnline {
            // Channel states are samples: every report counts towards the period's uptime.
            self.add(tree, region, m, day, o.value);
        } else {
            match self.latest.get(&(feed.to_string(), id.to_string())).copied() {
                Some((v, ..)) if v >= version => return,
                Some((_, r, pm, pd, pv)) => self.remove(tree, r, pm, pd, pv),
                None => {}
            }
            self.latest.insert((feed.to_string(), id.to_string()), (version, region, m, day, o.value));
            self.add(tree, region, m, day, o.value);
        }
        let s = self.sources.entry(m).or_default();
        s.0.insert(feed.to_string());
        s.1 = s.1.max(o.at);
        if o.indicator == Indicator::VideoOnline {
            let slot = self.channels.entry((feed.to_string(), id.to_string())).or_insert((i64::MIN, region, false));
            if version > slot.0 {
                *slot = (version, region, o.value >= 0.5);
            }
        }
    }

    pub fn petition(&mut self, tree: &RegionTree, feed: &str, grid: usize, at: i64) {
        self.add(tree, grid, Measure::Petitions, local_day(at), 1.0);
        let s = self.sources.entry(Measure::Petitions).or_default();
        s.0.insert(feed.to_string());
        s.1 = s.1.max(at);
    }

    /// Drops days older than the year-ago window needs.
    pub fn trim(&mut self, today: i64) {
        self.days.retain(|&(_, _, d), _| d > today - KEEP_DAYS);
        self.latest.retain(|_, l| l.3 > today - KEEP_DAYS);
    }

    fn window(&self, region: usize, m: Measure, last_day: i64, days: i64) -> Option<f64> {
        let (mut sum, mut n) = (0.0, 0u32);
        for d in last_day - days + 1..=last_day {
            if let Some(&(s, c)) = self.days.get(&(region, m, d)) {
                sum += s;
                n += c;
            }
        }
        match (n, m.is_rate()) {
            (0, true) => None,
            (_, true) => Some(sum / f64::from(n)),
            (_, false) => Some(sum),
        }
    }

    /// The last `days` days up to the newest day the measure's feeds have delivered (never after
    /// `today`), the `days` before them, and the same days a year earlier. A daily feed that has not yet
    /// sent today's figure is thus compared over whole days on both sides (30 against 30, not 29 against
    /// 30); a live feed's window ends today. A count with nothing observed in a window reads 0 only if
    /// the measure has a source at all.
    pub fn trend(&self, region: usize, m: Measure, today: i64, days: i64) -> Trend {
        let Some(source) = self.sources.get(&m) else {
            return Trend::default();
        };
        let last = local_day(source.1).min(today);
        Trend {
            value: self.window(region, m, last, days),
            previous: self.window(region, m, last - days, days),
            year_ago: self.window(region, m, last - 365, days),
        }
    }

    /// Feeds that deliver a measure, and the newest observation time from them.
    pub fn sources(&self, m: Measure) -> Option<&(BTreeSet<String>, i64)> {
        self.sources.get(&m)
    }

    /// The first figure in which two sets of indicators differ, or None. Sums of rates may differ in
    /// their last bits with the order they were added in, so sums are compared to a relative 1e-9.
    pub fn difference(&self, o: &Safety, tree: &RegionTree) -> Option<String> {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        let mut keys: Vec<&(usize, Measure, i64)> = self.days.keys().chain(o.days.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let (a, b) = (self.days.get(k), o.days.get(k));
            let same = match (a, b) {
                (Some(x), Some(y)) => x.1 == y.1 && close(x.0, y.0),
                (None, None) => true,
                _ => false,
            };
            if !same {
                let r = &tree.get(k.0).row;
                return Some(format!("region {} {}: {:?} on {}: {a:?} vs {b:?}", r.code, r.name, k.1, crate::diff::day_name(k.2)));
            }
        }
        if self.channels != o.channels {
            return Some(format!("video channels: {} vs {}", self.channels.len(), o.channels.len()));
        }
        if self.sources != o.sources {
            return Some(format!("sources: {:?} vs {:?}", self.sources, o.sources));
        }
        None
    }

    pub(crate) fn save<W: std::io::Write>(&self, w: &mut crate::persist::Writer<W>) -> std::io::Result<()> {
        let mut days: Vec<_> = self.days.iter().collect();
        days.sort_by(|a, b| a.0.cmp(b.0));
        w.u64(days.len() as u64)?;
        for ((r, m, d), (sum, n)) in days {
            w.u32(*r as u32)?;
            w.u8(m.code())?;
            w.i64(*d)?;
            w.f64(*sum)?;
            w.u32(*n)?;
        }
        let mut channels: Vec<_> = self.channels.iter().collect();
        channels.sort_by(|a, b| a.0.cmp(b.0));
        w.u64(channels.len() as u64)?;
        for ((feed, id), (version, r, online)) in channels {
            w.str(feed)?;
            w.str(id)?;
            w.i64(*version)?;
            w.u32(*r as u32)?;
            w.u8(u8::from(*online))?;
        }
        let mut latest: Vec<_> = self.latest.iter().collect();
        latest.sort_by(|a, b| a.0.cmp(b.0));
        w.u64(latest.len() as u64)?;
        for ((feed, id), (version, r, m, d, v)) in latest {
            w.str(feed)?;
            w.str(id)?;
            w.i64(*version)?;
            w.u32(*r as u32)?;
            w.u8(m.code())?;
            w.i64(*d)?;
            w.f64(*v)?;
        }
        w.u64(self.sources.len() as u64)?;
        for (m, (feeds, at)) in &self.sources {
            w.u8(m.code())?;
            w.u64(feeds.len() as u64)?;
            for f in feeds {
                w.str(f)?;
            }
            w.i64(*at)?;
        }
        Ok(())
    }

    pub(crate) fn load<R: std::io::Read>(r: &mut crate::persist::Reader<R>, tree: &RegionTree) -> Result<Safety, crate::persist::LoadError> {
        use crate::persist::LoadError;
        let region = |x: u32| if (x as usize) < tree.len() { Ok(x as usize) } else { Err(LoadError::Corrupt(format!("safety figure of region {x}"))) };
        let mut s = Safety::default();
        // Each table sized once from its count: growing by doubling leaves the freed tables behind in
        // the heap (90 MB of rehashing at a city-year).
        let n = r.count(25)?;
        s.days.reserve(n);
        for _ in 0..n {
            let (reg, m, d, sum, n) = (region(r.u32()?)?, Measure::from_code(r.u8()?)?, r.i64()?, r.f64()?, r.u32()?);
            s.days.insert((reg, m, d), (sum, n));
        }
        let n = r.count(21)?;
        s.channels.reserve(n);
        for _ in 0..n {
            let (feed, id, version, reg, online) = (r.str()?, r.str()?, r.i64()?, region(r.u32()?)?, r.u8()? == 1);
            s.channels.insert((feed, id), (version, reg, online));
        }
        let n = r.count(37)?;
        s.latest.reserve(n);
        for _ in 0..n {
            let (feed, id, version, reg, m, d, v) = (r.str()?, r.str()?, r.i64()?, region(r.u32()?)?, Measure::from_code(r.u8()?)?, r.i64()?, r.f64()?);
            s.latest.insert((feed, id), (version, reg, m, d, v));
        }
        for _ in 0..r.count(17)? {
            let m = Measure::from_code(r.u8()?)?;
            let mut feeds = BTreeSet::new();
            for _ in 0..r.count(4)? {
                feeds.insert(r.str()?);
            }
            s.sources.insert(m, (feeds, r.i64()?));
        }
        Ok(s)
    }

    /// Video channels (online, total) in a region now.
    pub fn channels(&self, tree: &RegionTree, region: usize) -> (u32, u32) {
        self.channels.values().filter(|(_, r, _)| tree.is_within(*r, region)).fold((0, 0), |(on, all), (_, _, online)| (on + u32::from(*online), all + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Level, DAY_MS};

    /// The test tree, a district in it, and the code of a town of that district.
    fn district_and_town() -> (std::sync::Arc<RegionTree>, usize, String) {
        let tree = crate::testing::tree();
        let district = tree.find("11").unwrap();
        let town = tree.iter().find(|(i, r)| r.row.level == Level::Town && tree.is_within(*i, district)).unwrap().1.row.code.clone();
        (tree, district, town)
    }

    #[test]
    fn a_daily_feed_is_compared_over_whole_days_on_both_sides() {
        let (tree, district, town) = district_and_town();
        let mut s = Safety::default();
        let now = 1_763_688_600_000i64; // mid-morning: today's statistics have not come yet
        let today = local_day(now);
        // One criminal case a day, reported the next morning for the day before, for 400 days.
        for days_ago in 1..=400 {
            let obs = Observation { indicator: Indicator::CriminalFiled, region: town.clone(), at: now - days_ago * DAY_MS, value: 1.0 };
            s.observe(&tree, "stats", &format!("d{days_ago}"), 1, &obs);
        }
        let t = s.trend(district, Measure::Observed(Indicator::CriminalFiled), today, 30);
        assert_eq!(t, Trend { value: Some(30.0), previous: Some(30.0), year_ago: Some(30.0) }, "a steady city reads as steady");
        // Once today's figure has come, the window ends today.
        let obs = Observation { indicator: Indicator::CriminalFiled, region: town.clone(), at: now, value: 5.0 };
        s.observe(&tree, "stats", "d0", 1, &obs);
        let t = s.trend(district, Measure::Observed(Indicator::CriminalFiled), today, 30);
        assert_eq!((t.value, t.previous), (Some(34.0), Some(30.0)));
    }

    #[test]
    fn resolution_rates_and_surveys_average_while_zero_targets_count_zero() {
        let (tree, district, town) = district_and_town();
        // A second reporting unit in the district (the test tree has one town per district: a grid below it).
        let other = tree.iter().find(|(i, r)| r.row.level == Level::Grid && tree.is_within(*i, district)).unwrap().1.row.code.clone();
        let mut s = Safety::default();
        let now = 1_763_688_600_000i64;
        let today = local_day(now);
        let obs = |i, region: &str, v: f64| Observation { indicator: i, region: region.to_string(), at: now - DAY_MS, value: v };
        s.observe(&tree, "stats", "a", 1, &obs(Indicator::BacklogResolution, &town, 80.0));
        s.observe(&tree, "stats", "b", 1, &obs(Indicator::BacklogResolution, &other, 90.0));
        s.observe(&tree, "stats", "c", 1, &obs(Indicator::LawSatisfaction, &town, 95.0));
        s.observe(&tree, "stats", "d", 1, &obs(Indicator::MajorIncidents, &town, 0.0));
        s.observe(&tree, "stats", "e", 1, &obs(Indicator::HazardsFound, &town, 7.0));
        s.observe(&tree, "stats", "f", 1, &obs(Indicator::HazardsFound, &other, 5.0));
        let m = |i| Measure::Observed(i);
        assert_eq!(s.trend(district, m(Indicator::BacklogResolution), today, 30).value, Some(85.0), "a rate is averaged, not summed");
        assert_eq!(s.trend(district, m(Indicator::LawSatisfaction), today, 30).value, Some(95.0));
        assert_eq!(s.trend(district, m(Indicator::HazardsFound), today, 30).value, Some(12.0), "a count is summed");
        assert_eq!(s.trend(district, m(Indicator::MajorIncidents), today, 30).value, Some(0.0), "none reported reads 0, the aim");
        assert_eq!(s.trend(district, m(Indicator::PsychServed), today, 30).value, None, "no source: no figure, not zero");
        // The new measures survive the engine snapshot's format (codes appended after the old ones).
        let mut e = crate::Engine::new(tree.clone());
        e.safety = s;
        let mut bytes = Vec::new();
        e.save(&mut bytes, &[]).unwrap();
        let (back, _) = crate::Engine::load(tree.clone(), &bytes[..], bytes.len() as u64).unwrap();
        assert_eq!(e.safety.difference(&back.safety, &tree), None);
    }

    #[test]
    fn trends_sum_counts_average_rates_and_follow_the_newest_channel_state() {
        let (tree, district, town) = district_and_town();
        let mut s = Safety::default();
        let now = 1_763_688_600_000i64;
        let today = local_day(now);
        let obs = |i, v: f64, at| Observation { indicator: i, region: town.clone(), at, value: v };
        // Criminal cases: 3 + 2 in the last 7 days, 4 in the 7 before, 1 a year ago.
        for (days_ago, n) in [(0, 3.0), (6, 2.0), (7, 4.0), (365, 1.0)] {
            s.observe(&tree, "police", &format!("d{days_ago}"), 1, &obs(Indicator::CriminalFiled, n, now - days_ago * DAY_MS));
        }
        let t = s.trend(district, Measure::Observed(Indicator::CriminalFiled), today, 7);
        assert_eq!(t, Trend { value: Some(5.0), previous: Some(4.0), year_ago: Some(1.0) });
        assert_eq!(s.trend(tree.root(), Measure::Observed(Indicator::CriminalFiled), today, 7).value, Some(5.0), "rolled up to the city");
        // A rate is an average; without observations it is unknown, not zero.
        s.observe(&tree, "video", "c1", 1, &obs(Indicator::VideoOnline, 1.0, now));
        s.observe(&tree, "video", "c2", 1, &obs(Indicator::VideoOnline, 0.0, now));
        s.observe(&tree, "video", "c2", 3, &obs(Indicator::VideoOnline, 1.0, now));
        s.observe(&tree, "video", "c2", 2, &obs(Indicator::VideoOnline, 0.0, now - 1)); // late, older version
        let t = s.trend(district, Measure::Observed(Indicator::VideoOnline), today, 7);
        assert_eq!((t.value, t.previous), (Some(0.5), None));
        assert_eq!(s.channels(&tree, district), (2, 2), "the newest version of each channel counts");
        assert_eq!(s.trend(district, Measure::Observed(Indicator::Alarm), today, 7), Trend::default(), "no source: no figure");
        assert_eq!(s.sources(Measure::Observed(Indicator::VideoOnline)).unwrap().1, now);
        // A day's count revised upwards replaces the first figure; a late older revision changes nothing.
        s.observe(&tree, "police", "d0", 2, &obs(Indicator::CriminalFiled, 6.0, now));
        s.observe(&tree, "police", "d0", 1, &obs(Indicator::CriminalFiled, 3.0, now));
        assert_eq!(s.trend(district, Measure::Observed(Indicator::CriminalFiled), today, 7).value, Some(8.0));
    }
}
