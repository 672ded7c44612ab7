//! Calls as the user sees them: identifiers, what to play and record, and the summary at the
//! end; plus the glue from the account's settings to the offer/answer and from its outcome to
//! the media session.

use std::net::IpAddr;
use std::path::PathBuf;

use lockphone_media::codec::{Codec, OpusConfig};
use lockphone_media::impair::ImpairmentSpec;
use lockphone_sip::offer_answer::{AudioCodec, LocalMedia, Negotiated, SrtpPolicy};
use lockphone_sip::sdp::Direction;
use serde::{Deserialize, Serialize};

use crate::config::{CallsConfig, SrtpMode};
use crate::media::{AudioIn, AudioOut, MediaParams, MediaReport, SrtpParams};
use crate::verdict::Verdict;

/// Identifies a call of one [`Phone`](crate::ua::Phone): returned by
/// [`Phone::dial`](crate::ua::Phone::dial), carried by every call [`Event`](crate::ua::Event),
/// and given back to act on the call. Serializes as a bare number; `Display` prints it.
///
/// ```
/// use lockphone::call::CallId;
///
/// let call = CallId(7);
/// assert_eq!(call.to_string(), "7");
/// assert_eq!(serde_json::to_string(&call).unwrap(), "7");
/// assert_eq!(serde_json::from_str::<CallId>("7").unwrap(), call);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a call's audio comes from and goes to, given to [`Phone::dial`](crate::ua::Phone::dial),
/// [`Phone::answer`](crate::ua::Phone::answer) and [`Phone::auto_answer`](crate::ua::Phone::auto_answer).
///
/// The default plays a 440 Hz tone and records nothing (the received audio is still decoded
/// and measured: see [`ReceivedAudio`](crate::media::ReceivedAudio) in the call's statistics).
/// Build one with the constructors ([`tone`](CallOptions::tone),
/// [`silence`](CallOptions::silence), [`file`](CallOptions::file),
/// [`device`](CallOptions::device)) and [`record_to`](CallOptions::record_to), or set the
/// public fields.
///
/// ```
/// use lockphone::call::CallOptions;
/// use lockphone::media::{AudioIn, AudioOut};
///
/// // The default: a 440 Hz tone, nothing recorded.
/// let options = CallOptions::default();
/// assert_eq!(options.play, AudioIn::Tone { frequency_hz: 440.0 });
/// assert_eq!(options.record, AudioOut::Null);
///
/// // Play a WAV file (looped) and record what the far end sends.
/// let options = CallOptions::file("prompt.wav").record_to("received.wav");
/// assert_eq!(options.play, AudioIn::File("prompt.wav".into()));
/// assert_eq!(options.record, AudioOut::File("received.wav".into()));
///
/// // A headless callee that says nothing.
/// let options = CallOptions::silence();
/// assert_eq!(options.play, AudioIn::Silence);
/// ```
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

impl CallOptions {
    /// Sends a sine tone of `frequency_hz` (the default is 440 Hz), records nothing.
    ///
    /// ```
    /// # use lockphone::{call::CallOptions, media::AudioIn};
    /// assert_eq!(CallOptions::tone(1000.0).play, AudioIn::Tone { frequency_hz: 1000.0 });
    /// ```
    pub fn tone(frequency_hz: f64) -> CallOptions {
        CallOptions {
            play: AudioIn::Tone { frequency_hz },
            ..CallOptions::default()
        }
    }

    /// Sends digital silence (as a muted microphone does), records nothing.
    pub fn silence() -> CallOptions {
        CallOptions {
            play: AudioIn::Silence,
            ..CallOptions::default()
        }
    }

    /// Sends a WAV file, looped (any rate and channel count: mixed to mono, resampled to
    /// 48 kHz), records nothing. [`Phone::dial`](crate::ua::Phone::dial) and
    /// [`Phone::answer`](crate::ua::Phone::answer) refuse a file that cannot be read
    /// ([`UaError::AudioFile`](crate::ua::UaError::AudioFile)); one that still cannot be
    /// played when the call's media starts (not a WAV file) fails the call
    /// ([`Event::CallFailed`](crate::ua::Event::CallFailed), then it is hung up).
    pub fn file(path: impl Into<PathBuf>) -> CallOptions {
        CallOptions {
            play: AudioIn::File(path.into()),
            ..CallOptions::default()
        }
    }

    /// Uses a sound card both ways: `None` for the system default, else its name or id (see
    /// `lockphone_media::device::list_devices`). Needs a sound card; headless machines use
    /// tones, silence and files. The card is opened when the call's media starts: one that
    /// cannot be opened then fails the call ([`Event::CallFailed`](crate::ua::Event::CallFailed)).
    ///
    /// ```
    /// # use lockphone::{call::CallOptions, media::{AudioIn, AudioOut}};
    /// let options = CallOptions::device(None); // the system default, both ways
    /// assert_eq!(options.play, AudioIn::Device(None));
    /// assert_eq!(options.record, AudioOut::Device(None));
    /// ```
    pub fn device(name: Option<String>) -> CallOptions {
        CallOptions {
            play: AudioIn::Device(name.clone()),
            record: AudioOut::Device(name),
            ..CallOptions::default()
        }
    }

    /// Also writes what is received to a WAV file (48 kHz mono 16-bit), replacing any
    /// other output. The file is created when the call's media starts; its folder must
    /// exist ([`UaError::AudioFile`](crate::ua::UaError::AudioFile) otherwise), and a file
    /// that still cannot be created fails the call, as with [`file`](CallOptions::file).
    ///
    /// ```
    /// # use lockphone::{call::CallOptions, media::{AudioIn, AudioOut}};
    /// let options = CallOptions::silence().record_to("/tmp/call.wav");
    /// assert_eq!(options.play, AudioIn::Silence);
    /// assert_eq!(options.record, AudioOut::File("/tmp/call.wav".into()));
    /// ```
    pub fn record_to(mut self, path: impl Into<PathBuf>) -> CallOptions {
        self.record = AudioOut::File(path.into());
        self
    }
}

/// What a call came to, reported when it ends, in [`Event::CallEnded`](crate::ua::Event::CallEnded)
/// (every call gets exactly one, answered or not). Serializes to JSON.
///
/// `verdict` is the last security verdict (`None` if media was never negotiated);
/// `reached_encrypted` says whether the call was ever `Encrypted`, even if it later went
/// down; `media` holds the final [`MediaStats`](crate::media::MediaStats) (loss, jitter,
/// RTT, MOS, what audio was received) with the errors of the audio input and output.
///
/// ```
/// use lockphone::call::CallSummary;
/// use lockphone::verdict::SecurityLevel;
///
/// /// One line per call, as a call loop would log it.
/// fn report(summary: &CallSummary) -> String {
///     let level = summary.verdict.as_ref().map_or("none", |v| v.level.as_str());
///     let mos = summary.media.as_ref().and_then(|m| m.stats.mos);
///     format!(
///         "call {} to {}: {} after {:.1} s, verdict {level}, MOS {mos:?}",
///         summary.call, summary.peer, summary.end_reason, summary.duration_secs
///     )
/// }
///
/// # let summary = CallSummary {
/// #     call: lockphone::call::CallId(3),
/// #     peer: "sip:bob@example.com".to_owned(),
/// #     direction: "outgoing",
/// #     end_reason: "refused: 486 Busy Here".to_owned(),
/// #     duration_secs: 0.0,
/// #     verdict: None,
/// #     reached_encrypted: false,
/// #     srtp_suite: None,
/// #     codec: None,
/// #     media: None,
/// # };
/// // A call the far end refused: never answered, so no verdict and no media.
/// assert_eq!(
///     report(&summary),
///     "call 3 to sip:bob@example.com: refused: 486 Busy Here after 0.0 s, verdict none, MOS None"
/// );
/// let secure = summary.reached_encrypted
///     && summary.verdict.as_ref().is_some_and(|v| v.level == SecurityLevel::Encrypted);
/// assert!(!secure);
/// assert_eq!(serde_json::to_value(&summary).unwrap()["direction"], "outgoing");
/// ```
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
