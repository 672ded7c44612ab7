//! The session level of an SDP body and the whole-body parser.

use std::fmt;
use std::str::FromStr;

use super::SdpError;
use super::crypto::parse_digits;
use super::media::{Attribute, Direction, MediaDescription};

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-` when none).
    pub username: String,
    /// Session id.
    pub session_id: u64,
    /// Session version, raised on every new offer.
    pub session_version: u64,
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// Address or host name of the originator.
    pub address: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <connection-address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// Address, with any `/ttl/count` suffix kept.
    pub address: String,
}

impl Connection {
    /// The address without a multicast `/ttl` or `/count` suffix.
    pub fn host(&self) -> &str {
        self.address.split('/').next().unwrap_or_default()
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

/// `b=<bwtype>:<bandwidth>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// Bandwidth type: `AS`, `TIAS`, `CT`, …
    pub kind: String,
    /// The value (kbit/s for `AS` and `CT`, bit/s for `TIAS`).
    pub value: u64,
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// `t=<start> <stop>` with the `r=` lines that follow it (verbatim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds, 0 for unbounded).
    pub start: u64,
    /// Stop time (NTP seconds, 0 for unbounded).
    pub stop: u64,
    /// The values of the `r=` lines after this `t=`.
    pub repeats: Vec<String>,
}

/// A line kept verbatim: its type letter and the value after `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The type letter.
    pub kind: char,
    /// The value after `=`.
    pub value: String,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kind, self.value)
    }
}

/// A whole SDP body (`v=0` implied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=` (session name, `-` or a space when none).
    pub name: String,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines (at least one) with their `r=` lines.
    pub timing: Vec<Timing>,
    /// Session-level `a=` lines in order.
    pub attributes: Vec<Attribute>,
    /// Other session lines, verbatim: `i=`, `u=`, `e=`, `p=` are written before `c=`, the rest
    /// (`z=`, `k=`, unknown types) after the `t=` lines.
    pub other_lines: Vec<Line>,
    /// Media sections in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// The effective direction of a media section: its own attribute, else the session's, else
    /// `sendrecv`.
    pub fn direction(&self, media: &MediaDescription) -> Direction {
        media
            .direction()
            .or_else(|| {
                self.attributes.iter().find_map(|a| match a {
                    Attribute::Direction(d) => Some(*d),
                    _ => None,
                })
            })
            .unwrap_or(Direction::SendRecv)
    }

    /// The `c=` that applies to a media section: its own, else the session's.
    pub fn connection<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }

    /// The address media for this section goes to (media-level `c=` over session-level), without
    /// a multicast suffix.
    pub fn connection_address<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a str> {
        self.connection(media).map(Connection::host)
    }

    /// The SDP text for logs: like `Display`, but every `inline:` key and every `k=` value is
    /// replaced by `<redacted>`.
    pub fn redacted(&self) -> String {
        let text = zeroize::Zeroizing::new(self.to_string());
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive("\r\n") {
            if line.starts_with("k=") {
                out.push_str("k=<redacted>\r\n");
                continue;
            }
            let mut rest = line;
            while let Some(at) = find_ascii_case_insensitive(rest, "inline:") {
                let (before, after) = rest.split_at(at + "inline:".len());
                out.push_str(before);
                out.push_str("<redacted>");
                let end = after
                    .find(|c: char| c.is_ascii_whitespace() || c == '|' || c == ';')
                    .unwrap_or(after.len());
                rest = after.get(end..).unwrap_or_default();
            }
            out.push_str(rest);
        }
        out
    }
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Splits into `(line number, type, value)`, checking the `<letter>=` syntax.
fn split_lines(text: &str) -> Result<Vec<(usize, char, &str)>, SdpError> {
    let mut raw: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    while raw.last().is_some_and(|l| l.is_empty()) {
        raw.pop();
    }
    if raw.is_empty() {
        return Err(SdpError::Empty);
    }
    let mut out = Vec::with_capacity(raw.len());
    for (index, text) in raw.into_iter().enumerate() {
        let line = index + 1;
        if text.is_empty() {
            return Err(SdpError::BlankLine { line });
        }
        if text.contains(['\r', '\0']) {
            return Err(SdpError::ControlCharacter { line });
        }
        let mut chars = text.chars();
        match (chars.next(), chars.as_str().strip_prefix('=')) {
            (Some(kind), Some(value)) if kind.is_ascii_lowercase() => out.push((line, kind, value)),
            _ => {
                return Err(SdpError::Syntax {
                    line,
                    start: text.chars().take(20).collect(),
                });
            }
        }
    }
    Ok(out)
}

fn invalid(line: usize, kind: char, reason: impl Into<String>) -> SdpError {
    SdpError::Invalid {
        line,
        kind,
        reason: reason.into(),
    }
}

fn parse_origin(line: usize, value: &str) -> Result<Origin, SdpError> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [username, id, version, net_type, addr_type, address] = fields.as_slice() else {
        return Err(invalid(
            line,
            'o',
            format!(
                "expected 6 fields (username sess-id sess-version nettype addrtype address), got {}",
                fields.len()
            ),
        ));
    };
    Ok(Origin {
        username: (*username).to_owned(),
        session_id: parse_digits(id)
            .ok_or_else(|| invalid(line, 'o', "sess-id must be decimal digits fitting 64 bits"))?,
        session_version: parse_digits(version).ok_or_else(|| {
            invalid(
                line,
                'o',
                "sess-version must be decimal digits fitting 64 bits",
            )
        })?,
        net_type: (*net_type).to_owned(),
        addr_type: (*addr_type).to_owned(),
        address: (*address).to_owned(),
    })
}

fn parse_connection(line: usize, value: &str) -> Result<Connection, SdpError> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [net_type, addr_type, address] = fields.as_slice() else {
        return Err(invalid(
            line,
            'c',
            format!(
                "expected 3 fields (nettype addrtype address), got {}",
                fields.len()
            ),
        ));
    };
    Ok(Connection {
        net_type: (*net_type).to_owned(),
        addr_type: (*addr_type).to_owned(),
        address: (*address).to_owned(),
    })
}

fn parse_bandwidth(line: usize, value: &str) -> Result<Bandwidth, SdpError> {
    let (kind, amount) = value
        .split_once(':')
        .ok_or_else(|| invalid(line, 'b', "expected `<bwtype>:<bandwidth>`"))?;
    if kind.is_empty() || kind.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(invalid(
            line,
            'b',
            "bandwidth type must be a non-empty token",
        ));
    }
    Ok(Bandwidth {
        kind: kind.to_owned(),
        value: parse_digits(amount)
            .ok_or_else(|| invalid(line, 'b', "bandwidth must be decimal digits"))?,
    })
}

fn parse_timing(line: usize, value: &str) -> Result<Timing, SdpError> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let bad = || {
        invalid(
            line,
            't',
            "expected `<start> <stop>` in decimal NTP seconds",
        )
    };
    let [start, stop] = fields.as_slice() else {
        return Err(bad());
    };
    Ok(Timing {
        start: parse_digits(start).ok_or_else(bad)?,
        stop: parse_digits(stop).ok_or_else(bad)?,
        repeats: Vec::new(),
    })
}

impl FromStr for SessionDescription {
    type Err = SdpError;

    fn from_str(s: &str) -> Result<SessionDescription, SdpError> {
        let lines = split_lines(s)?;
        let mut iter = lines.into_iter();
        let mut next_fixed = |expected: char| -> Result<(usize, &str), SdpError> {
            let (line, kind, value) = iter.next().ok_or(SdpError::Missing { kind: expected })?;
            if kind != expected {
                return Err(SdpError::OutOfOrder {
                    line,
                    expected,
                    found: kind,
                });
            }
            Ok((line, value))
        };
        let (line, version) = next_fixed('v')?;
        if version != "0" {
            return Err(invalid(line, 'v', "only version 0 exists"));
        }
        let (line, origin) = next_fixed('o')?;
        let origin = parse_origin(line, origin)?;
        let (_, name) = next_fixed('s')?;
        let mut sdp = SessionDescription {
            origin,
            name: name.to_owned(),
            connection: None,
            bandwidths: Vec::new(),
            timing: Vec::new(),
            attributes: Vec::new(),
            other_lines: Vec::new(),
            media: Vec::new(),
        };
        for (line, kind, value) in iter {
            if kind == 'm' {
                sdp.media.push(MediaDescription::parse_m_line(line, value)?);
                continue;
            }
            let verbatim = Line {
                kind,
                value: value.to_owned(),
            };
            match sdp.media.last_mut() {
                None => match kind {
                    'v' | 'o' | 's' => return Err(SdpError::Duplicate { line, kind }),
                    'c' if sdp.connection.is_some() => {
                        return Err(SdpError::Duplicate { line, kind });
                    }
                    'c' => sdp.connection = Some(parse_connection(line, value)?),
                    'b' => sdp.bandwidths.push(parse_bandwidth(line, value)?),
                    't' => sdp.timing.push(parse_timing(line, value)?),
                    'r' => sdp
                        .timing
                        .last_mut()
                        .ok_or(SdpError::RepeatWithoutTiming { line })?
                        .repeats
                        .push(value.to_owned()),
                    'a' => sdp.attributes.push(Attribute::parse(line, value)?),
                    _ => sdp.other_lines.push(verbatim),
                },
                Some(media) => match kind {
                    'v' | 'o' | 's' | 't' | 'r' | 'z' | 'u' | 'e' | 'p' => {
                        return Err(SdpError::NotInMedia { line, kind });
                    }
                    'c' if media.connection.is_some() => {
                        return Err(SdpError::Duplicate { line, kind });
                    }
                    'c' => media.connection = Some(parse_connection(line, value)?),
                    'b' => media.bandwidths.push(parse_bandwidth(line, value)?),
                    'a' => media.attributes.push(Attribute::parse(line, value)?),
                    _ => media.other_lines.push(verbatim),
                },
            }
        }
        if sdp.timing.is_empty() {
            return Err(SdpError::Missing { kind: 't' });
        }
        // Written grouped by position in the RFC order; keep the model in that order too.
        sdp.other_lines
            .sort_by_key(|l| !matches!(l.kind, 'i' | 'u' | 'e' | 'p'));
        for media in &mut sdp.media {
            media.other_lines.sort_by_key(|l| l.kind != 'i');
        }
        Ok(sdp)
    }
}

/// `Display` writes the SDP as it goes on the wire (CRLF line ends, real SDES keys).
impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=0\r\no={}\r\ns={}\r\n", self.origin, self.name)?;
        let early = |l: &&Line| matches!(l.kind, 'i' | 'u' | 'e' | 'p');
        for line in self.other_lines.iter().filter(early) {
            write!(f, "{line}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            write!(f, "c={connection}\r\n")?;
        }
        for bandwidth in &self.bandwidths {
            write!(f, "b={bandwidth}\r\n")?;
        }
        for timing in &self.timing {
            write!(f, "t={} {}\r\n", timing.start, timing.stop)?;
            for repeat in &timing.repeats {
                write!(f, "r={repeat}\r\n")?;
            }
        }
        for line in self.other_lines.iter().filter(|l| !early(l)) {
            write!(f, "{line}\r\n")?;
        }
        for attribute in &self.attributes {
            write!(f, "a={attribute}\r\n")?;
        }
        for media in &self.media {
            write!(f, "{media}")?;
        }
        Ok(())
    }
}
