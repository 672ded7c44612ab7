//! When to refresh a binding, and how long to wait between retries.

use std::time::Duration;

/// When to refresh a binding of `lifetime`: once 80 % of it has passed or `margin` before it
/// ends, whichever is earlier, but never before half of it has passed.
///
/// ```
/// use std::time::Duration;
/// use lockphone_sip::registration::refresh_delay;
/// let margin = Duration::from_secs(30);
/// // One hour: at 80 % (48 min). Two minutes: 30 s before the end (90 s). One minute: at half.
/// assert_eq!(refresh_delay(Duration::from_secs(3600), margin), Duration::from_secs(2880));
/// assert_eq!(refresh_delay(Duration::from_secs(120), margin), Duration::from_secs(90));
/// assert_eq!(refresh_delay(Duration::from_secs(60), margin), Duration::from_secs(30));
/// ```
pub fn refresh_delay(lifetime: Duration, margin: Duration) -> Duration {
    let eighty = lifetime.mul_f64(0.8);
    let before_end = lifetime.saturating_sub(margin);
    eighty.min(before_end).max(lifetime / 2)
}

/// The first delay of the retry back-off.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest delay between retries, and the most a `Retry-After` may ask for.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// The longest `Retry-After` honoured (a larger one would let the binding lapse for hours).
pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Retry delays of 1, 2, 4 … 60 s; back to 1 s after a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            next: FIRST_BACKOFF,
        }
    }
}

impl Backoff {
    /// The delay before the next retry (at least `server_asked`, capped at
    /// [`MAX_RETRY_AFTER`]); the one after doubles.
    pub(super) fn next_delay(&mut self, server_asked: Option<Duration>) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        server_asked.map_or(delay, |asked| asked.min(MAX_RETRY_AFTER).max(delay))
    }

    /// A REGISTER succeeded.
    pub(super) fn reset(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn refresh_is_the_earlier_of_80_percent_and_the_margin_but_not_before_half() {
        let margin = secs(30);
        assert_eq!(refresh_delay(secs(3600), margin), secs(2880));
        assert_eq!(refresh_delay(secs(120), margin), secs(90));
        assert_eq!(refresh_delay(secs(60), margin), secs(30));
        assert_eq!(refresh_delay(secs(4), margin), secs(2));
        // A larger margin wins over 80 % until it would refresh before half-time.
        assert_eq!(refresh_delay(secs(3600), secs(900)), secs(2700));
        assert_eq!(refresh_delay(secs(600), secs(900)), secs(300));
        assert_eq!(refresh_delay(Duration::ZERO, margin), Duration::ZERO);
    }

    #[test]
    fn backoff_doubles_to_a_minute_honours_retry_after_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..8).map(|_| backoff.next_delay(None).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        backoff.reset();
        assert_eq!(backoff.next_delay(Some(secs(120))), secs(120));
        assert_eq!(
            backoff.next_delay(Some(Duration::ZERO)),
            secs(2),
            "never sooner"
        );
        assert_eq!(
            backoff.next_delay(Some(secs(u64::from(u32::MAX)))),
            MAX_RETRY_AFTER
        );
    }
}
