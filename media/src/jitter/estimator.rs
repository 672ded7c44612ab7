//! Interarrival jitter (RFC 3550 §6.4.1, computed as in Appendix A.8) and the playout delay
//! target derived from it.

use std::time::{Duration, Instant};

/// Differences larger than this are a timestamp jump (a new talk-spurt after a long pause
/// with a reset clock, a restarted sender), not jitter, and are left out of the estimate.
const MAX_TRANSIT_STEP: f64 = 1.0;
/// The estimate is a running mean with gain 1/16 (RFC 3550).
const GAIN: f64 = 1.0 / 16.0;

/// Tracks jitter from packet arrival times and RTP timestamps, and the delay target.
#[derive(Debug, Clone)]
pub(super) struct DelayEstimator {
    clock_rate: f64,
    last: Option<(Instant, u32)>,
    /// Jitter estimate, seconds.
    jitter: f64,
    /// Current target, seconds.
    target: f64,
    min: f64,
    max: f64,
    factor: f64,
    /// How far the target may fall per second.
    shrink_per_second: f64,
    last_target_update: Option<Instant>,
}

impl DelayEstimator {
    pub(super) fn new(
        clock_rate: u32,
        min: Duration,
        max: Duration,
        factor: f64,
        shrink_per_second: Duration,
    ) -> Self {
        let min = min.as_secs_f64();
        let max = max.as_secs_f64().max(min);
        Self {
            clock_rate: f64::from(clock_rate.max(1)),
            last: None,
            jitter: 0.0,
            target: min,
            min,
            max,
            factor,
            shrink_per_second: shrink_per_second.as_secs_f64(),
            last_target_update: None,
        }
    }

    /// Accounts for a packet with RTP `timestamp` arriving at `now`.
    pub(super) fn on_arrival(&mut self, now: Instant, timestamp: u32) {
        if let Some((then, last_ts)) = self.last {
            // Arrival times may go backwards only if the caller's clock does: treat as 0.
            let arrival_step = now.saturating_duration_since(then).as_secs_f64();
            let ts_step = f64::from(timestamp.wrapping_sub(last_ts) as i32) / self.clock_rate;
            let d = (arrival_step - ts_step).abs();
            if d <= MAX_TRANSIT_STEP {
                self.jitter += (d - self.jitter) * GAIN;
            }
        }
        self.last = Some((now, timestamp));
    }

    /// Moves the target towards `factor × jitter` (clamped): up at once, down by at most
    /// `shrink_per_second`.
    pub(super) fn update_target(&mut self, now: Instant) {
        let wanted = (self.factor * self.jitter).clamp(self.min, self.max);
        let elapsed = self
            .last_target_update
            .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
        self.last_target_update = Some(now);
        self.target = if wanted >= self.target {
            wanted
        } else {
            (self.target - self.shrink_per_second * elapsed).max(wanted)
        };
    }

    /// The jitter estimate.
    pub(super) fn jitter(&self) -> Duration {
        Duration::from_secs_f64(self.jitter)
    }

    /// The current target delay.
    pub(super) fn target(&self) -> Duration {
        Duration::from_secs_f64(self.target)
    }

    /// Forgets the previous packet (after a stream reset), keeping the estimate.
    pub(super) fn restart(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn estimator() -> DelayEstimator {
        DelayEstimator::new(48_000, 20 * MS, 200 * MS, 4.0, 20 * MS)
    }

    #[test]
    fn regular_arrivals_have_no_jitter() {
        let t0 = crate::audio::test_epoch();
        let mut e = estimator();
        for i in 0..100u32 {
            e.on_arrival(t0 + 20 * MS * i, i * 960);
            e.update_target(t0 + 20 * MS * i);
        }
        assert!(e.jitter() < Duration::from_micros(1));
        assert_eq!(e.target(), 20 * MS);
    }

    #[test]
    fn alternating_delay_converges_to_its_step() {
        // Every other packet 10 ms late: |D| = 10 ms for every pair.
        let t0 = crate::audio::test_epoch();
        let mut e = estimator();
        for i in 0..400u32 {
            let extra = if i % 2 == 1 { 10 * MS } else { Duration::ZERO };
            e.on_arrival(t0 + 20 * MS * i + extra, i * 960);
            e.update_target(t0 + 20 * MS * i);
        }
        let j = e.jitter().as_secs_f64() * 1000.0;
        assert!((j - 10.0).abs() < 0.1, "jitter {j} ms");
        assert!((e.target().as_secs_f64() * 1000.0 - 40.0).abs() < 0.5);
    }

    #[test]
    fn target_rises_at_once_and_falls_slowly_and_is_clamped() {
        let t0 = crate::audio::test_epoch();
        let mut e = estimator();
        let mut t;
        // Large jitter: ±100 ms swings → clamped at 200 ms.
        for i in 0..200u32 {
            let extra = if i % 2 == 1 { 100 * MS } else { Duration::ZERO };
            t = t0 + 20 * MS * i;
            e.on_arrival(t + extra, i * 960);
            e.update_target(t);
        }
        assert_eq!(e.target(), 200 * MS);
        // Then perfectly regular: the target falls by at most 20 ms per second.
        for i in 200..300u32 {
            t = t0 + 20 * MS * i;
            e.on_arrival(t, i * 960);
            e.update_target(t);
        }
        let after_2s = e.target().as_secs_f64() * 1000.0;
        assert!((155.0..=165.0).contains(&after_2s), "{after_2s}");
    }

    #[test]
    fn timestamp_jumps_are_not_jitter() {
        let t0 = crate::audio::test_epoch();
        let mut e = estimator();
        e.on_arrival(t0, 0);
        e.on_arrival(t0 + 20 * MS, 0x8000_0000);
        assert_eq!(e.jitter(), Duration::ZERO);
        // Wrapping timestamps are fine.
        e.restart();
        e.on_arrival(t0, u32::MAX - 100);
        e.on_arrival(t0 + 20 * MS, (u32::MAX - 100).wrapping_add(960));
        assert!(e.jitter() < Duration::from_micros(1));
    }
}
