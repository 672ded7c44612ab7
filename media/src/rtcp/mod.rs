//! RTCP (RFC 3550 §6): compound packets (SR, RR, SDES, BYE; other types skipped), builders for
//! SR+SDES / RR+SDES, NTP time helpers and round-trip time, and per-source reception
//! statistics (loss and interarrival jitter, RFC 3550 A.3 and A.8) that produce report blocks.
//!
//! Reduced-size RTCP (RFC 5506) is accepted: a compound packet need not start with SR or RR,
//! so a lone RR (or a lone BYE) parses. Parsing checks every length and never panics.
//!
//! ```
//! use lockphone_media::rtcp::{self, ReceiverReport, ReportBlock, RtcpPacket};
//!
//! let rr = ReceiverReport { ssrc: 1, reports: vec![ReportBlock { ssrc: 2, ..ReportBlock::default() }] };
//! let mut out = Vec::new();
//! rtcp::compound_rr_sdes(&rr, "alice@example.com", &mut out);
//! let packets = rtcp::parse_compound(&out).unwrap();
//! assert_eq!(packets[0], RtcpPacket::ReceiverReport(rr));
//! ```

mod ntp;
mod packet;
mod reception;

pub use ntp::{NtpTime, duration_to_ntp_short, ntp_short_to_duration, rtt};
pub use packet::{
    Bye, ReceiverReport, ReportBlock, RtcpPacket, SdesChunk, SdesItem, SenderInfo, SenderReport,
    compound_rr_sdes, compound_sr_sdes, parse_compound,
};
pub use reception::ReceptionStats;

use thiserror::Error;

/// Why a datagram is not a well-formed (compound) RTCP packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Empty, or a packet header cut short.
    #[error("RTCP packet too short at offset {offset}")]
    TooShort {
        /// Where the truncated header starts.
        offset: usize,
    },
    /// A packet's version field is not 2.
    #[error("RTCP version {version} at offset {offset}, expected 2")]
    BadVersion {
        /// The version found.
        version: u8,
        /// Where the packet starts.
        offset: usize,
    },
    /// A packet's length field runs past the end of the datagram.
    #[error("RTCP packet at offset {offset} claims {len} bytes, only {available} left")]
    Truncated {
        /// Where the packet starts.
        offset: usize,
        /// Length claimed.
        len: usize,
        /// Bytes left in the datagram.
        available: usize,
    },
    /// The body of an SR, RR, SDES or BYE is shorter than its counts say, or padding is invalid.
    #[error("malformed RTCP {what} at offset {offset}")]
    Malformed {
        /// Which packet type.
        what: &'static str,
        /// Where the packet starts.
        offset: usize,
    },
}

/// True when `raw` is exactly a sequence of RTCP packets (version 2, packet types 192–223)
/// whose length fields add up to the datagram: a plain compound packet.
pub(crate) fn is_plain_compound(raw: &[u8]) -> bool {
    let mut off = 0;
    while off < raw.len() {
        let (Some(b0), Some(pt), Some(words)) = (
            raw.get(off),
            raw.get(off + 1),
            crate::rtp::be16(raw, off + 2),
        ) else {
            return false;
        };
        if b0 >> 6 != 2 || !(192..=223).contains(pt) {
            return false;
        }
        off += (usize::from(words) + 1) * 4;
    }
    off == raw.len() && !raw.is_empty()
}
