//! Sample-rate conversion for files and sound cards whose rate is not 48 kHz, with rubato's
//! synchronous FFT resampler (fixed ratio, high quality, no allocation while streaming).

use std::collections::VecDeque;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::AudioError;

/// Input chunk handed to the FFT resampler per call, in milliseconds of input.
const CHUNK_MS: u32 = 10;

fn error(from: u32, to: u32, e: impl std::fmt::Display) -> AudioError {
    AudioError::Resample {
        from,
        to,
        detail: e.to_string(),
    }
}

/// Resamples a whole mono clip from `from` Hz to `to` Hz, with the resampler's start-up
/// delay trimmed so the output lines up with the input.
pub fn resample_all(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let mut fft = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)
        .map_err(|e| error(from, to, e))?;
    let adapter = InterleavedSlice::new(input, 1, input.len()).map_err(|e| error(from, to, e))?;
    let out = fft
        .process_all(&adapter, input.len(), None)
        .map_err(|e| error(from, to, e))?;
    Ok(out.take_data())
}

/// A streaming mono resampler: push samples at one rate in any amounts, pop them at the
/// other. After construction it allocates only if more output piles up than was reserved
/// (one second), which happens only when the caller stops popping.
pub struct StreamResampler {
    from: u32,
    to: u32,
    /// `None` when the rates are equal: samples pass straight through.
    fft: Option<Fft<f32>>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    ready: VecDeque<f32>,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        if from == 0 || to == 0 {
            return Err(error(from, to, "sample rates must be non-zero"));
        }
        let fft = if from == to {
            None
        } else {
            let chunk = (from * CHUNK_MS / 1000).max(1) as usize;
            Some(
                Fft::<f32>::new(from as usize, to as usize, chunk, 1, FixedSync::Input)
                    .map_err(|e| error(from, to, e))?,
            )
        };
        let (pending, scratch) = match &fft {
            Some(fft) => (
                Vec::with_capacity(fft.input_frames_max()),
                vec![0.0; fft.output_frames_max()],
            ),
            None => (Vec::new(), Vec::new()),
        };
        Ok(Self {
            from,
            to,
            fft,
            pending,
            scratch,
            ready: VecDeque::with_capacity(to as usize),
        })
    }

    /// The input rate.
    pub fn input_rate(&self) -> u32 {
        self.from
    }

    /// The output rate.
    pub fn output_rate(&self) -> u32 {
        self.to
    }

    /// The resampler's delay, in output samples.
    pub fn delay(&self) -> usize {
        self.fft.as_ref().map_or(0, |f| f.output_delay())
    }

    /// Adds input samples; complete chunks are resampled at once.
    pub fn push(&mut self, input: &[f32]) -> Result<(), AudioError> {
        let Some(fft) = self.fft.as_mut() else {
            self.ready.extend(input);
            return Ok(());
        };
        let mut rest = input;
        while !rest.is_empty() {
            let need = fft.input_frames_next();
            let take = need.saturating_sub(self.pending.len()).min(rest.len());
            let (head, tail) = rest.split_at(take);
            self.pending.extend_from_slice(head);
            rest = tail;
            if self.pending.len() < need {
                break;
            }
            let frames_out = self.scratch.len();
            let input = InterleavedSlice::new(&self.pending[..], 1, need)
                .map_err(|e| error(self.from, self.to, e))?;
            let mut output = InterleavedSlice::new_mut(&mut self.scratch[..], 1, frames_out)
                .map_err(|e| error(self.from, self.to, e))?;
            let (_, written) = fft
                .process_into_buffer(&input, &mut output, None)
                .map_err(|e| error(self.from, self.to, e))?;
            self.ready
                .extend(self.scratch.get(..written).unwrap_or(&[]).iter());
            self.pending.clear();
        }
        Ok(())
    }

    /// Output samples ready to pop.
    pub fn available(&self) -> usize {
        self.ready.len()
    }

    /// Pops up to `out.len()` output samples; returns how many were written.
    pub fn pop(&mut self, out: &mut [f32]) -> usize {
        let n = out.len().min(self.ready.len());
        for (o, s) in out.iter_mut().zip(self.ready.drain(..n)) {
            *o = s;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (0.5 * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32
            })
            .collect()
    }

    fn zero_crossings(x: &[f32]) -> usize {
        x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count()
    }

    #[test]
    fn whole_clip_keeps_length_and_pitch() {
        let input = sine(440.0, 44_100, 44_100);
        let out = resample_all(&input, 44_100, 48_000).unwrap();
        assert!((out.len() as i64 - 48_000).abs() <= 2, "{}", out.len());
        // 440 Hz for one second: 440 upward zero crossings either way (±1 at the edges).
        assert!((zero_crossings(&out) as i64 - 440).abs() <= 1);
        assert_eq!(resample_all(&input, 44_100, 44_100).unwrap(), input);
    }

    #[test]
    fn streaming_in_odd_pieces_gives_the_right_amount() {
        let mut r = StreamResampler::new(44_100, 48_000).unwrap();
        let input = sine(1000.0, 44_100, 44_100);
        for piece in input.chunks(333) {
            r.push(piece).unwrap();
        }
        // All complete 10 ms chunks processed: within one chunk of a second of output.
        let got = r.available();
        assert!((47_500..=48_000).contains(&got), "{got}");
        let mut out = vec![0.0; got];
        assert_eq!(r.pop(&mut out), got);
        assert_eq!(r.available(), 0);
        let settled = &out[r.delay() + 480..];
        let peak = settled.iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!((peak - 0.5).abs() < 0.02, "peak {peak}");
    }

    #[test]
    fn equal_rates_pass_through_and_zero_is_refused() {
        let mut r = StreamResampler::new(48_000, 48_000).unwrap();
        r.push(&[0.25, -0.5]).unwrap();
        let mut out = [0.0; 4];
        assert_eq!(r.pop(&mut out), 2);
        assert_eq!(out[..2], [0.25, -0.5]);
        assert_eq!(r.delay(), 0);
        assert!(StreamResampler::new(0, 48_000).is_err());
    }
}
