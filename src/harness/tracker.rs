//! From a phone's events to one report per call.

use std::collections::HashMap;

use tokio::time::Instant;

use super::report::{CallReport, CallResult, Failure, FailureKind, Gathered, judge};
use crate::call::CallId;
use crate::ua::Event;

/// What a call has shown so far.
#[derive(Debug)]
struct Tracked {
    index: u32,
    started: Instant,
    started_ms: f64,
    direction: &'static str,
    peer: String,
    gathered: Gathered,
}

/// What an event meant to the tracker.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrackerUpdate {
    /// The call was answered (caller: the far end's 2xx; callee: we answered).
    Answered(CallId),
    /// The call ended: its report.
    Ended(Box<CallReport>),
}

/// Turns a [`Phone`](crate::ua::Phone)'s events into one [`CallReport`] per call: feed it
/// every event ([`CallTracker::handle`]); it numbers calls in the order they start and
/// measures their setup time from the start (or from [`CallTracker::placed`]) to the answer.
/// Memory is per call in flight only.
#[derive(Debug)]
pub struct CallTracker {
    calls: HashMap<CallId, Tracked>,
    next_index: u32,
    epoch: Instant,
    require_media: bool,
}

impl CallTracker {
    /// A tracker whose time 0 is now; with `require_media`, an answered call that received no
    /// media packet is a failure (`no-media`).
    pub fn new(require_media: bool) -> CallTracker {
        CallTracker {
            calls: HashMap::new(),
            next_index: 0,
            epoch: Instant::now(),
            require_media,
        }
    }

    /// Milliseconds since the tracker was made.
    pub fn elapsed_ms(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64() * 1000.0
    }

    /// The index the next call gets, and counts it (for a call that could not be placed).
    pub fn take_index(&mut self) -> u32 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    /// Records an outgoing call dialled at `dialled` (its setup time counts from then).
    pub fn placed(&mut self, call: CallId, peer: &str, dialled: Instant) -> u32 {
        let index = self.take_index();
        self.calls.insert(
            call,
            Tracked {
                index,
                started: dialled,
                started_ms: dialled.saturating_duration_since(self.epoch).as_secs_f64() * 1000.0,
                direction: "outgoing",
                peer: peer.to_owned(),
                gathered: Gathered::default(),
            },
        );
        index
    }

    /// Calls started and not ended yet.
    pub fn in_flight(&self) -> usize {
        self.calls.len()
    }

    /// Whether `call` is tracked (started, not ended).
    pub fn is_tracked(&self, call: CallId) -> bool {
        self.calls.contains_key(&call)
    }

    /// Whether `call` was answered.
    pub fn is_answered(&self, call: CallId) -> bool {
        self.calls
            .get(&call)
            .is_some_and(|c| c.gathered.setup_ms.is_some())
    }

    /// Decides that `call` failed (kept when it ends; the first decision wins).
    pub fn fail(&mut self, call: CallId, kind: FailureKind, reason: &str) {
        if let Some(tracked) = self.calls.get_mut(&call)
            && tracked.gathered.failure.is_none()
        {
            tracked.gathered.failure = Some(Failure {
                kind,
                reason: reason.to_owned(),
            });
        }
    }

    /// Gives up on `call`, which never reported its end: its report (`no-end`, unless a
    /// failure was decided before).
    pub fn abandon(&mut self, call: CallId, reason: &str) -> Option<CallReport> {
        let tracked = self.calls.remove(&call)?;
        let failure = tracked.gathered.failure.unwrap_or(Failure {
            kind: FailureKind::NoEnd,
            reason: reason.to_owned(),
        });
        Some(CallReport {
            call_id: Some(call),
            index: tracked.index,
            direction: tracked.direction,
            peer: tracked.peer,
            started_ms: tracked.started_ms,
            setup_ms: tracked.gathered.setup_ms,
            duration_secs: 0.0,
            result: CallResult::Failed,
            end_reason: failure.reason.clone(),
            failure: Some(failure),
            verdict: None,
            encrypted: false,
            suite: None,
            codec: None,
            media: None,
        })
    }

    /// Feeds one event; says when a call was answered or ended.
    pub fn handle(&mut self, event: &Event) -> Option<TrackerUpdate> {
        match event {
            Event::CallStarted {
                call,
                direction,
                peer,
                ..
            } if !self.calls.contains_key(call) => {
                let index = self.take_index();
                let now = Instant::now();
                self.calls.insert(
                    *call,
                    Tracked {
                        index,
                        started: now,
                        started_ms: now.saturating_duration_since(self.epoch).as_secs_f64()
                            * 1000.0,
                        direction: if direction == "incoming" {
                            "incoming"
                        } else {
                            "outgoing"
                        },
                        peer: peer.clone(),
                        gathered: Gathered::default(),
                    },
                );
                None
            }
            Event::CallAnswered { call, .. } | Event::CallSecurity { call, .. } => {
                let tracked = self.calls.get_mut(call)?;
                if tracked.gathered.setup_ms.is_some() {
                    return None;
                }
                tracked.gathered.setup_ms = Some(tracked.started.elapsed().as_secs_f64() * 1000.0);
                Some(TrackerUpdate::Answered(*call))
            }
            Event::CallFailed { call, reason } => {
                self.fail(*call, FailureKind::CallFailed, reason);
                None
            }
            Event::CallEnded { call, summary } => {
                let tracked = self.calls.remove(call)?;
                Some(TrackerUpdate::Ended(Box::new(judge(
                    tracked.index,
                    tracked.started_ms,
                    summary,
                    tracked.gathered,
                    self.require_media,
                ))))
            }
            _ => None,
        }
    }
}
