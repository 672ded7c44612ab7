//! A client transaction of either kind, so the layer can hold them in one map.

use std::time::Instant;

use super::invite_client::InviteClient;
use super::non_invite_client::NonInviteClient;
use super::timers::TimerConfig;
use crate::message::{Message, Method, Request, Response};

/// What a client transaction wants done.
#[derive(Debug)]
pub(super) enum ClientOutput {
    /// Send this message to the transaction's destination.
    Send(Message),
    /// A response for the layer above.
    Response(Response),
    /// No final response in time (timer B or F), or the transport failed before one came.
    Timeout,
}

/// An INVITE (§17.1.1) or non-INVITE (§17.1.2) client transaction.
#[derive(Debug)]
pub(super) enum ClientTransaction {
    /// Figure 5, with RFC 6026 "Accepted".
    Invite(InviteClient),
    /// Figure 6.
    NonInvite(NonInviteClient),
}

impl ClientTransaction {
    /// Starts the transaction for `request`: it goes out at once.
    pub(super) fn start(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<ClientOutput>,
    ) -> ClientTransaction {
        if request.method == Method::Invite {
            ClientTransaction::Invite(InviteClient::start(now, request, reliable, timers, out))
        } else {
            ClientTransaction::NonInvite(NonInviteClient::start(
                now, request, reliable, timers, out,
            ))
        }
    }

    /// The request as sent.
    pub(super) fn request(&self) -> &Request {
        match self {
            ClientTransaction::Invite(t) => t.request(),
            ClientTransaction::NonInvite(t) => t.request(),
        }
    }

    /// Whether a CANCEL may be sent for it now: an INVITE with a provisional response and no
    /// final one yet (§9.1).
    pub(super) fn is_cancellable(&self) -> bool {
        match self {
            ClientTransaction::Invite(t) => t.is_proceeding(),
            ClientTransaction::NonInvite(_) => false,
        }
    }

    /// Whether it has ended (the layer removes it).
    pub(super) fn is_terminated(&self) -> bool {
        match self {
            ClientTransaction::Invite(t) => t.is_terminated(),
            ClientTransaction::NonInvite(t) => t.is_terminated(),
        }
    }

    /// Its earliest running timer.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        match self {
            ClientTransaction::Invite(t) => t.next_timeout(),
            ClientTransaction::NonInvite(t) => t.next_timeout(),
        }
    }

    /// Fires every timer due at `now`.
    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ClientOutput>) {
        match self {
            ClientTransaction::Invite(t) => t.handle_timeout(now, out),
            ClientTransaction::NonInvite(t) => t.handle_timeout(now, out),
        }
    }

    /// Handles a response matched to it.
    pub(super) fn handle_response(
        &mut self,
        now: Instant,
        response: Response,
        out: &mut Vec<ClientOutput>,
    ) {
        match self {
            ClientTransaction::Invite(t) => t.handle_response(now, response, out),
            ClientTransaction::NonInvite(t) => t.handle_response(now, response, out),
        }
    }

    /// The transport could not deliver a message (§17.1.4): a request still waiting for its
    /// final response fails like a timeout; the transaction ends either way.
    pub(super) fn handle_transport_error(&mut self, out: &mut Vec<ClientOutput>) {
        match self {
            ClientTransaction::Invite(t) => t.handle_transport_error(out),
            ClientTransaction::NonInvite(t) => t.handle_transport_error(out),
        }
    }
}
