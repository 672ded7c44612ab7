//! The call loop: C calls in flight, one report per call.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::options::LoopOptions;
use super::report::{CallReport, FailureKind};
use super::summary::{LoopSummary, SummaryBuilder};
use super::tracker::{CallTracker, TrackerUpdate};
use crate::call::CallId;
use crate::ua::Phone;

/// How long after our hang-up (or CANCEL) a call may take to report its end before it is
/// given up as `no-end`.
const END_GRACE: Duration = Duration::from_secs(40);

/// A call in flight and its next deadline.
#[derive(Debug, Clone, Copy)]
struct Flight {
    /// When to hang up (after `duration`), or to cancel (setup timeout), or to give up.
    deadline: Instant,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Dialled, not answered: the deadline is the setup timeout.
    Ringing,
    /// Answered: the deadline is the hang-up.
    Talking,
    /// Hung up: the deadline is the end of the grace period.
    Ending,
}

/// Live counts of a loop (for a progress display).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoopProgress {
    /// Calls placed (or attempted) so far.
    pub placed: u32,
    /// Calls in flight.
    pub in_flight: u32,
    /// Calls reported so far.
    pub done: u32,
    /// Of those, Ok.
    pub ok: u32,
    /// Of those, failed.
    pub failed: u32,
    /// Of the Ok ones, not Encrypted.
    pub not_secure: u32,
    /// Calls the loop will place in all.
    pub total: u32,
}

/// Stops a running [`CallLoop`] from elsewhere (a Ctrl-C handler): no new calls are placed,
/// calls in flight are hung up, and their reports still come.
#[derive(Debug, Clone)]
pub struct LoopStopper(watch::Sender<bool>);

impl LoopStopper {
    /// Asks the loop to stop.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// A running call loop on a phone (see the [module documentation](super)).
///
/// ```no_run
/// use std::time::Duration;
/// use lockphone::config::Config;
/// use lockphone::harness::{CallLoop, LoopOptions, ReportLine};
/// use lockphone::ua::Phone;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::load("lockphone.toml".as_ref())?;
/// let mut phone = Phone::start(config.account(None)?).await?;
/// let mut options = LoopOptions::new(
///     "sip:bob@127.0.0.1:5061;transport=tls",
///     200,                       // calls
///     10,                        // in flight at once
///     Duration::from_secs(1),    // each call's length once answered
/// );
/// options.call.impair = Some("loss=5%,seed=42".parse()?);
/// let mut calls = CallLoop::new(&mut phone, options);
/// while let Some(report) = calls.next_report().await {
///     println!("{}", serde_json::to_string(&ReportLine::Call(&report))?);
/// }
/// let summary = calls.summary();
/// println!("{}", serde_json::to_string(&ReportLine::Summary(&summary))?);
/// assert_eq!(summary.calls, 200);
/// phone.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct CallLoop<'p> {
    phone: &'p mut Phone,
    options: LoopOptions,
    tracker: CallTracker,
    flights: HashMap<CallId, Flight>,
    ready: VecDeque<CallReport>,
    summary: SummaryBuilder,
    placed: u32,
    done: u32,
    started: Instant,
    next_dial: Instant,
    stop: watch::Receiver<bool>,
    stop_sender: watch::Sender<bool>,
    stopping: bool,
    phone_stopped: bool,
}

impl<'p> CallLoop<'p> {
    /// A loop on `phone` (started, and registered if its account registers). Nothing happens
    /// until [`CallLoop::next_report`] is awaited.
    pub fn new(phone: &'p mut Phone, options: LoopOptions) -> CallLoop<'p> {
        let (stop_sender, stop) = watch::channel(false);
        let now = Instant::now();
        CallLoop {
            phone,
            tracker: CallTracker::new(options.require_media),
            options,
            flights: HashMap::new(),
            ready: VecDeque::new(),
            summary: SummaryBuilder::default(),
            placed: 0,
            done: 0,
            started: now,
            next_dial: now,
            stop,
            stop_sender,
            stopping: false,
            phone_stopped: false,
        }
    }

    /// A handle that stops the loop (see [`LoopStopper`]).
    pub fn stopper(&self) -> LoopStopper {
        LoopStopper(self.stop_sender.clone())
    }

    /// The live counts.
    pub fn progress(&self) -> LoopProgress {
        let (ok, failed, not_secure) = self.summary.counts();
        LoopProgress {
            placed: self.placed,
            in_flight: u32::try_from(self.flights.len()).unwrap_or(u32::MAX),
            done: self.done,
            ok,
            failed,
            not_secure,
            total: self.options.calls,
        }
    }

    /// The summary of the reports returned so far.
    pub fn summary(&self) -> LoopSummary {
        self.summary.summary(self.started.elapsed())
    }

    /// Runs the loop until the next call ends and returns its report; `None` once every
    /// call has been reported (or the loop was stopped and its calls have ended).
    ///
    /// Not cancel-safe: await it to completion (stop the loop with a [`LoopStopper`]).
    pub async fn next_report(&mut self) -> Option<CallReport> {
        loop {
            if let Some(report) = self.ready.pop_front() {
                self.summary.add(&report);
                self.done += 1;
                return Some(report);
            }
            let placing = !self.stopping && self.placed < self.options.calls;
            if !placing && self.flights.is_empty() {
                return None;
            }
            let now = Instant::now();
            let may_dial = placing
                && self.flights.len() < self.options.concurrency.max(1) as usize
                && !self.phone_stopped;
            if may_dial && now >= self.next_dial {
                self.dial(now).await;
                continue;
            }
            let mut wake = self.flights.values().map(|f| f.deadline).min();
            if may_dial {
                wake = Some(wake.map_or(self.next_dial, |w| w.min(self.next_dial)));
            }
            let stop_changed = async {
                if self.stopping {
                    std::future::pending::<()>().await;
                }
                let _ = self.stop.changed().await;
            };
            tokio::select! {
                event = self.phone.next_event(), if !self.phone_stopped => match event {
                    Some(event) => self.handle_event(&event),
                    None => self.phone_gone(),
                },
                () = sleep_until(wake) => self.handle_deadlines(Instant::now()),
                () = stop_changed => self.stop_now(),
            }
        }
    }

    async fn dial(&mut self, now: Instant) {
        self.placed += 1;
        if let Some(interval) = self.options.interval() {
            // Never more than one call of credit: a stalled loop does not burst afterwards.
            let floor = now.checked_sub(interval).unwrap_or(now);
            self.next_dial = self.next_dial.max(floor) + interval;
        }
        let index_hint = self.placed - 1;
        let options = self.options.call_options(index_hint);
        match self.phone.dial(&self.options.target, options).await {
            Ok(call) => {
                self.tracker.placed(call, &self.options.target, now);
                self.flights.insert(
                    call,
                    Flight {
                        deadline: now + self.options.setup_timeout,
                        stage: Stage::Ringing,
                    },
                );
            }
            Err(error) => {
                let index = self.tracker.take_index();
                let at = now.saturating_duration_since(self.started).as_secs_f64() * 1000.0;
                self.ready.push_back(CallReport::not_placed(
                    index,
                    &self.options.target,
                    at,
                    format!("cannot call {}: {error}", self.options.target),
                ));
            }
        }
    }

    fn handle_event(&mut self, event: &crate::ua::Event) {
        match self.tracker.handle(event) {
            Some(TrackerUpdate::Answered(call)) => {
                if let Some(flight) = self.flights.get_mut(&call)
                    && flight.stage == Stage::Ringing
                {
                    if self.stopping {
                        flight.stage = Stage::Ending;
                        flight.deadline = Instant::now() + END_GRACE;
                        self.phone.hangup(call);
                    } else {
                        flight.stage = Stage::Talking;
                        flight.deadline = Instant::now() + self.options.duration;
                    }
                }
            }
            Some(TrackerUpdate::Ended(report)) => {
                if let Some(call) = report.call_id {
                    self.flights.remove(&call);
                }
                self.ready.push_back(*report);
            }
            None => {}
        }
    }

    fn handle_deadlines(&mut self, now: Instant) {
        let due: Vec<(CallId, Flight)> = self
            .flights
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(c, f)| (*c, *f))
            .collect();
        for (call, flight) in due {
            match flight.stage {
                Stage::Ringing => {
                    let reason = format!(
                        "not answered within {:.1} s",
                        self.options.setup_timeout.as_secs_f64()
                    );
                    self.tracker.fail(call, FailureKind::SetupTimeout, &reason);
                    self.hang_up(call, now);
                }
                Stage::Talking => self.hang_up(call, now),
                Stage::Ending => {
                    self.flights.remove(&call);
                    if let Some(report) = self.tracker.abandon(
                        call,
                        &format!(
                            "no end reported within {} s of hanging up",
                            END_GRACE.as_secs()
                        ),
                    ) {
                        self.ready.push_back(report);
                    }
                }
            }
        }
    }

    fn hang_up(&mut self, call: CallId, now: Instant) {
        if let Some(flight) = self.flights.get_mut(&call) {
            flight.stage = Stage::Ending;
            flight.deadline = now + END_GRACE;
        }
        self.phone.hangup(call);
    }

    fn stop_now(&mut self) {
        self.stopping = true;
        let now = Instant::now();
        let calls: Vec<CallId> = self
            .flights
            .iter()
            .filter(|(_, f)| f.stage != Stage::Ending)
            .map(|(c, _)| *c)
            .collect();
        for call in calls {
            if !self.tracker.is_answered(call) {
                self.tracker
                    .fail(call, FailureKind::Stopped, "the loop was stopped");
            }
            self.hang_up(call, now);
        }
    }

    /// The phone's engine stopped: every call in flight is reported as failed.
    fn phone_gone(&mut self) {
        self.phone_stopped = true;
        self.stopping = true;
        let calls: Vec<CallId> = self.flights.keys().copied().collect();
        for call in calls {
            self.flights.remove(&call);
            if let Some(report) = self.tracker.abandon(call, "the user agent stopped") {
                self.ready.push_back(report);
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
