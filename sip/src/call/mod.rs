//! One call's signalling: the INVITE dialog as caller or callee (RFC 3261 §13–15), re-INVITE
//! and UPDATE (RFC 3311) for hold and resume, session timers (RFC 4028), CANCEL and BYE.
//!
//! Sans-IO like the rest of the crate. The SDP bodies are opaque here: the layer above does the
//! offer/answer (see [`offer_answer`](crate::offer_answer)) and hands bodies in and out. The
//! driver owns a [`TransactionLayer`](crate::transaction::TransactionLayer) and moves
//! [`CallOutput`]s into it:
//!
//! - [`CallOutput::Request`]: start a client transaction; feed its responses back with
//!   [`Call::handle_response`] (matched by CSeq) and its failure with
//!   [`Call::transaction_failed`];
//! - [`CallOutput::Ack`]: the ACK to a 2xx, sent without a transaction to the dialog's next hop;
//! - [`CallOutput::CancelInvite`]: cancel the pending INVITE transaction;
//! - [`CallOutput::Response`]: answer a server transaction handed in by
//!   [`Call::handle_request`]; [`CallOutput::Retransmit`]: the 2xx again, until the ACK.
//!
//! ```
//! use std::time::Instant;
//! use lockphone_sip::call::{Call, CallConfig, CallOutput};
//! use lockphone_sip::auth::{Authenticator, Credentials};
//! use lockphone_sip::message::Transport;
//! use rand::SeedableRng;
//!
//! let config = CallConfig::new(
//!     "sip:alice@example.test".parse().unwrap(),
//!     "sip:alice@192.0.2.1:5061;transport=tls".parse().unwrap(),
//!     Transport::Tls,
//! );
//! let rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut call = Call::outgoing(
//!     config,
//!     "sip:bob@example.test".parse().unwrap(),
//!     b"v=0\r\n".to_vec(),
//!     Authenticator::new(Credentials::None),
//!     rng,
//!     Instant::now(),
//! );
//! let Some(CallOutput::Request(invite)) = call.poll_output() else { panic!() };
//! assert_eq!(invite.method, lockphone_sip::Method::Invite);
//! ```

mod build;
mod callee;
mod caller;
mod in_dialog;
mod session_timer;
#[cfg(test)]
mod tests;
mod transfer;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use crate::auth::Authenticator;
use crate::dialog::{Dialog, DialogId};
use crate::message::{Method, Request, Response, Transport, Uri};
use crate::transaction::{TimerConfig, TransactionId};

pub use session_timer::SessionTimerConfig;
pub use transfer::{TRANSFER_WAIT, TransferProgress, sipfrag_status};

/// The methods a Lockphone user agent accepts (its `Allow` header, in REGISTER, dialogs and
/// OPTIONS answers alike).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, NOTIFY";

/// What a call is configured with. Start from [`CallConfig::new`].
#[derive(Debug, Clone)]
pub struct CallConfig {
    /// Our address of record (From of our INVITE, or the To of the INVITE we answer).
    pub local: Uri,
    /// Our display name.
    pub display_name: Option<String>,
    /// Our Contact.
    pub contact: Uri,
    /// The transport named in `Via`.
    pub transport: Transport,
    /// The `Via` sent-by (`host[:port]`); defaults to the contact's.
    pub via_sent_by: Option<String>,
    /// The `User-Agent` / `Server` header.
    pub user_agent: Option<String>,
    /// A preloaded route (an outbound proxy such as the registrar, with `;lr`).
    pub outbound_proxy: Option<Uri>,
    /// Option tags put in `Supported` (`timer` is added when session timers are on).
    pub supported: Vec<String>,
    /// Session timers (RFC 4028).
    pub session_timer: SessionTimerConfig,
    /// T1/T2 for retransmitting our 2xx until the ACK.
    pub timers: TimerConfig,
    /// Extra headers for the initial INVITE or our 2xx (for example `Call-Info`).
    pub extra_headers: Vec<(crate::message::HeaderName, String)>,
}

impl CallConfig {
    /// A configuration with no proxy, session timers on with the RFC 4028 defaults.
    pub fn new(local: Uri, contact: Uri, transport: Transport) -> CallConfig {
        CallConfig {
            local,
            display_name: None,
            contact,
            transport,
            via_sent_by: None,
            user_agent: None,
            outbound_proxy: None,
            supported: Vec::new(),
            session_timer: SessionTimerConfig::default(),
            timers: TimerConfig::default(),
            extra_headers: Vec::new(),
        }
    }
}

/// Whether we placed the call or received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We sent the INVITE.
    Caller,
    /// We received the INVITE.
    Callee,
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent (caller) or received (callee), no provisional answer yet.
    Trying,
    /// A provisional answer (180/183) was received or sent.
    Early,
    /// Answered: the dialog is confirmed.
    Confirmed,
    /// BYE sent, waiting for its answer.
    Terminating,
    /// Over.
    Terminated,
}

/// Something for the driver to do. See the [module documentation](self).
#[derive(Debug, Clone)]
pub enum CallOutput {
    /// Start a client transaction with this request.
    Request(Request),
    /// Send this ACK (to a 2xx) without a transaction, to the dialog's next hop.
    Ack(Request),
    /// Cancel the INVITE client transaction of this call.
    CancelInvite,
    /// Answer this server transaction.
    Response {
        /// The server transaction.
        transaction: TransactionId,
        /// The answer.
        response: Response,
    },
    /// Send this 2xx again, without a transaction, to where the INVITE came from.
    Retransmit(Response),
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// We hung up.
    LocalHangup,
    /// The far end hung up (BYE).
    RemoteHangup,
    /// The caller cancelled before we answered, or we cancelled.
    Cancelled,
    /// The call was refused with this final status.
    Rejected {
        /// The status code.
        status: u16,
        /// Its reason phrase (or our explanation).
        reason: String,
    },
    /// Something failed: no answer, transport error, missing ACK, session timer ran out.
    Failed {
        /// In plain words.
        reason: String,
    },
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::LocalHangup => f.write_str("hung up"),
            EndReason::RemoteHangup => f.write_str("the far end hung up"),
            EndReason::Cancelled => f.write_str("cancelled"),
            EndReason::Rejected { status, reason } => write!(f, "refused: {status} {reason}"),
            EndReason::Failed { reason } => write!(f, "failed: {reason}"),
        }
    }
}

/// What happened, for the layer above.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CallEvent {
    /// A provisional answer (caller side); its body, if any, is an early SDP answer.
    Progress {
        /// The response.
        response: Box<Response>,
    },
    /// The call was answered (caller: the 2xx, whose body is the SDP answer; callee: the ACK
    /// arrived, whose body is the SDP answer when our 2xx carried the offer).
    Answered {
        /// The 2xx (caller) — read `Call-Info`, the body.
        response: Option<Box<Response>>,
        /// The ACK (callee).
        ack: Option<Box<Request>>,
    },
    /// The far end sent a re-INVITE or UPDATE: answer it with [`Call::answer_reoffer`].
    /// A request without a body asks us for an offer.
    Reoffer {
        /// The request (read `Call-Info`, the SDP offer).
        request: Box<Request>,
    },
    /// The far end sent a re-INVITE or UPDATE without SDP (a session refresh), already
    /// answered: nothing to negotiate, but its headers may say something (CUCM's `Call-Info`
    /// with the far end's security).
    Refreshed {
        /// The request.
        request: Box<Request>,
    },
    /// The far end answered our re-INVITE or UPDATE (its body is the SDP answer).
    ReofferAnswered {
        /// The 2xx.
        response: Box<Response>,
    },
    /// The far end refused our re-INVITE or UPDATE; the call goes on as before.
    ReofferRefused {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// The far end rejected our bearer token (`error="invalid_token"`) on the INVITE: renew
    /// it and hand it over with [`Call::set_credentials`]; the INVITE is then sent again once.
    TokenRejected {
        /// The server's `error_description`.
        description: Option<String>,
    },
    /// How a transfer we asked for with [`Call::refer`] goes.
    Transfer {
        /// The news.
        progress: TransferProgress,
    },
    /// The call is over.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The action does not fit the call's state.
    #[error("cannot {action} a call that is {state:?}")]
    WrongState {
        /// What was asked.
        action: &'static str,
        /// Where the call stands.
        state: CallState,
    },
    /// A re-INVITE or UPDATE of ours is still waiting for its answer.
    #[error("a re-INVITE or UPDATE is already in progress")]
    ReofferPending,
    /// A transfer (REFER) of ours is still under way.
    #[error("a transfer is already in progress")]
    TransferPending,
}

/// Our re-INVITE or UPDATE waiting for its answer (or for a retry after 491).
#[derive(Debug, Clone)]
struct PendingReoffer {
    method: Method,
    seq: u32,
    body: Vec<u8>,
    /// True for a session refresh without new SDP (its answer is not reported as a re-offer).
    refresh: bool,
}

/// One call. See the [module documentation](self).
#[derive(Debug)]
pub struct Call {
    role: Role,
    config: CallConfig,
    state: CallState,
    rng: StdRng,
    authenticator: Authenticator,
    /// Call-ID and our tag, fixed from the start.
    call_id: String,
    local_tag: String,
    /// The peer's URI (caller: the Request-URI/To; callee: From).
    remote: Uri,
    /// Caller: the INVITE as last sent (with credentials); callee: the INVITE received.
    invite: Request,
    /// Callee: the INVITE's server transaction, until answered.
    invite_transaction: Option<TransactionId>,
    dialog: Option<Dialog>,
    /// Caller: hang-up asked before any provisional answer; CANCEL once one comes.
    cancel_pending: bool,
    cancelled: bool,
    /// The one retry after a rejected bearer token has been used.
    token_retry_used: bool,
    /// The INVITE waits for a renewed token (see [`Call::set_credentials`]).
    awaiting_token: bool,
    /// Callee: our 2xx, retransmitted until the ACK.
    unacked_ok: Option<build::Retransmission>,
    /// Our outstanding re-INVITE/UPDATE.
    reoffer: Option<PendingReoffer>,
    /// After a 491, when to send the re-offer again.
    reoffer_retry_at: Option<Instant>,
    /// The far end's re-INVITE/UPDATE awaiting our answer.
    incoming_reoffer: Option<(TransactionId, Request)>,
    /// Our REFER, until its outcome is known.
    transfer: Option<transfer::PendingTransfer>,
    /// REFERs sent in this dialog (the first one's NOTIFYs may omit `id`).
    refers_sent: u32,
    /// The SDP body we last sent (offer or answer); a session refresh re-sends it.
    local_sdp: Vec<u8>,
    /// Whether the far end accepts UPDATE (from its Allow).
    peer_allows_update: bool,
    timer: session_timer::SessionTimer,
    /// BYE sent: give up waiting for its answer at this time.
    bye_deadline: Option<Instant>,
    outputs: VecDeque<CallOutput>,
    events: VecDeque<CallEvent>,
}

impl Call {
    /// A call in its first state, with nothing sent or received yet.
    #[allow(clippy::too_many_arguments)]
    fn with_defaults(
        role: Role,
        config: CallConfig,
        rng: StdRng,
        authenticator: Authenticator,
        (call_id, local_tag): (String, String),
        remote: Uri,
        invite: Request,
        now: Instant,
    ) -> Call {
        let timer = session_timer::SessionTimer::new(config.session_timer.clone(), now);
        Call {
            role,
            config,
            state: CallState::Trying,
            rng,
            authenticator,
            call_id,
            local_tag,
            remote,
            invite,
            invite_transaction: None,
            dialog: None,
            cancel_pending: false,
            cancelled: false,
            token_retry_used: false,
            awaiting_token: false,
            unacked_ok: None,
            reoffer: None,
            reoffer_retry_at: None,
            incoming_reoffer: None,
            transfer: None,
            refers_sent: 0,
            local_sdp: Vec::new(),
            peer_allows_update: false,
            timer,
            bye_deadline: None,
            outputs: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the call stands.
    pub fn state(&self) -> CallState {
        self.state
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The dialog, once formed.
    pub fn dialog(&self) -> Option<&Dialog> {
        self.dialog.as_ref()
    }

    /// The dialog's identity, once formed.
    pub fn dialog_id(&self) -> Option<&DialogId> {
        self.dialog.as_ref().map(|d| &d.id)
    }

    /// The far end's URI.
    pub fn remote_uri(&self) -> &Uri {
        &self.remote
    }

    /// The INVITE that started the call (as last sent by us, or as received).
    pub fn invite(&self) -> &Request {
        &self.invite
    }

    /// Whether the call is over (the driver may forget it).
    pub fn is_terminated(&self) -> bool {
        self.state == CallState::Terminated
    }

    /// Whether `request` belongs to this call: an in-dialog request (or ACK/CANCEL of the
    /// initial INVITE) with our Call-ID and tags.
    pub fn matches_request(&self, request: &Request) -> bool {
        let Ok(call_id) = request.headers.call_id() else {
            return false;
        };
        if call_id != self.call_id {
            return false;
        }
        match (self.role, request.headers.to_header().ok()) {
            (Role::Callee, Some(to)) => to.tag().is_none_or(|tag| tag == self.local_tag),
            (Role::Caller, Some(to)) => to.tag() == Some(self.local_tag.as_str()),
            _ => false,
        }
    }

    /// Whether `response` answers one of our requests in this call.
    pub fn matches_response(&self, response: &Response) -> bool {
        // The Call-ID first: it is a plain lookup, and only the matching call parses From.
        response.headers.call_id().ok() == Some(self.call_id.as_str())
            && response
                .headers
                .from_header()
                .is_ok_and(|from| from.tag() == Some(self.local_tag.as_str()))
    }

    /// Hangs up: CANCEL while the caller waits for an answer (deferred until a provisional
    /// answer arrives, RFC 3261 §9.1), 603 Decline as an unanswered callee, BYE once answered.
    pub fn hangup(&mut self, now: Instant) {
        match (self.role, self.state) {
            (_, CallState::Terminating | CallState::Terminated) => {}
            (Role::Caller, CallState::Trying) => self.cancel_pending = true,
            (Role::Caller, CallState::Early) => self.send_cancel(),
            (Role::Callee, CallState::Trying | CallState::Early) => {
                let _ = self.reject(603, "Decline");
            }
            (_, CallState::Confirmed) => self.send_bye(now, EndReason::LocalHangup),
        }
    }

    /// Puts a new SDP offer to the far end in a re-INVITE (or UPDATE when `update` is true and
    /// the far end allows it): hold, resume, new address.
    pub fn reoffer(&mut self, now: Instant, sdp: Vec<u8>, update: bool) -> Result<(), CallError> {
        if self.state != CallState::Confirmed {
            return Err(CallError::WrongState {
                action: "re-offer",
                state: self.state,
            });
        }
        if self.reoffer.is_some() || self.incoming_reoffer.is_some() {
            return Err(CallError::ReofferPending);
        }
        let method = if update && self.peer_allows_update {
            Method::Update
        } else {
            Method::Invite
        };
        self.send_reoffer(now, method, sdp, false);
        Ok(())
    }

    /// Replaces the credentials used for the next challenge (a renewed OAuth token, say).
    /// An INVITE whose token was rejected ([`CallEvent::TokenRejected`]) is sent again with
    /// them, once.
    pub fn set_credentials(&mut self, credentials: crate::auth::Credentials) {
        self.authenticator.set_credentials(credentials);
        if std::mem::take(&mut self.awaiting_token) && self.state < CallState::Confirmed {
            if self.cancel_pending || self.cancelled {
                self.end(EndReason::Cancelled);
            } else {
                self.resend_invite();
            }
        }
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<CallOutput> {
        self.outputs.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<CallEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.unacked_ok.as_ref().map(build::Retransmission::next),
            self.reoffer_retry_at,
            self.timer.poll_timeout(),
            self.bye_deadline,
            self.transfer
                .as_ref()
                .and_then(transfer::PendingTransfer::deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires what is due at `now`: 2xx retransmission, ACK timeout, 491 retry, session refresh
    /// or expiry, BYE timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.retransmit_ok(now);
        if self.reoffer_retry_at.is_some_and(|at| at <= now) {
            self.reoffer_retry_at = None;
            if let Some(pending) = self.reoffer.take() {
                self.send_reoffer(now, pending.method, pending.body, pending.refresh);
            }
        }
        if self.bye_deadline.is_some_and(|at| at <= now) {
            self.bye_deadline = None;
            self.state = CallState::Terminated;
        }
        self.session_timer_due(now);
        self.transfer_timeout(now);
    }

    /// A client transaction of this call failed (timeout or transport error); `method` and
    /// `seq` identify it (from its request's CSeq).
    pub fn transaction_failed(&mut self, now: Instant, method: &Method, seq: u32) {
        let reason = format!("no answer to our {method}");
        match method {
            Method::Invite if self.state < CallState::Confirmed => {
                self.end(EndReason::Failed { reason });
            }
            Method::Bye => self.state = CallState::Terminated,
            Method::Refer => self.refer_failed(seq),
            Method::Invite | Method::Update
                if self.reoffer.as_ref().is_some_and(|p| p.seq == seq) =>
            {
                // RFC 3261 §14.1: a timed-out re-INVITE ends the dialog.
                self.reoffer = None;
                self.send_bye(now, EndReason::Failed { reason });
            }
            _ => {}
        }
    }

    fn end(&mut self, reason: EndReason) {
        if self.state == CallState::Terminated {
            return;
        }
        self.state = CallState::Terminated;
        self.unacked_ok = None;
        self.timer.stop();
        self.events.push_back(CallEvent::Ended { reason });
    }
}

impl PartialOrd for CallState {
    fn partial_cmp(&self, other: &CallState) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CallState {
    fn cmp(&self, other: &CallState) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

/// How long a caller waits for the answer to its BYE before forgetting the call (64·T1).
fn bye_wait(timers: &TimerConfig) -> Duration {
    timers.t1 * 64
}
