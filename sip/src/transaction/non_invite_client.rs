//! The non-INVITE client transaction (RFC 3261 §17.1.2, figure 6).
//!
//! ```text
//!          request sent, timers E (retransmit, UDP only) and F (give up)
//!  Trying ──1xx──▶ Proceeding ──200-699: timer K──▶ Completed ──K──▶ Terminated
//!    └──────────────────┴──F: Timeout──▶ Terminated
//! ```
//!
//! Timer E doubles from T1 up to T2 while Trying, and fires every T2 once Proceeding.

use std::time::Instant;

use super::client::ClientOutput;
use super::timers::{Retransmit, TimerConfig, earliest, is_due};
use crate::message::{Message, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// One non-INVITE client transaction.
#[derive(Debug)]
pub(super) struct NonInviteClient {
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    state: State,
    /// Timer E: the next retransmission (unreliable transports only).
    timer_e: Option<Retransmit>,
    /// Timer F: give up waiting for a final response.
    timer_f: Option<Instant>,
    /// Timer K: when the Completed transaction ends.
    timer_k: Option<Instant>,
}

impl NonInviteClient {
    /// Sends the request and starts timers E and F.
    pub(super) fn start(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ClientOutput>,
    ) -> NonInviteClient {
        out.push(ClientOutput::Send(Message::Request(request.clone())));
        NonInviteClient {
            request,
            reliable,
            timers,
            state: State::Trying,
            timer_e: timers.first_retransmission(now, reliable),
            timer_f: Some(now + timers.sixty_four_t1()),
            timer_k: None,
        }
    }

    pub(super) fn request(&self) -> &Request {
        &self.request
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_e.map(|e| e.at()), self.timer_f, self.timer_k])
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ClientOutput>) {
        if is_due(self.timer_k, now) {
            self.terminate();
        } else if is_due(self.timer_f, now) {
            out.push(ClientOutput::Timeout);
            self.terminate();
        } else if let Some(timer_e) = &mut self.timer_e
            && timer_e.at() <= now
        {
            out.push(ClientOutput::Send(Message::Request(self.request.clone())));
            if self.state == State::Proceeding {
                timer_e.rearm(now, self.timers.t2);
            } else {
                timer_e.rearm_doubled(now, Some(self.timers.t2));
            }
        }
    }

    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ClientOutput>,
    ) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return; // Completed absorbs retransmitted finals.
        }
        if response.status.is_provisional() {
            // Timer E keeps running; from its next firing on it uses T2.
            self.state = State::Proceeding;
        } else {
            self.state = State::Completed;
            self.timer_e = None;
            self.timer_f = None;
            self.timer_k = Some(now + self.timers.t4_or_zero(self.reliable));
        }
        out.push(ClientOutput::Response(response));
        if is_due(self.timer_k, now) {
            self.terminate();
        }
    }

    pub(super) fn handle_transport_error(&mut self, out: &mut Vec<ClientOutput>) {
        if matches!(self.state, State::Trying | State::Proceeding) {
            out.push(ClientOutput::Timeout);
        }
        self.terminate();
    }

    fn terminate(&mut self) {
        self.timer_e = None;
        self.timer_f = None;
        self.timer_k = None;
        self.state = State::Terminated;
    }
}
