//! The INVITE server transaction (RFC 3261 §17.2.1, figure 7) with the "Accepted" state of
//! RFC 6026 §7.1.
//!
//! ```text
//!  INVITE received: 100 Trying sent at once
//!  Proceeding ──300-699: timers G (UDP only) and H──▶ Completed ──ACK: timer I──▶ Confirmed
//!      │                                                 └──H: AckTimeout──▶ Terminated
//!      └──2xx: timer L──▶ Accepted ──L──▶ Terminated              Confirmed ──I──▶ Terminated
//! ```
//!
//! 100 Trying goes out as soon as the INVITE arrives: §17.2.1 allows leaving it out only when
//! the TU is known to answer within 200 ms, which the transaction cannot know, and answering
//! at once stops the client's timer A before its first retransmission.
//!
//! A retransmitted INVITE gets the last response again (Proceeding, Completed) or is absorbed
//! (Accepted, Confirmed). In Accepted the TU retransmits its 2xx through the transaction
//! (§13.3.1.4, RFC 6026 §8.7) until its ACK comes — as a new request, to the TU.

use std::time::Instant;

use super::server::{AlreadyAnswered, ServerOutput};
use super::timers::{Retransmit, TimerConfig, earliest, is_due};
use crate::message::{Message, Request, Response, StatusCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Proceeding,
    Accepted,
    Completed,
    Confirmed,
    Terminated,
}

/// One INVITE server transaction.
#[derive(Debug)]
pub(super) struct InviteServer {
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    state: State,
    /// The last response sent, repeated for retransmitted INVITEs.
    last_response: Response,
    /// Timer G: the next retransmission of a non-2xx final (unreliable transports only).
    timer_g: Option<Retransmit>,
    /// Timer H: give up waiting for the ACK.
    timer_h: Option<Instant>,
    /// Timer I (Confirmed) or L (Accepted): when the transaction ends.
    linger: Option<Instant>,
}

impl InviteServer {
    /// Creates the transaction and sends 100 Trying.
    pub(super) fn start(
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ServerOutput>,
    ) -> InviteServer {
        let trying = Response::for_request(&request, StatusCode::TRYING, None);
        out.push(ServerOutput::Send(Message::Response(trying.clone())));
        InviteServer {
            request,
            reliable,
            timers,
            state: State::Proceeding,
            last_response: trying,
            timer_g: None,
            timer_h: None,
            linger: None,
        }
    }

    pub(super) fn request(&self) -> &Request {
        &self.request
    }

    pub(super) fn is_proceeding(&self) -> bool {
        self.state == State::Proceeding
    }

    pub(super) fn is_accepted(&self) -> bool {
        self.state == State::Accepted
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_g.map(|g| g.at()), self.timer_h, self.linger])
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ServerOutput>) {
        if is_due(self.linger, now) {
            self.terminate();
        } else if is_due(self.timer_h, now) {
            out.push(ServerOutput::AckTimeout);
            self.terminate();
        } else if let Some(timer_g) = &mut self.timer_g
            && timer_g.at() <= now
        {
            out.push(ServerOutput::Send(Message::Response(
                self.last_response.clone(),
            )));
            timer_g.rearm_doubled(now, Some(self.timers.t2));
        }
    }

    /// A retransmission of the INVITE.
    pub(super) fn handle_retransmission(&self, out: &mut Vec<ServerOutput>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            out.push(ServerOutput::Send(Message::Response(
                self.last_response.clone(),
            )));
        }
    }

    /// The ACK to our non-2xx final: stop retransmitting, absorb ACK retransmissions for
    /// timer I.
    pub(super) fn handle_ack(&mut self, now: Instant, out: &mut Vec<ServerOutput>) {
        if self.state != State::Completed {
            return;
        }
        self.state = State::Confirmed;
        self.timer_g = None;
        self.timer_h = None;
        self.linger = Some(now + self.timers.t4_or_zero(self.reliable)); // timer I
        out.push(ServerOutput::Acked);
        if is_due(self.linger, now) {
            self.terminate();
        }
    }

    pub(super) fn send_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ServerOutput>,
    ) -> Result<(), AlreadyAnswered> {
        let status = response.status;
        match self.state {
            State::Proceeding if status.is_provisional() => {}
            State::Proceeding if status.is_success() => {
                self.state = State::Accepted;
                self.linger = Some(now + self.timers.sixty_four_t1()); // timer L
            }
            State::Proceeding => {
                self.state = State::Completed;
                self.timer_g = self.timers.first_retransmission(now, self.reliable);
                self.timer_h = Some(now + self.timers.sixty_four_t1());
            }
            // The TU's own retransmissions of its 2xx pass through (RFC 6026 §8.7).
            State::Accepted if status.is_success() => {}
            _ => return Err(AlreadyAnswered),
        }
        out.push(ServerOutput::Send(Message::Response(response.clone())));
        self.last_response = response;
        Ok(())
    }

    pub(super) fn terminate(&mut self) {
        self.timer_g = None;
        self.timer_h = None;
        self.linger = None;
        self.state = State::Terminated;
    }
}
