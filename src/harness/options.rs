//! What a call loop does.

use std::time::Duration;

use crate::call::CallOptions;

/// The settings of a [`CallLoop`](super::CallLoop).
#[derive(Debug, Clone)]
pub struct LoopOptions {
    /// Who to call (`sip:bob@127.0.0.1:5061;transport=tls`, or a URI the registrar routes).
    pub target: String,
    /// How many calls to place in all.
    pub calls: u32,
    /// How many calls to keep in flight at once (at least 1).
    pub concurrency: u32,
    /// How long each call lasts once answered (then we hang up).
    pub duration: Duration,
    /// At most this many new calls per second (`None`: as fast as `concurrency` allows).
    pub rate: Option<f64>,
    /// What each call plays, records, and the impairment its received media crosses.
    pub call: CallOptions,
    /// A call not answered within this time is cancelled and fails (`setup-timeout`).
    pub setup_timeout: Duration,
    /// A call that received no media packet fails (`no-media`) even if it was answered.
    pub require_media: bool,
}

impl LoopOptions {
    /// `calls` calls to `target`, `concurrency` at a time, each `duration` long, as fast as
    /// possible, with the default call options (a 440 Hz tone, nothing recorded), a 30 s setup
    /// timeout, and media required.
    pub fn new(target: &str, calls: u32, concurrency: u32, duration: Duration) -> LoopOptions {
        LoopOptions {
            target: target.to_owned(),
            calls,
            concurrency: concurrency.max(1),
            duration,
            rate: None,
            call: CallOptions::default(),
            setup_timeout: Duration::from_secs(30),
            require_media: true,
        }
    }

    /// The options of call `index`: an impairment seed of `seed + index`.
    pub(super) fn call_options(&self, index: u32) -> CallOptions {
        let mut options = self.call.clone();
        if let Some(spec) = &mut options.impair {
            spec.seed = spec.seed.wrapping_add(u64::from(index));
        }
        options
    }

    /// The time between two new calls, if a rate is set.
    pub(super) fn interval(&self) -> Option<Duration> {
        self.rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_gets_its_own_seed_and_the_rate_an_interval() {
        let mut options = LoopOptions::new("sip:x@127.0.0.1", 3, 0, Duration::from_secs(1));
        assert_eq!(options.concurrency, 1);
        options.call.impair = Some("loss=10%,seed=42".parse().unwrap());
        let seeds: Vec<u64> = (0..3)
            .map(|i| options.call_options(i).impair.unwrap().seed)
            .collect();
        assert_eq!(seeds, [42, 43, 44]);
        assert_eq!(options.interval(), None);
        options.rate = Some(4.0);
        assert_eq!(options.interval(), Some(Duration::from_millis(250)));
        options.rate = Some(0.0);
        assert_eq!(options.interval(), None);
    }
}
