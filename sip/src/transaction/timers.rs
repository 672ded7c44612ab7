//! Timer values (RFC 3261 §17 and Table 4).

use std::time::Duration;

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
}
