//! Sources and sinks with nothing in them: silence, null.

use super::{AudioError, AudioSink, AudioSource, Frame, FrameKind};

/// An endless source of digital silence (zeros, marked as real audio): a muted microphone.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilenceSource;

impl AudioSource for SilenceSource {
    fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, AudioError> {
        frame.samples_mut().fill(0);
        frame.set_kind(FrameKind::Audio);
        Ok(true)
    }
}

/// A source that has ended before it started: nothing is captured, so nothing is sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSource;

impl AudioSource for NullSource {
    fn read_frame(&mut self, _frame: &mut Frame) -> Result<bool, AudioError> {
        Ok(false)
    }
}

/// A sink that discards what it is given, counting frames.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink {
    frames: u64,
}

impl NullSink {
    /// A new sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }
}

impl AudioSink for NullSink {
    fn write_frame(&mut self, _frame: &Frame) -> Result<(), AudioError> {
        self.frames += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_null_and_counting() {
        let mut frame = Frame::from_samples([7; crate::audio::FRAME_SAMPLES]);
        assert!(SilenceSource.read_frame(&mut frame).unwrap());
        assert_eq!(frame.peak(), 0);
        assert_eq!(frame.kind(), FrameKind::Audio);
        assert!(!NullSource.read_frame(&mut frame).unwrap());
        let mut sink = NullSink::new();
        sink.write_frame(&frame).unwrap();
        sink.write_frame(&frame).unwrap();
        sink.finish().unwrap();
        assert_eq!(sink.frames(), 2);
    }
}
