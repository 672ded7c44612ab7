//! A sink that measures what arrives: level, the strength of a given tone (Goertzel), the
//! dominant frequency, frame kinds and runs of digital silence.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use realfft::{RealFftPlanner, RealToComplex};

use super::{AudioError, AudioSink, Frame, FrameKind, SAMPLE_RATE};

/// Samples kept for frequency analysis: the last half second.
const WINDOW: usize = SAMPLE_RATE as usize / 2;
/// Length of the dominant-frequency scan's FFT: the whole window (2 Hz bins).
const SCAN_LEN: usize = WINDOW;
/// Lowest frequency the dominant-frequency scan looks at, Hz.
const SCAN_LOW_HZ: f64 = 50.0;
/// Highest frequency the dominant-frequency scan looks at, Hz.
const SCAN_HIGH_HZ: f64 = 8000.0;
/// Share of the window's energy that must sit at a frequency for [`LevelMeter::detects_tone`].
const DETECT_FRACTION: f64 = 0.5;
/// Full scale squared: sample `s` is `s / 32768` of full scale, its square `s² / 2^30`.
const FULL_SCALE_SQUARED: f64 = 1_073_741_824.0;

/// Measures what arrives, for tests, the demo and a level display.
///
/// The tone detection is a Goertzel filter over the last half second, run on a whole number
/// of the probed tone's periods so that a clean tone scores close to 1.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    /// The last half second of samples.
    window: VecDeque<i16>,
    /// Sum of the squares of the samples in `window`: exact (below 24 000 × 2^30 < 2^45).
    window_squares: u64,
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

fn square(s: i16) -> u64 {
    u64::from(s.unsigned_abs()).pow(2)
}

/// A sample relative to full scale.
fn level(s: i16) -> f64 {
    f64::from(s) / 32768.0
}

/// A Goertzel filter at the frequency of coefficient `coeff` (`2 cos(2π f / rate)`) over
/// `samples`: the power at that frequency and the energy of the samples.
fn goertzel(samples: impl Iterator<Item = f64>, coeff: f64) -> (f64, f64) {
    let (mut s1, mut s2, mut energy) = (0.0f64, 0.0f64, 0.0f64);
    for v in samples {
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        energy += v * v;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2, energy)
}

fn coefficient(freq: f64) -> f64 {
    2.0 * (std::f64::consts::TAU * freq / f64::from(SAMPLE_RATE)).cos()
}

/// The Goertzel power normalised so that a sine filling `n` samples with a whole number of
/// periods scores its share of the energy (1.0 for a pure tone).
fn share((power, energy): (f64, f64), n: usize) -> f64 {
    if energy <= 0.0 || n == 0 {
        return 0.0;
    }
    (2.0 * power / (n as f64 * energy)).clamp(0.0, 1.0)
}

impl LevelMeter {
    /// A new meter.
    pub fn new() -> Self {
        Self {
            window: VecDeque::with_capacity(WINDOW),
            window_squares: 0,
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
        let sum = self.window_squares as f64 / FULL_SCALE_SQUARED;
        (sum / self.window.len() as f64).sqrt()
    }

    /// The longest run of exactly-zero samples seen, in samples (a dropout shows up here).
    pub fn longest_zero_run(&self) -> u64 {
        self.longest_zero_run
    }

    /// How many of the last samples the probe at `freq` Hz looks at: a whole number of its
    /// periods (all of the window if it holds less than one).
    fn probe_len(&self, freq: f64) -> usize {
        let len = self.window.len();
        let period = f64::from(SAMPLE_RATE) / freq;
        let cycles = (len as f64 / period).floor();
        if cycles >= 1.0 {
            ((cycles * period).round() as usize).min(len)
        } else {
            len
        }
    }

    /// The share (0–1) of the last half second's energy that sits at `freq` Hz: a Goertzel
    /// filter over a whole number of its periods.
    pub fn tone_fraction(&self, freq: f64) -> f64 {
        if !(freq.is_finite() && freq > 0.0) {
            return 0.0;
        }
        let n = self.probe_len(freq);
        let recent = self
            .window
            .range(self.window.len() - n..)
            .map(|&s| level(s));
        share(goertzel(recent, coefficient(freq)), n)
    }

    /// Whether a tone at `freq` Hz dominates the last half second.
    pub fn detects_tone(&self, freq: f64) -> bool {
        self.tone_fraction(freq) >= DETECT_FRACTION
    }

    /// The strongest frequency between 50 Hz and 8 kHz in the last half second, to about
    /// 1 Hz, or `None` if it was silent.
    ///
    /// One real FFT of the Hann-windowed half second (2 Hz bins), and the peak bin refined by
    /// a parabola through the log power of it and its neighbours (within a few hundredths of
    /// a bin for a clean tone): about 0.1 ms, so a call can refresh it while running.
    pub fn dominant_frequency(&self) -> Option<f64> {
        if self.window_squares == 0 {
            return None;
        }
        let scan = FrequencyScan::get();
        let mut input = scan.fft.make_input_vec();
        let n = self.window.len();
        // Samples at the start, zeros after when there is less than half a second yet; the
        // taper is the table's Hann stretched over the samples there are.
        for (i, (slot, &sample)) in input.iter_mut().zip(&self.window).enumerate() {
            let taper = scan.hann.get(i * SCAN_LEN / n).copied().unwrap_or(0.0);
            *slot = f32::from(sample) * taper;
        }
        let mut spectrum = scan.fft.make_output_vec();
        let mut scratch = scan.fft.make_scratch_vec();
        scan.fft
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .ok()?;
        let power = |bin: usize| spectrum.get(bin).map_or(0.0, |c| f64::from(c.norm_sqr()));
        let bin_hz = f64::from(SAMPLE_RATE) / SCAN_LEN as f64;
        let (low, high) = (
            (SCAN_LOW_HZ / bin_hz).ceil() as usize,
            (SCAN_HIGH_HZ / bin_hz).floor() as usize,
        );
        let peak = (low..=high).max_by(|&a, &b| power(a).total_cmp(&power(b)))?;
        if power(peak) <= 0.0 {
            return None;
        }
        let log_power = |bin: usize| power(bin).max(f64::MIN_POSITIVE).ln();
        let (before, at, after) = (log_power(peak - 1), log_power(peak), log_power(peak + 1));
        let curvature = before - 2.0 * at + after;
        let offset = if curvature < 0.0 {
            (0.5 * (before - after) / curvature).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        Some(((peak as f64 + offset) * bin_hz).round())
    }
}

/// The frequency scan's FFT plan and window, made once per process.
struct FrequencyScan {
    fft: Arc<dyn RealToComplex<f32>>,
    hann: Vec<f32>,
}

impl FrequencyScan {
    fn get() -> &'static FrequencyScan {
        static SCAN: OnceLock<FrequencyScan> = OnceLock::new();
        SCAN.get_or_init(|| FrequencyScan {
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(SCAN_LEN),
            hann: (0..SCAN_LEN)
                .map(|i| {
                    let phase = std::f64::consts::TAU * i as f64 / SCAN_LEN as f64;
                    (0.5 - 0.5 * phase.cos()) as f32
                })
                .collect(),
        })
    }
}

impl AudioSink for LevelMeter {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        self.frames += 1;
        if let Some(count) = self.kinds.get_mut(kind_index(frame.kind())) {
            *count += 1;
        }
        let samples = frame.samples();
        let excess = (self.window.len() + samples.len()).saturating_sub(WINDOW);
        for old in self.window.drain(..excess.min(self.window.len())) {
            self.window_squares -= square(old);
        }
        self.window.extend(samples);
        // Exact in integers over the frame (960 × 2^30 < 2^40), one conversion per frame.
        let frame_squares: u64 = samples.iter().map(|&s| square(s)).sum();
        self.sum_squares += frame_squares as f64 / FULL_SCALE_SQUARED;
        self.window_squares += frame_squares;
        for &s in samples {
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

    /// The scan finds the stronger of two tones, between the FFT's 2 Hz bins, and with less
    /// than half a second received.
    #[test]
    fn dominant_frequency_is_the_stronger_tone_to_a_hertz() {
        let mut strong = ToneSource::new(997.3, 0.3);
        let mut weak = ToneSource::new(2501.0, 0.1);
        let mut meter = LevelMeter::new();
        let (mut a, mut b) = (Frame::silence(), Frame::silence());
        for frames in 1..=30 {
            strong.read_frame(&mut a).unwrap();
            weak.read_frame(&mut b).unwrap();
            let mixed = std::array::from_fn(|i| a.samples()[i] + b.samples()[i]);
            meter.write_frame(&Frame::from_samples(mixed)).unwrap();
            if frames == 10 || frames == 30 {
                assert_eq!(meter.dominant_frequency(), Some(997.0), "after {frames}");
            }
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

    /// The running sum of the window follows it exactly as old samples leave it.
    #[test]
    fn recent_level_is_that_of_the_last_half_second() {
        let mut m = LevelMeter::new();
        let mut all = Vec::new();
        for f in 0..40i16 {
            let samples = std::array::from_fn(|i| (i as i16 - 480).wrapping_mul(f * 7 + 1));
            all.extend_from_slice(&samples);
            m.write_frame(&Frame::from_samples(samples)).unwrap();
        }
        let recent = &all[all.len() - WINDOW..];
        let sum: f64 = recent
            .iter()
            .map(|&s| (f64::from(s) / 32768.0).powi(2))
            .sum();
        assert_eq!(m.recent_rms(), (sum / WINDOW as f64).sqrt());
        for _ in 0..25 {
            m.write_frame(&Frame::silence()).unwrap();
        }
        assert_eq!(m.recent_rms(), 0.0);
        assert_eq!(m.dominant_frequency(), None);
        assert!(m.rms() > 0.0);
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
