//! The summary of a loop: counts, setup-time percentiles, failures by reason.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::histogram::Histogram;
use super::report::{CallReport, CallResult};

/// Setup-time percentiles, ms (within 1 %; `max` and `mean` exact).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// The longest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

/// What a loop came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopSummary {
    /// Calls reported.
    pub calls: u32,
    /// Calls Ok.
    pub ok: u32,
    /// Calls failed.
    pub failed: u32,
    /// Ok calls whose final verdict is Encrypted.
    pub encrypted: u32,
    /// Ok calls whose final verdict is not Encrypted.
    pub not_secure: u32,
    /// Setup times of the answered calls, ms (`None` if none was answered).
    pub setup_ms: Option<Percentiles>,
    /// Failed calls by class (`rejected`, `setup-timeout`, …).
    pub failures: BTreeMap<String, u32>,
    /// The mean MOS estimate of the calls that had one.
    pub mean_mos: Option<f64>,
    /// The mean received loss of the calls with media, %.
    pub mean_loss_percent: Option<f64>,
    /// Wall time of the loop, seconds.
    pub elapsed_secs: f64,
}

impl fmt::Display for LoopSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} calls in {:.1} s: {} ok ({} encrypted, {} not secure), {} failed",
            self.calls, self.elapsed_secs, self.ok, self.encrypted, self.not_secure, self.failed
        )?;
        if let Some(s) = &self.setup_ms {
            write!(
                f,
                "\nsetup ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
                s.p50, s.p90, s.p99, s.max
            )?;
        }
        if let Some(mos) = self.mean_mos {
            write!(f, "\nmean MOS {mos:.2}")?;
            if let Some(loss) = self.mean_loss_percent {
                write!(f, ", mean loss {loss:.1} %")?;
            }
        }
        for (kind, count) in &self.failures {
            write!(f, "\nfailed: {count} × {kind}")?;
        }
        Ok(())
    }
}

/// Folds reports into a [`LoopSummary`] in constant memory.
#[derive(Debug, Clone)]
pub struct SummaryBuilder {
    calls: u32,
    ok: u32,
    failed: u32,
    encrypted: u32,
    not_secure: u32,
    setup: Histogram,
    failures: BTreeMap<String, u32>,
    mos_sum: f64,
    mos_count: u32,
    loss_sum: f64,
    loss_count: u32,
}

impl Default for SummaryBuilder {
    fn default() -> Self {
        SummaryBuilder {
            calls: 0,
            ok: 0,
            failed: 0,
            encrypted: 0,
            not_secure: 0,
            setup: Histogram::new(),
            failures: BTreeMap::new(),
            mos_sum: 0.0,
            mos_count: 0,
            loss_sum: 0.0,
            loss_count: 0,
        }
    }
}

impl SummaryBuilder {
    /// Counts one report.
    pub fn add(&mut self, report: &CallReport) {
        self.calls += 1;
        match report.result {
            CallResult::Ok => {
                self.ok += 1;
                if report.encrypted {
                    self.encrypted += 1;
                } else {
                    self.not_secure += 1;
                }
            }
            CallResult::Failed => {
                self.failed += 1;
                let kind = report
                    .failure
                    .as_ref()
                    .map_or("unknown", |f| f.kind.as_str());
                *self.failures.entry(kind.to_owned()).or_default() += 1;
            }
        }
        if let Some(setup) = report.setup_ms {
            self.setup.add(setup);
        }
        if let Some(media) = &report.media {
            if let Some(mos) = media.mos {
                self.mos_sum += mos;
                self.mos_count += 1;
            }
            if media.packets_received > 0 {
                self.loss_sum += media.loss_percent;
                self.loss_count += 1;
            }
        }
    }

    /// (ok, failed, not secure) so far.
    pub fn counts(&self) -> (u32, u32, u32) {
        (self.ok, self.failed, self.not_secure)
    }

    /// The summary of what was added, for a loop that ran `elapsed`.
    pub fn summary(&self, elapsed: Duration) -> LoopSummary {
        let mean = |sum: f64, n: u32| (n > 0).then(|| sum / f64::from(n));
        LoopSummary {
            calls: self.calls,
            ok: self.ok,
            failed: self.failed,
            encrypted: self.encrypted,
            not_secure: self.not_secure,
            setup_ms: (self.setup.count() > 0).then(|| Percentiles {
                p50: self.setup.quantile(0.5),
                p90: self.setup.quantile(0.9),
                p99: self.setup.quantile(0.99),
                max: self.setup.max(),
                mean: self.setup.mean(),
            }),
            failures: self.failures.clone(),
            mean_mos: mean(self.mos_sum, self.mos_count),
            mean_loss_percent: mean(self.loss_sum, self.loss_count),
            elapsed_secs: elapsed.as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::report::{Failure, FailureKind};

    fn report(ok: bool, encrypted: bool, setup: Option<f64>) -> CallReport {
        let mut r = CallReport::not_placed(0, "sip:x@127.0.0.1", 0.0, "r".to_owned());
        if ok {
            r.result = CallResult::Ok;
            r.failure = None;
        } else {
            r.failure = Some(Failure {
                kind: FailureKind::Rejected,
                reason: "refused: 486 Busy Here".to_owned(),
            });
        }
        r.encrypted = encrypted;
        r.setup_ms = setup;
        r
    }

    #[test]
    fn counts_percentiles_and_failures() {
        let mut b = SummaryBuilder::default();
        for i in 1..=100 {
            b.add(&report(true, i % 10 != 0, Some(f64::from(i))));
        }
        b.add(&report(false, false, None));
        b.add(&report(false, false, None));
        let s = b.summary(Duration::from_secs(3));
        assert_eq!((s.calls, s.ok, s.failed), (102, 100, 2));
        assert_eq!((s.encrypted, s.not_secure), (90, 10));
        assert_eq!(s.failures.get("rejected"), Some(&2));
        let setup = s.setup_ms.unwrap();
        assert!((setup.p50 - 50.0).abs() <= 0.6, "{setup:?}");
        assert!((setup.p99 - 99.0).abs() <= 1.0, "{setup:?}");
        assert_eq!(setup.max, 100.0);
        let text = s.to_string();
        assert!(text.contains("102 calls"), "{text}");
        assert!(text.contains("2 × rejected"), "{text}");
        assert_eq!(b.counts(), (100, 2, 10));
    }
}
