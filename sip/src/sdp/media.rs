//! Media sections (`m=` and the lines under it) and attributes.

use std::fmt;

use super::crypto::parse_digits;
use super::session::{Bandwidth, Connection, Line};
use super::{CryptoAttribute, SdpError};

/// Media direction attribute (RFC 8866 section 6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Whether this side sends media (`sendrecv` or `sendonly`).
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether this side receives media (`sendrecv` or `recvonly`).
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction that sends and receives as asked.
    ///
    /// ```
    /// use lockphone_sip::sdp::Direction;
    /// assert_eq!(Direction::from_flags(false, true), Direction::RecvOnly);
    /// assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
    /// ```
    pub fn from_flags(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// The same direction seen from the other end (`sendonly` becomes `recvonly`).
    pub fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    fn from_name(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str() == name)
    }
}

/// `a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// RTP payload type (0 to 127).
    pub payload_type: u8,
    /// Encoding name, e.g. `opus`, `PCMU`, `telephone-event`.
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters (audio channels), if given.
    pub channels: Option<u16>,
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(channels) = self.channels {
            write!(f, "/{channels}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<payload type> <format parameters>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// RTP payload type (0 to 127).
    pub payload_type: u8,
    /// The parameters, verbatim.
    pub params: String,
}

/// One `a=` line. Known attributes are typed; anything else, and any known attribute whose
/// value is not written in its canonical form, is kept verbatim as [`Attribute::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `a=rtpmap`.
    RtpMap(RtpMap),
    /// `a=fmtp`.
    Fmtp(Fmtp),
    /// `a=ptime` in milliseconds.
    Ptime(u32),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`.
    Direction(Direction),
    /// `a=rtcp-mux`.
    RtcpMux,
    /// `a=crypto` (RFC 4568).
    Crypto(CryptoAttribute),
    /// Anything else: `a=<name>` or `a=<name>:<value>`, verbatim.
    Other {
        /// The attribute name.
        name: String,
        /// The value after the first `:`, if any.
        value: Option<String>,
    },
}

impl Attribute {
    /// Parses the text after `a=`.
    pub(super) fn parse(line: usize, text: &str) -> Result<Attribute, SdpError> {
        let (name, value) = match text.split_once(':') {
            Some((name, value)) => (name, Some(value)),
            None => (text, None),
        };
        if name.is_empty() {
            return Err(SdpError::Invalid {
                line,
                kind: 'a',
                reason: "empty attribute name".into(),
            });
        }
        if name == "crypto" {
            return value
                .unwrap_or_default()
                .parse()
                .map(Attribute::Crypto)
                .map_err(|source| SdpError::Crypto { line, source });
        }
        let typed = match (name, value) {
            ("rtpmap", Some(value)) => parse_rtpmap(value).map(Attribute::RtpMap),
            ("fmtp", Some(value)) => value.split_once(' ').and_then(|(pt, params)| {
                Some(Attribute::Fmtp(Fmtp {
                    payload_type: parse_payload_type(pt)?,
                    params: params.to_owned(),
                }))
            }),
            ("ptime", Some(value)) => parse_digits(value).map(Attribute::Ptime),
            ("rtcp-mux", None) => Some(Attribute::RtcpMux),
            (name, None) => Direction::from_name(name).map(Attribute::Direction),
            _ => None,
        };
        // Keep the typed form only if it writes back exactly what was received.
        Ok(match typed {
            Some(attribute) if attribute.to_string() == text => attribute,
            _ => Attribute::Other {
                name: name.to_owned(),
                value: value.map(str::to_owned),
            },
        })
    }

    /// The attribute name (`rtpmap`, `crypto`, …).
    pub fn name(&self) -> &str {
        match self {
            Attribute::RtpMap(_) => "rtpmap",
            Attribute::Fmtp(_) => "fmtp",
            Attribute::Ptime(_) => "ptime",
            Attribute::Direction(direction) => direction.as_str(),
            Attribute::RtcpMux => "rtcp-mux",
            Attribute::Crypto(_) => "crypto",
            Attribute::Other { name, .. } => name,
        }
    }
}

fn parse_payload_type(text: &str) -> Option<u8> {
    parse_digits::<u8>(text).filter(|pt| *pt <= 127)
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.split_once(' ')?;
    let mut parts = rest.split('/');
    let encoding = parts.next().filter(|e| !e.is_empty() && !e.contains(' '))?;
    let clock_rate = parse_digits(parts.next()?)?;
    let channels = match parts.next() {
        Some(channels) => Some(parse_digits(channels)?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        payload_type: parse_payload_type(pt)?,
        encoding: encoding.to_owned(),
        clock_rate,
        channels,
    })
}

/// `Display` writes the text after `a=` (with the real key for `a=crypto`).
impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::RtpMap(map) => write!(f, "rtpmap:{map}"),
            Attribute::Fmtp(fmtp) => write!(f, "fmtp:{} {}", fmtp.payload_type, fmtp.params),
            Attribute::Ptime(ms) => write!(f, "ptime:{ms}"),
            Attribute::Direction(direction) => f.write_str(direction.as_str()),
            Attribute::RtcpMux => f.write_str("rtcp-mux"),
            Attribute::Crypto(crypto) => write!(f, "crypto:{crypto}"),
            Attribute::Other { name, value: None } => f.write_str(name),
            Attribute::Other {
                name,
                value: Some(value),
            } => write!(f, "{name}:{value}"),
        }
    }
}

/// One media section: the `m=` line and the lines under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: `audio`, `video`, `application`, …
    pub media: String,
    /// Transport port (0 rejects or disables the stream).
    pub port: u16,
    /// Number of ports (`m=video 49170/2 …`), if given.
    pub port_count: Option<u16>,
    /// Transport protocol: `RTP/AVP`, `RTP/SAVP`, `RTP/SAVPF`, …
    pub proto: String,
    /// Formats: RTP payload types for RTP protocols, verbatim.
    pub formats: Vec<String>,
    /// Media-level `c=`, overriding the session's.
    pub connection: Option<Connection>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `a=` lines in order.
    pub attributes: Vec<Attribute>,
    /// Other lines (`i=`, `k=`, unknown types), verbatim; written `i=` first, the rest after `b=`.
    pub other_lines: Vec<Line>,
}

impl MediaDescription {
    /// Parses the text after `m=`.
    pub(super) fn parse_m_line(line: usize, value: &str) -> Result<MediaDescription, SdpError> {
        let invalid = |reason: &str| SdpError::Invalid {
            line,
            kind: 'm',
            reason: reason.to_owned(),
        };
        let mut fields = value.split_ascii_whitespace();
        let media = fields.next().ok_or_else(|| invalid("missing media type"))?;
        let port_text = fields.next().ok_or_else(|| invalid("missing port"))?;
        let (port, port_count) = match port_text.split_once('/') {
            Some((port, count)) => (port, Some(count)),
            None => (port_text, None),
        };
        let port = parse_digits(port).ok_or_else(|| invalid("port must be 0 to 65535"))?;
        let port_count = match port_count {
            Some(count) => {
                Some(parse_digits(count).ok_or_else(|| invalid("port count must be 0 to 65535"))?)
            }
            None => None,
        };
        let proto = fields.next().ok_or_else(|| invalid("missing protocol"))?;
        let formats: Vec<String> = fields.map(str::to_owned).collect();
        if formats.is_empty() {
            return Err(invalid("needs at least one format"));
        }
        Ok(MediaDescription {
            media: media.to_owned(),
            port,
            port_count,
            proto: proto.to_owned(),
            formats,
            connection: None,
            bandwidths: Vec::new(),
            attributes: Vec::new(),
            other_lines: Vec::new(),
        })
    }

    /// The section's own direction attribute, if any (see
    /// [`SessionDescription::direction`](super::SessionDescription::direction) for the effective one).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }

    /// The `a=rtpmap` for a payload type, if present (static payload types often have none).
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::RtpMap(map) if map.payload_type == payload_type => Some(map),
            _ => None,
        })
    }

    /// The `a=fmtp` parameters for a payload type, if present.
    pub fn fmtp(&self, payload_type: u8) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp(fmtp) if fmtp.payload_type == payload_type => {
                Some(fmtp.params.as_str())
            }
            _ => None,
        })
    }

    /// The `a=crypto` attributes in order.
    pub fn crypto(&self) -> impl Iterator<Item = &CryptoAttribute> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Crypto(crypto) => Some(crypto),
            _ => None,
        })
    }

    /// Whether `a=rtcp-mux` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.attributes.contains(&Attribute::RtcpMux)
    }

    /// The formats that are RTP payload types (0 to 127).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| parse_payload_type(f))
    }

    /// Whether the protocol is SRTP (`RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP(F)`).
    pub fn is_srtp(&self) -> bool {
        self.proto.contains("/SAVP")
    }
}

/// `Display` writes the section from `m=` on, each line ending in CRLF.
impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.proto)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        for line in self.other_lines.iter().filter(|l| l.kind == 'i') {
            write!(f, "{line}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            write!(f, "c={connection}\r\n")?;
        }
        for bandwidth in &self.bandwidths {
            write!(f, "b={bandwidth}\r\n")?;
        }
        for line in self.other_lines.iter().filter(|l| l.kind != 'i') {
            write!(f, "{line}\r\n")?;
        }
        for attribute in &self.attributes {
            write!(f, "a={attribute}\r\n")?;
        }
        Ok(())
    }
}
