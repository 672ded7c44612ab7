//! The adaptive jitter buffer: reorders received packets, holds them for a delay that follows
//! the measured jitter, and at every playout tick hands out exactly one 20 ms frame, decoded,
//! rebuilt from FEC, or concealed.
//!
//! Sans-IO: [`JitterBuffer::push`] when a packet arrives, [`JitterBuffer::pop_frame`] every
//! 20 ms by the caller's clock; both take `now`.
//!
//! # How the delay adapts
//!
//! * The **delay** is how much audio the buffer holds ahead of the playout point: the time a
//!   packet waits between arrival and playout, plus the 20 ms frame being played. One frame
//!   (20 ms) is the minimum: the packet is played at the first tick after it arrives.
//! * The **target** is `jitter_factor × J` clamped to `[min_delay, max_delay]`, where `J` is
//!   the RFC 3550 interarrival jitter. It rises at once and falls by at most `shrink_rate`
//!   per second.
//! * Playout starts (and restarts after a pause in the stream) once the first packet has
//!   waited for the target. Each tick plays the next sequence number. If it is missing but a
//!   later packet is there, it is lost: Opus rebuilds it from the next packet's FEC if that
//!   packet carries some, otherwise the decoder conceals it. If nothing at all is there (an
//!   underrun: the packet is late, or the sender paused), the tick is concealed *without*
//!   moving on. If the packet then arrives it is played (a frame of delay was added); if
//!   later ones arrive instead, it was lost and the hold already concealed it, so playout
//!   goes straight on. After [`HOLD_LIMIT`] such ticks the stream is taken as paused and
//!   playout restarts with the next packet.
//! * Once per second (50 ticks) the depth seen at each tick is compared with the target: if
//!   it never fell to the target and there was no underrun, one frame is dropped (the delay
//!   shrinks by 20 ms); if on average it was more than half a frame short of the target, one
//!   concealed frame is inserted (it grows by 20 ms). With a codec that has FEC (Opus), a window with losses asks for one
//!   frame more than the target, so that the packet carrying a lost frame's FEC has arrived
//!   by the lost frame's turn.
//! * A packet whose sequence number was already played or given up is **late** and dropped;
//!   one received twice is a **duplicate**.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use lockphone_media::audio::FrameKind;
//! use lockphone_media::codec::{Codec, CodecConfig};
//! use lockphone_media::jitter::{JitterBuffer, JitterConfig};
//!
//! let config = CodecConfig::Pcmu;
//! let mut jb = JitterBuffer::new(JitterConfig::for_codec(Codec::Pcmu), config.decoder().unwrap());
//! let t0 = Instant::now();
//! jb.push(t0, 1, 160, &[0xFF; 160]);
//! assert_eq!(jb.pop_frame(t0).kind(), FrameKind::Audio);
//! // Nothing arrived for the next tick: concealed, never a gap.
//! assert_eq!(jb.pop_frame(t0 + Duration::from_millis(20)).kind(), FrameKind::Concealed);
//! ```

mod estimator;

use std::time::{Duration, Instant};

use serde::Serialize;

use self::estimator::DelayEstimator;
use crate::audio::{FRAME_DURATION, Frame, FrameKind};
use crate::codec::{AudioDecoder, Codec};

/// Packets the buffer can hold: 1.28 s of 20 ms frames, well beyond the largest target.
const CAPACITY: i64 = 64;
/// Ticks in a row with nothing to play before the stream counts as paused.
pub const HOLD_LIMIT: u32 = 4;
/// Ticks per adaptation decision (one second).
const ADAPT_WINDOW: u32 = 50;
/// Weight of each new sample in the reported delay's running mean.
const DELAY_GAIN: f64 = 1.0 / 16.0;

/// Jitter buffer settings.
#[derive(Debug, Clone, PartialEq)]
pub struct JitterConfig {
    /// Smallest target delay (one frame: 20 ms).
    pub min_delay: Duration,
    /// Largest target delay.
    pub max_delay: Duration,
    /// Target = `jitter_factor` × the RFC 3550 jitter estimate (before clamping).
    pub jitter_factor: f64,
    /// How fast the target may fall, per second.
    pub shrink_rate: Duration,
    /// The RTP clock rate of the stream (for the jitter estimate).
    pub clock_rate: u32,
}

impl JitterConfig {
    /// Defaults for a stream of `codec`: 20–200 ms, factor 4, shrinking 20 ms per second.
    pub fn for_codec(codec: Codec) -> Self {
        Self {
            min_delay: FRAME_DURATION,
            max_delay: Duration::from_millis(200),
            jitter_factor: 4.0,
            shrink_rate: FRAME_DURATION,
            clock_rate: codec.clock_rate(),
        }
    }
}

/// What happened to a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout.
    Buffered,
    /// Its turn has passed: dropped.
    Late,
    /// Already received: dropped.
    Duplicate,
}

/// What the buffer has done so far, and its current delays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct JitterStats {
    /// Current delay (running mean of arrival-to-playout wait + one frame), ms.
    pub delay_ms: f64,
    /// Current target delay, ms.
    pub target_ms: f64,
    /// RFC 3550 interarrival jitter estimate, ms.
    pub jitter_ms: f64,
    /// Packets accepted.
    pub packets: u64,
    /// Frames decoded from packets.
    pub decoded: u64,
    /// Frames made up by concealment.
    pub concealed: u64,
    /// Frames rebuilt from the next packet's FEC.
    pub fec_recovered: u64,
    /// Packets dropped because their turn had passed.
    pub late: u64,
    /// Packets dropped because they were already received.
    pub duplicate: u64,
    /// Packets dropped to shrink the delay or on a stream restart.
    pub discarded: u64,
    /// Payloads the decoder refused (concealed instead).
    pub decode_errors: u64,
}

struct Slot {
    ext: i64,
    arrival: Instant,
    payload: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    ticks: u32,
    min_depth: i64,
    depth_sum: i64,
    underruns: u32,
    losses: u32,
}

impl Window {
    const EMPTY: Window = Window {
        ticks: 0,
        min_depth: i64::MAX,
        depth_sum: 0,
        underruns: 0,
        losses: 0,
    };
}

enum Adjust {
    Shrink,
    Stretch,
}

/// The adaptive jitter buffer with its decoder (see the [module documentation](self)).
pub struct JitterBuffer {
    decoder: Box<dyn AudioDecoder>,
    estimator: DelayEstimator,
    slots: Vec<Option<Slot>>,
    /// Payload buffers to reuse, so a steady stream does not allocate.
    pool: Vec<Vec<u8>>,
    stored: usize,
    highest: Option<i64>,
    /// While playing: the next sequence number to play. Anything below it is gone.
    floor: Option<i64>,
    playing: bool,
    buffering_since: Option<Instant>,
    /// Bit `i` set: sequence `floor - 1 - i` was received.
    history: u64,
    underruns_in_a_row: u32,
    /// Ticks concealed while holding at the current sequence number: if those frames turn
    /// out lost, the holds already concealed them.
    held: u32,
    window: Window,
    delay: f64,
    /// The sender said BYE: once drained, play silence instead of concealing.
    ended: bool,
    stats: JitterStats,
}

impl std::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("codec", &self.decoder.codec())
            .field("playing", &self.playing)
            .field("stored", &self.stored)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl JitterBuffer {
    /// An empty buffer that decodes with `decoder`.
    pub fn new(config: JitterConfig, decoder: Box<dyn AudioDecoder>) -> Self {
        let estimator = DelayEstimator::new(
            config.clock_rate,
            config.min_delay,
            config.max_delay,
            config.jitter_factor,
            config.shrink_rate,
        );
        Self {
            decoder,
            estimator,
            slots: (0..CAPACITY).map(|_| None).collect(),
            pool: Vec::new(),
            stored: 0,
            highest: None,
            floor: None,
            playing: false,
            buffering_since: None,
            history: 0,
            underruns_in_a_row: 0,
            held: 0,
            window: Window::EMPTY,
            delay: FRAME_DURATION.as_secs_f64(),
            ended: false,
            stats: JitterStats::default(),
        }
    }

    /// The codec of the decoder.
    pub fn codec(&self) -> Codec {
        self.decoder.codec()
    }

    /// Whether playout is running (as opposed to filling up after a start or a pause).
    pub fn is_playing(&self) -> bool {
        self.playing
    }

    /// The current target delay.
    pub fn target_delay(&self) -> Duration {
        self.estimator.target()
    }

    /// The current delay (see the module documentation).
    pub fn current_delay(&self) -> Duration {
        Duration::from_secs_f64(self.delay)
    }

    /// Counters and delays.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            delay_ms: self.delay * 1000.0,
            target_ms: self.estimator.target().as_secs_f64() * 1000.0,
            jitter_ms: self.estimator.jitter().as_secs_f64() * 1000.0,
            ..self.stats
        }
    }

    /// Forgets every buffered packet and starts over (a new SSRC, a re-negotiated stream).
    /// Counters and the jitter estimate are kept.
    pub fn reset(&mut self) {
        for i in 0..self.slots.len() {
            if let Some(slot) = self.slots.get_mut(i).and_then(Option::take) {
                self.stats.discarded += 1;
                self.recycle(slot.payload);
            }
        }
        self.stored = 0;
        self.highest = None;
        self.floor = None;
        self.playing = false;
        self.buffering_since = None;
        self.history = 0;
        self.underruns_in_a_row = 0;
        self.held = 0;
        self.window = Window::EMPTY;
        self.ended = false;
        self.estimator.restart();
    }

    /// The sender has ended its stream (RTCP BYE): what is buffered still plays, then each
    /// tick gives silence, neither concealed nor counted as an underrun. A packet arriving
    /// later is still played; [`JitterBuffer::reset`] (a new source) clears this.
    pub fn end_of_stream(&mut self) {
        self.ended = true;
    }

    /// Whether the sender has ended its stream.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    fn extend(&self, seq: u16) -> i64 {
        match self.highest {
            None => i64::from(seq) + (1 << 16),
            Some(h) => h + i64::from(seq.wrapping_sub(h as u16) as i16),
        }
    }

    fn index(ext: i64) -> usize {
        // rem_euclid of a positive modulus is in 0..CAPACITY.
        ext.rem_euclid(CAPACITY) as usize
    }

    fn is_stored(&self, ext: i64) -> bool {
        self.slots
            .get(Self::index(ext))
            .is_some_and(|s| s.as_ref().is_some_and(|s| s.ext == ext))
    }

    fn take(&mut self, ext: i64) -> Option<Slot> {
        let entry = self.slots.get_mut(Self::index(ext))?;
        if entry.as_ref().is_some_and(|s| s.ext == ext) {
            self.stored -= 1;
            entry.take()
        } else {
            None
        }
    }

    fn recycle(&mut self, mut payload: Vec<u8>) {
        if self.pool.len() < CAPACITY as usize {
            payload.clear();
            self.pool.push(payload);
        }
    }

    /// Accepts a received packet's sequence number, RTP timestamp and payload.
    pub fn push(&mut self, now: Instant, seq: u16, timestamp: u32, payload: &[u8]) -> PushOutcome {
        let ext = self.extend(seq);
        if let Some(floor) = self.floor
            && ext < floor
        {
            let age = floor - 1 - ext;
            if age < 64 && (self.history >> age) & 1 == 1 {
                self.stats.duplicate += 1;
                return PushOutcome::Duplicate;
            }
            self.estimator.on_arrival(now, timestamp);
            self.stats.late += 1;
            return PushOutcome::Late;
        }
        let too_far = |base: Option<i64>| base.is_some_and(|b| (ext - b).abs() >= CAPACITY);
        if too_far(self.floor) || too_far(self.highest) {
            // A jump no reordering explains: the sender restarted. Start over from here.
            self.reset();
        }
        let index = Self::index(ext);
        if let Some(existing) = self.slots.get_mut(index).and_then(Option::take) {
            if existing.ext == ext {
                if let Some(entry) = self.slots.get_mut(index) {
                    *entry = Some(existing);
                }
                self.stats.duplicate += 1;
                return PushOutcome::Duplicate;
            }
            self.stored -= 1;
            self.stats.discarded += 1;
            self.recycle(existing.payload);
        }
        let mut buffer = self.pool.pop().unwrap_or_default();
        buffer.extend_from_slice(payload);
        if let Some(entry) = self.slots.get_mut(index) {
            *entry = Some(Slot {
                ext,
                arrival: now,
                payload: buffer,
            });
            self.stored += 1;
        }
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.stats.packets += 1;
        if !self.playing && self.buffering_since.is_none() {
            self.buffering_since = Some(now);
        }
        self.estimator.on_arrival(now, timestamp);
        PushOutcome::Buffered
    }

    /// The frame to play at this tick: always a full frame (silence while filling up).
    pub fn pop_frame(&mut self, now: Instant) -> Frame {
        self.estimator.update_target(now);
        let mut frame = Frame::silence();
        if !self.playing && !self.try_start(now) {
            return frame;
        }
        let Some(mut next) = self.floor else {
            return frame;
        };
        match self.adapt(next) {
            Some(Adjust::Stretch) => {
                self.conceal(&mut frame);
                return frame;
            }
            Some(Adjust::Shrink) => {
                if let Some(slot) = self.take(next) {
                    self.stats.discarded += 1;
                    self.recycle(slot.payload);
                }
                self.advance(next, false);
                next += 1;
            }
            None => {}
        }
        while self.held > 0 && self.stored > 0 && !self.is_stored(next) {
            // A frame held for never came but later ones did: it is lost, and a hold
            // already concealed it. Go straight on.
            self.held -= 1;
            self.advance(next, false);
            next += 1;
        }
        if self.stored > 0 {
            self.held = 0;
        }
        if let Some(slot) = self.take(next) {
            self.underruns_in_a_row = 0;
            match self.decoder.decode(&slot.payload, frame.samples_mut()) {
                Ok(()) => {
                    frame.set_kind(FrameKind::Audio);
                    self.stats.decoded += 1;
                }
                Err(_) => {
                    self.stats.decode_errors += 1;
                    self.conceal(&mut frame);
                }
            }
            let wait = now.saturating_duration_since(slot.arrival) + FRAME_DURATION;
            self.delay += (wait.as_secs_f64() - self.delay) * DELAY_GAIN;
            self.recycle(slot.payload);
            self.advance(next, true);
        } else if self.stored > 0 {
            // Lost: a later packet is here. Rebuild from its FEC if it has some.
            self.underruns_in_a_row = 0;
            self.window.losses += 1;
            let after = self
                .slots
                .get(Self::index(next + 1))
                .and_then(Option::as_ref)
                .filter(|s| s.ext == next + 1);
            let recovered = match after {
                Some(after) => self
                    .decoder
                    .decode_fec(&after.payload, frame.samples_mut())
                    .unwrap_or(false),
                None => false,
            };
            if recovered {
                frame.set_kind(FrameKind::FecRecovered);
                self.stats.fec_recovered += 1;
            } else {
                self.conceal(&mut frame);
            }
            self.advance(next, false);
        } else if self.ended {
            // Drained after a BYE: nothing more is coming.
            self.playing = false;
            self.buffering_since = None;
            self.held = 0;
            return frame;
        } else {
            // Nothing here at all: late or paused. Hold the playout point.
            self.underruns_in_a_row += 1;
            self.window.underruns += 1;
            if self.underruns_in_a_row > HOLD_LIMIT {
                self.playing = false;
                self.buffering_since = None;
                return frame;
            }
            self.held += 1;
            self.conceal(&mut frame);
        }
        frame
    }

    fn try_start(&mut self, now: Instant) -> bool {
        let Some(since) = self.buffering_since else {
            return false;
        };
        let waited = now.saturating_duration_since(since) + FRAME_DURATION;
        if self.stored == 0 || waited < self.estimator.target() {
            return false;
        }
        let Some(lowest) = self.slots.iter().flatten().map(|s| s.ext).min() else {
            return false;
        };
        let shift = self.floor.map_or(64, |f| lowest - f);
        self.history = if (0..64).contains(&shift) {
            self.history << shift
        } else {
            0
        };
        self.floor = Some(lowest);
        self.playing = true;
        self.buffering_since = None;
        self.underruns_in_a_row = 0;
        self.window = Window::EMPTY;
        true
    }

    fn advance(&mut self, played: i64, received: bool) {
        self.history = (self.history << 1) | u64::from(received);
        self.floor = Some(played + 1);
    }

    fn conceal(&mut self, frame: &mut Frame) {
        if self.decoder.conceal(frame.samples_mut()).is_err() {
            self.stats.decode_errors += 1;
            frame.samples_mut().fill(0);
        }
        frame.set_kind(FrameKind::Concealed);
        self.stats.concealed += 1;
    }

    /// Records this tick's depth and, once per window, decides whether to move the delay.
    fn adapt(&mut self, next: i64) -> Option<Adjust> {
        let depth = match (self.stored, self.highest) {
            (0, _) | (_, None) => 0,
            (_, Some(h)) => (h - next + 1).max(0),
        };
        let mut w = self.window;
        w.ticks += 1;
        w.min_depth = w.min_depth.min(depth);
        w.depth_sum += depth;
        if w.ticks < ADAPT_WINDOW {
            self.window = w;
            return None;
        }
        let frame = FRAME_DURATION.as_nanos();
        let mut target = i64::try_from(self.estimator.target().as_nanos().div_ceil(frame))
            .unwrap_or(i64::MAX)
            .max(1);
        if self.decoder.supports_fec() && (w.losses > 0 || w.underruns > 0) {
            // Losing packets with a codec that has FEC: keep one more frame, so that the
            // packet carrying a lost frame's FEC is there at that frame's turn.
            target += 1;
        }
        let decision = if w.min_depth > target && w.underruns == 0 {
            Some(Adjust::Shrink)
        } else if 2 * w.depth_sum < (2 * target - 1) * i64::from(w.ticks) {
            // The mean depth is more than half a frame short of the target.
            Some(Adjust::Stretch)
        } else {
            None
        };
        self.window = Window::EMPTY;
        decision
    }
}

#[cfg(test)]
mod tests;
