//! Audio codecs behind one interface: Opus (48 kHz, with in-band FEC, DTX and PLC) and G.711
//! µ-law / A-law (PCMU / PCMA at 8 kHz, resampled from and to the pipeline's 48 kHz inside the
//! adapter, with a simple fade-out PLC).
//!
//! Every encoder takes one 20 ms [`Frame`](crate::audio::Frame)'s samples (960 at 48 kHz) and
//! writes one RTP payload; every decoder turns one payload back into 960 samples, conceals a
//! missing frame, and (Opus only) rebuilds a missing frame from the next packet's FEC data.
//!
//! ```
//! use lockphone_media::codec::{CodecConfig, OpusConfig};
//!
//! let config = CodecConfig::Opus(OpusConfig::default());
//! let mut encoder = config.encoder().unwrap();
//! let mut decoder = config.decoder().unwrap();
//! let mut payload = Vec::new();
//! encoder.encode(&[0; 960], &mut payload).unwrap();
//! let mut out = [0i16; 960];
//! decoder.decode(&payload, &mut out).unwrap();
//! ```

mod g711;
mod opus;
mod polyphase;

use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::audio::FRAME_SAMPLES;

pub use self::g711::{G711Decoder, G711Encoder, G711Law, alaw_to_linear, linear_to_alaw};
pub use self::g711::{linear_to_ulaw, ulaw_to_linear};
pub use self::opus::{OpusApplication, OpusConfig, OpusDecoder, OpusEncoder, opus_has_fec};

/// RTP payload type conventionally used for Opus (dynamic; the SDP negotiation decides).
pub const DEFAULT_OPUS_PAYLOAD_TYPE: u8 = 111;
/// RTP payload type conventionally used for telephone-event (RFC 4733; dynamic).
pub const DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE: u8 = 101;

/// The codecs the pipeline can send and receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// Opus (RFC 7587), dynamic payload type.
    Opus,
}

impl Codec {
    /// The encoding name used in SDP `a=rtpmap` (`PCMU`, `PCMA`, `opus`).
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::Opus => "opus",
        }
    }

    /// The static payload type (RFC 3551) if the codec has one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Pcmu => Some(0),
            Codec::Pcma => Some(8),
            Codec::Opus => None,
        }
    }

    /// The payload type to use when the negotiation says nothing else.
    pub fn default_payload_type(self) -> u8 {
        self.static_payload_type()
            .unwrap_or(DEFAULT_OPUS_PAYLOAD_TYPE)
    }

    /// The RTP clock rate in Hz (8000 for G.711, 48000 for Opus, RFC 7587 §4.1).
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma => 8_000,
            Codec::Opus => 48_000,
        }
    }

    /// RTP timestamp units per 20 ms frame.
    pub fn timestamp_step(self) -> u32 {
        self.clock_rate() / 50
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.encoding_name())
    }
}

/// Why a codec refused to encode or decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// libopus reported an error.
    #[error("opus {function}: {description}")]
    Opus {
        /// The libopus function that failed.
        function: &'static str,
        /// libopus's description of the error.
        description: &'static str,
    },
    /// A payload did not hold exactly one 20 ms frame.
    #[error("{codec} payload holds {got} samples, expected {expected} (20 ms frames only)")]
    FrameSize {
        /// The codec.
        codec: Codec,
        /// Samples per 20 ms frame at the codec's rate.
        expected: usize,
        /// Samples the payload holds.
        got: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid codec setting: {0}")]
    Config(&'static str),
}

impl From<::opus::Error> for CodecError {
    fn from(e: ::opus::Error) -> Self {
        CodecError::Opus {
            function: e.function(),
            description: e.description(),
        }
    }
}

/// Turns 20 ms frames of 48 kHz mono audio into RTP payloads.
pub trait AudioEncoder: Send {
    /// The codec.
    fn codec(&self) -> Codec;

    /// Encodes one frame into `out` (cleared first). An empty `out` means "send nothing"
    /// (Opus DTX during silence may produce payloads of 1–2 bytes instead).
    fn encode(&mut self, frame: &[i16; FRAME_SAMPLES], out: &mut Vec<u8>)
    -> Result<(), CodecError>;

    /// Tells the encoder how much packet loss the far end reports, in per cent (0–100), so
    /// that Opus sizes its in-band FEC. Codecs without FEC ignore it.
    fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError>;

    /// The encoder's algorithmic delay (look-ahead and resampling filters).
    fn lookahead(&self) -> Duration;
}

/// Turns RTP payloads back into 20 ms frames of 48 kHz mono audio, and makes up frames that
/// were lost.
pub trait AudioDecoder: Send {
    /// The codec.
    fn codec(&self) -> Codec;

    /// Decodes one payload holding one 20 ms frame.
    fn decode(&mut self, payload: &[u8], out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError>;

    /// Rebuilds the frame *before* `next_payload` from the forward error correction data
    /// that `next_payload` carries. Returns `Ok(false)` (and leaves `out` alone) when the
    /// codec has no FEC or the packet carries none; the caller then conceals instead.
    fn decode_fec(
        &mut self,
        next_payload: &[u8],
        out: &mut [i16; FRAME_SAMPLES],
    ) -> Result<bool, CodecError>;

    /// Makes up one frame for a packet that never arrived (packet-loss concealment).
    fn conceal(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError>;

    /// Whether [`AudioDecoder::decode_fec`] can ever rebuild a frame.
    fn supports_fec(&self) -> bool {
        false
    }
}

/// A codec and its settings: the factory for encoders and decoders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecConfig {
    /// G.711 µ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
    /// Opus with these settings.
    Opus(OpusConfig),
}

impl CodecConfig {
    /// The default configuration of `codec`.
    pub fn default_for(codec: Codec) -> Self {
        match codec {
            Codec::Pcmu => CodecConfig::Pcmu,
            Codec::Pcma => CodecConfig::Pcma,
            Codec::Opus => CodecConfig::Opus(OpusConfig::default()),
        }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        match self {
            CodecConfig::Pcmu => Codec::Pcmu,
            CodecConfig::Pcma => Codec::Pcma,
            CodecConfig::Opus(_) => Codec::Opus,
        }
    }

    /// A new encoder.
    pub fn encoder(&self) -> Result<Box<dyn AudioEncoder>, CodecError> {
        Ok(match self {
            CodecConfig::Pcmu => Box::new(G711Encoder::new(G711Law::MuLaw)),
            CodecConfig::Pcma => Box::new(G711Encoder::new(G711Law::ALaw)),
            CodecConfig::Opus(config) => Box::new(OpusEncoder::new(config)?),
        })
    }

    /// A new decoder.
    pub fn decoder(&self) -> Result<Box<dyn AudioDecoder>, CodecError> {
        Ok(match self {
            CodecConfig::Pcmu => Box::new(G711Decoder::new(G711Law::MuLaw)),
            CodecConfig::Pcma => Box::new(G711Decoder::new(G711Law::ALaw)),
            CodecConfig::Opus(_) => Box::new(OpusDecoder::new()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_and_rates() {
        assert_eq!(Codec::Pcmu.default_payload_type(), 0);
        assert_eq!(Codec::Pcma.default_payload_type(), 8);
        assert_eq!(Codec::Opus.default_payload_type(), 111);
        assert_eq!(Codec::Pcmu.timestamp_step(), 160);
        assert_eq!(Codec::Opus.timestamp_step(), 960);
        assert_eq!(Codec::Opus.to_string(), "opus");
    }

    #[test]
    fn factory_builds_matching_codecs() {
        for codec in [Codec::Pcmu, Codec::Pcma, Codec::Opus] {
            let config = CodecConfig::default_for(codec);
            assert_eq!(config.codec(), codec);
            assert_eq!(config.encoder().unwrap().codec(), codec);
            assert_eq!(config.decoder().unwrap().codec(), codec);
        }
    }
}
