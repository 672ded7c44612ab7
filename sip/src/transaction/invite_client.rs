//! The INVITE client transaction (RFC 3261 §17.1.1, figure 5) with the "Accepted" state of
//! RFC 6026 §7.2.
//!
//! ```text
//!            INVITE sent, timers A (retransmit, UDP only) and B (give up)
//!  Calling ──1xx──▶ Proceeding ──300-699: ACK, timer D──▶ Completed ──D──▶ Terminated
//!     │  └──────────────┴───────2xx: timer M──▶ Accepted ──M──▶ Terminated
//!     └──B: Timeout──▶ Terminated
//! ```
//!
//! The transaction ACKs non-2xx finals itself; a 2xx (and every retransmission of it until
//! timer M) goes up to the TU, which sends its own ACK (§13.2.2.4).

use std::time::Instant;

use super::client::ClientOutput;
use super::timers::{Retransmit, TimerConfig, earliest, is_due};
use crate::message::{HeaderName, Message, Method, Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    Accepted,
    Completed,
    Terminated,
}

/// One INVITE client transaction.
#[derive(Debug)]
pub(super) struct InviteClient {
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    state: State,
    /// Timer A: the next retransmission (Calling, unreliable transports only).
    timer_a: Option<Retransmit>,
    /// Timer B: give up waiting for any response (Calling).
    timer_b: Option<Instant>,
    /// Timer D (Completed) or M (Accepted): when the transaction ends.
    linger: Option<Instant>,
    /// The ACK for the non-2xx final, sent again for each retransmission of that final.
    ack: Option<Request>,
}

impl InviteClient {
    /// Sends the INVITE and starts timers A and B.
    pub(super) fn start(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ClientOutput>,
    ) -> InviteClient {
        out.push(ClientOutput::Send(Message::Request(request.clone())));
        InviteClient {
            request,
            reliable,
            timers,
            state: State::Calling,
            timer_a: timers.first_retransmission(now, reliable),
            timer_b: Some(now + timers.sixty_four_t1()),
            linger: None,
            ack: None,
        }
    }

    pub(super) fn request(&self) -> &Request {
        &self.request
    }

    pub(super) fn is_proceeding(&self) -> bool {
        self.state == State::Proceeding
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_a.map(|a| a.at()), self.timer_b, self.linger])
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ClientOutput>) {
        if is_due(self.linger, now) {
            self.terminate();
        } else if is_due(self.timer_b, now) {
            out.push(ClientOutput::Timeout);
            self.terminate();
        } else if let Some(timer_a) = &mut self.timer_a
            && timer_a.at() <= now
        {
            out.push(ClientOutput::Send(Message::Request(self.request.clone())));
            timer_a.rearm_doubled(now, None); // timer A doubles without a cap
        }
    }

    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ClientOutput>,
    ) {
        let status = response.status;
        match self.state {
            State::Calling | State::Proceeding if status.is_provisional() => {
                // §17.1.1.2: no more retransmissions, and timer B only applies in Calling.
                self.state = State::Proceeding;
                self.stop_request_timers();
                out.push(ClientOutput::Response(response));
            }
            State::Calling | State::Proceeding if status.is_success() => {
                self.state = State::Accepted;
                self.stop_request_timers();
                self.linger = Some(now + self.timers.sixty_four_t1()); // timer M
                out.push(ClientOutput::Response(response));
            }
            State::Calling | State::Proceeding => {
                self.state = State::Completed;
                self.stop_request_timers();
                let ack = self.ack_for(&response);
                out.push(ClientOutput::Send(Message::Request(ack.clone())));
                self.ack = Some(ack);
                self.linger = Some(now + self.timers.timer_d(self.reliable));
                out.push(ClientOutput::Response(response));
                if is_due(self.linger, now) {
                    self.terminate();
                }
            }
            // A retransmitted 2xx: the TU sends its ACK again (RFC 6026 §7.2).
            State::Accepted if status.is_success() => out.push(ClientOutput::Response(response)),
            // A retransmitted non-2xx final: the same ACK again, nothing for the TU.
            State::Completed if status.is_final() => {
                if let Some(ack) = &self.ack {
                    out.push(ClientOutput::Send(Message::Request(ack.clone())));
                }
            }
            _ => {}
        }
    }

    pub(super) fn handle_transport_error(&mut self, out: &mut Vec<ClientOutput>) {
        if matches!(self.state, State::Calling | State::Proceeding) {
            out.push(ClientOutput::Timeout);
        }
        self.terminate();
    }

    fn stop_request_timers(&mut self) {
        self.timer_a = None;
        self.timer_b = None;
    }

    fn terminate(&mut self) {
        self.stop_request_timers();
        self.linger = None;
        self.state = State::Terminated;
    }

    /// The ACK for a non-2xx final response (§17.1.1.3): the INVITE's Request-URI, top Via
    /// (so the same branch), From, Call-ID and Route; To from the response (with its tag);
    /// the INVITE's CSeq number with method ACK.
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
