//! Where the call's audio comes from and goes to: tone, silence, WAV files, sound cards; and
//! the meter that tells what was received.

use std::path::PathBuf;

use lockphone_media::audio::{
    AudioSink, AudioSource, FRAME_SAMPLES, Frame, FrameKind, LevelMeter, NullSink, SilenceSource,
    ToneSource, WavSink, WavSource,
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
    /// A WAV file, 48 kHz mono 16-bit: the samples played, one frame per 20 ms of the call.
    File(PathBuf),
    /// A sound card: by name or id, or the system default.
    Device(Option<String>),
}

/// What was played out, measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ReceivedAudio {
    /// Frames handed to the output (one per 20 ms of the call; the driver pulls them in 10 ms
    /// periods, and these counts are the samples of each kind in 20 ms frames).
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

/// Where the played-out audio goes.
enum Sink {
    /// An output that takes whole frames (a WAV file, null): the periods are gathered into
    /// frames, so a recording holds exactly the samples played, a whole frame at a time.
    Frames(Box<dyn AudioSink>),
    /// A sound card's ring, topped up with each period as soon as it is pulled.
    Device(Box<PlayoutDevice>),
}

/// Samples gathered into 20 ms frames, for an output that takes whole frames.
struct Gather {
    frame: Frame,
    len: usize,
}

impl Gather {
    fn new() -> Self {
        Self {
            frame: Frame::silence(),
            len: 0,
        }
    }

    /// Appends `samples`, calling `full` with each frame completed.
    fn push(&mut self, mut samples: &[i16], mut full: impl FnMut(&Frame)) {
        while !samples.is_empty() {
            let room = self
                .frame
                .samples_mut()
                .get_mut(self.len..)
                .unwrap_or_default();
            let n = room.len().min(samples.len());
            let (head, tail) = samples.split_at(n);
            room.get_mut(..n).unwrap_or_default().copy_from_slice(head);
            self.len += n;
            samples = tail;
            if self.len == FRAME_SAMPLES {
                full(&self.frame);
                self.len = 0;
            }
        }
    }
}

/// Samples handed to the output, by kind.
#[derive(Debug, Clone, Copy, Default)]
struct Played {
    all: u64,
    audio: u64,
    fec: u64,
    concealed: u64,
    /// Silence between two stretches of audio.
    gap: u64,
    /// Silence since the last audio, counted as a gap if audio comes back.
    silence_after_audio: u64,
}

/// The playout side: the sink, and the meter that measures what was decoded. It is fed in
/// periods (10 ms from the driver), any number of samples at a time; the statistics are
/// counted in samples and reported in 20 ms frames.
pub(super) struct Playout {
    sink: Sink,
    /// What a frame sink has not been given yet (less than a frame).
    to_sink: Gather,
    meter: LevelMeter,
    /// Decoded audio not yet given to the meter (which takes frames).
    to_meter: Gather,
    played: Played,
    stats: ReceivedAudio,
    errors: u64,
    last_error: Option<String>,
}

/// A frame of silence: what is played while not receiving (hold), and sent while muted.
pub(super) static SILENCE: [i16; FRAME_SAMPLES] = [0; FRAME_SAMPLES];

impl Playout {
    pub(super) fn open(output: &AudioOut) -> Result<Self, MediaError> {
        let sink = match output {
            AudioOut::Null => Sink::Frames(Box::new(NullSink::new())),
            AudioOut::File(path) => Sink::Frames(Box::new(WavSink::create(path)?)),
            AudioOut::Device(name) => Sink::Device(Box::new(PlayoutDevice::open(name.as_deref())?)),
        };
        Ok(Self {
            sink,
            to_sink: Gather::new(),
            meter: LevelMeter::new(),
            to_meter: Gather::new(),
            played: Played::default(),
            stats: ReceivedAudio::default(),
            errors: 0,
            last_error: None,
        })
    }

    /// Plays one period's `samples` (at most a frame), all from a frame of `kind`; silence
    /// instead when not receiving (hold). A sound card gets them at once; a file or null
    /// output a frame at a time.
    pub(super) fn play(&mut self, samples: &[i16], kind: FrameKind, receiving: bool) {
        let (samples, kind) = if receiving {
            (samples, kind)
        } else {
            (
                SILENCE.get(..samples.len()).unwrap_or(&SILENCE),
                FrameKind::Silence,
            )
        };
        let n = samples.len() as u64;
        let p = &mut self.played;
        p.all += n;
        match kind {
            FrameKind::Audio => p.audio += n,
            FrameKind::FecRecovered => p.fec += n,
            FrameKind::Concealed => p.concealed += n,
            FrameKind::Silence => {
                if p.audio + p.fec + p.concealed > 0 {
                    p.silence_after_audio += n;
                }
            }
        }
        if kind != FrameKind::Silence {
            p.gap += std::mem::take(&mut p.silence_after_audio);
        }
        if matches!(kind, FrameKind::Audio | FrameKind::FecRecovered) {
            // The meter only ever sees decoded audio: concealment and pre-roll silence would
            // blur the level and the frequency of what the far end really sent.
            let meter = &mut self.meter;
            self.to_meter.push(samples, |frame| {
                let _ = meter.write_frame(frame);
            });
        }
        let result = match &mut self.sink {
            Sink::Device(device) => device.write_samples(samples),
            Sink::Frames(sink) => {
                let mut result = Ok(());
                self.to_sink.push(samples, |frame| {
                    if let Err(e) = sink.write_frame(frame) {
                        result = Err(e);
                    }
                });
                result
            }
        };
        if let Err(e) = result {
            self.errors += 1;
            self.last_error = Some(e.to_string());
        }
    }

    /// Flushes the output (a WAV file's header). A last partial frame (half a frame when
    /// the call ends between the two periods of one) is not written: a recording holds
    /// whole frames, as many as [`ReceivedAudio::frames`] says.
    pub(super) fn finish(&mut self) {
        let result = match &mut self.sink {
            Sink::Frames(sink) => sink.finish(),
            Sink::Device(device) => device.finish(),
        };
        if let Err(e) = result {
            self.errors += 1;
            self.last_error = Some(e.to_string());
        }
    }

    /// The measurements; the dominant frequency (a few ms of CPU) only when `analyse`,
    /// otherwise the last one computed.
    pub(super) fn stats(&mut self, analyse: bool) -> ReceivedAudio {
        let frames = |samples: u64| samples / FRAME_SAMPLES as u64;
        let p = self.played;
        self.stats.frames = frames(p.all);
        self.stats.frames_audio = frames(p.audio);
        self.stats.frames_fec = frames(p.fec);
        self.stats.frames_concealed = frames(p.concealed);
        self.stats.frames_silence = self.stats.frames.saturating_sub(
            self.stats.frames_audio + self.stats.frames_fec + self.stats.frames_concealed,
        );
        // Rounded up: a 10 ms hole is a gap too.
        self.stats.gap_frames = p.gap.div_ceil(FRAME_SAMPLES as u64);
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
            playout.play(frame.samples(), frame.kind(), true);
        }
        let stats = playout.stats(false);
        assert_eq!(stats.frames, 10);
        assert_eq!(stats.frames_silence, 7);
        assert_eq!(stats.frames_concealed, 1);
        assert_eq!(stats.gap_frames, 3);
    }

    /// The driver's 10 ms periods: a WAV recording gets exactly the samples played, whole
    /// frames only; the counts are in frames; a 10 ms hole is a gap.
    #[test]
    fn periods_are_recorded_as_whole_frames_and_counted_in_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wav");
        let mut playout = Playout::open(&AudioOut::File(path.clone())).unwrap();
        let half = FRAME_SAMPLES / 2;
        let mut played = Vec::new();
        let mut period = |playout: &mut Playout, level: i16, kind: FrameKind| {
            let samples: Vec<i16> = (0..half).map(|i| level + i as i16).collect();
            playout.play(&samples, kind, true);
            played.extend_from_slice(&samples);
        };
        // 10 ms of leading silence (not a gap), 4 periods of audio, one period of silence
        // (a gap), 2 concealed, 2 audio, then half a frame that is never completed.
        period(&mut playout, 0, FrameKind::Silence);
        for _ in 0..4 {
            period(&mut playout, 100, FrameKind::Audio);
        }
        period(&mut playout, 0, FrameKind::Silence);
        for _ in 0..2 {
            period(&mut playout, -300, FrameKind::Concealed);
        }
        for _ in 0..3 {
            period(&mut playout, 200, FrameKind::Audio);
        }
        let stats = playout.stats(false);
        assert_eq!(stats.frames, 5);
        assert_eq!(stats.frames_audio, 3);
        assert_eq!(stats.frames_concealed, 1);
        assert_eq!(stats.frames_silence, 1);
        assert_eq!(stats.gap_frames, 1);
        playout.finish();
        assert_eq!(playout.errors().0, 0);
        let mut wav = WavSource::open(&path, false).unwrap();
        let mut frame = Frame::silence();
        let mut recorded = Vec::new();
        while wav.read_frame(&mut frame).unwrap() {
            recorded.extend_from_slice(frame.samples());
        }
        assert_eq!(recorded.len(), 5 * FRAME_SAMPLES);
        assert_eq!(recorded, played[..5 * FRAME_SAMPLES]);
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
            playout.play(frame.samples(), frame.kind(), true);
        }
        let mut concealed = Frame::from_samples([3000; 960]);
        concealed.set_kind(FrameKind::Concealed);
        playout.play(concealed.samples(), concealed.kind(), true);
        playout.play(frame.samples(), frame.kind(), false);
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
