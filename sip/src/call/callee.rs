//! The callee's side: an incoming INVITE, ringing, answering or refusing it, CANCEL, and our
//! 2xx retransmitted until the ACK.

use std::time::Instant;

use rand::rngs::StdRng;

use super::build::{self, Retransmission};
use super::{Call, CallConfig, CallError, CallOutput, CallState, EndReason, Role};
use crate::auth::{Authenticator, Credentials};
use crate::dialog::Dialog;
use crate::message::{HeaderName, Request};
use crate::random::random_token;
use crate::transaction::TransactionId;

impl Call {
    /// A call from the far end: `invite` arrived on server transaction `transaction`. Answers
    /// nothing yet (the transaction layer already sent 100 Trying where needed): call
    /// [`ring`](Self::ring), [`accept`](Self::accept) or [`reject`](Self::reject).
    ///
    /// Errors with the response to send when the INVITE cannot form a dialog (400).
    pub fn incoming(
        config: CallConfig,
        transaction: TransactionId,
        invite: Request,
        mut rng: StdRng,
        now: Instant,
    ) -> Result<Call, crate::message::Response> {
        let local_tag = random_token(&mut rng, 12);
        let dialog = match Dialog::for_uas(&invite, local_tag.clone()) {
            Ok(dialog) => dialog,
            Err(error) => {
                let mut response = crate::message::Response::for_request(
                    &invite,
                    crate::message::StatusCode::BAD_REQUEST,
                    Some("Bad Request"),
                );
                build::set_to_tag(&mut response, &local_tag);
                response
                    .headers
                    .push(HeaderName::Warning, format!("399 lockphone \"{error}\""));
                return Err(response);
            }
        };
        let remote = dialog.remote_uri.uri.clone();
        let peer_allows_update =
            super::caller::allows_update(invite.headers.get(&HeaderName::Allow));
        let call_id = dialog.id.call_id.clone();
        let mut call = Call::with_defaults(
            Role::Callee,
            config,
            rng,
            Authenticator::new(Credentials::None),
            (call_id, local_tag),
            remote,
            invite,
            now,
        );
        call.invite_transaction = Some(transaction);
        call.dialog = Some(dialog);
        call.peer_allows_update = peer_allows_update;
        Ok(call)
    }

    /// Sends 180 Ringing.
    pub fn ring(&mut self) -> Result<(), CallError> {
        let transaction = self.unanswered("ring")?;
        let mut ringing = self.response_to(&self.invite, 180, "Ringing");
        build::push_capabilities(&self.config, &mut ringing.headers);
        self.state = CallState::Early;
        self.outputs.push_back(CallOutput::Response {
            transaction,
            response: ringing,
        });
        Ok(())
    }

    /// Answers 200 OK with `sdp` (our answer, or our offer when the INVITE had no body). The
    /// call is confirmed when the ACK arrives ([`CallEvent::Answered`](super::CallEvent)).
    pub fn accept(&mut self, now: Instant, sdp: Vec<u8>) -> Result<(), CallError> {
        let transaction = self.unanswered("accept")?;
        self.invite_transaction = None;
        let mut ok = self.response_to(&self.invite, 200, "OK");
        build::push_capabilities(&self.config, &mut ok.headers);
        for (name, value) in &self.config.extra_headers {
            ok.headers.push(name.clone(), value.clone());
        }
        self.timer.on_request(now, &self.invite, &mut ok);
        build::set_sdp(&mut ok.headers, &mut ok.body, sdp.clone());
        self.local_sdp = sdp;
        self.unacked_ok = Some(Retransmission::new(
            ok.clone(),
            now,
            self.config.timers.t1,
            self.config.timers.t2,
        ));
        self.outputs.push_back(CallOutput::Response {
            transaction,
            response: ok,
        });
        // Confirmed for sending requests once the ACK comes; treat as confirmed now so a BYE
        // from us is possible (RFC 3261 §15: the callee may BYE after the ACK or timeout).
        self.state = CallState::Confirmed;
        Ok(())
    }

    /// Refuses the call with `status` (486 Busy Here, 488 Not Acceptable Here, 603 Decline…)
    /// and `reason`; for 488 the reason also goes in a `Warning` (RFC 3261 §20.43, code 399).
    pub fn reject(&mut self, status: u16, reason: &str) -> Result<(), CallError> {
        let transaction = self.unanswered("reject")?;
        self.invite_transaction = None;
        let mut response = self.response_to(&self.invite, status, phrase(status));
        if status == 488 || status == 606 {
            response.headers.push(
                HeaderName::Warning,
                format!("399 lockphone \"{}\"", reason.replace('"', "'")),
            );
        }
        self.outputs.push_back(CallOutput::Response {
            transaction,
            response,
        });
        self.end(EndReason::Rejected {
            status,
            reason: reason.to_owned(),
        });
        Ok(())
    }

    /// The caller cancelled the INVITE (the transaction layer answered the CANCEL): 487 to
    /// the INVITE if we had not answered yet.
    pub fn handle_cancelled(&mut self) {
        if let Some(transaction) = self.invite_transaction.take() {
            let response = self.response_to(&self.invite, 487, "Request Terminated");
            self.outputs.push_back(CallOutput::Response {
                transaction,
                response,
            });
            self.end(EndReason::Cancelled);
        }
    }

    /// The ACK to our 2xx: stops the retransmissions.
    pub(super) fn on_ack(&mut self, ack: &Request) {
        let Some(retransmission) = self.unacked_ok.take() else {
            return;
        };
        let acked_seq = ack.headers.cseq().map(|c| c.seq).ok();
        let ok_seq = retransmission.response.headers.cseq().map(|c| c.seq).ok();
        if acked_seq != ok_seq {
            self.unacked_ok = Some(retransmission);
            return;
        }
        if ok_seq == self.invite.headers.cseq().map(|c| c.seq).ok() {
            self.events.push_back(super::CallEvent::Answered {
                response: None,
                ack: Some(Box::new(ack.clone())),
            });
        }
    }

    pub(super) fn retransmit_ok(&mut self, now: Instant) {
        let Some(retransmission) = &mut self.unacked_ok else {
            return;
        };
        match retransmission.due(now) {
            Some(true) => {
                let response = retransmission.response.clone();
                self.outputs.push_back(CallOutput::Retransmit(response));
            }
            Some(false) => {}
            None => {
                // RFC 3261 §13.3.1.4: no ACK — end the dialog with a BYE.
                self.unacked_ok = None;
                self.send_bye(
                    now,
                    EndReason::Failed {
                        reason: "the far end never acknowledged our answer (no ACK)".to_owned(),
                    },
                );
            }
        }
    }

    fn unanswered(&self, action: &'static str) -> Result<TransactionId, CallError> {
        match (self.role, self.invite_transaction) {
            (Role::Callee, Some(transaction)) => Ok(transaction),
            _ => Err(CallError::WrongState {
                action,
                state: self.state,
            }),
        }
    }
}

/// The usual reason phrase of a status a callee sends ("Refused" for a code without one).
pub(super) fn phrase(status: u16) -> &'static str {
    match crate::message::StatusCode(status).default_reason() {
        "" => "Refused",
        reason => reason,
    }
}

#[cfg(test)]
mod phrase_tests {
    use super::phrase;

    #[test]
    fn phrases_come_from_the_status_table_with_a_fallback() {
        assert_eq!(phrase(486), "Busy Here");
        assert_eq!(phrase(488), "Not Acceptable Here");
        assert_eq!(phrase(606), "Not Acceptable");
        assert_eq!(phrase(603), "Decline");
        assert_eq!(phrase(499), "Refused");
    }
}
