//! A sink that measures what arrives: level, the strength of a given tone (Goertzel), the
//! dominant frequency, frame kinds and runs of digital silence.

use std::collections::VecDeque;

use super::{AudioError, AudioSink, Frame, FrameKind, SAMPLE_RATE};

/// Samples kept for frequency analysis: the last half second.
const WINDOW: usize = SAMPLE_RATE as usize / 2;
/// Samples used for the coarse frequency scan (0.1 s: 10 Hz resolution).
const SCAN_WINDOW: usize = SAMPLE_RATE as usize / 10;
/// Share of the window's energy that must sit at a frequency for [`LevelMeter::detects_tone`].
const DETECT_FRACTION: f64 = 0.5;

/// Measures what arrives, for tests, the demo and a level display.
///
/// The tone detection is a Goertzel filter over the last half second, run on a whole number
/// of the probed tone's periods so that a clean tone scores close to 1.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    window: VecDeque<f32>,
    frames: u64,
    samples: u64,
    sum_squares: f64,
    kinds: [u64; 4],
    zero_run: u64,
    longest_zero_run: u64,
}

impl Default for LevelMeter {
    fn default() -> Self {
        Self::new()
    }
}

fn kind_index(kind: FrameKind) -> usize {
    match kind {
        FrameKind::Audio => 0,
        FrameKind::Concealed => 1,
        FrameKind::FecRecovered => 2,
        FrameKind::Silence => 3,
    }
}

/// Goertzel power at `freq` over `x`, normalised so that a sine filling `x` with a whole
/// number of periods scores its share of the energy (1.0 for a pure tone).
fn tone_share<'a>(x: impl Iterator<Item = &'a f32> + Clone, n: usize, freq: f64) -> f64 {
    let coeff = 2.0 * (std::f64::consts::TAU * freq / f64::from(SAMPLE_RATE)).cos();
    let (mut s1, mut s2, mut energy) = (0.0f64, 0.0f64, 0.0f64);
    for &v in x {
        let v = f64::from(v);
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        energy += v * v;
    }
    if energy <= 0.0 || n == 0 {
        return 0.0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    (2.0 * power / (n as f64 * energy)).clamp(0.0, 1.0)
}

impl LevelMeter {
    /// A new meter.
    pub fn new() -> Self {
        Self {
            window: VecDeque::with_capacity(WINDOW),
            frames: 0,
            samples: 0,
            sum_squares: 0.0,
            kinds: [0; 4],
            zero_run: 0,
            longest_zero_run: 0,
        }
    }

    /// Frames received.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames received of `kind`.
    pub fn frames_of(&self, kind: FrameKind) -> u64 {
        self.kinds.get(kind_index(kind)).copied().unwrap_or(0)
    }

    /// RMS level of everything received, relative to full scale.
    pub fn rms(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            (self.sum_squares / self.samples as f64).sqrt()
        }
    }

    /// RMS level of the last half second, relative to full scale.
    pub fn recent_rms(&self) -> f64 {
        if self.window.is_empty() {
            return 0.0;
        }
        let sum: f64 = self.window.iter().map(|&v| f64::from(v).powi(2)).sum();
        (sum / self.window.len() as f64).sqrt()
    }

    /// The longest run of exactly-zero samples seen, in samples (a dropout shows up here).
    pub fn longest_zero_run(&self) -> u64 {
        self.longest_zero_run
    }

    /// The share (0–1) of the last half second's energy that sits at `freq` Hz.
    pub fn tone_fraction(&self, freq: f64) -> f64 {
        if !(freq.is_finite() && freq > 0.0) {
            return 0.0;
        }
        let len = self.window.len();
        let period = f64::from(SAMPLE_RATE) / freq;
        let cycles = (len as f64 / period).floor();
        let n = if cycles >= 1.0 {
            ((cycles * period).round() as usize).min(len)
        } else {
            len
        };
        tone_share(self.window.iter().skip(len - n), n, freq)
    }

    /// Whether a tone at `freq` Hz dominates the last half second.
    pub fn detects_tone(&self, freq: f64) -> bool {
        self.tone_fraction(freq) >= DETECT_FRACTION
    }

    /// The strongest frequency between 50 Hz and 8 kHz in the recent signal, to about 1 Hz,
    /// or `None` if the signal is silent.
    pub fn dominant_frequency(&self) -> Option<f64> {
        if self.window.iter().all(|&v| v == 0.0) {
            return None;
        }
        let len = self.window.len();
        let n = len.min(SCAN_WINDOW);
        let recent = || self.window.iter().skip(len - n);
        let coarse = (5..=800)
            .map(|k| f64::from(k) * 10.0)
            .map(|f| (f, tone_share(recent(), n, f)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?
            .0;
        (-10..=10)
            .map(|d| coarse + f64::from(d))
            .map(|f| (f, self.tone_fraction(f)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(f, _)| f)
    }
}

impl AudioSink for LevelMeter {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        self.frames += 1;
        if let Some(count) = self.kinds.get_mut(kind_index(frame.kind())) {
            *count += 1;
        }
        for &s in frame.samples() {
            let v = f32::from(s) / 32768.0;
            self.sum_squares += f64::from(v) * f64::from(v);
            if self.window.len() == WINDOW {
                self.window.pop_front();
            }
            self.window.push_back(v);
            if s == 0 {
                self.zero_run += 1;
                self.longest_zero_run = self.longest_zero_run.max(self.zero_run);
            } else {
                self.zero_run = 0;
            }
        }
        self.samples += frame.samples().len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioSource, ToneSource};

    fn meter_with(freq: f64, frames: usize) -> LevelMeter {
        let mut tone = ToneSource::new(freq, 0.3);
        let mut meter = LevelMeter::new();
        let mut frame = Frame::silence();
        for _ in 0..frames {
            tone.read_frame(&mut frame).unwrap();
            meter.write_frame(&frame).unwrap();
        }
        meter
    }

    #[test]
    fn detects_the_tone_it_was_fed_and_not_others() {
        for freq in [440.0, 1000.0, 1234.0, 3000.0] {
            let m = meter_with(freq, 30);
            assert!(m.detects_tone(freq), "{freq}: {}", m.tone_fraction(freq));
            assert!(m.tone_fraction(freq * 1.1) < 0.05);
            let found = m.dominant_frequency().unwrap();
            assert!((found - freq).abs() <= 1.0, "{freq} → {found}");
            assert!((m.rms() - 0.3 / 2f64.sqrt()).abs() < 0.005);
        }
    }

    #[test]
    fn silence_and_zero_runs() {
        let mut m = LevelMeter::new();
        assert_eq!(m.dominant_frequency(), None);
        assert_eq!(m.tone_fraction(1000.0), 0.0);
        m.write_frame(&Frame::silence()).unwrap();
        m.write_frame(&Frame::silence()).unwrap();
        assert_eq!(m.longest_zero_run(), 1920);
        assert_eq!(m.frames_of(FrameKind::Silence), 2);
        assert_eq!(m.frames(), 2);
        assert_eq!(m.rms(), 0.0);
        assert!(!m.detects_tone(1000.0));
    }

    #[test]
    fn noise_is_not_a_tone() {
        let mut m = LevelMeter::new();
        let mut x: u32 = 12345;
        for _ in 0..30 {
            let samples = std::array::from_fn(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 16) as i16
            });
            m.write_frame(&Frame::from_samples(samples)).unwrap();
        }
        assert!(!m.detects_tone(1000.0));
        assert!(m.recent_rms() > 0.3);
    }
}
