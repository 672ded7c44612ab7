//! The `[account.calls]` section: SRTP policy, codecs, what to do on a downgrade, the listener
//! for direct incoming calls.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::verdict::DowngradePolicy;

/// How an account treats SRTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SrtpMode {
    /// RTP/SAVP with a=crypto; a plain offer or answer fails the call with 488 (default).
    #[default]
    Mandatory,
    /// RTP/AVP with a=crypto: SRTP when the far end takes it, plain RTP otherwise.
    Optional,
    /// Plain RTP only.
    Off,
}

/// The `[account.calls]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallsConfig {
    /// SRTP policy.
    pub srtp: SrtpMode,
    /// SDES suites in preference order (RFC 4568 / 6188 / 7714 names).
    pub srtp_suites: Vec<String>,
    /// Codecs in preference order: `opus`, `pcmu`, `pcma`.
    pub codecs: Vec<String>,
    /// Offer and accept telephone-event (RFC 4733 DTMF).
    pub telephone_event: bool,
    /// INSECURE: allow SDES keys over a connection that is not verified TLS (UDP, TCP, or TLS
    /// whose server certificate was not verified). Anyone on the path can then read the keys.
    pub insecure_sdes_over_unverified_transport: bool,
    /// What a downgrade re-offer does: `alert`, `hangup` or `refuse`.
    pub on_downgrade: DowngradePolicy,
    /// Advertise Cisco's `X-cisco-sis-2.0.0` option tag (CUCM secure-call semantics).
    pub cisco_sis: bool,
    /// Listen for direct incoming calls on this address (with the account's transport).
    pub listen: Option<SocketAddr>,
    /// The certificate chain (PEM) of the TLS listener; defaults to `tls.client_certificate`.
    pub listen_certificate: Option<PathBuf>,
    /// Its private key (PEM, not readable by others); defaults to `tls.client_key`.
    pub listen_key: Option<PathBuf>,
    /// The session interval asked for (RFC 4028), seconds; 0 turns session timers off.
    pub session_expires: u32,
}

impl Default for CallsConfig {
    fn default() -> CallsConfig {
        CallsConfig {
            srtp: SrtpMode::Mandatory,
            srtp_suites: [
                "AEAD_AES_256_GCM",
                "AEAD_AES_128_GCM",
                "AES_256_CM_HMAC_SHA1_80",
                "AES_CM_128_HMAC_SHA1_80",
                "AES_256_CM_HMAC_SHA1_32",
                "AES_CM_128_HMAC_SHA1_32",
            ]
            .map(str::to_owned)
            .to_vec(),
            codecs: ["opus", "pcmu", "pcma"].map(str::to_owned).to_vec(),
            telephone_event: true,
            insecure_sdes_over_unverified_transport: false,
            on_downgrade: DowngradePolicy::Alert,
            cisco_sis: false,
            listen: None,
            listen_certificate: None,
            listen_key: None,
            session_expires: 1800,
        }
    }
}
