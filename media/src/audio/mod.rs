//! Audio frames, sources and sinks, and the helpers around them.
//!
//! Everything inside the pipeline is 20 ms [`Frame`]s of 48 kHz mono i16. A capture side is an
//! [`AudioSource`] (sine [`ToneSource`], [`SilenceSource`], [`WavSource`], [`NullSource`], or a
//! sound card through `crate::device`); a playout side is an [`AudioSink`] ([`WavSink`],
//! [`NullSink`], the [`LevelMeter`] that tells tests what arrived). Headless sources and sinks
//! run in real time by asking a [`Pacer`] how many frames are due. [`StreamResampler`] and
//! [`resample_all`] convert other rates (files, sound cards) to and from 48 kHz.
//!
//! ```
//! use lockphone_media::audio::{AudioSink, AudioSource, Frame, LevelMeter, ToneSource};
//!
//! let mut tone = ToneSource::new(1000.0, 0.5);
//! let mut meter = LevelMeter::new();
//! let mut frame = Frame::silence();
//! for _ in 0..25 {
//!     tone.read_frame(&mut frame).unwrap();
//!     meter.write_frame(&frame).unwrap();
//! }
//! assert!(meter.detects_tone(1000.0));
//! assert!((meter.dominant_frequency().unwrap() - 1000.0).abs() < 10.0);
//! ```

mod frame;
mod meter;
mod null;
mod pacer;
mod resample;
mod tone;
mod wav;

use thiserror::Error;

pub use frame::{
    FRAME_DURATION, FRAME_SAMPLES, Frame, FrameKind, PLAYOUT_PERIOD, PLAYOUT_PERIOD_SAMPLES,
    SAMPLE_RATE, f32_to_i16, i16_to_f32, rms,
};
pub use meter::LevelMeter;
pub use null::{NullSink, NullSource, SilenceSource};
pub use pacer::Pacer;
#[cfg(test)]
pub(crate) use pacer::test_epoch;
pub use resample::{StreamResampler, resample_all};
pub use tone::ToneSource;
pub use wav::{WavSink, WavSource};

/// Why a source or sink failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AudioError {
    /// Reading or writing a WAV file failed.
    #[error("WAV file {path}: {source}")]
    Wav {
        /// The file.
        path: String,
        /// What hound reported.
        #[source]
        source: hound::Error,
    },
    /// The WAV file's format is not one we read.
    #[error("WAV file {path}: unsupported format ({detail})")]
    UnsupportedFormat {
        /// The file.
        path: String,
        /// What is unsupported.
        detail: String,
    },
    /// The resampler could not be built or failed.
    #[error("resampling {from} Hz → {to} Hz: {detail}")]
    Resample {
        /// Input rate.
        from: u32,
        /// Output rate.
        to: u32,
        /// What rubato reported.
        detail: String,
    },
}

/// Where captured audio comes from: a 20 ms frame at a time.
pub trait AudioSource: Send {
    /// Writes the next 20 ms into `frame`. `Ok(false)` means there is no frame: the source has
    /// ended (a file that does not loop, a null source) or, for a sound card, 20 ms have not
    /// been captured yet; `frame` then holds nothing new.
    fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, AudioError>;
}

/// Where played-out audio goes: a 20 ms frame at a time.
pub trait AudioSink: Send {
    /// Consumes one frame.
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError>;

    /// Flushes what is buffered (a WAV header's lengths). Called once at the end.
    fn finish(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
}
