//! A server transaction of either kind, so the layer can hold them in one map.

use std::time::Instant;

use super::invite_server::InviteServer;
use super::non_invite_server::NonInviteServer;
use super::timers::TimerConfig;
use crate::message::{Message, Method, Request, Response};

/// What a server transaction wants done.
#[derive(Debug)]
pub(super) enum ServerOutput {
    /// Send this response to the request's source.
    Send(Message),
    /// The ACK for our non-2xx final response to an INVITE arrived.
    Acked,
    /// No ACK for our non-2xx final response to an INVITE (timer H).
    AckTimeout,
}

/// Why the TU's response was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AlreadyAnswered;

/// An INVITE (§17.2.1) or non-INVITE (§17.2.2) server transaction.
#[derive(Debug)]
pub(super) enum ServerTransaction {
    /// Figure 7, with RFC 6026 "Accepted".
    Invite(InviteServer),
    /// Figure 8.
    NonInvite(NonInviteServer),
}

impl ServerTransaction {
    /// Creates the transaction for a new request (an INVITE is answered 100 Trying at once).
    pub(super) fn start(
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ServerOutput>,
    ) -> ServerTransaction {
        if request.method == Method::Invite {
            ServerTransaction::Invite(InviteServer::start(request, reliable, timers, out))
        } else {
            ServerTransaction::NonInvite(NonInviteServer::start(request, reliable, timers))
        }
    }

    /// The request that created it.
    pub(super) fn request(&self) -> &Request {
        match self {
            ServerTransaction::Invite(t) => t.request(),
            ServerTransaction::NonInvite(t) => t.request(),
        }
    }

    /// Whether it is an INVITE transaction still waiting for the TU's final response (what a
    /// CANCEL can still affect, §9.2).
    pub(super) fn is_cancellable(&self) -> bool {
        match self {
            ServerTransaction::Invite(t) => t.is_proceeding(),
            ServerTransaction::NonInvite(_) => false,
        }
    }

    /// Whether it is an INVITE transaction that sent a 2xx (RFC 6026 Accepted): an ACK that
    /// matches it belongs to the TU.
    pub(super) fn is_accepted(&self) -> bool {
        match self {
            ServerTransaction::Invite(t) => t.is_accepted(),
            ServerTransaction::NonInvite(_) => false,
        }
    }

    /// Whether it has ended (the layer removes it).
    pub(super) fn is_terminated(&self) -> bool {
        match self {
            ServerTransaction::Invite(t) => t.is_terminated(),
            ServerTransaction::NonInvite(t) => t.is_terminated(),
        }
    }

    /// Its earliest running timer.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        match self {
            ServerTransaction::Invite(t) => t.next_timeout(),
            ServerTransaction::NonInvite(t) => t.next_timeout(),
        }
    }

    /// Fires every timer due at `now`.
    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ServerOutput>) {
        match self {
            ServerTransaction::Invite(t) => t.handle_timeout(now, out),
            ServerTransaction::NonInvite(t) => t.handle_timeout(now, out),
        }
    }

    /// A request matched to it: a retransmission, or (INVITE) the ACK to a non-2xx final.
    pub(super) fn handle_request(
        &mut self,
        now: Instant,
        request: &Request,
        out: &mut Vec<ServerOutput>,
    ) {
        match self {
            ServerTransaction::Invite(t) if request.method == Method::Ack => t.handle_ack(now, out),
            ServerTransaction::Invite(t) => t.handle_retransmission(out),
            ServerTransaction::NonInvite(t) => t.handle_retransmission(out),
        }
    }

    /// The TU's response.
    pub(super) fn send_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ServerOutput>,
    ) -> Result<(), AlreadyAnswered> {
        match self {
            ServerTransaction::Invite(t) => t.send_response(now, response, out),
            ServerTransaction::NonInvite(t) => t.send_response(now, response, out),
        }
    }

    /// The transport could not deliver a response: the transaction ends (§17.2.4).
    pub(super) fn handle_transport_error(&mut self) {
        match self {
            ServerTransaction::Invite(t) => t.terminate(),
            ServerTransaction::NonInvite(t) => t.terminate(),
        }
    }
}
