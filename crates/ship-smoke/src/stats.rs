//! Latency percentiles in constant memory: a log-linear histogram (32 buckets per power of
//! two, so any percentile is within about 3 % of the true value), which hours of watching at
//! hundreds of requests a second cannot grow.

use std::time::Duration;

const LINEAR: u64 = 64;
const SUB_BITS: u32 = 5; // 32 sub-buckets per power of two above LINEAR
const MAX_EXP: u32 = 40; // 2^40 µs ≈ 12 days: anything slower is clamped
const BUCKETS: usize = LINEAR as usize + ((MAX_EXP - 6 + 1) as usize) * (1 << SUB_BITS);

/// Counts of latencies (in microseconds).
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u32>,
    total: u64,
    max_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max_us: 0,
        }
    }
}

fn index(us: u64) -> usize {
    let us = us.min((1 << MAX_EXP) - 1);
    if us < LINEAR {
        return us as usize;
    }
    let exp = 63 - us.leading_zeros(); // >= 6
    let mantissa = us >> (exp - SUB_BITS); // in [32, 64)
    LINEAR as usize + ((exp - 6) as usize) * (1 << SUB_BITS) + (mantissa as usize - 32)
}

/// The middle of bucket `i`.
fn value(i: usize) -> u64 {
    if (i as u64) < LINEAR {
        return i as u64;
    }
    let k = i - LINEAR as usize;
    let exp = (k >> SUB_BITS) as u32 + 6;
    let mantissa = (k & ((1 << SUB_BITS) - 1)) as u64 + 32;
    let width = 1u64 << (exp - SUB_BITS);
    mantissa * width + width / 2
}

impl Histogram {
    pub fn record(&mut self, latency: Duration) {
        let us = latency.as_micros().min(u64::MAX as u128) as u64;
        self.counts[index(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
    }

    /// The bucket `latency` is counted in; a sliding window keeps these (a few bytes per
    /// distinct bucket) rather than every latency, to take them out again.
    pub fn bucket(latency: Duration) -> usize {
        index(latency.as_micros().min(u64::MAX as u128) as u64)
    }

    /// Takes `n` latencies recorded earlier in `bucket` out again (for a sliding window).
    pub fn remove(&mut self, bucket: usize, n: u32) {
        if let Some(slot) = self.counts.get_mut(bucket) {
            let n = n.min(*slot);
            *slot -= n;
            self.total -= n as u64;
        }
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency below which a fraction `q` (0..=1) of the recorded ones fall.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c as u64;
            if seen >= rank {
                return Some(Duration::from_micros(value(i).min(self.max_us.max(1))));
            }
        }
        Some(Duration::from_micros(self.max_us))
    }

    /// The slowest recorded (not lowered by [`remove`](Self::remove)).
    pub fn max(&self) -> Option<Duration> {
        (self.total > 0).then(|| Duration::from_micros(self.max_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for us in [
            0u64, 1, 63, 64, 65, 100, 1000, 4095, 4096, 1_000_000, 60_000_000,
        ] {
            let i = index(us);
            assert!(i >= last, "{us}");
            last = i;
            let v = value(i);
            let err = (v as f64 - us as f64).abs() / (us.max(1) as f64);
            assert!(err <= 0.032 || us < 64, "{us} -> {v}");
        }
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p95 = h.quantile(0.95).unwrap().as_secs_f64() * 1000.0;
        assert!((p95 - 95.0).abs() < 3.0, "{p95}");
        let p50 = h.quantile(0.5).unwrap().as_secs_f64() * 1000.0;
        assert!((p50 - 50.0).abs() < 2.0, "{p50}");
        for ms in 90..=100u64 {
            h.remove(Histogram::bucket(Duration::from_millis(ms)), 1);
        }
        let p95 = h.quantile(0.95).unwrap().as_secs_f64() * 1000.0;
        assert!((p95 - 85.0).abs() < 3.0, "{p95}");
        assert_eq!(h.count(), 89);
    }
}
