//! Why an offer or answer was refused.

use crate::sdp::{CryptoError, SdpError};

/// Why an offer or answer cannot be used. `Display` is a plain-words reason fit for a
/// `Warning` or `Reason` header; no message ever holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The body is not UTF-8 text.
    #[error("SDP body is not UTF-8 text")]
    NotUtf8,
    /// The body is not valid SDP.
    #[error("SDP body does not parse: {0}")]
    Sdp(#[source] SdpError),
    /// An `a=crypto` line is malformed or its key has the wrong length for its suite.
    #[error("invalid a=crypto: {0}")]
    Crypto(#[source] CryptoError),
    /// The offer has no `m=audio` section.
    #[error("no audio stream offered")]
    NoAudio,
    /// The audio stream has port 0.
    #[error("the audio stream is rejected (port 0)")]
    StreamRejected,
    /// The audio stream has no `c=` line, neither its own nor the session's.
    #[error("the audio stream has no c= connection address")]
    MissingConnection,
    /// The `c=` address is not an IP address (host names are not resolved here).
    #[error("the audio connection address {0:?} is not an IP address")]
    ConnectionNotIp(String),
    /// A transport protocol other than RTP/AVP, RTP/AVPF, RTP/SAVP and RTP/SAVPF.
    #[error("media transport {0} is not supported (RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF only)")]
    UnsupportedProtocol(String),
    /// DTLS-SRTP was offered; Lockphone keys SRTP with SDES only.
    #[error("DTLS-SRTP ({0}) is not supported, only SDES keys in SDP over TLS")]
    DtlsSrtp(String),
    /// A plain RTP offer without `a=crypto` when SRTP is mandatory.
    #[error("plain RTP offered, SRTP is mandatory for this account")]
    PlainRtpOffered,
    /// An SRTP profile offered when the account's SRTP policy is off.
    #[error("SRTP offered, but SRTP is off for this account")]
    SrtpDisabled,
    /// `a=crypto` received over a signalling path that is not verified TLS.
    #[error("SDES keys offered over a connection that is not verified TLS")]
    SdesNotAllowed,
    /// We were asked to offer SDES keys over a signalling path that is not verified TLS.
    #[error("SRTP keys cannot be sent over a connection that is not verified TLS")]
    SdesNotAllowedLocal,
    /// An SRTP profile without any `a=crypto` line (no keys).
    #[error("{0} without any a=crypto: no SRTP keys")]
    SavpWithoutCrypto(String),
    /// None of the offered `a=crypto` lines uses a suite (and parameters) we accept.
    #[error("no supported SRTP crypto suite offered (offered: {offered})")]
    NoSupportedSuite {
        /// The offered suite names, comma separated.
        offered: String,
    },
    /// None of the offered codecs is one we have.
    #[error("no common audio codec (we support {supported})")]
    NoCommonCodec {
        /// Our codecs, comma separated.
        supported: String,
    },
    /// An answer arrived while no offer of ours was waiting for one.
    #[error("no offer is pending: an answer cannot be applied")]
    NoOfferPending,
    /// The answer has a different number of media sections than the offer.
    #[error("the answer has {answer} media sections, the offer had {offer}")]
    MediaCountMismatch {
        /// Sections in the offer.
        offer: usize,
        /// Sections in the answer.
        answer: usize,
    },
    /// The answer uses a transport protocol that does not fit the offer.
    #[error("peer answered {answer} to an offer of {offer}")]
    ProfileMismatch {
        /// The protocol offered.
        offer: String,
        /// The protocol answered.
        answer: String,
    },
    /// The answer accepted a suite we did not offer.
    #[error("the answer picked crypto suite {suite}, which was not offered")]
    SuiteNotOffered {
        /// The suite answered.
        suite: String,
    },
    /// The answer's `a=crypto` tag is not the tag we offered for its suite.
    #[error("the answer's a=crypto tag {tag} is not the tag offered for {suite}")]
    TagMismatch {
        /// The tag answered.
        tag: u32,
        /// The suite answered.
        suite: String,
    },
    /// The answer has more than one `a=crypto` line.
    #[error("the answer has {0} a=crypto lines, expected exactly one")]
    SeveralCryptoLines(usize),
    /// The answer has no `a=crypto` although SRTP is mandatory.
    #[error("the answer has no a=crypto, SRTP is mandatory for this account")]
    NoCryptoInAnswer,
    /// The answer has `a=crypto` although we offered none.
    #[error("the answer has a=crypto although none was offered")]
    UnexpectedCrypto,
    /// The answer's `a=crypto` uses an MKI, several keys or session parameters.
    #[error(
        "the answer's a=crypto uses parameters Lockphone does not support (MKI, several keys or session parameters)"
    )]
    UnsupportedCryptoParams,
    /// The answer names no codec we offered.
    #[error("the answer picked no codec that was offered")]
    CodecNotOffered,
    /// No codec is configured.
    #[error("no audio codec is configured for this account")]
    NoLocalCodecs,
    /// SRTP is on but no suite we can key is configured.
    #[error("SRTP is on but no known crypto suite is configured for this account")]
    NoLocalSuites,
}

impl NegotiationError {
    /// The SIP status to refuse an offer with: 400 for a body that does not parse, 500 for our
    /// own configuration or state, 488 Not Acceptable Here for everything else.
    ///
    /// ```
    /// use lockphone_sip::offer_answer::NegotiationError;
    /// assert_eq!(NegotiationError::PlainRtpOffered.status_code(), 488);
    /// assert_eq!(NegotiationError::NotUtf8.status_code(), 400);
    /// ```
    pub fn status_code(&self) -> u16 {
        match self {
            NegotiationError::NotUtf8
            | NegotiationError::Sdp(_)
            | NegotiationError::MissingConnection => 400,
            NegotiationError::NoOfferPending
            | NegotiationError::NoLocalCodecs
            | NegotiationError::NoLocalSuites => 500,
            _ => 488,
        }
    }
}

impl From<SdpError> for NegotiationError {
    /// A bad `a=crypto` (wrong key length included) is unacceptable media (488); any other
    /// parse failure is a bad request (400).
    fn from(error: SdpError) -> NegotiationError {
        match error {
            SdpError::Crypto { source, .. } => NegotiationError::Crypto(source),
            other => NegotiationError::Sdp(other),
        }
    }
}

impl From<CryptoError> for NegotiationError {
    fn from(error: CryptoError) -> NegotiationError {
        NegotiationError::Crypto(error)
    }
}
