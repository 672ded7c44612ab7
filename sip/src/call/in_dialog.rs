//! Requests inside the dialog: the far end's ACK, BYE, re-INVITE and UPDATE, and ours
//! (re-offers with their 491 glare handling, BYE).

use std::time::{Duration, Instant};

use rand::Rng;

use super::build::{self, set_sdp};
use super::{Call, CallError, CallEvent, CallOutput, CallState, EndReason, PendingReoffer, Role};
use crate::message::{HeaderName, Method, Request, Response};
use crate::transaction::TransactionId;

impl Call {
    /// A request for this call (the driver checks [`matches_request`](Self::matches_request)):
    /// ACK (`transaction` is `None`), BYE, re-INVITE, UPDATE, OPTIONS, INFO. Answers what it
    /// can itself; a re-offer becomes [`CallEvent::Reoffer`].
    pub fn handle_request(
        &mut self,
        now: Instant,
        transaction: Option<TransactionId>,
        request: Request,
    ) {
        if request.method == Method::Ack {
            self.on_ack(&request);
            return;
        }
        let Some(transaction) = transaction else {
            return;
        };
        if self.state == CallState::Terminated {
            self.respond(
                transaction,
                &request,
                481,
                "Call/Transaction Does Not Exist",
            );
            return;
        }
        let seq = request.headers.cseq().map(|c| c.seq).unwrap_or(0);
        if let Some(dialog) = &mut self.dialog
            && !dialog.accept_remote_seq(seq)
        {
            self.respond(transaction, &request, 500, "CSeq out of order");
            return;
        }
        match request.method {
            Method::Bye => {
                self.respond(transaction, &request, 200, "OK");
                self.end(EndReason::RemoteHangup);
            }
            Method::Invite | Method::Update => self.on_reoffer(now, transaction, request),
            Method::Notify => self.on_notify(transaction, &request),
            Method::Refer => self.on_incoming_refer(transaction, &request),
            Method::Options | Method::Info => {
                let mut ok = self.response_to(&request, 200, "OK");
                ok.headers.push(HeaderName::Allow, build::ALLOW);
                self.outputs.push_back(CallOutput::Response {
                    transaction,
                    response: ok,
                });
            }
            _ => {
                let mut response = self.response_to(&request, 405, "Method Not Allowed");
                response.headers.push(HeaderName::Allow, build::ALLOW);
                self.outputs.push_back(CallOutput::Response {
                    transaction,
                    response,
                });
            }
        }
    }

    fn on_reoffer(&mut self, now: Instant, transaction: TransactionId, request: Request) {
        if self.state != CallState::Confirmed {
            // An UPDATE in the early dialog, or a re-INVITE before our 2xx was ACKed.
            self.respond(transaction, &request, 491, "Request Pending");
            return;
        }
        if self.incoming_reoffer.is_some()
            || self
                .reoffer
                .as_ref()
                .is_some_and(|_| self.reoffer_retry_at.is_none())
        {
            // Glare (RFC 3261 §14.2): our own re-offer is in progress.
            self.respond(transaction, &request, 491, "Request Pending");
            return;
        }
        if let Some(dialog) = &mut self.dialog {
            dialog.refresh_target(request.headers.contacts());
        }
        if request.body.is_empty() && !self.local_sdp.is_empty() {
            // A session refresh without SDP: answer at once, and tell the layer above.
            self.answer_refresh(now, transaction, &request);
            self.events.push_back(CallEvent::Refreshed {
                request: Box::new(request),
            });
            return;
        }
        self.incoming_reoffer = Some((transaction, request.clone()));
        self.events.push_back(CallEvent::Reoffer {
            request: Box::new(request),
        });
    }

    fn answer_refresh(&mut self, now: Instant, transaction: TransactionId, request: &Request) {
        // A re-INVITE without SDP wants an offer: repeat our current SDP.
        let sdp = (request.method == Method::Invite).then(|| self.local_sdp.clone());
        self.send_reoffer_ok(now, transaction, request, sdp);
    }

    /// Our 200 to the far end's re-INVITE or UPDATE `request`: capabilities, the session
    /// timer's answer and `sdp` as body; a re-INVITE's is retransmitted until its ACK.
    fn send_reoffer_ok(
        &mut self,
        now: Instant,
        transaction: TransactionId,
        request: &Request,
        sdp: Option<Vec<u8>>,
    ) {
        let mut ok = self.response_to(request, 200, "OK");
        build::push_capabilities(&self.config, &mut ok.headers);
        self.timer.on_request(now, request, &mut ok);
        if let Some(sdp) = sdp {
            set_sdp(&mut ok.headers, &mut ok.body, sdp);
        }
        if request.method == Method::Invite {
            self.arm_ok_retransmission(now, &ok);
        }
        self.outputs.push_back(CallOutput::Response {
            transaction,
            response: ok,
        });
    }

    /// Answers the far end's re-INVITE or UPDATE: `Ok(sdp)` with 200 and our SDP answer (or
    /// our offer if theirs had no body), `Err((status, reason))` to refuse it (488 keeps the
    /// call as it was; the reason goes into a `Warning`).
    pub fn answer_reoffer(
        &mut self,
        now: Instant,
        answer: Result<Vec<u8>, (u16, String)>,
    ) -> Result<(), CallError> {
        let Some((transaction, request)) = self.incoming_reoffer.take() else {
            return Err(CallError::WrongState {
                action: "answer a re-offer in",
                state: self.state,
            });
        };
        match answer {
            Ok(sdp) => {
                self.local_sdp = sdp.clone();
                self.send_reoffer_ok(now, transaction, &request, Some(sdp));
            }
            Err((status, reason)) => {
                let mut response =
                    self.response_to(&request, status, super::callee::phrase(status));
                response.headers.push(
                    HeaderName::Warning,
                    format!("399 lockphone \"{}\"", reason.replace('"', "'")),
                );
                self.outputs.push_back(CallOutput::Response {
                    transaction,
                    response,
                });
            }
        }
        Ok(())
    }

    fn arm_ok_retransmission(&mut self, now: Instant, ok: &Response) {
        self.unacked_ok = Some(build::Retransmission::new(
            ok.clone(),
            now,
            self.config.timers.t1,
            self.config.timers.t2,
        ));
    }

    /// Sends our re-INVITE or UPDATE carrying `sdp` (empty for a refresh UPDATE).
    pub(super) fn send_reoffer(
        &mut self,
        now: Instant,
        method: Method,
        sdp: Vec<u8>,
        refresh: bool,
    ) {
        let Some((mut request, seq)) = self.dialog_request(method.clone()) else {
            return;
        };
        build::push_capabilities(&self.config, &mut request.headers);
        self.timer.decorate_refresh(&mut request.headers);
        set_sdp(&mut request.headers, &mut request.body, sdp.clone());
        self.authenticator.authorize(&mut request, &mut self.rng);
        if !sdp.is_empty() {
            self.local_sdp = sdp.clone();
        }
        self.reoffer = Some(PendingReoffer {
            method,
            seq,
            body: sdp,
            refresh,
        });
        self.timer.on_refresh_sent(now);
        self.outputs.push_back(CallOutput::Request(request));
    }

    pub(super) fn on_reoffer_response(&mut self, now: Instant, seq: u32, response: &Response) {
        let Some(pending) = self.reoffer.as_ref().filter(|p| p.seq == seq) else {
            if response.status.is_success()
                && response
                    .headers
                    .cseq()
                    .is_ok_and(|c| c.method == Method::Invite)
            {
                // A retransmitted 2xx to a re-INVITE already handled: ACK it again.
                self.ack_reinvite(seq);
            }
            return;
        };
        let status = response.status.0;
        if response.status.is_provisional() {
            return;
        }
        let pending = pending.clone();
        if pending.method == Method::Invite && response.status.is_success() {
            self.ack_reinvite(seq);
        }
        match status {
            200..=299 => {
                self.reoffer = None;
                if let Some(dialog) = &mut self.dialog {
                    dialog.refresh_target(response.headers.contacts());
                }
                self.timer.on_answer(now, response);
                if !pending.refresh || !response.body.is_empty() {
                    self.events.push_back(CallEvent::ReofferAnswered {
                        response: Box::new(response.clone()),
                    });
                }
            }
            491 => {
                // Glare: retry after a random wait (RFC 3261 §14.1).
                let wait_ms = match self.role {
                    Role::Caller => self.rng.random_range(2100..=4000),
                    Role::Callee => self.rng.random_range(0..=2000),
                };
                self.reoffer_retry_at = Some(now + Duration::from_millis(wait_ms));
            }
            408 | 481 => {
                self.reoffer = None;
                self.send_bye(
                    now,
                    EndReason::Failed {
                        reason: format!("the far end lost the dialog ({status})"),
                    },
                );
            }
            _ => {
                self.reoffer = None;
                self.events.push_back(CallEvent::ReofferRefused {
                    status,
                    reason: response.reason.clone(),
                });
            }
        }
    }

    fn ack_reinvite(&mut self, seq: u32) {
        let Some(dialog) = &self.dialog else {
            return;
        };
        let mut ack = dialog.request(Method::Ack, seq);
        build::push_via(&self.config, &mut ack, &mut self.rng);
        self.outputs.push_back(CallOutput::Ack(ack));
    }

    /// Sends BYE and reports the end at once (the answer only lets us forget the call).
    pub(super) fn send_bye(&mut self, now: Instant, reason: EndReason) {
        let Some((mut request, _)) = self.dialog_request(Method::Bye) else {
            self.end(reason);
            return;
        };
        self.authenticator.authorize(&mut request, &mut self.rng);
        self.outputs.push_back(CallOutput::Request(request));
        self.end(reason);
        self.state = CallState::Terminating;
        self.bye_deadline = Some(now + super::bye_wait(&self.config.timers));
    }

    pub(super) fn respond(
        &mut self,
        transaction: TransactionId,
        request: &Request,
        status: u16,
        reason: &str,
    ) {
        let response = self.response_to(request, status, reason);
        self.outputs.push_back(CallOutput::Response {
            transaction,
            response,
        });
    }
}
