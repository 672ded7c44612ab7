//! What the user agent reports: the event stream of a [`Phone`](super::Phone).

use serde::Serialize;

use crate::call::{CallId, CallSummary};
use crate::media::MediaStats;
use crate::tls::{CertificateSummary, ConnectionSecurity};
use crate::verdict::Verdict;

/// Why a registration failed, in a form scripts can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The registrar rejected our credentials (wrong password, bad token).
    Credentials,
    /// The registrar refused for another reason (403, 404, 5xx, …).
    Refused,
    /// TLS failed: the server certificate is untrusted, mismatched, expired, …
    Tls,
    /// The server could not be reached or did not answer.
    Unreachable,
    /// The configuration is unusable.
    Config,
}

/// The steps of a blind transfer (see [`Event::CallTransfer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferState {
    /// The far end accepted the REFER (202) and calls the target.
    Accepted,
    /// The far end reports the new call's progress (100, 180…).
    Trying,
    /// The target answered: the transfer is done.
    Succeeded,
    /// The REFER was refused, the target did not answer, or no outcome came in time.
    Failed,
}

/// One event of the user agent. Serializes to JSON with an `event` tag.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// A REGISTER is being sent.
    Registering {
        /// The registrar URI.
        registrar: String,
        /// The AOR.
        aor: String,
    },
    /// A connection to the registrar is up; what it established.
    Connected {
        /// The peer address.
        peer: String,
        /// The connection's security facts.
        security: ConnectionSecurity,
    },
    /// The registrar accepted the registration.
    Registered {
        /// The lifetime granted, in seconds.
        expires_secs: u64,
        /// The contact the registrar holds for us.
        contact: String,
    },
    /// The registration will be refreshed in this many seconds.
    RefreshScheduled {
        /// Seconds until the refresh.
        in_secs: u64,
    },
    /// The binding ran out before a refresh succeeded (the registrar was unreachable or kept
    /// failing): we are not reachable until `Registered` follows; retrying goes on.
    RegistrationExpired,
    /// The registration was removed (un-REGISTER answered).
    Unregistered,
    /// The registration failed; `reason` says what and what to do.
    RegistrationFailed {
        /// The class of failure.
        kind: FailureKind,
        /// A user-facing explanation.
        reason: String,
    },
    /// The server's certificate is not trusted automatically (unknown issuer, self-signed,
    /// name mismatch, or changed since it was trusted): the registration waits (paused, not
    /// failed) for [`Phone::decide_trust`](super::Phone::decide_trust) with `server`. A call
    /// attempt fails at once with the TLS error instead; dial again after deciding. Headless:
    /// decide `cancel`, or pin the fingerprint in `tls.pinned_sha256`.
    TrustDecisionRequired {
        /// The server identity the certificate was presented for.
        server: String,
        /// What the user needs to decide.
        certificate: Box<CertificateSummary>,
    },
    /// ALARM: a server whose certificate the user trusted ("Always trust") now presents a
    /// different one. It is refused; a `TrustDecisionRequired` for it follows.
    CertificateChanged {
        /// The server identity.
        server: String,
        /// The fingerprint the user trusted.
        stored_sha256: String,
        /// The certificate presented now.
        presented: Box<CertificateSummary>,
    },
    /// The connection to the registrar was lost; re-registration follows.
    ConnectionLost {
        /// Why.
        reason: String,
    },
    /// A call started: we sent an INVITE, or one arrived.
    CallStarted {
        /// The call.
        call: CallId,
        /// `outgoing` or `incoming`.
        direction: String,
        /// The far end's URI.
        peer: String,
        /// What the signalling connection established.
        security: ConnectionSecurity,
    },
    /// The far end is ringing.
    CallRinging {
        /// The call.
        call: CallId,
    },
    /// The far end answered our call.
    CallAnswered {
        /// The call.
        call: CallId,
        /// The codec.
        codec: String,
        /// The SRTP suite, or none for plain RTP.
        srtp_suite: Option<String>,
    },
    /// The call's security verdict, whenever it changes.
    CallSecurity {
        /// The call.
        call: CallId,
        /// The verdict with its reasons.
        verdict: Verdict,
    },
    /// A re-offer lowered the call's security.
    CallDowngrade {
        /// The call.
        call: CallId,
        /// What went down, in words.
        what: String,
        /// What the account's policy does about it.
        action: crate::verdict::DowngradePolicy,
    },
    /// Our hold or resume re-offer was answered (or refused: the call stays as it was).
    CallHold {
        /// The call.
        call: CallId,
        /// Whether the call is now on hold.
        on_hold: bool,
        /// Why the far end refused the change, if it did.
        refused: Option<String>,
    },
    /// How a transfer we asked for ([`Phone::transfer`](super::Phone::transfer)) goes. After
    /// `succeeded` we hang up: the far end is now talking to the transfer target.
    CallTransfer {
        /// The call.
        call: CallId,
        /// The step reached.
        state: TransferState,
        /// The SIP status reported (the REFER's error, or the new call's status), if any.
        status: Option<u16>,
        /// Why it failed, for `failed`.
        reason: Option<String>,
    },
    /// The call cannot go on as negotiated (a non-conforming SDP answer, say); it is hung up.
    CallFailed {
        /// The call.
        call: CallId,
        /// Why.
        reason: String,
    },
    /// Live media statistics of a call (every second).
    CallStats {
        /// The call.
        call: CallId,
        /// The statistics.
        stats: Box<MediaStats>,
    },
    /// The call is over: its summary.
    CallEnded {
        /// The call.
        call: CallId,
        /// Verdict, codec, suite, loss, jitter, RTT, MOS, duration, why it ended.
        summary: Box<CallSummary>,
    },
    /// A new OAuth access token is in use (renewed before expiry, or after the registrar
    /// rejected the old one); a REGISTER with it follows at once.
    TokenRefreshed {
        /// The new token's lifetime, in seconds, if known.
        expires_in_secs: Option<u64>,
    },
    /// The OAuth tokens are missing or can no longer be renewed: the user must log in again
    /// (`lockphone login`). `reason` says why.
    LoginRequired {
        /// Why, and what to do.
        reason: String,
        /// The authorization server the registrar named (only over TLS), if any.
        authz_server: Option<String>,
    },
}
