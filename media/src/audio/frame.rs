//! The unit of audio inside the pipeline: 20 ms of 48 kHz mono signed 16-bit samples.

use std::fmt;
use std::time::Duration;

/// Sample rate of every frame inside the pipeline, in Hz.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one frame: 20 ms at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// Duration of one frame.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);
/// The period a call's playout is pulled in, with
/// [`MediaPipeline::pull_playout_samples`](crate::pipeline::MediaPipeline::pull_playout_samples):
/// half a frame. A packet then waits under 10 ms (not 20) for its playout point at zero
/// network jitter; capture and encoding keep their 20 ms frames.
pub const PLAYOUT_PERIOD: Duration = Duration::from_millis(10);
/// Samples in one [`PLAYOUT_PERIOD`].
pub const PLAYOUT_PERIOD_SAMPLES: usize = FRAME_SAMPLES / 2;

/// Where a frame's samples came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum FrameKind {
    /// Real audio: captured, read from a file, or decoded from a received packet.
    #[default]
    Audio,
    /// Made up by packet-loss concealment for a frame that did not arrive in time.
    Concealed,
    /// Rebuilt from the forward error correction data carried by the next packet.
    FecRecovered,
    /// Silence because there is nothing to play yet (the jitter buffer is filling).
    Silence,
}

/// 20 ms of 48 kHz mono audio, with a note of where it came from.
///
/// ```
/// use lockphone_media::audio::{Frame, FrameKind, FRAME_SAMPLES};
///
/// let mut frame = Frame::silence();
/// frame.samples_mut()[0] = 1000;
/// assert_eq!(frame.samples().len(), FRAME_SAMPLES);
/// assert_eq!(frame.kind(), FrameKind::Silence);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    samples: [i16; FRAME_SAMPLES],
    kind: FrameKind,
}

impl Frame {
    /// A frame of zeros, marked [`FrameKind::Silence`].
    pub fn silence() -> Self {
        Self {
            samples: [0; FRAME_SAMPLES],
            kind: FrameKind::Silence,
        }
    }

    /// A frame of real audio from these samples.
    pub fn from_samples(samples: [i16; FRAME_SAMPLES]) -> Self {
        Self {
            samples,
            kind: FrameKind::Audio,
        }
    }

    /// The samples.
    pub fn samples(&self) -> &[i16; FRAME_SAMPLES] {
        &self.samples
    }

    /// The samples, for writing in place.
    pub fn samples_mut(&mut self) -> &mut [i16; FRAME_SAMPLES] {
        &mut self.samples
    }

    /// Where the samples came from.
    pub fn kind(&self) -> FrameKind {
        self.kind
    }

    /// Records where the samples came from.
    pub fn set_kind(&mut self, kind: FrameKind) {
        self.kind = kind;
    }

    /// Root-mean-square level, relative to full scale (0.0 for silence, about 0.707 for a
    /// full-scale sine).
    pub fn rms(&self) -> f64 {
        rms(&self.samples)
    }

    /// Peak absolute sample value.
    pub fn peak(&self) -> u16 {
        self.samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0)
    }
}

impl Default for Frame {
    fn default() -> Self {
        Self::silence()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("kind", &self.kind)
            .field("rms", &self.rms())
            .field("peak", &self.peak())
            .finish()
    }
}

/// Root-mean-square level of `samples` relative to full scale; 0.0 for an empty slice.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples
        .iter()
        .map(|&s| {
            let x = f64::from(s) / 32768.0;
            x * x
        })
        .sum();
    (sum / samples.len() as f64).sqrt()
}

/// Converts a float sample in \[-1, 1\] to i16, saturating outside that range.
pub fn f32_to_i16(x: f32) -> i16 {
    // `as` saturates for floats, and NaN becomes 0.
    (x * 32767.0).round() as i16
}

/// Converts an i16 sample to a float in \[-1, 1).
pub fn i16_to_f32(x: i16) -> f32 {
    f32::from(x) / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_zero_and_marked() {
        let f = Frame::silence();
        assert_eq!(f.rms(), 0.0);
        assert_eq!(f.peak(), 0);
        assert_eq!(f.kind(), FrameKind::Silence);
        assert_eq!(Frame::default(), f);
    }

    #[test]
    fn rms_of_square_wave_is_its_amplitude() {
        let mut s = [0i16; FRAME_SAMPLES];
        for (i, v) in s.iter_mut().enumerate() {
            *v = if i % 2 == 0 { 16384 } else { -16384 };
        }
        let f = Frame::from_samples(s);
        assert!((f.rms() - 0.5).abs() < 1e-9);
        assert_eq!(f.peak(), 16384);
        assert_eq!(f.kind(), FrameKind::Audio);
    }

    #[test]
    fn float_conversion_saturates() {
        assert_eq!(f32_to_i16(2.0), i16::MAX);
        assert_eq!(f32_to_i16(-2.0), i16::MIN);
        assert_eq!(f32_to_i16(f32::NAN), 0);
        assert_eq!(f32_to_i16(0.5), 16384);
        assert!((i16_to_f32(-32768) + 1.0).abs() < f32::EPSILON);
    }

    #[test]
    fn frame_duration_matches_samples() {
        let samples = u128::from(SAMPLE_RATE) * FRAME_DURATION.as_millis() / 1000;
        assert_eq!(samples, FRAME_SAMPLES as u128);
    }
}
