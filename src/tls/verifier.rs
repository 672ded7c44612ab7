//! The one server-certificate verifier every SIP TLS connection uses.
//!
//! Today it chains to the configured anchors with webpki and checks the name; the SIP
//! identity rules (RFC 5922), revocation and the user's trust store extend it here.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::{TlsError, TrustAnchors};

/// Verifies SIP servers' certificates: chain to the anchors, validity, and name.
#[derive(Debug)]
pub struct SipServerVerifier {
    webpki: Arc<WebPkiServerVerifier>,
}

impl SipServerVerifier {
    /// A verifier over these anchors. Refuses to exist without any anchor: a TLS client that
    /// trusts nothing would fail every connection with a confusing error later.
    pub fn new(anchors: TrustAnchors, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        if anchors.is_empty() {
            return Err(TlsError::NoTrustAnchors);
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(anchors.roots), provider)
            .build()
            .map_err(|e| TlsError::Other(format!("cannot build the certificate verifier: {e}")))?;
        Ok(SipServerVerifier { webpki })
    }
}

impl ServerCertVerifier for SipServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
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
