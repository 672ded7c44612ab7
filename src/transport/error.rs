//! Transport failures.

use std::net::SocketAddr;

use crate::tls::TlsError;

/// Why a message could not be sent or a connection not made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// TCP connect failed (nothing listening, unreachable, timed out).
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The destination.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TLS handshake failed; the inner error says exactly why.
    #[error("TLS to {addr} failed: {source}")]
    Tls {
        /// The destination.
        addr: SocketAddr,
        /// The classified TLS error.
        source: TlsError,
    },
    /// TLS was asked for but the account has no TLS configuration.
    #[error("no TLS configuration for this account")]
    NoTlsConfig,
    /// The connection closed before the message could be written.
    #[error("connection to {0} is closed")]
    Closed(SocketAddr),
    /// Timed out connecting.
    #[error("timed out connecting to {0}")]
    Timeout(SocketAddr),
    /// A socket operation failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    /// The message is larger than a UDP datagram may carry here.
    #[error("message of {0} bytes is too large for UDP; use TCP or TLS")]
    TooLargeForUdp(usize),
}
