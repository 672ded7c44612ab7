//! The user's answer to a "trust this certificate?" question, and why it can be refused.

use serde::{Deserialize, Serialize};

/// What the user decided about a certificate the verifier could not trust by itself (unknown
/// issuer, self-signed, name mismatch, or a changed certificate of a stored server) — the
/// three choices of the seeds. Revoked, expired and not-yet-valid certificates never get here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustDecision {
    /// Store the certificate for this server identity (the trust store file) and connect:
    /// it is accepted without a question from now on.
    AlwaysTrust,
    /// Connect this time: accepted for the life of this [`Phone`](crate::ua::Phone) only,
    /// asked again after a restart.
    Continue,
    /// Do not connect and store nothing.
    Cancel,
}

/// Why a trust decision could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustDecisionError {
    /// No certificate is waiting for a decision for this server.
    #[error(
        "no certificate of `{server}` is waiting for a trust decision (decide after a trust-decision-required event, with its server name)"
    )]
    NothingPending {
        /// The server named in the call.
        server: String,
    },
    /// FIPS mode forbids accepting a certificate that is not trusted by a CA.
    #[error(
        "FIPS mode forbids accepting an untrusted certificate (`{server}`): install its CA certificate (tls.ca_file or `lockphone trust import`) instead"
    )]
    FipsForbidsOverride {
        /// The server.
        server: String,
    },
    /// The decision could not be written to the trust store.
    #[error("cannot store the trust decision: {0}")]
    Store(#[from] super::store::StoreError),
    /// The account has no trust store to keep an "Always trust" decision in.
    #[error("no trust store is configured for this account")]
    NoStore,
}
