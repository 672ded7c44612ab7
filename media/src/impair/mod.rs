//! A deterministic, seeded network impairment stage for tests, simulations and the CLI:
//! random or bursty (Gilbert–Elliott) loss, fixed delay, random jitter, reordering and
//! duplication.
//!
//! Sans-IO: [`Impairment::push`] a packet at `now`, [`Impairment::poll`] what is due at `now`,
//! and [`Impairment::poll_timeout`] says when the next packet falls due.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use lockphone_media::impair::Impairment;
//!
//! let mut net = Impairment::new("delay=10ms,seed=1".parse().unwrap());
//! let t0 = Instant::now();
//! net.push(t0, vec![1u8, 2, 3]);
//! assert_eq!(net.poll(t0), None);
//! assert_eq!(net.poll_timeout(), Some(t0 + Duration::from_millis(10)));
//! assert_eq!(net.poll(t0 + Duration::from_millis(10)), Some(vec![1, 2, 3]));
//! ```

mod spec;

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

pub use spec::{ImpairmentSpec, SpecError};

/// How long a packet held back for reordering waits for a successor before it goes anyway.
const REORDER_HOLD: Duration = Duration::from_millis(100);

/// What the stage did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImpairmentStats {
    /// Packets pushed in.
    pub pushed: u64,
    /// Packets dropped.
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Packets held back behind their successor.
    pub reordered: u64,
    /// Packets handed out by `poll`.
    pub delivered: u64,
}

struct Queued<T> {
    due: Instant,
    order: u64,
    packet: T,
}

impl<T> PartialEq for Queued<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl<T> Eq for Queued<T> {}
impl<T> PartialOrd for Queued<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Queued<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// The impairment stage (see the [module documentation](self)).
pub struct Impairment<T = Vec<u8>> {
    spec: ImpairmentSpec,
    rng: StdRng,
    /// Gilbert–Elliott state: in the bad state every packet is lost.
    bad: bool,
    queue: BinaryHeap<Reverse<Queued<T>>>,
    /// A packet held back for reordering, with the time it was due.
    held: Option<Queued<T>>,
    order: u64,
    stats: ImpairmentStats,
}

impl<T> std::fmt::Debug for Impairment<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Impairment")
            .field("spec", &self.spec)
            .field("queued", &self.queue.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// True with probability `p` (clamped to 0–1; never panics).
fn chance(rng: &mut StdRng, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

impl<T: Clone> Impairment<T> {
    /// A stage applying `spec`, seeded with `spec.seed`.
    pub fn new(spec: ImpairmentSpec) -> Self {
        Self {
            rng: StdRng::seed_from_u64(spec.seed),
            spec,
            bad: false,
            queue: BinaryHeap::new(),
            held: None,
            order: 0,
            stats: ImpairmentStats::default(),
        }
    }

    /// The spec in force.
    pub fn spec(&self) -> &ImpairmentSpec {
        &self.spec
    }

    /// What the stage did so far.
    pub fn stats(&self) -> ImpairmentStats {
        self.stats
    }

    /// Packets in flight (queued or held).
    pub fn in_flight(&self) -> usize {
        self.queue.len() + usize::from(self.held.is_some())
    }

    fn lose(&mut self) -> bool {
        match self.spec.burst {
            None => chance(&mut self.rng, self.spec.loss),
            Some(burst) => {
                let loss = self.spec.loss.clamp(0.0, 1.0);
                let to_good = 1.0 / burst.max(1.0);
                let to_bad = if loss >= 1.0 {
                    1.0
                } else {
                    loss * to_good / (1.0 - loss)
                };
                self.bad = if self.bad {
                    !chance(&mut self.rng, to_good)
                } else {
                    chance(&mut self.rng, to_bad)
                };
                self.bad
            }
        }
    }

    fn due(&mut self, now: Instant) -> Instant {
        let extra = self.spec.jitter.mul_f64(self.rng.random::<f64>());
        // The spec's fields are public: an absurd delay saturates instead of overflowing.
        now.checked_add(self.spec.delay.saturating_add(extra))
            .unwrap_or(now)
    }

    fn enqueue(&mut self, due: Instant, packet: T) {
        self.order += 1;
        self.queue.push(Reverse(Queued {
            due,
            order: self.order,
            packet,
        }));
    }

    /// Sends `packet` into the network at `now`.
    pub fn push(&mut self, now: Instant, packet: T) {
        self.stats.pushed += 1;
        if self.lose() {
            self.stats.lost += 1;
            return;
        }
        let due = self.due(now);
        if chance(&mut self.rng, self.spec.duplicate) {
            self.stats.duplicated += 1;
            let copy_due = self.due(now);
            self.enqueue(copy_due, packet.clone());
        }
        if self.held.is_none() && chance(&mut self.rng, self.spec.reorder) {
            self.stats.reordered += 1;
            self.held = Some(Queued {
                due,
                order: 0,
                packet,
            });
            return;
        }
        self.enqueue(due, packet);
        // A packet held back goes right after this one.
        if let Some(held) = self.held.take() {
            self.enqueue(due.max(held.due), held.packet);
        }
    }

    /// The next packet due at `now`, if any.
    pub fn poll(&mut self, now: Instant) -> Option<T> {
        if let Some(held) = self.held.take_if(|h| h.due + REORDER_HOLD <= now) {
            self.enqueue(held.due + REORDER_HOLD, held.packet);
        }
        if self.queue.peek().is_some_and(|Reverse(q)| q.due <= now) {
            let Reverse(q) = self.queue.pop()?;
            self.stats.delivered += 1;
            return Some(q.packet);
        }
        None
    }

    /// When the next packet falls due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let queued = self.queue.peek().map(|Reverse(q)| q.due);
        let held = self.held.as_ref().map(|h| h.due + REORDER_HOLD);
        match (queued, held) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::test_epoch;

    const MS: Duration = Duration::from_millis(1);

    /// Pushes `n` numbered packets 20 ms apart and drains everything; returns the delivered
    /// sequence with arrival offsets from the push time.
    fn run(spec: &str, n: u32) -> (Vec<(u32, Duration)>, ImpairmentStats) {
        let mut net = Impairment::new(spec.parse().unwrap());
        let t0 = test_epoch();
        let mut out = Vec::new();
        let drain = |net: &mut Impairment<u32>, now: Instant, out: &mut Vec<(u32, Duration)>| {
            while let Some(p) = net.poll(now) {
                out.push((p, now - (t0 + 20 * MS * p)));
            }
        };
        for i in 0..n {
            let now = t0 + 20 * MS * i;
            // Step through due times between pushes so arrival offsets are exact.
            while let Some(t) = net.poll_timeout().filter(|&t| t < now) {
                drain(&mut net, t, &mut out);
            }
            net.push(now, i);
            drain(&mut net, now, &mut out);
        }
        while let Some(t) = net.poll_timeout() {
            drain(&mut net, t, &mut out);
        }
        (out, net.stats())
    }

    #[test]
    fn no_impairment_is_a_wire() {
        let (out, stats) = run("", 100);
        assert_eq!(
            out,
            (0..100).map(|i| (i, Duration::ZERO)).collect::<Vec<_>>()
        );
        assert_eq!(stats.delivered, 100);
    }

    #[test]
    fn random_loss_rate_and_determinism() {
        let (out, stats) = run("loss=10%,seed=3", 20_000);
        let rate = stats.lost as f64 / 20_000.0;
        assert!((rate - 0.10).abs() < 0.01, "{rate}");
        assert_eq!(out.len() as u64, 20_000 - stats.lost);
        assert_eq!(
            run("loss=10%,seed=3", 2000).0,
            run("loss=10%,seed=3", 2000).0
        );
        assert_ne!(
            run("loss=10%,seed=3", 2000).0,
            run("loss=10%,seed=4", 2000).0
        );
    }

    fn mean_burst(out: &[(u32, Duration)]) -> f64 {
        let gaps: Vec<u32> = out
            .windows(2)
            .map(|w| w[1].0 - w[0].0 - 1)
            .filter(|&g| g > 0)
            .collect();
        f64::from(gaps.iter().sum::<u32>()) / gaps.len() as f64
    }

    #[test]
    fn bursty_loss_has_the_asked_burst_length() {
        let (out, stats) = run("loss=5%,burst=3,seed=9", 50_000);
        let rate = stats.lost as f64 / 50_000.0;
        assert!((rate - 0.05).abs() < 0.01, "{rate}");
        let burst = mean_burst(&out);
        assert!((burst - 3.0).abs() < 0.3, "{burst}");
        // Independent loss at the same rate has bursts of about 1/(1 − p).
        let (random, _) = run("loss=5%,seed=9", 50_000);
        assert!(mean_burst(&random) < 1.15);
    }

    #[test]
    fn jitter_and_delay_bound_arrival_and_reorder() {
        let (out, _) = run("delay=30ms,jitter=50ms,seed=1", 2000);
        assert_eq!(out.len(), 2000);
        assert!(out.iter().all(|&(_, d)| d >= 30 * MS && d <= 80 * MS));
        let inversions = out.windows(2).filter(|w| w[1].0 < w[0].0).count();
        assert!(inversions > 100, "{inversions}");
    }

    #[test]
    fn reordering_swaps_with_the_next_packet() {
        let (out, stats) = run("reorder=10%,seed=5", 10_000);
        assert_eq!(out.len(), 10_000);
        let swapped = out.windows(2).filter(|w| w[1].0 < w[0].0).count() as u64;
        assert_eq!(swapped, stats.reordered);
        assert!((800..1200).contains(&stats.reordered), "{stats:?}");
        // Held packets travel right behind their successor.
        assert!(
            out.windows(2)
                .filter(|w| w[1].0 < w[0].0)
                .all(|w| w[0].0 == w[1].0 + 1)
        );
    }

    #[test]
    fn duplication() {
        let (out, stats) = run("dup=5%,seed=2", 10_000);
        assert_eq!(out.len() as u64, 10_000 + stats.duplicated);
        assert!((400..600).contains(&stats.duplicated), "{stats:?}");
    }

    #[test]
    fn a_held_packet_goes_after_a_timeout_when_nothing_follows() {
        let mut net = Impairment::new("reorder=100%".parse().unwrap());
        let t0 = test_epoch();
        net.push(t0, 1u8);
        assert_eq!(net.in_flight(), 1);
        assert_eq!(net.poll(t0), None);
        assert_eq!(net.poll_timeout(), Some(t0 + REORDER_HOLD));
        assert_eq!(net.poll(t0 + REORDER_HOLD), Some(1));
    }
}
