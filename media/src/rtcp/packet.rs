//! RTCP packet types, the compound parser and the writers.

use super::RtcpError;
use super::ntp::NtpTime;

/// Sender report packet type.
const PT_SR: u8 = 200;
/// Receiver report packet type.
const PT_RR: u8 = 201;
/// Source description packet type.
const PT_SDES: u8 = 202;
/// Goodbye packet type.
const PT_BYE: u8 = 203;
/// SDES CNAME item type.
const SDES_CNAME: u8 = 1;
/// Most report blocks or sources a packet can count (5-bit field).
const MAX_COUNT: usize = 31;

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed on the wire; clamped when written).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received (0 if none).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s (0 if none).
    pub delay_since_last_sr: u32,
}

/// The sender information of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// Wallclock time of the report.
    pub ntp: NtpTime,
    /// The same instant in the RTP timestamp clock.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
}

/// A sender report (SR).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// The sender.
    pub ssrc: u32,
    /// What it sent.
    pub info: SenderInfo,
    /// What it received (at most 31 are written).
    pub reports: Vec<ReportBlock>,
}

/// A receiver report (RR).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// The reporter.
    pub ssrc: u32,
    /// What it received (at most 31 are written).
    pub reports: Vec<ReportBlock>,
}

/// One SDES item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    /// Item type (1 = CNAME, 2 = NAME, …).
    pub kind: u8,
    /// Item value (at most 255 bytes are written).
    pub value: Vec<u8>,
}

/// The SDES items of one source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source.
    pub ssrc: u32,
    /// Its items.
    pub items: Vec<SdesItem>,
}

impl SdesChunk {
    /// A chunk with just a CNAME.
    pub fn cname(ssrc: u32, cname: &str) -> Self {
        Self {
            ssrc,
            items: vec![SdesItem {
                kind: SDES_CNAME,
                value: cname.as_bytes().to_vec(),
            }],
        }
    }

    /// The CNAME, if present and UTF-8.
    pub fn cname_value(&self) -> Option<&str> {
        let item = self.items.iter().find(|item| item.kind == SDES_CNAME)?;
        std::str::from_utf8(&item.value).ok()
    }
}

/// A goodbye (BYE).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bye {
    /// The sources leaving (at most 31 are written).
    pub sources: Vec<u32>,
    /// Why, if said (invalid UTF-8 replaced; at most 255 bytes are written).
    pub reason: Option<String>,
}

/// One packet of a compound RTCP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR.
    SenderReport(SenderReport),
    /// RR.
    ReceiverReport(ReceiverReport),
    /// SDES.
    SourceDescription(Vec<SdesChunk>),
    /// BYE.
    Bye(Bye),
    /// Any other packet type (APP, RTPFB, PSFB, XR, …): skipped, only its type kept.
    Other {
        /// The packet type.
        packet_type: u8,
    },
}

/// Parses a compound (or reduced-size) RTCP datagram into its packets.
pub fn parse_compound(raw: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if raw.is_empty() {
        return Err(RtcpError::TooShort { offset: 0 });
    }
    let mut packets = Vec::new();
    let mut offset = 0;
    while offset < raw.len() {
        let header = raw
            .get(offset..offset + 4)
            .ok_or(RtcpError::TooShort { offset })?;
        let &[b0, packet_type, l0, l1] = header else {
            return Err(RtcpError::TooShort { offset });
        };
        if b0 >> 6 != 2 {
            return Err(RtcpError::BadVersion {
                version: b0 >> 6,
                offset,
            });
        }
        let len = (usize::from(u16::from_be_bytes([l0, l1])) + 1) * 4;
        let available = raw.len() - offset;
        let packet = raw.get(offset..offset + len).ok_or(RtcpError::Truncated {
            offset,
            len,
            available,
        })?;
        let mut body = packet.get(4..).unwrap_or_default();
        if b0 & 0x20 != 0 {
            let pad = usize::from(packet.last().copied().unwrap_or(0));
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Malformed {
                    what: "padding",
                    offset,
                });
            }
            body = body.get(..body.len() - pad).unwrap_or_default();
        }
        let count = usize::from(b0 & 0x1f);
        packets.push(
            parse_one(packet_type, count, body).ok_or(RtcpError::Malformed {
                what: type_name(packet_type),
                offset,
            })?,
        );
        offset += len;
    }
    Ok(packets)
}

fn type_name(packet_type: u8) -> &'static str {
    match packet_type {
        PT_SR => "SR",
        PT_RR => "RR",
        PT_SDES => "SDES",
        PT_BYE => "BYE",
        _ => "packet",
    }
}

/// A bounds-checked reader over a packet body.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(out)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }

    fn u32(&mut self) -> Option<u32> {
        let bytes = self.take(4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    }

    fn align4(&mut self) {
        self.pos = self.pos.div_ceil(4) * 4;
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
}

fn parse_one(packet_type: u8, count: usize, body: &[u8]) -> Option<RtcpPacket> {
    let mut r = Reader { buf: body, pos: 0 };
    Some(match packet_type {
        PT_SR => {
            let ssrc = r.u32()?;
            let ntp = NtpTime(u64::from(r.u32()?) << 32 | u64::from(r.u32()?));
            let info = SenderInfo {
                ntp,
                rtp_timestamp: r.u32()?,
                packet_count: r.u32()?,
                octet_count: r.u32()?,
            };
            RtcpPacket::SenderReport(SenderReport {
                ssrc,
                info,
                reports: report_blocks(&mut r, count)?,
            })
        }
        PT_RR => {
            let ssrc = r.u32()?;
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc,
                reports: report_blocks(&mut r, count)?,
            })
        }
        PT_SDES => RtcpPacket::SourceDescription(
            (0..count)
                .map(|_| sdes_chunk(&mut r))
                .collect::<Option<_>>()?,
        ),
        PT_BYE => {
            let sources = (0..count).map(|_| r.u32()).collect::<Option<Vec<_>>>()?;
            let reason = match r.remaining() {
                0 => None,
                _ => {
                    let len = usize::from(r.u8()?);
                    Some(String::from_utf8_lossy(r.take(len)?).into_owned())
                }
            };
            RtcpPacket::Bye(Bye { sources, reason })
        }
        _ => RtcpPacket::Other { packet_type },
    })
}

fn report_blocks(r: &mut Reader<'_>, count: usize) -> Option<Vec<ReportBlock>> {
    (0..count)
        .map(|_| {
            let ssrc = r.u32()?;
            let lost = r.u32()?;
            Some(ReportBlock {
                ssrc,
                fraction_lost: (lost >> 24) as u8,
                cumulative_lost: ((lost << 8) as i32) >> 8,
                extended_highest_seq: r.u32()?,
                jitter: r.u32()?,
                last_sr: r.u32()?,
                delay_since_last_sr: r.u32()?,
            })
        })
        .collect()
}

fn sdes_chunk(r: &mut Reader<'_>) -> Option<SdesChunk> {
    let ssrc = r.u32()?;
    let mut items = Vec::new();
    loop {
        let kind = r.u8()?;
        if kind == 0 {
            r.align4();
            return Some(SdesChunk { ssrc, items });
        }
        let len = usize::from(r.u8()?);
        items.push(SdesItem {
            kind,
            value: r.take(len)?.to_vec(),
        });
    }
}

// ---- writers -------------------------------------------------------------------------------

/// Appends one packet: header with `count` and `packet_type`, then `body`, then patches the
/// length. `body` must leave a multiple of 4 bytes.
fn write_packet(out: &mut Vec<u8>, count: usize, packet_type: u8, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0x80 | count.min(MAX_COUNT) as u8, packet_type, 0, 0]);
    body(out);
    let words = ((out.len() - start) / 4).saturating_sub(1) as u16;
    if let Some(len) = out.get_mut(start + 2..start + 4) {
        len.copy_from_slice(&words.to_be_bytes());
    }
}

fn write_blocks(out: &mut Vec<u8>, reports: &[ReportBlock]) {
    for block in reports.iter().take(MAX_COUNT) {
        let lost = (block.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        for word in [
            block.ssrc,
            u32::from(block.fraction_lost) << 24 | lost,
            block.extended_highest_seq,
            block.jitter,
            block.last_sr,
            block.delay_since_last_sr,
        ] {
            out.extend_from_slice(&word.to_be_bytes());
        }
    }
}

fn pad4(out: &mut Vec<u8>, start: usize) {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
}

impl SenderReport {
    /// Appends this SR to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_packet(out, self.reports.len(), PT_SR, |out| {
            let info = &self.info;
            for word in [
                self.ssrc,
                (info.ntp.0 >> 32) as u32,
                info.ntp.0 as u32,
                info.rtp_timestamp,
                info.packet_count,
                info.octet_count,
            ] {
                out.extend_from_slice(&word.to_be_bytes());
            }
            write_blocks(out, &self.reports);
        });
    }
}

impl ReceiverReport {
    /// Appends this RR to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_packet(out, self.reports.len(), PT_RR, |out| {
            out.extend_from_slice(&self.ssrc.to_be_bytes());
            write_blocks(out, &self.reports);
        });
    }
}

impl SdesChunk {
    /// Appends an SDES packet carrying `chunks` to `out`.
    pub fn write_packet(chunks: &[SdesChunk], out: &mut Vec<u8>) {
        write_packet(out, chunks.len(), PT_SDES, |out| {
            let start = out.len();
            for chunk in chunks.iter().take(MAX_COUNT) {
                let items = chunk
                    .items
                    .iter()
                    .map(|item| (item.kind, item.value.as_slice()));
                write_chunk(out, start, chunk.ssrc, items);
            }
        });
    }
}

/// Appends one SDES chunk — `ssrc`, its items (kind, value; kind 0 skipped, values cut to
/// 255 bytes), the end marker — padded to 32 bits from `start`, the SDES body's start.
fn write_chunk<'a>(
    out: &mut Vec<u8>,
    start: usize,
    ssrc: u32,
    items: impl IntoIterator<Item = (u8, &'a [u8])>,
) {
    out.extend_from_slice(&ssrc.to_be_bytes());
    for (kind, value) in items.into_iter().filter(|&(kind, _)| kind != 0) {
        let value = value.get(..value.len().min(255)).unwrap_or_default();
        out.push(kind);
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    out.push(0);
    pad4(out, start);
}

impl Bye {
    /// Appends this BYE to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_packet(out, self.sources.len(), PT_BYE, |out| {
            let start = out.len();
            for source in self.sources.iter().take(MAX_COUNT) {
                out.extend_from_slice(&source.to_be_bytes());
            }
            if let Some(reason) = &self.reason {
                let mut end = reason.len().min(255);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                out.push(end as u8);
                out.extend_from_slice(reason.get(..end).unwrap_or_default().as_bytes());
                pad4(out, start);
            }
        });
    }
}

impl RtcpPacket {
    /// Appends this packet to `out` (`Other` writes nothing: its body was not kept).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::SenderReport(sr) => sr.write(out),
            Self::ReceiverReport(rr) => rr.write(out),
            Self::SourceDescription(chunks) => SdesChunk::write_packet(chunks, out),
            Self::Bye(bye) => bye.write(out),
            Self::Other { .. } => {}
        }
    }
}

/// Clears `out` and writes the compound packet SR + SDES(CNAME) of the SR's sender.
pub fn compound_sr_sdes(sr: &SenderReport, cname: &str, out: &mut Vec<u8>) {
    out.clear();
    sr.write(out);
    write_sdes_cname(sr.ssrc, cname, out);
}

/// Clears `out` and writes the compound packet RR + SDES(CNAME) of the reporter.
pub fn compound_rr_sdes(rr: &ReceiverReport, cname: &str, out: &mut Vec<u8>) {
    out.clear();
    rr.write(out);
    write_sdes_cname(rr.ssrc, cname, out);
}

/// Appends an SDES packet with one chunk: `ssrc` and its CNAME (what
/// `SdesChunk::write_packet(&[SdesChunk::cname(ssrc, cname)], out)` writes, without
/// building the chunk).
fn write_sdes_cname(ssrc: u32, cname: &str, out: &mut Vec<u8>) {
    write_packet(out, 1, PT_SDES, |out| {
        let start = out.len();
        write_chunk(out, start, ssrc, [(SDES_CNAME, cname.as_bytes())]);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ssrc: u32, lost: i32) -> ReportBlock {
        ReportBlock {
            ssrc,
            fraction_lost: 25,
            cumulative_lost: lost,
            extended_highest_seq: 0x0001_0005,
            jitter: 17,
            last_sr: 0xdead_beef,
            delay_since_last_sr: 65536,
        }
    }

    #[test]
    fn the_cname_writer_matches_the_general_sdes_writer() {
        for cname in ["", "a", "abc", "abcd", "0123456789abcdef", &"x".repeat(300)] {
            let mut direct = Vec::new();
            write_sdes_cname(0xfeed, cname, &mut direct);
            let mut general = Vec::new();
            SdesChunk::write_packet(&[SdesChunk::cname(0xfeed, cname)], &mut general);
            assert_eq!(direct, general, "{cname:?}");
        }
    }

    #[test]
    fn sr_sdes_bye_round_trip() {
        let sr = SenderReport {
            ssrc: 0x1234,
            info: SenderInfo {
                ntp: NtpTime(0x1122_3344_5566_7788),
                rtp_timestamp: 960,
                packet_count: 50,
                octet_count: 8000,
            },
            reports: vec![block(9, -3), block(10, 0x7f_ffff)],
        };
        let mut out = Vec::new();
        compound_sr_sdes(&sr, "bob@host", &mut out);
        let bye = Bye {
            sources: vec![0x1234, 5],
            reason: Some("hang up".into()),
        };
        bye.write(&mut out);
        assert_eq!(out.len() % 4, 0);
        assert!(super::super::is_plain_compound(&out));
        let packets = parse_compound(&out).unwrap();
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0], RtcpPacket::SenderReport(sr));
        let RtcpPacket::SourceDescription(chunks) = &packets[1] else {
            panic!("{packets:?}")
        };
        assert_eq!(chunks[0].cname_value(), Some("bob@host"));
        assert_eq!(chunks[0].ssrc, 0x1234);
        assert_eq!(packets[2], RtcpPacket::Bye(bye));
    }

    #[test]
    fn known_bytes_of_an_rr() {
        let rr = ReceiverReport {
            ssrc: 1,
            reports: vec![block(2, -1)],
        };
        let mut out = Vec::new();
        rr.write(&mut out);
        assert_eq!(&out[..8], &[0x81, 201, 0, 7, 0, 0, 0, 1]);
        assert_eq!(&out[12..16], &[25, 0xff, 0xff, 0xff]);
        // A lone RR (reduced-size RTCP) is accepted.
        assert_eq!(
            parse_compound(&out).unwrap(),
            vec![RtcpPacket::ReceiverReport(rr)]
        );
    }

    #[test]
    fn unknown_types_are_skipped_and_cumulative_loss_is_clamped() {
        let mut out = Vec::new();
        ReceiverReport {
            ssrc: 1,
            reports: vec![block(2, i32::MIN)],
        }
        .write(&mut out);
        out.extend_from_slice(&[0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]); // RTPFB NACK
        out.extend_from_slice(&[0x80, 207, 0, 0]); // empty XR
        let packets = parse_compound(&out).unwrap();
        let RtcpPacket::ReceiverReport(rr) = &packets[0] else {
            panic!()
        };
        assert_eq!(rr.reports[0].cumulative_lost, -0x80_0000);
        assert_eq!(
            &packets[1..],
            &[
                RtcpPacket::Other { packet_type: 205 },
                RtcpPacket::Other { packet_type: 207 }
            ]
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::TooShort { offset: 0 }));
        assert_eq!(
            parse_compound(&[0x80, 201, 0]),
            Err(RtcpError::TooShort { offset: 0 })
        );
        assert!(matches!(
            parse_compound(&[0x40, 201, 0, 0]),
            Err(RtcpError::BadVersion { version: 1, .. })
        ));
        assert!(matches!(
            parse_compound(&[0x80, 201, 0, 5, 0, 0, 0, 1]),
            Err(RtcpError::Truncated { .. })
        ));
        // RC says one block, none present.
        assert!(matches!(
            parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Malformed { what: "RR", .. })
        ));
        // Padding count larger than the body.
        assert!(matches!(
            parse_compound(&[0xa0, 201, 0, 1, 0, 0, 0, 9]),
            Err(RtcpError::Malformed {
                what: "padding",
                ..
            })
        ));
        // SDES item running past the end.
        assert!(matches!(
            parse_compound(&[0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 0, 0]),
            Err(RtcpError::Malformed { .. })
        ));
        // BYE reason running past the end.
        assert!(matches!(
            parse_compound(&[0x81, 203, 0, 2, 0, 0, 0, 1, 9, 0, 0, 0]),
            Err(RtcpError::Malformed { .. })
        ));
    }

    #[test]
    fn long_values_are_truncated_when_written() {
        let mut out = Vec::new();
        let chunk = SdesChunk {
            ssrc: 3,
            items: vec![SdesItem {
                kind: 2,
                value: vec![b'x'; 300],
            }],
        };
        SdesChunk::write_packet(std::slice::from_ref(&chunk), &mut out);
        let bye = Bye {
            sources: vec![],
            reason: Some("é".repeat(200)),
        };
        bye.write(&mut out);
        let packets = parse_compound(&out).unwrap();
        let RtcpPacket::SourceDescription(chunks) = &packets[0] else {
            panic!()
        };
        assert_eq!(chunks[0].items[0].value.len(), 255);
        let RtcpPacket::Bye(parsed) = &packets[1] else {
            panic!()
        };
        assert_eq!(parsed.reason.as_deref().map(str::len), Some(254));
    }
}
