//! What the UI asks of the phone and of the world: the output of the state reducer.

use crate::call::CallId;
use crate::trust::TrustDecision;

/// Where the audio of the next calls comes from and goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioChoice {
    /// A sound card (capture and playout), by identifier or name.
    Device(String),
    /// A 440 Hz test tone sent, nothing played.
    Tone,
    /// Silence sent, nothing played.
    Silence,
}

/// One thing the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Call this URI.
    Dial(String),
    /// Hang up (cancel, BYE or decline).
    Hangup(CallId),
    /// Hold (`true`) or resume (`false`).
    Hold(CallId, bool),
    /// Send DTMF digits.
    Dtmf(CallId, String),
    /// Answer a ringing incoming call, muted or not.
    Answer {
        /// The call.
        call: CallId,
        /// Start with the microphone muted.
        muted: bool,
    },
    /// Reject a ringing incoming call (486 Busy Here).
    Reject(CallId),
    /// Mute (`true`) or unmute our audio.
    Mute(CallId, bool),
    /// Blind transfer (REFER) to this URI.
    Transfer(CallId, String),
    /// Answer the trust prompt for `server`.
    DecideTrust {
        /// The server identity the certificate was presented for.
        server: String,
        /// The user's answer.
        choice: TrustDecision,
    },
    /// Search the directory for this text.
    SearchContacts(String),
    /// Start an OAuth login; `issuer` if the registrar named one.
    Login {
        /// The authorization server the registrar named, if any.
        issuer: Option<String>,
    },
    /// Register again.
    Register,
    /// Start the phone anew (after a login: the new tokens are read at start), listening and
    /// registering as configured.
    Restart,
    /// List the audio devices.
    ListDevices,
    /// Use this audio for the next calls.
    UseAudio(AudioChoice),
    /// Ring the terminal bell.
    Bell,
    /// Leave the UI (hanging up every call).
    Quit,
}
