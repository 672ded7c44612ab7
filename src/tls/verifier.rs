//! The one server-certificate verifier every SIP TLS connection uses.
//!
//! It chains the server's certificate to the configured anchors with webpki (validity dates,
//! key usage, path building through the intermediates the server sent), then checks the SIP
//! identity rules of [`crate::trust::identity`] instead of web-PKI name matching: a
//! `sip:domain` URI, SRVName or xmppAddr identifies a SIP server as well as a dNSName does.
//! Revocation and the user's trust store plug in here next.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};

use super::{TlsError, TrustAnchors};
use crate::trust::identity::{ExpectedIdentity, IdentityPolicy, check_identity};

/// Verifies SIP servers' certificates: chain to the anchors, validity, and name.
#[derive(Debug)]
pub struct SipServerVerifier {
    /// Signature checks of the handshake itself.
    webpki: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    identity: IdentityPolicy,
}

impl SipServerVerifier {
    /// A verifier over these anchors. Refuses to exist without any anchor: a TLS client that
    /// trusts nothing would fail every connection with a confusing error later.
    pub fn new(anchors: TrustAnchors, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        if anchors.is_empty() {
            return Err(TlsError::NoTrustAnchors);
        }
        let roots = Arc::new(anchors.roots);
        let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| TlsError::Other(format!("cannot build the certificate verifier: {e}")))?;
        Ok(SipServerVerifier {
            webpki,
            roots,
            provider,
            identity: IdentityPolicy::default(),
        })
    }

    /// Uses these identity rules (default: RFC 9525, wildcards allowed).
    pub fn with_identity_policy(mut self, policy: IdentityPolicy) -> SipServerVerifier {
        self.identity = policy;
        self
    }
}

impl ServerCertVerifier for SipServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let parsed = ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        let expected = match server_name {
            ServerName::DnsName(name) => ExpectedIdentity::domain(name.as_ref()),
            ServerName::IpAddress(ip) => ExpectedIdentity::Ip(std::net::IpAddr::from(*ip)),
            other => ExpectedIdentity::domain(&other.to_str()),
        };
        check_identity(end_entity.as_ref(), &expected, self.identity).map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
        })?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
