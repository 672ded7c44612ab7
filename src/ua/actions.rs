//! What the user does to one call after it started — answer, reject, mute, transfer, and the
//! hang-up, hold and DTMF (checked, whether the caller waits for the answer or not) — and the
//! engine's status snapshot. Each action checks the call exists and is in a state that allows
//! it, so a script gets a typed error instead of a silent no-op.

use lockphone_sip::call::{CallError, CallState, Role, TransferProgress};
use lockphone_sip::message::Uri;

use super::engine::Engine;
use super::event::{Event, TransferState};
use super::status::{CallPhase, CallStatus, PhoneStatus};
use super::{CallAction, UaError};
use crate::call::CallId;

impl Engine {
    /// Runs `action` on call `id`.
    pub(super) fn act(&mut self, id: CallId, action: CallAction) -> Result<(), UaError> {
        let call = self
            .calls
            .active
            .get_mut(&id)
            .filter(|c| !c.sip.is_terminated())
            .ok_or(UaError::NoSuchCall(id))?;
        match action {
            CallAction::Answer(options) => {
                if !ringing_here(call.sip.role(), call.sip.state()) {
                    return Err(state_error("answer", id));
                }
                call.options = options;
                let invite = call.sip.invite().clone();
                self.answer_call(id, &invite);
            }
            CallAction::Reject(status) => {
                if !ringing_here(call.sip.role(), call.sip.state()) {
                    return Err(state_error("reject", id));
                }
                call.sip
                    .reject(status, "refused by the user")
                    .map_err(|e| call_error(id, &e))?;
            }
            CallAction::Mute(muted) => {
                call.muted = muted;
                if let Some(media) = &call.media {
                    media
                        .set_muted(muted)
                        .map_err(|e| UaError::CallState(format!("call {id}: {e}")))?;
                }
            }
            CallAction::Hangup => self.hangup(id),
            CallAction::Hold(hold) => {
                if call.sip.state() != CallState::Confirmed {
                    return Err(answered_error(if hold { "hold" } else { "resume" }, id));
                }
                self.hold(id, hold)?;
            }
            // RFC 4733 events ride the media: they go as soon as it runs (a callee's media
            // starts with its 200 OK, before the ACK confirms the dialog).
            CallAction::Dtmf(digits) => self.send_dtmf(id, &digits)?,
            CallAction::Transfer(target) => {
                let uri: Uri = target
                    .parse()
                    .map_err(|e| UaError::Invalid(format!("cannot transfer to `{target}`: {e}")))?;
                call.sip.refer(&uri).map_err(|e| call_error(id, &e))?;
            }
        }
        Ok(())
    }

    /// Reports a step of a transfer we asked for; hangs up once it succeeded.
    pub(super) fn transfer_progress(&mut self, id: CallId, progress: TransferProgress) {
        let (state, status, reason) = match progress {
            TransferProgress::Accepted => (TransferState::Accepted, None, None),
            TransferProgress::Trying { status } => (TransferState::Trying, Some(status), None),
            TransferProgress::Succeeded { status } => {
                (TransferState::Succeeded, Some(status), None)
            }
            TransferProgress::Failed { status, reason } => {
                (TransferState::Failed, status, Some(reason))
            }
        };
        self.emit(Event::CallTransfer {
            call: id,
            state,
            status,
            reason,
        });
        if state == TransferState::Succeeded {
            self.hangup(id);
        }
    }

    /// The far end refused our re-offer: if it was a hold or resume, say so (the call, and
    /// the direction we offer next, stay as they were).
    pub(super) fn hold_refused(&mut self, id: CallId, status: u16, reason: &str) {
        if let Some(call) = self.calls.active.get_mut(&id)
            && call.hold_pending.take().is_some()
        {
            let on_hold = call.on_hold;
            call.negotiation.local_mut().direction = super::calls::hold_direction(on_hold);
            self.emit(Event::CallHold {
                call: id,
                on_hold,
                refused: Some(format!("{status} {reason}")),
            });
        }
    }

    /// The phone's state now.
    pub(super) fn status(&self) -> PhoneStatus {
        let now = Engine::now();
        let calls = self
            .calls
            .active
            .values()
            .filter(|c| !c.sip.is_terminated())
            .map(|c| CallStatus {
                call: c.id,
                direction: c.direction().to_owned(),
                peer: c.peer.clone(),
                state: phase(c.sip.role(), c.sip.state()),
                on_hold: c.on_hold,
                muted: c.muted,
                transferring: c.sip.transfer_pending(),
                codec: c.codec(),
                srtp_suite: c.srtp_suite(),
                verdict: c.verdict.clone(),
                duration_secs: c.duration_secs(now),
                stats: c.media.as_ref().map(|m| Box::new(m.stats())),
            })
            .collect();
        PhoneStatus {
            account: self.aor.to_string(),
            registration: self.registration_status(),
            listening: self.listen_addr.map(|a| a.to_string()),
            auto_answer: self.calls.auto_answer.is_some(),
            calls,
        }
    }
}

/// Whether an incoming call still waits for our answer.
fn ringing_here(role: Role, state: CallState) -> bool {
    role == Role::Callee && matches!(state, CallState::Trying | CallState::Early)
}

fn phase(role: Role, state: CallState) -> CallPhase {
    match (role, state) {
        (Role::Callee, CallState::Trying | CallState::Early) => CallPhase::Incoming,
        (Role::Caller, CallState::Trying) => CallPhase::Calling,
        (Role::Caller, CallState::Early) => CallPhase::Ringing,
        (_, CallState::Confirmed) => CallPhase::Active,
        (_, CallState::Terminating | CallState::Terminated) => CallPhase::Ending,
    }
}

fn state_error(action: &str, id: CallId) -> UaError {
    UaError::CallState(format!(
        "cannot {action} call {id}: it is not an incoming call that is still ringing"
    ))
}

fn answered_error(action: &str, id: CallId) -> UaError {
    UaError::CallState(format!(
        "cannot {action} call {id}: it is not answered (or is ending)"
    ))
}

fn call_error(id: CallId, error: &CallError) -> UaError {
    UaError::CallState(format!("call {id}: {error}"))
}
