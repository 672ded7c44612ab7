//! [`AuthError`]: why a challenge cannot be answered.

/// Why a challenge cannot be answered (or was parsed as nonsense). Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A challenge arrived but no credentials are configured.
    #[error("challenged for credentials but none are configured")]
    NoCredentials,
    /// No credentials are configured yet, and the server asks for an OAuth 2.0 bearer token
    /// (RFC 8898): obtain one (from `challenge.authz_server`, if given) and retry.
    #[error(
        "the server asks for an OAuth bearer token{}: log in to obtain one",
        .challenge.authz_server.as_deref().map(|s| format!(" from {s}")).unwrap_or_default()
    )]
    TokenRequired {
        /// The Bearer challenge (realm, scope, authz_server).
        challenge: super::BearerChallenge,
    },
    /// The server refused the credentials already sent (wrong password or bad token); retrying
    /// would loop.
    #[error("credentials for realm `{realm}` rejected: {reason}")]
    Rejected {
        /// The realm that challenged again.
        realm: String,
        /// What showed the rejection.
        reason: &'static str,
    },
    /// No offered challenge fits the credentials and what Lockphone supports.
    #[error("no supported challenge (offered: {})", .offered.join("; "))]
    NoSupportedChallenge {
        /// The challenges offered, each with why it was not usable.
        offered: Vec<String>,
    },
    /// The Bearer token was refused with `error="invalid_token"`: refresh it, call
    /// [`Authenticator::set_credentials`](super::Authenticator::set_credentials) and retry once.
    #[error("bearer token invalid: {}", .description.as_deref().unwrap_or("no description"))]
    InvalidToken {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The response is not a 401 or 407.
    #[error("status {status} is not an authentication challenge (401 or 407)")]
    NotAChallenge {
        /// The response status code.
        status: u16,
    },
    /// A `WWW-Authenticate`/`Proxy-Authenticate` value that cannot be parsed.
    #[error("malformed challenge: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
}

/// A [`AuthError::Malformed`] with `reason`.
pub(crate) fn malformed(reason: impl Into<String>) -> AuthError {
    AuthError::Malformed {
        reason: reason.into(),
    }
}
