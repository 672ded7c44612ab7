//! The non-INVITE server transaction (RFC 3261 §17.2.2, figure 8).
//!
//! ```text
//!  request received
//!  Trying ──1xx──▶ Proceeding ──200-699: timer J──▶ Completed ──J──▶ Terminated
//!    └──────────200-699: timer J───────────────────────▲
//! ```
//!
//! A retransmitted request is absorbed while Trying (there is nothing to repeat yet) and gets
//! the last response again in Proceeding and Completed.

use std::time::Instant;

use super::server::{AlreadyAnswered, ServerOutput};
use super::timers::{TimerConfig, earliest, is_due};
use crate::message::{Message, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// One non-INVITE server transaction.
#[derive(Debug)]
pub(super) struct NonInviteServer {
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    state: State,
    /// The last response sent, repeated for retransmitted requests.
    last_response: Option<Response>,
    /// Timer J: when the Completed transaction ends.
    timer_j: Option<Instant>,
}

impl NonInviteServer {
    /// Creates the transaction; nothing is sent until the TU responds.
    pub(super) fn start(request: Request, reliable: bool, timers: TimerConfig) -> NonInviteServer {
        NonInviteServer {
            request,
            reliable,
            timers,
            state: State::Trying,
            last_response: None,
            timer_j: None,
        }
    }

    pub(super) fn request(&self) -> &Request {
        &self.request
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_j])
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, _out: &mut Vec<ServerOutput>) {
        if is_due(self.timer_j, now) {
            self.terminate();
        }
    }

    /// A retransmission of the request.
    pub(super) fn handle_retransmission(&self, out: &mut Vec<ServerOutput>) {
        if let Some(response) = &self.last_response {
            out.push(ServerOutput::Send(Message::Response(response.clone())));
        }
    }

    pub(super) fn send_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ServerOutput>,
    ) -> Result<(), AlreadyAnswered> {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return Err(AlreadyAnswered);
        }
        if response.status.is_provisional() {
            self.state = State::Proceeding;
        } else {
            self.state = State::Completed;
            self.timer_j = Some(now + self.timers.timer_j(self.reliable));
        }
        out.push(ServerOutput::Send(Message::Response(response.clone())));
        self.last_response = Some(response);
        if is_due(self.timer_j, now) {
            self.terminate();
        }
        Ok(())
    }

    pub(super) fn terminate(&mut self) {
        self.timer_j = None;
        self.state = State::Terminated;
    }
}
