//! A snapshot of a [`Phone`](super::Phone): its account, registration and calls, as
//! [`Phone::status`](super::Phone::status) returns it (serializable to JSON).

use serde::Serialize;

use super::event::Event;
use crate::call::CallId;
use crate::media::MediaStats;
use crate::verdict::Verdict;

/// Everything a [`Phone`](super::Phone) is doing, at one moment: what
/// [`Phone::status`](super::Phone::status) returns and the daemon's `status` command sends.
/// Serializes to JSON; see [`Phone::status`](super::Phone::status) for an example.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneStatus {
    /// The account's address of record.
    pub account: String,
    /// The registration.
    pub registration: RegistrationStatus,
    /// Where direct incoming calls are accepted, once listening.
    pub listening: Option<String>,
    /// Whether incoming calls are answered automatically (else they ring until answered).
    pub auto_answer: bool,
    /// The calls, oldest first.
    pub calls: Vec<CallStatus>,
}

/// Where the registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationState {
    /// Not registered (never asked, or removed).
    #[default]
    Unregistered,
    /// A REGISTER is under way.
    Registering,
    /// The registrar holds our binding.
    Registered,
    /// The binding ran out; retrying.
    Expired,
    /// The last attempt failed (see `last_failure`).
    Failed,
}

/// The registration, with what the registrar last said.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistrationStatus {
    /// Where it stands.
    pub state: RegistrationState,
    /// The registrar URI.
    pub registrar: String,
    /// The lifetime granted, in seconds, while registered.
    pub expires_secs: Option<u64>,
    /// The contact the registrar holds for us, while registered.
    pub contact: Option<String>,
    /// Why the last attempt failed, if it did.
    pub last_failure: Option<String>,
}

impl RegistrationStatus {
    /// Follows a registration event the engine emits; `false` (and no change) for any other
    /// event.
    pub(super) fn observe(&mut self, event: &Event) -> bool {
        match event {
            Event::Registering { .. } => {
                self.state = RegistrationState::Registering;
                self.last_failure = None;
            }
            Event::Registered {
                expires_secs,
                contact,
            } => {
                self.state = RegistrationState::Registered;
                self.expires_secs = Some(*expires_secs);
                self.contact = Some(contact.clone());
                self.last_failure = None;
            }
            Event::RegistrationExpired => {
                self.state = RegistrationState::Expired;
                self.expires_secs = None;
            }
            Event::Unregistered => {
                self.state = RegistrationState::Unregistered;
                self.expires_secs = None;
                self.contact = None;
            }
            Event::RegistrationFailed { reason, .. } => {
                self.state = RegistrationState::Failed;
                self.expires_secs = None;
                self.last_failure = Some(reason.clone());
            }
            _ => return false,
        }
        true
    }
}

/// Where a call stands, for people and scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallPhase {
    /// Our INVITE is out, no answer yet.
    Calling,
    /// Our call rings at the far end.
    Ringing,
    /// An incoming call rings here: answer or reject it.
    Incoming,
    /// Answered.
    Active,
    /// Hanging up.
    Ending,
}

/// One call in a [`PhoneStatus`].
#[derive(Debug, Clone, Serialize)]
pub struct CallStatus {
    /// The call.
    pub call: CallId,
    /// `outgoing` or `incoming`.
    pub direction: String,
    /// The far end's URI.
    pub peer: String,
    /// Where it stands.
    pub state: CallPhase,
    /// Whether we put it on hold.
    pub on_hold: bool,
    /// Whether we send silence instead of our audio.
    pub muted: bool,
    /// Whether a transfer we asked for is under way.
    pub transferring: bool,
    /// The codec, once negotiated.
    pub codec: Option<String>,
    /// The SRTP suite, once negotiated (none for plain RTP).
    pub srtp_suite: Option<String>,
    /// The current security verdict, once media was negotiated.
    pub verdict: Option<Verdict>,
    /// Seconds since it was answered (0 before).
    pub duration_secs: f64,
    /// The latest media statistics, while media runs.
    pub stats: Option<Box<MediaStats>>,
}
