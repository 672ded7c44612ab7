//! Where the call's audio comes from and goes to: tone, silence, WAV files, sound cards; and
//! the meter that tells what was received.

use std::path::PathBuf;

use lockphone_media::audio::{
    AudioSink, AudioSource, Frame, FrameKind, LevelMeter, NullSink, SilenceSource, ToneSource,
    WavSink, WavSource,
};
use lockphone_media::device::{CaptureDevice, PlayoutDevice};
use serde::Serialize;

use super::MediaError;

/// Level of the generated test tone, relative to full scale (−12 dBFS).
const TONE_AMPLITUDE: f64 = 0.25;
/// Most frames taken from a sound card in one tick (it catches up after a stall).
const MAX_DEVICE_FRAMES: usize = 10;

/// What the call sends (`--play FILE|tone|silence`, `--device`).
#[derive(Debug, Clone, PartialEq)]
pub enum AudioIn {
    /// A sine tone.
    Tone {
        /// Its frequency in Hz.
        frequency_hz: f64,
    },
    /// Digital silence (a muted microphone).
    Silence,
    /// A WAV file, any rate and channel count (mixed to mono, resampled to 48 kHz), looped.
    File(PathBuf),
    /// A sound card: by name or id (see `lockphone_media::device::list_devices`), or the
    /// system default.
    Device(Option<String>),
}

/// Where the received audio goes (`--record FILE`, `--device`).
#[derive(Debug, Clone, PartialEq)]
pub enum AudioOut {
    /// Nowhere (it is still measured).
    Null,
    /// A WAV file, 48 kHz mono 16-bit, one frame per 20 ms of the call.
    File(PathBuf),
    /// A sound card: by name or id, or the system default.
    Device(Option<String>),
}

/// What was played out, measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ReceivedAudio {
    /// Frames handed to the output (one per 20 ms tick).
    pub frames: u64,
    /// Frames decoded from received packets.
    pub frames_audio: u64,
    /// Frames rebuilt from Opus FEC.
    pub frames_fec: u64,
    /// Frames made up by concealment.
    pub frames_concealed: u64,
    /// Frames of silence: nothing received yet, or not receiving (hold).
    pub frames_silence: u64,
    /// Of those, frames of silence between two stretches of audio (decoded, FEC or
    /// concealed): gaps in the received audio, e.g. a stall longer than concealment holds, or
    /// hold. Loss alone never makes one (the jitter buffer conceals every missing tick), so 0
    /// proves the audio was continuous. Silence before the first and after the last packet is
    /// not a gap.
    pub gap_frames: u64,
    /// RMS level of all decoded audio (audio and FEC frames), relative to full scale.
    pub rms: f64,
    /// RMS level of the last half second of decoded audio.
    pub recent_rms: f64,
    /// The strongest frequency in the last half second of decoded audio, Hz (`None` if it
    /// was silent or nothing was decoded). Refreshed every 2 s while running, and at the end.
    pub dominant_frequency_hz: Option<f64>,
}

/// The capture side: a source and how it is clocked.
pub(super) struct Capture {
    source: Box<dyn AudioSource>,
    /// A sound card is its own clock: read whatever it has captured. Anything else is
    /// read one frame per 20 ms tick.
    device: bool,
    frame: Frame,
    errors: u64,
    last_error: Option<String>,
}

impl Capture {
    pub(super) fn open(input: &AudioIn) -> Result<Self, MediaError> {
        let (source, device): (Box<dyn AudioSource>, bool) = match input {
            AudioIn::Tone { frequency_hz } => (
                Box::new(ToneSource::new(*frequency_hz, TONE_AMPLITUDE)),
                false,
            ),
            AudioIn::Silence => (Box::new(SilenceSource), false),
            AudioIn::File(path) => (Box::new(WavSource::open(path, true)?), false),
            AudioIn::Device(name) => (Box::new(CaptureDevice::open(name.as_deref())?), true),
        };
        Ok(Self {
            source,
            device,
            frame: Frame::silence(),
            errors: 0,
            last_error: None,
        })
    }

    /// Reads the frames for one tick and hands each to `each`.
    pub(super) fn tick(&mut self, mut each: impl FnMut(&Frame)) {
        let most = if self.device { MAX_DEVICE_FRAMES } else { 1 };
        for _ in 0..most {
            match self.source.read_frame(&mut self.frame) {
                Ok(true) => each(&self.frame),
                Ok(false) => return,
                Err(e) => {
                    self.errors += 1;
                    self.last_error = Some(e.to_string());
                    return;
                }
            }
        }
    }

    pub(super) fn errors(&self) -> (u64, Option<&str>) {
        (self.errors, self.last_error.as_deref())
    }
}

/// The playout side: the sink, and the meter that measures what was decoded.
pub(super) struct Playout {
    sink: Box<dyn AudioSink>,
    meter: LevelMeter,
    silence: Frame,
    stats: ReceivedAudio,
    /// Silent frames since the last audio, counted as a gap if audio comes back.
    silence_after_audio: u64,
    errors: u64,
    last_error: Option<String>,
}

impl Playout {
    pub(super) fn open(output: &AudioOut) -> Result<Self, MediaError> {
        let sink: Box<dyn AudioSink> = match output {
            AudioOut::Null => Box::new(NullSink::new()),
            AudioOut::File(path) => Box::new(WavSink::create(path)?),
            AudioOut::Device(name) => Box::new(PlayoutDevice::open(name.as_deref())?),
        };
        Ok(Self {
            sink,
            meter: LevelMeter::new(),
            silence: Frame::silence(),
            stats: ReceivedAudio::default(),
            silence_after_audio: 0,
            errors: 0,
            last_error: None,
        })
    }

    /// Plays one tick's frame; silence instead when not receiving (hold).
    pub(super) fn play(&mut self, frame: &Frame, receiving: bool) {
        let frame = if receiving { frame } else { &self.silence };
        self.stats.frames += 1;
        match frame.kind() {
            FrameKind::Audio => self.stats.frames_audio += 1,
            FrameKind::FecRecovered => self.stats.frames_fec += 1,
            FrameKind::Concealed => self.stats.frames_concealed += 1,
            FrameKind::Silence => {
                self.stats.frames_silence += 1;
                if self.stats.frames_silence < self.stats.frames {
                    self.silence_after_audio += 1;
                }
            }
        }
        if frame.kind() != FrameKind::Silence {
            self.stats.gap_frames += std::mem::take(&mut self.silence_after_audio);
        }
        if matches!(frame.kind(), FrameKind::Audio | FrameKind::FecRecovered) {
            // The meter only ever sees decoded audio: concealment and pre-roll silence would
            // blur the level and the frequency of what the far end really sent.
            let _ = self.meter.write_frame(frame);
        }
        if let Err(e) = self.sink.write_frame(frame) {
            self.errors += 1;
            self.last_error = Some(e.to_string());
        }
    }

    /// Flushes the output (a WAV file's header).
    pub(super) fn finish(&mut self) {
        if let Err(e) = self.sink.finish() {
            self.errors += 1;
            self.last_error = Some(e.to_string());
        }
    }

    /// The measurements; the dominant frequency (a few ms of CPU) only when `analyse`,
    /// otherwise the last one computed.
    pub(super) fn stats(&mut self, analyse: bool) -> ReceivedAudio {
        self.stats.rms = self.meter.rms();
        self.stats.recent_rms = self.meter.recent_rms();
        if analyse {
            self.stats.dominant_frequency_hz = self.meter.dominant_frequency();
        }
        self.stats
    }

    pub(super) fn errors(&self) -> (u64, Option<&str>) {
        (self.errors, self.last_error.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_silence_between_audio_is_a_gap() {
        let mut playout = Playout::open(&AudioOut::Null).unwrap();
        let audio = {
            let mut f = Frame::silence();
            f.set_kind(FrameKind::Audio);
            f
        };
        let concealed = {
            let mut f = Frame::silence();
            f.set_kind(FrameKind::Concealed);
            f
        };
        let silence = Frame::silence();
        // Leading silence, audio, a concealed frame, 3 silent frames, audio, trailing silence.
        for frame in [
            &silence, &silence, &audio, &concealed, &silence, &silence, &silence, &audio, &silence,
            &silence,
        ] {
            playout.play(frame, true);
        }
        let stats = playout.stats(false);
        assert_eq!(stats.frames, 10);
        assert_eq!(stats.frames_silence, 7);
        assert_eq!(stats.frames_concealed, 1);
        assert_eq!(stats.gap_frames, 3);
    }

    #[test]
    fn tone_capture_gives_one_frame_per_tick() {
        let mut capture = Capture::open(&AudioIn::Tone {
            frequency_hz: 1000.0,
        })
        .unwrap();
        let mut frames = 0;
        capture.tick(|f| {
            frames += 1;
            assert!(f.rms() > 0.15);
        });
        assert_eq!(frames, 1);
    }

    #[test]
    fn playout_measures_only_decoded_audio_and_silences_on_hold() {
        let mut playout = Playout::open(&AudioOut::Null).unwrap();
        let mut tone = ToneSource::new(440.0, 0.5);
        let mut frame = Frame::silence();
        for _ in 0..30 {
            tone.read_frame(&mut frame).unwrap();
            playout.play(&frame, true);
        }
        let mut concealed = Frame::from_samples([3000; 960]);
        concealed.set_kind(FrameKind::Concealed);
        playout.play(&concealed, true);
        playout.play(&frame, false);
        let stats = playout.stats(true);
        assert_eq!(stats.frames, 32);
        assert_eq!(stats.frames_audio, 30);
        assert_eq!(stats.frames_concealed, 1);
        assert_eq!(stats.frames_silence, 1);
        let f = stats.dominant_frequency_hz.unwrap();
        assert!((f - 440.0).abs() < 2.0, "{f}");
        assert!((stats.rms - 0.5 / 2f64.sqrt()).abs() < 0.01);
    }

    #[test]
    fn missing_wav_file_is_a_clear_error() {
        let err = Capture::open(&AudioIn::File("/nonexistent/prompt.wav".into()))
            .err()
            .unwrap();
        let message = err.to_string();
        assert!(message.contains("/nonexistent/prompt.wav"), "{message}");
        assert!(message.contains("--play"), "{message}");
    }
}
