//! Verifying the CAPF server: its certificate must be one of the pinned certificates, or be
//! signed directly by one of them (the issuer pin) and be valid now. CAPF certificates are not
//! named after hosts ("CAPF-1a2b3c4d"), so no host name is checked (reference §1).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

/// How the server's certificate matched the pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinMatch {
    /// It is a pinned certificate.
    Certificate,
    /// A pinned certificate issued it.
    Issuer,
}

/// Why the server's certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// Neither pinned nor issued by a pinned certificate.
    #[error(
        "the CAPF server's certificate (subject {subject}, sha256 {sha256}) is neither the pinned CAPF certificate nor issued by it: check --capf-cert with the administrator (someone may be intercepting)"
    )]
    Mismatch {
        /// The presented certificate's subject.
        subject: String,
        /// Its SHA-256 fingerprint.
        sha256: String,
    },
    /// Issued by the pinned issuer but outside its validity period.
    #[error(
        "the CAPF server's certificate (subject {subject}) is issued by the pinned issuer but is not valid now ({not_before} .. {not_after})"
    )]
    NotValidNow {
        /// Subject.
        subject: String,
        /// Start.
        not_before: String,
        /// End.
        not_after: String,
    },
    /// Not X.509.
    #[error("the CAPF server's certificate cannot be parsed: {0}")]
    Unparsable(String),
}

struct Pinned {
    der: Vec<u8>,
}

/// The rustls verifier of a CAPF connection.
pub struct CapfServerVerifier {
    pins: Vec<Pinned>,
    provider: Arc<CryptoProvider>,
    outcome: Mutex<Option<Result<PinMatch, PinError>>>,
}

impl std::fmt::Debug for CapfServerVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CapfServerVerifier({} pins)", self.pins.len())
    }
}

impl CapfServerVerifier {
    /// Pins these certificates (the CAPF certificate itself, or the CA that issued it).
    pub fn new(pins: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        CapfServerVerifier {
            pins: pins
                .into_iter()
                .map(|c| Pinned {
                    der: c.as_ref().to_vec(),
                })
                .collect(),
            provider,
            outcome: Mutex::new(None),
        }
    }

    /// The result of the last verification (for the error message and the events).
    pub fn outcome(&self) -> Option<Result<PinMatch, PinError>> {
        self.outcome.lock().ok().and_then(|o| o.clone())
    }

    /// Checks a presented certificate against the pins at `now` (Unix seconds).
    pub fn check(&self, end_entity: &[u8], now: i64) -> Result<PinMatch, PinError> {
        if self.pins.iter().any(|p| p.der == end_entity) {
            return Ok(PinMatch::Certificate);
        }
        let (_, cert) = X509Certificate::from_der(end_entity)
            .map_err(|e| PinError::Unparsable(e.to_string()))?;
        for pin in &self.pins {
            let Ok((_, issuer)) = X509Certificate::from_der(&pin.der) else {
                continue;
            };
            if cert.issuer().as_raw() != issuer.subject().as_raw() {
                continue;
            }
            if cert.verify_signature(Some(issuer.public_key())).is_err() {
                continue;
            }
            let validity = cert.validity();
            if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
                return Err(PinError::NotValidNow {
                    subject: cert.subject().to_string(),
                    not_before: validity.not_before.to_string(),
                    not_after: validity.not_after.to_string(),
                });
            }
            return Ok(PinMatch::Issuer);
        }
        Err(PinError::Mismatch {
            subject: cert.subject().to_string(),
            sha256: crate::tls::fingerprint(end_entity),
        })
    }
}

impl ServerCertVerifier for CapfServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let result = self.check(end_entity.as_ref(), now);
        if let Ok(mut slot) = self.outcome.lock() {
            *slot = Some(result.clone());
        }
        match result {
            Ok(_) => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(rustls::Error::General(e.to_string())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
