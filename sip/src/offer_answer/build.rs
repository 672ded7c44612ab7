//! Writing our SDP: the session lines, the offered and the answered audio sections.

use std::net::IpAddr;

use super::AudioCodec;
use super::codec::{self, TELEPHONE_EVENTS};
use crate::sdp::{
    Attribute, Connection, CryptoAttribute, Direction, MediaDescription, Origin,
    SessionDescription, Timing,
};

/// Packet time of every codec the media engine runs (20 ms frames only).
const PTIME_MS: u32 = 20;

/// The session part of our SDP (`o=`, `s=-`, `c=`, `t=0 0`), without media.
pub(super) fn session(address: IpAddr, session_id: u64, version: u64) -> SessionDescription {
    let addr_type = if address.is_ipv4() { "IP4" } else { "IP6" };
    SessionDescription {
        origin: Origin {
            username: "-".to_owned(),
            session_id,
            session_version: version,
            net_type: "IN".to_owned(),
            addr_type: addr_type.to_owned(),
            address: address.to_string(),
        },
        name: "-".to_owned(),
        connection: Some(Connection {
            net_type: "IN".to_owned(),
            addr_type: addr_type.to_owned(),
            address: address.to_string(),
        }),
        bandwidths: Vec::new(),
        timing: vec![Timing {
            start: 0,
            stop: 0,
            repeats: Vec::new(),
        }],
        attributes: Vec::new(),
        other_lines: Vec::new(),
        media: Vec::new(),
    }
}

/// What goes into one audio section we write.
pub(super) struct AudioSection<'a> {
    /// Our RTP port.
    pub(super) port: u16,
    /// `RTP/SAVP`, `RTP/AVP`, …
    pub(super) proto: &'a str,
    /// Codecs and their payload types, in order.
    pub(super) codecs: &'a [(AudioCodec, u8)],
    /// `telephone-event` payload types, clock rates and events.
    pub(super) telephone_events: &'a [(u8, u32, String)],
    /// `a=crypto` lines.
    pub(super) crypto: &'a [CryptoAttribute],
    /// Whether to write `a=rtcp-mux`.
    pub(super) rtcp_mux: bool,
    /// Our direction.
    pub(super) direction: Direction,
}

impl AudioSection<'_> {
    /// The `m=audio` section.
    pub(super) fn build(&self) -> MediaDescription {
        let mut formats = Vec::new();
        let mut attributes = Vec::new();
        for (codec, pt) in self.codecs {
            formats.push(pt.to_string());
            attributes.push(codec.rtpmap(*pt));
            attributes.extend(codec.fmtp(*pt));
        }
        for (pt, rate, events) in self.telephone_events {
            formats.push(pt.to_string());
            attributes.extend(codec::telephone_event_attributes(*pt, *rate, events));
        }
        attributes.push(Attribute::Ptime(PTIME_MS));
        if self.rtcp_mux {
            attributes.push(Attribute::RtcpMux);
        }
        attributes.extend(self.crypto.iter().cloned().map(Attribute::Crypto));
        attributes.push(Attribute::Direction(self.direction));
        MediaDescription {
            media: "audio".to_owned(),
            port: self.port,
            port_count: None,
            proto: self.proto.to_owned(),
            formats,
            connection: None,
            bandwidths: Vec::new(),
            attributes,
            other_lines: Vec::new(),
        }
    }
}

/// The `telephone-event` entries of an offer: one per clock rate of the offered codecs
/// (101 for 8 kHz, 110 for 48 kHz).
pub(super) fn offered_telephone_events(codecs: &[AudioCodec]) -> Vec<(u8, u32, String)> {
    let mut out: Vec<(u8, u32, String)> = Vec::new();
    for codec in codecs {
        let rate = codec.clock_rate();
        if out.iter().any(|(_, r, _)| *r == rate) {
            continue;
        }
        let pt = if rate == 8_000 {
            codec::TELEPHONE_EVENT_8000_PT
        } else {
            codec::TELEPHONE_EVENT_48000_PT
        };
        out.push((pt, rate, TELEPHONE_EVENTS.to_owned()));
    }
    out
}

/// An offered section we do not take, answered with port 0 (RFC 3264 section 6).
pub(super) fn rejected(offered: &MediaDescription) -> MediaDescription {
    MediaDescription {
        media: offered.media.clone(),
        port: 0,
        port_count: None,
        proto: offered.proto.clone(),
        formats: offered.formats.iter().take(1).cloned().collect(),
        connection: None,
        bandwidths: Vec::new(),
        attributes: Vec::new(),
        other_lines: Vec::new(),
    }
}
