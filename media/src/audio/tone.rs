//! A sine tone source.

use super::{AudioError, AudioSource, Frame, FrameKind, SAMPLE_RATE};

/// An endless sine tone at a fixed frequency and amplitude.
#[derive(Debug, Clone)]
pub struct ToneSource {
    /// Phase advance per sample, in cycles.
    step: f64,
    /// Current phase, in cycles (0..1).
    phase: f64,
    /// Peak amplitude in sample units.
    amplitude: f64,
}

impl ToneSource {
    /// A tone of `frequency` Hz (clamped to 0–24000) at `amplitude` relative to full scale
    /// (clamped to 0–1).
    pub fn new(frequency: f64, amplitude: f64) -> Self {
        let frequency = if frequency.is_finite() {
            frequency.clamp(0.0, f64::from(SAMPLE_RATE) / 2.0)
        } else {
            0.0
        };
        let amplitude = if amplitude.is_finite() {
            amplitude.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Self {
            step: frequency / f64::from(SAMPLE_RATE),
            phase: 0.0,
            amplitude: amplitude * f64::from(i16::MAX),
        }
    }

    /// The tone's frequency in Hz.
    pub fn frequency(&self) -> f64 {
        self.step * f64::from(SAMPLE_RATE)
    }
}

/// `x` (within ±32767) to the nearest sample, halves rounded up: a truncation of a
/// positive number, which needs no call to `round` on CPUs without SSE 4.1.
fn round_sample(x: f64) -> i16 {
    ((x + 32768.5) as i32 - 32768) as i16
}

impl AudioSource for ToneSource {
    /// One `sin_cos` per frame, then a rotation per sample (two multiply-adds each): the
    /// phase restarts exactly from the accumulator at every frame, so no error builds up.
    fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, AudioError> {
        let (mut sin, mut cos) = (std::f64::consts::TAU * self.phase).sin_cos();
        let (step_sin, step_cos) = (std::f64::consts::TAU * self.step).sin_cos();
        let samples = frame.samples_mut();
        for s in samples.iter_mut() {
            *s = round_sample(self.amplitude * sin);
            (sin, cos) = (
                sin * step_cos + cos * step_sin,
                cos * step_cos - sin * step_sin,
            );
        }
        self.phase = (self.phase + self.step * samples.len() as f64).fract();
        frame.set_kind(FrameKind::Audio);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_and_continuity() {
        let mut tone = ToneSource::new(1000.0, 0.5);
        let mut a = Frame::silence();
        let mut b = Frame::silence();
        tone.read_frame(&mut a).unwrap();
        tone.read_frame(&mut b).unwrap();
        assert_eq!(a.kind(), FrameKind::Audio);
        // 0.5 of full scale: RMS 0.5/√2, peak 16384.
        assert!((a.rms() - 0.5 / 2f64.sqrt()).abs() < 1e-3);
        assert!(a.peak() >= 16380 && a.peak() <= 16384);
        // 1 kHz has exactly 20 cycles per 20 ms frame: the frames repeat.
        assert_eq!(a, b);
        assert_eq!(tone.frequency(), 1000.0);
    }

    #[test]
    fn out_of_range_settings_are_clamped() {
        let mut frame = Frame::silence();
        ToneSource::new(f64::NAN, 2.0)
            .read_frame(&mut frame)
            .unwrap();
        assert_eq!(frame.peak(), 0);
        assert_eq!(ToneSource::new(1e9, 0.1).frequency(), 24_000.0);
    }
}
