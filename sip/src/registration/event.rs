//! What a registration reports.

use std::time::Duration;

use super::RegistrationError;

/// What a registration reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationEvent {
    /// The registrar accepted the binding for this long.
    Registered {
        /// The lifetime granted (our contact's `expires`, else the `Expires` header, else
        /// what we asked for).
        expires: Duration,
        /// Our contact, as registered.
        contact: String,
    },
    /// The next refresh is due after this delay.
    RefreshScheduled {
        /// Delay until the refresh REGISTER.
        after: Duration,
    },
    /// The binding ran out before a refresh succeeded: the registrar no longer holds it.
    /// Retrying goes on; [`Registered`](Self::Registered) follows when it succeeds.
    Expired,
    /// The binding was removed.
    Unregistered,
    /// The registrar rejected the Bearer token (`error="invalid_token"`): obtain a new one and
    /// call [`Registration::retry_with_credentials`](super::Registration::retry_with_credentials)
    /// once. A second rejection is [`Failed`](Self::Failed).
    TokenRejected {
        /// The registrar's `error_description`.
        description: Option<String>,
    },
    /// A REGISTER will be retried after this delay (lost connection, no answer or a 5xx while
    /// registered).
    Retrying {
        /// Delay until the retry.
        after: Duration,
        /// What went wrong.
        reason: String,
    },
    /// Registration failed and will not be retried by itself.
    Failed(RegistrationError),
}
