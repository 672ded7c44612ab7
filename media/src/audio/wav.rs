//! WAV files in and out (hound): any PCM or float WAV is read as 48 kHz mono, and playout is
//! written as 48 kHz mono 16-bit.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use super::{
    AudioError, AudioSink, AudioSource, FRAME_SAMPLES, Frame, FrameKind, SAMPLE_RATE, f32_to_i16,
    resample_all,
};

/// A WAV file played as a capture source, optionally looping. The whole file is decoded,
/// mixed to mono and resampled to 48 kHz when opened (prompts and test clips are short).
#[derive(Debug, Clone)]
pub struct WavSource {
    samples: Vec<i16>,
    position: usize,
    looping: bool,
}

impl WavSource {
    /// Opens and decodes `path`.
    pub fn open(path: impl AsRef<Path>, looping: bool) -> Result<Self, AudioError> {
        let name = path.as_ref().display().to_string();
        let reader = WavReader::open(path.as_ref()).map_err(|source| AudioError::Wav {
            path: name.clone(),
            source,
        })?;
        Self::decode(reader, &name, looping)
    }

    /// Decodes a WAV stream (`name` is used in error messages).
    pub fn from_reader<R: Read>(reader: R, name: &str, looping: bool) -> Result<Self, AudioError> {
        let reader = WavReader::new(reader).map_err(|source| AudioError::Wav {
            path: name.to_owned(),
            source,
        })?;
        Self::decode(reader, name, looping)
    }

    fn decode<R: Read>(
        reader: WavReader<R>,
        name: &str,
        looping: bool,
    ) -> Result<Self, AudioError> {
        let spec = reader.spec();
        let wav_error = |source| AudioError::Wav {
            path: name.to_owned(),
            source,
        };
        let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (SampleFormat::Float, 32) => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(wav_error)?,
            (SampleFormat::Int, bits @ 8..=32) => {
                let scale = 1.0 / (1u64 << (bits - 1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(wav_error)?
            }
            (format, bits) => {
                return Err(AudioError::UnsupportedFormat {
                    path: name.to_owned(),
                    detail: format!("{bits}-bit {format:?}"),
                });
            }
        };
        let channels = usize::from(spec.channels.max(1));
        let mono: Vec<f32> = interleaved
            .chunks(channels)
            .map(|frame| frame.iter().sum::<f32>() / frame.len() as f32)
            .collect();
        let resampled = resample_all(&mono, spec.sample_rate, SAMPLE_RATE)?;
        Ok(Self {
            samples: resampled.into_iter().map(f32_to_i16).collect(),
            position: 0,
            looping,
        })
    }

    /// The clip's duration at 48 kHz.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, AudioError> {
        if self.samples.is_empty() || (!self.looping && self.position >= self.samples.len()) {
            return Ok(false);
        }
        let out = frame.samples_mut();
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            if self.position >= self.samples.len() {
                if !self.looping {
                    break;
                }
                self.position = 0;
            }
            let n = (FRAME_SAMPLES - filled).min(self.samples.len() - self.position);
            if let (Some(dst), Some(src)) = (
                out.get_mut(filled..filled + n),
                self.samples.get(self.position..self.position + n),
            ) {
                dst.copy_from_slice(src);
            }
            filled += n;
            self.position += n;
        }
        if let Some(rest) = out.get_mut(filled..) {
            rest.fill(0);
        }
        frame.set_kind(FrameKind::Audio);
        Ok(true)
    }
}

/// Writes played-out audio to a 48 kHz mono 16-bit WAV file.
pub struct WavSink<W: Write + Seek + Send = BufWriter<File>> {
    writer: Option<WavWriter<W>>,
    name: String,
    frames: u64,
}

impl<W: Write + Seek + Send> std::fmt::Debug for WavSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink")
            .field("name", &self.name)
            .field("frames", &self.frames)
            .finish()
    }
}

fn spec() -> WavSpec {
    WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    }
}

impl WavSink {
    /// Creates (or truncates) `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, AudioError> {
        let name = path.as_ref().display().to_string();
        let writer =
            WavWriter::create(path.as_ref(), spec()).map_err(|source| AudioError::Wav {
                path: name.clone(),
                source,
            })?;
        Ok(Self {
            writer: Some(writer),
            name,
            frames: 0,
        })
    }
}

impl<W: Write + Seek + Send> WavSink<W> {
    /// Writes a WAV stream to `writer` (`name` is used in error messages).
    pub fn from_writer(writer: W, name: &str) -> Result<Self, AudioError> {
        let writer = WavWriter::new(writer, spec()).map_err(|source| AudioError::Wav {
            path: name.to_owned(),
            source,
        })?;
        Ok(Self {
            writer: Some(writer),
            name: name.to_owned(),
            frames: 0,
        })
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    fn error(&self, source: hound::Error) -> AudioError {
        AudioError::Wav {
            path: self.name.clone(),
            source,
        }
    }
}

impl<W: Write + Seek + Send> AudioSink for WavSink<W> {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), AudioError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(()); // finished: further frames are dropped
        };
        let mut samples = writer.get_i16_writer(FRAME_SAMPLES as u32);
        for &s in frame.samples() {
            samples.write_sample(s);
        }
        samples.flush().map_err(|e| self.error(e))?;
        self.frames += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        match self.writer.take() {
            Some(writer) => writer.finalize().map_err(|e| self.error(e)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::audio::{LevelMeter, ToneSource};

    fn read_all_i16<R: Read>(reader: R) -> Vec<i16> {
        WavReader::new(reader)
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect()
    }

    fn wav_bytes(spec: WavSpec, seconds: f64, freq: f64) -> Vec<u8> {
        let mut cursor = Cursor::new(Vec::new());
        {
            let mut w = WavWriter::new(&mut cursor, spec).unwrap();
            let n = (f64::from(spec.sample_rate) * seconds) as usize;
            for i in 0..n {
                let x = 0.5
                    * (std::f64::consts::TAU * freq * i as f64 / f64::from(spec.sample_rate)).sin();
                for _ in 0..spec.channels {
                    match spec.sample_format {
                        SampleFormat::Float => w.write_sample(x as f32).unwrap(),
                        SampleFormat::Int => w.write_sample((x * 32767.0) as i16).unwrap(),
                    }
                }
            }
            w.finalize().unwrap();
        }
        cursor.into_inner()
    }

    #[test]
    fn stereo_44k1_is_read_as_48k_mono() {
        let spec = WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, 1.0, 700.0);
        let mut src = WavSource::from_reader(Cursor::new(bytes), "mem", false).unwrap();
        assert!((src.duration().as_secs_f64() - 1.0).abs() < 0.001);
        let mut meter = LevelMeter::new();
        let mut frame = Frame::silence();
        let mut frames = 0;
        while src.read_frame(&mut frame).unwrap() {
            meter.write_frame(&frame).unwrap();
            frames += 1;
        }
        assert!((50..=51).contains(&frames), "{frames}");
        assert!(meter.detects_tone(700.0));
        assert!(!src.read_frame(&mut frame).unwrap());
    }

    #[test]
    fn looping_float_file_never_ends() {
        let spec = WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: SampleFormat::Float,
        };
        let bytes = wav_bytes(spec, 0.03, 1000.0); // 1.5 frames
        let mut src = WavSource::from_reader(Cursor::new(bytes), "mem", true).unwrap();
        let mut frame = Frame::silence();
        for _ in 0..10 {
            assert!(src.read_frame(&mut frame).unwrap());
            assert!(frame.rms() > 0.3);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let err = WavSource::from_reader(Cursor::new(b"RIFF....nonsense".to_vec()), "junk", false)
            .unwrap_err();
        assert!(err.to_string().contains("junk"));
        assert!(WavSource::open("/nonexistent/x.wav", false).is_err());
    }

    #[test]
    fn sink_writes_a_readable_file() {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut sink = WavSink::from_writer(&mut buf, "mem").unwrap();
            let mut tone = ToneSource::new(500.0, 0.25);
            let mut frame = Frame::silence();
            for _ in 0..5 {
                tone.read_frame(&mut frame).unwrap();
                sink.write_frame(&frame).unwrap();
            }
            sink.finish().unwrap();
            sink.write_frame(&frame).unwrap();
            assert_eq!(sink.frames(), 5);
        }
        buf.set_position(0);
        let samples = read_all_i16(buf);
        assert_eq!(samples.len(), 5 * FRAME_SAMPLES);
        assert!(crate::audio::rms(&samples) > 0.17);
    }
}
