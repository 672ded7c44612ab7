//! Sound cards through cpal: listing, selection by name, capture and playout at the device's
//! own rate and channel count, converted to and from the pipeline's 48 kHz mono frames.
//!
//! The audio callbacks only move samples through lock-free single-producer single-consumer
//! ring buffers ([`rtrb`]), allocated when the stream opens: they never block, lock or
//! allocate. Mixing to mono happens in the callback (a few additions); resampling happens on
//! the caller's side, in [`CaptureDevice::read_frame`] and [`PlayoutDevice::write_frame`].
//!
//! The device is the clock: capture is ready when 20 ms have been captured
//! ([`CaptureDevice::frames_ready`]); playout plays what was written, and plays silence (and
//! counts an underrun) when the ring runs dry.
//!
//! With no sound card (a server, a container, CI), opening fails with
//! [`DeviceError::NoDevice`], whose message names the fix: "no audio device available: use
//! --play/--record with a file, tone or null". ALSA's `null` device can be chosen by name to
//! exercise the plumbing, but it is not paced by a clock.
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use rtrb::{Consumer, Producer, RingBuffer};
use thiserror::Error;

use crate::audio::{
    AudioError, AudioSink, AudioSource, FRAME_SAMPLES, Frame, FrameKind, SAMPLE_RATE,
    StreamResampler, f32_to_i16, i16_to_f32,
};

/// What to do when there is no sound card.
pub const NO_DEVICE_FIX: &str = "use --play/--record with a file, tone or null";

/// How long cpal may take to open a stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(2);

/// Capture or playout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Microphone side.
    Input,
    /// Speaker side.
    Output,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Input => "input",
            Direction::Output => "output",
        })
    }
}

/// Why a device could not be listed or opened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No sound card: the user should pick a file, a tone or null instead.
    #[error("no audio device available: {fix} ({detail})", fix = NO_DEVICE_FIX)]
    NoDevice {
        /// What the audio backend said.
        detail: String,
    },
    /// No device of that name.
    #[error("no {direction} audio device named {name:?} (available: {available})")]
    NotFound {
        /// Input or output.
        direction: Direction,
        /// The name asked for.
        name: String,
        /// The names there are.
        available: String,
    },
    /// The backend refused.
    #[error("audio device {device:?}: {what}: {detail}")]
    Backend {
        /// The device.
        device: String,
        /// What we were doing.
        what: &'static str,
        /// What the backend said.
        detail: String,
    },
    /// The device's sample format is not one we convert.
    #[error("audio device {device:?} uses sample format {format}, which is not supported")]
    UnsupportedFormat {
        /// The device.
        device: String,
        /// Its format.
        format: String,
    },
    /// The resampler could not be built.
    #[error(transparent)]
    Resample(#[from] AudioError),
}

fn backend(device: &str, what: &'static str, e: &cpal::Error) -> DeviceError {
    match e.kind() {
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
            DeviceError::NoDevice {
                detail: format!("{device}: {e}"),
            }
        }
        _ => DeviceError::Backend {
            device: device.to_owned(),
            what,
            detail: e.to_string(),
        },
    }
}

/// A device as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Its short identifier (ALSA: `null`, `default`, `hw:CARD=…`), accepted by
    /// [`CaptureDevice::open`] and [`PlayoutDevice::open`].
    pub id: String,
    /// Its descriptive name, also accepted.
    pub name: String,
    /// Can capture.
    pub input: bool,
    /// Can play.
    pub output: bool,
    /// The system's default input.
    pub default_input: bool,
    /// The system's default output.
    pub default_output: bool,
}

fn device_name(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_else(|_| "<unnamed>".to_owned())
}

fn device_id(device: &cpal::Device) -> String {
    device.id().map(|id| id.id().to_owned()).unwrap_or_default()
}

/// The audio devices of the default host.
pub fn list_devices() -> Result<Vec<DeviceInfo>, DeviceError> {
    let host = cpal::default_host();
    let default_in = host.default_input_device().map(|d| device_name(&d));
    let default_out = host.default_output_device().map(|d| device_name(&d));
    let devices = host
        .devices()
        .map_err(|e| backend("<host>", "listing devices", &e))?;
    Ok(devices
        .map(|d| {
            let name = device_name(&d);
            DeviceInfo {
                id: device_id(&d),
                input: d.supports_input(),
                output: d.supports_output(),
                default_input: default_in.as_deref() == Some(name.as_str()),
                default_output: default_out.as_deref() == Some(name.as_str()),
                name,
            }
        })
        .collect())
}

/// The device whose identifier or name is `name` (exactly, or else the only one whose name
/// contains it, ignoring case), or the default one.
fn find(direction: Direction, name: Option<&str>) -> Result<(cpal::Device, String), DeviceError> {
    let host = cpal::default_host();
    let Some(wanted) = name else {
        let device = match direction {
            Direction::Input => host.default_input_device(),
            Direction::Output => host.default_output_device(),
        }
        .ok_or_else(|| DeviceError::NoDevice {
            detail: format!("the system has no default {direction} device"),
        })?;
        let name = device_name(&device);
        return Ok((device, name));
    };
    let devices: Vec<(cpal::Device, String, String)> = host
        .devices()
        .map_err(|e| backend(wanted, "listing devices", &e))?
        .filter(|d| match direction {
            Direction::Input => d.supports_input(),
            Direction::Output => d.supports_output(),
        })
        .map(|d| {
            let (name, id) = (device_name(&d), device_id(&d));
            (d, name, id)
        })
        .collect();
    let lower = wanted.to_lowercase();
    let exact = devices
        .iter()
        .position(|(_, n, id)| n == wanted || id == wanted);
    let partial: Vec<usize> = devices
        .iter()
        .enumerate()
        .filter(|(_, (_, n, _))| n.to_lowercase().contains(&lower))
        .map(|(i, _)| i)
        .collect();
    let chosen = exact.or(match partial.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    match chosen.and_then(|i| devices.into_iter().nth(i)) {
        Some((device, name, _)) => Ok((device, name)),
        None => Err(DeviceError::NotFound {
            direction,
            name: wanted.to_owned(),
            available: list_names(direction),
        }),
    }
}

fn list_names(direction: Direction) -> String {
    let names: Vec<String> = list_devices()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| match direction {
            Direction::Input => d.input,
            Direction::Output => d.output,
        })
        .map(|d| format!("{} ({})", d.id, d.name))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// What the callbacks count, read from the caller's side.
#[derive(Debug, Default)]
struct Counters {
    /// Samples the ring had no room for (capture) or did not have (playout).
    xruns: AtomicU64,
    /// Errors the backend reported on the stream.
    errors: AtomicU64,
}

/// A ring of one second of mono samples at `rate`.
fn ring(rate: u32) -> (Producer<f32>, Consumer<f32>) {
    RingBuffer::new(rate.max(8_000) as usize)
}

fn open_stream(
    direction: Direction,
    name: Option<&str>,
) -> Result<(cpal::Device, String, StreamConfig, SampleFormat), DeviceError> {
    let (device, device_name) = find(direction, name)?;
    let supported = match direction {
        Direction::Input => device.default_input_config(),
        Direction::Output => device.default_output_config(),
    }
    .map_err(|e| backend(&device_name, "reading its configuration", &e))?;
    Ok((
        device,
        device_name,
        supported.config(),
        supported.sample_format(),
    ))
}

macro_rules! by_format {
    ($format:expr, $device_name:expr, $build:ident ( $($arg:expr),* )) => {
        match $format {
            SampleFormat::F32 => $build::<f32>($($arg),*),
            SampleFormat::I16 => $build::<i16>($($arg),*),
            SampleFormat::U16 => $build::<u16>($($arg),*),
            SampleFormat::I32 => $build::<i32>($($arg),*),
            other => {
                return Err(DeviceError::UnsupportedFormat {
                    device: $device_name.clone(),
                    format: other.to_string(),
                })
            }
        }
    };
}

fn build_capture<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut producer: Producer<f32>,
    counters: Arc<Counters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let on_error = Arc::clone(&counters);
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _| {
            for frame in data.chunks(channels) {
                let sum: f32 = frame.iter().map(|&s| s.to_sample::<f32>()).sum();
                if producer.push(sum / frame.len() as f32).is_err() {
                    counters.xruns.fetch_add(1, Ordering::Relaxed);
                }
            }
        },
        move |_| {
            on_error.errors.fetch_add(1, Ordering::Relaxed);
        },
        Some(OPEN_TIMEOUT),
    )
}

fn build_playout<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut consumer: Consumer<f32>,
    counters: Arc<Counters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let on_error = Arc::clone(&counters);
    device.build_output_stream::<T, _, _>(
        config,
        move |data: &mut [T], _| {
            for frame in data.chunks_mut(channels) {
                let value = consumer.pop().unwrap_or_else(|_| {
                    counters.xruns.fetch_add(1, Ordering::Relaxed);
                    0.0
                });
                frame.fill(T::from_sample(value));
            }
        },
        move |_| {
            on_error.errors.fetch_add(1, Ordering::Relaxed);
        },
        Some(OPEN_TIMEOUT),
    )
}

/// A microphone: 20 ms frames at 48 kHz mono, whatever the device's rate and channels.
pub struct CaptureDevice {
    name: String,
    rate: u32,
    _stream: cpal::Stream,
    consumer: Consumer<f32>,
    resampler: StreamResampler,
    scratch: Vec<f32>,
    counters: Arc<Counters>,
}

impl fmt::Debug for CaptureDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureDevice")
            .field("name", &self.name)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl CaptureDevice {
    /// Opens `name` (see [`list_devices`]) or the default input, and starts capturing.
    pub fn open(name: Option<&str>) -> Result<Self, DeviceError> {
        let (device, device_name, config, format) = open_stream(Direction::Input, name)?;
        let rate = config.sample_rate;
        let (producer, consumer) = ring(rate);
        let counters = Arc::new(Counters::default());
        let stream = by_format!(
            format,
            device_name,
            build_capture(&device, config, producer, Arc::clone(&counters))
        )
        .map_err(|e| backend(&device_name, "opening the capture stream", &e))?;
        stream
            .play()
            .map_err(|e| backend(&device_name, "starting capture", &e))?;
        Ok(Self {
            name: device_name,
            rate,
            _stream: stream,
            consumer,
            resampler: StreamResampler::new(rate, SAMPLE_RATE)?,
            scratch: vec![0.0; 1024],
            counters,
        })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's sample rate.
    pub fn device_rate(&self) -> u32 {
        self.rate
    }

    /// Samples lost because the caller did not read in time.
    pub fn overruns(&self) -> u64 {
        self.counters.xruns.load(Ordering::Relaxed)
    }

    /// Errors the backend reported on the stream.
    pub fn errors(&self) -> u64 {
        self.counters.errors.load(Ordering::Relaxed)
    }

    fn drain(&mut self) -> Result<(), AudioError> {
        loop {
            let mut n = 0;
            for slot in self.scratch.iter_mut() {
                match self.consumer.pop() {
                    Ok(s) => *slot = s,
                    Err(_) => break,
                }
                n += 1;
            }
            if n == 0 {
                return Ok(());
            }
            self.resampler.push(self.scratch.get(..n).unwrap_or(&[]))?;
        }
    }

    /// Whole 20 ms frames captured and not read yet.
    pub fn frames_ready(&mut self) -> Result<usize, AudioError> {
        self.drain()?;
        Ok(self.resampler.available() / FRAME_SAMPLES)
    }
}

impl AudioSource for CaptureDevice {
    /// Reads the next captured frame; `Ok(false)` when 20 ms have not been captured yet.
    fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, AudioError> {
        if self.frames_ready()? == 0 {
            return Ok(false);
        }
        let mut samples = [0f32; FRAME_SAMPLES];
        self.resampler.pop(&mut samples);
        for (out, s) in frame.samples_mut().iter_mut().zip(samples) {
            *out = f32_to_i16(s);
        }
        frame.set_kind(FrameKind::Audio);
        Ok(true)
    }
}

/// A speaker: takes 20 ms frames at 48 kHz mono, plays them at the device's rate on every
/// channel.
pub struct PlayoutDevice {
    name: String,
    rate: u32,
    _stream: cpal::Stream,
    producer: Producer<f32>,
    resampler: StreamResampler,
    scratch: Vec<f32>,
    dropped: u64,
    counters: Arc<Counters>,
}

impl fmt::Debug for PlayoutDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlayoutDevice")
            .field("name", &self.name)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl PlayoutDevice {
    /// Opens `name` (see [`list_devices`]) or the default output, and starts playing.
    pub fn open(name: Option<&str>) -> Result<Self, DeviceError> {
        let (device, device_name, config, format) = open_stream(Direction::Output, name)?;
        let rate = config.sample_rate;
        let (producer, consumer) = ring(rate);
        let counters = Arc::new(Counters::default());
        let stream = by_format!(
            format,
            device_name,
            build_playout(&device, config, consumer, Arc::clone(&counters))
        )
        .map_err(|e| backend(&device_name, "opening the playout stream", &e))?;
        stream
            .play()
            .map_err(|e| backend(&device_name, "starting playout", &e))?;
        Ok(Self {
            name: device_name,
            rate,
            _stream: stream,
            producer,
            resampler: StreamResampler::new(SAMPLE_RATE, rate)?,
            scratch: vec![0.0; 1024],
            dropped: 0,
            counters,
        })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's sample rate.
    pub fn device_rate(&self) -> u32 {
        self.rate
    }

    /// Samples the device wanted and did not have (played as silence).
    pub fn underruns(&self) -> u64 {
        self.counters.xruns.load(Ordering::Relaxed)
    }

    /// Samples dropped because more was written than the device played (one second ahead).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Errors the backend reported on the stream.
    pub fn errors(&self) -> u64 {
        self.counters.errors.load(Ordering::Relaxed)
    }

    /// Audio written and not played yet.
    pub fn buffered(&self) -> Duration {
        let queued = self.producer.buffer().capacity() - self.producer.slots();
        Duration::from_secs_f64(queued as f64 / f64::from(self.rate.max(1)))
    }
}

impl PlayoutDevice {
    /// Queues 48 kHz mono samples for playout, any number of them (a 10 ms period, a
    /// frame): what a caller pulling playout in periods shorter than a frame uses to top up
    /// the ring as soon as each period is pulled. Never blocks or allocates (once the
    /// resampler is warm); what does not fit in the ring is dropped and counted.
    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), AudioError> {
        let mut converted = [0f32; FRAME_SAMPLES];
        for chunk in samples.chunks(FRAME_SAMPLES) {
            for (out, &s) in converted.iter_mut().zip(chunk) {
                *out = i16_to_f32(s);
            }
            self.resampler
                .push(converted.get(..chunk.len()).unwrap_or(&[]))?;
        }
        loop {
            let n = self.resampler.pop(&mut self.scratch);
            if n == 0 {
                return Ok(());
            }
            for &s in self.scratch.get(..n).unwrap_or(&[]) {
                if self.producer.push(s).is_err() {
                    self.dropped += 1;
                }
            }
        }
    }
}

impl AudioSink for PlayoutDevice {
    /// Queues one frame for playout; never blocks (what does not fit is dropped and counted).
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        self.write_samples(frame.samples())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a machine with a sound card this opens it; on one without (CI, this project's
    /// build machines) it must fail with the error that names the fix, never panic.
    #[test]
    fn default_devices_open_or_name_the_fix() {
        for result in [
            CaptureDevice::open(None).map(|_| ()),
            PlayoutDevice::open(None).map(|_| ()),
        ] {
            if let Err(e) = result {
                let message = e.to_string();
                assert!(
                    matches!(e, DeviceError::NoDevice { .. }),
                    "unexpected error: {message}"
                );
                assert!(
                    message.starts_with(
                        "no audio device available: use --play/--record with a file, tone or null"
                    ),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn listing_never_panics_and_unknown_names_say_what_exists() {
        let devices = list_devices().unwrap_or_default();
        let err = CaptureDevice::open(Some("no such device 4711")).unwrap_err();
        match err {
            DeviceError::NotFound {
                direction,
                name,
                available,
            } => {
                assert_eq!(direction, Direction::Input);
                assert_eq!(name, "no such device 4711");
                for d in devices.iter().filter(|d| d.input) {
                    assert!(available.contains(&d.id) && available.contains(&d.name));
                }
            }
            other => panic!("unexpected {other}"),
        }
    }

    /// ALSA's `null` device (present even without a card) exercises the plumbing: frames go
    /// out through the ring, and capture delivers frames of silence.
    #[test]
    fn null_device_plumbing() {
        let has_null = list_devices()
            .unwrap_or_default()
            .iter()
            .any(|d| d.id == "null" && d.input && d.output);
        if !has_null {
            eprintln!("no ALSA null device here: plumbing test skipped");
            return;
        }
        let mut out = PlayoutDevice::open(Some("null")).unwrap();
        let frame = Frame::from_samples([1000; FRAME_SAMPLES]);
        for _ in 0..5 {
            out.write_frame(&frame).unwrap();
            // And in 10 ms periods, as the call driver tops it up.
            out.write_samples(&frame.samples()[..FRAME_SAMPLES / 2])
                .unwrap();
            out.write_samples(&frame.samples()[FRAME_SAMPLES / 2..])
                .unwrap();
        }
        assert!(out.buffered() <= Duration::from_secs(1));
        let mut capture = CaptureDevice::open(Some("null")).unwrap();
        let mut got = Frame::from_samples([7; FRAME_SAMPLES]);
        // The null device is not paced: frames arrive as fast as the loop runs.
        let mut read = false;
        for _ in 0..1000 {
            if capture.read_frame(&mut got).unwrap() {
                read = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(read);
        assert_eq!(got.peak(), 0);
    }
}
