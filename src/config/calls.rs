//! The `[account.calls]` section: SRTP policy, codecs, what to do on a downgrade, the listener
//! for direct incoming calls.

use std::net::SocketAddr;
use std::path::PathBuf;

use lockphone_sip::offer_answer::{AudioCodec, default_suites};
use lockphone_sip::sdp::SdesSuite;
use serde::{Deserialize, Deserializer};

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
    /// SDES suites in preference order (RFC 4568 / 6188 / 7714 names; an unknown name is a
    /// configuration error).
    #[serde(deserialize_with = "suite_names")]
    pub srtp_suites: Vec<SdesSuite>,
    /// Codecs in preference order: `opus`, `pcmu`, `pcma`.
    #[serde(deserialize_with = "codec_names")]
    pub codecs: Vec<AudioCodec>,
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
            srtp_suites: default_suites(),
            codecs: vec![AudioCodec::Opus, AudioCodec::Pcmu, AudioCodec::Pcma],
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

/// `srtp_suites`: SDES suite names, each one we implement.
fn suite_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SdesSuite>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|name| match SdesSuite::from_name(name) {
            SdesSuite::Unknown(_) => Err(serde::de::Error::custom(format!(
                "unknown SRTP suite `{name}` (AEAD_AES_256_GCM, AEAD_AES_128_GCM, AES_256_CM_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, AES_CM_128_HMAC_SHA1_32)"
            ))),
            suite => Ok(suite),
        })
        .collect()
}

/// `codecs`: `opus`, `pcmu`, `pcma` (any case).
fn codec_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<AudioCodec>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|name| match name.to_ascii_lowercase().as_str() {
            "opus" => Ok(AudioCodec::Opus),
            "pcmu" => Ok(AudioCodec::Pcmu),
            "pcma" => Ok(AudioCodec::Pcma),
            other => Err(serde::de::Error::custom(format!(
                "unknown codec `{other}` (opus, pcmu, pcma)"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    #[test]
    fn unknown_codec_or_suite_is_a_configuration_error() {
        for (key, value, said) in [
            ("codecs", "[\"opus\", \"g729\"]", "unknown codec `g729`"),
            (
                "srtp_suites",
                "[\"AES_CM_128_HMAC_SHA1_81\"]",
                "unknown SRTP suite",
            ),
        ] {
            let text = format!(
                "[[account]]\nname = \"a\"\naor = \"sip:a@example.test\"\n[account.calls]\n{key} = {value}\n"
            );
            let err = Config::from_toml(&text).unwrap_err();
            assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
            assert!(err.to_string().contains(said), "{err}");
        }
    }
}
