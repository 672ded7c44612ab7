//! What can go wrong finding contacts, one variant per layer.

use std::path::PathBuf;

use crate::tls::TlsError;

/// Why a directory could not be set up or searched. Never contains the bind password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContactsError {
    /// The settings cannot be used.
    #[error("contacts config: {field}: {reason}")]
    Config {
        /// The offending key.
        field: &'static str,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The bind password file is missing, unreadable or readable by others.
    #[error("directory password file {path}: {reason}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The directory server could not be reached (DNS, connection refused, closed).
    #[error("directory {server} unreachable: {reason}")]
    Unreachable {
        /// `host:port`.
        server: String,
        /// What failed.
        reason: String,
    },
    /// TLS failed: the server certificate was refused (same reasons as for SIP) or the
    /// handshake or StartTLS failed.
    #[error("directory {server}: {source}")]
    Tls {
        /// `host:port`.
        server: String,
        /// The typed TLS reason.
        #[source]
        source: TlsError,
    },
    /// The server refused the simple bind (wrong DN or password, account locked, …).
    #[error(
        "directory {server} refused the bind as `{bind_dn}`: {reason}; check directory.bind_dn and the password file"
    )]
    BindRefused {
        /// `host:port`.
        server: String,
        /// The DN we bound as.
        bind_dn: String,
        /// The server's result code and message.
        reason: String,
    },
    /// The server refused or failed the search (bad base DN, bad filter, …).
    #[error("directory {server} search failed: {reason}")]
    SearchFailed {
        /// `host:port`.
        server: String,
        /// The server's result code and message.
        reason: String,
    },
    /// The search did not finish in time.
    #[error("directory {server} did not answer within {secs} s (directory.timeout_secs)")]
    Timeout {
        /// `host:port`.
        server: String,
        /// The limit.
        secs: u64,
    },
}
