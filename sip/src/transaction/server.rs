//! Server transactions: INVITE (§17.2.1, with RFC 6026 "Accepted") and non-INVITE (§17.2.2).

use std::time::{Duration, Instant};

use super::timers::TimerConfig;
use crate::message::{Message, Method, Request, Response, StatusCode};

/// What a server transaction wants done.
#[derive(Debug)]
pub(super) enum ServerOutput {
    /// Send this response to the request's source.
    Send(Message),
    /// The ACK for our non-2xx final response arrived.
    Acked,
    /// No ACK for our non-2xx final response (timer H).
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ServerState {
    /// Request received, no response yet (non-INVITE: Trying; INVITE starts in Proceeding).
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// A 2xx to INVITE was sent; INVITE retransmissions are absorbed until timer L.
    Accepted,
    /// A final response was sent (INVITE: non-2xx, waiting for the ACK).
    Completed,
    /// INVITE only: the ACK arrived; absorbing ACK retransmissions until timer I.
    Confirmed,
    /// Done; the layer removes it.
    Terminated,
}

/// One server transaction.
#[derive(Debug)]
pub(super) struct ServerTransaction {
    pub(super) request: Request,
    invite: bool,
    reliable: bool,
    timers: TimerConfig,
    pub(super) state: ServerState,
    last_response: Option<Response>,
    /// Timer G: next retransmission of the final response, and its interval.
    retransmit: Option<(Instant, Duration)>,
    /// Timer H: give up waiting for the ACK.
    ack_deadline: Option<Instant>,
    /// Timer I, J or L: when the transaction terminates.
    linger: Option<Instant>,
}

impl ServerTransaction {
    /// Creates the transaction for a new request. An INVITE is answered `100 Trying` at once
    /// (§17.2.1 allows skipping it only when the TU answers within 200 ms, which we cannot know).
    pub(super) fn start(
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ServerOutput>,
    ) -> ServerTransaction {
        let invite = request.method == Method::Invite;
        let mut transaction = ServerTransaction {
            request,
            invite,
            reliable,
            timers,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            last_response: None,
            retransmit: None,
            ack_deadline: None,
            linger: None,
        };
        if invite {
            let trying = Response::for_request(&transaction.request, StatusCode::TRYING, None);
            transaction.last_response = Some(trying.clone());
            out.push(ServerOutput::Send(Message::Response(trying)));
        }
        transaction
    }

    /// The earliest timer.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        [
            self.retransmit.map(|(at, _)| at),
            self.ack_deadline,
            self.linger,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires every timer due at `now`.
    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ServerOutput>) {
        if self.linger.is_some_and(|at| now >= at) {
            self.terminate();
            return;
        }
        if self.ack_deadline.is_some_and(|at| now >= at) {
            out.push(ServerOutput::Timeout);
            self.terminate();
            return;
        }
        if let Some((at, interval)) = self.retransmit
            && now >= at
        {
            self.resend_last(out);
            let next = (interval * 2).min(self.timers.t2);
            self.retransmit = Some((now + next, next));
        }
    }

    /// A retransmission of the request (or, for INVITE, the ACK to a non-2xx) arrived.
    pub(super) fn handle_request(
        &mut self,
        now: Instant,
        request: &Request,
        out: &mut Vec<ServerOutput>,
    ) {
        if request.method == Method::Ack {
            if self.invite && self.state == ServerState::Completed {
                self.state = ServerState::Confirmed;
                self.retransmit = None;
                self.ack_deadline = None;
                self.linger = Some(now + self.timers.t4_or_zero(self.reliable)); // timer I
                out.push(ServerOutput::Acked);
                if self.linger.is_some_and(|at| now >= at) {
                    self.terminate();
                }
            }
            return;
        }
        match self.state {
            ServerState::Proceeding | ServerState::Completed => self.resend_last(out),
            // Trying: no response yet to repeat; Accepted/Confirmed: absorbed.
            _ => {}
        }
    }

    /// The TU responds.
    pub(super) fn send_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ServerOutput>,
    ) -> bool {
        let status = response.status;
        if self.state == ServerState::Accepted && status.is_success() {
            // RFC 6026 §8.7: the TU retransmits its 2xx through the transaction while it is
            // in Accepted; the transaction passes it to the transport and stays there.
            self.last_response = Some(response.clone());
            out.push(ServerOutput::Send(Message::Response(response)));
            return true;
        }
        let accepted = matches!(self.state, ServerState::Trying | ServerState::Proceeding);
        if !accepted {
            return false;
        }
        self.last_response = Some(response.clone());
        out.push(ServerOutput::Send(Message::Response(response)));
        if status.is_provisional() {
            self.state = ServerState::Proceeding;
        } else if self.invite && status.is_success() {
            self.state = ServerState::Accepted;
            self.linger = Some(now + self.timers.sixty_four_t1()); // timer L
        } else if self.invite {
            self.state = ServerState::Completed;
            if !self.reliable {
                self.retransmit = Some((now + self.timers.t1, self.timers.t1)); // timer G
            }
            self.ack_deadline = Some(now + self.timers.sixty_four_t1()); // timer H
        } else {
            self.state = ServerState::Completed;
            self.linger = Some(now + self.timers.timer_j(self.reliable)); // timer J
            if self.linger.is_some_and(|at| now >= at) {
                self.terminate();
            }
        }
        true
    }

    /// The transport could not deliver our response.
    pub(super) fn handle_transport_error(&mut self) {
        self.terminate();
    }

    fn resend_last(&self, out: &mut Vec<ServerOutput>) {
        if let Some(response) = &self.last_response {
            out.push(ServerOutput::Send(Message::Response(response.clone())));
        }
    }

    fn terminate(&mut self) {
        self.retransmit = None;
        self.ack_deadline = None;
        self.linger = None;
        self.state = ServerState::Terminated;
    }
}
