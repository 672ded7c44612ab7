//! RTP packets (RFC 3550 §5): a zero-copy parse view, a header writer, a sender-side
//! [`Packetizer`] and the receiver-side extended sequence tracker of RFC 3550 Appendix A.1.
//!
//! ```
//! use lockphone_media::rtp::{RtpHeader, RtpPacket, packetize};
//!
//! let header = RtpHeader { payload_type: 111, sequence: 7, timestamp: 960, ssrc: 0x1234, ..RtpHeader::default() };
//! let mut out = Vec::new();
//! packetize(&header, b"opus", &mut out);
//! let packet = RtpPacket::parse(&out).unwrap();
//! assert_eq!(packet.sequence(), 7);
//! assert_eq!(packet.payload(), b"opus");
//! ```

use thiserror::Error;

/// Length of the fixed RTP header (no CSRCs, no extension).
pub const FIXED_HEADER_LEN: usize = 12;
/// The only RTP version in use.
pub const RTP_VERSION: u8 = 2;
/// Largest number of CSRCs a header can carry (4-bit CC field).
pub const MAX_CSRCS: usize = 15;

/// Why a datagram is not a well-formed RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header.
    #[error("RTP packet too short: {len} bytes, the fixed header needs 12")]
    TooShort {
        /// Length of the datagram.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The CSRC list or the header extension runs past the end of the packet.
    #[error("RTP {what} runs past the end of the packet ({len} bytes)")]
    Truncated {
        /// Which part of the header is cut short.
        what: &'static str,
        /// Length of the datagram.
        len: usize,
    },
    /// The padding count is zero or larger than what follows the header.
    #[error("RTP padding count {count} is invalid for {available} bytes after the header")]
    BadPadding {
        /// The padding count (last byte of the packet).
        count: u8,
        /// Bytes after the header, padding included.
        available: usize,
    },
}

/// An RTP header extension (RFC 3550 §5.3.1): a profile-defined 16-bit value and data whose
/// length is a multiple of four bytes on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderExtension {
    /// The "defined by profile" field (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data; padded with zeros to a multiple of 4 when written.
    pub data: Vec<u8>,
}

/// An owned RTP header, for writing packets (and for inspecting a parsed one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// The P bit. When writing with [`packetize`], padding is added up to a multiple of 4 bytes.
    pub padding: bool,
    /// The M bit (first packet of a talkspurt for audio).
    pub marker: bool,
    /// 7-bit payload type.
    pub payload_type: u8,
    /// 16-bit sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Contributing sources; at most [`MAX_CSRCS`] are written.
    pub csrcs: Vec<u32>,
    /// Optional header extension.
    pub extension: Option<HeaderExtension>,
}

impl RtpHeader {
    /// Bytes this header takes on the wire.
    pub fn len(&self) -> usize {
        let csrcs = self.csrcs.len().min(MAX_CSRCS) * 4;
        let ext = self
            .extension
            .as_ref()
            .map_or(0, |e| 4 + 4 * extension_words(e.data.len()));
        FIXED_HEADER_LEN + csrcs + ext
    }

    /// Always false: a header has at least its 12 fixed bytes (present for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends this header to `out`. CSRCs beyond 15 and extension data beyond 262,140 bytes are
    /// dropped; extension data is zero-padded to a multiple of 4.
    pub fn write(&self, out: &mut Vec<u8>) {
        let csrcs = &self.csrcs[..self.csrcs.len().min(MAX_CSRCS)];
        let mut b0 = RTP_VERSION << 6 | csrcs.len() as u8;
        if self.padding {
            b0 |= 0x20;
        }
        if self.extension.is_some() {
            b0 |= 0x10;
        }
        out.push(b0);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for csrc in csrcs {
            out.extend_from_slice(&csrc.to_be_bytes());
        }
        if let Some(ext) = &self.extension {
            let words = extension_words(ext.data.len());
            out.extend_from_slice(&ext.profile.to_be_bytes());
            out.extend_from_slice(&(words as u16).to_be_bytes());
            let data = &ext.data[..ext.data.len().min(words * 4)];
            out.extend_from_slice(data);
            out.resize(out.len() + (words * 4 - data.len()), 0);
        }
    }
}

/// Words (of 4 bytes) needed for `len` bytes of extension data, capped at the 16-bit field.
fn extension_words(len: usize) -> usize {
    len.div_ceil(4).min(usize::from(u16::MAX))
}

/// Clears `out` and writes a complete RTP packet: `header`, `payload`, and padding to a
/// multiple of 4 bytes when `header.padding` is set (at least one byte, RFC 3550 §5.1).
pub fn packetize(header: &RtpHeader, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    header.write(out);
    out.extend_from_slice(payload);
    if header.padding {
        let pad = 4 - out.len() % 4;
        out.resize(out.len() + pad - 1, 0);
        out.push(pad as u8);
    }
}

/// A parsed, borrowed view of an RTP packet. Parsing checks every length, so the accessors
/// never panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    raw: &'a [u8],
    header_len: usize,
    payload_end: usize,
    extension: Extension<'a>,
}

/// A borrowed header extension: (profile, data).
type Extension<'a> = Option<(u16, &'a [u8])>;

impl<'a> RtpPacket<'a> {
    /// Parses `raw` as an RTP packet, skipping CSRCs, the header extension and padding.
    pub fn parse(raw: &'a [u8]) -> Result<Self, RtpError> {
        let (header_len, extension) = parse_header(raw)?;
        let len = raw.len();
        let mut payload_end = len;
        if raw.first().is_some_and(|b0| b0 & 0x20 != 0) {
            let count = raw.last().copied().unwrap_or(0);
            let available = len - header_len;
            if count == 0 || usize::from(count) > available {
                return Err(RtpError::BadPadding { count, available });
            }
            payload_end -= usize::from(count);
        }
        Ok(Self {
            raw,
            header_len,
            payload_end,
            extension,
        })
    }

    /// The whole packet as received.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Header length in bytes (fixed part, CSRCs and extension).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload, without header, extension or padding.
    pub fn payload(&self) -> &'a [u8] {
        self.raw
            .get(self.header_len..self.payload_end)
            .unwrap_or(&[])
    }

    /// The P bit.
    pub fn padding(&self) -> bool {
        self.byte(0) & 0x20 != 0
    }

    /// The M bit.
    pub fn marker(&self) -> bool {
        self.byte(1) & 0x80 != 0
    }

    /// The 7-bit payload type.
    pub fn payload_type(&self) -> u8 {
        self.byte(1) & 0x7f
    }

    /// The 16-bit sequence number.
    pub fn sequence(&self) -> u16 {
        be16(self.raw, 2).unwrap_or(0)
    }

    /// The media timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.raw, 4).unwrap_or(0)
    }

    /// The synchronisation source.
    pub fn ssrc(&self) -> u32 {
        be32(self.raw, 8).unwrap_or(0)
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let count = usize::from(self.byte(0) & 0x0f);
        let raw = self.raw;
        (0..count).filter_map(move |i| be32(raw, FIXED_HEADER_LEN + 4 * i))
    }

    /// The header extension as (profile, data), if the X bit is set.
    pub fn extension(&self) -> Option<(u16, &'a [u8])> {
        self.extension
    }

    /// An owned copy of the header.
    pub fn header(&self) -> RtpHeader {
        RtpHeader {
            padding: self.padding(),
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence: self.sequence(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
            csrcs: self.csrcs().collect(),
            extension: self.extension.map(|(profile, data)| HeaderExtension {
                profile,
                data: data.to_vec(),
            }),
        }
    }

    fn byte(&self, at: usize) -> u8 {
        self.raw.get(at).copied().unwrap_or(0)
    }
}

/// Length of the RTP header at the start of `raw` (fixed part, CSRCs, extension), checking
/// the version and every length but not the padding (which SRTP encrypts).
pub fn header_len(raw: &[u8]) -> Result<usize, RtpError> {
    parse_header(raw).map(|(len, _)| len)
}

/// Header length and extension of `raw`.
fn parse_header(raw: &[u8]) -> Result<(usize, Extension<'_>), RtpError> {
    let len = raw.len();
    let b0 = match raw.first() {
        Some(b0) if len >= FIXED_HEADER_LEN => *b0,
        _ => return Err(RtpError::TooShort { len }),
    };
    let version = b0 >> 6;
    if version != RTP_VERSION {
        return Err(RtpError::BadVersion(version));
    }
    let off = FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0f);
    if off > len {
        return Err(RtpError::Truncated {
            what: "CSRC list",
            len,
        });
    }
    if b0 & 0x10 == 0 {
        return Ok((off, None));
    }
    let truncated = || RtpError::Truncated {
        what: "header extension",
        len,
    };
    let profile = be16(raw, off).ok_or_else(truncated)?;
    let words = be16(raw, off + 2).ok_or_else(truncated)?;
    let end = off + 4 + 4 * usize::from(words);
    let data = raw.get(off + 4..end).ok_or_else(truncated)?;
    Ok((end, Some((profile, data))))
}

/// `duration` in units of an RTP clock of `clock_rate` Hz (rounded down, saturating).
pub(crate) fn clock_units(duration: std::time::Duration, clock_rate: u32) -> u64 {
    let units = duration.as_nanos() * u128::from(clock_rate) / 1_000_000_000;
    u64::try_from(units).unwrap_or(u64::MAX)
}

/// Big-endian u16 at `at`, if in bounds.
pub(crate) fn be16(raw: &[u8], at: usize) -> Option<u16> {
    let bytes = raw.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// Big-endian u32 at `at`, if in bounds.
pub(crate) fn be32(raw: &[u8], at: usize) -> Option<u32> {
    let bytes = raw.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Sender state for one RTP stream: SSRC, next sequence number and next timestamp, starting
/// from random values (RFC 3550 §5.1) drawn from an injected RNG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packetizer {
    ssrc: u32,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    sent: u64,
}

impl Packetizer {
    /// A packetizer with a random SSRC, initial sequence number and initial timestamp.
    pub fn new(payload_type: u8, rng: &mut impl rand::RngCore) -> Self {
        let ssrc = rng.next_u32();
        Self::with_ssrc(ssrc, payload_type, rng)
    }

    /// A packetizer for a chosen SSRC, with random initial sequence number and timestamp.
    pub fn with_ssrc(ssrc: u32, payload_type: u8, rng: &mut impl rand::RngCore) -> Self {
        let sequence = rng.next_u32() as u16;
        let timestamp = rng.next_u32();
        Self::from_parts(ssrc, payload_type, sequence, timestamp)
    }

    /// A packetizer with every starting value chosen (tests, resuming a stream).
    pub fn from_parts(ssrc: u32, payload_type: u8, sequence: u16, timestamp: u32) -> Self {
        Self {
            ssrc,
            payload_type,
            sequence,
            timestamp,
            sent: 0,
        }
    }

    /// The SSRC of this stream.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The payload type used by [`Packetizer::next_packet`].
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Changes the payload type (e.g. after a re-INVITE picks another codec).
    pub fn set_payload_type(&mut self, payload_type: u8) {
        self.payload_type = payload_type;
    }

    /// Sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// Timestamp the next media packet will carry.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// Packets written so far.
    pub fn packets_sent(&self) -> u64 {
        self.sent
    }

    /// Writes (into a cleared `out`) the next media packet, then advances the sequence number
    /// by one and the timestamp by `samples`.
    pub fn next_packet(&mut self, payload: &[u8], samples: u32, marker: bool, out: &mut Vec<u8>) {
        let (payload_type, timestamp) = (self.payload_type, self.timestamp);
        self.next_packet_with(payload_type, timestamp, marker, payload, out);
        self.advance(samples);
    }

    /// Writes the next packet with an explicit payload type and timestamp (telephone events,
    /// comfort noise), advancing only the sequence number.
    pub fn next_packet_with(
        &mut self,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
            ..RtpHeader::default()
        };
        packetize(&header, payload, out);
        self.sequence = self.sequence.wrapping_add(1);
        self.sent += 1;
    }

    /// Advances the timestamp by `samples` without sending (silence suppression, DTX).
    pub fn advance(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }
}

/// What [`SequenceTracker::update`] made of a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceUpdate {
    /// A valid packet, with its extended (cycles + sequence) number. `late` is true for a
    /// packet older than the highest seen (reordered or duplicated).
    Valid {
        /// Extended sequence number (RFC 3550 A.1: cycles << 16 | seq).
        extended: u32,
        /// True when older than the highest sequence seen.
        late: bool,
    },
    /// The source is still on probation (not enough sequential packets yet).
    Probation,
    /// A large jump: counted as bad until the next packet confirms a restart.
    Bad,
    /// The previous packet's jump was confirmed: the tracker restarted on this packet.
    Restarted {
        /// Extended sequence number after the restart.
        extended: u32,
    },
}

/// Receiver-side sequence tracking and loss counting, RFC 3550 Appendix A.1 and A.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceTracker {
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
}

const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const MIN_SEQUENTIAL: u32 = 2;
const RTP_SEQ_MOD: u32 = 1 << 16;

impl SequenceTracker {
    /// Starts tracking at the first packet seen, `seq`, with the usual probation of two
    /// sequential packets.
    pub fn new(seq: u16) -> Self {
        let mut tracker = Self {
            max_seq: seq.wrapping_sub(1),
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
        };
        tracker.init(seq);
        tracker.max_seq = seq.wrapping_sub(1);
        tracker
    }

    /// Starts tracking without probation (the source is already known, e.g. signalled SSRC).
    pub fn new_trusted(seq: u16) -> Self {
        let mut tracker = Self::new(seq);
        tracker.probation = 0;
        tracker.max_seq = seq;
        tracker.received = 1;
        tracker
    }

    fn init(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// Feeds one received sequence number (RFC 3550 A.1 `update_seq`).
    pub fn update(&mut self, seq: u16) -> SequenceUpdate {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init(seq);
                    self.received += 1;
                    return SequenceUpdate::Valid {
                        extended: self.extended_max(),
                        late: false,
                    };
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SequenceUpdate::Probation;
        }
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= RTP_SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                self.init(seq);
                self.received += 1;
                return SequenceUpdate::Restarted {
                    extended: self.extended_max(),
                };
            }
            self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
            return SequenceUpdate::Bad;
        } else {
            self.received += 1;
            // Late packet: it belongs to the current cycle unless it is numerically above the
            // highest sequence, in which case it precedes the last wrap.
            let cycles = if seq > self.max_seq {
                self.cycles.wrapping_sub(RTP_SEQ_MOD)
            } else {
                self.cycles
            };
            return SequenceUpdate::Valid {
                extended: cycles.wrapping_add(u32::from(seq)),
                late: true,
            };
        }
        self.received += 1;
        SequenceUpdate::Valid {
            extended: self.extended_max(),
            late: false,
        }
    }

    /// Highest extended sequence number received (cycles + max seq).
    pub fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets counted as received (duplicates included, as in RFC 3550).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Packets expected since the first valid one.
    pub fn expected(&self) -> u32 {
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Cumulative packets lost (may be negative with duplicates), clamped to 24 bits signed as
    /// RTCP carries it.
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// Fraction lost since the previous call, in 1/256 units (RFC 3550 A.3); resets the interval.
    pub fn fraction_lost_since_last(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        }
    }

    /// True once the source has passed probation.
    pub fn is_valid(&self) -> bool {
        self.probation == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_header() -> RtpHeader {
        RtpHeader {
            padding: false,
            marker: true,
            payload_type: 111,
            sequence: 0xfffe,
            timestamp: 0xdead_beef,
            ssrc: 0x1122_3344,
            csrcs: vec![1, 2, 3],
            extension: Some(HeaderExtension {
                profile: 0xbede,
                data: vec![0x10, 0xaa, 0, 0],
            }),
        }
    }

    #[test]
    fn round_trip_with_csrcs_extension_and_padding() {
        let mut header = sample_header();
        header.padding = true;
        let mut out = Vec::new();
        packetize(&header, b"hello", &mut out);
        assert_eq!(out.len() % 4, 0);
        assert_eq!(header.len(), 12 + 12 + 8);
        let packet = RtpPacket::parse(&out).unwrap();
        assert_eq!(packet.payload(), b"hello");
        assert_eq!(packet.header(), header);
        assert_eq!(packet.header_len(), header.len());
        assert_eq!(packet.extension(), Some((0xbede, &[0x10, 0xaa, 0, 0][..])));
    }

    #[test]
    fn extension_data_is_padded_to_words() {
        let header = RtpHeader {
            extension: Some(HeaderExtension {
                profile: 1,
                data: vec![9; 5],
            }),
            ..RtpHeader::default()
        };
        let mut out = Vec::new();
        packetize(&header, &[], &mut out);
        assert_eq!(out.len(), 12 + 4 + 8);
        let packet = RtpPacket::parse(&out).unwrap();
        assert_eq!(packet.extension().unwrap().1, &[9, 9, 9, 9, 9, 0, 0, 0]);
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert_eq!(
            RtpPacket::parse(&[0x80; 11]),
            Err(RtpError::TooShort { len: 11 })
        );
        let mut p = vec![0x40; 12];
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::BadVersion(1)));
        p[0] = 0x8f; // 15 CSRCs, none present
        assert!(matches!(
            RtpPacket::parse(&p),
            Err(RtpError::Truncated {
                what: "CSRC list",
                ..
            })
        ));
        p[0] = 0x90; // extension header missing
        assert!(matches!(
            RtpPacket::parse(&p),
            Err(RtpError::Truncated { .. })
        ));
        p.extend_from_slice(&[0, 0, 0, 2, 1, 2, 3, 4]); // claims 2 words, has 1
        assert!(matches!(
            RtpPacket::parse(&p),
            Err(RtpError::Truncated { .. })
        ));
        let mut q = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        assert_eq!(
            RtpPacket::parse(&q),
            Err(RtpError::BadPadding {
                count: 0,
                available: 2
            })
        );
        q[13] = 3;
        assert_eq!(
            RtpPacket::parse(&q),
            Err(RtpError::BadPadding {
                count: 3,
                available: 2
            })
        );
        q[13] = 2;
        assert_eq!(RtpPacket::parse(&q).unwrap().payload(), b"");
    }

    #[test]
    fn packetizer_advances_and_wraps() {
        let mut p = Packetizer::from_parts(7, 0, 0xffff, u32::MAX - 100);
        let mut out = Vec::new();
        p.next_packet(&[1; 160], 160, true, &mut out);
        let first = RtpPacket::parse(&out).unwrap();
        assert_eq!(
            (first.sequence(), first.timestamp(), first.marker()),
            (0xffff, u32::MAX - 100, true)
        );
        p.next_packet_with(101, 5, false, &[0; 4], &mut out);
        let second = RtpPacket::parse(&out).unwrap();
        assert_eq!(
            (second.sequence(), second.timestamp(), second.payload_type()),
            (0, 5, 101)
        );
        p.next_packet(&[1; 160], 160, false, &mut out);
        let third = RtpPacket::parse(&out).unwrap();
        assert_eq!((third.sequence(), third.timestamp()), (1, 59));
        assert_eq!(p.packets_sent(), 3);
    }

    #[test]
    fn packetizer_draws_random_start() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = Packetizer::new(0, &mut rng);
        let b = Packetizer::new(0, &mut rng);
        assert_ne!(a, b);
        let again = Packetizer::new(0, &mut rand::rngs::StdRng::seed_from_u64(7));
        assert_eq!(a, again);
    }

    #[test]
    fn tracker_counts_loss_across_wrap() {
        let mut t = SequenceTracker::new(65530);
        assert_eq!(t.update(65530), SequenceUpdate::Probation);
        assert_eq!(
            t.update(65531),
            SequenceUpdate::Valid {
                extended: 65531,
                late: false
            }
        );
        for seq in [65532u16, 65533, 65535, 0, 1, 3] {
            assert!(matches!(
                t.update(seq),
                SequenceUpdate::Valid { late: false, .. }
            ));
        }
        assert_eq!(t.extended_max(), 65536 + 3);
        assert_eq!(t.expected(), 9);
        assert_eq!(t.received(), 7);
        assert_eq!(t.cumulative_lost(), 2);
        assert_eq!(t.fraction_lost_since_last(), (2 * 256 / 9) as u8);
        assert_eq!(t.fraction_lost_since_last(), 0);
        // A late packet from before the wrap gets the previous cycle.
        assert_eq!(
            t.update(65534),
            SequenceUpdate::Valid {
                extended: 65534,
                late: true
            }
        );
        assert_eq!(t.cumulative_lost(), 1);
    }

    #[test]
    fn tracker_restarts_after_confirmed_jump() {
        let mut t = SequenceTracker::new_trusted(100);
        assert_eq!(
            t.update(101),
            SequenceUpdate::Valid {
                extended: 101,
                late: false
            }
        );
        assert_eq!(t.update(30000), SequenceUpdate::Bad);
        assert_eq!(
            t.update(30001),
            SequenceUpdate::Restarted { extended: 30001 }
        );
        assert_eq!(
            t.update(30002),
            SequenceUpdate::Valid {
                extended: 30002,
                late: false
            }
        );
        assert_eq!(t.expected(), 2);
    }
}
