//! What a media pipeline is built from.

use std::fmt;
use std::time::Duration;

use crate::codec::{Codec, CodecConfig, DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE};
use crate::jitter::JitterConfig;
use crate::srtp::SrtpKeys;

/// How the stream is protected.
#[derive(Clone)]
pub enum MediaSecurity {
    /// SRTP/SRTCP: our keys protect what we send, the far end's keys unprotect what we
    /// receive (the two `a=crypto` lines of an SDES exchange).
    Srtp {
        /// Keys for the packets we send.
        send: SrtpKeys,
        /// Keys for the packets we receive.
        receive: SrtpKeys,
    },
    /// Plain RTP/RTCP: no confidentiality, no integrity. Only when the call's policy allows
    /// it; the security verdict must say so.
    PlainRtp,
}

impl fmt::Debug for MediaSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaSecurity::Srtp { send, .. } => write!(f, "Srtp({})", send.suite().sdes_name()),
            MediaSecurity::PlainRtp => f.write_str("PlainRtp"),
        }
    }
}

/// Payload types for one direction, as the SDP negotiation fixed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTypes {
    /// The audio codec's payload type.
    pub audio: u8,
    /// `telephone-event` (RFC 4733), if negotiated.
    pub telephone_event: Option<u8>,
}

impl PayloadTypes {
    /// The codec's default payload type and telephone-event on 101.
    pub fn defaults(codec: Codec) -> Self {
        Self {
            audio: codec.default_payload_type(),
            telephone_event: Some(DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE),
        }
    }
}

/// Everything a [`MediaPipeline`](super::MediaPipeline) needs.
///
/// ```
/// use lockphone_media::codec::{Codec, CodecConfig};
/// use lockphone_media::pipeline::{MediaSecurity, PipelineConfig};
///
/// let config = PipelineConfig::new(CodecConfig::default_for(Codec::Pcma), MediaSecurity::PlainRtp);
/// assert_eq!(config.send_payload_types.audio, 8);
/// ```
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The codec and its settings.
    pub codec: CodecConfig,
    /// Payload types we send with.
    pub send_payload_types: PayloadTypes,
    /// Payload types we accept.
    pub receive_payload_types: PayloadTypes,
    /// SRTP keys, or plain RTP.
    pub security: MediaSecurity,
    /// Jitter buffer settings.
    pub jitter: JitterConfig,
    /// Mean RTCP report interval (each interval is randomised to 0.5–1.5× of it, RFC 3550
    /// §6.3.1). A call starts with shorter reports (0.25–0.75 s, then 0.5–1.5 s) until each
    /// side has echoed the other's SR, so that even a 3 s call measures its round-trip time.
    pub rtcp_interval: Duration,
    /// Our RTCP CNAME.
    pub cname: String,
    /// Wall-clock time (since the Unix epoch) at the `now` the pipeline is created with, for
    /// the NTP timestamps of sender reports. Round-trip times are right whatever it is.
    pub wallclock_at_start: Duration,
    /// Duration of each DTMF key press sent.
    pub dtmf_duration: Duration,
}

impl PipelineConfig {
    /// Defaults around `codec` and `security`: the codec's usual payload types both ways,
    /// telephone-event on 101, the codec's jitter defaults, RTCP every 5 s.
    pub fn new(codec: CodecConfig, security: MediaSecurity) -> Self {
        let kind = codec.codec();
        Self {
            send_payload_types: PayloadTypes::defaults(kind),
            receive_payload_types: PayloadTypes::defaults(kind),
            jitter: JitterConfig::for_codec(kind),
            codec,
            security,
            rtcp_interval: Duration::from_secs(5),
            cname: "lockphone".to_owned(),
            wallclock_at_start: Duration::ZERO,
            dtmf_duration: Duration::from_millis(100),
        }
    }
}
