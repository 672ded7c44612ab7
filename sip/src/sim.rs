//! Test support for the deterministic simulations: a lossy network in simulated time.
//!
//! A [`Network`] carries bytes to a destination `D` with a seeded chance of loss and of
//! duplication and a per-packet delay drawn from a range (so packets overtake each other).
//! Nothing sleeps: the simulation asks [`Network::next_delivery`] and jumps its clock there.
//! Only compiled for tests.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One clock reading for a test to start its simulated time from (or, in a test that checks
/// it runs fast, to measure real time). The only place tests read the clock.
#[allow(clippy::disallowed_methods)]
pub(crate) fn clock() -> Instant {
    Instant::now()
}

/// A simulated network. See the [module docs](self).
pub(crate) struct Network<D> {
    start: Instant,
    rng: ChaCha8Rng,
    /// Probability that a message is lost.
    loss: f64,
    /// Probability that a delivered message arrives twice.
    duplicate: f64,
    /// Per-packet delay range in milliseconds (a wide range reorders).
    delay_ms: (u64, u64),
    /// Messages on their way, by arrival time (then send order).
    in_flight: BTreeMap<(Instant, u64), (D, Vec<u8>)>,
    next_seq: u64,
    sent: usize,
    lost: usize,
    /// A digest of everything sent and when, to compare runs.
    trace: DefaultHasher,
}

impl<D: Hash + Clone> Network<D> {
    /// A network whose time starts at `start`, with `seed` for its dice.
    pub(crate) fn new(
        start: Instant,
        seed: u64,
        loss: f64,
        duplicate: f64,
        delay_ms: (u64, u64),
    ) -> Network<D> {
        Network {
            start,
            rng: ChaCha8Rng::seed_from_u64(seed),
            loss,
            duplicate,
            delay_ms,
            in_flight: BTreeMap::new(),
            next_seq: 0,
            sent: 0,
            lost: 0,
            trace: DefaultHasher::new(),
        }
    }

    /// Sends `bytes` to `to` at `now`: lost, delivered once, or delivered twice.
    pub(crate) fn send(&mut self, now: Instant, to: D, bytes: Vec<u8>) {
        (now.saturating_duration_since(self.start), &to, &bytes).hash(&mut self.trace);
        self.sent += 1;
        if self.rng.random_bool(self.loss) {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.random_bool(self.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.delay();
            self.next_seq += 1;
            self.in_flight
                .insert((now + delay, self.next_seq), (to.clone(), bytes.clone()));
        }
    }

    /// When the next packet arrives.
    pub(crate) fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|(at, _)| *at)
    }

    /// The next packet that has arrived by `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(D, Vec<u8>)> {
        let entry = self.in_flight.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        Some(entry.remove())
    }

    /// Whether nothing is on its way.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// How many messages were sent, and the share of them lost.
    pub(crate) fn sent_and_loss_rate(&self) -> (usize, f64) {
        let rate = if self.sent == 0 {
            0.0
        } else {
            self.lost as f64 / self.sent as f64
        };
        (self.sent, rate)
    }

    /// A digest of what was sent to whom and when: equal for equal runs.
    pub(crate) fn trace(&self) -> u64 {
        self.trace.finish()
    }

    fn delay(&mut self) -> Duration {
        Duration::from_millis(self.rng.random_range(self.delay_ms.0..=self.delay_ms.1))
    }
}
