//! Client transactions: INVITE (§17.1.1, with RFC 6026 "Accepted") and non-INVITE (§17.1.2).

use std::time::{Duration, Instant};

use super::timers::TimerConfig;
use crate::message::{HeaderName, Message, Method, Request, Response};

/// What a client transaction wants done.
#[derive(Debug)]
pub(super) enum ClientOutput {
    /// Send this message to the transaction's destination.
    Send(Message),
    /// A response for the layer above.
    Response(Response),
    /// No final response in time (timer B or F).
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientState {
    /// INVITE sent, nothing heard (INVITE: Calling; non-INVITE: Trying).
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A 2xx to INVITE arrived; retransmitted 2xx are passed up until timer M (RFC 6026).
    Accepted,
    /// A final response arrived (for INVITE: a non-2xx, ACKed).
    Completed,
    /// Done; the layer removes it.
    Terminated,
}

/// One client transaction.
#[derive(Debug)]
pub(super) struct ClientTransaction {
    request: Request,
    invite: bool,
    reliable: bool,
    timers: TimerConfig,
    pub(super) state: ClientState,
    /// Next retransmission (timer A or E) and the interval that led to it.
    retransmit: Option<(Instant, Duration)>,
    /// Timer B or F.
    timeout: Option<Instant>,
    /// Timer D, K or M: when the transaction terminates.
    linger: Option<Instant>,
    /// The ACK sent for a non-2xx final (resent on retransmitted finals).
    ack: Option<Request>,
}

impl ClientTransaction {
    /// Starts the transaction: the request goes out at once.
    pub(super) fn start(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ClientOutput>,
    ) -> ClientTransaction {
        let invite = request.method == Method::Invite;
        let retransmit = (!reliable).then_some((now + timers.t1, timers.t1));
        out.push(ClientOutput::Send(Message::Request(request.clone())));
        ClientTransaction {
            request,
            invite,
            reliable,
            timers,
            state: ClientState::Calling,
            retransmit,
            timeout: Some(now + timers.sixty_four_t1()),
            linger: None,
            ack: None,
        }
    }

    /// The request as sent.
    pub(super) fn request(&self) -> &Request {
        &self.request
    }

    /// The earliest timer.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        [self.retransmit.map(|(at, _)| at), self.timeout, self.linger]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires every timer due at `now`.
    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ClientOutput>) {
        if self.linger.is_some_and(|at| now >= at) {
            self.terminate();
            return;
        }
        if self.timeout.is_some_and(|at| now >= at) {
            out.push(ClientOutput::Timeout);
            self.terminate();
            return;
        }
        if let Some((at, interval)) = self.retransmit
            && now >= at
        {
            out.push(ClientOutput::Send(Message::Request(self.request.clone())));
            let next = if self.invite {
                interval * 2 // timer A doubles without a cap
            } else if self.state == ClientState::Proceeding {
                self.timers.t2 // timer E in Proceeding: every T2
            } else {
                (interval * 2).min(self.timers.t2)
            };
            self.retransmit = Some((now + next, next));
        }
    }

    /// Handles a response matched to this transaction.
    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ClientOutput>,
    ) {
        let status = response.status;
        match self.state {
            ClientState::Calling | ClientState::Proceeding if status.is_provisional() => {
                self.state = ClientState::Proceeding;
                if self.invite {
                    // §17.1.1.2: no more retransmissions, and timer B only applies in Calling.
                    self.retransmit = None;
                    self.timeout = None;
                }
                // Non-INVITE (§17.1.2.2): timer E keeps running; from its next firing on it
                // uses T2 (see `handle_timeout`).
                out.push(ClientOutput::Response(response));
            }
            ClientState::Calling | ClientState::Proceeding
                if self.invite && status.is_success() =>
            {
                self.state = ClientState::Accepted;
                self.stop_timers();
                self.linger = Some(now + self.timers.sixty_four_t1()); // timer M
                out.push(ClientOutput::Response(response));
            }
            ClientState::Calling | ClientState::Proceeding => {
                self.state = ClientState::Completed;
                self.stop_timers();
                if self.invite {
                    let ack = self.ack_for(&response);
                    out.push(ClientOutput::Send(Message::Request(ack.clone())));
                    self.ack = Some(ack);
                    self.linger = Some(now + self.timers.timer_d(self.reliable));
                } else {
                    self.linger = Some(now + self.timers.t4_or_zero(self.reliable));
                }
                out.push(ClientOutput::Response(response));
            }
            ClientState::Accepted if status.is_success() => {
                // A retransmitted 2xx: the TU re-sends its ACK.
                out.push(ClientOutput::Response(response));
            }
            ClientState::Completed if status.is_final() => {
                if let Some(ack) = &self.ack {
                    out.push(ClientOutput::Send(Message::Request(ack.clone())));
                }
            }
            _ => {}
        }
        if self.linger.is_some_and(|at| now >= at) {
            self.terminate();
        }
    }

    /// The transport could not deliver the request: the transaction fails like a timeout.
    pub(super) fn handle_transport_error(&mut self, out: &mut Vec<ClientOutput>) {
        if matches!(self.state, ClientState::Calling | ClientState::Proceeding) {
            out.push(ClientOutput::Timeout);
        }
        self.terminate();
    }

    fn stop_timers(&mut self) {
        self.retransmit = None;
        self.timeout = None;
    }

    fn terminate(&mut self) {
        self.stop_timers();
        self.linger = None;
        self.state = ClientState::Terminated;
    }

    /// The ACK for a non-2xx final response (§17.1.1.3): same Request-URI, top Via, From,
    /// Call-ID and Route as the INVITE, To from the response, CSeq number with method ACK.
    fn ack_for(&self, response: &Response) -> Request {
        let mut ack = Request::new(Method::Ack, self.request.uri.clone());
        let original = &self.request.headers;
        if let Ok(via) = original.top_via() {
            ack.headers.push(HeaderName::Via, via.to_string());
        }
        ack.headers.push(HeaderName::MaxForwards, "70");
        for name in [HeaderName::From, HeaderName::CallId] {
            if let Some(value) = original.get(&name) {
                ack.headers.push(name, value);
            }
        }
        if let Some(to) = response.headers.get(&HeaderName::To) {
            ack.headers.push(HeaderName::To, to);
        }
        if let Ok(cseq) = original.cseq() {
            ack.headers
                .push(HeaderName::CSeq, format!("{} ACK", cseq.seq));
        }
        for route in original.get_all(&HeaderName::Route) {
            ack.headers.push(HeaderName::Route, route);
        }
        ack
    }
}
