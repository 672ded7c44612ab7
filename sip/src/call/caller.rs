//! The caller's side: the initial INVITE, its answers, authentication, CANCEL; and the
//! dispatch of every response to the request of ours it answers.

use std::time::Instant;

use rand::rngs::StdRng;

use super::build::{self, initial_invite};
use super::{Call, CallConfig, CallEvent, CallOutput, CallState, EndReason, Role};
use crate::auth::{AuthError, Authenticator, ChallengeOutcome};
use crate::dialog::Dialog;
use crate::message::{HeaderName, Method, Response, StatusCode, Uri};
use crate::random::random_token;

impl Call {
    /// A call from us to `target`, offering `sdp`. The INVITE is the first
    /// [`CallOutput::Request`].
    pub fn outgoing(
        config: CallConfig,
        target: Uri,
        sdp: Vec<u8>,
        authenticator: Authenticator,
        mut rng: StdRng,
        now: Instant,
    ) -> Call {
        let call_id = format!("{}@lockphone", random_token(&mut rng, 24));
        let local_tag = random_token(&mut rng, 12);
        let invite = initial_invite(
            &config,
            &target,
            &call_id,
            &local_tag,
            1,
            sdp.clone(),
            &mut rng,
        );
        let mut call = Call::with_defaults(
            Role::Caller,
            config,
            rng,
            authenticator,
            (call_id, local_tag),
            target,
            invite.clone(),
            now,
        );
        call.local_sdp = sdp;
        call.outputs.push_back(CallOutput::Request(invite));
        call
    }

    /// A response to one of our requests in this call (the driver checks
    /// [`matches_response`](Self::matches_response)); matched to the request by CSeq.
    pub fn handle_response(&mut self, now: Instant, response: &Response) {
        let Ok(cseq) = response.headers.cseq() else {
            return;
        };
        match cseq.method {
            Method::Invite if cseq.seq == self.invite_seq() && self.role == Role::Caller => {
                self.on_invite_response(now, response);
            }
            Method::Invite | Method::Update => self.on_reoffer_response(now, cseq.seq, response),
            Method::Bye => {
                self.bye_deadline = None;
                self.state = CallState::Terminated;
            }
            Method::Refer => self.on_refer_response(now, cseq.seq, response),
            _ => {}
        }
    }

    fn invite_seq(&self) -> u32 {
        self.invite.headers.cseq().map_or(0, |c| c.seq)
    }

    fn on_invite_response(&mut self, now: Instant, response: &Response) {
        let status = response.status;
        if status.is_provisional() {
            self.on_provisional(response);
        } else if status.is_success() {
            self.on_invite_success(now, response);
        } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::PROXY_AUTH_REQUIRED {
            self.on_challenge(response);
        } else if self.state < CallState::Confirmed {
            let reason = if self.cancelled && status.0 == 487 {
                EndReason::Cancelled
            } else {
                EndReason::Rejected {
                    status: status.0,
                    reason: reason_with_warning(response),
                }
            };
            self.end(reason);
        }
    }

    fn on_provisional(&mut self, response: &Response) {
        if response.status == StatusCode::TRYING {
            if self.cancel_pending {
                self.send_cancel();
            }
            return;
        }
        if self.state == CallState::Trying {
            self.state = CallState::Early;
        }
        if self.dialog.is_none()
            && let Ok(dialog) = Dialog::for_uac(&self.invite, response)
        {
            self.dialog = Some(dialog);
        }
        if self.cancel_pending {
            self.send_cancel();
            return;
        }
        self.events.push_back(CallEvent::Progress {
            response: Box::new(response.clone()),
        });
    }

    fn on_invite_success(&mut self, now: Instant, response: &Response) {
        let dialog = Dialog::for_uac(&self.invite, response);
        if self.state == CallState::Confirmed || self.state >= CallState::Terminating {
            // A retransmitted 2xx, or one from another fork: ACK it; BYE a second dialog.
            if let Ok(other) = dialog {
                self.ack_success(&other);
                let known = self
                    .dialog
                    .as_ref()
                    .is_some_and(|d| d.id.remote_tag == other.id.remote_tag);
                if !known {
                    self.bye_other_fork(other);
                }
            }
            return;
        }
        let dialog = match dialog {
            Ok(d) => d,
            Err(e) => {
                self.end(EndReason::Failed {
                    reason: format!("the 2xx cannot form a dialog: {e}"),
                });
                return;
            }
        };
        self.ack_success(&dialog);
        self.dialog = Some(dialog);
        self.authenticator.on_success();
        self.peer_allows_update = allows_update(response.headers.get(&HeaderName::Allow));
        self.state = CallState::Confirmed;
        self.timer.on_answer(now, response);
        self.events.push_back(CallEvent::Answered {
            response: Some(Box::new(response.clone())),
            ack: None,
        });
        if self.cancel_pending || self.cancelled {
            // The far end answered while we were cancelling: end it properly.
            self.send_bye(now, EndReason::Cancelled);
        }
    }

    /// ACK for a 2xx to the INVITE (RFC 3261 §13.2.2.4), in the `dialog` that 2xx forms:
    /// CSeq number of the INVITE, its credentials, the dialog's route.
    fn ack_success(&mut self, dialog: &Dialog) {
        let seq = self.invite_seq();
        let mut ack = dialog.request(Method::Ack, seq);
        build::push_via(&self.config, &mut ack, &mut self.rng);
        for name in [HeaderName::Authorization, HeaderName::ProxyAuthorization] {
            for value in self.invite.headers.get_all(&name) {
                ack.headers.push(name.clone(), value);
            }
        }
        self.outputs.push_back(CallOutput::Ack(ack));
    }

    fn bye_other_fork(&mut self, mut other: Dialog) {
        let seq = other.next_seq();
        let mut bye = other.request(Method::Bye, seq);
        build::push_via(&self.config, &mut bye, &mut self.rng);
        self.outputs.push_back(CallOutput::Request(bye));
    }

    fn on_challenge(&mut self, response: &Response) {
        if self.cancelled || self.cancel_pending {
            self.end(EndReason::Cancelled);
            return;
        }
        match self.authenticator.on_challenge(response) {
            Ok(ChallengeOutcome::Retry) => self.resend_invite(),
            Err(AuthError::InvalidToken { description })
                if !self.token_retry_used && self.state < CallState::Confirmed =>
            {
                // Wait for a renewed token (set_credentials), then try once more.
                self.token_retry_used = true;
                self.awaiting_token = true;
                self.events
                    .push_back(CallEvent::TokenRejected { description });
            }
            Err(error) => {
                let hint = match error {
                    AuthError::NoCredentials => " (the account has no credentials)",
                    _ => "",
                };
                self.end(EndReason::Rejected {
                    status: response.status.0,
                    reason: format!("authentication failed: {error}{hint}"),
                });
            }
        }
    }

    /// The INVITE again with the next CSeq and the current credentials.
    pub(super) fn resend_invite(&mut self) {
        let seq = self.invite_seq().wrapping_add(1);
        let mut invite = initial_invite(
            &self.config,
            &self.remote,
            &self.call_id,
            &self.local_tag,
            seq,
            self.local_sdp.clone(),
            &mut self.rng,
        );
        self.authenticator.authorize(&mut invite, &mut self.rng);
        self.invite = invite.clone();
        self.outputs.push_back(CallOutput::Request(invite));
    }

    pub(super) fn send_cancel(&mut self) {
        self.cancel_pending = false;
        if !self.cancelled {
            self.cancelled = true;
            self.outputs.push_back(CallOutput::CancelInvite);
        }
    }
}

/// Whether an `Allow` header lists UPDATE.
pub(super) fn allows_update(allow: Option<&str>) -> bool {
    allow.is_some_and(|allow| {
        allow
            .split(',')
            .any(|m| m.trim().eq_ignore_ascii_case("UPDATE"))
    })
}

/// Longest far-end explanation kept from a `Warning` header.
const WARNING_TEXT_MAX: usize = 200;

/// The reason phrase, followed by the far end's explanation from its `Warning` header (the
/// quoted text: e.g. which SRTP suite it wanted), shortened and without control characters.
fn reason_with_warning(response: &Response) -> String {
    let text = response
        .headers
        .get(&HeaderName::Warning)
        .and_then(|value| {
            let (_, quoted) = value.split_once('"')?;
            let (text, _) = quoted.rsplit_once('"')?;
            let text: String = text
                .chars()
                .filter(|c| !c.is_control())
                .take(WARNING_TEXT_MAX)
                .collect();
            (!text.trim().is_empty()).then_some(text)
        });
    match text {
        Some(text) => format!("{} ({text})", response.reason),
        None => response.reason.clone(),
    }
}
