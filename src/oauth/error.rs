//! [`OAuthError`]: why logging in, refreshing or logging out failed.

use std::path::PathBuf;

use crate::tls::TlsError;

/// Why an OAuth operation failed; the message says what to do. Never carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The account does not use OAuth.
    #[error("account `{account}` does not use OAuth: set [account.auth] method = \"oauth\"")]
    NotConfigured {
        /// The account name.
        account: String,
    },
    /// No authorization server is known.
    #[error(
        "no authorization server known: set `issuer` in [account.auth], or use a TLS registrar whose Bearer challenge names one (authz_server)"
    )]
    NoIssuer,
    /// A URL that cannot be used.
    #[error("invalid URL `{url}`: {reason}")]
    BadUrl {
        /// The URL (never one carrying a secret).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Plain `http://` to a server that is not on this machine.
    #[error(
        "refusing plain http:// to {url}: only an authorization server on a loopback address (127.0.0.1, ::1, localhost) may be used without TLS"
    )]
    InsecureUrl {
        /// The URL.
        url: String,
    },
    /// The HTTP exchange failed (connection, TLS, timeout, malformed answer).
    #[error("HTTP request to {url} failed: {reason}")]
    Http {
        /// The URL, without its query.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server metadata (RFC 8414 / OpenID discovery) is missing or unusable.
    #[error("discovery of {issuer} failed: {reason}")]
    Discovery {
        /// The issuer asked about.
        issuer: String,
        /// What went wrong.
        reason: String,
    },
    /// The authorization server lacks what the flow needs.
    #[error("the authorization server does not support {what}")]
    Unsupported {
        /// The missing feature.
        what: &'static str,
    },
    /// The authorization server answered with an OAuth error.
    #[error("the authorization server refused: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Server {
        /// The OAuth error code (`invalid_request`, `unauthorized_client`, …).
        error: String,
        /// The server's `error_description`.
        description: Option<String>,
    },
    /// The user denied the login (`access_denied`).
    #[error("the login was denied at the authorization server")]
    Denied,
    /// The device code expired before the user approved it.
    #[error("the device code expired before the login was approved: run `lockphone login` again")]
    Expired,
    /// Nothing came back in time.
    #[error("the login timed out after {secs} s: run `lockphone login` again")]
    TimedOut {
        /// The time allowed.
        secs: u64,
    },
    /// The browser redirect could not be accepted (wrong state, wrong issuer, an error).
    #[error("the authorization redirect was refused: {0}")]
    Redirect(String),
    /// The refresh token was rejected: a new login is needed.
    #[error(
        "the authorization server rejected the refresh token ({0}): log in again with `lockphone login`"
    )]
    RefreshRejected(String),
    /// There are no stored tokens.
    #[error("not logged in: run `lockphone login --account {account}`")]
    NotLoggedIn {
        /// The account name.
        account: String,
    },
    /// The token store could not be read or written.
    #[error("token store {}: {reason}", .path.display())]
    Store {
        /// The file.
        path: PathBuf,
        /// What went wrong and what to do.
        reason: String,
    },
    /// The TLS configuration for the authorization server could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl OAuthError {
    /// Whether only a new login can fix this (as opposed to a network problem to retry).
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            OAuthError::RefreshRejected(_)
                | OAuthError::NotLoggedIn { .. }
                | OAuthError::Store { .. }
        )
    }
}
