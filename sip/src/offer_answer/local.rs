//! What we can do: our address, codecs, direction and SRTP policy.

use std::net::IpAddr;

use super::AudioCodec;
use crate::sdp::{Direction, SdesSuite};

/// How SRTP is negotiated for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SrtpPolicy {
    /// Plain RTP only: offers `RTP/AVP` without `a=crypto`; an `RTP/SAVP` offer is refused.
    Off,
    /// SRTP when the peer takes it: offers `RTP/AVP` with `a=crypto` (RFC 8643 style) and
    /// accepts a plain answer.
    Optional,
    /// SRTP or no call: offers `RTP/SAVP`; plain offers and answers are refused.
    #[default]
    Mandatory,
}

/// The SDES suites we offer by default, in order of preference: GCM first, then the 80-bit
/// tags, then the 32-bit ones.
///
/// ```
/// use lockphone_sip::offer_answer::default_suites;
/// assert_eq!(default_suites()[0].as_str(), "AEAD_AES_256_GCM");
/// assert_eq!(default_suites().len(), 6);
/// ```
pub fn default_suites() -> Vec<SdesSuite> {
    vec![
        SdesSuite::AeadAes256Gcm,
        SdesSuite::AeadAes128Gcm,
        SdesSuite::Aes256CmHmacSha1_80,
        SdesSuite::AesCm128HmacSha1_80,
        SdesSuite::Aes256CmHmacSha1_32,
        SdesSuite::AesCm128HmacSha1_32,
    ]
}

/// Our side of the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// The address we receive RTP on (written in `o=` and `c=`).
    pub address: IpAddr,
    /// The port we receive RTP on; RTCP comes on the same port with rtcp-mux (always offered
    /// and accepted), else on the next one.
    pub rtp_port: u16,
    /// Codecs in order of preference.
    pub codecs: Vec<AudioCodec>,
    /// Whether to offer and accept `telephone-event` (RFC 4733, events 0–16), at the clock rate
    /// of each codec offered.
    pub telephone_event: bool,
    /// What we want to do: `sendrecv` normally, `sendonly` to put the call on hold, `inactive`.
    pub direction: Direction,
    /// SRTP policy.
    pub policy: SrtpPolicy,
    /// SDES suites in order of preference (see [`default_suites`]); unknown suites are ignored.
    pub suites: Vec<SdesSuite>,
    /// Whether SDES keys may cross the signalling path: true only when the dialog runs on TLS
    /// with a verified peer. When false, offering or accepting `a=crypto` is refused unless
    /// the policy is [`SrtpPolicy::Off`].
    pub sdes_allowed: bool,
}

impl LocalMedia {
    /// Defaults around an address and port: Opus, PCMU, PCMA, telephone-event, `sendrecv`,
    /// mandatory SRTP with [`default_suites`], SDES not allowed until the caller says the
    /// signalling leg is verified TLS.
    ///
    /// ```
    /// use lockphone_sip::offer_answer::{LocalMedia, SrtpPolicy};
    /// let local = LocalMedia::new("192.0.2.7".parse().unwrap(), 40000);
    /// assert_eq!(local.policy, SrtpPolicy::Mandatory);
    /// assert!(!local.sdes_allowed);
    /// ```
    pub fn new(address: IpAddr, rtp_port: u16) -> LocalMedia {
        LocalMedia {
            address,
            rtp_port,
            codecs: vec![AudioCodec::Opus, AudioCodec::Pcmu, AudioCodec::Pcma],
            telephone_event: true,
            direction: Direction::SendRecv,
            policy: SrtpPolicy::Mandatory,
            suites: default_suites(),
            sdes_allowed: false,
        }
    }

    /// The configured codecs without repeats, in order.
    pub(super) fn codecs(&self) -> Vec<AudioCodec> {
        let mut out: Vec<AudioCodec> = Vec::with_capacity(self.codecs.len());
        for codec in &self.codecs {
            if !out.contains(codec) {
                out.push(*codec);
            }
        }
        out
    }

    /// The configured suites we can key, without repeats, in order.
    pub(super) fn suites(&self) -> Vec<SdesSuite> {
        let mut out: Vec<SdesSuite> = Vec::with_capacity(self.suites.len());
        for suite in &self.suites {
            if suite.master_len().is_some() && !out.contains(suite) {
                out.push(suite.clone());
            }
        }
        out
    }
}
