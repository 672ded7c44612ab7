//! Why a media session could not be set up or changed.

use std::net::IpAddr;

use lockphone_media::audio::AudioError;
use lockphone_media::device::DeviceError;
use lockphone_media::pipeline::PipelineError;
use lockphone_media::srtp::SrtpError;

/// Why a [`MediaSocket`](super::MediaSocket) or [`MediaSession`](super::MediaSession) could
/// not be set up or changed. Never carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// No pair of free ports (even RTP port, RTP + 1 for RTCP) could be bound.
    #[error(
        "cannot bind an RTP/RTCP port pair on {ip} after {attempts} attempts ({last}); \
         check that the address is local and that ports are free"
    )]
    Bind {
        /// The address asked for.
        ip: IpAddr,
        /// Port pairs tried.
        attempts: u32,
        /// The last I/O error.
        last: std::io::Error,
    },
    /// A socket operation failed while setting up.
    #[error("media socket: {0}")]
    Io(#[from] std::io::Error),
    /// The SDES suite name is not one Lockphone speaks.
    #[error(
        "unknown SRTP suite {0:?}: the offer/answer must pick one of AEAD_AES_256_GCM, \
         AEAD_AES_128_GCM, AES_256_CM_HMAC_SHA1_80/32, AES_CM_128_HMAC_SHA1_80/32"
    )]
    UnknownSuite(String),
    /// The SRTP keys were refused (wrong length for the suite).
    #[error("SRTP keys refused: {0}; the SDES inline: key must match the suite")]
    Srtp(#[from] SrtpError),
    /// The pipeline could not be built (codec refused its settings).
    #[error("media pipeline: {0}")]
    Pipeline(#[from] PipelineError),
    /// The WAV file to play or record could not be opened.
    #[error("{0}; check the --play/--record path")]
    Audio(#[from] AudioError),
    /// The sound card could not be opened (the message names the fix).
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// DTMF asked for without a negotiated telephone-event payload type.
    #[error("telephone-event was not negotiated with the far end: DTMF cannot be sent")]
    NoTelephoneEvent,
    /// Not a DTMF key.
    #[error("{0:?} is not a DTMF key: use 0-9, *, #, A-D")]
    NotADigit(char),
    /// The session was started outside a tokio runtime.
    #[error("a media session must be started from within a tokio runtime")]
    NoRuntime,
    /// The session's task has ended (stopped, or failed: see its report).
    #[error("the media session has ended; start a new one")]
    Ended,
}
