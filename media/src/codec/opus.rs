//! Opus (RFC 6716, RTP payload RFC 7587) through libopus: 48 kHz mono, 20 ms frames.
//!
//! In-band FEC is switched on with [`OpusConfig::fec`], but libopus only spends bits on it
//! when it expects loss: [`AudioEncoder::set_expected_loss`] feeds it the loss the far end
//! reports (RTCP receiver reports). On the receiving side [`opus_has_fec`] tells whether the
//! next packet really carries a redundant copy of the missing frame, so that FEC recoveries
//! are counted honestly and a packet without one goes to PLC.

use std::time::Duration;

use opus::{Application, Bitrate, Channels, Decoder, Encoder};

use super::{AudioDecoder, AudioEncoder, Codec, CodecError};
use crate::audio::{FRAME_SAMPLES, SAMPLE_RATE};

/// The largest Opus frame (RFC 6716 §3.2.1).
const MAX_PACKET: usize = 1275;
/// With DTX, libopus marks "nothing to send" with packets of at most this many bytes.
const DTX_PACKET_MAX: usize = 2;

/// libopus's tuning, chosen at encoder creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpusApplication {
    /// Speech: best intelligibility (SILK or hybrid at voice bitrates).
    #[default]
    Voip,
    /// Music and general audio.
    Audio,
    /// Lowest delay: CELT only, no SILK (and so no in-band FEC).
    LowDelay,
}

/// Opus encoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusConfig {
    /// Target bitrate in bit/s (6000–510000).
    pub bitrate: u32,
    /// Encoder complexity 0–10: 10 costs about 1.5× the CPU of 5 (shared performance
    /// figures: ≈ 235 µs vs ≈ 160 µs per frame).
    pub complexity: u8,
    /// Embed in-band FEC (a low-bitrate copy of the previous frame) when loss is expected.
    pub fec: bool,
    /// Discontinuous transmission: send (almost) nothing during silence.
    pub dtx: bool,
    /// Speech, music or lowest delay.
    pub application: OpusApplication,
    /// Packet loss to plan FEC for until the far end reports its own figure, in per cent.
    pub expected_loss: u8,
}

impl Default for OpusConfig {
    fn default() -> Self {
        Self {
            bitrate: 32_000,
            complexity: 10,
            fec: true,
            dtx: false,
            application: OpusApplication::Voip,
            expected_loss: 0,
        }
    }
}

impl OpusConfig {
    fn validate(&self) -> Result<(), CodecError> {
        if !(6_000..=510_000).contains(&self.bitrate) {
            return Err(CodecError::Config("opus bitrate must be 6000–510000 bit/s"));
        }
        if self.complexity > 10 {
            return Err(CodecError::Config("opus complexity must be 0–10"));
        }
        if self.expected_loss > 100 {
            return Err(CodecError::Config("expected loss must be 0–100 %"));
        }
        Ok(())
    }
}

/// An Opus encoder producing one 20 ms packet per frame.
pub struct OpusEncoder {
    inner: Encoder,
    dtx: bool,
    lookahead: Duration,
}

impl OpusEncoder {
    /// A new encoder with `config`.
    pub fn new(config: &OpusConfig) -> Result<Self, CodecError> {
        config.validate()?;
        let application = match config.application {
            OpusApplication::Voip => Application::Voip,
            OpusApplication::Audio => Application::Audio,
            OpusApplication::LowDelay => Application::LowDelay,
        };
        let mut inner = Encoder::new(SAMPLE_RATE, Channels::Mono, application)?;
        inner.set_bitrate(Bitrate::Bits(
            i32::try_from(config.bitrate).unwrap_or(32_000),
        ))?;
        inner.set_complexity(i32::from(config.complexity))?;
        inner.set_inband_fec(config.fec)?;
        inner.set_dtx(config.dtx)?;
        inner.set_packet_loss_perc(i32::from(config.expected_loss))?;
        let samples = u64::try_from(inner.get_lookahead()?).unwrap_or(0);
        let lookahead = Duration::from_micros(samples * 1_000_000 / u64::from(SAMPLE_RATE));
        Ok(Self {
            inner,
            dtx: config.dtx,
            lookahead,
        })
    }
}

impl AudioEncoder for OpusEncoder {
    fn codec(&self) -> Codec {
        Codec::Opus
    }

    fn encode(
        &mut self,
        frame: &[i16; FRAME_SAMPLES],
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        out.clear();
        out.resize(MAX_PACKET, 0);
        let len = self.inner.encode(frame, out)?;
        out.truncate(len);
        if self.dtx && len <= DTX_PACKET_MAX {
            out.clear();
        }
        Ok(())
    }

    fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        self.inner
            .set_packet_loss_perc(i32::from(percent.min(100)))?;
        Ok(())
    }

    fn lookahead(&self) -> Duration {
        self.lookahead
    }
}

/// An Opus decoder with FEC recovery and PLC.
pub struct OpusDecoder {
    inner: Decoder,
}

impl OpusDecoder {
    /// A new 48 kHz mono decoder.
    pub fn new() -> Result<Self, CodecError> {
        Ok(Self {
            inner: Decoder::new(SAMPLE_RATE, Channels::Mono)?,
        })
    }

    fn check_len(got: usize) -> Result<(), CodecError> {
        if got == FRAME_SAMPLES {
            Ok(())
        } else {
            Err(CodecError::FrameSize {
                codec: Codec::Opus,
                expected: FRAME_SAMPLES,
                got,
            })
        }
    }
}

impl AudioDecoder for OpusDecoder {
    fn codec(&self) -> Codec {
        Codec::Opus
    }

    fn decode(&mut self, payload: &[u8], out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError> {
        if payload.is_empty() {
            // An empty payload would mean "conceal" to libopus; the caller asked to decode.
            return Err(CodecError::FrameSize {
                codec: Codec::Opus,
                expected: FRAME_SAMPLES,
                got: 0,
            });
        }
        let got = self.inner.decode(payload, out, false)?;
        Self::check_len(got)
    }

    fn decode_fec(
        &mut self,
        next_payload: &[u8],
        out: &mut [i16; FRAME_SAMPLES],
    ) -> Result<bool, CodecError> {
        if !opus_has_fec(next_payload) {
            return Ok(false);
        }
        let got = self.inner.decode(next_payload, out, true)?;
        Self::check_len(got)?;
        Ok(true)
    }

    fn conceal(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError> {
        let got = self.inner.decode(&[], out, false)?;
        Self::check_len(got)
    }

    fn supports_fec(&self) -> bool {
        true
    }
}

/// Whether an Opus packet carries in-band FEC (SILK LBRR data) for the frame before it.
///
/// The TOC byte's configuration (RFC 6716 §3.1) says whether SILK is in use (configs 0–15:
/// SILK-only or hybrid); in a SILK frame the first range-coded symbols are the voice-activity
/// flag of each 20 ms SILK frame and then the LBRR flag, each a bit of probability ½, so they
/// sit as plain bits at the top of the first byte (RFC 6716 §4.2.3–4.2.4).
pub fn opus_has_fec(packet: &[u8]) -> bool {
    let Some(&toc) = packet.first() else {
        return false;
    };
    let config = toc >> 3;
    if config >= 16 {
        return false; // CELT only
    }
    let Ok(parsed) = opus::packet::parse(packet) else {
        return false;
    };
    let Some(&first) = parsed.frames.first().and_then(|f| f.first()) else {
        return false;
    };
    // SILK frames per Opus frame: SILK-only configs (0–11) code 10/20/40/60 ms in their low
    // two bits (two SILK frames for 40 ms, three for 60); hybrid frames are 10 or 20 ms.
    let silk_frames: u32 = match (config < 12, config & 0x3) {
        (true, 2) => 2,
        (true, 3) => 3,
        _ => 1,
    };
    let mid_lbrr = (first >> (7 - silk_frames)) & 1 == 1;
    let stereo = toc & 0x04 != 0;
    let side_lbrr = stereo && (first >> (6 - 2 * silk_frames)) & 1 == 1;
    mid_lbrr || side_lbrr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::rms;

    fn tone(frame: usize) -> [i16; FRAME_SAMPLES] {
        std::array::from_fn(|i| {
            let t = (frame * FRAME_SAMPLES + i) as f64 / 48_000.0;
            (10_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
        })
    }

    #[test]
    fn encodes_and_decodes_a_tone() {
        let mut enc = OpusEncoder::new(&OpusConfig::default()).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let mut payload = Vec::new();
        let mut out = [0i16; FRAME_SAMPLES];
        for f in 0..25 {
            enc.encode(&tone(f), &mut payload).unwrap();
            assert!(!payload.is_empty() && payload.len() < 200);
            dec.decode(&payload, &mut out).unwrap();
        }
        let ratio = rms(&out) / rms(&tone(0));
        assert!((ratio - 1.0).abs() < 0.2, "level ratio {ratio}");
        assert!(enc.lookahead() > Duration::ZERO && enc.lookahead() < Duration::from_millis(10));
    }

    #[test]
    fn fec_appears_once_loss_is_expected() {
        let mut enc = OpusEncoder::new(&OpusConfig::default()).unwrap();
        let mut payload = Vec::new();
        let mut with_fec = 0;
        for f in 0..10 {
            enc.encode(&tone(f), &mut payload).unwrap();
            with_fec += usize::from(opus_has_fec(&payload));
        }
        assert_eq!(with_fec, 0, "no FEC at 0 % expected loss");
        enc.set_expected_loss(20).unwrap();
        for f in 10..30 {
            enc.encode(&tone(f), &mut payload).unwrap();
            with_fec += usize::from(opus_has_fec(&payload));
        }
        assert!(with_fec >= 15, "only {with_fec} of 20 packets carried FEC");

        let mut dec = OpusDecoder::new().unwrap();
        let mut out = [0i16; FRAME_SAMPLES];
        assert!(dec.decode_fec(&payload, &mut out).unwrap());
        assert!(rms(&out) > 0.05);
    }

    #[test]
    fn concealment_yields_full_frames() {
        let mut enc = OpusEncoder::new(&OpusConfig::default()).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let mut payload = Vec::new();
        let mut out = [0i16; FRAME_SAMPLES];
        for f in 0..5 {
            enc.encode(&tone(f), &mut payload).unwrap();
            dec.decode(&payload, &mut out).unwrap();
        }
        dec.conceal(&mut out).unwrap();
        assert!(rms(&out) > 0.05, "PLC continues the tone");
        assert!(!dec.decode_fec(&[], &mut out).unwrap());
        assert!(dec.decode(&[], &mut out).is_err());
        assert!(dec.decode(&[0xFF, 0xFF, 0xFF], &mut out).is_err());
    }

    #[test]
    fn dtx_sends_nothing_in_silence() {
        let config = OpusConfig {
            dtx: true,
            ..OpusConfig::default()
        };
        let mut enc = OpusEncoder::new(&config).unwrap();
        let mut payload = Vec::new();
        let mut empty = 0;
        for _ in 0..50 {
            enc.encode(&[0; FRAME_SAMPLES], &mut payload).unwrap();
            empty += usize::from(payload.is_empty());
        }
        assert!(empty > 30, "only {empty} of 50 silent frames suppressed");
    }

    #[test]
    fn bad_settings_are_refused() {
        for config in [
            OpusConfig {
                complexity: 11,
                ..OpusConfig::default()
            },
            OpusConfig {
                bitrate: 100,
                ..OpusConfig::default()
            },
            OpusConfig {
                expected_loss: 101,
                ..OpusConfig::default()
            },
        ] {
            assert!(matches!(
                OpusEncoder::new(&config),
                Err(CodecError::Config(_))
            ));
        }
    }

    #[test]
    fn celt_and_garbage_carry_no_fec() {
        assert!(!opus_has_fec(&[]));
        assert!(!opus_has_fec(&[0xF8, 0xFF])); // config 31: CELT
        assert!(!opus_has_fec(&[0x08])); // SILK, but no frame data
        // Hybrid fullband 20 ms (config 15): VAD set, LBRR clear / set.
        assert!(!opus_has_fec(&[0x78, 0x9c, 0x00]));
        assert!(opus_has_fec(&[0x78, 0xe5, 0x00]));
        // SILK wideband 40 ms (config 10): two VAD bits, then LBRR.
        assert!(!opus_has_fec(&[0x50, 0xc0, 0x00]));
        assert!(opus_has_fec(&[0x50, 0xe0, 0x00]));
    }
}
