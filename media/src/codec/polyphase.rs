//! Integer-factor sample-rate conversion between the pipeline's 48 kHz and G.711's 8 kHz:
//! a Kaiser-windowed sinc low-pass, applied as a decimator (keep every 6th output) and as a
//! polyphase interpolator (6 sub-filters). Both keep their filter history between frames and
//! never allocate after construction.

use crate::audio::FRAME_SAMPLES;

/// 48 kHz ÷ 8 kHz.
pub(super) const FACTOR: usize = 6;
/// Filter taps per polyphase branch; the whole low-pass has `FACTOR * TAPS_PER_PHASE` taps.
const TAPS_PER_PHASE: usize = 24;
const TAPS: usize = FACTOR * TAPS_PER_PHASE;
/// Pass-band edge in Hz: the telephone band ends at 3.4 kHz; the Kaiser window (β = 6,
/// about 63 dB of stop-band rejection) with 144 taps gives a transition about 1.3 kHz wide
/// centred here, so the filter is down by the 8 kHz Nyquist frequency plus a little aliasing.
const CUTOFF_HZ: f64 = 3_500.0;
const KAISER_BETA: f64 = 6.0;
const HIGH_RATE: f64 = 48_000.0;

/// A filter history of `history` samples, with room for one 48 kHz frame after it.
fn history(history: usize) -> Vec<f32> {
    let mut work = Vec::with_capacity(history + FRAME_SAMPLES);
    work.resize(history, 0.0);
    work
}

/// Group delay of one filter pass, in 48 kHz samples.
pub(super) const GROUP_DELAY_SAMPLES: f64 = (TAPS - 1) as f64 / 2.0;

/// Zeroth-order modified Bessel function of the first kind, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        let f = half / f64::from(k);
        term *= f * f;
        sum += term;
        if term < sum * 1e-12 {
            break;
        }
    }
    sum
}

/// The low-pass impulse response at 48 kHz, with unity gain at DC.
fn lowpass() -> [f32; TAPS] {
    let mut h = [0f64; TAPS];
    let centre = GROUP_DELAY_SAMPLES;
    let fc = CUTOFF_HZ / HIGH_RATE;
    let norm = bessel_i0(KAISER_BETA);
    for (n, tap) in h.iter_mut().enumerate() {
        let t = n as f64 - centre;
        let sinc = if t == 0.0 {
            2.0 * fc
        } else {
            (2.0 * std::f64::consts::PI * fc * t).sin() / (std::f64::consts::PI * t)
        };
        let r = t / centre;
        let window = bessel_i0(KAISER_BETA * (1.0 - r * r).max(0.0).sqrt()) / norm;
        *tap = sinc * window;
    }
    let sum: f64 = h.iter().sum();
    let mut out = [0f32; TAPS];
    for (o, v) in out.iter_mut().zip(h) {
        *o = (v / sum) as f32;
    }
    out
}

fn to_i16(x: f32) -> i16 {
    // `as` saturates.
    x.round() as i16
}

/// 48 kHz → 8 kHz.
pub(super) struct Downsampler {
    taps: [f32; TAPS],
    /// The last `TAPS - 1` input samples, oldest first, followed by room for one frame.
    work: Vec<f32>,
}

impl Downsampler {
    pub(super) fn new() -> Self {
        Self {
            taps: lowpass(),
            work: history(TAPS - 1),
        }
    }

    /// Filters `input` (a multiple of [`FACTOR`] samples) and writes `input.len() / FACTOR`
    /// samples to `output`.
    pub(super) fn process(&mut self, input: &[i16], output: &mut [i16]) {
        self.work.truncate(TAPS - 1);
        self.work.extend(input.iter().map(|&s| f32::from(s)));
        for (k, out) in output.iter_mut().enumerate() {
            // Output k is aligned with input sample k * FACTOR (the newest one it sees).
            let end = k * FACTOR + TAPS;
            let acc = self.work.get(end - TAPS..end).map_or(0.0, |window| {
                window
                    .iter()
                    .zip(self.taps.iter().rev())
                    .map(|(x, h)| x * h)
                    .sum::<f32>()
            });
            *out = to_i16(acc);
        }
        let keep_from = self.work.len() - (TAPS - 1);
        self.work.drain(..keep_from);
    }
}

/// 8 kHz → 48 kHz.
pub(super) struct Upsampler {
    /// `phases[p][j]` = `FACTOR * h[j * FACTOR + p]` (the gain makes up for the zeros).
    phases: [[f32; TAPS_PER_PHASE]; FACTOR],
    /// The last `TAPS_PER_PHASE - 1` input samples, oldest first, plus room for one frame.
    work: Vec<f32>,
}

impl Upsampler {
    pub(super) fn new() -> Self {
        let h = lowpass();
        let mut phases = [[0f32; TAPS_PER_PHASE]; FACTOR];
        for (p, phase) in phases.iter_mut().enumerate() {
            for (j, tap) in phase.iter_mut().enumerate() {
                *tap = h.get(j * FACTOR + p).copied().unwrap_or(0.0) * FACTOR as f32;
            }
        }
        Self {
            phases,
            work: history(TAPS_PER_PHASE - 1),
        }
    }

    /// Writes `input.len() * FACTOR` samples to `output`.
    pub(super) fn process(&mut self, input: &[i16], output: &mut [i16]) {
        self.work.truncate(TAPS_PER_PHASE - 1);
        self.work.extend(input.iter().map(|&s| f32::from(s)));
        for (n, chunk) in output.chunks_exact_mut(FACTOR).enumerate() {
            // The newest input sample for output block n is work[n + TAPS_PER_PHASE - 1].
            let Some(window) = self.work.get(n..n + TAPS_PER_PHASE) else {
                break;
            };
            for (out, phase) in chunk.iter_mut().zip(&self.phases) {
                let acc: f32 = window
                    .iter()
                    .rev()
                    .zip(phase.iter())
                    .map(|(x, h)| x * h)
                    .sum();
                *out = to_i16(acc);
            }
        }
        let keep_from = self.work.len() - (TAPS_PER_PHASE - 1);
        self.work.drain(..keep_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: f64, n: usize, amp: f64) -> Vec<i16> {
        (0..n)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin()) as i16)
            .collect()
    }

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    fn down(input: &[i16]) -> Vec<i16> {
        let mut d = Downsampler::new();
        let mut out = Vec::new();
        for frame in input.chunks_exact(960) {
            let mut o = [0i16; 160];
            d.process(frame, &mut o);
            out.extend_from_slice(&o);
        }
        out
    }

    #[test]
    fn passband_tone_keeps_its_level_through_both_filters() {
        let input = sine(1000.0, 48_000.0, 960 * 20, 10_000.0);
        let low = down(&input);
        let mut u = Upsampler::new();
        let mut back = Vec::new();
        for frame in low.chunks_exact(160) {
            let mut o = [0i16; 960];
            u.process(frame, &mut o);
            back.extend_from_slice(&o);
        }
        // Skip the filters' start-up.
        let a = rms(&input[960 * 2..]);
        assert!((rms(&low[320..]) / a - 1.0).abs() < 0.02);
        assert!((rms(&back[960 * 2..]) / a - 1.0).abs() < 0.03);
        // The delay through both is twice the group delay: compare against a shifted input.
        let delay = (2.0 * GROUP_DELAY_SAMPLES).round() as usize;
        let err: Vec<i16> = back[960 * 2..]
            .iter()
            .zip(&input[960 * 2 - delay..])
            .map(|(b, i)| b.saturating_sub(*i))
            .collect();
        assert!(rms(&err) < a * 0.05, "error {} vs {}", rms(&err), a);
    }

    #[test]
    fn stopband_tone_is_rejected_before_decimation() {
        // 6 kHz would alias to 2 kHz at 8 kHz: it must be filtered out.
        let input = sine(6000.0, 48_000.0, 960 * 10, 10_000.0);
        let low = down(&input);
        assert!(rms(&low[320..]) < rms(&input) * 0.01);
    }

    #[test]
    fn dc_gain_is_unity() {
        let low = down(&[1000i16; 960 * 4]);
        assert!(low[200..].iter().all(|&s| (s - 1000).abs() <= 1));
    }
}
