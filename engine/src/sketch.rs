//! A mergeable quantile sketch for durations: values fall into logarithmic buckets of ratio γ = 1.02,
//! so the value a quantile reports is within 1 % of the true value at that rank (the bucket's centre,
//! 2γ^i/(γ+1), is within (γ-1)/(γ+1) < 0.99 % of anything in the bucket). Counts are exact integers, so
//! adding and removing values in any order gives the same sketch, and sketches of days add up to the
//! sketch of a period.
pub const GAMMA: f64 = 1.02;
/// The guaranteed bound on the relative error of a reported quantile (before rounding to a millisecond).
pub const RELATIVE_ERROR: f64 = (GAMMA - 1.0) / (GAMMA + 1.0);

/// Sparse buckets, sorted: (bucket, count).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sketch {
    buckets: Vec<(u16, u32)>,
}

/// Bucket 0 holds 0 ms (and anything negative); bucket i ≥ 1 holds (γ^(i-2), γ^(i-1)].
pub fn bucket(ms: i64) -> u16 {
    if ms <= 0 {
        return 0;
    }
    // γ^k for k = 0.. up to beyond any duration in milliseconds: a lookup, not a logarithm per value.
    static UPPER: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let upper = UPPER.get_or_init(|| (0..=2300).map(|k| GAMMA.powi(k)).collect());
    (1 + upper.partition_point(|&u| u < ms as f64)).min(usize::from(u16::MAX)) as u16
}

/// The value a bucket stands for.
pub fn centre(b: u16) -> i64 {
    if b == 0 {
        return 0;
    }
    let upper = GAMMA.powi(i32::from(b) - 1);
    (2.0 * upper / (GAMMA + 1.0)).round() as i64
}

impl Sketch {
    pub fn add(&mut self, ms: i64, n: i32) {
        self.add_bucket(bucket(ms), n);
    }

    pub fn add_bucket(&mut self, b: u16, n: i32) {
        match self.buckets.binary_search_by_key(&b, |x| x.0) {
            Ok(i) => {
                let c = (self.buckets[i].1 as i64 + i64::from(n)).max(0) as u32;
                if c == 0 {
                    self.buckets.remove(i);
                } else {
                    self.buckets[i].1 = c;
                }
            }
            Err(i) if n > 0 => self.buckets.insert(i, (b, n as u32)),
            Err(_) => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    pub fn buckets(&self) -> &[(u16, u32)] {
        &self.buckets
    }

    pub fn from_buckets(buckets: Vec<(u16, u32)>) -> Sketch {
        Sketch { buckets }
    }
}

/// The same sketch kept dense (a count per bucket): for the long-lived, busy sketches of 32-day blocks,
/// where adding to a sorted list would shift it over and over.
#[derive(Clone, Debug, Default)]
pub struct Dense {
    counts: Vec<u32>,
}

impl PartialEq for Dense {
    /// The same counts, however far each was grown.
    fn eq(&self, o: &Dense) -> bool {
        let n = self.counts.len().max(o.counts.len());
        (0..n).all(|i| self.counts.get(i).copied().unwrap_or(0) == o.counts.get(i).copied().unwrap_or(0))
    }
}

impl Dense {
    pub fn add(&mut self, ms: i64, n: i32) {
        self.add_bucket(bucket(ms), n);
    }

    pub fn add_bucket(&mut self, b: u16, n: i32) {
        let b = usize::from(b);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] = self.counts[b].wrapping_add_signed(n);
    }

    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|&c| c == 0)
    }
}

/// A dense accumulator to merge many sketches quickly, then read quantiles.
#[derive(Clone, Debug, Default)]
pub struct Merged {
    counts: Vec<u64>,
    total: u64,
}

impl Merged {
    pub fn merge(&mut self, s: &Sketch) {
        for &(b, n) in &s.buckets {
            self.add_bucket(b, u64::from(n));
        }
    }

    pub fn merge_dense(&mut self, d: &Dense) {
        if self.counts.len() < d.counts.len() {
            self.counts.resize(d.counts.len(), 0);
        }
        for (o, &n) in self.counts.iter_mut().zip(&d.counts) {
            *o += u64::from(n);
            self.total += u64::from(n);
        }
    }

    pub fn add_bucket(&mut self, b: u16, n: u64) {
        let b = usize::from(b);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += n;
        self.total += n;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The nearest-rank quantile (the value at rank ⌈p·n⌉), within `RELATIVE_ERROR`; 0 when empty.
    pub fn quantile(&self, p: f64) -> i64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((p * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (b, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return centre(b as u16);
            }
        }
        centre((self.counts.len() - 1) as u16)
    }
}

/// The exact nearest-rank quantile of `values` (the value at rank ⌈p·n⌉), 0 when empty. It reorders
/// them: a selection, not a sort (a village's year holds thousands of stays, and a sort of them was a
/// tenth of its report).
pub fn exact(values: &mut [i64], p: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    *values.select_nth_unstable(rank - 1).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lies_in_its_bucket_and_the_centre_is_within_one_percent() {
        let mut h = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..200_000u64 {
            h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // From 1 ms to about 3 years, log-uniform.
            let ms = (10f64.powf((h >> 11) as f64 / (1u64 << 53) as f64 * 11.0)) as i64 + (i % 3) as i64;
            let b = bucket(ms);
            let (lo, hi) = (GAMMA.powi(i32::from(b) - 2), GAMMA.powi(i32::from(b) - 1));
            assert!(ms as f64 > lo && ms as f64 <= hi * (1.0 + 1e-12), "{ms} in bucket {b}: ({lo}, {hi}]");
            let c = centre(b);
            assert!((c - ms).abs() as f64 <= RELATIVE_ERROR * ms as f64 + 0.5, "{ms}: centre {c}");
        }
        assert_eq!((bucket(0), bucket(-5), centre(0)), (0, 0, 0));
        assert_eq!(centre(bucket(1)), 1);
    }

    /// Property: the selected quantile is the sorted values' value at rank ⌈p·n⌉, with repeats and in
    /// any order, asked twice of the same values (a report asks the median, then p90).
    #[test]
    fn the_exact_quantile_is_the_value_at_its_rank() {
        let mut h = 11u64;
        for n in 1..300usize {
            let values: Vec<i64> = (0..n)
                .map(|_| {
                    h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((h >> 33) % (n as u64 / 2 + 1)) as i64
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let mut v = values.clone();
            for p in [0.5, 0.9, 0.0, 1.0] {
                let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
                assert_eq!(exact(&mut v, p), sorted[rank - 1], "n {n}, p{p}");
            }
        }
        assert_eq!(exact(&mut [], 0.5), 0);
    }

    /// Property: merged sketches answer median and p90 within the bound of the exact nearest-rank value,
    /// whatever the order values were added and removed in.
    #[test]
    fn quantiles_of_merged_sketches_are_within_the_bound() {
        let mut h = 7u64;
        let mut next = || {
            h = h.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            h >> 11
        };
        for round in 0..200 {
            let n = 1 + (next() % 500) as usize;
            let values: Vec<i64> = (0..n).map(|_| 60_000 + (next() % 86_400_000 * (1 + round % 5)) as i64).collect();
            let mut days = vec![Sketch::default(); 7];
            for (i, &v) in values.iter().enumerate() {
                days[i % 7].add(v, 1);
            }
            // Add and take back a value that was never meant to stay.
            days[3].add(123_456, 1);
            days[3].add(123_456, -1);
            let mut m = Merged::default();
            for d in &days {
                m.merge(d);
            }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            for p in [0.5, 0.9] {
                let (est, want) = (m.quantile(p), exact(&mut sorted, p));
                assert!((est - want).abs() as f64 <= RELATIVE_ERROR * want as f64 + 0.5, "round {round}, p{p}: {est} vs {want}");
            }
            assert_eq!(m.count(), n as u64);
        }
    }
}
