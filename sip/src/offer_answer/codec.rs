//! The audio codecs Lockphone speaks and how they appear in SDP.

use std::fmt;

use crate::sdp::{Attribute, Fmtp, MediaDescription, RtpMap};

/// Payload type we offer `telephone-event/8000` on.
pub(super) const TELEPHONE_EVENT_8000_PT: u8 = 101;
/// Payload type we offer `telephone-event/48000` on (when Opus is offered).
pub(super) const TELEPHONE_EVENT_48000_PT: u8 = 110;
/// The events we offer: the 16 DTMF tones and flash.
pub(super) const TELEPHONE_EVENTS: &str = "0-16";

/// An audio codec the media engine can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// Opus (RFC 7587): `opus/48000/2` on a dynamic payload type (111 in our offers), with
    /// in-band FEC asked for.
    Opus,
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl AudioCodec {
    /// The encoding name in `a=rtpmap` (`opus`, `PCMU`, `PCMA`).
    pub fn encoding_name(self) -> &'static str {
        match self {
            AudioCodec::Opus => "opus",
            AudioCodec::Pcmu => "PCMU",
            AudioCodec::Pcma => "PCMA",
        }
    }

    /// The RTP clock rate in Hz.
    pub fn clock_rate(self) -> u32 {
        match self {
            AudioCodec::Opus => 48_000,
            AudioCodec::Pcmu | AudioCodec::Pcma => 8_000,
        }
    }

    /// The payload type we offer it on: 111 for Opus, the static 0 and 8 for G.711.
    ///
    /// ```
    /// use lockphone_sip::offer_answer::AudioCodec;
    /// assert_eq!(AudioCodec::Pcma.default_payload_type(), 8);
    /// ```
    pub fn default_payload_type(self) -> u8 {
        match self {
            AudioCodec::Opus => 111,
            AudioCodec::Pcmu => 0,
            AudioCodec::Pcma => 8,
        }
    }

    /// The `a=rtpmap` of the codec on `payload_type`.
    pub(super) fn rtpmap(self, payload_type: u8) -> Attribute {
        Attribute::RtpMap(RtpMap {
            payload_type,
            encoding: self.encoding_name().to_owned(),
            clock_rate: self.clock_rate(),
            channels: (self == AudioCodec::Opus).then_some(2),
        })
    }

    /// The `a=fmtp` we write for the codec on `payload_type`, if any.
    pub(super) fn fmtp(self, payload_type: u8) -> Option<Attribute> {
        (self == AudioCodec::Opus).then(|| {
            Attribute::Fmtp(Fmtp {
                payload_type,
                params: "useinbandfec=1".to_owned(),
            })
        })
    }

    /// The codec a payload type of an `m=` line stands for, if it is one of ours: by its
    /// `a=rtpmap` (encoding name case-insensitive, clock rate and channels checked), else by the
    /// static payload types 0 and 8.
    pub(super) fn identify(media: &MediaDescription, payload_type: u8) -> Option<AudioCodec> {
        let Some(map) = media.rtpmap(payload_type) else {
            return match payload_type {
                0 => Some(AudioCodec::Pcmu),
                8 => Some(AudioCodec::Pcma),
                _ => None,
            };
        };
        let codec = [AudioCodec::Opus, AudioCodec::Pcmu, AudioCodec::Pcma]
            .into_iter()
            .find(|codec| map.encoding.eq_ignore_ascii_case(codec.encoding_name()))?;
        let channels_ok = match codec {
            // RFC 7587 says `/2`; tolerate a missing channel count.
            AudioCodec::Opus => matches!(map.channels, None | Some(2)),
            AudioCodec::Pcmu | AudioCodec::Pcma => matches!(map.channels, None | Some(1)),
        };
        (map.clock_rate == codec.clock_rate() && channels_ok).then_some(codec)
    }
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encoding_name())
    }
}

/// The clock rate of a payload type that is `telephone-event`, if it is one.
pub(super) fn telephone_event_rate(media: &MediaDescription, payload_type: u8) -> Option<u32> {
    media
        .rtpmap(payload_type)
        .filter(|map| map.encoding.eq_ignore_ascii_case("telephone-event"))
        .map(|map| map.clock_rate)
}

/// The first `telephone-event` payload type of an `m=` line at `clock_rate` (RFC 4733: the
/// events use the audio codec's clock).
pub(super) fn find_telephone_event(media: &MediaDescription, clock_rate: u32) -> Option<u8> {
    media
        .payload_types()
        .find(|pt| telephone_event_rate(media, *pt) == Some(clock_rate))
}

/// The `a=rtpmap` and `a=fmtp` of `telephone-event` on `payload_type`.
pub(super) fn telephone_event_attributes(
    payload_type: u8,
    clock_rate: u32,
    events: &str,
) -> [Attribute; 2] {
    [
        Attribute::RtpMap(RtpMap {
            payload_type,
            encoding: "telephone-event".to_owned(),
            clock_rate,
            channels: None,
        }),
        Attribute::Fmtp(Fmtp {
            payload_type,
            params: events.to_owned(),
        }),
    ]
}
