//! Real-time pacing for headless sources and sinks: a file, a tone or a null device has no
//! clock of its own, so the driver asks a [`Pacer`] how many 20 ms frames are due.

use std::time::{Duration, Instant};

use super::FRAME_DURATION;

/// The default bound on frames produced at once after the caller fell behind.
const DEFAULT_MAX_BURST: u32 = 5;

/// Says how many 20 ms frames are due at a given time, without drift: frame `n` is due at
/// `start + n × 20 ms`.
///
/// If the caller falls far behind (a suspended process), it does not get a burst of all the
/// missed frames: at most `max_burst` at once, and the schedule restarts from there.
///
/// ```
/// use std::time::{Duration, Instant};
/// use lockphone_media::audio::Pacer;
///
/// let t0 = Instant::now();
/// let mut pacer = Pacer::new();
/// assert_eq!(pacer.due(t0), 1);
/// assert_eq!(pacer.due(t0 + Duration::from_millis(19)), 0);
/// assert_eq!(pacer.due(t0 + Duration::from_millis(60)), 3);
/// assert_eq!(pacer.next_deadline(), Some(t0 + Duration::from_millis(80)));
/// ```
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Option<Instant>,
    emitted: u64,
    max_burst: u32,
    period: Duration,
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new()
    }
}

impl Pacer {
    /// A pacer for 20 ms frames, starting at the first call to [`Pacer::due`].
    pub fn new() -> Self {
        Self::with_period(FRAME_DURATION)
    }

    /// A pacer with another period (must be non-zero; zero is taken as 20 ms).
    pub fn with_period(period: Duration) -> Self {
        Self {
            start: None,
            emitted: 0,
            max_burst: DEFAULT_MAX_BURST,
            period: if period.is_zero() {
                FRAME_DURATION
            } else {
                period
            },
        }
    }

    /// Bounds how many frames one call may report after the caller fell behind (at least 1).
    pub fn set_max_burst(&mut self, max_burst: u32) {
        self.max_burst = max_burst.max(1);
    }

    /// How many frames are due at `now`; they count as produced once reported.
    pub fn due(&mut self, now: Instant) -> u32 {
        let start = *self.start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        let owed = u64::try_from(elapsed.as_nanos() / self.period.as_nanos().max(1))
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let pending = owed.saturating_sub(self.emitted);
        if pending > u64::from(self.max_burst) {
            // Fell behind: give a bounded burst and restart the schedule so the last frame
            // reported is the one due now.
            self.start = Some(now);
            self.emitted = 1;
            return self.max_burst;
        }
        self.emitted += pending;
        // `pending` ≤ max_burst here, so it fits.
        u32::try_from(pending).unwrap_or(self.max_burst)
    }

    /// When the next frame falls due (`None` before the first call to [`Pacer::due`]).
    pub fn next_deadline(&self) -> Option<Instant> {
        let start = self.start?;
        let nanos = self
            .period
            .as_nanos()
            .saturating_mul(u128::from(self.emitted));
        let offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        start.checked_add(offset)
    }
}

/// A fixed origin for simulated time in tests: only differences from it matter.
#[cfg(test)]
pub(crate) fn test_epoch() -> Instant {
    // Tests need one real `Instant` to count simulated time from; nothing depends on its value.
    #[allow(clippy::disallowed_methods)]
    Instant::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn no_drift_over_a_long_run() {
        let t0 = test_epoch();
        let mut pacer = Pacer::new();
        let mut total = 0u64;
        // Poll every 7 ms for 60 s: exactly 3000 frames plus the one due at t0.
        let mut t = t0;
        while t <= t0 + Duration::from_secs(60) {
            total += u64::from(pacer.due(t));
            t += 7 * MS;
        }
        assert_eq!(total, 3000);
    }

    #[test]
    fn deadlines_follow_the_schedule() {
        let t0 = test_epoch();
        let mut pacer = Pacer::new();
        assert_eq!(pacer.next_deadline(), None);
        assert_eq!(pacer.due(t0), 1);
        assert_eq!(pacer.next_deadline(), Some(t0 + 20 * MS));
        assert_eq!(pacer.due(t0 + 20 * MS), 1);
        assert_eq!(pacer.due(t0 + 20 * MS), 0);
        assert_eq!(pacer.next_deadline(), Some(t0 + 40 * MS));
    }

    #[test]
    fn a_long_stall_gives_a_bounded_burst() {
        let t0 = test_epoch();
        let mut pacer = Pacer::new();
        pacer.due(t0);
        assert_eq!(pacer.due(t0 + Duration::from_secs(10)), 5);
        // The schedule restarted at the stall's end.
        assert_eq!(
            pacer.next_deadline(),
            Some(t0 + Duration::from_secs(10) + 20 * MS)
        );
        assert_eq!(pacer.due(t0 + Duration::from_secs(10) + 20 * MS), 1);
    }
}
