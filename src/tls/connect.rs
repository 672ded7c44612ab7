//! The one place client TLS connections are made (SIP transport and the HTTPS client):
//! handshake through the account's verifier, the connection's security record, then the
//! revocation check, before the stream is handed to anyone. A refused connection is closed
//! (close_notify) and the typed error says why. The LDAP client, whose handshake `ldap3`
//! runs, calls [`ClientTls::check_revocation`] before it binds.

use std::sync::atomic::Ordering;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::revocation::RevocationStatus;
use super::{ClientTls, ConnectionSecurity, TlsError, fingerprint, server_name};

impl ClientTls {
    /// Runs the TLS handshake on `stream` with the server named `name` (a DNS name or an IP
    /// address), then the revocation check of its chain (the stapled response, the cache,
    /// OCSP, CRLs; 5 s for all fetches). Returns the stream with what it established.
    ///
    /// ```no_run
    /// # async fn demo(tls: lockphone::tls::ClientTls) -> Result<(), Box<dyn std::error::Error>> {
    /// let tcp = tokio::net::TcpStream::connect("192.0.2.10:5061").await?;
    /// let (_stream, security) = tls.connect(tcp, "sip.example.com").await?;
    /// println!("revocation: {}", security.revocation.describe());
    /// # Ok(()) }
    /// ```
    pub async fn connect<S>(
        &self,
        stream: S,
        name: &str,
    ) -> Result<(TlsStream<S>, ConnectionSecurity), TlsError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let server = server_name(name)?;
        let (config, presented) = self.for_connection();
        let mut tls_stream = TlsConnector::from(config)
            .connect(server, stream)
            .await
            .map_err(|e| TlsError::from_handshake(e, name))?;
        let (_, conn) = tls_stream.get_ref();
        // The handshake succeeded through our verifier: the server is verified for `name`,
        // by a CA, the user's trust store or a pin.
        let mut security = ConnectionSecurity::tls(
            conn,
            Some(name.to_owned()),
            presented.load(Ordering::Relaxed),
        );
        security.trusted_by = security
            .peer_certificate_sha256
            .as_deref()
            .and_then(|sha| self.trust_basis(sha));
        security.common_criteria = self.is_common_criteria();
        let chain: Vec<CertificateDer<'static>> = conn
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        match self.revocation_of(name, &chain).await {
            Ok(status) => {
                security.revocation = status;
                Ok((tls_stream, security))
            }
            Err(refused) => {
                let _ = tokio::time::timeout(Duration::from_secs(1), tls_stream.shutdown()).await;
                Err(refused)
            }
        }
    }

    /// The revocation check of a connection whose handshake another library ran with
    /// [`ClientTls::for_connection`] (the LDAP client): `leaf` is the certificate the server
    /// presented; its intermediates and stapled response are those our verifier saw in that
    /// handshake. Run it before sending anything secret (a bind password).
    pub async fn check_revocation(
        &self,
        name: &str,
        leaf: CertificateDer<'static>,
    ) -> Result<RevocationStatus, TlsError> {
        let mut chain = vec![leaf];
        let sha = fingerprint(chain[0].as_ref());
        chain.extend(self.verifier.take_intermediates(&sha));
        self.revocation_of(name, &chain).await
    }

    /// The revocation check of a client certificate chain (leaf first, as the client sent it)
    /// that a listener's handshake accepted: the account's policy, cache, anchors and 5 s
    /// budget, as for a server; `peer` names the client in the log.
    pub async fn check_client_revocation(
        &self,
        peer: &str,
        chain: &[CertificateDer<'static>],
    ) -> Result<RevocationStatus, TlsError> {
        self.revocation_of(peer, chain).await
    }

    /// Checks `chain` (leaf first) with the staple the verifier kept for its leaf.
    async fn revocation_of(
        &self,
        name: &str,
        chain: &[CertificateDer<'static>],
    ) -> Result<RevocationStatus, TlsError> {
        let sha = chain.first().map(|leaf| fingerprint(leaf.as_ref()));
        let staple = sha
            .as_deref()
            .and_then(|sha| self.verifier.take_staple(sha));
        if let Some(sha) = &sha {
            // Kept for check_revocation; this connection has its chain from rustls.
            let _ = self.verifier.take_intermediates(sha);
        }
        let started = tokio::time::Instant::now();
        let result = self
            .revocation
            .check(chain, &self.anchors, staple.as_deref())
            .await;
        match &result {
            Ok(status) => tracing::debug!(
                server = name,
                revocation = %status.describe(),
                ms = started.elapsed().as_millis() as u64,
                "revocation checked"
            ),
            Err(refused) => {
                tracing::warn!(server = name, error = %refused, "TLS connection refused after the revocation check");
            }
        }
        result
    }
}
