//! Blind transfer (RFC 3515): our REFER in the dialog, its 202, and the far end's NOTIFYs
//! with `message/sipfrag` bodies reporting how the new call goes; and our answer to a REFER
//! from the far end (refused: this user agent does not act on transfer requests).

use std::time::{Duration, Instant};

use super::{Call, CallError, CallEvent, CallOutput, CallState};
use crate::message::{HeaderName, NameAddr, Request, Response, Uri};
use crate::transaction::TransactionId;

/// How long we wait, after the 202, for the NOTIFY with the new call's final status before
/// reporting the transfer as failed (the implicit subscription's usual lifetime).
pub const TRANSFER_WAIT: Duration = Duration::from_secs(60);

/// How a transfer we asked for goes, reported as [`CallEvent::Transfer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferProgress {
    /// The far end accepted the REFER (202) and will try the target.
    Accepted,
    /// A NOTIFY reported the new call's provisional status (100 Trying, 180 Ringing…).
    Trying {
        /// The status in the `message/sipfrag` body.
        status: u16,
    },
    /// The new call was answered: the transfer is done (the transferor may hang up).
    Succeeded {
        /// The 2xx status in the `message/sipfrag` body.
        status: u16,
    },
    /// The REFER was refused, the new call failed, or no final NOTIFY came in time.
    Failed {
        /// The REFER's error status or the new call's final status, if one was given.
        status: Option<u16>,
        /// What happened, in plain words.
        reason: String,
    },
}

impl TransferProgress {
    /// Whether this is the transfer's last report.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TransferProgress::Succeeded { .. } | TransferProgress::Failed { .. }
        )
    }
}

/// Our REFER waiting for its answer and the far end's NOTIFYs.
#[derive(Debug, Clone)]
pub(super) struct PendingTransfer {
    /// The REFER's CSeq number: the `id` of its subscription's `Event: refer;id=…`.
    seq: u32,
    /// Whether it is the dialog's first REFER, whose NOTIFYs may leave the `id` out.
    first: bool,
    /// Where the far end is asked to call (kept to send the REFER again after a challenge).
    target: Uri,
    /// Give up waiting for a final NOTIFY at this time (set by the 202).
    deadline: Option<Instant>,
}

impl PendingTransfer {
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl Call {
    /// Asks the far end to call `target` instead (blind transfer, RFC 3515): an in-dialog
    /// REFER with `Refer-To: <target>` and `Referred-By` our address. Progress comes as
    /// [`CallEvent::Transfer`]; the call itself goes on until someone hangs up.
    ///
    /// Errors when the call is not confirmed or a transfer is already under way.
    pub fn refer(&mut self, target: &Uri) -> Result<(), CallError> {
        if self.state != CallState::Confirmed {
            return Err(CallError::WrongState {
                action: "transfer",
                state: self.state,
            });
        }
        if self.transfer.is_some() {
            return Err(CallError::TransferPending);
        }
        let first = self.refers_sent == 0;
        self.send_refer(target, first)?;
        self.refers_sent += 1;
        Ok(())
    }

    /// Sends a REFER for `target` (with the credentials a challenge asked for, if any) and
    /// waits for its answer.
    fn send_refer(&mut self, target: &Uri, first: bool) -> Result<(), CallError> {
        let Some((mut request, seq)) = self.dialog_request(crate::message::Method::Refer) else {
            return Err(CallError::WrongState {
                action: "transfer",
                state: self.state,
            });
        };
        request.headers.push(
            HeaderName::ReferTo,
            NameAddr::new(target.clone()).to_string(),
        );
        request.headers.push(
            HeaderName::ReferredBy,
            NameAddr::new(self.config.local.clone()).to_string(),
        );
        request.headers.push(
            HeaderName::Contact,
            NameAddr::new(self.config.contact.clone()).to_string(),
        );
        self.authenticator.authorize(&mut request, &mut self.rng);
        self.transfer = Some(PendingTransfer {
            seq,
            first,
            target: target.clone(),
            deadline: None,
        });
        self.outputs.push_back(CallOutput::Request(request));
        Ok(())
    }

    /// Whether a transfer of ours is under way.
    pub fn transfer_pending(&self) -> bool {
        self.transfer.is_some()
    }

    /// The answer to our REFER.
    pub(super) fn on_refer_response(&mut self, now: Instant, seq: u32, response: &Response) {
        if self.transfer.as_ref().is_none_or(|t| t.seq != seq) || response.status.is_provisional() {
            return;
        }
        if matches!(response.status.0, 401 | 407)
            && let Some(transfer) = self.transfer.clone()
        {
            // A proxy or the far end wants credentials: the REFER again (new CSeq) with them,
            // as for the INVITE; the authenticator refuses a retry that cannot succeed.
            let failed = match self.authenticator.on_challenge(response) {
                Ok(crate::auth::ChallengeOutcome::Retry) => self
                    .send_refer(&transfer.target, transfer.first)
                    .err()
                    .map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(error) = failed {
                self.finish_transfer(TransferProgress::Failed {
                    status: Some(response.status.0),
                    reason: format!("the transfer could not be authenticated: {error}"),
                });
            }
            return;
        }
        if response.status.is_success() {
            if let Some(transfer) = &mut self.transfer
                && transfer.deadline.is_none()
            {
                transfer.deadline = Some(now + TRANSFER_WAIT);
                self.events.push_back(CallEvent::Transfer {
                    progress: TransferProgress::Accepted,
                });
            }
            return;
        }
        self.finish_transfer(TransferProgress::Failed {
            status: Some(response.status.0),
            reason: format!(
                "the far end refused the transfer: {} {}",
                response.status.0, response.reason
            ),
        });
    }

    /// Our REFER got no answer (timeout or transport error).
    pub(super) fn refer_failed(&mut self, seq: u32) {
        if self.transfer.as_ref().is_some_and(|t| t.seq == seq) {
            self.finish_transfer(TransferProgress::Failed {
                status: None,
                reason: "no answer to our REFER".to_owned(),
            });
        }
    }

    /// The wait for a final NOTIFY ran out.
    pub(super) fn transfer_timeout(&mut self, now: Instant) {
        if self
            .transfer
            .as_ref()
            .and_then(PendingTransfer::deadline)
            .is_some_and(|at| at <= now)
        {
            self.finish_transfer(TransferProgress::Failed {
                status: None,
                reason: "the far end never reported the outcome of the transfer".to_owned(),
            });
        }
    }

    /// A NOTIFY in the dialog: the progress of the transfer we asked for. Answered 200 when
    /// it belongs to our transfer (also when it arrives before the 202), 489 for another
    /// event package, 481 when we have no transfer under way or it belongs to an earlier
    /// REFER's subscription (RFC 3515 §2.4.6: `Event: refer;id=` the REFER's CSeq, which only
    /// the first REFER's NOTIFYs may leave out).
    pub(super) fn on_notify(&mut self, transaction: TransactionId, request: &Request) {
        let event = request.headers.get(&HeaderName::Event).unwrap_or_default();
        if event_package(event) != "refer" {
            self.respond(transaction, request, 489, "Bad Event");
            return;
        }
        let ours = self
            .transfer
            .as_ref()
            .is_some_and(|transfer| match event_param(event, "id") {
                Some(id) => id.parse() == Ok(transfer.seq),
                None => transfer.first,
            });
        if !ours {
            self.respond(transaction, request, 481, "Subscription Does Not Exist");
            return;
        }
        self.respond(transaction, request, 200, "OK");
        let terminated = request
            .headers
            .get(&HeaderName::SubscriptionState)
            .is_some_and(|state| event_package(state).eq_ignore_ascii_case("terminated"));
        let progress = match sipfrag_status(&request.body) {
            Some((status, _)) if (100..200).contains(&status) && !terminated => {
                TransferProgress::Trying { status }
            }
            Some((status, _)) if (200..300).contains(&status) => {
                TransferProgress::Succeeded { status }
            }
            Some((status, reason)) if status >= 300 => TransferProgress::Failed {
                status: Some(status),
                reason: format!("the transfer target answered {status} {reason}"),
            },
            _ if terminated => TransferProgress::Failed {
                status: None,
                reason: "the far end ended the transfer without a final status".to_owned(),
            },
            // A NOTIFY we cannot read says nothing new; the deadline still holds.
            _ => return,
        };
        if progress.is_final() {
            self.finish_transfer(progress);
        } else {
            self.events.push_back(CallEvent::Transfer { progress });
        }
    }

    /// A REFER from the far end: refused with 403 and a `Warning` saying why (this user
    /// agent never places calls on a remote party's request).
    pub(super) fn on_incoming_refer(&mut self, transaction: TransactionId, request: &Request) {
        let mut response = self.response_to(request, 403, "Forbidden");
        response.headers.push(
            HeaderName::Warning,
            "399 lockphone \"transfer requests are not accepted\"",
        );
        self.outputs.push_back(CallOutput::Response {
            transaction,
            response,
        });
    }

    fn finish_transfer(&mut self, progress: TransferProgress) {
        self.transfer = None;
        self.events.push_back(CallEvent::Transfer { progress });
    }
}

/// The event package of an `Event` header (or the state of a `Subscription-State` header):
/// the value before any parameter, trimmed.
fn event_package(value: &str) -> &str {
    value.split(';').next().unwrap_or_default().trim()
}

/// The value of parameter `name` (case-insensitive) of an `Event` header value.
fn event_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split(';').skip(1).find_map(|param| {
        let (key, val) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| val.trim().trim_matches('"'))
    })
}

/// The status line of a `message/sipfrag` body (RFC 3420): `SIP/2.0 200 OK`. The reason
/// phrase comes from the far end's body: control characters (terminal escapes) are dropped.
pub fn sipfrag_status(body: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?.trim();
    let rest = line.strip_prefix("SIP/2.0 ")?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let status: u16 = code.parse().ok()?;
    (100..700).contains(&status).then(|| {
        let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
        (status, reason.trim().to_owned())
    })
}

#[cfg(test)]
mod sipfrag_tests {
    use super::sipfrag_status;

    #[test]
    fn status_lines_are_read_and_anything_else_is_not() {
        assert_eq!(
            sipfrag_status(b"SIP/2.0 200 OK\r\n"),
            Some((200, "OK".to_owned()))
        );
        assert_eq!(
            sipfrag_status(b"SIP/2.0 180 Ringing"),
            Some((180, "Ringing".to_owned()))
        );
        assert_eq!(
            sipfrag_status(b"SIP/2.0 486 Busy Here\r\nVia: x\r\n"),
            Some((486, "Busy Here".to_owned()))
        );
        assert_eq!(
            sipfrag_status(b"SIP/2.0 603 \x1b[2JDecline\x07"),
            Some((603, "[2JDecline".to_owned()))
        );
        assert_eq!(sipfrag_status(b"SIP/2.0 99 Low"), None);
        assert_eq!(sipfrag_status(b"INVITE sip:x SIP/2.0"), None);
        assert_eq!(sipfrag_status(b""), None);
        assert_eq!(sipfrag_status(&[0xff, 0xfe]), None);
    }
}
