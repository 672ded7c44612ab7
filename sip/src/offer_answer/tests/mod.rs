//! Offer/answer tests: our offers, our answers, checking answers, hold, redaction, and whole
//! exchanges between two instances.

use std::net::{IpAddr, SocketAddr};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::sdp::{CryptoAttribute, Direction, SdesSuite, SessionDescription};

mod answer;
mod exchange;
mod hold;
mod offer;
mod receive_answer;

pub(super) const KEY_30: &str = "HkNojbLX/CFGa5C12v8kSW6TuN0CJ0xxlrvgBSpP";
pub(super) const KEY_46: &str = "LlN4ncLnDDFWe6DF6g80WX6jyO0SN1yBpsvwFTpfhKnO8xg9Yoes0fYbQGWKrw==";
pub(super) const KEY_44: &str = "LFF2m8DlCi9UeZ7D6A0yV3yhxusQNVp/pMnuEzhdgqfM8RY7YIWqz/QZPmM=";

pub(super) fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(42)
}

pub(super) fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

pub(super) fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// Local media on 192.0.2.1:40000 with SDES allowed (verified TLS).
pub(super) fn local(policy: SrtpPolicy) -> LocalMedia {
    let mut local = LocalMedia::new(ip("192.0.2.1"), 40000);
    local.policy = policy;
    local.sdes_allowed = true;
    local
}

pub(super) fn parse(text: &str) -> SessionDescription {
    match text.parse() {
        Ok(sdp) => sdp,
        Err(err) => panic!("test SDP does not parse: {err}\n{text}"),
    }
}

/// Writes and parses again, as the SDP goes over the wire.
pub(super) fn wire(sdp: &SessionDescription) -> SessionDescription {
    parse(&sdp.to_string())
}

/// A peer's SDP: session lines with `c=` at `address`, then `media` (the lines from `m=` on).
pub(super) fn peer_sdp(address: &str, media: &str) -> SessionDescription {
    parse(&format!(
        "v=0\r\no=peer 100 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n{media}"
    ))
}

/// An offer as baresip sends it: opus first, G.711, telephone-event/8000, rtcp-mux.
pub(super) fn baresip_offer(proto: &str, crypto: &str) -> SessionDescription {
    peer_sdp(
        "198.51.100.7",
        &format!(
            "m=audio 10000 {proto} 96 0 8 101\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp-mux\r\n\
a=sendrecv\r\n\
{crypto}"
        ),
    )
}

/// The `a=crypto` lines of the audio section.
pub(super) fn crypto_lines(sdp: &SessionDescription) -> Vec<CryptoAttribute> {
    sdp.media[0].crypto().cloned().collect()
}

pub(super) fn direction_attribute(sdp: &SessionDescription, index: usize) -> Option<Direction> {
    sdp.media[index].direction()
}

pub(super) fn has_attribute(sdp: &SessionDescription, text: &str) -> bool {
    sdp.media[0]
        .attributes
        .iter()
        .any(|a| a.to_string() == text)
}
