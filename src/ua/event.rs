//! What the user agent reports: the event stream of a [`Phone`](super::Phone).

use serde::Serialize;

use crate::tls::{CertificateSummary, ConnectionSecurity};

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

/// One event of the user agent. Serializes to JSON with an `event` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// name mismatch): the user may decide to trust it (`lockphone trust import`, or a pin).
    TrustDecisionRequired {
        /// The server identity the certificate was presented for.
        server: String,
        /// What the user needs to decide.
        certificate: Box<CertificateSummary>,
    },
    /// The connection to the registrar was lost; re-registration follows.
    ConnectionLost {
        /// Why.
        reason: String,
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
