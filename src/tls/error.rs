//! TLS failures, each with its own variant so a user (and a test) can tell them apart.

use std::path::PathBuf;

use rustls::{AlertDescription, CertificateError};

use super::common_criteria::CcViolation;
use super::revocation::RevocationSource;
use super::{CertificateChanged, PinMismatch};
use crate::trust::identity::IdentityError;

/// Why a TLS connection or configuration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate does not chain to any trusted CA (unknown issuer, or
    /// self-signed).
    #[error(
        "server certificate not trusted: it is not signed by a CA in the trust store (unknown issuer or self-signed); add the server's CA to tls.ca_file, or accept or pin (tls.pinned_sha256) the certificate itself"
    )]
    UnknownIssuer,
    /// The server's certificate is valid but for another name.
    #[error("server certificate names {presented} but we connected to `{expected}`")]
    NameMismatch {
        /// The name we expected.
        expected: String,
        /// What the certificate names, when known.
        presented: String,
    },
    /// The certificate does not identify the server we meant (SIP identity rules).
    #[error("server certificate refused: {0}")]
    Identity(IdentityError),
    /// A server the user trusted presents a different certificate: refused until the user
    /// decides again.
    #[error(
        "the certificate of {} CHANGED since you trusted it (was {}, now {}): refused; check with the administrator, then `lockphone trust remove {}`",
        .0.identity, .0.stored, .0.presented.sha256, .0.identity
    )]
    CertificateChanged(Box<CertificateChanged>),
    /// The account pins certificates and the server presents another one no CA vouches for.
    #[error(
        "the certificate of {} ({}) is none of the pinned ones (tls.pinned_sha256) and no trusted CA signed it: refused; check with the administrator before changing the pin",
        .0.identity, .0.presented
    )]
    PinMismatch(PinMismatch),
    /// The server's certificate has expired.
    #[error("server certificate has expired")]
    Expired,
    /// The server's certificate is not valid yet.
    #[error("server certificate is not valid yet (check the clock)")]
    NotYetValid,
    /// A certificate of the server's chain was revoked by its CA.
    #[error(
        "the certificate {certificate} of the server was REVOKED by its CA on {date} (reason: {reason}; according to {by}): refused; do not trust this server until its administrator installs a new certificate"
    )]
    Revoked {
        /// Which certificate (subject).
        certificate: String,
        /// Who said so: CRL, OCSP or the stapled OCSP response.
        by: RevocationSource,
        /// The CRL reason (`keyCompromise`, …, `unspecified`).
        reason: String,
        /// When it was revoked (RFC 3339).
        date: String,
    },
    /// Under `hard-fail` (or Common Criteria), the revocation status of a certificate that
    /// names a CRL or OCSP source could not be learned.
    #[error(
        "cannot tell whether the server's certificate was revoked ({why}); tls.revocation = \"hard-fail\" refuses the connection: make sure the CRL/OCSP server is reachable from here, or (outside Common Criteria mode) set tls.revocation = \"soft-fail\" to connect anyway"
    )]
    RevocationUnknown {
        /// What was tried and why each source failed.
        why: String,
    },
    /// A CRL or OCSP answer about the server's chain failed its signature checks (refused
    /// under every policy).
    #[error(
        "a revocation answer about {certificate} is not signed by its CA ({why}): it may be forged; refused. Tell the server's administrator"
    )]
    RevocationForged {
        /// Which certificate the answer was about.
        certificate: String,
        /// What failed.
        why: String,
    },
    /// Common Criteria mode refuses the server's chain.
    #[error("Common Criteria mode refuses the server certificate: {0}")]
    CommonCriteria(CcViolation),
    /// The server only speaks TLS older than 1.2.
    #[error(
        "the server only offers TLS older than 1.2 ({0}); Lockphone needs TLS 1.2 or 1.3: ask the administrator to enable them"
    )]
    ProtocolVersion(String),
    /// Any other certificate problem.
    #[error("server certificate refused: {0}")]
    BadCertificate(String),
    /// The peer refused our handshake with an alert.
    #[error("the server ended the TLS handshake: {0}")]
    PeerAlert(String),
    /// The peer asked for something we do not allow (e.g. TLS 1.1 or a weak cipher).
    #[error("the server offers nothing we accept (TLS 1.2+ with modern ciphers): {0}")]
    Incompatible(String),
    /// A FIPS build produced a TLS configuration that is not FIPS-approved.
    #[error("this is a FIPS build but the TLS configuration is not FIPS-approved: refusing to run")]
    NotFips,
    /// No trust anchors were configured.
    #[error("no trusted CA configured: set tls.ca_file (or tls.system_roots = true)")]
    NoTrustAnchors,
    /// The system trust store could not be read.
    #[error("cannot load the system trust store: {0}")]
    SystemRoots(String),
    /// A certificate file could not be used.
    #[error("certificate file {path}: {reason}")]
    CertificateFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A private key file could not be used.
    #[error("private key{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    KeyFile {
        /// The file, when known.
        path: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },
    /// A private key file is readable by others.
    #[error(
        "private key {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    KeyPermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The connection failed below TLS.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// Anything else.
    #[error("TLS error: {0}")]
    Other(String),
}

impl TlsError {
    /// Whether the user may override this refusal (unknown issuer or self-signed, a name
    /// that does not identify the server, a changed certificate): never an expired, not yet
    /// valid or revoked certificate, a pin mismatch, or anything else.
    pub fn is_overridable(&self) -> bool {
        matches!(
            self,
            TlsError::UnknownIssuer
                | TlsError::NameMismatch { .. }
                | TlsError::Identity(_)
                | TlsError::CertificateChanged(_)
        )
    }

    /// Classifies an error returned by a tokio-rustls handshake.
    pub fn from_handshake(err: std::io::Error, expected_name: &str) -> TlsError {
        let rustls_error = err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(e) => TlsError::from_rustls(e, expected_name),
            None => TlsError::Io(err),
        }
    }

    /// Classifies a rustls error.
    pub fn from_rustls(err: &rustls::Error, expected_name: &str) -> TlsError {
        match err {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => TlsError::UnknownIssuer,
                CertificateError::NotValidForName => TlsError::NameMismatch {
                    expected: expected_name.to_owned(),
                    presented: "other names".to_owned(),
                },
                CertificateError::NotValidForNameContext { presented, .. } => {
                    TlsError::NameMismatch {
                        expected: expected_name.to_owned(),
                        presented: presented.join(", "),
                    }
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsError::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsError::NotYetValid
                }
                CertificateError::Revoked => TlsError::Revoked {
                    certificate: "server certificate".to_owned(),
                    by: RevocationSource::Crl,
                    reason: "unspecified".to_owned(),
                    date: "unknown".to_owned(),
                },
                CertificateError::Other(other) => match other.0.downcast_ref::<IdentityError>() {
                    Some(IdentityError::Mismatch {
                        expected,
                        presented,
                    }) => TlsError::NameMismatch {
                        expected: expected.clone(),
                        presented: presented.join(", "),
                    },
                    Some(identity) => TlsError::Identity(identity.clone()),
                    None => match other.0.downcast_ref::<CertificateChanged>() {
                        Some(changed) => TlsError::CertificateChanged(Box::new(changed.clone())),
                        None => match other.0.downcast_ref::<CcViolation>() {
                            Some(cc) => TlsError::CommonCriteria(cc.clone()),
                            None => match other.0.downcast_ref::<PinMismatch>() {
                                Some(pin) => TlsError::PinMismatch(pin.clone()),
                                None => TlsError::BadCertificate(other.to_string()),
                            },
                        },
                    },
                },
                other => TlsError::BadCertificate(format!("{other:?}")),
            },
            rustls::Error::AlertReceived(alert) => match alert {
                AlertDescription::ProtocolVersion => {
                    TlsError::ProtocolVersion(format!("alert {alert:?}"))
                }
                AlertDescription::HandshakeFailure => {
                    TlsError::Incompatible(format!("alert {alert:?}"))
                }
                other => TlsError::PeerAlert(format!("{other:?}")),
            },
            rustls::Error::PeerIncompatible(
                why @ (rustls::PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
                | rustls::PeerIncompatible::SupportedVersionsExtensionRequired),
            ) => TlsError::ProtocolVersion(format!("{why:?}")),
            rustls::Error::PeerIncompatible(why) => TlsError::Incompatible(format!("{why:?}")),
            other => TlsError::Other(other.to_string()),
        }
    }
}
