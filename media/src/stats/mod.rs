//! Live per-stream statistics, with an estimated MOS ([`mos`]).
//!
//! [`StatsSnapshot`] is what `MediaPipeline::stats` returns; it serialises to JSON for the
//! control API and reports.

pub mod mos;

use serde::Serialize;

use crate::codec::Codec;
use crate::jitter::JitterStats;
use crate::srtp::SrtpCounters;

pub use mos::{CodecImpairment, estimate_mos, mos_from_r, r_factor};

/// What was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SendStats {
    /// RTP packets sent.
    pub packets: u64,
    /// RTP payload bytes sent.
    pub payload_bytes: u64,
    /// Bytes handed to the network (RTP and RTCP, headers and SRTP tags included).
    pub bytes: u64,
    /// RTCP packets sent.
    pub rtcp_packets: u64,
    /// Frames the encoder produced nothing for (DTX silence).
    pub suppressed_frames: u64,
    /// DTMF events sent.
    pub dtmf_events: u64,
}

/// What was received from the far end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ReceiveStats {
    /// RTP packets received and accepted (after SRTP).
    pub packets: u64,
    /// Bytes received (RTP and RTCP, as they came off the network).
    pub bytes: u64,
    /// RTCP packets received and accepted.
    pub rtcp_packets: u64,
    /// Packets lost in the network so far (RFC 3550 cumulative; negative with duplicates).
    pub lost: i64,
    /// Cumulative loss as a fraction of the packets expected (0–1).
    pub loss_fraction: f64,
    /// Loss during the last RTCP reporting interval (0–1): what our last report said.
    pub interval_loss_fraction: f64,
    /// RFC 3550 interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Datagrams dropped before the jitter buffer: not RTP/RTCP, unknown payload type, from
    /// another SSRC, or malformed.
    pub dropped: u64,
    /// DTMF events received.
    pub dtmf_events: u64,
    /// Time since the last RTP packet arrived, ms (`None` before the first): a media
    /// timeout shows up here.
    pub last_packet_age_ms: Option<f64>,
    /// The far end ended its stream with an RTCP BYE: playout drained what was buffered and
    /// then went silent (no concealment, no loss counted after it).
    pub remote_bye: bool,
}

/// What the far end says about our stream, from its latest report block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RemoteStats {
    /// Loss in its last interval (0–1).
    pub interval_loss_fraction: f64,
    /// Its cumulative loss count.
    pub lost: i64,
    /// Its jitter estimate, ms.
    pub jitter_ms: f64,
}

/// A snapshot of one call's media stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// The codec in use.
    pub codec: Codec,
    /// Whether the stream is SRTP.
    pub srtp: bool,
    /// Outgoing stream.
    pub sent: SendStats,
    /// Incoming stream.
    pub received: ReceiveStats,
    /// The far end's view of our stream, once it has reported.
    pub remote: Option<RemoteStats>,
    /// Round-trip time from RTCP (LSR/DLSR), ms, once measured.
    pub rtt_ms: Option<f64>,
    /// Jitter buffer: delay, target, concealment, FEC, late and duplicate drops.
    pub jitter_buffer: JitterStats,
    /// SRTP outcomes of the sending context (protected packets).
    pub srtp_tx: Option<SrtpCounters>,
    /// SRTP outcomes of the receiving context: authentication failures, replays, malformed.
    pub srtp_rx: Option<SrtpCounters>,
    /// Estimated one-way mouth-to-ear delay used for the MOS, ms.
    pub mouth_to_ear_ms: f64,
    /// G.107 R factor (`None` until audio has been received).
    pub r_factor: Option<f64>,
    /// Estimated MOS, 1–4.5 (`None` until audio has been received).
    pub mos: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_serialises_to_json() {
        let s = StatsSnapshot {
            codec: Codec::Opus,
            srtp: true,
            sent: SendStats {
                packets: 3,
                ..SendStats::default()
            },
            received: ReceiveStats::default(),
            remote: None,
            rtt_ms: Some(12.5),
            jitter_buffer: JitterStats::default(),
            srtp_tx: Some(SrtpCounters::default()),
            srtp_rx: None,
            mouth_to_ear_ms: 40.0,
            r_factor: Some(92.2),
            mos: Some(4.4),
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["codec"], "Opus");
        assert_eq!(json["sent"]["packets"], 3);
        assert_eq!(json["rtt_ms"], 12.5);
        assert_eq!(json["srtp_tx"]["auth_failures"], 0);
        assert!(json["jitter_buffer"]["concealed"].is_u64());
    }
}
