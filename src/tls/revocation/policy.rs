//! The revocation policy of an account and what a check found.

use serde::{Deserialize, Serialize};

/// What to do when a certificate's revocation status cannot be learned
/// (`tls.revocation` in the account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationPolicy {
    /// A certificate that names a CRL or OCSP source must be shown good by one of them:
    /// revoked or unknown means no connection (the default; Common Criteria forces it).
    #[default]
    HardFail,
    /// Revoked means no connection; an unreachable or unusable source is allowed and
    /// reported as `soft-failed`.
    SoftFail,
    /// No revocation checking at all (reported as `off`).
    Off,
}

/// Where a revocation answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationSource {
    /// A CRL fetched from the certificate's CRL Distribution Point.
    Crl,
    /// An OCSP response fetched from the certificate's Authority Information Access URL.
    Ocsp,
    /// The OCSP response the server stapled to the TLS handshake.
    Stapled,
}

impl std::fmt::Display for RevocationSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RevocationSource::Crl => "CRL",
            RevocationSource::Ocsp => "OCSP",
            RevocationSource::Stapled => "stapled OCSP",
        })
    }
}

/// One certificate of the chain shown not revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateGood {
    /// The certificate's subject (its common name when it has one).
    pub certificate: String,
    /// Which source said so.
    pub source: RevocationSource,
    /// Whether the answer came from the cache (no fetch for this connection).
    pub cached: bool,
}

/// The revocation result of a connection, as reported in its security record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RevocationStatus {
    /// Not a TLS client connection (plain transport, or a connection we accepted).
    #[default]
    NotChecked,
    /// The account turned revocation checking off.
    Off,
    /// No certificate of the chain names a CRL or OCSP source (and nothing was stapled).
    NoInformation,
    /// Every certificate that names a source was shown good; `good` lists them, leaf first.
    Good {
        /// The certificates checked and how.
        good: Vec<CertificateGood>,
    },
    /// Soft-fail: some certificate's status could not be learned, and the policy allowed it.
    SoftFailed {
        /// Why the status is unknown.
        why: String,
        /// The certificates that were shown good.
        good: Vec<CertificateGood>,
    },
}

impl RevocationStatus {
    /// A one-line description for logs and the CLI.
    pub fn describe(&self) -> String {
        match self {
            RevocationStatus::NotChecked => "not checked".to_owned(),
            RevocationStatus::Off => "off".to_owned(),
            RevocationStatus::NoInformation => "no revocation information".to_owned(),
            RevocationStatus::Good { good } => format!("good ({})", list(good)),
            RevocationStatus::SoftFailed { why, .. } => format!("soft-failed: {why}"),
        }
    }
}

fn list(good: &[CertificateGood]) -> String {
    good.iter()
        .map(|g| {
            let cached = if g.cached { ", cached" } else { "" };
            format!("{} by {}{cached}", g.certificate, g.source)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A certificate of the chain was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedInfo {
    /// The certificate (subject).
    pub certificate: String,
    /// Who said so.
    pub source: RevocationSource,
    /// The CRL reason code, when given (`keyCompromise`, …).
    pub reason: String,
    /// When it was revoked (RFC 3339, UTC).
    pub date: String,
}

/// The status of one certificate, from one source or the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// Not revoked, valid until `until` (Unix seconds; `None`: do not cache).
    Good {
        /// The source.
        source: RevocationSource,
        /// Until when the answer may be reused.
        until: Option<u64>,
    },
    /// Revoked.
    Revoked(RevokedInfo),
}

/// Why one source gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SourceFailure {
    /// The source could not be reached or its answer was unusable (stale, unknown, malformed):
    /// the status stays unknown.
    Unavailable(String),
    /// The answer's signature or signer is wrong: possibly forged.
    Forged(String),
}
