//! What a connection actually established, for the security verdict.

use serde::Serialize;
use sha2::{Digest, Sha256};

use lockphone_sip::message::Transport;

/// The security facts of one SIP connection, as established (not as configured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionSecurity {
    /// The transport really used.
    #[serde(serialize_with = "serialize_transport")]
    pub transport: Transport,
    /// The negotiated TLS version (`TLSv1_3`), for TLS.
    pub tls_version: Option<String>,
    /// The negotiated cipher suite, for TLS.
    pub cipher_suite: Option<String>,
    /// Whether the peer's certificate was accepted by a verification rule; `trusted_by`
    /// says which.
    pub peer_verified: bool,
    /// How the peer's certificate was trusted, when it was.
    pub trusted_by: Option<TrustBasis>,
    /// The name the peer's certificate was verified against.
    pub verified_name: Option<String>,
    /// SHA-256 fingerprint of the peer's end-entity certificate (hex, colon separated).
    pub peer_certificate_sha256: Option<String>,
    /// Whether we presented a client certificate.
    pub client_certificate_presented: bool,
    /// Whether the connection ran on the FIPS-validated crypto module.
    pub fips: bool,
}

impl ConnectionSecurity {
    /// The record of an unencrypted transport (UDP or TCP).
    pub fn plain(transport: Transport) -> ConnectionSecurity {
        ConnectionSecurity {
            transport,
            tls_version: None,
            cipher_suite: None,
            peer_verified: false,
            trusted_by: None,
            verified_name: None,
            peer_certificate_sha256: None,
            client_certificate_presented: false,
            fips: false,
        }
    }

    /// The record of an established TLS connection. `verified_name` is the name the peer's
    /// certificate was verified against (`None` when the peer was not verified).
    pub fn tls(
        conn: &rustls::CommonState,
        verified_name: Option<String>,
        client_certificate_presented: bool,
    ) -> ConnectionSecurity {
        let fingerprint = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|cert| fingerprint(cert));
        ConnectionSecurity {
            transport: Transport::Tls,
            tls_version: conn.protocol_version().map(|v| format!("{v:?}")),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite())),
            peer_verified: verified_name.is_some(),
            // Filled in by the caller, which knows the verifier's decision.
            trusted_by: None,
            verified_name,
            peer_certificate_sha256: fingerprint,
            client_certificate_presented,
            fips: super::fips_mode(),
        }
    }

    /// Whether the connection is TLS with a verified peer.
    pub fn is_verified_tls(&self) -> bool {
        self.transport == Transport::Tls && self.peer_verified
    }
}

/// How a peer certificate came to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustBasis {
    /// It chains to a configured CA and names the server.
    CertificateAuthority,
    /// The user chose "Always trust" for this server.
    UserTrustStore,
    /// The user chose "Continue" for this server: accepted for this run only.
    UserContinued,
    /// Its fingerprint is pinned in the account.
    PinnedFingerprint,
}

/// The SHA-256 fingerprint of DER bytes: upper-case hex, colon separated.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Serializes a transport by its `Via` name.
pub(crate) fn serialize_transport<S: serde::Serializer>(
    t: &Transport,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.as_str())
}
