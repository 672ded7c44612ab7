//! Call loops for test harnesses: place N calls to a target, C at a time, each lasting D, and
//! get one [`CallReport`] per call and a [`LoopSummary`] at the end. Built only on the public
//! [`Phone`](crate::ua::Phone) API, like any integrator's program would be.
//!
//! - [`CallLoop`] keeps `concurrency` calls in flight (optionally no more than `rate` new calls
//!   a second), hangs each up `duration` after it was answered, gives up on calls not answered
//!   within `setup_timeout`, and yields the reports as calls end.
//! - [`CallTracker`] turns any phone's events into reports (the `answer` side of a loop uses it
//!   directly).
//! - [`SummaryBuilder`] folds reports into a [`LoopSummary`] in constant memory (setup times go
//!   into a log-scale histogram with 1 % resolution, not a list).
//! - [`local`] makes a throw-away PKI and account configurations for a caller and a callee on
//!   127.0.0.1 (examples, benchmarks, tests).
//!
//! With an impairment in the call options, call `i` of a loop uses the seed `seed + i`: calls
//! differ from each other, and a loop run twice drops the same packets.

mod histogram;
pub mod local;
mod options;
mod report;
mod runner;
mod summary;
mod tracker;

pub use options::LoopOptions;
pub use report::{CallReport, CallResult, Failure, FailureKind, MediaOutcome, ReportLine};
pub use runner::{CallLoop, LoopProgress, LoopStopper};
pub use summary::{LoopSummary, Percentiles, SummaryBuilder};
pub use tracker::{CallTracker, TrackerUpdate};
