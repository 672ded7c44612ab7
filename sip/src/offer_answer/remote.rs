//! Reading the peer's audio section: where to send, which profile, which direction.

use std::net::{IpAddr, SocketAddr};

use super::NegotiationError;
use crate::sdp::{Attribute, Direction, MediaDescription, SessionDescription};

/// Whether a transport protocol is plain RTP or SDES-keyed SRTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Profile {
    /// `RTP/AVP` or `RTP/AVPF`.
    Plain,
    /// `RTP/SAVP` or `RTP/SAVPF`.
    Srtp,
}

impl Profile {
    /// Classifies an `m=` protocol; DTLS-SRTP and non-RTP protocols are refused.
    pub(super) fn of(proto: &str) -> Result<Profile, NegotiationError> {
        let upper = proto.to_ascii_uppercase();
        match upper.as_str() {
            "RTP/AVP" | "RTP/AVPF" => Ok(Profile::Plain),
            "RTP/SAVP" | "RTP/SAVPF" => Ok(Profile::Srtp),
            _ if upper.starts_with("UDP/TLS/RTP/SAVP") => {
                Err(NegotiationError::DtlsSrtp(printable(proto)))
            }
            _ => Err(NegotiationError::UnsupportedProtocol(printable(proto))),
        }
    }
}

/// The peer's audio stream.
#[derive(Debug)]
pub(super) struct RemoteAudio {
    /// Where RTP goes.
    pub(super) rtp: SocketAddr,
    /// Where RTCP goes without rtcp-mux.
    pub(super) rtcp: SocketAddr,
    /// Whether the section has `a=rtcp-mux`.
    pub(super) rtcp_mux: bool,
    /// What the peer does: its direction attribute, without receiving when its address is
    /// `0.0.0.0` (RFC 2543 hold).
    pub(super) direction: Direction,
}

impl RemoteAudio {
    /// Where RTCP goes once rtcp-mux is settled.
    pub(super) fn rtcp_target(&self, mux: bool) -> SocketAddr {
        if mux { self.rtp } else { self.rtcp }
    }
}

/// The index of the audio section an offer asks us to answer: the first `m=audio` with a port.
pub(super) fn find_audio(sdp: &SessionDescription) -> Result<usize, NegotiationError> {
    let mut any_audio = false;
    for (index, media) in sdp.media.iter().enumerate() {
        if media.media.eq_ignore_ascii_case("audio") {
            if media.port != 0 {
                return Ok(index);
            }
            any_audio = true;
        }
    }
    Err(if any_audio {
        NegotiationError::StreamRejected
    } else {
        NegotiationError::NoAudio
    })
}

/// Reads an audio section of `sdp`.
pub(super) fn read_audio(
    sdp: &SessionDescription,
    media: &MediaDescription,
) -> Result<RemoteAudio, NegotiationError> {
    if media.port == 0 {
        return Err(NegotiationError::StreamRejected);
    }
    let host = sdp
        .connection_address(media)
        .ok_or(NegotiationError::MissingConnection)?;
    let ip = parse_ip(host).ok_or_else(|| NegotiationError::ConnectionNotIp(printable(host)))?;
    let rtp = SocketAddr::new(ip, media.port);
    let rtcp = rtcp_attribute(media, ip).unwrap_or_else(|| {
        // RFC 3550: the next port; with no next port, the same one.
        SocketAddr::new(ip, media.port.checked_add(1).unwrap_or(media.port))
    });
    let mut direction = sdp.direction(media);
    if ip.is_unspecified() {
        direction = Direction::from_flags(direction.sends(), false);
    }
    Ok(RemoteAudio {
        rtp,
        rtcp,
        rtcp_mux: media.rtcp_mux(),
        direction,
    })
}

/// What we do, given what we want and what the peer does (RFC 3264 section 6.1).
pub(super) fn resulting_direction(ours: Direction, theirs: Direction) -> Direction {
    Direction::from_flags(
        ours.sends() && theirs.receives(),
        ours.receives() && theirs.sends(),
    )
}

/// `a=rtcp:<port> [IN IP4 <address>]` (RFC 3605); `None` when absent or malformed.
fn rtcp_attribute(media: &MediaDescription, rtp_ip: IpAddr) -> Option<SocketAddr> {
    let value = media.attributes.iter().find_map(|a| match a {
        Attribute::Other { name, value } if name == "rtcp" => value.as_deref(),
        _ => None,
    })?;
    let mut fields = value.split_ascii_whitespace();
    let port: u16 = fields.next()?.parse().ok().filter(|p| *p != 0)?;
    let ip = match (fields.next(), fields.next(), fields.next()) {
        (Some(_net), Some(_addr_type), Some(address)) => parse_ip(address)?,
        _ => rtp_ip,
    };
    Some(SocketAddr::new(ip, port))
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    text.parse().ok()
}

/// A peer-supplied token for an error message: at most 64 characters, control characters
/// replaced.
fn printable(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
