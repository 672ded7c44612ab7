//! G.711 (ITU-T G.711, 1988): µ-law (PCMU) and A-law (PCMA) companding, written from the
//! segment/mantissa description of the standard, plus the 48 kHz ↔ 8 kHz adapter and a
//! simple concealment (repeat the last frame while fading out over three frames, then
//! silence).

use std::time::Duration;

use super::polyphase::{Downsampler, FACTOR, GROUP_DELAY_SAMPLES, Upsampler};
use super::{AudioDecoder, AudioEncoder, Codec, CodecError};
use crate::audio::{FRAME_SAMPLES, SAMPLE_RATE};

/// Samples per 20 ms frame at 8 kHz.
const NARROW_SAMPLES: usize = FRAME_SAMPLES / FACTOR;

/// Largest magnitude µ-law encodes before clipping (the 14-bit range, scaled to 16 bits).
const ULAW_CLIP: i32 = 32_635;
/// µ-law bias (33, scaled by 4 to 16 bits): it makes segment boundaries powers of two.
const ULAW_BIAS: i32 = 0x84;

/// Encodes one 16-bit sample as µ-law. Zero encodes as `0xFF`.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let value = i32::from(sample);
    let (sign, magnitude) = if value < 0 {
        (0x80, (-value).min(ULAW_CLIP))
    } else {
        (0x00, value.min(ULAW_CLIP))
    };
    let biased = magnitude + ULAW_BIAS;
    // biased is in 0x84..=0x7FFF: its top set bit is bit 7 (segment 0) to bit 14 (segment 7).
    let top_bit = 31 - biased.leading_zeros() as i32;
    let segment = (top_bit - 7).clamp(0, 7);
    let mantissa = (biased >> (segment + 3)) & 0x0F;
    !((sign | (segment << 4) | mantissa) as u8)
}

/// Decodes one µ-law byte (output range ±32124).
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TABLE[usize::from(code)]
}

const fn ulaw_decode(code: u8) -> i16 {
    let code = !code;
    let segment = ((code >> 4) & 0x07) as i32;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    if code & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Encodes one 16-bit sample as A-law (the top 13 bits are used). Zero encodes as `0xD5`.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let value = i32::from(sample) >> 3;
    // A-law has no zero: negative values are coded from their one's complement.
    let (mask, magnitude) = if value >= 0 {
        (0xD5u8, value)
    } else {
        (0x55u8, -value - 1)
    };
    // Segment s covers magnitudes below 32 << s (segments 0 and 1 share a step of 2).
    let segment = (0..8).find(|&s| magnitude < (32 << s));
    let code = match segment {
        None => 0x7F,
        Some(0) => (magnitude >> 1) & 0x0F,
        Some(s) => (s << 4) | ((magnitude >> s) & 0x0F),
    };
    (code as u8) ^ mask
}

/// Decodes one A-law byte (output range ±32256; the smallest magnitude is 8).
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

const fn alaw_decode(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = ((code >> 4) & 0x07) as i32;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = match segment {
        0 => (mantissa << 4) + 8,
        _ => ((mantissa << 4) + 0x108) << (segment - 1),
    };
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// The 256 decoded values of `law`, built at compile time.
const fn table(law: G711Law) -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = match law {
            G711Law::MuLaw => ulaw_decode(i as u8),
            G711Law::ALaw => alaw_decode(i as u8),
        };
        i += 1;
    }
    out
}

static ULAW_TABLE: [i16; 256] = table(G711Law::MuLaw);
static ALAW_TABLE: [i16; 256] = table(G711Law::ALaw);

/// µ-law or A-law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711Law {
    /// µ-law: PCMU.
    MuLaw,
    /// A-law: PCMA.
    ALaw,
}

impl G711Law {
    fn codec(self) -> Codec {
        match self {
            G711Law::MuLaw => Codec::Pcmu,
            G711Law::ALaw => Codec::Pcma,
        }
    }

    fn encode(self, sample: i16) -> u8 {
        match self {
            G711Law::MuLaw => linear_to_ulaw(sample),
            G711Law::ALaw => linear_to_alaw(sample),
        }
    }

    fn decode(self, code: u8) -> i16 {
        match self {
            G711Law::MuLaw => ulaw_to_linear(code),
            G711Law::ALaw => alaw_to_linear(code),
        }
    }
}

/// A G.711 encoder: 48 kHz frame → low-pass and decimate to 8 kHz → 160 bytes.
pub struct G711Encoder {
    law: G711Law,
    down: Downsampler,
    narrow: [i16; NARROW_SAMPLES],
}

impl G711Encoder {
    /// A new encoder for `law`.
    pub fn new(law: G711Law) -> Self {
        Self {
            law,
            down: Downsampler::new(),
            narrow: [0; NARROW_SAMPLES],
        }
    }
}

impl AudioEncoder for G711Encoder {
    fn codec(&self) -> Codec {
        self.law.codec()
    }

    fn encode(
        &mut self,
        frame: &[i16; FRAME_SAMPLES],
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        self.down.process(frame, &mut self.narrow);
        out.clear();
        out.extend(self.narrow.iter().map(|&s| self.law.encode(s)));
        Ok(())
    }

    fn set_expected_loss(&mut self, _percent: u8) -> Result<(), CodecError> {
        Ok(())
    }

    fn lookahead(&self) -> Duration {
        Duration::from_secs_f64(GROUP_DELAY_SAMPLES / f64::from(SAMPLE_RATE))
    }
}

/// Concealed frames over which the repeated signal fades to silence.
const FADE_FRAMES: u32 = 3;

/// A G.711 decoder: 160 bytes → 8 kHz → interpolate to 48 kHz; conceals by repeating the
/// last frame with a fade-out.
pub struct G711Decoder {
    law: G711Law,
    up: Upsampler,
    narrow: [i16; NARROW_SAMPLES],
    last: [i16; FRAME_SAMPLES],
    concealed_in_a_row: u32,
}

impl G711Decoder {
    /// A new decoder for `law`.
    pub fn new(law: G711Law) -> Self {
        Self {
            law,
            up: Upsampler::new(),
            narrow: [0; NARROW_SAMPLES],
            last: [0; FRAME_SAMPLES],
            concealed_in_a_row: 0,
        }
    }
}

impl AudioDecoder for G711Decoder {
    fn codec(&self) -> Codec {
        self.law.codec()
    }

    fn decode(&mut self, payload: &[u8], out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError> {
        if payload.len() != NARROW_SAMPLES {
            return Err(CodecError::FrameSize {
                codec: self.codec(),
                expected: NARROW_SAMPLES,
                got: payload.len(),
            });
        }
        for (n, &code) in self.narrow.iter_mut().zip(payload) {
            *n = self.law.decode(code);
        }
        self.up.process(&self.narrow, out);
        self.last = *out;
        self.concealed_in_a_row = 0;
        Ok(())
    }

    fn decode_fec(
        &mut self,
        _next_payload: &[u8],
        _out: &mut [i16; FRAME_SAMPLES],
    ) -> Result<bool, CodecError> {
        Ok(false)
    }

    fn conceal(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError> {
        // Gain falls linearly from (1 - c/FADE) to (1 - (c+1)/FADE) across concealed frame c.
        let c = self.concealed_in_a_row.min(FADE_FRAMES);
        self.concealed_in_a_row = self.concealed_in_a_row.saturating_add(1);
        let total = (FADE_FRAMES as usize * FRAME_SAMPLES) as f32;
        let start = c as usize * FRAME_SAMPLES;
        for (i, (o, &s)) in out.iter_mut().zip(&self.last).enumerate() {
            let gain = (1.0 - (start + i) as f32 / total).max(0.0);
            *o = (f32::from(s) * gain) as i16;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0); // "negative zero"
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32_256);
        assert_eq!(alaw_to_linear(0x2A), -32_256);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        // A few mid-range points: 1000 is in µ-law segment 3, A-law segment 2.
        assert_eq!(linear_to_ulaw(1000), 0xCE);
        assert_eq!(linear_to_alaw(1000), 0xFA);
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law {code:#04x}"
            );
            if code != 0x7F {
                assert_eq!(
                    linear_to_ulaw(ulaw_to_linear(code)),
                    code,
                    "µ-law {code:#04x}"
                );
            }
        }
    }

    #[test]
    fn decoding_is_monotonic_in_the_quantised_value() {
        let mut u: Vec<i16> = (0..=255).map(ulaw_to_linear).collect();
        let mut a: Vec<i16> = (0..=255).map(alaw_to_linear).collect();
        u.sort_unstable();
        a.sort_unstable();
        u.dedup();
        a.dedup();
        assert_eq!(u.len(), 255); // two zeros
        assert_eq!(a.len(), 256);
    }

    #[test]
    fn round_trip_error_stays_within_half_a_step() {
        for x in i16::MIN..=i16::MAX {
            let m = i32::from(x).abs();
            // Step sizes double per segment: 8 (µ-law, biased) / 16 (A-law) at the bottom.
            let u_err = (i32::from(ulaw_to_linear(linear_to_ulaw(x))) - i32::from(x)).abs();
            let a_err = (i32::from(alaw_to_linear(linear_to_alaw(x))) - i32::from(x)).abs();
            let u_bound = if m > ULAW_CLIP {
                m - 32_124
            } else {
                (m + ULAW_BIAS) / 32 + 4
            };
            let a_bound = if m > 32_256 + 512 {
                m - 32_256
            } else {
                (m / 32).max(16) + 8
            };
            assert!(u_err <= u_bound, "µ-law {x}: error {u_err} > {u_bound}");
            assert!(a_err <= a_bound, "A-law {x}: error {a_err} > {a_bound}");
        }
    }

    fn tone_frames(n: usize) -> Vec<[i16; FRAME_SAMPLES]> {
        (0..n)
            .map(|f| {
                std::array::from_fn(|i| {
                    let t = (f * FRAME_SAMPLES + i) as f64 / 48_000.0;
                    (8000.0 * (2.0 * std::f64::consts::PI * 800.0 * t).sin()) as i16
                })
            })
            .collect()
    }

    #[test]
    fn codec_round_trip_keeps_a_tone() {
        for law in [G711Law::MuLaw, G711Law::ALaw] {
            let mut enc = G711Encoder::new(law);
            let mut dec = G711Decoder::new(law);
            let mut payload = Vec::new();
            let mut out = [0i16; FRAME_SAMPLES];
            for (i, frame) in tone_frames(10).iter().enumerate() {
                enc.encode(frame, &mut payload).unwrap();
                assert_eq!(payload.len(), 160);
                dec.decode(&payload, &mut out).unwrap();
                if i > 1 {
                    let r = crate::audio::rms(&out) / crate::audio::rms(frame);
                    assert!((r - 1.0).abs() < 0.05, "{law:?} level ratio {r}");
                }
            }
        }
    }

    #[test]
    fn wrong_payload_size_is_an_error() {
        let mut dec = G711Decoder::new(G711Law::MuLaw);
        let mut out = [0i16; FRAME_SAMPLES];
        assert!(matches!(
            dec.decode(&[0xFF; 80], &mut out),
            Err(CodecError::FrameSize {
                expected: 160,
                got: 80,
                ..
            })
        ));
        assert!(!dec.decode_fec(&[0xFF; 160], &mut out).unwrap());
    }

    #[test]
    fn concealment_fades_to_silence() {
        let mut dec = G711Decoder::new(G711Law::ALaw);
        let mut out = [0i16; FRAME_SAMPLES];
        dec.decode(&[0xAA; 160], &mut out).unwrap(); // loud DC
        let level = crate::audio::rms(&out);
        let mut levels = Vec::new();
        for _ in 0..5 {
            dec.conceal(&mut out).unwrap();
            levels.push(crate::audio::rms(&out));
        }
        assert!(levels[0] > level * 0.7 && levels[0] < level);
        assert!(levels.windows(2).take(2).all(|w| w[1] < w[0]));
        assert_eq!(levels[3], 0.0);
        assert_eq!(levels[4], 0.0);
        // A real frame ends the fade.
        dec.decode(&[0xAA; 160], &mut out).unwrap();
        dec.conceal(&mut out).unwrap();
        assert!(crate::audio::rms(&out) > level * 0.7);
    }
}
