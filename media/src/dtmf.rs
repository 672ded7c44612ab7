//! Telephone events (RFC 4733): DTMF digits as RTP `telephone-event` payloads.
//!
//! [`DtmfEncoder`] turns a key press into the packets to send: one every packet interval with
//! a growing duration, the marker on the first, the same RTP timestamp throughout, and the end
//! packet sent three times. [`DtmfDecoder`] turns received payloads back into one
//! [`DtmfTone`] per key press, ignoring the retransmitted end packets.
//!
//! ```
//! use lockphone_media::dtmf::{DtmfDecoder, DtmfEncoder};
//! use std::time::Duration;
//!
//! let encoder = DtmfEncoder::new(8000, Duration::from_millis(20));
//! let packets = encoder.encode('5', Duration::from_millis(100), 1234).unwrap();
//! let mut decoder = DtmfDecoder::default();
//! let tones: Vec<_> = packets
//!     .iter()
//!     .filter_map(|p| decoder.on_payload(p.timestamp, &p.payload).unwrap())
//!     .collect();
//! assert_eq!(tones.len(), 1);
//! assert_eq!((tones[0].digit, tones[0].duration), ('5', 800));
//! ```

use std::time::Duration;

use thiserror::Error;

/// Length of one telephone-event payload.
pub const EVENT_LEN: usize = 4;
/// How many times the end packet is sent (RFC 4733 §2.5.1.4).
pub const END_REPEATS: usize = 3;
/// Default volume: −10 dBm0.
pub const DEFAULT_VOLUME: u8 = 10;
/// Largest duration one segment can carry.
const MAX_SEGMENT: u32 = 0xffff;

/// DTMF errors.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// Not a DTMF key.
    #[error("{0:?} is not a DTMF key (0-9, *, #, A-D)")]
    NotADigit(char),
    /// The payload is shorter than 4 bytes.
    #[error("telephone-event payload of {0} bytes, expected at least 4")]
    TooShort(usize),
    /// An event code that is not a DTMF digit (e.g. 16, flash).
    #[error("telephone event {0} is not a DTMF digit")]
    UnsupportedEvent(u8),
}

/// The RFC 4733 event code of a DTMF key (`0`-`9` → 0-9, `*` → 10, `#` → 11, `A`-`D` → 12-15;
/// lowercase letters accepted).
pub fn event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The DTMF key of an event code.
pub fn digit_for_code(code: u8) -> Option<char> {
    match code {
        0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// Event code.
    pub event: u8,
    /// The E bit: last packet(s) of the event.
    pub end: bool,
    /// Volume in −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl EventPayload {
    /// Parses the first event of a payload.
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let &[event, flags, d0, d1, ..] = payload else {
            return Err(DtmfError::TooShort(payload.len()));
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// The 4 wire bytes.
    pub fn to_bytes(self) -> [u8; EVENT_LEN] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }
}

/// One packet to send for a key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// When to send it, after the key press started.
    pub send_at: Duration,
    /// The RTP marker bit (first packet of the event).
    pub marker: bool,
    /// The RTP timestamp (the event's start; a new one per 0xFFFF-long segment).
    pub timestamp: u32,
    /// The payload.
    pub payload: [u8; EVENT_LEN],
}

/// Builds the packets of key presses for one `telephone-event` clock rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfEncoder {
    clock_rate: u32,
    interval: Duration,
    volume: u8,
}

impl DtmfEncoder {
    /// An encoder for a `telephone-event/<clock_rate>` stream sending one update per `interval`
    /// (typically the audio packet time).
    pub fn new(clock_rate: u32, interval: Duration) -> Self {
        Self {
            clock_rate: clock_rate.max(1),
            interval: interval.max(Duration::from_millis(1)),
            volume: DEFAULT_VOLUME,
        }
    }

    /// Sets the volume in −dBm0 (clamped to 63).
    pub fn with_volume(mut self, volume: u8) -> Self {
        self.volume = volume.min(63);
        self
    }

    fn units(&self, duration: Duration) -> u64 {
        crate::rtp::clock_units(duration, self.clock_rate)
    }

    /// The packets for pressing `digit` for `duration`, starting at RTP timestamp `timestamp`.
    /// Events longer than 0xFFFF timestamp units are split into segments (RFC 4733 §2.5.1.3).
    pub fn encode(
        &self,
        digit: char,
        duration: Duration,
        timestamp: u32,
    ) -> Result<Vec<DtmfPacket>, DtmfError> {
        let event = event_code(digit).ok_or(DtmfError::NotADigit(digit))?;
        let total = self.units(duration).max(1);
        let step = self.units(self.interval).max(1);
        let mut packets = Vec::new();
        let mut elapsed = 0u64;
        let mut send_at = Duration::ZERO;
        let payload = |end, duration: u64| {
            EventPayload {
                event,
                end,
                volume: self.volume,
                duration: duration.min(u64::from(MAX_SEGMENT)) as u16,
            }
            .to_bytes()
        };
        while elapsed < total {
            // Never step over a segment boundary: the old segment ends at exactly 0xFFFF.
            let boundary = (elapsed / u64::from(MAX_SEGMENT) + 1) * u64::from(MAX_SEGMENT);
            elapsed = (elapsed + step).min(total).min(boundary);
            let segment_start = (elapsed - 1) / u64::from(MAX_SEGMENT) * u64::from(MAX_SEGMENT);
            let in_segment = elapsed - segment_start;
            let ts = timestamp.wrapping_add(segment_start as u32);
            if elapsed == total {
                for _ in 0..END_REPEATS {
                    packets.push(DtmfPacket {
                        send_at,
                        marker: packets.is_empty(),
                        timestamp: ts,
                        payload: payload(true, in_segment),
                    });
                }
            } else {
                packets.push(DtmfPacket {
                    send_at,
                    marker: packets.is_empty(),
                    timestamp: ts,
                    payload: payload(false, in_segment),
                });
                send_at += self.interval;
            }
        }
        Ok(packets)
    }
}

/// A key press received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfTone {
    /// The key.
    pub digit: char,
    /// How long it lasted, in timestamp units.
    pub duration: u32,
    /// Volume in −dBm0.
    pub volume: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Active {
    event: u8,
    timestamp: u32,
    /// Duration of the earlier segments of a long event.
    earlier: u32,
    duration: u16,
    volume: u8,
}

impl Active {
    fn tone(&self) -> Option<DtmfTone> {
        Some(DtmfTone {
            digit: digit_for_code(self.event)?,
            duration: self.earlier + u32::from(self.duration),
            volume: self.volume,
        })
    }
}

/// Turns received telephone-event payloads into key presses, each reported once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtmfDecoder {
    active: Option<Active>,
    /// Timestamp of the last event reported, to drop its retransmitted end packets.
    reported: Option<u32>,
}

impl DtmfDecoder {
    /// Feeds the payload of a telephone-event packet with its RTP timestamp. Returns a tone
    /// when a key press ends (its first end packet, or a new event starting while the previous
    /// one never showed its end).
    pub fn on_payload(
        &mut self,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<Option<DtmfTone>, DtmfError> {
        let event = EventPayload::parse(payload)?;
        if digit_for_code(event.event).is_none() {
            return Err(DtmfError::UnsupportedEvent(event.event));
        }
        if self.reported == Some(timestamp) {
            return Ok(None);
        }
        let mut finished = None;
        let active = match self.active {
            Some(active) if active.timestamp == timestamp => Active {
                duration: active.duration.max(event.duration),
                ..active
            },
            Some(active) if active.event == event.event && is_next_segment(&active, timestamp) => {
                Active {
                    timestamp,
                    earlier: active.earlier + MAX_SEGMENT,
                    duration: event.duration,
                    ..active
                }
            }
            previous => {
                finished = previous.and_then(|p| p.tone());
                Active {
                    event: event.event,
                    timestamp,
                    earlier: 0,
                    duration: event.duration,
                    volume: event.volume,
                }
            }
        };
        if finished.is_some() {
            // The previous event never showed its end: report it now, and this one on a
            // later packet (its retransmitted end) or at `finish`.
            self.active = Some(active);
            return Ok(finished);
        }
        if event.end {
            self.active = None;
            self.reported = Some(timestamp);
            return Ok(active.tone());
        }
        self.active = Some(active);
        Ok(None)
    }

    /// Reports an event whose end packets never arrived (call when the stream stops).
    pub fn finish(&mut self) -> Option<DtmfTone> {
        self.active.take().and_then(|active| active.tone())
    }
}

/// True when `timestamp` starts the segment right after `active`'s (a long event).
fn is_next_segment(active: &Active, timestamp: u32) -> bool {
    timestamp == active.timestamp.wrapping_add(MAX_SEGMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cover_every_key() {
        for (code, digit) in "0123456789*#ABCD".chars().enumerate() {
            assert_eq!(event_code(digit), Some(code as u8));
            assert_eq!(digit_for_code(code as u8), Some(digit));
        }
        assert_eq!(event_code('a'), Some(12));
        assert_eq!(event_code('E'), None);
        assert_eq!(digit_for_code(16), None);
    }

    #[test]
    fn encoder_builds_rfc4733_packets() {
        let encoder = DtmfEncoder::new(8000, Duration::from_millis(20)).with_volume(7);
        let packets = encoder
            .encode('#', Duration::from_millis(90), 5000)
            .unwrap();
        // 20, 40, 60, 80 ms updates then the 90 ms end three times.
        assert_eq!(packets.len(), 4 + 3);
        assert!(packets[0].marker && packets[1..].iter().all(|p| !p.marker));
        assert!(packets.iter().all(|p| p.timestamp == 5000));
        let durations: Vec<u16> = packets
            .iter()
            .map(|p| EventPayload::parse(&p.payload).unwrap().duration)
            .collect();
        assert_eq!(durations, [160, 320, 480, 640, 720, 720, 720]);
        assert_eq!(packets[0].payload, [11, 7, 0, 160]);
        assert_eq!(packets[6].payload, [11, 0x80 | 7, 0x02, 0xd0]);
        assert_eq!(packets[6].send_at, Duration::from_millis(80));
        assert_eq!(
            encoder.encode('x', Duration::from_millis(90), 0),
            Err(DtmfError::NotADigit('x'))
        );
    }

    #[test]
    fn decoder_reports_once_despite_repeated_ends() {
        let encoder = DtmfEncoder::new(8000, Duration::from_millis(20));
        let mut decoder = DtmfDecoder::default();
        let mut tones = Vec::new();
        for (digit, ts) in [('1', 0u32), ('1', 2000), ('D', 4000)] {
            for p in encoder
                .encode(digit, Duration::from_millis(100), ts)
                .unwrap()
            {
                tones.extend(decoder.on_payload(p.timestamp, &p.payload).unwrap());
            }
        }
        let digits: Vec<(char, u32)> = tones.iter().map(|t| (t.digit, t.duration)).collect();
        assert_eq!(digits, [('1', 800), ('1', 800), ('D', 800)]);
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn lost_end_packets_are_recovered() {
        let encoder = DtmfEncoder::new(8000, Duration::from_millis(20));
        let mut decoder = DtmfDecoder::default();
        let first = encoder.encode('3', Duration::from_millis(60), 100).unwrap();
        for p in first.iter().filter(|p| p.payload[1] & 0x80 == 0) {
            assert_eq!(decoder.on_payload(p.timestamp, &p.payload).unwrap(), None);
        }
        let second = encoder.encode('4', Duration::from_millis(40), 900).unwrap();
        let started = decoder
            .on_payload(second[0].timestamp, &second[0].payload)
            .unwrap();
        assert_eq!(started.map(|t| (t.digit, t.duration)), Some(('3', 320)));
        let mut rest = Vec::new();
        for p in &second[1..] {
            rest.extend(decoder.on_payload(p.timestamp, &p.payload).unwrap());
        }
        assert_eq!(
            rest.iter()
                .map(|t| (t.digit, t.duration))
                .collect::<Vec<_>>(),
            [('4', 320)]
        );
        // An event whose end never comes is reported by finish().
        let third = encoder
            .encode('7', Duration::from_millis(40), 2000)
            .unwrap();
        decoder
            .on_payload(third[0].timestamp, &third[0].payload)
            .unwrap();
        assert_eq!(decoder.finish().map(|t| t.digit), Some('7'));
    }

    #[test]
    fn long_events_span_segments() {
        let encoder = DtmfEncoder::new(48_000, Duration::from_millis(20));
        let packets = encoder.encode('0', Duration::from_secs(2), 10).unwrap();
        let timestamps: Vec<u32> = packets.iter().map(|p| p.timestamp).collect();
        assert!(timestamps.contains(&10) && timestamps.contains(&(10 + 0xffff)));
        let mut decoder = DtmfDecoder::default();
        let tones: Vec<DtmfTone> = packets
            .iter()
            .filter_map(|p| decoder.on_payload(p.timestamp, &p.payload).unwrap())
            .collect();
        assert_eq!(tones.len(), 1);
        assert_eq!(tones[0].duration, 96_000);
    }

    #[test]
    fn bad_payloads_are_errors() {
        let mut decoder = DtmfDecoder::default();
        assert_eq!(
            decoder.on_payload(0, &[1, 2, 3]),
            Err(DtmfError::TooShort(3))
        );
        assert_eq!(
            decoder.on_payload(0, &[16, 0, 0, 1]),
            Err(DtmfError::UnsupportedEvent(16))
        );
    }
}
