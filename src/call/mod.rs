//! Calls as the user sees them: identifiers, what to play and record, and the summary at the
//! end; plus the glue from the account's settings to the offer/answer and from its outcome to
//! the media session.

use std::net::IpAddr;

use lockphone_media::codec::{Codec, OpusConfig};
use lockphone_media::impair::ImpairmentSpec;
use lockphone_sip::offer_answer::{AudioCodec, LocalMedia, Negotiated, SrtpPolicy};
use lockphone_sip::sdp::Direction;
use serde::{Deserialize, Serialize};

use crate::config::{CallsConfig, SrtpMode};
use crate::media::{AudioIn, AudioOut, MediaParams, MediaReport, SrtpParams};
use crate::verdict::Verdict;

/// Identifies a call of one [`Phone`](crate::ua::Phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a call's audio comes from and goes to.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// What we send.
    pub play: AudioIn,
    /// What we do with what we receive.
    pub record: AudioOut,
    /// A simulated bad network the call's *received* media crosses before decoding
    /// (`--impair loss=5%,burst=3,jitter=20ms,reorder=1%,seed=42`), or `None`.
    pub impair: Option<ImpairmentSpec>,
    /// Opus encoder settings for this call when Opus is negotiated (`None`: the defaults,
    /// 32 kbit/s, complexity 10, in-band FEC).
    pub opus: Option<OpusConfig>,
}

impl Default for CallOptions {
    fn default() -> CallOptions {
        CallOptions {
            play: AudioIn::Tone {
                frequency_hz: 440.0,
            },
            record: AudioOut::Null,
            impair: None,
            opus: None,
        }
    }
}

/// What a call came to, reported when it ends.
#[derive(Debug, Clone, Serialize)]
pub struct CallSummary {
    /// The call.
    pub call: CallId,
    /// The far end's URI.
    pub peer: String,
    /// `outgoing` or `incoming`.
    pub direction: &'static str,
    /// Why it ended.
    pub end_reason: String,
    /// Seconds from answer to end (0 if never answered).
    pub duration_secs: f64,
    /// The last security verdict, if the call was answered.
    pub verdict: Option<Verdict>,
    /// Whether the call was ever Encrypted.
    pub reached_encrypted: bool,
    /// The SRTP suite, if any.
    pub srtp_suite: Option<String>,
    /// The codec (`opus`, `pcmu`, `pcma`).
    pub codec: Option<String>,
    /// The media statistics (loss, jitter, RTT, MOS, what was received).
    pub media: Option<MediaReport>,
}

/// The offer/answer settings of an account, for a stream on `address:port`. SDES is allowed
/// only when `verified_tls` (the signalling connection is TLS with a verified peer) or the
/// account explicitly allows it insecurely.
pub(crate) fn local_media(
    calls: &CallsConfig,
    address: IpAddr,
    port: u16,
    verified_tls: bool,
) -> LocalMedia {
    let mut local = LocalMedia::new(address, port);
    local.codecs = calls.codecs.clone();
    local.suites = calls.srtp_suites.clone();
    local.policy = match calls.srtp {
        SrtpMode::Mandatory => SrtpPolicy::Mandatory,
        SrtpMode::Optional => SrtpPolicy::Optional,
        SrtpMode::Off => SrtpPolicy::Off,
    };
    local.telephone_event = calls.telephone_event;
    local.direction = Direction::SendRecv;
    local.sdes_allowed = verified_tls || calls.insecure_sdes_over_unverified_transport;
    local
}

/// The media codec for a negotiated SDP codec.
pub(crate) fn media_codec(codec: AudioCodec) -> Codec {
    match codec {
        AudioCodec::Opus => Codec::Opus,
        AudioCodec::Pcmu => Codec::Pcmu,
        AudioCodec::Pcma => Codec::Pcma,
    }
}

/// The codec's name in reports.
pub(crate) fn codec_name(codec: AudioCodec) -> &'static str {
    match codec {
        AudioCodec::Opus => "opus",
        AudioCodec::Pcmu => "pcmu",
        AudioCodec::Pcma => "pcma",
    }
}

/// What the media session needs from an offer/answer outcome.
pub(crate) fn media_params(negotiated: &Negotiated) -> MediaParams {
    let direction = negotiated.local_direction;
    MediaParams {
        remote_rtp: negotiated.remote_rtp,
        remote_rtcp: negotiated.remote_rtcp,
        rtcp_mux: negotiated.rtcp_mux,
        codec: media_codec(negotiated.codec),
        payload_type: negotiated.payload_type,
        telephone_event: negotiated.telephone_event,
        srtp: negotiated.srtp.as_ref().map(|srtp| SrtpParams {
            suite_name: srtp.suite.as_str().to_owned(),
            send_master: zeroize::Zeroizing::new(srtp.local_key.as_bytes().to_vec()),
            receive_master: zeroize::Zeroizing::new(srtp.remote_key.as_bytes().to_vec()),
        }),
        send: matches!(direction, Direction::SendRecv | Direction::SendOnly)
            && !negotiated.remote_address_is_hold(),
        receive: matches!(direction, Direction::SendRecv | Direction::RecvOnly),
    }
}
