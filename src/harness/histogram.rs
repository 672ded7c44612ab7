//! A log-scale histogram of durations in milliseconds: constant memory whatever the number of
//! calls, percentiles within 1 %.

/// Values below this (ms) share the first bucket.
const FLOOR_MS: f64 = 0.01;
/// Each bucket is 1 % wider than the previous.
const GROWTH: f64 = 1.01;
/// Buckets up to FLOOR_MS · GROWTH^BUCKETS ≈ 10 000 s; longer values share the last one.
const BUCKETS: usize = 2100;

/// The histogram (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct Histogram {
    counts: Vec<u32>,
    total: u64,
    max: f64,
    sum: f64,
}

impl Histogram {
    pub(super) fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0.0,
            sum: 0.0,
        }
    }

    fn bucket(value: f64) -> usize {
        if value <= FLOOR_MS || !value.is_finite() {
            return 0;
        }
        let index = ((value / FLOOR_MS).ln() / GROWTH.ln()).floor();
        (index as usize).min(BUCKETS - 1)
    }

    /// The upper edge of bucket `index`.
    fn upper(index: usize) -> f64 {
        FLOOR_MS * GROWTH.powi(i32::try_from(index + 1).unwrap_or(i32::MAX))
    }

    pub(super) fn add(&mut self, value_ms: f64) {
        let value = if value_ms.is_finite() {
            value_ms.max(0.0)
        } else {
            0.0
        };
        if let Some(count) = self.counts.get_mut(Self::bucket(value)) {
            *count = count.saturating_add(1);
        }
        self.total += 1;
        self.sum += value;
        self.max = self.max.max(value);
    }

    pub(super) fn count(&self) -> u64 {
        self.total
    }

    pub(super) fn max(&self) -> f64 {
        self.max
    }

    pub(super) fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum / self.total as f64
        }
    }

    /// The `q` quantile (0–1): the upper edge of the bucket holding it, never above the max.
    pub(super) fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (index, count) in self.counts.iter().enumerate() {
            seen += u64::from(*count);
            if seen >= rank {
                return Self::upper(index).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_one_percent() {
        let mut h = Histogram::new();
        for v in 1..=1000 {
            h.add(f64::from(v));
        }
        assert_eq!(h.count(), 1000);
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile(q);
            assert!((got - want).abs() / want <= 0.011, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.quantile(1.0), 1000.0);
        assert_eq!(h.max(), 1000.0);
        assert!((h.mean() - 500.5).abs() < 1e-9);
    }

    #[test]
    fn odd_values_do_not_panic() {
        let mut h = Histogram::new();
        for v in [f64::NAN, -3.0, 0.0, 1e12, f64::INFINITY] {
            h.add(v);
        }
        assert_eq!(h.count(), 5);
        assert!(h.quantile(0.99) <= h.max());
        assert_eq!(Histogram::new().quantile(0.5), 0.0);
    }
}
