//! Timer values (RFC 3261 §17 and Table 4) and the two kinds of timer the state machines run:
//! a retransmission timer whose interval grows (A, E, G) and a one-shot deadline (B, D, F, H,
//! I, J, K, L, M).

use std::time::{Duration, Instant};

/// The base timer values; every transaction timer is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip estimate (500 ms).
    pub t1: Duration,
    /// T2, the cap on non-INVITE and response retransmission intervals (4 s).
    pub t2: Duration,
    /// T4, how long a message may stay in the network (5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> TimerConfig {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: timers B, F, H, J (unreliable), L and M.
    pub fn sixty_four_t1(&self) -> Duration {
        self.t1 * 64
    }

    /// Timer D: at least 32 s on unreliable transports, zero on reliable ones.
    pub fn timer_d(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.sixty_four_t1().max(Duration::from_secs(32))
        }
    }

    /// Timers I and K: T4 on unreliable transports, zero on reliable ones.
    pub fn t4_or_zero(&self, reliable: bool) -> Duration {
        if reliable { Duration::ZERO } else { self.t4 }
    }

    /// Timer J: 64·T1 on unreliable transports, zero on reliable ones.
    pub fn timer_j(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.sixty_four_t1()
        }
    }

    /// The first retransmission (timer A, E or G, T1 after the send) — only over unreliable
    /// transports; reliable ones never retransmit.
    pub(super) fn first_retransmission(&self, now: Instant, reliable: bool) -> Option<Retransmit> {
        (!reliable).then_some(Retransmit {
            at: now + self.t1,
            interval: self.t1,
        })
    }
}

/// A retransmission timer: when it fires next, and the interval that led there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Retransmit {
    at: Instant,
    interval: Duration,
}

impl Retransmit {
    /// When it fires.
    pub(super) fn at(&self) -> Instant {
        self.at
    }

    /// Re-arms after firing at `now`: the interval doubles, up to `cap` if there is one
    /// (timer A has none; E and G stop at T2).
    pub(super) fn rearm_doubled(&mut self, now: Instant, cap: Option<Duration>) {
        let doubled = self.interval.saturating_mul(2);
        self.rearm(now, cap.map_or(doubled, |cap| doubled.min(cap)));
    }

    /// Re-arms after firing at `now` with this interval.
    pub(super) fn rearm(&mut self, now: Instant, interval: Duration) {
        self.interval = interval;
        self.at = now + interval;
    }
}

/// Whether the timer `at` (if running) is due at `now`.
pub(super) fn is_due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|at| at <= now)
}

/// The earliest of some timers.
pub(super) fn earliest(timers: &[Option<Instant>]) -> Option<Instant> {
    timers.iter().flatten().min().copied()
}
