//! The outcome of one offer/answer exchange, as the media layer needs it.

use std::fmt;
use std::net::SocketAddr;

use super::AudioCodec;
use crate::sdp::{Direction, SdesKey, SdesSuite};

/// What an offer/answer exchange fixed for the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where we send RTP. An unspecified address (`0.0.0.0`, `::`) means the peer holds the
    /// call (RFC 2543 style); [`Negotiated::local_direction`] then does not send.
    pub remote_rtp: SocketAddr,
    /// Where we send RTCP: `a=rtcp` if given, else the RTP port + 1; with rtcp-mux the RTP
    /// address.
    pub remote_rtcp: SocketAddr,
    /// Whether RTP and RTCP share one port both ways (RFC 5761).
    pub rtcp_mux: bool,
    /// The codec.
    pub codec: AudioCodec,
    /// The payload type we send the codec with (the peer's number for it).
    pub payload_type: u8,
    /// The payload type we receive the codec on (our number for it; the same as
    /// `payload_type` when we answered, since an answer echoes the offer's numbers).
    pub receive_payload_type: u8,
    /// The codec's RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The `telephone-event` payload type we send DTMF with, at the codec's clock rate, if
    /// both sides have it.
    pub telephone_event: Option<u8>,
    /// The `telephone-event` payload type we receive DTMF on, if negotiated.
    pub receive_telephone_event: Option<u8>,
    /// What we do after this exchange: `sendrecv`, `sendonly` (we hold), `recvonly` (the peer
    /// holds), `inactive`.
    pub local_direction: Direction,
    /// SRTP keys, or `None` for plain RTP.
    pub srtp: Option<NegotiatedSrtp>,
    /// The transport protocol of the stream (`RTP/SAVP`, `RTP/AVP`, `RTP/SAVPF`, …).
    pub profile: String,
}

impl Negotiated {
    /// Whether SRTP must be restarted: SRTP switched on or off, or the suite or either key
    /// differs from `previous`. When false the SRTP contexts (and their rollover counters)
    /// are kept.
    pub fn keys_changed(&self, previous: &Negotiated) -> bool {
        match (&self.srtp, &previous.srtp) {
            (None, None) => false,
            (Some(now), Some(before)) => {
                now.suite != before.suite
                    || now.local_key != before.local_key
                    || now.remote_key != before.remote_key
            }
            _ => true,
        }
    }

    /// Whether media must go somewhere else: the remote RTP or RTCP address, or rtcp-mux,
    /// differs from `previous`.
    pub fn address_changed(&self, previous: &Negotiated) -> bool {
        self.remote_rtp != previous.remote_rtp
            || self.remote_rtcp != previous.remote_rtcp
            || self.rtcp_mux != previous.rtcp_mux
    }

    /// Whether the peer put the call on hold with `c=0.0.0.0` (or `::`).
    pub fn remote_address_is_hold(&self) -> bool {
        self.remote_rtp.ip().is_unspecified()
    }
}

/// The SDES keys of an SRTP stream. Each side's key protects what that side sends. `Debug`
/// prints the suite and tag, never the keys.
#[derive(Clone, PartialEq, Eq)]
pub struct NegotiatedSrtp {
    /// The crypto suite both sides use.
    pub suite: SdesSuite,
    /// The tag of the accepted `a=crypto` line.
    pub tag: u32,
    /// Our master key||salt: protects what we send.
    pub local_key: SdesKey,
    /// The peer's master key||salt: unprotects what we receive.
    pub remote_key: SdesKey,
}

impl fmt::Debug for NegotiatedSrtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NegotiatedSrtp")
            .field("suite", &self.suite)
            .field("tag", &self.tag)
            .field("local_key", &"<redacted>")
            .field("remote_key", &"<redacted>")
            .finish()
    }
}
