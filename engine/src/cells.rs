//! Per-day counters of the rollup regions (the city, its districts and towns), so that a period's
//! figures are sums of days instead of a pass over its cases. Villages keep the total slot's counters
//! only ("slim" cells): enough for a town's breakdown by village, a few KiB a village, while a
//! village's own full report scans its cases. Every counter is kept per day and per
//! 32-day block (a year is 12 blocks and a few days), per slot: the total, each category, each source
//! and each department. Late closes keep their deadline and close days (what a past period's "late and
//! still open" needs), closes within 15 days of the report keep both days (the backlog by age at a
//! past midnight), stage durations go into sketches. Counts are exact integers: adding and taking back
//! instants in any order leaves the same cells.
use crate::cases::Case;
use crate::instant::{link_index, Instant, Kind};
use crate::sketch::{Dense, Merged, Sketch};
use crate::tree::RegionTree;
use app::model::{local_day, Status, DAY_MS};
use std::collections::BTreeMap;

/// The counters of a slot and day.
pub const REPORTED: usize = 0;
pub const CLOSED: usize = 1;
pub const DUE: usize = 2;
pub const ON_TIME: usize = 3;
/// Closed after the deadline, counted on the day of the close.
pub const LATE_CLOSED: usize = 4;
pub const SUPERVISED: usize = 5;
pub const ESCALATED: usize = 6;
pub const RETURNED: usize = 7;
pub const COUNTERS: usize = 8;

/// Slots: 0 the total, 1..=5 the categories, 6..=11 the sources, 12.. the departments (12: none).
pub const FIXED_SLOTS: usize = 12;
pub const LINKS: usize = 49;
pub const MEDIATION: usize = 12;
/// Duration sketches per status: the time spent in each of the six a case leaves, and in the slot of
/// Closed (which nothing leaves) the time from report to close.
pub const STATUSES: usize = 7;
/// Closes this soon after the report keep both days (the backlog's buckets reach 14 days).
const YOUNG_DAYS: i64 = 15;
const BLOCK: i64 = 32;
pub const HOUR_MS: i64 = 3_600_000;

/// Hours since 1970-01-01 00:00 in Asia/Shanghai (day `d`'s hours are `24 d .. 24 d + 24`).
pub fn local_hour(ms: i64) -> i64 {
    (ms + app::model::CST_OFFSET_MS).div_euclid(HOUR_MS)
}

/// The slots a case counts in.
pub fn slots_of(c: &Case) -> [usize; 4] {
    [0, 1 + c.category.index(), 6 + source_index(c.source), FIXED_SLOTS + usize::from(c.department)]
}

pub fn source_index(s: app::model::Source) -> usize {
    app::model::Source::ALL.iter().position(|&x| x == s).expect("every source is listed")
}

/// A counter table over days: `stride` values a day, and the same summed per 32-day block.
#[derive(Clone, Debug, Default)]
pub struct Series {
    stride: usize,
    /// First day held (a multiple of 32) and how many days (a multiple of 32).
    base: i64,
    ndays: i64,
    days: Vec<u32>,
    blocks: Vec<u32>,
}

impl Series {
    pub fn new(stride: usize) -> Series {
        Series { stride, ..Series::default() }
    }

    fn ensure(&mut self, day: i64) {
        let first = day.div_euclid(BLOCK) * BLOCK;
        if self.ndays == 0 {
            // A year ahead, so a live server rarely grows.
            self.base = first;
            self.ndays = BLOCK * 12;
            self.days = vec![0; self.ndays as usize * self.stride];
            self.blocks = vec![0; (self.ndays / BLOCK) as usize * self.stride];
            return;
        }
        if day < self.base {
            let extra = self.base - first;
            let mut days = vec![0; extra as usize * self.stride];
            days.extend_from_slice(&self.days);
            let mut blocks = vec![0; (extra / BLOCK) as usize * self.stride];
            blocks.extend_from_slice(&self.blocks);
            (self.days, self.blocks, self.base, self.ndays) = (days, blocks, first, self.ndays + extra);
        } else if day >= self.base + self.ndays {
            let end = (first + BLOCK).max(self.base + self.ndays + BLOCK * 12);
            self.ndays = end - self.base;
            self.days.resize(self.ndays as usize * self.stride, 0);
            self.blocks.resize((self.ndays / BLOCK) as usize * self.stride, 0);
        }
    }

    pub fn add(&mut self, day: i64, offset: usize, delta: i32) {
        self.ensure(day);
        let d = (day - self.base) as usize;
        let cell = &mut self.days[d * self.stride + offset];
        *cell = cell.wrapping_add_signed(delta);
        let b = &mut self.blocks[d / BLOCK as usize * self.stride + offset];
        *b = b.wrapping_add_signed(delta);
    }

    /// Adds the values of days `[from, to)` at offsets `offset..offset+out.len()` into `out`.
    pub fn sum(&self, from: i64, to: i64, offset: usize, out: &mut [u64]) {
        let (from, to) = (from.max(self.base), to.min(self.base + self.ndays));
        let mut d = from;
        let row = |v: &[u32], i: usize, out: &mut [u64]| {
            for (o, x) in out.iter_mut().zip(&v[i * self.stride + offset..]) {
                *o += u64::from(*x);
            }
        };
        while d < to {
            let rel = d - self.base;
            if rel % BLOCK == 0 && d + BLOCK <= to {
                row(&self.blocks, (rel / BLOCK) as usize, out);
                d += BLOCK;
            } else {
                row(&self.days, rel as usize, out);
                d += 1;
            }
        }
    }

    /// Everything from the first day held up to `to`.
    pub fn prefix(&self, to: i64, offset: usize, out: &mut [u64]) {
        self.sum(self.base, to, offset, out);
    }

    /// A new layout with `stride` values a day, value `i` of each old row moved to `map(i)`.
    pub fn restride(&mut self, stride: usize, map: impl Fn(usize) -> usize) {
        let old = std::mem::replace(self, Series { stride, base: self.base, ndays: self.ndays, days: Vec::new(), blocks: Vec::new() });
        let move_rows = |v: &[u32], rows: usize| {
            let mut out = vec![0u32; rows * stride];
            for r in 0..rows {
                for i in 0..old.stride {
                    out[r * stride + map(i)] = v[r * old.stride + i];
                }
            }
            out
        };
        self.days = move_rows(&old.days, old.ndays as usize);
        self.blocks = move_rows(&old.blocks, (old.ndays / BLOCK) as usize);
    }

    pub fn stride(&self) -> usize {
        self.stride
    }

    fn save<W: std::io::Write>(&self, w: &mut crate::persist::Writer<W>) -> std::io::Result<()> {
        w.u64(self.stride as u64)?;
        w.i64(self.base)?;
        w.i64(self.ndays)?;
        for &v in &self.days {
            w.u32(v)?;
        }
        Ok(())
    }

    /// Reads the days back; the blocks are summed again from them.
    fn load<R: std::io::Read>(r: &mut crate::persist::Reader<R>, stride: usize) -> Result<Series, crate::persist::LoadError> {
        use crate::persist::LoadError;
        let (st, base, ndays) = (r.u64()? as usize, r.i64()?, r.i64()?);
        if st != stride || base.rem_euclid(BLOCK) != 0 || ndays.rem_euclid(BLOCK) != 0 || ndays < 0 || (ndays as u64).saturating_mul(stride as u64 * 4) > r.left() {
            return Err(LoadError::Corrupt("a counter table of the wrong shape".into()));
        }
        let mut days = vec![0u32; ndays as usize * stride];
        for v in days.iter_mut() {
            *v = r.u32()?;
        }
        let mut blocks = vec![0u32; (ndays / BLOCK) as usize * stride];
        for (d, row) in days.chunks(stride.max(1)).enumerate() {
            let b = d / BLOCK as usize * stride;
            for (o, v) in blocks[b..b + stride].iter_mut().zip(row) {
                *o = o.wrapping_add(*v);
            }
        }
        Ok(Series { stride, base, ndays, days, blocks })
    }

    /// The value at `day` and `offset` (0 outside the days held).
    pub fn get(&self, day: i64, offset: usize) -> u32 {
        if day < self.base || day >= self.base + self.ndays {
            return 0;
        }
        self.days[(day - self.base) as usize * self.stride + offset]
    }

    /// The first day with a value that differs from `other`'s, whatever days either holds.
    pub fn first_difference(&self, other: &Series) -> Option<(i64, usize, u32, u32)> {
        let from = self.base.min(other.base);
        let to = (self.base + self.ndays).max(other.base + other.ndays);
        let stride = self.stride.max(other.stride);
        for day in from..to {
            for off in 0..stride {
                let (a, b) = (if off < self.stride { self.get(day, off) } else { 0 }, if off < other.stride { other.get(day, off) } else { 0 });
                if a != b {
                    return Some((day, off, a, b));
                }
            }
        }
        None
    }
}

/// One rollup region's cells.
#[derive(Clone, Debug, Default)]
pub struct NodeCells {
    /// Every slot, transitions, durations, mediation; false: the total slot's counters only.
    pub full: bool,
    /// Per day, per slot, the `COUNTERS`.
    pub counts: Series,
    /// Per day, transitions by (from, to) as `link_index`.
    pub links: Series,
    /// Per day, per tier, attempts and settled.
    pub mediation: Series,
    /// Per day and per 32-day block, time spent in each status before leaving it.
    pub stays: BTreeMap<i64, Vec<Sketch>>,
    pub stay_blocks: BTreeMap<i64, Vec<Dense>>,
    /// Per slot: (deadline day, close day) → closes after the deadline.
    pub late: Vec<BTreeMap<(i64, i64), u32>>,
    /// (report day, close day) → cases closed within `YOUNG_DAYS` of their report.
    pub young: BTreeMap<(i64, i64), u32>,
    /// The total slot's counters per hour: a comparison period that ends inside a day (环比, 同比,
    /// 较昨日 at the same time of day) sums that day's whole hours instead of scanning its cases.
    pub hours: Series,
    /// (close hour, deadline day) → closes after the deadline, the total slot's.
    pub late_hours: BTreeMap<(i64, i64), u32>,
}

fn bump<K: Ord>(m: &mut BTreeMap<K, u32>, k: K, sign: i32) {
    use std::collections::btree_map::Entry;
    match m.entry(k) {
        Entry::Vacant(v) => {
            v.insert(0u32.wrapping_add_signed(sign));
        }
        // Drop entries that come back to zero, so cells built in any order compare equal.
        Entry::Occupied(mut o) => {
            let n = o.get().wrapping_add_signed(sign);
            if n == 0 {
                o.remove();
            } else {
                *o.get_mut() = n;
            }
        }
    }
}

fn save_map<W: std::io::Write, K: Copy>(w: &mut crate::persist::Writer<W>, m: &BTreeMap<K, u32>, key: impl Fn(K) -> (i64, i64)) -> std::io::Result<()> {
    w.u64(m.len() as u64)?;
    for (&k, &n) in m {
        let (a, b) = key(k);
        w.i64(a)?;
        w.i64(b)?;
        w.u32(n)?;
    }
    Ok(())
}

fn load_map<R: std::io::Read>(r: &mut crate::persist::Reader<R>) -> Result<BTreeMap<(i64, i64), u32>, crate::persist::LoadError> {
    let mut m = BTreeMap::new();
    for _ in 0..r.count(20)? {
        m.insert((r.i64()?, r.i64()?), r.u32()?);
    }
    Ok(m)
}

impl NodeCells {
    fn save<W: std::io::Write>(&self, w: &mut crate::persist::Writer<W>) -> std::io::Result<()> {
        self.counts.save(w)?;
        self.links.save(w)?;
        self.mediation.save(w)?;
        w.u64(self.stays.len() as u64)?;
        for (&day, v) in &self.stays {
            w.i64(day)?;
            for sk in v {
                w.u64(sk.buckets().len() as u64)?;
                for &(b, n) in sk.buckets() {
                    w.u16(b)?;
                    w.u32(n)?;
                }
            }
        }
        w.u64(self.late.len() as u64)?;
        for m in &self.late {
            save_map(w, m, |k| k)?;
        }
        save_map(w, &self.young, |k| k)?;
        self.hours.save(w)?;
        save_map(w, &self.late_hours, |k| k)
    }

    fn load<R: std::io::Read>(r: &mut crate::persist::Reader<R>, slots: usize, full: bool) -> Result<NodeCells, crate::persist::LoadError> {
        use crate::persist::LoadError;
        let mut n = NodeCells {
            full,
            counts: Series::load(r, slots * COUNTERS)?,
            links: Series::load(r, LINKS)?,
            mediation: Series::load(r, MEDIATION)?,
            ..NodeCells::default()
        };
        for _ in 0..r.count(8 + STATUSES as u64 * 8)? {
            let day = r.i64()?;
            let mut v = Vec::with_capacity(STATUSES);
            for _ in 0..STATUSES {
                // Sized from the count read: pushing one by one left up to half of a million small
                // vectors unused (114 MB at a city-year).
                let nb = r.count(6)?;
                let mut buckets = Vec::with_capacity(nb);
                let mut last = None;
                for _ in 0..nb {
                    let (b, c) = (r.u16()?, r.u32()?);
                    if last.is_some_and(|l| l >= b) || c == 0 {
                        return Err(LoadError::Corrupt("a duration sketch out of order".into()));
                    }
                    last = Some(b);
                    buckets.push((b, c));
                }
                v.push(Sketch::from_buckets(buckets));
            }
            // The 32-day blocks are the days summed again.
            let blocks = n.stay_blocks.entry(day.div_euclid(BLOCK)).or_insert_with(|| vec![Dense::default(); STATUSES]);
            for (d, sk) in blocks.iter_mut().zip(&v) {
                for &(b, c) in sk.buckets() {
                    d.add_bucket(b, c as i32);
                }
            }
            n.stays.insert(day, v);
        }
        let nlate = r.count(8)?;
        if nlate != slots {
            return Err(LoadError::Corrupt("late closes for another number of slots".into()));
        }
        for _ in 0..nlate {
            n.late.push(load_map(r)?);
        }
        n.young = load_map(r)?;
        n.hours = Series::load(r, COUNTERS)?;
        n.late_hours = load_map(r)?;
        Ok(n)
    }

    fn new(slots: usize, full: bool) -> NodeCells {
        NodeCells {
            full,
            counts: Series::new(slots * COUNTERS),
            links: Series::new(LINKS),
            mediation: Series::new(MEDIATION),
            late: vec![BTreeMap::new(); slots],
            hours: Series::new(COUNTERS),
            ..NodeCells::default()
        }
    }

    /// A duration into the day's sketch of `status` (and its block's).
    fn stay(&mut self, day: i64, status: usize, bucket: u16, sign: i32) {
        let v = self.stays.entry(day).or_insert_with(|| vec![Sketch::default(); STATUSES]);
        v[status].add_bucket(bucket, sign);
        if v.iter().all(Sketch::is_empty) {
            self.stays.remove(&day);
        }
        let block = day.div_euclid(BLOCK);
        let v = self.stay_blocks.entry(block).or_insert_with(|| vec![Dense::default(); STATUSES]);
        v[status].add_bucket(bucket, sign);
        if sign < 0 && v.iter().all(Dense::is_empty) {
            self.stay_blocks.remove(&block);
        }
    }

    /// `bucket`: the stay's sketch bucket, for a transition (worked out once for every region above).
    fn apply(&mut self, c: &Case, slots: &[usize; 4], i: &Instant, bucket: u16, sign: i32) {
        if !self.full {
            return self.apply_total(i, sign);
        }
        let (day, hour) = (local_day(i.at), local_hour(i.at));
        let count = |this: &mut NodeCells, k: usize| {
            for &s in slots {
                this.counts.add(day, s * COUNTERS + k, sign);
            }
            this.hours.add(hour, k, sign);
        };
        match i.kind {
            Kind::Reported => count(self, REPORTED),
            Kind::Closed => {
                count(self, CLOSED);
                // Nothing leaves Closed, so its sketch holds the time from report to close.
                self.stay(day, Status::Closed.index(), bucket, sign);
                if i.at - c.reported_at < YOUNG_DAYS * DAY_MS {
                    bump(&mut self.young, (local_day(c.reported_at), day), sign);
                }
            }
            Kind::Due { on_time } => {
                count(self, DUE);
                if on_time {
                    count(self, ON_TIME);
                }
            }
            Kind::LateClose { deadline } => {
                count(self, LATE_CLOSED);
                for &s in slots {
                    bump(&mut self.late[s], (local_day(deadline), day), sign);
                }
                bump(&mut self.late_hours, (hour, local_day(deadline)), sign);
            }
            Kind::Supervised => count(self, SUPERVISED),
            Kind::Escalated => count(self, ESCALATED),
            Kind::Returned => count(self, RETURNED),
            Kind::Link { from, to, .. } => {
                self.links.add(day, link_index(from, to), sign);
                self.stay(day, from.index(), bucket, sign);
            }
            Kind::Mediation { tier, settled } => {
                self.mediation.add(day, tier as usize * 2, sign);
                if settled {
                    self.mediation.add(day, tier as usize * 2 + 1, sign);
                }
            }
        }
    }

    /// The total slot's counters and late closes: what slim cells keep.
    fn apply_total(&mut self, i: &Instant, sign: i32) {
        let day = local_day(i.at);
        let k = match i.kind {
            Kind::Reported => REPORTED,
            Kind::Closed => CLOSED,
            Kind::Due { on_time } => {
                if on_time {
                    self.counts.add(day, ON_TIME, sign);
                }
                DUE
            }
            Kind::LateClose { deadline } => {
                bump(&mut self.late[0], (local_day(deadline), day), sign);
                LATE_CLOSED
            }
            Kind::Supervised => SUPERVISED,
            Kind::Escalated => ESCALATED,
            Kind::Returned => RETURNED,
            Kind::Link { .. } | Kind::Mediation { .. } => return,
        };
        self.counts.add(day, k, sign);
    }

    /// The counters of `slot` over days `[from, to)`.
    pub fn sums(&self, slot: usize, from: i64, to: i64) -> [u64; COUNTERS] {
        let mut out = [0u64; COUNTERS];
        if slot * COUNTERS < self.counts.stride() {
            self.counts.sum(from, to, slot * COUNTERS, &mut out);
        }
        out
    }

    /// The counters of `slot` over every day before `to`.
    pub fn before(&self, slot: usize, to: i64) -> [u64; COUNTERS] {
        let mut out = [0u64; COUNTERS];
        if slot * COUNTERS < self.counts.stride() {
            self.counts.prefix(to, slot * COUNTERS, &mut out);
        }
        out
    }

    /// Closes after the deadline of cases due in days `[from, to)`, closed before day `to`.
    pub fn late_within(&self, slot: usize, from: i64, to: i64) -> u64 {
        let Some(m) = self.late.get(slot) else { return 0 };
        m.range((from, i64::MIN)..(to, i64::MIN)).filter(|((_, c), _)| *c < to).map(|(_, n)| u64::from(*n)).sum()
    }

    /// The total slot's counters over hours `[from, to)`.
    pub fn hour_sums(&self, from: i64, to: i64) -> [u64; COUNTERS] {
        let mut out = [0u64; COUNTERS];
        self.hours.sum(from, to, 0, &mut out);
        out
    }

    /// Closes after the deadline in hours `[from, to)` of cases due from day `first` on.
    pub fn late_in_hours(&self, first: i64, from: i64, to: i64) -> u64 {
        self.late_hours.range((from, i64::MIN)..(to, i64::MIN)).filter(|((_, d), _)| *d >= first).map(|(_, n)| u64::from(*n)).sum()
    }

    /// Cases reported in days `[from, to)` and closed before day `before`, within `YOUNG_DAYS`.
    pub fn young_closed(&self, from: i64, to: i64, before: i64) -> u64 {
        self.young.range((from, i64::MIN)..(to, i64::MIN)).filter(|((_, c), _)| *c < before).map(|(_, n)| u64::from(*n)).sum()
    }

    pub fn links(&self, from: i64, to: i64) -> [u64; LINKS] {
        let mut out = [0u64; LINKS];
        self.links.sum(from, to, 0, &mut out);
        out
    }

    pub fn mediation(&self, from: i64, to: i64) -> [u64; MEDIATION] {
        let mut out = [0u64; MEDIATION];
        self.mediation.sum(from, to, 0, &mut out);
        out
    }

    /// Stage durations of days `[from, to)`, merged per status.
    pub fn stays(&self, from: i64, to: i64, out: &mut [Merged]) {
        let mut d = from;
        while d < to {
            if d.rem_euclid(BLOCK) == 0 && d + BLOCK <= to {
                if let Some(v) = self.stay_blocks.get(&d.div_euclid(BLOCK)) {
                    v.iter().zip(out.iter_mut()).for_each(|(s, m)| m.merge_dense(s));
                }
                d += BLOCK;
            } else {
                // Skip to the next day that has anything, or the next block boundary.
                match self.stays.range(d..to.min((d.div_euclid(BLOCK) + 1) * BLOCK)).next() {
                    Some((&day, v)) => {
                        v.iter().zip(out.iter_mut()).for_each(|(s, m)| m.merge(s));
                        d = day + 1;
                    }
                    None => d = (d.div_euclid(BLOCK) + 1) * BLOCK,
                }
            }
        }
    }
}

/// The cells of every rollup region.
#[derive(Clone, Debug)]
pub struct Cells {
    /// Region index → its cells' index, for rollup regions (full cells) and villages (slim).
    of: Vec<Option<u32>>,
    nodes: Vec<NodeCells>,
    slots: usize,
}

impl Cells {
    pub fn new(tree: &RegionTree) -> Cells {
        let mut of = vec![None; tree.len()];
        let mut nodes = Vec::new();
        for (i, r) in tree.iter() {
            if tree.is_rollup(i) {
                of[i] = Some(nodes.len() as u32);
                nodes.push(NodeCells::new(FIXED_SLOTS + 1, true));
            } else if r.row.level == app::model::Level::Village {
                of[i] = Some(nodes.len() as u32);
                nodes.push(NodeCells::new(1, false));
            }
        }
        Cells { of, nodes, slots: FIXED_SLOTS + 1 }
    }

    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Makes room for `departments` departments (their names are interned elsewhere).
    pub fn ensure_departments(&mut self, departments: usize) {
        let slots = FIXED_SLOTS + departments.max(1);
        if slots <= self.slots {
            return;
        }
        for n in self.nodes.iter_mut().filter(|n| n.full) {
            n.counts.restride(slots * COUNTERS, |i| i);
            n.late.resize(slots, BTreeMap::new());
        }
        self.slots = slots;
    }

    /// The first cell in which two sets of cells differ, in words.
    pub fn difference(&self, o: &Cells, tree: &RegionTree) -> Option<String> {
        for (region, slot) in self.of.iter().enumerate() {
            let Some(i) = slot else { continue };
            let (a, b) = (&self.nodes[*i as usize], &o.nodes[*i as usize]);
            let code = &tree.get(region).row.code;
            let day = crate::diff::day_name;
            if let Some((d, off, x, y)) = a.counts.first_difference(&b.counts) {
                return Some(format!("region {code}: slot {} counter {} on {}: {x} vs {y}", off / COUNTERS, off % COUNTERS, day(d)));
            }
            if let Some((d, off, x, y)) = a.links.first_difference(&b.links) {
                return Some(format!("region {code}: transition {off} on {}: {x} vs {y}", day(d)));
            }
            if let Some((d, off, x, y)) = a.mediation.first_difference(&b.mediation) {
                return Some(format!("region {code}: mediation {off} on {}: {x} vs {y}", day(d)));
            }
            if a.stays != b.stays || a.stay_blocks != b.stay_blocks {
                let d = a.stays.keys().chain(b.stays.keys()).find(|k| a.stays.get(k) != b.stays.get(k));
                return Some(format!("region {code}: stage durations on {:?}", d.map(|d| day(*d))));
            }
            let empty = BTreeMap::new();
            for s in 0..a.late.len().max(b.late.len()) {
                if a.late.get(s).unwrap_or(&empty) != b.late.get(s).unwrap_or(&empty) {
                    return Some(format!("region {code}: late closes of slot {s}"));
                }
            }
            if a.young != b.young {
                return Some(format!("region {code}: closes soon after report"));
            }
            if let Some((h, off, x, y)) = a.hours.first_difference(&b.hours) {
                return Some(format!("region {code}: counter {off} in hour {} of {}: {x} vs {y}", h.rem_euclid(24), day(h.div_euclid(24))));
            }
            if a.late_hours != b.late_hours {
                return Some(format!("region {code}: late closes by hour"));
            }
        }
        None
    }

    pub(crate) fn save<W: std::io::Write>(&self, w: &mut crate::persist::Writer<W>) -> std::io::Result<()> {
        w.u64(self.slots as u64)?;
        w.u64(self.nodes.len() as u64)?;
        for n in &self.nodes {
            n.save(w)?;
        }
        Ok(())
    }

    /// Reads cells written by `save` for the same tree.
    pub(crate) fn load<R: std::io::Read>(r: &mut crate::persist::Reader<R>, tree: &RegionTree) -> Result<Cells, crate::persist::LoadError> {
        let mut c = Cells::new(tree);
        let slots = r.u64()? as usize;
        if !(FIXED_SLOTS + 1..=FIXED_SLOTS + usize::from(u16::MAX)).contains(&slots) || r.u64()? as usize != c.nodes.len() {
            return Err(crate::persist::LoadError::Corrupt("cells of another shape".into()));
        }
        c.slots = slots;
        for i in 0..c.nodes.len() {
            let full = c.nodes[i].full;
            c.nodes[i] = NodeCells::load(r, if full { slots } else { 1 }, full)?;
        }
        Ok(c)
    }

    /// The full cells of a rollup region.
    pub fn node(&self, region: usize) -> Option<&NodeCells> {
        self.total(region).filter(|n| n.full)
    }

    /// Cells that hold at least the total slot's counters (rollup regions and villages).
    pub fn total(&self, region: usize) -> Option<&NodeCells> {
        self.of[region].map(|i| &self.nodes[i as usize])
    }

    /// Counts (sign 1) or takes back (sign -1) one instant of `c` in every region with cells above its grid.
    pub fn apply(&mut self, tree: &RegionTree, c: &Case, i: &Instant, sign: i32) {
        let slots = slots_of(c);
        let bucket = match i.kind {
            Kind::Link { stay, .. } => crate::sketch::bucket(stay),
            Kind::Closed => crate::sketch::bucket(i.at - c.reported_at),
            _ => 0,
        };
        for a in tree.ancestors(c.grid as usize) {
            if let Some(n) = self.of[a] {
                self.nodes[n as usize].apply(c, &slots, i, bucket, sign);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_sums_any_range_through_days_and_blocks() {
        let mut s = Series::new(2);
        let mut plain = std::collections::BTreeMap::new();
        let mut h = 3u64;
        for _ in 0..3000 {
            h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let day = 20_000 + (h >> 33) as i64 % 900 - 300;
            let off = ((h >> 20) % 2) as usize;
            let delta = if h % 5 == 0 { -1 } else { 1 };
            if delta < 0 && plain.get(&(day, off)).copied().unwrap_or(0) == 0 {
                continue;
            }
            s.add(day, off, delta);
            *plain.entry((day, off)).or_insert(0i64) += i64::from(delta);
        }
        for (from, to) in [(19_600, 20_700), (20_001, 20_033), (20_032, 20_064), (19_000, 19_500), (20_100, 20_100), (20_500, 22_000)] {
            let mut out = [0u64; 2];
            s.sum(from, to, 0, &mut out);
            for off in 0..2 {
                let want: i64 = plain.iter().filter(|((d, o), _)| (from..to).contains(d) && *o == off).map(|(_, v)| v).sum();
                assert_eq!(out[off] as i64, want, "[{from}, {to}) offset {off}");
            }
        }
        let mut wider = s.clone();
        wider.restride(3, |i| i + 1);
        let mut out = [0u64; 3];
        wider.sum(19_600, 20_700, 0, &mut out);
        let mut before = [0u64; 2];
        s.sum(19_600, 20_700, 0, &mut before);
        assert_eq!(out, [0, before[0], before[1]]);
    }
}
